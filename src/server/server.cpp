#include "server/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>

#include "app/catalog_map.h"
#include "app/classify.h"
#include "app/errors.h"
#include "app/ingest.h"
#include "app/json.h"
#include "app/search.h"
#include "app/track_vectors.h"
#include "audio/audio.h"
#include "features/features.h"
#include "model/model.h"
#include "server/metrics.h"
#include "server/page.h"
#include "server/requests.h"
#include "store/catalog.h"
#include "store/json_text.h"

namespace tunelens::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Catalog connections for the request threads (Catalog is not thread-safe): one is taken per request and
// given back.
class CatalogPool {
 public:
  explicit CatalogPool(fs::path file) : file_(std::move(file)) {}
  class Lease {
   public:
    Lease(CatalogPool& pool, std::unique_ptr<Catalog> catalog) : pool_(pool), catalog_(std::move(catalog)) {}
    Lease(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(catalog_)); }
    Catalog& operator*() const { return *catalog_; }
    Catalog* operator->() const { return catalog_.get(); }

   private:
    CatalogPool& pool_;
    std::unique_ptr<Catalog> catalog_;
  };
  Lease take() {
    {
      const std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        auto catalog = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(catalog));
      }
    }
    return Lease(*this, std::make_unique<Catalog>(Catalog::open(file_)));
  }

 private:
  void give_back(std::unique_ptr<Catalog> catalog) {
    const std::lock_guard lock(mutex_);
    free_.push_back(std::move(catalog));
  }
  fs::path file_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Catalog>> free_;
};

