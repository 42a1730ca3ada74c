// tunelens extract: mel spectrograms of every track of a catalog that lacks them, stored beside the catalog.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/feature_options.h"
#include "cli/progress.h"
#include "data/extract.h"
#include "store/catalog.h"

namespace tunelens::cli {
namespace {

struct ExtractArgs {
  std::string catalog;
  ExtractionSettings settings;
  std::string dtype = "auto";
  unsigned threads = 0;
  bool quiet = false;
};

int run_extract(ExtractArgs args) {
  if (args.dtype == "auto") {
    // dB values sit in a range float16 holds to about 0.03 dB; raw power spans more than float16's range.
    args.settings.dtype = args.settings.db == "none" ? FeatureDtype::Float32 : FeatureDtype::Float16;
  } else {
    try {
      args.settings.dtype = parse_feature_dtype(args.dtype);
    } catch (const std::invalid_argument&) {
      throw CLI::ValidationError("--dtype", "must be float16, float32 or auto");
    }
  }

  Catalog catalog = Catalog::open(args.catalog);
  const ExtractionPlan plan = plan_extraction(catalog, args.settings);
  const unsigned threads = args.threads ? args.threads : std::max(1u, std::thread::hardware_concurrency());
  if (plan.lost > 0)
    std::cerr << fmt::format("tunelens extract: {} feature files recorded as done are missing or damaged: "
                             "computed again\n",
                             plan.lost);
  Progress progress("extract", plan.pending.size(), args.quiet);
  ExtractOptions options;
  options.threads = threads;
  options.on_problem = [&](const std::string& line) { progress.message(line); };
  options.on_progress = [&](const std::string& item) { progress.advance(item); };
  // For tests of resuming: TUNELENS_EXTRACT_KILL_AFTER=N kills the program (SIGKILL, as a crash or a power
  // cut would stop it) right after the N-th feature file is in place and before the catalog records it.
  if (const char* kill_after = std::getenv("TUNELENS_EXTRACT_KILL_AFTER")) {
    const std::size_t limit = std::strtoull(kill_after, nullptr, 10);
    options.after_file_written = [limit](std::size_t written) {
      if (written >= limit) ::kill(::getpid(), SIGKILL);
    };
  }
  const ExtractSummary summary = run_extraction(catalog, args.settings, plan, options);
  progress.finish();
  const double seconds = progress.elapsed_seconds();
  std::cout << fmt::format(
      "extract: {} tracks: {} computed, {} already done, {} failed; {:.1f} s of audio in {:.2f} s "
      "({:.0f}x realtime, {} threads) -> {}\n",
      summary.tracks, summary.computed, summary.already, summary.failed, summary.audio_seconds, seconds,
      seconds > 0 ? summary.audio_seconds / seconds : 0.0, threads,
      catalog.features_folder(summary.config).string());
  return summary.failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_extract_command(CLI::App& app) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* command = app.add_subcommand(
      "extract", "Compute the mel spectrograms of every track of a catalog that lacks them (resumable)");
  command->add_option("--catalog", args->catalog, "Catalog file (tunelens dataset import makes one)")
      ->required();
  add_feature_options(command, args->settings, "track");
  command
      ->add_option(
          "--dtype", args->dtype,
          "Element type of the feature files: float16, float32, or auto (float16 for dB, float32 for "
          "power)")
      ->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Tracks processed at once (default: all cores)")->check(thread_count());
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  set_action(command, [args] { return run_extract(*args); });
}

}  // namespace tunelens::cli
