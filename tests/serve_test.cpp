// tunelens serve, as a client sees it: the program started on a free port over the tone catalog (indexed),
// every endpoint called over HTTP with cpp-httplib's client, every error status, the token, the upload limit,
// and the stops: SIGTERM (clean, exit 0) and SIGKILL during an ingest (the catalog whole on restart).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using json = nlohmann::json;

// A `tunelens serve` process on a free port; SIGTERM and wait on destruction.
class Served {
 public:
  Served(const ScratchDir& s, const std::string& arguments) : log_(s / fmt::format("serve-{}.log", runs_++)) {
    const std::string command =
        "exec " TUNELENS_BINARY " serve --port 0 " + arguments + " 2>" + testing::quoted(log_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that aborts takes its service with it (ctest waits on it)
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // The log's first line names the port.
    const std::regex listening(R"(on http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::smatch match;
      const std::string text = log();
      if (std::regex_search(text, match, listening))
        port_ = std::stoi(match[1]);
      else if (exited())
        break;
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Served() {
    if (status_ < 0) stop(SIGKILL);
  }
  int port() const { return port_; }
  std::string log() const { return testing::read_bytes(log_); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    return c;
  }
  // Sends the signal and returns the exit status (128 + signal when killed by it).
  int stop(int signal) {
    if (status_ >= 0) return status_;
    ::kill(pid_, signal);
    int raw = 0;
    ::waitpid(pid_, &raw, 0);
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return status_;
  }
  pid_t pid() const { return pid_; }

 private:
  bool exited() {
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) != pid_) return false;
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return true;
  }
  static inline int runs_ = 0;
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = -1;
};

json body_of(const httplib::Result& result) {
  if (!result) return json{{"transport_error", httplib::to_string(result.error())}};
  return json::parse(result->body, nullptr, false);
}

std::string sql_value(const fs::path& catalog, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(catalog.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr);
  std::string value;
  if (sqlite3_step(statement) == SQLITE_ROW)
    value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

// The nice value of a thread (/proc/PID/task/TID/stat, field 19).
int nice_of(const fs::path& task) {
  const std::string stat = testing::read_bytes(task / "stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (name) "
  std::string field;
  for (int f = 3; f <= 19 && fields >> field; ++f) {
  }
  return std::stoi(field);
}
// Of each thread of a process, its nice value above the main thread's (tests may run under `nice`).
std::vector<int> thread_nices(pid_t pid) {
  const fs::path tasks = fmt::format("/proc/{}/task", pid);
  const int base = nice_of(tasks / std::to_string(pid));
  std::vector<int> nices;
  for (const auto& task : fs::directory_iterator(tasks)) nices.push_back(nice_of(task.path()) - base);
  return nices;
}

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const ScratchDir& s = *scratch_;
    for (const auto& step : testing::make_tone_catalog(s)) ASSERT_EQ(step.status, 0) << step.err;
    const auto index = testing::tunelens("index -j 1 -q --model " + testing::quoted(s / "tones.tlm") +
                                             " --catalog " + testing::quoted(s / "tones.catalog"),
                                         s);
    ASSERT_EQ(index.status, 0) << index.err;
    testing::write_bytes(s / "token", "0123456789abcdef-secret\n");
  }
  static void TearDownTestSuite() { delete scratch_; }
  static std::string catalog_args() {
    return "--catalog " + testing::quoted(*scratch_ / "tones.catalog") + " --model " +
           testing::quoted(*scratch_ / "tones.tlm");
  }
  static std::string wav(double frequency, unsigned seed) {
    const fs::path file = *scratch_ / fmt::format("upload-{}.wav", seed);
    testing::write_noisy_tone(file, frequency, seed);
    return testing::read_bytes(file);
  }
  static ScratchDir* scratch_;
};
ScratchDir* Serve::scratch_ = nullptr;

TEST_F(Serve, ReadEndpointsAnswerInJson) {
  Served served(*scratch_, catalog_args() + " -j 4");
  ASSERT_GT(served.port(), 0) << served.log();
  httplib::Client client = served.client();

  const json health = body_of(client.Get("/api/health"));
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["tracks"], 15);
  EXPECT_EQ(health["writes"], false);

