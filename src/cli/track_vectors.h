// What tunelens index and tunelens similar share (defined in index_command.cpp): a model's key in the catalog's
// vectors table, a track's two vectors, and a catalog track's features for a model.
#pragma once

#include <string>
#include <vector>

namespace tunelens {
class Catalog;
class Model;
struct ModelInfo;
struct Spectrogram;
struct Track;
}  // namespace tunelens

namespace tunelens::cli {
// The key of a model's rows in the catalog's vectors table: its weights hash, or its absolute path if none.
std::string model_vector_key(const ModelInfo& info, const std::string& model_file);
// A track's two vectors: "probs" (mean softmax over its windows) and "embedding" (mean penultimate layer,
// L2-normalised).
struct TrackVectors {
  std::vector<float> probs, embedding;
};
TrackVectors track_vectors(const Model& model, const Spectrogram& spectrogram);
// A catalog track's spectrogram for the model: its feature file when the model's configuration has one, else
// computed from its audio.
Spectrogram catalog_track_features(const Catalog& catalog, const Track& track, const Model& model);

}  // namespace tunelens::cli
