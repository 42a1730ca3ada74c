// A shipped network as a model file: its state dict (read with torch::pickle_load) checked tensor by tensor
// against the network tunelens builds, and the metadata that says how to feed it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include "data/extract.h"
#include "model/model_file.h"
#include "model/networks.h"
#include "store/fingerprint.h"

namespace tunelens::model {
namespace {

// The state dict of a .pt file saved with torch.save(dict) in the zip format. Throws ModelError naming the
// file.
std::map<std::string, torch::Tensor> read_state_dict(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ModelError(file.string() + ": cannot read the shipped weights");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> tensors;
  try {
    const c10::IValue value = torch::pickle_load(bytes);
    if (!value.isGenericDict())
      throw ModelError(file.string() + ": not a state dict (a dict of name to tensor)");
    for (const auto& entry : value.toGenericDict()) {
      if (!entry.key().isString() || !entry.value().isTensor())
        throw ModelError(file.string() + ": not a state dict (a dict of name to tensor)");
      tensors[entry.key().toStringRef()] = entry.value().toTensor();
    }
  } catch (const c10::Error& error) {
    const std::string what = error.what_without_backtrace();
    throw ModelError(file.string() +
                     ": not a readable PyTorch state dict: " + what.substr(0, what.find('\n')));
  }
  return tensors;
}

// The front end's buffers the state dict keeps (torchaudio's window and mel filterbank) must be the ones
// tunelens computes from the front-end settings: the features it computes are then the features the network
// learnt on.
void check_front_end(const std::filesystem::path& file, const std::map<std::string, torch::Tensor>& tensors,
                     const FeatureSettings& front_end) {
  const MelSpectrogram mel(front_end.mel);
  const Spectrogram dense = mel.filterbank().dense();  // [n_mels, bins]
  const auto found = tensors.find("spec.mel_scale.fb");
  if (found == tensors.end()) return;
  const torch::Tensor stored = found->second.to(torch::kFloat32).contiguous();  // [bins, n_mels]
  if (stored.dim() != 2 || stored.size(0) != static_cast<std::int64_t>(dense.frames) ||
      stored.size(1) != static_cast<std::int64_t>(dense.rows))
    throw ModelError(fmt::format("{}: spec.mel_scale.fb has shape {}, the front end's filterbank is [{}, {}]",
                                 file.string(), stored.sizes(), dense.frames, dense.rows));
  const torch::Tensor computed =
      torch::from_blob(const_cast<float*>(dense.values.data()),
                       {static_cast<std::int64_t>(dense.rows), static_cast<std::int64_t>(dense.frames)},
                       torch::kFloat32)
          .t();
  const double difference = (computed - stored).abs().max().item<double>();
  if (difference > 1e-4)
    throw ModelError(
        fmt::format("{}: its mel filterbank differs from the front end's by {:.3g}: not the front end "
                    "models/networks.json describes",
                    file.string(), difference));
}

}  // namespace

void flush_subnormals(torch::Tensor& tensor) {
  if (tensor.scalar_type() == torch::kFloat32)
    tensor.masked_fill_(tensor.abs() < std::numeric_limits<float>::min(), 0.0f);
}

// Copies a state dict into the network: every tensor the network has must be there with its shape and type;
// the only others allowed are the front end's buffers ("spec.*", checked above).
void load_state_dict(Network& network, const std::map<std::string, torch::Tensor>& tensors,
                     const std::filesystem::path& file) {
  torch::NoGradGuard no_grad;
  std::map<std::string, bool> used;
  for (auto& [name, tensor] : network.state()) {
    const auto found = tensors.find(name);
    if (found == tensors.end())
      throw ModelError(fmt::format("{}: the state dict lacks '{}'", file.string(), name));
    if (found->second.sizes() != tensor.sizes())
      throw ModelError(fmt::format("{}: '{}' has shape {}, the network needs {}", file.string(), name,
                                   found->second.sizes(), tensor.sizes()));
    tensor.copy_(found->second.to(tensor.scalar_type()));
    flush_subnormals(tensor);
    used[name] = true;
  }
  for (const auto& [name, tensor] : tensors)
    if (!used.contains(name) && !name.starts_with("spec."))
      throw ModelError(fmt::format("{}: '{}' is not a tensor of this network", file.string(), name));
}

FeatureConfig shipped_feature_config(const ShippedNetwork& shipped) {
  FeatureConfig config;
  config.settings = shipped.front_end;
  config.settings.chunk_samples =
      shipped.input_samples;  // each chunk's mel on its own, as the network learnt
  // The configuration a catalog gets when it extracts these features (train --backbone does): evaluate, index
  // and classify read them from there instead of decoding the audio again.
  ExtractionSettings extraction;
  static_cast<FeatureSettings&>(extraction) = config.settings;
  config.parameters = extraction.canonical_json();
  config.id = hash_hex(content_hash(config.parameters));
  const MelSpectrogram mel(shipped.front_end.mel);
  config.window_frames = mel.frame_count(shipped.input_samples);
  config.normalisation = Normalisation::None;  // the network's own BatchNorm (spec_bn) scales its input
  return config;
}

ModelFile shipped_model_file(const ShippedNetwork& shipped) {
  const FeatureConfig features = shipped_feature_config(shipped);
  NetworkSettings settings;
  settings.name = shipped.architecture;
  const std::size_t rows = static_cast<std::size_t>(features.settings.mel.n_mels);
  std::shared_ptr<Network> network;
  try {
    network = make_network(settings, rows, features.window_frames, shipped.tags.size());
  } catch (const ModelError& error) {
    throw ModelError(shipped.weights.string() + ": " + error.what());
  }
  const auto tensors = read_state_dict(shipped.weights);
  check_front_end(shipped.weights, tensors, features.settings);
  load_state_dict(*network, tensors, shipped.weights);

  ModelFile file;
  file.weights = encode_tensors(network->state());
  file.metadata = {
      {"format", "tunelens model"},
      {"format_version", kModelFormatVersion},
      {"kind", "model"},
      {"network", network_settings_json(settings)},
      {"input", {{"rows", rows}, {"frames", features.window_frames}}},
      {"embedding_size", network->embedding_size()},
      {"parameters", parameter_count(*network)},
      {"classes", shipped.tags},
      {"output", "sigmoid"},
      {"tag_categories", shipped.tag_categories},
      {"features", feature_config_json(features)},
      {"weights_hash", hex64(fnv1a64(file.weights.data(), file.weights.size()))},
      {"shipped",
       {{"name", shipped.name},
        {"collection", shipped.collection},
        {"weights", shipped.weights.string()},
        {"input_samples", shipped.input_samples},
        {"source",
         "Won et al., Evaluation of CNN-based automatic music tagging models, SMC 2020 (MIT licence)"}}},
  };
  return file;
}

}  // namespace tunelens::model
