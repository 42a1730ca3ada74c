// train_model: the epochs, validation, early stopping, checkpoints and history around Trainer::step.
#include "model/training.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <set>

#include "model/model_file.h"
#include "model/pipeline.h"
#include "store/catalog.h"
#include "store/whole_file.h"

namespace tunelens::model {

// --- the step

Trainer::Trainer(std::shared_ptr<Network> network, const std::vector<torch::Tensor>& parameters, double learning_rate,
                 double weight_decay, torch::Tensor class_weights, torch::Device device)
    : network_(std::move(network)), parameters_(parameters), class_weights_(std::move(class_weights)), device_(device) {
  if (class_weights_.defined()) class_weights_ = class_weights_.to(device_, torch::kFloat32);
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      parameters_, torch::optim::AdamWOptions(learning_rate).weight_decay(weight_decay));
}

void Trainer::set_learning_rate(double rate) {
  for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
}

torch::Tensor weighted_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                     const torch::Tensor& mixed_labels, float mix, const torch::Tensor& weights) {
  const torch::Tensor log_p = torch::log_softmax(logits, 1);
  auto term = [&](const torch::Tensor& target) {
    const torch::Tensor nll = -log_p.gather(1, target.unsqueeze(1)).squeeze(1);
    const torch::Tensor w = weights.defined() ? weights.index_select(0, target) : torch::ones_like(nll);
    return std::make_pair((w * nll).sum(), w.sum());
  };
  auto [loss, norm] = term(labels);
  if (mixed_labels.defined() && mix < 1.0f) {
    auto [mixed_loss, mixed_norm] = term(mixed_labels);
    loss = mix * loss + (1.0f - mix) * mixed_loss;
    norm = mix * norm + (1.0f - mix) * mixed_norm;
  }
  return loss / norm.clamp_min(1e-12);
}

StepResult Trainer::step(const torch::Tensor& inputs, const torch::Tensor& labels, const torch::Tensor& mixed_labels,
                         float mix) {
  const torch::Tensor x = inputs.to(device_);
  const torch::Tensor y = labels.to(device_);
  const torch::Tensor y_mixed = mixed_labels.defined() ? mixed_labels.to(device_) : mixed_labels;
  // Gradients are dropped rather than zeroed: the backward pass then writes them instead of adding to zeros.
  for (auto& parameter : parameters_) parameter.mutable_grad() = torch::Tensor();
  const torch::Tensor logits = network_->forward(x);
  const torch::Tensor loss = weighted_cross_entropy(logits, y, y_mixed, mix, class_weights_);
  loss.backward();
  optimizer_->step();
  StepResult result;
  const torch::Tensor dominant = (y_mixed.defined() && mix < 0.5f) ? y_mixed : y;
  result.correct = static_cast<std::size_t>(logits.detach().argmax(1).eq(dominant).sum().item<std::int64_t>());
  result.loss = loss.item<double>();
  return result;
}

StepResult Trainer::solve(const torch::Tensor& inputs, const torch::Tensor& labels, double l2) {
  const torch::Tensor x = inputs.to(device_);
  const torch::Tensor y = labels.to(device_);
  network_->set_training(false);
  torch::optim::LBFGS lbfgs(parameters_, torch::optim::LBFGSOptions(1.0)
                                             .max_iter(1000)
                                             .max_eval(1250)
                                             .tolerance_grad(1e-6)
                                             .tolerance_change(1e-10)
                                             .history_size(20)
                                             .line_search_fn("strong_wolfe"));
  auto objective = [&] {
    lbfgs.zero_grad();
    torch::Tensor loss = weighted_cross_entropy(network_->forward(x), y, {}, 1.0f, class_weights_);
    for (const auto& parameter : parameters_)
      if (parameter.dim() >= 2) loss = loss + l2 * parameter.pow(2).sum();
    loss.backward();
    return loss;
  };
  lbfgs.step(objective);
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = network_->forward(x);
  StepResult result;
  result.loss = weighted_cross_entropy(logits, y, {}, 1.0f, class_weights_).item<double>();
  result.correct = static_cast<std::size_t>(logits.argmax(1).eq(y).sum().item<std::int64_t>());
  return result;
}

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }
double number_or_nan(const nlohmann::json& json, const char* key) {
  const auto it = json.find(key);
  return it == json.end() || !it->is_number() ? std::numeric_limits<double>::quiet_NaN() : it->get<double>();
}

