// The service under load (issue 14's must-show 1): `similar` requests by track id over loopback HTTP against
// the same use case called in-process (app::Recommender), side by side in one run, on catalogs of 10,000 and
// 100,000 tracks; then the same reads while one client ingests uploads without pause.
//
//   bench_serve [--tracks 10000,100000] [--clients 8] [--seconds 10] [--ingest-nice 10] [--keep DIR]
//
// Set-up (not timed): a small shortchunk model trained for one epoch on generated tones; per size a catalog
// of tracks without audio whose vectors are random but shaped like the model's (bench_catalog.h). Each upload
// is 5 s of generated melody of its own (bytes the catalog already holds would be no ingest).
//
// For each size, `--clients` threads each ask for the 10 nearest of uniformly random tracks for `--seconds`:
//   in-process  app::Recommender::similar on shared app::CatalogIndexes, one catalog connection per thread;
//   service     tunelens serve (the program, started here on a free port) and one keep-alive HTTP client per
//               thread: GET /api/tracks/{id}/similar?k=10;
//   + ingest    the service again, while one more client posts the uploads one after another (POST
//   /api/tracks).
// Printed: requests per second, p50 and p99 latency, failed requests; the in-process/service ratio is the
// cost of HTTP, and the reads' rate with ingest against without. Both sides search the same index (exact
// below 50,000 vectors, the saved HNSW graph above: built once, before the first timing).
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/search.h"
#include "audio/audio.h"
#include "bench_catalog.h"
#include "model/model.h"
#include "store/catalog.h"

namespace {

namespace fs = std::filesystem;
using namespace tunelens;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::vector<std::size_t> sizes = {10'000, 100'000};
  int clients = 8;
  double seconds = 10.0;
  std::string keep;
  int ingest_nice = 10;  // the service's --ingest-nice
};

struct Load {
  std::vector<double> latencies;  // seconds, of the requests that succeeded
  std::size_t failed = 0;
  double seconds = 0.0;
  double rate() const { return static_cast<double>(latencies.size()) / seconds; }
  double percentile(double p) const {
    if (latencies.empty()) return 0.0;
    std::vector<double> sorted = latencies;
    std::sort(sorted.begin(), sorted.end());
    return sorted[std::min(sorted.size() - 1,
                           static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
  }
};

// Runs `clients` threads calling `request(thread, random id)` (true: it succeeded) for `seconds`.
template <typename Request>
Load run_load(int clients, double seconds, std::size_t tracks, const Request& request) {
  std::vector<Load> each(static_cast<std::size_t>(clients));
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      std::mt19937_64 random(static_cast<unsigned>(c) + 1);
      std::uniform_int_distribution<std::int64_t> id(1, static_cast<std::int64_t>(tracks));
      Load& mine = each[static_cast<std::size_t>(c)];
      while (Clock::now() < until) {
        const auto start = Clock::now();
        const bool ok = request(c, id(random));
        const double took = std::chrono::duration<double>(Clock::now() - start).count();
        if (ok)
          mine.latencies.push_back(took);
        else
          ++mine.failed;
      }
    });
  for (auto& thread : threads) thread.join();
  Load all;
  all.seconds = seconds;
  for (const Load& load : each) {
    all.latencies.insert(all.latencies.end(), load.latencies.begin(), load.latencies.end());
    all.failed += load.failed;
  }
  return all;
}

