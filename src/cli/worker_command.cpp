// tunelens worker: one of many processes sharing a catalog's work (app/worker.h). It prints each failed track,
// then what it did per job. SIGTERM or SIGINT: the track in hand is finished and stored, the rest of the batch
// is given back to the queue, and it stops (exit status 0), as a fleet manager stopping it expects.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>

#include "app/worker.h"
#include "cli/app.h"
#include "cli/commands.h"

namespace tunelens::cli {
namespace {

std::atomic<bool> stop_signal{false};
extern "C" void on_stop_signal(int) { stop_signal = true; }

int run_worker_command(app::WorkerRequest request) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  request.stop_requested = [] { return stop_signal.load(); };
  // For tests of a worker dying: TUNELENS_WORKER_KILL_AFTER=N kills it (SIGKILL, as a lost machine would stop
  // it) once it has computed N tracks, holding the batch it has not stored.
  if (const char* kill_after = std::getenv("TUNELENS_WORKER_KILL_AFTER")) {
    const std::size_t limit = std::strtoull(kill_after, nullptr, 10);
    request.after_track_computed = [limit](std::size_t computed) {
      if (computed >= limit) ::kill(::getpid(), SIGKILL);
    };
  }
  const app::WorkerSummary summary = app::run_worker(request, [](const app::ItemDone& done) {
    if (!done.warning.empty()) std::cerr << "tunelens worker: warning: " << done.warning << "\n";
    if (!done.error.empty()) std::cerr << "tunelens worker: error: " << done.error << "\n";
  });
  std::size_t failed = 0;
  for (const app::WorkerJobSummary& job : summary.jobs) {
    std::cout << fmt::format("worker {}: {}: {} done, {} failed{}\n", summary.name, job.job, job.done, job.failed,
                             job.lost > 0 ? fmt::format(", {} taken over by other workers", job.lost) : "");
    failed += job.failed;
  }
  std::cout << fmt::format("worker {}: {} batches; {}\n", summary.name, summary.batches,
                           summary.stopped ? "stopped, its claims given back" : "nothing left to do");
  return failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_worker_command(CLI::App& app) {
  auto request = std::make_shared<app::WorkerRequest>();
  CLI::App* command = app.add_subcommand(
      "worker", "Share a catalog's work with other processes: claim tracks, extract and index them, repeat");
  command->add_option("--catalog", request->catalog, "Catalog: postgresql://user@host/db (or an SQLite file)")
      ->required();
  command->add_option("--model,-m", request->model, "Model file or shipped network")->required();
  command
      ->add_option("--jobs", request->jobs,
                   "What to do, comma-separated: ingest (new files in --inbox become tracks), extract (each "
                   "track's feature file), index (each track's prediction and vectors)")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("--inbox", request->inbox,
                      "The ingest job's folder: its audio files (subfolders too) become tracks as they arrive");
  command
      ->add_option("--inbox-settle", request->inbox_settle_seconds,
                   "Seconds an inbox file must be left unchanged before it is taken (still being copied)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  command->add_option("--name", request->name, "This worker's name, unique per catalog (default: <host>-<pid>)");
  command->add_option("--batch", request->batch, "Tracks claimed at once, stored in one transaction")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  command
      ->add_option("--lease", request->lease_seconds,
                   "Seconds a claim lasts unless renewed (every third of it); a dead worker's tracks return "
                   "to the queue after this")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  command
      ->add_option("--max-attempts", request->max_attempts,
                   "A track whose claims lapsed this often is marked failed")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_flag("--follow", request->follow,
                    "When everything is done, wait for new tracks (uploads, imports) instead of stopping");
  command->add_option("--poll", request->poll_seconds, "Seconds between looks for new work when waiting")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  command->add_flag("--retry-failed", request->retry_failed, "Queue the tracks that failed again first");
  command
      ->add_option("--threads,-j", request->threads,
                   "libtorch threads of the model (run one worker per core rather than more threads)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  set_action(command, [request] { return run_worker_command(*request); });
}

}  // namespace tunelens::cli
