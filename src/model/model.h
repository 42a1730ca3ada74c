// Models: convolutional networks that learn genre from mel-spectrogram windows (libtorch), their training, the
// model file, and inference. This header does not include torch, so that the programs built on it compile fast;
// the torch-facing parts live in src/model/*.cpp and the internal headers beside them.
//
// Networks (TrainOptions::network.name; trainable_networks() of model/network_names.h lists those train takes):
//   convpool      the original study's network: 4 x (conv, ReLU, BatchNorm, max-pool 2), dropout, dense 1024
//   convconvpool  the original study's VGG-like network: 2 x (conv, conv, BatchNorm, max-pool 2), same head
//   resnet        a residual network (depth 10/18/34 with basic blocks, 50 with bottlenecks) for spectrograms
//   shortchunk    a residual CNN on short random chunks (~3 s, 128 frames); a track is the mean over its chunks
//                 (Won et al. 2020, "Evaluation of CNN-based automatic music tagging models"); the default
//   mfcc-linear   a baseline: softmax regression on per-window MFCC statistics (mean and spread per coefficient)
//   torchscript   a TorchScript feature extractor exported from PyTorch (--backbone FILE.pt) with a new head
//   fcn, crnn, musicnn  the music-tagging networks of Won et al. 2020 (FCN: Choi 2016, CRNN: Choi 2017, Musicnn:
//                 Pons 2018), with the parameter names of the authors' state dicts; shipped pretrained on real music
//                 (models/, see ShippedNetwork) and usable as backbones for a new head (train --backbone NAME)
//
// The model file is one file holding everything needed to classify new audio the way the model was trained:
//
//   "TLNSMODL" (8 bytes) | format version (u32 LE) | sections | end marker
//   section: name length (u32) | name | size (u64) | bytes | FNV-1a 64 of the bytes (u64)
//   sections: "metadata" (JSON: network and its settings, class names, feature configuration, normalisation
//             statistics, training options, provenance, history), "weights" (every parameter and buffer: name,
//             dtype, shape, raw little-endian values), and, where they apply, "torchscript" (the backbone's
//             TorchScript archive) and "optimizer" (checkpoints only: the optimizer state, to resume).
//   end marker: section name "end" with size 0.
// A file that is not a model, is truncated, damaged, of a newer format, or names an unknown network gives a
// ModelError naming the file and the reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "features/features.h"