// `tunelens serve` on a free port; SIGTERM on destruction.
class Service {
 public:
  Service(const fs::path& catalog, const fs::path& model, const fs::path& token, int threads, int ingest_nice,
          const fs::path& log)
      : log_(log) {
    fs::remove(log);  // a log of an earlier service names its port
    const std::string command = "exec " TUNELENS_BINARY " serve --port 0 --catalog '" + catalog.string() +
                                "' --model '" + model.string() + "' --token-file '" + token.string() +
                                "' -j " + std::to_string(threads) + " --ingest-nice " +
                                std::to_string(ingest_nice) + " 2>'" + log.string() + "'";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const std::regex listening(R"(on http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 6000 && port_ == 0; ++i) {  // building an HNSW graph may take a minute
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      std::smatch match;
      const std::string s = text.str();
      if (std::regex_search(s, match, listening))
        port_ = std::stoi(match[1]);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) {
      std::fprintf(stderr, "bench_serve: the service did not start; see %s\n", log.c_str());
      std::exit(1);
    }
  }
  ~Service() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

void print_row(const char* what, const Load& load) {
  std::printf("  %-22s %10.0f %10.2f %10.2f %8zu\n", what, load.rate(), 1000.0 * load.percentile(0.5),
              1000.0 * load.percentile(0.99), load.failed);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_serve: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--tracks") {
      settings.sizes.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) settings.sizes.push_back(std::stoul(item));
    } else if (arg == "--clients") {
      settings.clients = std::stoi(value());
    } else if (arg == "--seconds") {
      settings.seconds = std::stod(value());
    } else if (arg == "--ingest-nice") {
      settings.ingest_nice = std::stoi(value());
    } else if (arg == "--keep") {
      settings.keep = value();
    } else {
      std::fprintf(stderr,
                   "usage: bench_serve [--tracks N,N...] [--clients N] [--seconds S] [--ingest-nice N] "
                   "[--keep DIR]\n");
      return 2;
    }
  }
  const fs::path folder = settings.keep.empty() ? fs::temp_directory_path() /
                                                      ("tunelens-bench-serve-" + std::to_string(::getpid()))
                                                : fs::path(settings.keep);
  fs::create_directories(folder);
  std::printf("setting up in %s (a small model, the catalogs, the uploads)...\n", folder.c_str());
  const fs::path model = tunelens::bench::train_small_model(folder, "shortchunk", 32, 1);
  const fs::path token = folder / "token";
  std::ofstream(token) << "bench-serve-token-0123456789\n";
  // Each upload different (bytes the catalog holds already are no ingest): 5 s of melody from its own seed,
  // made before the timings (the client's own work would take a core from the service); more on the way if
  // the ingests outrun them.
  const auto make_upload = [&](unsigned u) {
    const fs::path file = folder / ("upload" + std::to_string(u) + ".wav");
    write_wav(file, tunelens::bench::melody(5.0, 22050, 1, 100 + u), 22050);
    std::ifstream in(file, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    fs::remove(file);
    return bytes;
  };
  std::vector<std::string> uploads;
  for (unsigned u = 0; u < 200; ++u) uploads.push_back(make_upload(u));
  std::atomic<unsigned> next_upload{0};
  const auto upload = [&] {
    const unsigned u = next_upload++;
    return u < uploads.size() ? uploads[u] : make_upload(u);
  };
  std::printf(
      "\n%d concurrent clients, %.0f s each, similar by id (k = 10), on %u cores; ingests at nice %d\n",
      settings.clients, settings.seconds, std::thread::hardware_concurrency(), settings.ingest_nice);
  for (const std::size_t tracks : settings.sizes) {
    const fs::path catalog_file = folder / ("catalog-" + std::to_string(tracks) + ".db");
    if (!fs::exists(catalog_file)) tunelens::bench::make_catalog(catalog_file, model, tracks);
    const std::string key = app::vector_key_of(model.string());

    // In-process: the use case itself, on indexes shared by the threads (opened, and at this size built,
    // first).
    Catalog index_connection = Catalog::open(catalog_file);
    app::CatalogIndexes::Options index_options;
    index_options.threads = 1;
    app::CatalogIndexes indexes(index_connection, key, index_options);
    indexes.open("embedding", Metric::Cosine);
    app::LazyModel lazy(model.string(), 1);
    std::vector<std::unique_ptr<Catalog>> connections;
    for (int c = 0; c < settings.clients; ++c)
      connections.push_back(std::make_unique<Catalog>(Catalog::open(catalog_file)));
    const auto warm_up = [&](const auto& request) {  // caches, connections, the graph's pages: not timed
      run_load(settings.clients, 2.0, tracks, request);
    };
    const auto in_process = [&](int c, std::int64_t id) {
      app::Recommender recommender(*connections[static_cast<std::size_t>(c)], indexes, lazy);
      app::ResolvedQuery query;
      query.track = connections[static_cast<std::size_t>(c)]->find_track(id);
      return recommender.similar(query, {}).neighbours.size() == 10;
    };
    warm_up(in_process);
    const Load direct = run_load(settings.clients, settings.seconds, tracks, in_process);
    connections.clear();

    Load served, with_ingest;
    std::size_t ingested = 0, ingest_failed = 0;
    {
      Service service(catalog_file, model, token, settings.clients + 2, settings.ingest_nice,
                      folder / ("serve-" + std::to_string(tracks) + ".log"));
      const auto get = [&](int, std::int64_t id) {
        thread_local std::unique_ptr<httplib::Client> client;
        if (!client) {
          client = std::make_unique<httplib::Client>("127.0.0.1", service.port());
          client->set_keep_alive(true);
          client->set_tcp_nodelay(true);
        }
        const auto result = client->Get("/api/tracks/" + std::to_string(id) + "/similar?k=10");
        return result && result->status == 200;
      };
      warm_up(get);
      served = run_load(settings.clients, settings.seconds, tracks, get);
      // The same reads while one more client ingests without pause (each size's catalog takes the same
      // uploads).
      next_upload = 0;
      std::atomic<bool> stop{false};
      std::thread writer([&] {
        httplib::Client client("127.0.0.1", service.port());
        client.set_bearer_token_auth("bench-serve-token-0123456789");
        client.set_read_timeout(120, 0);
        while (!stop) {
          const auto result = client.Post("/api/tracks?name=upload.wav", upload(), "audio/wav");
          if (result && result->status == 201)
            ++ingested;
          else
            ++ingest_failed;
        }
      });
      with_ingest = run_load(settings.clients, settings.seconds, tracks, get);
      stop = true;
      writer.join();
    }

    std::printf("\n%zu tracks\n  %-22s %10s %10s %10s %8s\n", tracks, "", "requests/s", "p50 ms", "p99 ms",
                "failed");
    print_row("in-process (app)", direct);
    print_row("service (HTTP)", served);
    print_row("service + ingest", with_ingest);
    std::printf(
        "  HTTP keeps %.0f %% of the in-process rate; with a continuous ingest (%zu uploads done, %zu "
        "failed) "
        "reads keep %.0f %% of their rate\n",
        100.0 * served.rate() / direct.rate(), ingested, ingest_failed,
        100.0 * with_ingest.rate() / served.rate());
  }
  if (settings.keep.empty()) fs::remove_all(folder);
  return 0;
}
