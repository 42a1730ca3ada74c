// What the ingest and service benchmarks set up, untimed: music enough for a model, a small model trained in
// seconds, and a big catalog of tracks without audio whose vectors are shaped like the model's.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace tunelens::bench {

// A melody of harmonic notes (a new one every quarter second) with a little noise, interleaved channels.
std::vector<float> melody(double seconds, int rate, int channels, unsigned seed);

// One epoch of `network` (of `width`) on 3 "genres" x 4 tones of 4 s, made in `folder`; returns the model
// file.
std::filesystem::path train_small_model(const std::filesystem::path& folder, const std::string& network,
                                        int width, int threads);

// A catalog of `tracks` tracks without audio (paths library/<i>.mp3, titles "Track <i>", 500 artists, labels
// the model's classes in turn), with the model's feature configuration, predictions and both vectors (random:
// softmax probabilities, L2-normalised embeddings), under the model's vectors key.
void make_catalog(const std::filesystem::path& file, const std::filesystem::path& model_file,
                  std::size_t tracks);

}  // namespace tunelens::bench
