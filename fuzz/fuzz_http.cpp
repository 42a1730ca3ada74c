// The service's request handling on any bytes, taken as what one client sent on one connection: httplib's parser
// (request line, headers, query, chunked and multipart bodies, keep-alive, Range) and tunelens's reading of what
// it parsed (server/requests.h: parameters, the write token, the upload written to a file, a file streamed, the
// errors as JSON), on the service's routes. What a route does after reading its request (the catalog, the model:
// libtorch, which the fuzz build cannot compile) is left out; each route here reads the request as the service's
// does and answers with what it read.
//
// Expected: every answer is an HTTP status the README documents, with a JSON body (but the page and the streamed
// file); never a 500 (an exception nobody meant); an upload lands in the scratch folder under a safe name and is
// gone once the request is answered, and nothing else is written.
#include <httplib.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <limits>
#include <set>
#include <string>

#include "app/errors.h"
#include "fuzz_support.h"
#include "server/requests.h"

namespace {

namespace fs = std::filesystem;
namespace tf = tunelens::fuzz;
namespace ts = tunelens::server;

constexpr std::size_t kMaxUpload = 4096;  // small, so that inputs reach the limit
const std::string kToken = "fuzzing-token-0123456789";

// The input as the connection's bytes; what the server writes back is kept.
class InputStream : public httplib::Stream {
 public:
  InputStream(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, std::size_t size) override {
    const std::size_t n = std::min(size, size_ - at_);
    if (n > 0) std::memcpy(ptr, data_ + at_, n);
    at_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, std::size_t size) override {
    written.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return 0; }
  bool exhausted() const { return at_ >= size_; }
  std::string written;

 private:
  const std::uint8_t* data_;
  std::size_t size_, at_ = 0;
};

// httplib's server with its per-connection request loop reachable without a socket.
class Server : public httplib::Server {
 public:
  bool serve_one(httplib::Stream& stream, bool last) {
    bool closed = false;
    return process_request(stream, last, closed, nullptr);
  }
};

// Where uploads go; nothing else may appear in it.
const fs::path& uploads() {
  static const fs::path folder = [] {
    fs::path made = tf::scratch() / "uploads";
    fs::create_directories(made);
    return made;
  }();
  return folder;
}

std::atomic<std::uint64_t> upload_counter{0};

void check_upload(const ts::Upload& upload) {
  if (upload.path.parent_path() != uploads() || !fs::is_regular_file(upload.path))
    tf::finding("an upload outside its folder", upload.path.string());
  const std::string safe = ts::safe_name(upload.name);
  if (safe.empty() || safe.size() > 80 || safe.front() == '.' || safe.find('/') != std::string::npos ||
      safe.find('\0') != std::string::npos)
    tf::finding("an unsafe name kept", safe);
}

template <typename Body>
void answer(const httplib::Request& req, httplib::Response& res, const Body& body) {
  try {
    body();
  } catch (...) {
    ts::send_error(res);
  }
  ts::ranges_for_streams_only(req, res);
}

std::int64_t track_id(const std::string& text) {
  std::int64_t id = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), id);
  if (parsed.ec != std::errc()) throw tunelens::app::NotFound("no track " + text);
  return id;
}

// The statuses the README's table documents, and httplib's own refusals.
const std::set<int> kStatuses = {200, 201, 206, 400, 401, 403, 404, 405, 413, 414, 416, 422, 431};

void check_answer(const httplib::Response& res) {
  if (!kStatuses.count(res.status))
    tf::finding("an answer with status " + std::to_string(res.status), res.body.substr(0, 400));
  if (res.get_header_value("Content-Type") == "application/json" &&
      !nlohmann::json::accept(res.body))
    tf::finding("an answer that is not JSON", res.body.substr(0, 400));
}

void routes(Server& http) {
  http.set_payload_max_length(kMaxUpload);
  http.set_error_handler(ts::send_refusal);
  http.set_pre_routing_handler(ts::ranges_for_routes_that_stream);
  http.Get("/api/tracks", [](const httplib::Request& req, httplib::Response& res) {
    answer(req, res, [&] {
      const std::size_t offset = ts::number_param(req, "offset", 0, 0, std::numeric_limits<std::int64_t>::max());
      const std::size_t limit = ts::number_param(req, "limit", 50, 1, 1000);
      ts::send_json(res, 200,
                    {{"q", ts::text_param(req, "q", "")},
                     {"label", ts::text_param(req, "label", "")},
                     {"offset", offset},
                     {"limit", limit}});
    });
  });
  http.Get(R"(/api/tracks/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    answer(req, res, [&] {
      ts::send_json(res, 200, {{"id", track_id(req.matches[1])}, {"timeline", ts::flag_param(req, "timeline")}});
    });
  });
  http.Get(R"(/api/tracks/(\d+)/similar)", [](const httplib::Request& req, httplib::Response& res) {
    answer(req, res, [&] {
      const tunelens::app::SimilarRequest similar = ts::similar_request(req);
      ts::send_json(res, 200, {{"id", track_id(req.matches[1])}, {"k", similar.k}, {"by", similar.by}});
    });
  });
  http.Get(R"(/api/tracks/(\d+)/audio)", [](const httplib::Request& req, httplib::Response& res) {
    answer(req, res, [&] {
      static const fs::path file = tf::write_file("track.wav", std::string(3000, 'a'));
      ts::send_file(res, file, "audio/wav", "track " + std::string(req.matches[1]));
    });
  });
  const auto upload_route = [](bool writes) {
    return [writes](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      answer(req, res, [&] {
        if (writes) ts::authorize(req, kToken);
        const bool timeline = ts::flag_param(req, "timeline");
        const tunelens::app::SimilarRequest similar = ts::similar_request(req);
        const ts::Upload upload = ts::receive_upload(req, res, reader, uploads(), kMaxUpload, upload_counter);
        check_upload(upload);
        ts::send_json(res, writes ? 201 : 200,
                      {{"name", upload.name},
                       {"message", ts::rename_in("cannot decode " + upload.path.string(), upload)},
                       {"timeline", timeline},
                       {"k", similar.k}});
      });
    };
  };
  http.Post("/api/classify", upload_route(false));
  http.Post("/api/similar", upload_route(false));
  http.Post("/api/tracks", upload_route(true));
  // Every answer, the refusals of httplib's parser included, as it is written.
  http.set_logger([](const httplib::Request&, const httplib::Response& res) { check_answer(res); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Server* http = [] {
    auto* server = new Server;
    routes(*server);
    return server;
  }();
  InputStream stream(data, size);
  // One connection: requests one after another while the client keeps it open and bytes are left.
  for (int requests = 0; requests < 8 && !stream.exhausted(); ++requests)
    if (!http->serve_one(stream, false)) break;
  if (!fs::is_empty(uploads())) {
    std::string left;
    for (const auto& entry : fs::directory_iterator(uploads())) left += entry.path().filename().string() + " ";
    tf::clear_scratch();
    tf::finding("uploads left behind", left);
  }
  return 0;
}