// The catalog's one writer: ingests run here one after another, on a thread of their own with a lower CPU
// priority (a nice value, per thread on Linux). Reads then keep their pace on a busy machine, and an ingest
// takes what the reads leave: on 2 cores, an ingest at the same priority took a core from 8 readers.
class BackgroundWriter {
 public:
  BackgroundWriter(int nice, const std::function<void(const std::string&)>& log)
      : thread_([this, nice, log] {
          // setpriority sets a thread's nice value, not an increment: the service may run niced already.
          const auto self = static_cast<id_t>(::syscall(SYS_gettid));
          errno = 0;
          const int base = ::getpriority(PRIO_PROCESS, self);
          if (nice != 0 && (errno != 0 || ::setpriority(PRIO_PROCESS, self, std::min(19, base + nice)) != 0))
            log(fmt::format("warning: ingests run at the readers' priority (nice +{}: {})", nice,
                            std::strerror(errno)));
          work();
        }) {}
  BackgroundWriter(const BackgroundWriter&) = delete;
  ~BackgroundWriter() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Runs `job` on the writer's thread after those before it; returns its result or throws its exception.
  app::IngestedFile run(std::function<app::IngestedFile()> job) {
    std::packaged_task<app::IngestedFile()> task(std::move(job));
    std::future<app::IngestedFile> result = task.get_future();
    {
      const std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(task));
    }
    wake_.notify_one();
    return result.get();
  }

 private:
  void work() {
    for (;;) {
      std::packaged_task<app::IngestedFile()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        task = std::move(jobs_.front());
        jobs_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<app::IngestedFile()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

class Service {
 public:
  explicit Service(const ServerOptions& options)
      : options_(options),
        model_(options.model, 1),
        network_(model_.get()),
        readers_(options.catalog),
        index_catalog_(Catalog::open(options.catalog)) {
    const Model& model = network_;
    key_ = app::model_vector_key(model.info(), options.model);
    mel_ = std::make_unique<MelSpectrogram>(model.features().settings.mel);
    genres_ = app::shown_classes(model.info(), model.info().tag_categories.empty() ? "all" : "genre");
    app::CatalogIndexes::Options index_options;
    index_options.threads = 1;  // one request, one core: the request threads are the parallelism
    index_options.mode = options.index.mode;
    index_options.faiss_kind = options.index.faiss_kind;
    index_options.nprobe = options.nprobe;
    index_options.probe_ratio = options.probe_ratio;
    index_options.ef_search = options.ef_search;
    index_options.on_warning = [this](const std::string& line) { log("warning: " + line); };
    indexes_ = std::make_unique<app::CatalogIndexes>(index_catalog_, key_, index_options);
    if (!options.token_file.empty()) {
      token_ = read_token(options.token_file);
      writer_ = std::make_unique<Catalog>(Catalog::open(options.catalog));
      app::IngestOptions ingest;
      ingest.k = 10;
      ingest.threads = 1;
      ingest.on_message = [this](const std::string& line) { log("ingest: " + line); };
      ingester_ = std::make_unique<app::Ingester>(*writer_, model, *indexes_, ingest);
      background_ = std::make_unique<BackgroundWriter>(options.ingest_nice,
                                                       [this](const std::string& line) { log(line); });
      uploads_ = writer_->dataset_root() / "uploads";
    }
    // The default search index open before the first request, so that request does not pay for it.
    if (!indexes_->try_open("embedding", Metric::Cosine))
      log("warning: the catalog holds no vectors of this model: similar needs `tunelens index` first");
    scratch_ = fs::temp_directory_path() / fmt::format("tunelens-serve-{}", ::getpid());
    fs::create_directories(scratch_);
  }

  ~Service() {
    std::error_code ignored;
    fs::remove_all(scratch_, ignored);
  }

  void routes(httplib::Server& http) {
    get(http, "/", "/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kPageHtml, "text/html; charset=utf-8");
    });
    get(http, "/api/health", "/api/health", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200,
                {{"status", "ok"},
                 {"tracks", readers_.take()->track_count()},
                 {"model", options_.model},
                 {"version", tunelens_version()},
                 {"writes", !token_.empty()}});
    });
    get(http, "/metrics", "/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const double tracks = static_cast<double>(readers_.take()->track_count());
      res.set_content(metrics_.text({{{"tunelens_catalog_tracks", "Tracks in the catalog."}, tracks}}),
                      "text/plain; version=0.0.4");
    });
    get(http, R"(/api/tracks)", "/api/tracks", [this](const httplib::Request& req, httplib::Response& res) {
      TrackQuery query;
      if (req.has_param("q") && !req.get_param_value("q").empty()) query.text = req.get_param_value("q");
      if (req.has_param("label") && !req.get_param_value("label").empty())
        query.label = req.get_param_value("label");
      query.offset = number_param(req, "offset", 0, 0, std::numeric_limits<std::int64_t>::max());
      query.limit = number_param(req, "limit", 50, 1, 1000);
      const auto catalog = readers_.take();
      nlohmann::json tracks = nlohmann::json::array();
      for (const Track& track : catalog->tracks(query)) tracks.push_back(app::to_json(track));
      send_json(res, 200,
                {{"total", catalog->track_count(query)},
                 {"offset", query.offset},
                 {"limit", query.limit},
                 {"tracks", std::move(tracks)}});
    });
    get(http, R"(/api/tracks/(\d+))", "/api/tracks/{id}",
        [this](const httplib::Request& req, httplib::Response& res) {
          const bool timeline = flag_param(req, "timeline");
          const auto catalog = readers_.take();
          const Track track = find_track(*catalog, req.matches[1]);
          nlohmann::json body = app::to_json(track);
          if (timeline) {
            const app::FileClassification judged =
                app::classify_track(network_, *mel_, all_classes(), *catalog, track);
            add_classes(body, judged.probabilities);
            body["timeline"] = app::to_json(judged, network_.info(), genres_.size(), true)["timeline"];
            body["windows"] = judged.windows;
          } else if (auto stored = catalog->prediction(track.id, key_)) {
            add_classes(body, *stored);
          } else {
            body["genres"] = nullptr;  // not indexed with this model
          }
          send_json(res, 200, body);
        });
    get(http, R"(/api/tracks/(\d+)/similar)", "/api/tracks/{id}/similar",
        [this](const httplib::Request& req, httplib::Response& res) {
          const auto catalog = readers_.take();
          const app::SimilarRequest request = similar_request(req);
          app::ResolvedQuery query;
          query.track = find_track(*catalog, req.matches[1]);
          app::Recommender recommender(*catalog, *indexes_, model_);
          send_json(res, 200, app::to_json(recommender.similar(query, request)));
        });
    get(http, R"(/api/tracks/(\d+)/audio)", "/api/tracks/{id}/audio",
        [this](const httplib::Request& req, httplib::Response& res) { send_audio(req, res); });
    get(http, "/api/map", "/api/map",
        [this](const httplib::Request& req, httplib::Response& res) { send_json(res, 200, map(req)); });
    post(http, "/api/classify", "/api/classify",
         [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
           const bool timeline = flag_param(req, "timeline");
           const Upload upload = receive(req, res, reader, scratch_);
           app::FileClassification judged = as_upload(upload, [&] {
             return app::classify_file(network_, *mel_, all_classes(), upload.path.string(), false);
           });
           judged.file = upload.name;
           for (std::string& warning : judged.warnings) warning = rename_in(warning, upload);
           nlohmann::json body = app::to_json(judged, network_.info(), 5, timeline);
           add_classes(body, judged.probabilities);
           send_json(res, 200, body);
         });
    post(http, "/api/similar", "/api/similar",
         [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
           const auto catalog = readers_.take();
           const app::SimilarRequest request = similar_request(req);
           const Upload upload = receive(req, res, reader, scratch_);
           app::Recommender recommender(*catalog, *indexes_, model_);
           app::SimilarResult result = as_upload(upload, [&] {
             return recommender.similar(app::ResolvedQuery{std::nullopt, upload.path}, request);
           });
           result.query = upload.name;
           send_json(res, 200, app::to_json(result));
         });
    post(http, "/api/tracks", "/api/tracks",
         [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
           authorize(req, token_);
           ingest(req, reader, res);
         });
  }

  void log(const std::string& line) const {
    if (options_.on_log) options_.on_log(line);
  }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  using ReadingHandler =
      std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader&)>;

  // Runs a handler: its errors become JSON answers, its time and status go to the metrics under `route`.
  template <typename Body>
  void answer(const char* route, const httplib::Request& req, httplib::Response& res, const Body& body) {
    const auto start = Clock::now();
    try {
      body();
    } catch (...) {
      send_error(res);
      if (res.status >= 500) log(fmt::format("{} {}: {}", route, res.status, res.body));
    }
    ranges_for_streams_only(req, res);
    // A handler that only sets content leaves the status to httplib (-1 here, 200 on the wire).
    const int status = res.status == -1 ? 200 : res.status;
    metrics_.record(route, status, std::chrono::duration<double>(Clock::now() - start).count());
  }
  void get(httplib::Server& http, const char* pattern, const char* route, Handler handler) {
    http.Get(pattern, [this, route, handler = std::move(handler)](const httplib::Request& req,
                                                                  httplib::Response& res) {
      answer(route, req, res, [&] { handler(req, res); });
    });
  }
  void post(httplib::Server& http, const char* pattern, const char* route, ReadingHandler handler) {
    http.Post(pattern,
              [this, route, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res,
                                                          const httplib::ContentReader& reader) {
                answer(route, req, res, [&] { handler(req, res, reader); });
              });
  }

  std::vector<std::size_t> all_classes() const {
    std::vector<std::size_t> all(model_classes());
    for (std::size_t c = 0; c < all.size(); ++c) all[c] = c;
    return all;
  }
  std::size_t model_classes() const { return network_.classes().size(); }

  // "genres": the genre classes ranked with their probabilities; a tag model's other tags under "tags", by
  // kind.
  void add_classes(nlohmann::json& body, const std::vector<float>& probabilities) const {
    const ModelInfo& info = network_.info();
    std::vector<std::size_t> order(probabilities.size());
    for (std::size_t c = 0; c < order.size(); ++c) order[c] = c;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return probabilities[a] > probabilities[b]; });
    nlohmann::json genres = nlohmann::json::array(), tags = nlohmann::json::object();
    for (const std::size_t c : order) {
      const std::string kind = info.tag_categories.empty() ? "genre" : info.tag_categories[c];
      const nlohmann::json entry = {{"name", info.classes[c]}, {"probability", probabilities[c]}};
      if (kind == "genre")
        genres.push_back(entry);
      else
        tags[kind].push_back(entry);
    }
    body["genres"] = std::move(genres);
    if (!tags.empty()) body["tags"] = std::move(tags);
  }

  static Track find_track(const Catalog& catalog, const std::string& id_text) {
    std::int64_t id = 0;
    const auto parsed = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    std::optional<Track> track;
    if (parsed.ec == std::errc()) track = catalog.find_track(id);
    if (!track) throw app::NotFound("no track " + id_text);
    return *track;
  }

  Upload receive(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                 const fs::path& folder) {
    return receive_upload(req, res, reader, folder, options_.max_upload, next_upload_);
  }

  // Runs `work` on an upload: what the decoders say of the file is said of the upload (422).
  template <typename Work>
  static std::invoke_result_t<const Work&> as_upload(const Upload& upload, const Work& work) {
    try {
      return work();
    } catch (const AudioError& error) {
      throw UnreadableUpload(rename_in(error.what(), upload));
    } catch (const FeatureError& error) {
      throw UnreadableUpload(rename_in(error.what(), upload));
    }
  }

  void ingest(const httplib::Request& req, const httplib::ContentReader& reader, httplib::Response& res) {
    fs::create_directories(uploads_);
    Upload upload = receive(req, res, reader, uploads_);
    // Kept as uploads/<time>/<name>: the client's name made safe (the track's title when its tags have none),
    // in a folder of its own.
    const auto stamp = std::chrono::system_clock::now().time_since_epoch();
    const fs::path folder =
        uploads_ / fmt::format("{}-{}", std::chrono::duration_cast<std::chrono::microseconds>(stamp).count(),
                               next_upload_++);
    fs::create_directories(folder);
    const fs::path kept = folder / safe_name(upload.name);
    fs::rename(upload.path, kept);
    upload.path = kept;
    upload.folder = folder;
    // One writer at a time, at a lower priority; readers go on (WAL).
    const app::IngestedFile done = background_->run([&] { return ingester_->ingest(kept); });
    if (done.outcome == app::IngestOutcome::Failed) throw UnreadableUpload(rename_in(done.reason, upload));
    nlohmann::json body = {{"track", done.track}, {"added", done.outcome == app::IngestOutcome::Added}};
    if (done.outcome == app::IngestOutcome::Added) {
      upload.keep = true;
      body["similar"] = app::to_json(done.similar);
      std::vector<float> probabilities(model_classes(), 0.0f);
      for (std::size_t c = 0; c < probabilities.size(); ++c)
        for (const auto& [name, p] : done.genres)
          if (name == network_.classes()[c]) probabilities[c] = p;
      add_classes(body, probabilities);
      send_json(res, 201, body);
    } else {
      body["reason"] = rename_in(done.reason, upload);
      send_json(res, 200, body);
    }
    const std::lock_guard lock(map_mutex_);
    map_.reset();  // the catalog changed
  }

  // Streams a catalog track's file; httplib answers Range requests (206) from the provider.
  void send_audio(const httplib::Request& req, httplib::Response& res) {
    const auto catalog = readers_.take();
    const Track track = find_track(*catalog, req.matches[1]);
    send_file(res, catalog->absolute_path(track.path), audio_type(track), fmt::format("track {}", track.id));
  }

  static std::string audio_type(const Track& track) {
    const std::string ext = fs::path(track.path).extension().string();
    if (ext == ".mp3") return "audio/mpeg";
    if (ext == ".wav") return "audio/wav";
    if (ext == ".flac") return "audio/flac";
    if (ext == ".ogg" || ext == ".oga" || ext == ".opus") return "audio/ogg";
    if (ext == ".m4a" || ext == ".mp4" || ext == ".aac") return "audio/mp4";
    return "application/octet-stream";
  }

  nlohmann::json map(const httplib::Request& req) {
    app::MapRequest request;
    request.max_points = number_param(req, "max", 5000, 2, 20000);
    const auto catalog = readers_.take();
    const std::size_t tracks = catalog->track_count();
    const std::lock_guard lock(map_mutex_);  // one computation; the other requests wait for it
    if (!map_ || map_tracks_ != tracks || map_max_ != request.max_points) {
      const app::CatalogMap computed = app::catalog_map(*catalog, key_, request);
      nlohmann::json points = nlohmann::json::array();
      for (const app::MapPoint& p : computed.points)
        points.push_back({{"id", p.id},
                          {"x", p.x},
                          {"y", p.y},
                          {"title", p.title},
                          {"artist", p.artist},
                          {"label", p.label}});
      map_ = nlohmann::json{{"tracks", computed.tracks}, {"sampled", computed.sampled()}, {"points", points}};
      map_tracks_ = tracks;
      map_max_ = request.max_points;
    }
    return *map_;
  }

  const ServerOptions& options_;
  app::LazyModel model_;  // loaded at start; the Recommender takes it in this form
  const Model& network_;
  std::string key_;
  std::unique_ptr<MelSpectrogram> mel_;
  std::vector<std::size_t> genres_;
  CatalogPool readers_;
  Catalog index_catalog_;  // the indexes' own connection
  std::unique_ptr<app::CatalogIndexes> indexes_;
  std::string token_;
  std::unique_ptr<Catalog> writer_;
  std::unique_ptr<app::Ingester> ingester_;
  std::unique_ptr<BackgroundWriter> background_;  // runs ingester_ (destroyed first: it may be using it)
  fs::path uploads_, scratch_;
  std::atomic<std::uint64_t> next_upload_{0};
  Metrics metrics_;
  std::mutex map_mutex_;
  std::optional<nlohmann::json> map_;
  std::size_t map_tracks_ = 0, map_max_ = 0;
};

