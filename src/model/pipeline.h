// The input pipeline of training (no torch here): which tracks and windows, how a window becomes the network's
// input (normalisation, MFCC statistics), augmentation, and batches prepared on a background thread.
//
// Every random choice is drawn from a generator seeded by (seed, epoch, sample or batch index), never from a
// shared stream, so the batches of an epoch are the same whatever the timing of the threads, and an epoch redone
// after a resume is the epoch the killed run would have made.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/splits.h"
#include "model/model.h"

namespace tunelens::model {

// One labelled track with its feature file.
struct TrackExample {
  std::int64_t track = 0;
  std::filesystem::path file;  // [rows, frames] feature array
  std::size_t frames = 0;
  std::int64_t label = 0;      // index into the classes
};

// What the training set is: the tracks of a catalog split with finished features.
struct TrainingData {
  std::vector<std::string> classes;  // sorted; every label of the split
  std::vector<TrackExample> train, val;
  std::size_t rows = 0;              // mel bands
  std::size_t skipped = 0;           // tracks of the split without usable features
  std::size_t lost = 0;              // ... of them, recorded as done but the file is missing or damaged
  FeatureConfig features;            // id, parameters and the parsed mel / dB settings
};
// Reads the split and feature configuration from the catalog. Throws ModelError (no such split, no features, no
// training tracks) and CatalogError.
TrainingData load_training_data(const std::filesystem::path& catalog, const std::string& split,
                                const std::string& feature_config);

// How a window of the features becomes the network's input.
struct InputFormat {
  bool mfcc_statistics = false;  // mfcc-linear: the input is the mean and spread of each MFCC over the window
  int n_mfcc = 20;
  std::size_t rows = 0;           // mel bands of the features
  std::size_t window_frames = 0;  // frames per window
  Normalisation normalisation = Normalisation::MinMax;
  std::vector<float> mean, std;   // Standard: per input row

  std::size_t input_rows() const { return mfcc_statistics ? 2 * static_cast<std::size_t>(n_mfcc) : rows; }
  std::size_t input_frames() const { return mfcc_statistics ? 1 : window_frames; }
  std::size_t input_size() const { return input_rows() * input_frames(); }
};

// A dB window [rows, window_frames] → the network's input [input_rows, input_frames], normalised.
Spectrogram to_input(const InputFormat& format, Spectrogram window);
// MFCC statistics of a dB window: [2 * n_mfcc, 1], the means then the standard deviations.
Spectrogram mfcc_statistics(const Spectrogram& window, int n_mfcc);
// Sets format.mean / format.std from the training tracks (at most `max_tracks` of them, spread evenly).
void fit_standard_normalisation(InputFormat& format, const std::vector<TrackExample>& tracks,
                                std::size_t max_tracks = 1000);

// The window of a track at frame `offset` (a track shorter than a window: the track padded with its minimum, as
// cut_windows does).
Spectrogram read_track_window(const TrackExample& track, std::size_t rows, std::size_t offset, std::size_t frames);

// A window to read: which track, from which frame.
struct Sample {
  std::uint32_t track = 0;  // index into the track list
  std::size_t offset = 0;
};
// Consecutive non-overlapping windows of every track (one for a track shorter than a window), in track order.
std::vector<Sample> consecutive_windows(const std::vector<TrackExample>& tracks, std::size_t window_frames);
// An epoch's training samples: as many windows per track as consecutive_windows gives, at random positions when
// `random_offsets`, in a random order.
std::vector<Sample> epoch_samples(const std::vector<TrackExample>& tracks, std::size_t window_frames,
                                  bool random_offsets, SplitRandom& random);

// Random numbers for augmentation on top of SplitRandom.
double uniform(SplitRandom& random);                         // [0, 1)
double beta_symmetric(SplitRandom& random, double alpha);    // Beta(alpha, alpha)
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t value);

// Augmentations of one window, in place.
void zoom(Spectrogram& window, double row_factor, double frame_factor);  // > 1 zooms out; edges: nearest value
void zoom(Spectrogram& window, double range, SplitRandom& random);       // factors uniform in [1 - r, 1 + r]
void mask(Spectrogram& window, const AugmentOptions& options, SplitRandom& random);  // SpecAugment

struct Batch {
  std::size_t size = 0;
  std::vector<float> inputs;               // size x input_rows x input_frames
  std::vector<std::int64_t> labels;        // size
  std::vector<std::int64_t> mixed_labels;  // mixup: the partner's label (empty without mixup)
  float mix = 1.0f;                        // mixup: weight of `labels`; the partner's is 1 - mix
  std::vector<std::uint32_t> tracks;       // track index of each sample
};

// Batches made on a background thread, `depth` ahead of the consumer. Augmentation (null: none) is applied to
// training batches. Batches of one sample are dropped when `drop_single` (BatchNorm cannot train on them).
class BatchStream {
 public:
  BatchStream(const std::vector<TrackExample>& tracks, std::vector<Sample> samples, std::size_t batch_size,
              const InputFormat& format, const AugmentOptions* augment, std::uint64_t seed, bool drop_single,
              std::size_t depth = 3);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  std::size_t batches() const { return batches_; }
  // The next batch in order; nullopt at the end. Rethrows what the producer met (an unreadable feature file).
  std::optional<Batch> next();

 private:
  void produce();
  Batch make_batch(std::size_t index) const;

  const std::vector<TrackExample>& tracks_;
  std::vector<Sample> samples_;
  std::size_t batch_size_;
  InputFormat format_;
  std::optional<AugmentOptions> augment_;
  std::uint64_t seed_;
  std::size_t batches_ = 0;
  std::size_t depth_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  std::size_t produced_ = 0, consumed_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread producer_;
};

}  // namespace tunelens::model
