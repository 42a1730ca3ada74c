// tunelens index: computes a model's two vectors for every catalog track that lacks them and stores them in
// the catalog's vectors table, for tunelens similar:
//   "probs"      the mean softmax over the track's windows (what the original study ranked by)
//   "embedding"  the mean penultimate-layer output over the windows, L2-normalised
// Rows are keyed by the model's weights hash, so a copied or renamed model file finds its vectors again.
// Tracks are written in transactions of a few tracks; a rerun computes only what is missing.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "store/catalog.h"
#include "store/feature_array.h"

namespace tunelens::cli {

std::string model_vector_key(const ModelInfo& info, const std::string& model_file) {
  if (!info.weights_hash.empty()) return info.weights_hash;
  return std::filesystem::absolute(model_file).lexically_normal().string();
}

TrackVectors track_vectors(const Model& model, const Spectrogram& spectrogram) {
  const WindowPredictions predictions = model.predict(spectrogram);
  if (predictions.windows == 0) throw ModelError("no windows");
  TrackVectors vectors;
  vectors.probs = predictions.mean_probabilities();
  const std::size_t dim = predictions.embedding_size;
  std::vector<double> sum(dim, 0.0);
  for (std::size_t w = 0; w < predictions.windows; ++w)
    for (std::size_t d = 0; d < dim; ++d) sum[d] += predictions.embeddings[w * dim + d];
  double norm = 0.0;
  for (double& value : sum) {
    value /= static_cast<double>(predictions.windows);
    norm += value * value;
  }
  norm = std::sqrt(norm);
  vectors.embedding.resize(dim);
  for (std::size_t d = 0; d < dim; ++d)
    vectors.embedding[d] = static_cast<float>(norm > 0.0 ? sum[d] / norm : 0.0);
  return vectors;
}

Spectrogram catalog_track_features(const Catalog& catalog, const Track& track, const FeatureConfig& config,
                                   const MelSpectrogram& mel, bool* recomputed) {
  if (recomputed) *recomputed = false;
  if (!config.id.empty()) {
    const auto record = catalog.features(track.id, config.id);
    const auto file = catalog.feature_file(track.id, config.id);
    if (record && record->status == FeatureStatus::Done && std::filesystem::exists(file)) {
      const FeatureArray array(file);
      Spectrogram spectrogram;
      spectrogram.rows = array.rows();
      spectrogram.frames = array.frames();
      spectrogram.values = array.read_all();
      return spectrogram;
    }
  }
  if (recomputed) *recomputed = true;
  return compute_track_features(catalog.absolute_path(track.path), config.settings, mel);
}

namespace {

struct IndexArgs {
  std::string model, catalog;
  int threads = 0;
  bool quiet = false;
};

constexpr std::size_t kTracksPerTransaction = 16;

int run_index(const IndexArgs& args) {
  if (!std::filesystem::exists(args.model)) throw ModelError(args.model + ": no such model file");
  if (!std::filesystem::exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  ModelLoadOptions load;
  load.threads = args.threads;
  const Model model = Model::load(args.model, load);
  Catalog catalog = Catalog::open(args.catalog);
  const std::string key = model_vector_key(model.info(), args.model);

  std::vector<Track> todo;
  std::size_t already = 0;
  for (Track& track : catalog.tracks()) {
    if (catalog.vector(track.id, key, "probs") && catalog.vector(track.id, key, "embedding"))
      ++already;
    else
      todo.push_back(std::move(track));
  }

  const MelSpectrogram mel(model.features().settings.mel);  // the FFT plan, once
  std::size_t added = 0, failed = 0;
  for (std::size_t begin = 0; begin < todo.size(); begin += kTracksPerTransaction) {
    const std::size_t end = std::min(todo.size(), begin + kTracksPerTransaction);
    std::vector<std::pair<std::int64_t, TrackVectors>> done;
    for (std::size_t i = begin; i < end; ++i) {
      const Track& track = todo[i];
      try {
        done.emplace_back(track.id, track_vectors(model, catalog_track_features(catalog, track, model.features(), mel)));
      } catch (const std::exception& error) {
        std::cerr << fmt::format("tunelens index: error: track {} ({}): {}\n", track.id, track.path,
                                 error.what());
        ++failed;
      }
    }
    Catalog::Transaction transaction(catalog);
    for (const auto& [id, vectors] : done) {
      catalog.set_vector(id, key, "probs", vectors.probs);
      catalog.set_vector(id, key, "embedding", vectors.embedding);
    }
    transaction.commit();
    added += done.size();
    if (!args.quiet && todo.size() > kTracksPerTransaction)
      std::cerr << fmt::format("\rindex: {}/{} tracks", end, todo.size()) << (end == todo.size() ? "\n" : "");
  }
  std::cout << fmt::format("index: {} tracks added, {} already indexed{} (model {}, {} + {} dimensions)\n",
                           added, already, failed > 0 ? fmt::format(", {} failed", failed) : std::string(),
                           key, model.classes().size(), model.info().embedding_size);
  return failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_index_command(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  CLI::App* command = app.add_subcommand(
      "index", "Compute and store a model's vectors (mean softmax, embedding) for every catalog track");
  command->add_option("--model,-m", args->model, "Model file")->required();
  command->add_option("--catalog", args->catalog, "Catalog whose tracks to index")->required();
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)");
  command->add_flag("--quiet,-q", args->quiet, "No progress");
  set_action(command, [args] { return run_index(*args); });
}

}  // namespace tunelens::cli