namespace tunelens {

// A model file that cannot be read or written, or options a model cannot be made with. what() is
// "<file>: <reason>" when a file is involved.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a window is scaled before it enters the network.
enum class Normalisation {
  MinMax,    // each window linearly to [0, 1] (the original study)
  Standard,  // per row (mel band, or MFCC statistic): (x - mean) / std, with mean and std of the training set
  None,      // as it is (decibels)
};
std::string to_string(Normalisation normalisation);            // minmax, standard, none
std::optional<Normalisation> parse_normalisation(const std::string& text);

// Everything that turns audio into the network's input: classifying a new file with these settings (for instance
// compute_track_features(file, config.settings, ...) of data/extract.h, then Model::predict) computes exactly the
// features the model was trained on.
struct FeatureConfig {
  std::string id;          // the catalog's feature configuration id
  std::string parameters;  // the catalog's canonical parameter JSON, as extraction recorded it
  FeatureSettings settings;  // mel spectrogram (fmax resolved to a number), decibels, offset and duration
  std::size_t window_frames = 1024;  // frames per network input (a chunk, for shortchunk)
  std::size_t window_hop = 0;        // frames between windows when classifying (0: window_frames, no overlap)
  Normalisation normalisation = Normalisation::MinMax;
  std::vector<float> mean, std;  // Standard: per row of the network input
};

// Where each of a track's `windows` windows starts, in seconds from the file's start (the configuration's
// offset plus the window hop).
std::vector<double> window_start_seconds(const FeatureConfig& config, std::size_t windows);

// Reads a catalog feature configuration's canonical JSON (as data/extract writes it) into `config`. Throws
// ModelError for a configuration that is not a mel spectrogram or lacks a field.
void parse_feature_parameters(const std::string& parameters_json, FeatureConfig& config);

// The network and its settings.
struct NetworkSettings {
  std::string name = "shortchunk";  // one of trainable_networks() (model/network_names.h), or torchscript
                                    // and vector-head: the networks of a new head on a backbone
  int depth = 18;                   // resnet: 10, 18, 34 or 50
  int width = 0;                    // base channels (0: the network's own: resnet 64, shortchunk 128, musicnn's
                                    // back end 64)
  double dropout = 0.5;             // before the last layer(s)
  int n_mfcc = 20;                  // mfcc-linear
  // musicnn: the layer under the head. "" or "dense": its 200-d dense layer (the tagger's own); "pooled": the
  // max- and mean-pooled front and back end under that layer (1,506-d), which transfers better to new labels.
  std::string pre_head;
};

// Augmentations, each off unless asked for.
struct AugmentOptions {
  bool zoom = false;         // the original's Keras zoom: both axes by a random factor in [1 - r, 1 + r], bilinear,
  double zoom_range = 0.3;   // edges filled with the nearest value
  bool crop = false;         // random window position within the track (random time shift / crop)
  bool masks = false;        // SpecAugment: frequency and time masks, filled with the window mean
  int freq_masks = 2, freq_mask_width = 0;  // width 0: an eighth of the rows
  int time_masks = 2, time_mask_width = 0;  // width 0: a tenth of the frames
  bool mixup = false;        // mixup: pairs of samples blended with λ ~ Beta(α, α), targets blended alike
  double mixup_alpha = 0.2;
};
// Parses "none" or a comma list of zoom, crop, masks (or specaugment), mixup into `options` (flags only).
// Throws ModelError naming the unknown word.
void parse_augmentations(const std::string& list, AugmentOptions& options);
std::string describe_augmentations(const AugmentOptions& options);  // "none" or "zoom,crop,..."

enum class LearningRateSchedule {
  Constant,
  Cosine,   // cosine decay from the rate to 0 over the epochs, after a linear warm-up
  Plateau,  // halve the rate when the validation loss has not improved for max(1, patience / 2) epochs
};
std::string to_string(LearningRateSchedule schedule);
std::optional<LearningRateSchedule> parse_learning_rate_schedule(const std::string& text);

enum class Solver { AdamW, Lbfgs };

struct TrainOptions {
  // What to learn from: a catalog, a split of it (train part to learn, val part to stop early and keep the best)
  // and one of its feature configurations (empty: the catalog's only one).
  std::filesystem::path catalog;
  std::string split;
  std::string feature_config;
  std::filesystem::path out;  // the model file (the best epoch); beside it <out>.checkpoint, <out>.history.csv/json

  NetworkSettings network;
  std::size_t window_frames = 0;  // 0: the network's own (128 for shortchunk, 1024 otherwise)
  Normalisation normalisation = Normalisation::MinMax;
  AugmentOptions augment;

  // adamw: minibatch steps, learning rate and schedule as below. lbfgs (linear heads only: a frozen backbone's,
  // mfcc-linear): each epoch solves the whole training set exactly (L-BFGS) with an L2 penalty 10^(-epoch/2)
  // on the weights, from 1 down (1e-5 at epoch 11); the validation loss picks the penalty.
  Solver solver = Solver::AdamW;
  int epochs = 30;
  std::size_t batch_size = 32;
  double learning_rate = 1e-3;
  double weight_decay = 1e-4;  // decoupled (AdamW)
  LearningRateSchedule schedule = LearningRateSchedule::Cosine;
  int warmup_epochs = 0;
  int patience = 10;            // early stopping: epochs without a better validation loss (0: never stop early)
  bool class_weights = true;    // weight classes inversely to their share of the training windows
  std::uint64_t seed = 0;
  int threads = 0;              // 0: all cores
  std::string device = "cpu";   // cpu, cuda, cuda:N

