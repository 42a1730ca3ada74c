#include "app/worker.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "app/errors.h"
#include "app/track_vectors.h"
#include "audio/audio.h"
#include "data/extract.h"
#include "data/import.h"
#include "model/model.h"
#include "store/catalog.h"

namespace tunelens::app {
namespace {

// Polling for new tracks looks back this many ids below the last one queued: ids are handed out in order, but
// transactions that took them may commit out of order.
constexpr std::int64_t kEnqueueLookback = 10000;

// This machine's name ("worker" when it has none).
std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "worker";
  return host;
}

std::string default_worker_name() { return fmt::format("{}-{}", host_name(), ::getpid()); }

// What the worker has done so far, shared with its heartbeat.
struct Progress {
  std::atomic<std::size_t> done{0}, failed{0};
  std::mutex mutex;
  std::string state = "working";
};

// Renews the worker's leases and says it is alive, every third of a lease, on a connection of its own (a
// Catalog is not shared between threads), until stopped. A failure is kept for the worker to report.
class Heartbeat {
 public:
  Heartbeat(const WorkerRequest& request, std::string name, Progress& progress)
      : request_(request), name_(std::move(name)), progress_(progress), thread_([this] { run(); }) {}
  ~Heartbeat() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  // Rethrows what stopped the heartbeat, if anything did.
  void check() {
    const std::lock_guard lock(mutex_);
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  void run() {
    try {
      Catalog catalog = Catalog::open(request_.catalog);
      const auto period = std::chrono::duration<double>(std::max(0.2, request_.lease_seconds / 3.0));
      std::unique_lock lock(mutex_);
      while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
        lock.unlock();
        catalog.renew_work(name_, request_.lease_seconds);
        std::string state;
        {
          const std::lock_guard guard(progress_.mutex);
          state = progress_.state;
        }
        catalog.update_worker(name_, progress_.done, progress_.failed, state);
        lock.lock();
      }
    } catch (...) {
      const std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
    }
  }

  const WorkerRequest& request_;
  std::string name_;
  Progress& progress_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread thread_;  // last: started once the rest is ready
};

// One job of this worker: how to compute a track and store the result.
struct Job {
  WorkJob work;
  WorkerJobSummary summary;
  std::int64_t queued_up_to = 0;  // the highest track id queued when last looked
};

class Worker {
 public:
  Worker(const WorkerRequest& request, const OnItemDone& on_track)
      : request_(request),
        on_track_(on_track),
        name_(request.name.empty() ? default_worker_name() : request.name),
        model_(Model::load(request.model, ModelLoadOptions{"cpu", std::max(1, request.threads)})),
        catalog_(Catalog::open(request.catalog)),
        mel_(model_.features().settings.mel) {
    const FeatureConfig& config = model_.features();
    extract_ = WorkJob{WorkJob::Kind::Extract, config.id};
    for (const std::string& name : request.jobs) {
      if (name == "extract") {
        if (config.parameters.empty())
          throw BadRequest("jobs", request.model + " records no feature configuration to extract");
        settings_ = extraction_settings_from_json(config.parameters);
        extract_.key = catalog_.add_feature_config(config.parameters);
        std::filesystem::create_directories(catalog_.features_folder(extract_.key));
        jobs_.push_back({extract_, {}, 0});
      } else if (name == "index") {
        jobs_.push_back({{WorkJob::Kind::Index, model_vector_key(model_.info(), request.model)}, {}, 0});
      } else if (name == "ingest") {
        if (request.inbox.empty()) throw BadRequest("inbox", "the ingest job needs --inbox DIR");
        std::error_code error;
        if (!std::filesystem::is_directory(request.inbox, error))
          throw BadRequest("inbox", request.inbox + ": not a folder");
        inbox_.emplace();
        inbox_->job = "ingest";
      } else {
        throw BadRequest("jobs", "'" + name + "' is no job (ingest, extract, index)");
      }
    }
    if (jobs_.empty() && !inbox_) throw BadRequest("jobs", "no job given (ingest, extract, index)");
    if (!request.inbox.empty() && !inbox_) throw BadRequest("inbox", "--inbox is for the ingest job: add it to --jobs");
    for (Job& job : jobs_) job.summary.job = job.work.name();
    // Extraction first: indexing may wait for it.
    std::stable_sort(jobs_.begin(), jobs_.end(),
                     [](const Job& a, const Job& b) { return a.work.kind < b.work.kind; });
  }

