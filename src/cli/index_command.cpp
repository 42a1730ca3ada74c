// tunelens index: computes a model's two vectors for every catalog track that lacks them and stores them in
// the catalog's vectors table, for tunelens similar:
//   "probs"      the mean softmax over the track's windows (what the original study ranked by)
//   "embedding"  the mean penultimate-layer output over the windows, L2-normalised
// Rows are keyed by the model's weights hash, so a copied or renamed model file finds its vectors again.
// Tracks are written in transactions of a few tracks; a rerun computes only what is missing. Then the saved
// HNSW indexes beside the catalog (recommend/catalog_index.h) are brought up to date, and built for a large
// catalog (--search).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "app/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "recommend/catalog_index.h"
#include "store/catalog.h"

namespace tunelens::cli {

namespace {

struct IndexArgs {
  std::string model, catalog;
  std::string search = "auto";
  int threads = 0;
  bool quiet = false;
};

// Brings the model's saved HNSW files up to date with the catalog (recommend/catalog_index.h), and with
// --search hnsw, or auto on a large catalog, builds those of the two recommenders (embedding/cosine,
// probs/sqeuclidean) that are missing. One line per file.
void keep_saved_indexes_current(const Catalog& catalog, const std::string& key, SearchMode mode,
                                unsigned threads) {
  const std::vector<IndexedVectors> saved = saved_catalog_indexes(catalog.file(), key);
  std::vector<IndexedVectors> wanted = saved;
  const bool build = mode == SearchMode::Hnsw ||
                     (mode == SearchMode::Auto &&
                      recommended_index_kind(catalog.vector_tracks(key, "embedding").size()) == "hnsw");
  if (build)
    for (const IndexedVectors& pair :
         {IndexedVectors{"embedding", Metric::Cosine}, IndexedVectors{"probs", Metric::SqEuclidean}})
      if (std::find(wanted.begin(), wanted.end(), pair) == wanted.end()) wanted.push_back(pair);
  CatalogIndexOptions options;
  options.mode = SearchMode::Hnsw;
  options.index.threads = threads;
  options.on_warning = [](const std::string& line) {
    std::cerr << "tunelens index: warning: " << line << "\n";
  };
  for (const IndexedVectors& pair : wanted) {
    const CatalogIndex index = open_catalog_index(catalog, key, pair.kind, pair.metric, options);
    if (!index.index) continue;
    std::cout << fmt::format("index: {}: {} vectors ({})\n", index.file.string(), index.index->size(),
                             !index.loaded     ? "built"
                             : index.added > 0 ? fmt::format("{} added", index.added)
                                               : "up to date");
  }
}

constexpr std::size_t kTracksPerTransaction = 16;

int run_index(const IndexArgs& args) {
  require_model(args.model);
  if (!std::filesystem::exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  ModelLoadOptions load;
  load.threads = args.threads;
  const Model model = Model::load(args.model, load);
  Catalog catalog = Catalog::open(args.catalog);
  const std::string key = app::model_vector_key(model.info(), args.model);

  const SearchMode search = parse_search_mode(args.search);
  const std::vector<std::int64_t> with_probs = catalog.vector_tracks(key, "probs"),
                                  with_embedding = catalog.vector_tracks(key, "embedding");
  std::vector<Track> todo;
  std::size_t already = 0;
  for (Track& track : catalog.tracks()) {
    if (std::binary_search(with_probs.begin(), with_probs.end(), track.id) &&
        std::binary_search(with_embedding.begin(), with_embedding.end(), track.id))
      ++already;
    else
      todo.push_back(std::move(track));
  }

  const MelSpectrogram mel(model.features().settings.mel);  // the FFT plan, once
  std::size_t added = 0, failed = 0;
  Progress progress("index", todo.size(), args.quiet);
  for (std::size_t begin = 0; begin < todo.size(); begin += kTracksPerTransaction) {
    const std::size_t end = std::min(todo.size(), begin + kTracksPerTransaction);
    std::vector<std::pair<std::int64_t, app::TrackVectors>> done;
    for (std::size_t i = begin; i < end; ++i) {
      const Track& track = todo[i];
      try {
        done.emplace_back(
            track.id, app::track_vectors(model, app::catalog_track_features(catalog, track, model.features(), mel)));
      } catch (const std::exception& error) {
        progress.message(fmt::format("tunelens index: error: track {} ({}): {}", track.id, track.path,
                                     error.what()));
        ++failed;
      }
      progress.advance(track.path);
    }
    Catalog::Transaction transaction(catalog);
    for (const auto& [id, vectors] : done) {
      catalog.set_prediction(id, key, vectors.probs);
      catalog.set_vector(id, key, "probs", vectors.probs);
      catalog.set_vector(id, key, "embedding", vectors.embedding);
    }
    transaction.commit();
    added += done.size();
  }
  progress.finish();
  std::cout << fmt::format("index: {} tracks added, {} already indexed{} (model {}, {} + {} dimensions)\n",
                           added, already, failed > 0 ? fmt::format(", {} failed", failed) : std::string(),
                           key, model.classes().size(), model.info().embedding_size);
  keep_saved_indexes_current(catalog, key, search, static_cast<unsigned>(std::max(0, args.threads)));
  return failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_index_command(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  CLI::App* command = app.add_subcommand(
      "index", "Compute and store a model's vectors (mean softmax, embedding) for every catalog track");
  command->add_option("--model,-m", args->model, "Model file")->required();
  command->add_option("--catalog", args->catalog, "Catalog whose tracks to index")->required();
  command
      ->add_option(
          "--search", args->search,
          "exact, hnsw or auto: hnsw saves an HNSW index beside the catalog (auto: for large catalogs)")
      ->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)")->check(thread_count());
  command->add_flag("--quiet,-q", args->quiet, "No progress");
  set_action(command, [args] { return run_index(*args); });
}

}  // namespace tunelens::cli