  std::filesystem::path init;      // start from this model's weights (layers matching by name and shape)
  int freeze = 0;                  // > 0: train only the last `freeze` blocks
  std::filesystem::path backbone;  // a TorchScript feature extractor (.pt): network "torchscript"
  bool resume = false;             // continue from <out>.checkpoint
  // After the run, train once more from the start on the training and validation tracks together, for the
  // best epoch's number of epochs (same schedule, seed and settings), and keep that model: the validation
  // tracks chose when to stop, then they teach too. Worth it when tracks are few (a quarter more data).
  bool refit = false;
};

struct EpochRecord {
  int epoch = 0;  // from 1
  double train_loss = 0.0, train_accuracy = 0.0;  // over the epoch's training windows (augmented, dropout on)
  double val_loss = 0.0, val_accuracy = 0.0;      // per track: mean softmax over its windows; NaN without val
  double learning_rate = 0.0;
  double l2 = 0.0;  // the L-BFGS solver's penalty this epoch (NaN under AdamW)
  double seconds = 0.0;
};

struct BatchProgress {
  int epoch = 0, epochs = 0;
  std::size_t batch = 0, batches = 0;  // batch from 1
  double loss = 0.0, accuracy = 0.0;   // running means over the epoch so far
  double samples_per_second = 0.0;
  double eta_seconds = 0.0;            // for the rest of the run, assuming every epoch runs
};

struct TrainCallbacks {
  std::function<void(const std::string&)> on_message;                 // a line for the user
  std::function<void(const BatchProgress&)> on_batch;                 // after each batch
  std::function<void(const EpochRecord&, bool best)> on_epoch;        // after each epoch's validation
};

struct TrainResult {
  std::vector<EpochRecord> history;  // every epoch so far (resumed runs include the earlier ones)
  int best_epoch = 0;
  double best_val_loss = 0.0;
  bool stopped_early = false;
  std::size_t train_tracks = 0, val_tracks = 0;
  bool refitted = false;  // the model is the refit (history: the refit run's; selection: the first run's)
  std::vector<EpochRecord> selection_history;
  std::filesystem::path model_file, checkpoint_file, history_csv, history_json;
};

// Trains a network as `options` say, writing the best model so far to <out>.best after every epoch that improves
// on the validation loss, a checkpoint after every epoch, and the history; options.out is written (and <out>.best
// removed) when the run ends well, so a failed or killed run leaves a model already at options.out as it was. Runs are reproducible: the same options and
// seed on the same thread count and device give the same weights, and a run resumed after being killed ends as an
// uninterrupted one. Throws ModelError (bad options, unusable files), CatalogError and NpyError.
TrainResult train_model(const TrainOptions& options, const TrainCallbacks& callbacks = {});

// Where train_model writes beside the model file.
std::filesystem::path checkpoint_path(const std::filesystem::path& model_file);
std::filesystem::path best_model_path(const std::filesystem::path& model_file);
std::filesystem::path history_csv_path(const std::filesystem::path& model_file);
std::filesystem::path history_json_path(const std::filesystem::path& model_file);

// What a model file says about itself.
struct ModelInfo {
  std::filesystem::path file;
  std::uint32_t format_version = 0;
  bool checkpoint = false;          // a training checkpoint rather than a finished model
  NetworkSettings network;
  std::vector<std::string> classes;
  FeatureConfig features;
  std::size_t input_rows = 0, input_frames = 0;  // the network's input (rows: mel bands)
  std::size_t embedding_size = 0;                // of the penultimate layer
  std::size_t parameters = 0;                    // trainable values
  bool multi_label = false;                      // tags: independent sigmoid outputs, not one softmax
  std::vector<std::string> tag_categories;       // tags: each class's kind (genre, instrument, ...); else empty
  std::string shipped;                           // the shipped network's name, when it is one (models/)
  std::string weights_hash;                      // 16 hex digits over every tensor's name, shape and values
  std::string metadata_json;                     // the whole metadata section, pretty-printed
};

// Reads and checks a model (or checkpoint) file's metadata; `file` may be a shipped network's name. Throws
// ModelError naming the file ("<file>: no such model file or shipped network (tunelens model list shows
// them)" when it is neither). A use case that must refuse a missing model before long work reads this first.
ModelInfo read_model_info(const std::filesystem::path& file);
// A few lines for people: network, classes, features, training, provenance, final metrics.
std::string describe(const ModelInfo& info);

// What a model says about the windows of one spectrogram.
struct WindowPredictions {
  std::size_t windows = 0, classes = 0, embedding_size = 0;
  std::vector<float> probabilities;  // windows x classes: softmax per window (sigmoid per class for tags)
  std::vector<float> embeddings;     // windows x embedding_size: the penultimate layer
  // Mean of the windows' probabilities (the track's prediction); empty without windows.
  std::vector<float> mean_probabilities() const;
  // Mean of the windows' embeddings scaled to unit length (a track's embedding, as `tunelens index` stores it
  // and `analyze` maps it); empty without windows, zeros for a zero mean.
  std::vector<float> mean_embedding() const;
};

// The mean of windows' probabilities gathered a batch of windows at a time. The sums run in window order as
// mean_probabilities() runs them, so the mean is that of all the windows at once, to the bit.
class MeanProbabilities {
 public:
  void add(const WindowPredictions& batch);
  std::size_t windows() const { return windows_; }
  std::vector<float> mean() const;  // empty without windows