  WorkerSummary run() {
    WorkerSummary summary;
    summary.name = name_;
    std::string jobs;
    for (const std::string& job : request_.jobs) jobs += (jobs.empty() ? "" : ",") + job;
    catalog_.register_worker({name_, host_name(), ::getpid(), jobs, "working"});
    import_inbox();
    for (Job& job : jobs_) {
      if (request_.retry_failed) catalog_.retry_failed_work(job.work);
      queue_new_tracks(job, true);
    }
    {
      Heartbeat heartbeat(request_, name_, progress_);
      while (!stop_requested()) {
        heartbeat.check();
        if (work_one_batch()) {
          ++summary.batches;
          continue;
        }
        bool queued = import_inbox() > 0 && jobs_.empty();
        for (Job& job : jobs_) queued = queue_new_tracks(job, false) > 0 || queued;
        if (queued) continue;
        // Claims of other workers still open: wait for them to finish, or to lapse and be taken here.
        const bool others_busy = std::any_of(jobs_.begin(), jobs_.end(), [&](const Job& job) {
          return catalog_.has_work(job.work, true);
        });
        if (!others_busy && !request_.follow) break;
        set_state("waiting");
        // Others' claims end soon (a batch, or a lease): look again within a second, not a whole poll.
        wait(others_busy ? std::min(request_.poll_seconds, 1.0) : request_.poll_seconds);
      }
      summary.stopped = stop_requested();
      if (summary.stopped) catalog_.release_work(name_);
    }
    set_state("stopped");
    if (inbox_) summary.jobs.push_back(*inbox_);
    for (const Job& job : jobs_) summary.jobs.push_back(job.summary);
    return summary;
  }

 private:
  bool stop_requested() const { return request_.stop_requested && request_.stop_requested(); }

  // Says a change of state at once (status shows it); the heartbeat repeats it.
  void set_state(const char* state) {
    {
      const std::lock_guard lock(progress_.mutex);
      if (progress_.state == state) return;
      progress_.state = state;
    }
    catalog_.update_worker(name_, progress_.done, progress_.failed, state);
  }

  // Sleeps, waking early to stop.
  void wait(double seconds) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!stop_requested() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // The ingest job: the inbox's settled audio files that are not tracks yet become tracks. Returns how many.
  std::size_t import_inbox() {
    if (!inbox_) return 0;
    std::vector<std::string> problems;
    const auto settled = std::filesystem::file_time_type::clock::now() -
                         std::chrono::duration_cast<std::filesystem::file_time_type::duration>(
                             std::chrono::duration<double>(request_.inbox_settle_seconds));
    std::vector<ImportCandidate> candidates;
    for (const std::filesystem::path& file : find_audio_files(request_.inbox, true, &problems)) {
      std::error_code error;
      if (refused_.contains(file.string()) || std::filesystem::last_write_time(file, error) > settled || error ||
          catalog_.has_track(catalog_.relative_path(std::filesystem::absolute(file))))
        continue;
      ImportCandidate candidate;
      candidate.file = file;
      candidate.origin = file.string();
      candidate.info.title = file.stem().string();
      candidate.info.source = "inbox";
      candidates.push_back(std::move(candidate));
    }
    for (const std::string& problem : problems)
      if (refused_.insert(problem).second && on_track_) on_track_({0, request_.inbox, problem, {}});
    if (candidates.empty()) return 0;
    ImportOptions options;
    options.threads = 1;
    options.on_problem = [&](const std::string& line) {
      ++inbox_->failed;
      if (on_track_) on_track_({0, {}, line, {}});
    };
    options.on_warning = [&](const std::string& line) {
      if (on_track_) on_track_({0, {}, {}, line});
    };
    const std::size_t failed_before = inbox_->failed;
    const ImportSummary imported = import_candidates(catalog_, candidates, options);
    inbox_->done += imported.added;
    // Files that failed are not tried again by this worker (their error said once).
    if (inbox_->failed > failed_before)
      for (const ImportCandidate& candidate : candidates)
        if (!catalog_.has_track(catalog_.relative_path(std::filesystem::absolute(candidate.file))))
          refused_.insert(candidate.file.string());
    return imported.added;
  }

