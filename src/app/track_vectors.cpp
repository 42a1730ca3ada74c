// The definitions of app/track_vectors.h: what evaluate, index, similar and ingest share.
#include "app/track_vectors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "app/errors.h"
#include "data/extract.h"
#include "model/model.h"
#include "store/catalog.h"
#include "store/feature_array.h"

namespace tunelens::app {

std::string model_vector_key(const ModelInfo& info, const std::string& model_file) {
  if (!info.weights_hash.empty()) return info.weights_hash;
  return std::filesystem::absolute(model_file).lexically_normal().string();
}

TrackVectors track_vectors(const Model& model, const Spectrogram& spectrogram) {
  const WindowPredictions predictions = model.predict(spectrogram);
  if (predictions.windows == 0) throw ModelError("no windows");
  TrackVectors vectors;
  vectors.probs = predictions.mean_probabilities();
  vectors.embedding = predictions.mean_embedding();
  return vectors;
}

void store_track_vectors(Catalog& catalog, const std::string& model_key, std::int64_t track,
                         const TrackVectors& vectors) {
  catalog.set_prediction(track, model_key, vectors.probs);
  catalog.set_vector(track, model_key, "probs", vectors.probs);
  catalog.set_vector(track, model_key, "embedding", vectors.embedding);
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

std::string about_file(const std::filesystem::path& file, const std::string& reason) {
  const std::string name = file.string();
  if (reason.starts_with(name)) return reason;
  std::string line = name;
  line += ": ";
  line += reason;
  return line;
}

ParallelModel load_parallel_model(const std::string& model_file, int threads, std::size_t items) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t wanted = threads > 0 ? static_cast<std::size_t>(threads) : cores;
  const std::size_t workers = std::max<std::size_t>(1, std::min(wanted, items));
  ModelLoadOptions load;
  load.threads = static_cast<int>(std::max<std::size_t>(1, wanted / workers));
  return {Model::load(model_file, load), workers};
}

void run_workers(std::size_t workers, const std::function<void()>& work) {
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
}

// The classes to show: all of them, or a tag model's tags of one kind.
std::vector<std::size_t> shown_classes(const ModelInfo& info, const std::string& kind) {
  std::vector<std::size_t> shown;
  for (std::size_t c = 0; c < info.classes.size(); ++c)
    if (kind == "all" || (c < info.tag_categories.size() && info.tag_categories[c] == kind))
      shown.push_back(c);
  if (shown.empty()) {
    if (info.tag_categories.empty())
      throw BadRequest("tags", info.file.string() + " gives genres, not tags of kinds: use --tags all");
    std::vector<std::string> kinds;
    for (const auto& category : info.tag_categories)
      if (std::find(kinds.begin(), kinds.end(), category) == kinds.end()) kinds.push_back(category);
    throw BadRequest("tags", fmt::format("{} has no {} tags (it has: all, {})", info.file.string(), kind,
                                         fmt::join(kinds, ", ")));
  }
  return shown;
}

const Model& LazyModel::get() {
  const std::lock_guard lock(mutex_);
  if (!model_) model_ = std::make_unique<Model>(Model::load(file_, ModelLoadOptions{"cpu", threads_}));
  return *model_;
}

}  // namespace tunelens::app