  // Search: by title, artist or path, with a label, paged.
  json found = body_of(client.Get("/api/tracks?q=HIGH%20tone"));
  EXPECT_EQ(found["total"], 5) << found.dump();
  found = body_of(client.Get("/api/tracks?q=artist%201&label=low"));
  EXPECT_EQ(found["total"], 2) << found.dump();
  found = body_of(client.Get("/api/tracks?offset=10&limit=3"));
  EXPECT_EQ(found["total"], 15);
  ASSERT_EQ(found["tracks"].size(), 3u);
  EXPECT_EQ(found["tracks"][0]["id"], 11);

  // One track: its metadata and genres (stored by tunelens index), and with ?timeline=1 each window's genre.
  const json track = body_of(client.Get("/api/tracks/1"));
  EXPECT_EQ(track["title"], "high tone 0");
  ASSERT_EQ(track["genres"].size(), 3u) << track.dump();
  EXPECT_EQ(track["genres"][0]["name"], "high");
  const json timeline = body_of(client.Get("/api/tracks/6?timeline=1"));
  ASSERT_TRUE(timeline.contains("timeline")) << timeline.dump();
  EXPECT_GT(timeline["timeline"].size(), 1u);
  EXPECT_EQ(timeline["timeline"][0]["genre"], "low");

  // Similar by id: the track itself left out, its own genre first.
  const json similar = body_of(client.Get("/api/tracks/1/similar?k=4"));
  ASSERT_EQ(similar["results"].size(), 4u) << similar.dump();
  EXPECT_EQ(similar["track"], 1);
  EXPECT_EQ(similar["results"][0]["label"], "high");
  for (const auto& row : similar["results"]) EXPECT_NE(row["id"], 1);
  EXPECT_EQ(body_of(client.Get("/api/tracks/1/similar?k=1000"))["results"].size(), 14u);  // all there are
  const json by_probs = body_of(client.Get("/api/tracks/1/similar?k=2&by=probs"));
  EXPECT_EQ(by_probs["metric"], "sqeuclidean");