nlohmann::json epoch_json(const EpochRecord& e) {
  return {{"epoch", e.epoch},
          {"train_loss", number_or_null(e.train_loss)},
          {"train_accuracy", number_or_null(e.train_accuracy)},
          {"val_loss", number_or_null(e.val_loss)},
          {"val_accuracy", number_or_null(e.val_accuracy)},
          {"learning_rate", e.learning_rate},
          {"l2", number_or_null(e.l2)},
          {"seconds", e.seconds}};
}

EpochRecord epoch_from_json(const nlohmann::json& json) {
  EpochRecord e;
  e.epoch = json.at("epoch").get<int>();
  e.train_loss = number_or_nan(json, "train_loss");
  e.train_accuracy = number_or_nan(json, "train_accuracy");
  e.val_loss = number_or_nan(json, "val_loss");
  e.val_accuracy = number_or_nan(json, "val_accuracy");
  e.learning_rate = number_or_nan(json, "learning_rate");
  e.l2 = number_or_nan(json, "l2");
  e.seconds = number_or_nan(json, "seconds");
  return e;
}

// The options that decide the result, as stored in model files and checkpoints.
nlohmann::json training_json(const TrainOptions& o) {
  const AugmentOptions& a = o.augment;
  return {{"catalog", catalog_location_key(o.catalog)},
          {"split", o.split},
          {"feature_config", o.feature_config},
          {"window_frames", o.window_frames},
          {"normalisation", to_string(o.normalisation)},
          {"augment", describe_augmentations(a)},
          {"zoom_range", a.zoom_range},
          {"freq_masks", a.freq_masks},
          {"freq_mask_width", a.freq_mask_width},
          {"time_masks", a.time_masks},
          {"time_mask_width", a.time_mask_width},
          {"mixup_alpha", a.mixup_alpha},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"learning_rate", o.learning_rate},
          {"weight_decay", o.weight_decay},
          {"optimizer", o.solver == Solver::Lbfgs ? "L-BFGS (L2 path)" : "AdamW"},
          {"schedule", to_string(o.schedule)},
          {"warmup_epochs", o.warmup_epochs},
          {"patience", o.patience},
          {"class_weights", o.class_weights ? "balanced" : "none"},
          {"seed", o.seed},
          {"init", o.init.string()},
          {"freeze", o.freeze},
          {"backbone", o.backbone.string()},
          {"refit", o.refit}};
}

TrainOptions options_from_checkpoint(const nlohmann::json& meta, const TrainOptions& given) {
  const nlohmann::json& t = meta.at("training");
  TrainOptions o;
  o.catalog = t.at("catalog").get<std::string>();
  o.split = t.at("split").get<std::string>();
  o.feature_config = t.at("feature_config").get<std::string>();
  o.out = given.out;
  o.network = network_settings_from_json(meta.at("network"));
  o.window_frames = t.at("window_frames").get<std::size_t>();
  o.normalisation = parse_normalisation(t.at("normalisation").get<std::string>()).value_or(Normalisation::MinMax);
  parse_augmentations(t.at("augment").get<std::string>(), o.augment);
  o.augment.zoom_range = t.at("zoom_range").get<double>();
  o.augment.freq_masks = t.at("freq_masks").get<int>();
  o.augment.freq_mask_width = t.at("freq_mask_width").get<int>();
  o.augment.time_masks = t.at("time_masks").get<int>();
  o.augment.time_mask_width = t.at("time_mask_width").get<int>();
  o.augment.mixup_alpha = t.at("mixup_alpha").get<double>();
  o.batch_size = t.at("batch_size").get<std::size_t>();
  o.learning_rate = t.at("learning_rate").get<double>();
  o.weight_decay = t.at("weight_decay").get<double>();
  o.solver = t.value("optimizer", std::string()).starts_with("L-BFGS") ? Solver::Lbfgs : Solver::AdamW;
  o.schedule = parse_learning_rate_schedule(t.at("schedule").get<std::string>()).value_or(LearningRateSchedule::Constant);
  o.warmup_epochs = t.at("warmup_epochs").get<int>();
  o.class_weights = t.at("class_weights").get<std::string>() == "balanced";
  o.seed = t.at("seed").get<std::uint64_t>();
  o.init = t.at("init").get<std::string>();
  o.freeze = t.at("freeze").get<int>();
  o.backbone = t.at("backbone").get<std::string>();
  o.refit = t.value("refit", false);
  // What the caller may change on resuming: how long to go on, and where to run.
  o.epochs = given.epochs;
  o.patience = given.patience;
  o.threads = given.threads;
  o.device = given.device;
  o.resume = true;
  return o;
}

// The L-BFGS solver's regularisation path: epoch e (from 0) solves with L2 = 10^(-e/2), from 1 (a strong
// pull to zero) down to 1e-5 by epoch 10; validation picks the epoch, as it picks one of AdamW's.
double lbfgs_l2(int epoch) { return std::pow(10.0, -0.5 * epoch); }

