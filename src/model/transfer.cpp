// train --backbone NAME: a new head for the catalog's own labels on a shipped pretrained network.
//
// The catalog first gets the network's own features (its front end, in chunks of its input). With the
// backbone frozen (the default: only the head learns) and no augmentation, every window's pre-head vector
// never changes, so they are computed once and kept in the catalog as a feature configuration of kind
// "backbone" (one [size, windows] array per track); the head then trains on those vectors in seconds, and a
// rerun reuses them. The model written is the whole network (backbone and new head), classifying audio like
// any other model. With upper blocks fine-tuned (--freeze K > 1) or augmentation, it trains the network on
// the spectrograms instead.
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "data/extract.h"
#include "model/model_file.h"
#include "model/networks.h"
#include "model/pipeline.h"
#include "model/training.h"
#include "store/catalog.h"
#include "store/feature_array.h"

namespace tunelens::model {
namespace {

namespace fs = std::filesystem;

using Say = std::function<void(const std::string&)>;

// The network's features in the catalog (extracted where missing). Returns the configuration id.
std::string extract_backbone_features(const TrainOptions& options, const ShippedNetwork& shipped,
                                      const Say& say) {
  const FeatureConfig front_end = shipped_feature_config(shipped);
  ExtractionSettings settings;
  static_cast<FeatureSettings&>(settings) = front_end.settings;
  Catalog catalog = Catalog::open(options.catalog);
  const ExtractionPlan plan = plan_extraction(catalog, settings);
  if (plan.config != front_end.id)
    throw ModelError("the catalog's id of " + shipped.name + "'s features differs");
  if (!plan.pending.empty()) {
    say(fmt::format("extracting {}'s features ({} Hz, {} HTK mels, chunks of {:g} s) for {} tracks",
                    shipped.name, settings.mel.sample_rate, settings.mel.n_mels,
                    static_cast<double>(shipped.input_samples) / settings.mel.sample_rate,
                    plan.pending.size()));
    ExtractOptions extract;
    extract.threads = options.threads > 0 ? static_cast<unsigned>(options.threads) : 0;
    extract.on_problem = say;
    const ExtractSummary summary = run_extraction(catalog, settings, plan, extract);
    if (summary.failed > 0)
      say(fmt::format("{} tracks could not be decoded and are left out", summary.failed));
  }
  return plan.config;
}

// The backbone's pre-head vector of every window of every track with features, cached as a feature
// configuration. Returns its id.
std::string cache_backbone_vectors(const TrainOptions& options, const ShippedNetwork& shipped,
                                   const std::string& mel_config, Network& network, std::size_t window_frames,
                                   const Say& say) {
  Catalog catalog = Catalog::open(options.catalog);
  const auto source = catalog.feature_config(mel_config);
  // The vectors are these weights' (and only theirs); the head's play no part (and may be a fresh one's).
  NamedTensors under_head = network.state();
  std::erase_if(under_head, [&](const auto& named) { return network.block_of(named.first) == "head"; });
  const std::string weights = encode_tensors(under_head);
  const nlohmann::json parameters = {
      {"kind", "backbone"},
      {"backbone", shipped.name},
      {"weights_hash", hex64(fnv1a64(weights.data(), weights.size()))},
      {"size", network.embedding_size()},
      {"pre_head", options.network.pre_head.empty() ? "dense" : options.network.pre_head},
      {"window_frames", window_frames},
      {"source", nlohmann::json::parse(source->parameters)},
  };
  const std::string config = catalog.add_feature_config(parameters.dump());
  const fs::path folder = catalog.features_folder(config);
  fs::create_directories(folder);

  std::map<std::int64_t, FeatureRecord> mel_done;
  for (auto& record : catalog.feature_records(mel_config))
    if (record.status == FeatureStatus::Done) mel_done.emplace(record.track, std::move(record));
  std::vector<Track> pending;
  for (auto& track : catalog.tracks_without_features(config))
    if (mel_done.contains(track.id)) pending.push_back(std::move(track));
  if (pending.empty()) {
    say(fmt::format("{}'s vectors: all {} tracks cached (feature configuration {})", shipped.name,
                    mel_done.size(), config));
    return config;
  }
  say(fmt::format("computing {}'s vectors for {} tracks (cached as feature configuration {})", shipped.name,
                  pending.size(), config));
  const auto start = std::chrono::steady_clock::now();
  network.set_training(false);
  WindowOptions cut;
  cut.frames = window_frames;
  const std::size_t size = network.embedding_size();
  for (const Track& track : pending) {
    const FeatureArray mel(catalog.feature_file(track.id, mel_config));
    Spectrogram spectrogram(mel.rows(), mel.frames());
    spectrogram.values = mel.read_all();
    const std::vector<Spectrogram> windows = cut_windows(spectrogram, cut);
    std::vector<float> inputs;
    for (const Spectrogram& window : windows)
      inputs.insert(inputs.end(), window.values.begin(), window.values.end());
    const torch::Tensor x =
        torch::from_blob(inputs.data(),
                         {static_cast<std::int64_t>(windows.size()), 1, static_cast<std::int64_t>(mel.rows()),
                          static_cast<std::int64_t>(window_frames)},
                         torch::kFloat32);
    // [windows, size] → [size, windows]: a window's vector is one "frame" of the cached array.
    const torch::Tensor vectors = infer(network, x).embeddings.t().contiguous().to(torch::kFloat32);
    write_feature_array(catalog.feature_file(track.id, config), size, windows.size(),
                        vectors.data_ptr<float>(), FeatureDtype::Float32);
    FeatureRecord record;
    record.track = track.id;
    record.config = config;
    record.n_mels = size;
    record.frames = windows.size();
    record.seconds = mel_done.at(track.id).seconds;
    catalog.record_features(record);
  }
  say(fmt::format("{} tracks in {:.1f} s", pending.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  return config;
}

// The whole network with the head trained on the vectors: the backbone's weights, the head's, and the
// metadata of the head's run (history, provenance) with the network and features the model takes from audio.
void write_whole_model(const fs::path& head_file, const ShippedNetwork& shipped, Network& backbone,
                       const TrainOptions& options, const std::string& mel_config) {
  const ModelFile head = read_model_file(head_file);
  const auto classes = head.metadata.at("classes").get<std::vector<std::string>>();
  const FeatureConfig source = shipped_feature_config(shipped);
  auto network = make_network(options.network, static_cast<std::size_t>(source.settings.mel.n_mels),
                              source.window_frames, classes.size());
  // The head learnt on standardised vectors, (v - mean) / std: folded into its weights, it takes the vectors
  // as the backbone gives them. W' = W / std, b' = b - W' mean.
  torch::Tensor weight, bias;
  for (auto& [name, tensor] : decode_tensors(head.weights)) (name == "head.weight" ? weight : bias) = tensor;
  const nlohmann::json& statistics = head.metadata.at("features");
  const torch::Tensor mean = torch::tensor(statistics.at("mean").get<std::vector<float>>());
  const torch::Tensor std = torch::tensor(statistics.at("std").get<std::vector<float>>()).clamp_min(1e-6);
  weight = weight / std.unsqueeze(0);
  bias = bias - weight.matmul(mean);
  // Every backbone tensor by name, and the head's two under the network's names ("dense.weight" for FCN).
  NamedTensors tensors = backbone.state();
  std::erase_if(tensors, [&](const auto& named) { return backbone.block_of(named.first) == "head"; });
  for (const auto& [target, unused] : network->state())
    if (network->block_of(target) == "head")
      tensors.emplace_back(target, target.ends_with(".weight") ? weight : bias);
  load_state(*network, tensors);

  FeatureConfig features = source;
  features.id = mel_config;
  ModelFile whole;
  whole.weights = encode_tensors(network->state());
  whole.metadata = head.metadata;
  whole.metadata["network"] = network_settings_json(options.network);
  whole.metadata["input"] = {{"rows", source.settings.mel.n_mels}, {"frames", source.window_frames}};
  whole.metadata["embedding_size"] = network->embedding_size();
  whole.metadata["parameters"] = parameter_count(*network);
  whole.metadata["features"] = feature_config_json(features);
  whole.metadata["training"]["backbone"] = shipped.name;
  whole.metadata["training"]["freeze"] = options.freeze;
  whole.metadata["weights_hash"] = hex64(fnv1a64(whole.weights.data(), whole.weights.size()));
  whole.metadata["provenance"]["head_trained_on"] = "cached backbone vectors (feature configuration " +
                                                    whole.metadata["provenance"].value("feature_config", "") +
                                                    ")";
  whole.metadata["provenance"]["feature_config"] = mel_config;
  write_model_file(head_file, whole);
}

}  // namespace

bool names_shipped_backbone(const TrainOptions& options) {
  return !options.backbone.empty() && find_shipped_network(options.backbone.string()).has_value();
}

TrainResult train_on_shipped_backbone(const TrainOptions& requested, const TrainCallbacks& callbacks) {
  const Say say = [&](const std::string& line) {
    if (callbacks.on_message) callbacks.on_message(line);
  };
  const ShippedNetwork shipped = *find_shipped_network(requested.backbone.string());
  const FeatureConfig front_end = shipped_feature_config(shipped);

  TrainOptions options = requested;
  options.backbone.clear();
  options.network.name = shipped.architecture;
  options.feature_config = extract_backbone_features(requested, shipped, say);
  options.window_frames = front_end.window_frames;
  options.normalisation = Normalisation::None;  // the network's own input BatchNorm scales it
  const AugmentOptions& augment = options.augment;
  const bool head_only =
      options.freeze == 1 && !augment.zoom && !augment.crop && !augment.masks && !augment.mixup;
  if (!head_only) {
    options.init = shipped.name;  // every tensor but the head's
    say(fmt::format("fine-tuning {}: {}", shipped.name,
                    options.freeze == 0 ? "every block" : fmt::format("the last {} blocks", options.freeze)));
    return train_model(options, callbacks);
  }

  set_threads(options.threads);
  const ModelFile pretrained = shipped_model_file(shipped);
  auto backbone = make_network(options.network, static_cast<std::size_t>(front_end.settings.mel.n_mels),
                               front_end.window_frames, shipped.tags.size());
  // Every pretrained tensor the backbone has, but the head's: a head on another layer has another shape, and
  // it is replaced anyway (a pooled pre-head also leaves Musicnn's dense layer out).
  NamedTensors weights;
  {
    std::map<std::string, torch::Tensor> by_name;
    for (auto& [name, tensor] : decode_tensors(pretrained.weights)) by_name.emplace(name, tensor);
    for (const auto& [name, tensor] : backbone->state()) {
      if (backbone->block_of(name) == "head") {
        weights.emplace_back(name, tensor);
        continue;
      }
      const auto found = by_name.find(name);
      if (found == by_name.end()) throw ModelError(shipped.name + "'s weights lack " + name);
      weights.emplace_back(name, found->second);
    }
  }
  load_state(*backbone, weights);
  place(*backbone, torch::kCPU);
  const std::string vectors = cache_backbone_vectors(options, shipped, options.feature_config, *backbone,
                                                     front_end.window_frames, say);

  TrainOptions head = options;
  head.network.name = "vector-head";
  head.network.pre_head.clear();
  head.feature_config = vectors;
  head.window_frames = 1;
  head.freeze = 0;
  head.normalisation = Normalisation::Standard;  // per vector dimension, from the training tracks
  say(fmt::format("training a new head on {}'s {}-d {}vectors (the network frozen)", shipped.name,
                  backbone->embedding_size(), options.network.pre_head == "pooled" ? "pooled " : ""));
  TrainResult result = train_model(head, callbacks);
  write_whole_model(result.model_file, shipped, *backbone, options, options.feature_config);
  return result;
}

}  // namespace tunelens::model
