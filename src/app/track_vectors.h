// What the use cases share (classify, evaluate, index, similar, ingest, analyze): a model's key in the
// catalog's vectors table, a track's two vectors, a catalog track's features for a model, the classes to
// show, and a model shared by worker threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/model.h"

namespace tunelens {
class Catalog;
struct FeatureConfig;
class MelSpectrogram;
struct ModelInfo;
struct Spectrogram;
struct Track;
}  // namespace tunelens

namespace tunelens::app {
// The key of a model's rows in the catalog's vectors table: its weights hash, or its absolute path if none.
std::string model_vector_key(const ModelInfo& info, const std::string& model_file);
// A track's two vectors: "probs" (mean softmax over its windows) and "embedding" (mean penultimate layer,
// L2-normalised).
struct TrackVectors {
  std::vector<float> probs, embedding;
};
TrackVectors track_vectors(const Model& model, const Spectrogram& spectrogram);
// Stores them as the catalog keeps a model's results: the prediction (the probabilities) and both vectors.
void store_track_vectors(Catalog& catalog, const std::string& model_key, std::int64_t track,
                         const TrackVectors& vectors);
// A catalog track's spectrogram for a model's feature configuration: its feature file when the catalog has
// one, else computed from its audio with `mel` (made from config.settings.mel); *recomputed says which.
Spectrogram catalog_track_features(const Catalog& catalog, const Track& track, const FeatureConfig& config,
                                   const MelSpectrogram& mel, bool* recomputed = nullptr);

// The classes to show: all of them (kind "all"), or a tag model's tags of one kind (genre, instrument, mood,
// voice, era). Throws BadRequest ("tags") when the model has none of that kind.
std::vector<std::size_t> shown_classes(const ModelInfo& info, const std::string& kind);

// "<file>: <reason>", without naming the file twice when the reason already starts with it (audio errors do).
std::string about_file(const std::filesystem::path& file, const std::string& reason);

// A model for predicting `items` inputs at once (classify, analyze): the inputs are spread over `workers`
// threads
// (`threads` of them, 0: all cores, at most one per input) and each prediction gets threads / workers of
// libtorch's threads, so a single file gets them all. Model::predict may be called from several threads.
struct ParallelModel {
  Model model;
  std::size_t workers = 1;
};
ParallelModel load_parallel_model(const std::string& model_file, int threads, std::size_t items);
// A model loaded when first needed (a similar query whose vectors are stored needs none), once, by whichever
// thread asks first; then shared.
class LazyModel {
 public:
  explicit LazyModel(std::string file, int threads = 0) : file_(std::move(file)), threads_(threads) {}
  const std::string& file() const { return file_; }
  // Throws ModelError (each time it is asked, while the file cannot be loaded).
  const Model& get();

 private:
  std::string file_;
  int threads_ = 0;
  std::mutex mutex_;
  std::unique_ptr<Model> model_;
};

// Runs `work` on `workers` threads, this one included, and returns when all have finished.
void run_workers(std::size_t workers, const std::function<void()>& work);

}  // namespace tunelens::app