double scheduled_rate(const TrainOptions& o, int epoch /* from 0 */, double plateau_scale) {
  double rate = o.learning_rate;
  if (epoch < o.warmup_epochs) return rate * (epoch + 1) / (o.warmup_epochs + 1);
  switch (o.schedule) {
    case LearningRateSchedule::Constant: break;
    case LearningRateSchedule::Cosine: {
      const double span = std::max(1, o.epochs - o.warmup_epochs);
      rate *= 0.5 * (1.0 + std::cos(std::numbers::pi * (epoch - o.warmup_epochs) / span));
      break;
    }
    case LearningRateSchedule::Plateau: rate *= plateau_scale; break;
  }
  return rate;
}

void write_text_file(const fs::path& path, const std::string& text) {
  try {
    write_whole_file(path, text);
  } catch (const std::runtime_error& failure) {
    throw ModelError(failure.what());
  }
}

void write_history(const TrainResult& result) {
  std::string csv = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
  auto value = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); };
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : result.history) {
    csv += fmt::format("{},{},{},{},{},{},{:.3f}\n", e.epoch, value(e.train_loss), value(e.train_accuracy),
                       value(e.val_loss), value(e.val_accuracy), value(e.learning_rate), e.seconds);
    epochs.push_back(epoch_json(e));
  }
  write_text_file(result.history_csv, csv);
  const nlohmann::json json = {{"model", result.model_file.string()},
                               {"best_epoch", result.best_epoch},
                               {"stopped_early", result.stopped_early},
                               {"epochs", epochs}};
  write_text_file(result.history_json, json.dump(2) + "\n");
}

// Everything the loop carries from epoch to epoch (what a checkpoint stores).
struct RunState {
  int epoch = 0;  // epochs done
  int best_epoch = 0;
  double best_val_loss = std::numeric_limits<double>::infinity();
  int since_best = 0;
  double plateau_scale = 1.0;
  int plateau_wait = 0;
  std::string best_weights;  // encoded
  std::vector<EpochRecord> history;
};

}  // namespace

}  // namespace tunelens::model