 private:
  std::vector<double> sum_;  // per class
  std::size_t windows_ = 0;
};

struct ModelLoadOptions {
  std::string device = "cpu";
  int threads = 0;  // 0: all cores (sets libtorch's intra-op thread count for the process)
};

// A trained model, ready to classify. Movable, not copyable. predict() may be called from several threads.
class Model {
 public:
  // Loads a model file (a checkpoint loads too) or a shipped network by name. Throws ModelError naming the
  // file, as read_model_info does.
  static Model load(const std::filesystem::path& file, const ModelLoadOptions& options = {});
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const;
  const std::vector<std::string>& classes() const { return info().classes; }
  const FeatureConfig& features() const { return info().features; }

  // Cuts a [n_mels, frames] spectrogram (as FeatureConfig describes: decibels, not normalised) into windows as the
  // model was trained (padding a short one with its minimum), normalises each, and returns every window's softmax
  // and embedding. Throws ModelError when the spectrogram has the wrong number of rows.
  static constexpr std::size_t kBatchSize = 64;
  WindowPredictions predict(const Spectrogram& spectrogram, std::size_t batch_size = kBatchSize) const;
  // The same for windows already cut (each [rows, input_frames], not normalised).
  WindowPredictions predict_windows(const std::vector<Spectrogram>& windows,
                                    std::size_t batch_size = kBatchSize) const;

  struct Impl;

 private:
  friend class WindowStream;
  explicit Model(std::unique_ptr<Impl> impl);
  WindowOptions windows() const;  // how predict cuts a spectrogram
  // Throws ModelError for a spectrogram with the wrong number of mel bands.
  void check_rows(const Spectrogram& spectrogram) const;
  // Predicts `count` windows, asking for each (window_at(i)) only when its batch is built.
  WindowPredictions predict_each(std::size_t count, const std::function<Spectrogram(std::size_t)>& window_at,
                                 std::size_t batch_size) const;
  std::unique_ptr<Impl> impl_;
};

// Model::predict of a spectrogram that arrives in pieces of frames (FeatureStream::take's): each batch of
// windows is predicted as soon as its frames are in and handed to `on_batch`, and the frames no later window
// needs are let go, so a long song is never held whole. The windows, their batches, and so the predictions
// are exactly predict's of the whole spectrogram.
class WindowStream {
 public:
  WindowStream(const Model& model, std::function<void(const WindowPredictions&)> on_batch);
  // The next frames. Throws ModelError for the wrong number of mel bands, as predict does.
  void push(Spectrogram frames);
  // The windows left (fewer than a batch); a song shorter than one window is one window, padded as predict
  // pads it.
  void finish();

 private:
  std::size_t complete_windows() const;                            // windows all of whose frames are in
  void predict_up_to(std::size_t end);                             // windows [predicted_, end)
  Spectrogram frames(std::size_t first, std::size_t count) const;  // frames [first, first + count), held

  const Model& model_;
  std::function<void(const WindowPredictions&)> on_batch_;
  WindowOptions windows_;
  std::size_t hop_ = 0;           // frames between window starts
  std::deque<Spectrogram> held_;  // consecutive pieces of frames: from frame held_from_ to held_end_
  std::size_t held_from_ = 0, held_end_ = 0;
  std::size_t predicted_ = 0;  // windows predicted so far
};

std::string tunelens_version();

// A pretrained network shipped with tunelens (models/networks.json; weights, licence and source beside it), usable
// by name wherever a model file is taken: Model::load("jamendo-musicnn") builds the model from the state dict.
struct ShippedNetwork {
  std::string name;          // jamendo-musicnn, msd-fcn, ...
  std::string architecture;  // fcn, crnn, musicnn
  std::string collection;    // what it learnt from: MagnaTagATune, Million Song Dataset, MTG-Jamendo
  std::filesystem::path weights;  // the authors' state dict, re-saved in PyTorch's zip format
  std::vector<std::string> tags;  // outputs in order: independent sigmoid probabilities
  std::vector<std::string> tag_categories;  // each tag's kind: genre, instrument, mood, voice, era
  std::size_t input_samples = 0;  // one input chunk (48,000 = 3 s or 464,000 = 29 s at 16 kHz)
  FeatureSettings front_end;      // the features it takes (chunked by input_samples)
};
// The folder of shipped networks: $TUNELENS_MODELS when set, else the source tree's models/ (a build run in place),
// else share/tunelens/models beside the installed program.
std::filesystem::path shipped_networks_folder();
// Every shipped network, in the manifest's order. Throws ModelError when the manifest cannot be read.
std::vector<ShippedNetwork> shipped_networks();
// The shipped network of that name, if there is one (a path with a folder or an extension never is).
std::optional<ShippedNetwork> find_shipped_network(const std::string& name);

}  // namespace tunelens
