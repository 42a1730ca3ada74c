#include "bench_catalog.h"

#include <cmath>
#include <random>

#include "app/track_vectors.h"
#include "audio/audio.h"
#include "data/extract.h"
#include "data/import.h"
#include "model/model.h"
#include "store/catalog.h"
#include "store/fingerprint.h"

namespace tunelens::bench {

namespace fs = std::filesystem;

// A melody of harmonic notes (a new one every quarter second) with a little noise: music enough for the
// model.
std::vector<float> melody(double seconds, int rate, int channels, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pitch(45, 80);
  std::normal_distribution<float> noise(0.0f, 0.005f);
  const std::size_t frames = static_cast<std::size_t>(seconds * rate),
                    note_frames = static_cast<std::size_t>(rate / 4);
  std::vector<float> samples(frames * static_cast<std::size_t>(channels));
  double frequency = 440.0;
  for (std::size_t i = 0; i < frames; ++i) {
    if (i % note_frames == 0) frequency = 440.0 * std::pow(2.0, (pitch(random) - 69) / 12.0);
    const double t = static_cast<double>(i) / rate;
    const double envelope = std::exp(-3.0 * static_cast<double>(i % note_frames) / rate);
    double value = 0.0;
    for (int harmonic = 1; harmonic <= 4; ++harmonic)
      value += std::sin(2.0 * M_PI * frequency * harmonic * t) / harmonic;
    for (int c = 0; c < channels; ++c)
      samples[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
          static_cast<float>(0.3 * envelope * value) + noise(random);
  }
  return samples;
}

// One epoch of a small network on 3 "genres" × 4 tones of 4 s: a model of the right shape, quickly.
fs::path train_small_model(const fs::path& folder, const std::string& network, int width, int threads) {
  if (fs::exists(folder / "bench.tlm")) return folder / "bench.tlm";  // an earlier run's, kept (--keep)
  const double pitches[] = {150.0, 1200.0, 5000.0};
  const char* genres[] = {"low", "mid", "high"};
  std::vector<ImportCandidate> candidates;
  for (int g = 0; g < 3; ++g)
    for (int k = 0; k < 4; ++k) {
      ImportCandidate candidate;
      candidate.file = folder / "train" / genres[g] / (std::to_string(k) + ".wav");
      fs::create_directories(candidate.file.parent_path());
      std::vector<float> tone(4 * 22050);
      for (std::size_t i = 0; i < tone.size(); ++i)
        tone[i] =
            0.5f * static_cast<float>(std::sin(2.0 * M_PI * pitches[g] * (1.0 + 0.03 * k) * i / 22050.0));
      write_wav(candidate.file, tone, 22050);
      candidate.origin = candidate.file.string();
      candidate.info.label = genres[g];
      candidate.info.source = "bench";
      candidates.push_back(candidate);
    }
  Catalog catalog = Catalog::create(folder / "train.db", folder / "train");
  import_candidates(catalog, candidates);
  std::vector<SplitAssignment> split;
  for (const Track& track : catalog.tracks())
    split.push_back({track.id, track.path.ends_with("3.wav") ? SplitPart::Val : SplitPart::Train});
  catalog.set_split("default", "bench", 1, "{}", split);
  ExtractionSettings features;
  features.dtype = FeatureDtype::Float32;
  run_extraction(catalog, features, plan_extraction(catalog, features));

  TrainOptions options;
  options.catalog = folder / "train.db";
  options.split = "default";
  options.out = folder / "bench.tlm";
  options.network.name = network;
  options.network.width = width;
  options.epochs = 1;
  options.batch_size = 8;
  options.threads = threads;
  options.seed = 1;
  train_model(options);
  return options.out;
}

// The big catalog: rows, feature configuration, predictions and vectors of `tracks` tracks without audio.
void make_catalog(const fs::path& file, const fs::path& model_file, std::size_t tracks) {
  const ModelInfo info = read_model_info(model_file);
  const std::string key = app::model_vector_key(info, model_file.string());
  Catalog catalog = Catalog::create(file, file.parent_path() / "library");
  catalog.add_feature_config(info.features.parameters);
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  const std::size_t classes = info.classes.size(), dim = info.embedding_size;
  Catalog::Transaction transaction(catalog);
  for (std::size_t i = 0; i < tracks; ++i) {
    TrackInfo track;
    track.path = "library/" + std::to_string(i) + ".mp3";
    track.fingerprint = hash_hex(content_hash(track.path));
    track.size = 1'000'000;
    track.duration = 30.0;
    track.sample_rate = 44100;
    track.channels = 2;
    track.codec = "mp3";
    track.title = "Track " + std::to_string(i);
    track.artist = "Artist " + std::to_string(i % 500);
    track.label = info.classes[i % classes];
    track.source = "bench";
    const std::int64_t id = *catalog.add_track(track);
    std::vector<float> probs(classes), embedding(dim);
    float total = 0.0f, norm = 0.0f;
    for (float& p : probs) total += (p = std::exp(normal(random)));
    for (float& p : probs) p /= total;
    for (float& e : embedding) {
      e = normal(random);
      norm += e * e;
    }
    for (float& e : embedding) e /= std::sqrt(norm);
    catalog.set_prediction(id, key, probs);
    catalog.set_vector(id, key, "probs", probs);
    catalog.set_vector(id, key, "embedding", embedding);
  }
  transaction.commit();
}

}  // namespace tunelens::bench