  // Audio: the whole file, and a range of it.
  const auto audio = client.Get("/api/tracks/1/audio");
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->status, 200);
  EXPECT_EQ(audio->get_header_value("Content-Type"), "audio/wav");
  EXPECT_EQ(audio->body, testing::read_bytes(*scratch_ / "data/high/high0.wav"));
  const auto part = client.Get("/api/tracks/1/audio", {{"Range", "bytes=4-11"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, audio->body.substr(4, 8));
  // A Range counts on the audio alone: a JSON answer stays whole (before, a range past its end made an empty
  // 416 under a JSON content type, and one inside it cut the JSON).
  for (const char* range : {"bytes=100000-100010", "bytes=0-3"}) {
    const auto whole = client.Get("/api/health", {{"Range", range}});
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->status, 200) << range;
    EXPECT_TRUE(json::accept(whole->body)) << range << ": " << whole->body;
  }

  // The map: every track once, inside the unit square.
  const json map = body_of(client.Get("/api/map"));
  ASSERT_EQ(map["points"].size(), 15u) << map.dump();
  EXPECT_EQ(map["sampled"], false);
  for (const auto& p : map["points"]) {
    EXPECT_GE(p["x"].get<double>(), 0.0);
    EXPECT_LE(p["y"].get<double>(), 1.0);
  }

  // The page, built in; the metrics count what was asked.
  const auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<title>tunelens</title>"), std::string::npos);
  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(
      metrics->body.find("tunelens_requests_total{route=\"/api/tracks/{id}/similar\",status=\"200\"} 3"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("tunelens_catalog_tracks 15"), std::string::npos);
  EXPECT_NE(metrics->body.find("tunelens_requests_total{route=\"/\",status=\"200\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("tunelens_request_seconds_bucket{route=\"/api/map\",le=\"+Inf\"} 1"),
            std::string::npos);
}

// --index, --nprobe and --ef-search as similar takes them: the kind opened is the kind the answers name.
TEST_F(Serve, TheIndexOptionsChooseTheSearchIndex) {
  const fs::path copy = *scratch_ / "index-options.catalog";  // its HNSW file stays away from the other tests
  fs::copy_file(*scratch_ / "tones.catalog", copy, fs::copy_options::overwrite_existing);
  const std::string model = " --model " + testing::quoted(*scratch_ / "tones.tlm");
  {
    Served served(*scratch_, "--catalog " + testing::quoted(copy) + model + " --index hnsw --ef-search 40");
    ASSERT_GT(served.port(), 0) << served.log();
    const json found = body_of(served.client().Get("/api/tracks/1/similar?k=4"));
    EXPECT_EQ(found["index"], "hnsw") << found.dump();
    EXPECT_EQ(found["results"].size(), 4u);
  }
  Served bad(*scratch_, "--catalog " + testing::quoted(copy) + model + " --index ivf-pq:many");
  EXPECT_EQ(bad.port(), 0);
  EXPECT_NE(bad.stop(SIGTERM), 0) << bad.log();
  EXPECT_NE(bad.log().find("ivf-pq:many"), std::string::npos) << bad.log();
}

TEST_F(Serve, UploadsAreClassifiedAndMatched) {
  Served served(*scratch_, catalog_args());
  ASSERT_GT(served.port(), 0) << served.log();
  httplib::Client client = served.client();
  const std::string low = wav(155.0, 31);

  // Raw body.
  const json judged = body_of(client.Post("/api/classify?timeline=1&name=mine.wav", low, "audio/wav"));
  ASSERT_TRUE(judged.contains("genres")) << judged.dump();
  EXPECT_EQ(judged["genres"][0]["name"], "low");
  EXPECT_EQ(judged["file"], "mine.wav");
  EXPECT_GT(judged["timeline"].size(), 1u);

  // Multipart, as the page's drop zone sends it.
  const httplib::MultipartFormDataItems form = {{"file", low, "dropped.wav", "audio/wav"}};
  const json similar = body_of(client.Post("/api/similar?k=3", form));
  ASSERT_EQ(similar["results"].size(), 3u) << similar.dump();
  EXPECT_EQ(similar["query"], "dropped.wav");
  EXPECT_EQ(similar["track"], nullptr);
  EXPECT_EQ(similar["results"][0]["label"], "low");
  EXPECT_TRUE(fs::is_empty(fs::temp_directory_path() / fmt::format("tunelens-serve-{}", served.pid())));
}

TEST_F(Serve, ErrorsHaveTheirStatusAndAMessage) {
  Served served(*scratch_, catalog_args() + " --max-upload 0.5");
  ASSERT_GT(served.port(), 0) << served.log();
  httplib::Client client = served.client();
  const auto expect = [&](const httplib::Result& result, int status, const std::string& words) {
    ASSERT_TRUE(result) << words;
    EXPECT_EQ(result->status, status) << result->body;
    const json body = json::parse(result->body, nullptr, false);
    ASSERT_TRUE(body.contains("error")) << result->body;
    EXPECT_NE(body["error"].get<std::string>().find(words), std::string::npos) << result->body;
  };
  expect(client.Get("/api/tracks/999"), 404, "no track 999");
  expect(client.Get("/api/tracks/99999999999999999999999/similar"), 404, "no track");
  expect(client.Get("/api/nothing"), 404, "no such route");
  expect(client.Get("/api/tracks/1/similar?k=0"), 400, "k: must be a whole number from 1 to 1000");
  expect(client.Get("/api/tracks/1/similar?by=loudness"), 400, "by: must be probs or embedding");
  expect(client.Get("/api/tracks/1/similar?metric=js"), 400, "metric: js compares probability vectors");
  expect(client.Get("/api/tracks/1/similar?metric=manhattan"), 400, "metric:");
  expect(client.Get("/api/tracks?limit=0"), 400, "limit");
  expect(client.Get("/api/tracks/1?timeline=maybe"), 400, "timeline");
  expect(client.Post("/api/classify?name=notes.wav", "this is no audio at all", "audio/wav"), 422,
         "notes.wav");
  expect(client.Post("/api/classify", "", "audio/wav"), 400, "no audio");
  // Over the limit (0.5 MB): refused from its Content-Length, before the body is read.
  expect(client.Post("/api/classify", std::string(600 * 1024, 'x'), "audio/wav"), 413, "limit");
  // Writes are off without --token-file.
  expect(client.Post("/api/tracks", wav(300.0, 40), "audio/wav"), 403, "writes are off");
  // The service is still there.
  EXPECT_EQ(body_of(client.Get("/api/health"))["status"], "ok");
}

TEST_F(Serve, IngestNeedsTheTokenAndMakesATrackAtOnce) {
  ScratchDir copy;
  fs::copy(*scratch_ / "tones.catalog", copy / "tones.catalog");
  const std::string args = "--catalog " + testing::quoted(copy / "tones.catalog") + " --model " +
                           testing::quoted(*scratch_ / "tones.tlm") + " --token-file " +
                           testing::quoted(*scratch_ / "token") + " --ingest-nice 7";
  Served served(copy, args);
  ASSERT_GT(served.port(), 0) << served.log();
  httplib::Client client = served.client();
  const std::string upload = wav(5100.0, 41);
  // Ingests run on a thread of their own below the request threads' priority (7 more, unless that is past
  // 19).
  const std::vector<int> nices = thread_nices(served.pid());
  EXPECT_EQ(std::count_if(nices.begin(), nices.end(), [](int n) { return n > 0; }), 1)
      << fmt::format("{}", fmt::join(nices, " "));
  EXPECT_EQ(std::count(nices.begin(), nices.end(), 0), static_cast<long>(nices.size()) - 1);
  // Uploads are kept under the catalog's dataset root.
  const fs::path uploads = Catalog::open(copy / "tones.catalog").dataset_root() / "uploads";
  const auto count_uploads = [&] {
    std::error_code error;
    std::size_t files = 0;
    for (auto entry = fs::recursive_directory_iterator(uploads, error); !error && entry != fs::end(entry);
         entry.increment(error))
      files += entry->is_regular_file();
    return files;
  };
  const std::size_t uploads_before = count_uploads();

  auto refused = client.Post("/api/tracks?name=new.wav", upload, "audio/wav");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer");
  client.set_bearer_token_auth("0123456789abcdef-wrong!");
  refused = client.Post("/api/tracks?name=new.wav", upload, "audio/wav");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  client.set_bearer_token_auth("0123456789abcdef-secret");
  const auto added = client.Post("/api/tracks?name=new%20song.wav", upload, "audio/wav");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  const json body = json::parse(added->body);
  const int id = body["track"];
  EXPECT_EQ(id, 16);
  EXPECT_EQ(body["genres"][0]["name"], "high");
  EXPECT_EQ(body["similar"]["results"][0]["label"], "high");
  // Found at once by search, by id and by the similar of another track; its audio served from the catalog's
  // folder.
  EXPECT_EQ(body_of(client.Get("/api/tracks?q=new_song"))["total"], 1) << served.log();
  const json stored = body_of(client.Get(fmt::format("/api/tracks/{}", id)));
  EXPECT_EQ(stored["source"], "ingest");
  EXPECT_EQ(stored["path"].get<std::string>().substr(0, 8), "uploads/") << stored.dump();
  const auto audio = client.Get(fmt::format("/api/tracks/{}/audio", id));
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->body, upload);
  bool among = false;
  const json others = body_of(client.Get("/api/tracks/1/similar?k=15"));
  for (const auto& row : others["results"]) among |= row["id"] == id;
  EXPECT_TRUE(among) << others.dump();
  EXPECT_EQ(body_of(client.Get("/api/map"))["points"].size(), 16u);

  // The same bytes again: not added, the existing track named.
  const json again = body_of(client.Post("/api/tracks?name=copy.wav", upload, "audio/wav"));
  EXPECT_EQ(again["added"], false) << again.dump();
  EXPECT_EQ(again["track"], id);
  EXPECT_EQ(served.stop(SIGTERM), 0) << served.log();
  EXPECT_NE(served.log().find("stopped"), std::string::npos) << served.log();
  EXPECT_EQ(sql_value(copy / "tones.catalog", "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(sql_value(copy / "tones.catalog", "SELECT COUNT(*) FROM tracks"), "16");
  // One file kept under uploads/ (the duplicate's was removed).
  EXPECT_EQ(count_uploads(), uploads_before + 1);
}

// SIGTERM while a long request runs: no new connections, the request answered, exit 0.
TEST_F(Serve, SigtermFinishesTheRequestsInFlight) {
  Served served(*scratch_, catalog_args());
  ASSERT_GT(served.port(), 0) << served.log();
  const fs::path minute = *scratch_ / "minute.wav";
  std::vector<float> samples(60 * 22050);
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = 0.3f * std::sin(0.05f * static_cast<float>(i));
  write_wav(minute, samples, 22050);
  int status = 0;
  std::string answer, error;
  std::thread client([&] {
    httplib::Client c = served.client();
    const auto result = c.Post("/api/classify?timeline=1", testing::read_bytes(minute), "audio/wav");
    if (result)
      status = result->status, answer = result->body;
    else
      error = httplib::to_string(result.error());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(served.stop(SIGTERM), 0) << served.log();
  client.join();
  EXPECT_EQ(status, 200) << error << answer;
  EXPECT_NE(served.log().find("finishing those in flight"), std::string::npos) << served.log();
}

// SIGKILL in the middle of ingests: on restart the catalog passes its integrity check and each upload is
// either a whole track (with its vectors) or absent.
TEST_F(Serve, SigkillDuringIngestLeavesTheCatalogWhole) {
  ScratchDir copy;
  fs::copy(*scratch_ / "tones.catalog", copy / "tones.catalog");
  const std::string args = "--catalog " + testing::quoted(copy / "tones.catalog") + " --model " +
                           testing::quoted(*scratch_ / "tones.tlm") + " --token-file " +
                           testing::quoted(*scratch_ / "token");
  {
    Served served(copy, args);
    ASSERT_GT(served.port(), 0) << served.log();
    std::vector<std::thread> clients;
    for (unsigned i = 0; i < 4; ++i)
      clients.emplace_back([&, i] {
        httplib::Client c = served.client();
        c.set_bearer_token_auth("0123456789abcdef-secret");
        c.Post(fmt::format("/api/tracks?name=k{}.wav", i), wav(400.0 + 50.0 * i, 50 + i), "audio/wav");
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_EQ(served.stop(SIGKILL), 128 + SIGKILL);
    for (auto& thread : clients) thread.join();
  }
  EXPECT_EQ(sql_value(copy / "tones.catalog", "PRAGMA integrity_check"), "ok");
  const std::string incomplete =
      sql_value(copy / "tones.catalog",
                "SELECT COUNT(*) FROM tracks t WHERE (SELECT COUNT(*) FROM vectors v "
                "WHERE v.track = t.id) <> 2");
  EXPECT_EQ(incomplete, "0");
  Served again(copy, args);
  ASSERT_GT(again.port(), 0) << again.log();
  const json health = body_of(again.client().Get("/api/health"));
  EXPECT_GE(health["tracks"].get<int>(), 15);
  EXPECT_LE(health["tracks"].get<int>(), 19);
}

// Bytes as text for a failure message: non-printable ones as \\xNN.
std::string printable(const std::string& bytes) {
  std::string out;
  for (const char c : bytes)
    out += std::isprint(static_cast<unsigned char>(c))
               ? std::string(1, c)
               : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  return out;
}

// Sends raw bytes as one request on a new connection (then ends its side) and returns the status of the
// answer, 0 when the server closed without one.
int raw_status(int port, const std::string& request) {
  const int socket = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(socket);
    return -1;
  }
  timeval wait{10, 0};
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  for (std::size_t sent = 0; sent < request.size();) {
    const auto n = ::send(socket, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse early (a bad header) and close
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; answer.size() < 12 && (n = ::recv(socket, buffer, sizeof buffer, 0)) > 0;)
    answer.append(buffer, static_cast<std::size_t>(n));
  ::close(socket);
  int status = 0;
  if (answer.starts_with("HTTP/1.1 ") && answer.size() >= 12) status = std::stoi(answer.substr(9, 3));
  return status;
}

// Hand-made hostile requests, then random mutations of valid ones: every answer is a 4xx (or a 2xx for a
// mutation that stayed valid), never a 5xx, and the service is still up at the end.
TEST_F(Serve, HostileRequestsNeverGetA5xxNorTakeItDown) {
  ScratchDir copy;
  fs::copy(*scratch_ / "tones.catalog", copy / "tones.catalog");
  Served served(copy, "--catalog " + testing::quoted(copy / "tones.catalog") + " --model " +
                          testing::quoted(*scratch_ / "tones.tlm") + " --token-file " +
                          testing::quoted(*scratch_ / "token") + " --max-upload 1 --timeout 1 -j 8");
  ASSERT_GT(served.port(), 0) << served.log();
  const std::string upload = wav(1200.0, 77);
  const std::string host = "Host: 127.0.0.1\r\n";
  const std::vector<std::string> hostile = {
      "GET /api/tracks/..%2f..%2f..%2fetc%2fpasswd/audio HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks/1/audio HTTP/1.1\r\n" + host + "Range: bytes=99999999999-\r\n\r\n",
      "GET /api/tracks/1/audio HTTP/1.1\r\n" + host + "Range: bytes=5-2\r\n\r\n",
      "GET /api/tracks/1/audio HTTP/1.1\r\n" + host + "Range: bytes=0-0,-1,2-3,4-\r\n\r\n",
      "GET /api/tracks/-1/similar?k=-5 HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks/1/similar?k=18446744073709551617 HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks?q=%00%ff%&offset=99999999999999999999 HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks?limit=1&limit=2&q=' OR 1=1 -- HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/map?max=0 HTTP/1.1\r\n" + host + "\r\n",
      "POST /api/classify HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n",
      "POST /api/classify HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n",
      "POST /api/classify HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "POST /api/classify HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nab",
      "POST /api/classify HTTP/1.1\r\n" + host + "Content-Type: multipart/form-data; boundary=\r\n" +
          "Content-Length: 10\r\n\r\n--\r\n--\r\n",
      "POST /api/similar HTTP/1.1\r\n" + host + "Content-Type: multipart/form-data; boundary=b\r\n" +
          "Content-Length: 60\r\n\r\n--b\r\nContent-Disposition: form-data; "
          "name=\"file\"\r\n\r\nxx\r\n--b--\r\n",
      "POST /api/tracks?name=../../../../tmp/evil HTTP/1.1\r\n" + host +
          "Authorization: Bearer 0123456789abcdef-secret\r\nContent-Length: 4\r\n\r\nRIFF",
      "POST /api/tracks HTTP/1.1\r\n" + host + "Authorization: Bearer\r\nContent-Length: 0\r\n\r\n",
      "GET / HTTP/1.1\r\n" + host + "X-Long: " + std::string(100000, 'a') + "\r\n\r\n",
      "GET " + std::string(20000, '/') + " HTTP/1.1\r\n" + host + "\r\n",
      "BREW /pot HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/health HTTP/9.9\r\n\r\n",
      std::string(4, '\0') + "GET /\r\n\r\n",
  };
  const std::vector<std::string> valid = {
      "GET /api/tracks?q=a&limit=3&offset=1 HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks/2?timeline=1 HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks/1/similar?k=5&by=probs&metric=js HTTP/1.1\r\n" + host + "\r\n",
      "GET /api/tracks/1/audio HTTP/1.1\r\n" + host + "Range: bytes=10-99\r\n\r\n",
      fmt::format("POST /api/classify?timeline=1&name=a.wav HTTP/1.1\r\n{}Content-Type: audio/wav\r\n"
                  "Content-Length: {}\r\n\r\n{}",
                  host, upload.size(), upload),
      fmt::format(
          "POST /api/tracks?name=b.wav HTTP/1.1\r\n{}Authorization: Bearer 0123456789abcdef-secret\r\n"
          "Content-Length: {}\r\n\r\n{}",
          host, upload.size(), upload),
  };
  std::vector<std::string> requests = hostile;
  std::mt19937 random(20261202);
  for (int i = 0; i < 240; ++i) {
    std::string request = valid[static_cast<std::size_t>(i) % valid.size()];
    // A few edits, most in the head (where the parsing is): flip, insert, erase or repeat a span.
    for (int e = 0, edits = 1 + static_cast<int>(random() % 4); e < edits && !request.empty(); ++e) {
      const std::size_t head = std::min(request.size(), request.find("\r\n\r\n") + 4);
      const std::size_t at = random() % 4 == 0 ? random() % request.size() : random() % head;
      switch (random() % 4) {
        case 0:
          request[at] = static_cast<char>(random());
          break;
        case 1:
          request.insert(at, 1, "\r\n:%-0 ;=,\"\xff"[random() % 12]);
          break;
        case 2:
          request.erase(at, 1 + random() % 8);
          break;
        default:
          request.insert(at, request.substr(at, 1 + random() % 16));
          break;
      }
    }
    requests.push_back(request);
  }
  // Eight at a time: an incomplete request waits for the service's timeout.
  std::vector<int> statuses(requests.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&] {
      for (std::size_t r; (r = next++) < requests.size();)
        statuses[r] = raw_status(served.port(), requests[r]);
    });
  for (auto& client : clients) client.join();
  for (std::size_t r = 0; r < requests.size(); ++r) {
    EXPECT_LT(statuses[r], 500) << "request " << r << ": " << printable(requests[r].substr(0, 300)) << "\n"
                                << served.log();
    EXPECT_NE(statuses[r], -1) << "request " << r << ": the service stopped listening";
  }
  // Most mutations still reach a handler (not all refused by the parser alone).
  EXPECT_GT(std::count_if(statuses.begin(), statuses.end(),
                          [](int status) { return status >= 200 && status < 300; }),
            5);
  const auto health = served.client().Get("/api/health");
  ASSERT_TRUE(health) << served.log();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(served.stop(SIGTERM), 0) << served.log();
  EXPECT_EQ(sql_value(copy / "tones.catalog", "PRAGMA integrity_check"), "ok");
  // Nothing escaped the uploads folder.
  EXPECT_FALSE(fs::exists("/tmp/evil"));
}

}  // namespace
}  // namespace tunelens
