// tunelens ingest: new audio files into a catalog, recommendable at once (the cold-start path, app/ingest.h),
// each followed by its k nearest tracks.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "app/ingest.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/index_flags.h"
#include "cli/neighbours_output.h"

namespace tunelens::cli {
namespace {

struct IngestArgs {
  std::string model, catalog;
  std::vector<std::string> files;
  int k = 10;
  std::string by = "embedding";
  std::string metric = "cosine";
  IndexFlags index;
  int threads = 0;
};

int run_ingest(const IngestArgs& args) {
  if (args.k < 0) throw CLI::ValidationError("-k", "must be 0 (no search) or more");
  app::IngestOptions options;
  options.k = static_cast<std::size_t>(args.k);
  options.by = args.by;
  options.metric = parse_metric(args.metric);
  const IndexChoice choice = args.index.choice();
  options.search = choice.mode;
  options.faiss_kind = choice.faiss_kind;
  options.nprobe = args.index.nprobe;
  options.probe_ratio = args.index.probe_ratio;
  options.ef_search = args.index.ef_search;
  options.threads = args.threads;
  options.on_message = [](const std::string& line) { std::cerr << "tunelens ingest: " << line << "\n"; };
  const std::vector<std::filesystem::path> files(args.files.begin(), args.files.end());
  const app::IngestSummary summary =
      app::ingest_files(args.catalog, args.model, files, options, [&](const app::IngestedFile& done) {
        switch (done.outcome) {
          case app::IngestOutcome::Failed:
            std::cerr << "tunelens ingest: error: " << done.reason << "\n";
            return;
          case app::IngestOutcome::AlreadyThere:
            std::cout << "skipped " << done.reason << "\n";
            return;
          case app::IngestOutcome::Added:
            std::cout << fmt::format("ingested {} as track {}:", done.file.string(), done.track);
            for (std::size_t i = 0; i < std::min<std::size_t>(3, done.genres.size()); ++i)
              std::cout << fmt::format(" {} {:.3f}", done.genres[i].first, done.genres[i].second);
            std::cout << "\n";
            if (args.k > 0) write_neighbours(std::cout, NeighbourFormat::Table, done.similar);
            return;
        }
      });
  std::cout << fmt::format("ingest: {} added, {} already in the catalog, {} failed\n", summary.added,
                           summary.already, summary.failed);
  return summary.failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_ingest_command(CLI::App& app) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* command = app.add_subcommand(
      "ingest",
      "Add new audio files to a catalog with their vectors and index entries, and list their nearest tracks");
  command->add_option("--model,-m", args->model, "Model file the catalog was indexed with")->required();
  command->add_option("--catalog", args->catalog, "Catalog to add the files to")->required();
  command->add_option("files", args->files, "Audio files")->required();
  command->add_option("-k", args->k, "Nearest tracks to list per new track (0: none)")->capture_default_str();
  command->add_option("--by", args->by, "Vectors to compare: embedding or probs")->capture_default_str();
  command->add_option("--metric", args->metric, "Distance: cosine, sqeuclidean or js")->capture_default_str();
  add_index_flags(command, args->index,
                  "the index searched for neighbours; every saved index file takes the new tracks");
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)")->check(thread_count());
  set_action(command, [args] { return run_ingest(*args); });
}

}  // namespace tunelens::cli