  // Queues the job for tracks that have no row for it: all of them at the start, then those near the end.
  std::size_t queue_new_tracks(Job& job, bool all) {
    const std::int64_t from = all ? 0 : std::max<std::int64_t>(0, job.queued_up_to - kEnqueueLookback);
    const std::size_t added = catalog_.enqueue_work(job.work, from);
    job.queued_up_to = catalog_.last_work_track(job.work);
    return added;
  }

  // Claims a batch of the first job that has one, computes it and stores it. False when nothing was claimed.
  bool work_one_batch() {
    for (Job& job : jobs_) {
      // Indexing waits for extraction when extraction is queued (by this worker or another).
      std::optional<WorkJob> after;
      if (job.work.kind == WorkJob::Kind::Index && !extract_.key.empty() && catalog_.has_work(extract_))
        after = extract_;
      const std::vector<Track> tracks = catalog_.claim_work(job.work, name_, request_.batch,
                                                            request_.lease_seconds, request_.max_attempts, after);
      if (tracks.empty()) continue;
      set_state("working");
      compute_and_store(job, tracks);
      return true;
    }
    return false;
  }

  struct Result {
    const Track* track = nullptr;
    std::optional<FeatureRecord> features;  // extract
    std::optional<TrackVectors> vectors;    // index
    std::string error, warning;
  };

  Result compute(const Job& job, const Track& track) const {
    Result result;
    result.track = &track;
    try {
      if (job.work.kind == WorkJob::Kind::Extract) {
        result.features =
            extract_track_features(catalog_, track, settings_, job.work.key, mel_, &result.warning);
        if (result.features->status == FeatureStatus::Failed) result.error = result.features->error;
      } else {
        result.vectors = track_vectors(model_, catalog_track_features(catalog_, track, model_.features(), mel_));
      }
    } catch (const CatalogError&) {
      throw;
    } catch (const std::exception& error) {  // the audio, the features, the model on this track
      result.error = error.what();
    }
    return result;
  }

  void compute_and_store(Job& job, const std::vector<Track>& tracks) {
    std::vector<Result> results;
    for (const Track& track : tracks) {
      if (stop_requested()) break;  // the rest of the batch is given back
      results.push_back(compute(job, track));
      if (request_.after_track_computed) request_.after_track_computed(++computed_);
    }
    Catalog::Transaction transaction(catalog_);
    std::vector<const Result*> stored;
    for (const Result& result : results) {
      Catalog::Transaction one(catalog_);  // a savepoint: a claim taken over rolls back alone
      if (result.features) catalog_.record_features(*result.features);
      if (result.vectors) store_track_vectors(catalog_, job.work.key, result.track->id, *result.vectors);
      WorkOutcome outcome{result.track->id, std::nullopt};
      if (!result.error.empty()) outcome.error = result.error;
      if (!catalog_.finish_work(job.work, name_, outcome)) {
        ++job.summary.lost;
        continue;
      }
      one.commit();
      stored.push_back(&result);
    }
    transaction.commit();
    for (const Result* result : stored) {
      ++(result->error.empty() ? job.summary.done : job.summary.failed);
      ++(result->error.empty() ? progress_.done : progress_.failed);
      if (on_track_) {
        ItemDone item{0, result->track->path, {}, result->warning};
        if (!result->error.empty())
          item.error = fmt::format("track {} ({}): {}", result->track->id, result->track->path, result->error);
        on_track_(item);
      }
    }
  }

  const WorkerRequest& request_;
  const OnItemDone& on_track_;
  std::string name_;
  Model model_;
  Catalog catalog_;
  MelSpectrogram mel_;
  ExtractionSettings settings_;
  WorkJob extract_;  // the model's extraction job, whether this worker runs it or not
  std::vector<Job> jobs_;
  std::optional<WorkerJobSummary> inbox_;       // the ingest job, when asked for
  std::set<std::string> refused_;  // inbox files that failed, and problems with its folders: said once
  Progress progress_;
  std::size_t computed_ = 0;
};

}  // namespace

WorkerSummary run_worker(const WorkerRequest& request, const OnItemDone& on_track) {
  if (!catalog_exists(request.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, request.catalog, "no such catalog");
  return Worker(request, on_track).run();
}

}  // namespace tunelens::app