// The write end of the pipe the stop signals' handler writes to.
int stop_pipe = -1;

}  // namespace

void serve(const ServerOptions& options) {
  if (options.port < 0 || options.port > 65535) throw app::BadRequest("port", "must be from 0 to 65535");
  if (options.threads < 0) throw app::BadRequest("threads", "must be 0 (automatic) or more");
  if (options.ingest_nice < 0 || options.ingest_nice > 19)
    throw app::BadRequest("ingest-nice", "must be from 0 to 19");
  if (!catalog_exists(options.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, options.catalog, "no such catalog");

  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is an error on its socket, not the end of the service

  Service service(options);
  httplib::Server http;
  const unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                               : std::max(8u, std::thread::hardware_concurrency());
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.max_upload);
  http.set_read_timeout(options.timeout_seconds, 0);
  http.set_write_timeout(options.timeout_seconds, 0);
  http.set_keep_alive_timeout(5);
  http.set_tcp_nodelay(
      true);  // small JSON answers: Nagle's delay with the client's delayed ACK cost 40 ms each
  service.routes(http);
  http.set_error_handler(send_refusal);
  http.set_pre_routing_handler(ranges_for_routes_that_stream);

  const int port = options.port == 0 ? http.bind_to_any_port(options.host) : options.port;
  if (port < 0 || (options.port != 0 && !http.bind_to_port(options.host, options.port)))
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{} ({})", options.host, options.port, std::strerror(errno)));
  service.log(fmt::format("serving {} with {} on http://{}:{}/ ({} threads{})", options.catalog.string(),
                          options.model, options.host, port, threads,
                          options.token_file.empty() ? ", writes off" : ""));
  if (options.on_listening) options.on_listening(port);

  // SIGTERM and SIGINT write their number to a pipe (all a handler may safely do); a thread reads it, stops
  // the listener and waits for the requests in flight at most shutdown_seconds. Requests still running then
  // are abandoned: every catalog write is one transaction, so the catalog stays whole without them.
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("cannot make a pipe: ") + std::strerror(errno));
  stop_pipe = wake[1];
  struct sigaction action {};
  action.sa_handler = [](int signal) {
    const char byte = static_cast<char>(signal);
    [[maybe_unused]] const auto written = ::write(stop_pipe, &byte, 1);
  };
  sigemptyset(&action.sa_mask);
  struct sigaction previous_term {
  }, previous_int{};
  ::sigaction(SIGTERM, &action, &previous_term);
  ::sigaction(SIGINT, &action, &previous_int);
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread signals([&] {
    char byte = 0;
    while (::read(wake[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (byte == 0) return;  // the service's own end
    service.log(fmt::format("signal {}: no new requests; finishing those in flight", static_cast<int>(byte)));
    http.stop();
    std::unique_lock lock(mutex);
    if (!finished.wait_for(lock, std::chrono::seconds(options.shutdown_seconds), [&] { return done; })) {
      service.log("requests still running after the shutdown time: stopping without them");
      std::_Exit(1);
    }
  });
  http.listen_after_bind();  // returns once stopped, the requests in flight answered
  {
    const std::lock_guard lock(mutex);
    done = true;
  }
  finished.notify_all();
  const char end = 0;
  [[maybe_unused]] const auto written = ::write(wake[1], &end, 1);  // releases the thread if no signal came
  signals.join();
  ::sigaction(SIGTERM, &previous_term, nullptr);
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::close(wake[0]);
  ::close(wake[1]);
  service.log("stopped");
}

}  // namespace tunelens::server
