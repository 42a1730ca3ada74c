// tunelens index: a model's vectors for every catalog track that lacks them, for tunelens similar
// (app/index_catalog.h), with a progress line; then one line per saved HNSW index.
#include <fmt/format.h>

#include <functional>
#include <iostream>

#include "app/index_catalog.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/index_flags.h"
#include "cli/progress.h"

namespace tunelens::cli {

namespace {

struct IndexArgs {
  app::IndexRequest request;
  IndexFlags index;
  bool quiet = false;
};

int run_index(const IndexArgs& args) {
  app::IndexRequest request = args.request;
  const IndexChoice choice = args.index.choice();
  request.search = choice.mode;
  request.faiss_kind = choice.faiss_kind;
  ItemProgress progress("index", "index", args.quiet);
  const app::IndexSummary summary = app::index_catalog(request, std::ref(progress));
  progress.finish();
  for (const std::string& warning : summary.warnings)
    std::cerr << "tunelens index: warning: " << warning << "\n";
  std::cout << fmt::format("index: {} tracks added, {} already indexed{} (model {}, {} + {} dimensions)\n",
                           summary.added, summary.already,
                           summary.failed > 0 ? fmt::format(", {} failed", summary.failed) : std::string(),
                           summary.model_key, summary.classes, summary.embedding_size);
  for (const app::SavedIndexFile& saved : summary.saved)
    std::cout << fmt::format("index: {}: {} vectors{} ({})\n", saved.file.string(), saved.vectors,
                             saved.kind == "hnsw" ? std::string() : " of " + saved.kind,
                             saved.built       ? "built"
                             : saved.added > 0 ? fmt::format("{} added", saved.added)
                                               : "up to date");
  return summary.failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_index_command(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  CLI::App* command = app.add_subcommand(
      "index", "Compute and store a model's vectors (mean softmax, embedding) for every catalog track");
  command->add_option("--model,-m", args->request.model, "Model file")->required();
  command->add_option("--catalog", args->request.catalog, "Catalog whose tracks to index")->required();
  add_index_flags(command, args->index,
                  "hnsw and FAISS kinds save that index beside the catalog (auto: HNSW for large catalogs)",
                  false);
  command->add_option("--threads,-j", args->request.threads, "Threads (default: all cores)")
      ->check(thread_count());
  command->add_flag("--quiet,-q", args->quiet, "No progress");
  set_action(command, [args] { return run_index(*args); });
}

}  // namespace tunelens::cli