namespace tunelens {

using namespace model;

fs::path checkpoint_path(const fs::path& model_file) { return model_file.string() + ".checkpoint"; }
fs::path best_model_path(const fs::path& model_file) { return model_file.string() + ".best"; }
fs::path history_csv_path(const fs::path& model_file) { return model_file.string() + ".history.csv"; }
fs::path history_json_path(const fs::path& model_file) { return model_file.string() + ".history.json"; }

namespace {

// The refit stage of a run (TrainOptions::refit): how many epochs, and the first run's best epoch.
struct Refit {
  int epochs = 0;
  EpochRecord selected;
  std::size_t val_tracks = 0;
};

// One training run; with `refit`, on the training and validation tracks together for refit->epochs epochs.
TrainResult run_training(const TrainOptions& requested, const TrainCallbacks& callbacks, const Refit* refit) {
  auto say = [&](const std::string& line) {
    if (callbacks.on_message) callbacks.on_message(line);
  };
  const fs::path checkpoint_file = checkpoint_path(requested.out);

  // --- what to run: the options, or a checkpoint's
  TrainOptions options = requested;
  std::optional<ModelFile> checkpoint;
  if (requested.resume) {
    if (!fs::exists(checkpoint_file))
      throw ModelError(checkpoint_file.string() + ": no checkpoint to resume from (train without --resume first)");
    checkpoint = read_model_file(checkpoint_file);
    if (checkpoint->metadata.value("kind", std::string()) != "checkpoint")
      throw ModelError(checkpoint_file.string() + ": not a training checkpoint");
    try {
      options = options_from_checkpoint(checkpoint->metadata, requested);
    } catch (const nlohmann::json::exception& error) {
      throw ModelError(checkpoint_file.string() + ": damaged checkpoint: " + error.what());
    }
    if (!requested.catalog.empty() && catalog_location_key(requested.catalog) != options.catalog)
      throw ModelError(fmt::format("{}: the checkpoint trains on catalog {}, not {}", checkpoint_file.string(),
                                   options.catalog.string(), requested.catalog.string()));
    if (!requested.split.empty() && requested.split != options.split)
      throw ModelError(fmt::format("{}: the checkpoint trains on split '{}', not '{}'", checkpoint_file.string(),
                                   options.split, requested.split));
  }
  if (options.epochs < 1) throw ModelError("--epochs must be at least 1");
  if (options.batch_size < 1) throw ModelError("--batch-size must be at least 1");
  if (!(options.learning_rate > 0)) throw ModelError("--lr must be positive");
  if (options.weight_decay < 0) throw ModelError("--weight-decay cannot be negative");
  if (options.freeze < 0) throw ModelError("--freeze cannot be negative");
  if (options.solver == Solver::Lbfgs && options.network.name != "vector-head" &&
      options.network.name != "mfcc-linear")
    throw ModelError("--solver lbfgs trains linear heads (a frozen backbone's head, mfcc-linear), not " +
                     options.network.name);
  if (!options.backbone.empty()) options.network.name = "torchscript";
  if (options.network.name == "mfcc-linear") options.normalisation = Normalisation::Standard;

  const int threads = set_threads(options.threads);
  const torch::Device device = parse_device(options.device);

  // --- the data
  TrainingData data = load_training_data(options.catalog, options.split, options.feature_config);
  options.feature_config = data.features.id;
  if (data.skipped > 0) say(fmt::format("{} tracks of split '{}' have no features and are left out", data.skipped, options.split));
  if (data.lost > 0)
    say(fmt::format("{} tracks of split '{}' are left out: their feature files are missing or damaged (tunelens "
                    "extract computes them again)",
                    data.lost, options.split));
  if (refit) {
    say(fmt::format("refit: training again on the {} training and {} validation tracks together, {} epochs "
                    "(the best epoch of the first run)",
                    data.train.size(), data.val.size(), refit->epochs));
    data.train.insert(data.train.end(), std::make_move_iterator(data.val.begin()),
                      std::make_move_iterator(data.val.end()));
    data.val.clear();
  } else if (data.val.empty()) {
    say("no validation tracks: no early stopping, the last epoch is kept");
  }
  if (options.window_frames == 0) options.window_frames = default_window_frames(options.network);

  InputFormat format;
  format.mfcc_statistics = options.network.name == "mfcc-linear";
  format.n_mfcc = options.network.n_mfcc;
  format.rows = data.rows;
  format.window_frames = options.window_frames;
  format.normalisation = options.normalisation;
  if (format.mfcc_statistics && (format.n_mfcc < 1 || static_cast<std::size_t>(format.n_mfcc) > data.rows))
    throw ModelError(fmt::format("--n-mfcc must be between 1 and the {} mel bands", data.rows));
  if (checkpoint) {
    const FeatureConfig stored = feature_config_from_json(checkpoint->metadata.at("features"));
    if (stored.id != data.features.id ||
        checkpoint->metadata.at("classes").get<std::vector<std::string>>() != data.classes)
      throw ModelError(checkpoint_file.string() + ": the catalog's classes or features changed since this checkpoint");
    format.mean = stored.mean;
    format.std = stored.std;
  } else if (format.normalisation == Normalisation::Standard) {
    fit_standard_normalisation(format, data.train);
  }
  FeatureConfig features = data.features;
  features.window_frames = options.window_frames;
  features.window_hop = 0;
  features.normalisation = format.normalisation;
  features.mean = format.mean;
  features.std = format.std;

  // --- the network
  std::string torchscript;
  if (checkpoint) {
    torchscript = checkpoint->torchscript;
  } else if (!options.backbone.empty()) {
    std::ifstream in(options.backbone, std::ios::binary);
    if (!in) throw ModelError(options.backbone.string() + ": cannot open the backbone");
    torchscript.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  torch::manual_seed(options.seed);
  std::shared_ptr<Network> network;
  try {
    network = make_network(options.network, format.input_rows(), format.input_frames(), data.classes.size(), torchscript);
  } catch (const ModelError& error) {
    throw ModelError((options.backbone.empty() ? "" : options.backbone.string() + ": ") + error.what());
  }
  if (!checkpoint && !options.init.empty()) {
    const ModelFile init = read_model_file(options.init);
    NamedTensors source;
    try {
      source = decode_tensors(init.weights);
    } catch (const ModelError& error) {
      throw ModelError(options.init.string() + ": " + error.what());
    }
    // A head learnt for other classes (the same number of them, in transfer to five new genres from five old
    // ones) would start each new class from an old class's answer: it starts afresh instead.
    const bool same_classes = init.metadata.contains("classes") &&
                              init.metadata.at("classes").get<std::vector<std::string>>() == data.classes;
    if (!same_classes)
      std::erase_if(source, [&](const auto& named) { return network->block_of(named.first) == "head"; });
    const auto copied = copy_matching(*network, source);
    say(fmt::format("init: {} of {} tensors from {} (matching name and shape{})", copied.size(),
                    network->state().size(), options.init.string(),
                    same_classes ? "" : "; other classes, so a new head"));
    if (copied.empty()) throw ModelError(options.init.string() + ": no layer matches this network by name and shape");
    // Filters learnt on other features (another mel scale, rate or hop) see other patterns: allowed, but
    // said.
    // (A shipped network's features have no catalog id: train --backbone extracts them with its front end.)
    if (init.metadata.contains("features") && !init.metadata.at("features").value("id", "").empty() &&
        init.metadata.at("features").value("id", "") != data.features.id)
      say(fmt::format(
          "warning: {} was trained on other features (configuration {}, this catalog's {}): its layers "
          "are copied all the same",
          options.init.string(), init.metadata.at("features").value("id", "?"), data.features.id));
  }
  RunState run;
  if (checkpoint) {
    try {
      load_state(*network, decode_tensors(checkpoint->weights));
      const nlohmann::json& c = checkpoint->metadata.at("checkpoint");
      run.epoch = c.at("epoch").get<int>();
      run.best_epoch = c.at("best_epoch").get<int>();
      run.best_val_loss = number_or_nan(c, "best_val_loss");
      if (std::isnan(run.best_val_loss)) run.best_val_loss = std::numeric_limits<double>::infinity();
      run.since_best = c.at("since_best").get<int>();
      run.plateau_scale = c.at("plateau_scale").get<double>();
      run.plateau_wait = c.at("plateau_wait").get<int>();
      for (const auto& e : checkpoint->metadata.at("history")) run.history.push_back(epoch_from_json(e));
    } catch (const nlohmann::json::exception& error) {
      throw ModelError(checkpoint_file.string() + ": damaged checkpoint: " + error.what());
    } catch (const ModelError& error) {
      throw ModelError(checkpoint_file.string() + ": " + error.what());
    }
    if (run.best_epoch == run.epoch) {
      run.best_weights = checkpoint->weights;
    } else if (run.best_epoch > 0) {
      // The run's best so far: <out>.best while it runs, <out> once it has finished.
      const fs::path best_file = fs::exists(best_model_path(options.out)) ? best_model_path(options.out) : options.out;
      const ModelFile best = read_model_file(best_file);
      if (hex64(fnv1a64(best.weights.data(), best.weights.size())) !=
          checkpoint->metadata.at("checkpoint").at("best_weights_hash").get<std::string>())
        throw ModelError(best_file.string() + ": is not the best model of " + checkpoint_file.string());
      run.best_weights = best.weights;
    }
    say(fmt::format("resuming after epoch {} of {} (best so far: epoch {})", run.epoch, options.epochs, run.best_epoch));
  }
  place(*network, device);

  // Freezing: only the last `freeze` blocks learn; the others keep their weights and BatchNorm statistics.
  std::vector<std::string> blocks, frozen;
  for (const auto& [name, tensor] : network->trainable()) {
    const std::string block = network->block_of(name);
    if (std::find(blocks.begin(), blocks.end(), block) == blocks.end()) blocks.push_back(block);
  }
  if (options.freeze > 0 && static_cast<std::size_t>(options.freeze) < blocks.size())
    frozen.assign(blocks.begin(), blocks.end() - options.freeze);
  std::vector<torch::Tensor> parameters;
  for (auto& [name, tensor] : network->trainable()) {
    const bool learn = std::find(frozen.begin(), frozen.end(), network->block_of(name)) == frozen.end();
    tensor.requires_grad_(learn);
    if (learn) parameters.push_back(tensor);
  }
  if (!frozen.empty())
    say(fmt::format("training the last {} of {} blocks ({} frozen: {} ... {})", options.freeze, blocks.size(),
                    frozen.size(), frozen.front(), frozen.back()));

  // Class weights from the training windows: n / (classes * n_c).
  const std::vector<Sample> one_pass = consecutive_windows(data.train, format.window_frames);
  torch::Tensor class_weights;
  std::vector<float> weight_values(data.classes.size(), 1.0f);
  if (options.class_weights) {
    std::vector<double> counts(data.classes.size(), 0.0);
    for (const auto& sample : one_pass) counts[static_cast<std::size_t>(data.train[sample.track].label)] += 1.0;
    std::vector<float> weights(counts.size());
    for (std::size_t c = 0; c < counts.size(); ++c)
      weights[c] = counts[c] > 0 ? static_cast<float>(static_cast<double>(one_pass.size()) / (static_cast<double>(counts.size()) * counts[c])) : 0.0f;
    class_weights = torch::tensor(weights);
    weight_values = weights;
  }
  Trainer trainer(network, parameters, options.learning_rate, options.weight_decay, class_weights, device);
  if (checkpoint && !checkpoint->optimizer.empty()) {
    try {
      std::istringstream in(checkpoint->optimizer);
      torch::serialize::InputArchive archive;
      archive.load_from(in, device);
      trainer.optimizer().load(archive);
    } catch (const std::exception& error) {
      throw ModelError(checkpoint_file.string() + ": damaged optimizer state: " + std::string(error.what()).substr(0, 200));
    }
  }

  TrainResult result;
  result.model_file = options.out;
  result.checkpoint_file = checkpoint_file;
  result.history_csv = history_csv_path(options.out);
  result.history_json = history_json_path(options.out);
  result.train_tracks = data.train.size();
  result.val_tracks = data.val.size();

  // --- the files
  const nlohmann::json training = training_json(options);
  auto metadata = [&](bool is_checkpoint, const std::string& weights) {
    nlohmann::json meta = {
        {"format", "tunelens model"},
        {"format_version", kModelFormatVersion},
        {"kind", is_checkpoint ? "checkpoint" : "model"},
        {"network", network_settings_json(options.network)},
        {"input", {{"rows", format.input_rows()}, {"frames", format.input_frames()}}},
        {"embedding_size", network->embedding_size()},
        {"parameters", parameter_count(*network)},
        {"classes", data.classes},
        {"features", feature_config_json(features)},
        {"training", training},
        {"weights_hash", hex64(fnv1a64(weights.data(), weights.size()))},
    };
    nlohmann::json history = nlohmann::json::array();
    for (const auto& e : run.history) history.push_back(epoch_json(e));
    meta["history"] = history;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& e : run.history)
      if (e.epoch == run.best_epoch) metrics = epoch_json(e);
    meta["provenance"] = {{"catalog", training.at("catalog")},
                          {"split", options.split},
                          {"feature_config", data.features.id},
                          {"train_tracks", data.train.size()},
                          {"val_tracks", data.val.size()},
                          {"seed", options.seed},
                          {"epochs_run", run.epoch},
                          {"best_epoch", run.best_epoch},
                          {"stopped_early", result.stopped_early},
                          {"metrics", metrics},
                          {"threads", threads},
                          {"device", device.str()},
                          {"tunelens_version", tunelens_version()},
                          {"libtorch_version", TORCH_VERSION},
                          {"created", utc_now()}};
    if (refit)
      meta["provenance"]["refit"] = {{"epochs", refit->epochs},
                                     {"val_tracks_added", refit->val_tracks},
                                     {"selection_metrics", epoch_json(refit->selected)}};
    if (is_checkpoint)
      meta["checkpoint"] = {{"epoch", run.epoch},
                            {"best_epoch", run.best_epoch},
                            {"best_val_loss", number_or_null(run.best_val_loss)},
                            {"since_best", run.since_best},
                            {"plateau_scale", run.plateau_scale},
                            {"plateau_wait", run.plateau_wait},
                            {"best_weights_hash", hex64(fnv1a64(run.best_weights.data(), run.best_weights.size()))}};
    return meta;
  };
  // The best model so far goes to <out>.best; <out> itself is replaced only when the run ends well, so a run that
  // fails or is killed never replaces a good model already there.
  auto write_model = [&](const fs::path& path) {
    ModelFile file;
    file.metadata = metadata(false, run.best_weights);
    file.weights = run.best_weights;
    file.torchscript = torchscript;
    write_model_file(path, file);
  };

  // --- the epochs
  const bool random_offsets = options.augment.crop || options.network.name == "shortchunk";
  const bool augmenting = options.augment.zoom || options.augment.masks || options.augment.mixup;
  const std::size_t batches_per_epoch = (one_pass.size() + options.batch_size - 1) / options.batch_size;
  const std::vector<Sample> val_samples = consecutive_windows(data.val, format.window_frames);
  const auto rows = static_cast<std::int64_t>(format.input_rows());
  const auto frames = static_cast<std::int64_t>(format.input_frames());
  const auto run_start = Clock::now();
  const int first_epoch = run.epoch;
  // L-BFGS: every training window at once, in the same order each epoch.
  torch::Tensor all_inputs, all_labels;
  if (options.solver == Solver::Lbfgs) {
    BatchStream all(data.train, one_pass, std::max<std::size_t>(one_pass.size(), 1), format, nullptr, 0, false);
    if (auto batch = all.next()) {
      const auto n = static_cast<std::int64_t>(batch->size);
      all_inputs = torch::from_blob(batch->inputs.data(), {n, 1, rows, frames}, torch::kFloat32).clone();
      all_labels = torch::from_blob(batch->labels.data(), {n}, torch::kInt64).clone();
    }
    if (!all_labels.defined()) throw ModelError("no training windows");
  }
  std::size_t batches_done_in_run = 0;

  const int last_epoch = refit ? std::min(options.epochs, refit->epochs) : options.epochs;
  for (int epoch = run.epoch; epoch < last_epoch; ++epoch) {
    const auto epoch_start = Clock::now();
    const double rate = scheduled_rate(options, epoch, run.plateau_scale);
    trainer.set_learning_rate(rate);
    torch::manual_seed(mix_seed(options.seed, static_cast<std::uint64_t>(epoch) + 1));  // dropout
    SplitRandom order(mix_seed(options.seed ^ 0x6f72646572ull, static_cast<std::uint64_t>(epoch)));
    std::optional<BatchStream> stream;  // minibatches (AdamW)
    if (options.solver == Solver::AdamW)
      stream.emplace(data.train, epoch_samples(data.train, format.window_frames, random_offsets, order),
                     options.batch_size, format, augmenting ? &options.augment : nullptr,
                     mix_seed(options.seed ^ 0x61756720ull, static_cast<std::uint64_t>(epoch)), true);
    network->set_training(true);
    for (const auto& block : frozen) network->freeze_statistics(block);

    double loss_sum = 0.0;
    std::size_t correct = 0, seen = 0, batch_index = 0;
    double l2 = std::numeric_limits<double>::quiet_NaN();
    if (options.solver == Solver::Lbfgs) {
      l2 = lbfgs_l2(epoch);
      const StepResult step = trainer.solve(all_inputs, all_labels, l2);
      loss_sum = step.loss * static_cast<double>(all_labels.size(0));
      correct = step.correct;
      seen = static_cast<std::size_t>(all_labels.size(0));
    }
    while (stream) {
      auto batch = stream->next();
      if (!batch) break;
      const auto n = static_cast<std::int64_t>(batch->size);
      const torch::Tensor x = torch::from_blob(batch->inputs.data(), {n, 1, rows, frames}, torch::kFloat32);
      const torch::Tensor y = torch::from_blob(batch->labels.data(), {n}, torch::kInt64);
      torch::Tensor y_mixed;
      if (!batch->mixed_labels.empty()) y_mixed = torch::from_blob(batch->mixed_labels.data(), {n}, torch::kInt64);
      const StepResult step = trainer.step(x, y, y_mixed, batch->mix);
      if (!std::isfinite(step.loss))
        throw ModelError(fmt::format("the loss became {} in epoch {} (try a lower --lr)", step.loss, epoch + 1));
      loss_sum += step.loss * static_cast<double>(n);
      correct += step.correct;
      seen += static_cast<std::size_t>(n);
      ++batch_index;
      ++batches_done_in_run;
      if (callbacks.on_batch) {
        BatchProgress progress;
        progress.epoch = epoch + 1;
        progress.epochs = last_epoch;
        progress.batch = batch_index;
        progress.batches = stream->batches();
        progress.loss = loss_sum / static_cast<double>(seen);
        progress.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        const double elapsed = seconds_since(epoch_start);
        progress.samples_per_second = elapsed > 0 ? static_cast<double>(seen) / elapsed : 0.0;
        const double per_batch = seconds_since(run_start) / static_cast<double>(batches_done_in_run);
        const double left = static_cast<double>(stream->batches() - batch_index) +
                            static_cast<double>(last_epoch - epoch - 1) * static_cast<double>(batches_per_epoch);
        progress.eta_seconds = per_batch * left;
        callbacks.on_batch(progress);
      }
    }

    EpochRecord record;
    record.epoch = epoch + 1;
    record.train_loss = seen ? loss_sum / static_cast<double>(seen) : std::numeric_limits<double>::quiet_NaN();
    record.train_accuracy = seen ? static_cast<double>(correct) / static_cast<double>(seen) : record.train_loss;
    record.learning_rate = rate;
    record.l2 = l2;
    record.val_loss = record.val_accuracy = std::numeric_limits<double>::quiet_NaN();
    if (!val_samples.empty()) {
      network->set_training(false);
      std::vector<double> sums(data.val.size() * data.classes.size(), 0.0);
      std::vector<std::size_t> windows(data.val.size(), 0);
      BatchStream val(data.val, val_samples, std::max<std::size_t>(options.batch_size, 64), format, nullptr, 0, false);
      while (auto batch = val.next()) {
        const auto n = static_cast<std::int64_t>(batch->size);
        const torch::Tensor x = torch::from_blob(batch->inputs.data(), {n, 1, rows, frames}, torch::kFloat32);
        const torch::Tensor p = infer(*network, x.to(device)).probabilities.to(torch::kCPU, torch::kFloat64).contiguous();
        const double* values = p.data_ptr<double>();
        for (std::int64_t i = 0; i < n; ++i) {
          const std::size_t track = batch->tracks[static_cast<std::size_t>(i)];
          for (std::size_t c = 0; c < data.classes.size(); ++c)
            sums[track * data.classes.size() + c] += values[static_cast<std::size_t>(i) * data.classes.size() + c];
          ++windows[track];
        }
      }
      double loss = 0.0, weight_sum = 0.0;
      std::size_t right = 0;
      for (std::size_t t = 0; t < data.val.size(); ++t) {
        const double* track = sums.data() + t * data.classes.size();
        const auto label = static_cast<std::size_t>(data.val[t].label);
        const double w = weight_values[label];
        loss += -w * std::log(std::max(track[label] / static_cast<double>(windows[t]), 1e-12));
        weight_sum += w;
        if (std::max_element(track, track + data.classes.size()) - track == static_cast<std::ptrdiff_t>(label)) ++right;
      }
      record.val_loss = weight_sum > 0 ? loss / weight_sum : loss / static_cast<double>(data.val.size());
      record.val_accuracy = static_cast<double>(right) / static_cast<double>(data.val.size());
    }
    record.seconds = seconds_since(epoch_start);

    // Best: a lower validation loss (without validation tracks, every epoch replaces the last).
    const bool best = val_samples.empty() || record.val_loss < run.best_val_loss;
    run.epoch = epoch + 1;
    run.history.push_back(record);
    const std::string weights = encode_tensors(network->state());
    if (best) {
      run.best_epoch = run.epoch;
      run.best_val_loss = val_samples.empty() ? run.best_val_loss : record.val_loss;
      run.since_best = 0;
      run.best_weights = weights;
    } else {
      ++run.since_best;
    }
    if (options.schedule == LearningRateSchedule::Plateau && !best && !val_samples.empty() &&
        ++run.plateau_wait >= std::max(1, options.patience / 2)) {
      run.plateau_scale *= 0.5;
      run.plateau_wait = 0;
    } else if (best) {
      run.plateau_wait = 0;
    }
    result.stopped_early = options.patience > 0 && !val_samples.empty() && run.since_best >= options.patience;

    // The checkpoint first: when it says this epoch is the best, it holds the best weights itself, so a run killed
    // before the model file is written still resumes consistently.
    ModelFile state;
    state.metadata = metadata(true, weights);
    state.weights = weights;
    state.torchscript = torchscript;
    {
      std::ostringstream out;
      torch::serialize::OutputArchive archive;
      trainer.optimizer().save(archive);
      archive.save_to(out);
      state.optimizer = out.str();
    }
    write_model_file(checkpoint_file, state);
    if (best) write_model(best_model_path(options.out));
    result.history = run.history;
    result.best_epoch = run.best_epoch;
    write_history(result);
    if (callbacks.on_epoch) callbacks.on_epoch(record, best);
    if (result.stopped_early) {
      say(fmt::format("stopping early: no better validation loss for {} epochs (best: epoch {})", options.patience,
                      run.best_epoch));
      break;
    }
  }
  if (run.epoch > first_epoch || !fs::exists(options.out)) write_model(options.out);  // final provenance
  std::error_code ignored;
  fs::remove(best_model_path(options.out), ignored);
  result.history = run.history;
  result.best_epoch = run.best_epoch;
  result.best_val_loss = run.best_val_loss;
  write_history(result);
  return result;
}

}  // namespace

TrainResult train_model(const TrainOptions& requested, const TrainCallbacks& callbacks) {
  if (requested.out.empty()) throw ModelError("no model file to write (--out)");
  if (names_shipped_backbone(requested)) return train_on_shipped_backbone(requested, callbacks);
  TrainResult first = run_training(requested, callbacks, nullptr);
  if (!requested.refit || first.val_tracks == 0 || first.best_epoch < 1) return first;

  Refit refit;
  refit.epochs = first.best_epoch;
  refit.val_tracks = first.val_tracks;
  for (const EpochRecord& e : first.history)
    if (e.epoch == first.best_epoch) refit.selected = e;
  TrainOptions again = requested;
  again.resume = false;  // a fresh run from the start, over the first run's files
  TrainResult result = run_training(again, callbacks, &refit);
  result.refitted = true;
  result.selection_history = std::move(first.history);
  result.best_epoch = first.best_epoch;
  result.best_val_loss = first.best_val_loss;
  result.train_tracks = first.train_tracks;
  result.val_tracks = first.val_tracks;
  return result;
}

}  // namespace tunelens
