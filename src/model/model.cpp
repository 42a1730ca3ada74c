// Model: a trained model loaded from its file, classifying windows of spectrograms.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/model_file.h"
#include "model/pipeline.h"
#include "model/training.h"

namespace tunelens {

using namespace model;

struct Model::Impl {
  ModelInfo info;
  InputFormat format;
  std::shared_ptr<Network> network;
  torch::Device device{torch::kCPU};
};

namespace model {

Outputs infer(Network& network, const torch::Tensor& inputs, bool multi_label) {
  torch::InferenceMode guard;
  Outputs out;
  out.embeddings = network.features(inputs);
  const torch::Tensor logits = network.classify(out.embeddings);
  out.probabilities = multi_label ? torch::sigmoid(logits) : torch::softmax(logits, 1);
  return out;
}

}  // namespace model

std::vector<float> WindowPredictions::mean_probabilities() const {
  std::vector<float> mean;
  if (windows == 0) return mean;
  mean.assign(classes, 0.0f);
  std::vector<double> sum(classes, 0.0);
  for (std::size_t w = 0; w < windows; ++w)
    for (std::size_t c = 0; c < classes; ++c) sum[c] += probabilities[w * classes + c];
  for (std::size_t c = 0; c < classes; ++c) mean[c] = static_cast<float>(sum[c] / static_cast<double>(windows));
  return mean;
}

std::vector<float> WindowPredictions::mean_embedding() const {
  std::vector<float> unit;
  if (windows == 0) return unit;
  std::vector<double> mean(embedding_size, 0.0);
  for (std::size_t w = 0; w < windows; ++w)
    for (std::size_t d = 0; d < embedding_size; ++d) mean[d] += embeddings[w * embedding_size + d];
  double norm = 0.0;
  for (double& value : mean) {
    value /= static_cast<double>(windows);
    norm += value * value;
  }
  norm = std::sqrt(norm);
  unit.resize(embedding_size);
  for (std::size_t d = 0; d < embedding_size; ++d)
    unit[d] = static_cast<float>(norm > 0.0 ? mean[d] / norm : 0.0);
  return unit;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const ModelInfo& Model::info() const { return impl_->info; }

Model Model::load(const std::filesystem::path& file, const ModelLoadOptions& options) {
  const ModelFile contents = read_model_file(file);
  auto impl = std::make_unique<Impl>();
  impl->info = model_info(file, contents);
  const ModelInfo& info = impl->info;
  impl->format.mfcc_statistics = info.network.name == "mfcc-linear";
  impl->format.n_mfcc = info.network.n_mfcc;
  impl->format.rows = static_cast<std::size_t>(info.features.settings.mel.n_mels);
  impl->format.window_frames = info.features.window_frames;
  impl->format.normalisation = info.features.normalisation;
  impl->format.mean = info.features.mean;
  impl->format.std = info.features.std;
  if (impl->format.input_rows() != info.input_rows || impl->format.input_frames() != info.input_frames)
    throw ModelError(file.string() + ": damaged metadata: the input shape does not match the feature configuration");
  if (info.features.normalisation == Normalisation::Standard &&
      (info.features.mean.size() != info.input_rows || info.features.std.size() != info.input_rows))
    throw ModelError(file.string() + ": damaged metadata: normalisation statistics of the wrong size");
  // No network tunelens makes takes more than 1,024 mel bands × 16,384 frames (train's largest window): a larger
  // input (whose product could overflow the int sizes of libtorch's layers) is damage.
  constexpr std::size_t kMaxInputValues = std::size_t{1} << 24;
  if (info.input_rows == 0 || info.input_frames == 0 || info.input_rows > kMaxInputValues ||
      info.input_frames > kMaxInputValues / info.input_rows)
    throw ModelError(fmt::format("{}: damaged metadata: a network input of {} x {} values", file.string(),
                                 info.input_rows, info.input_frames));
  set_threads(options.threads);
  prepare_process_for_inference();
  impl->device = parse_device(options.device);
  try {
    impl->network = make_network(info.network, info.input_rows, info.input_frames, info.classes.size(),
                                 contents.torchscript);
    load_state(*impl->network, decode_tensors(contents.weights));
  } catch (const ModelError& error) {
    throw ModelError(file.string() + ": " + error.what());
  } catch (const c10::Error& error) {  // libtorch cannot make the network the metadata describes (memory)
    const std::string what = error.what_without_backtrace();
    throw ModelError(file.string() +
                     ": damaged metadata: its network cannot be made: " + what.substr(0, what.find('\n')));
  }
  place(*impl->network, impl->device);
  impl->network->set_training(false);
  return Model(std::move(impl));
}

WindowPredictions Model::predict(const Spectrogram& spectrogram, std::size_t batch_size) const {
  const FeatureConfig& features = impl_->info.features;
  if (spectrogram.rows != impl_->format.rows)
    throw ModelError(fmt::format("{}: the model takes {} mel bands, the spectrogram has {}",
                                 impl_->info.file.string(), impl_->format.rows, spectrogram.rows));
  WindowOptions windows;
  windows.frames = features.window_frames;
  windows.hop = features.window_hop;
  windows.short_clip = ShortClip::Pad;
  // Window by window, as the batches need them: a 6-hour song's windows are never all copied at once.
  return predict_each(window_count(spectrogram, windows),
                      [&](std::size_t i) { return cut_window(spectrogram, windows, i); }, batch_size);
}

WindowPredictions Model::predict_windows(const std::vector<Spectrogram>& windows, std::size_t batch_size) const {
  return predict_each(windows.size(), [&](std::size_t i) { return windows[i]; }, batch_size);
}

WindowPredictions Model::predict_each(std::size_t count, const std::function<Spectrogram(std::size_t)>& window_at,
                                      std::size_t batch_size) const {
  const Impl& impl = *impl_;
  const InputFormat& format = impl.format;
  WindowPredictions out;
  out.windows = count;
  out.classes = impl.info.classes.size();
  out.embedding_size = impl.network->embedding_size();
  out.probabilities.resize(out.windows * out.classes);
  out.embeddings.resize(out.windows * out.embedding_size);
  batch_size = std::max<std::size_t>(1, batch_size);
  const std::size_t input_size = format.input_size();
  std::vector<float> inputs;
  for (std::size_t begin = 0; begin < count; begin += batch_size) {
    const std::size_t n = std::min(batch_size, count - begin);
    inputs.resize(n * input_size);
    for (std::size_t i = 0; i < n; ++i) {
      const Spectrogram window = window_at(begin + i);
      if (window.rows != format.rows || window.frames != format.window_frames)
        throw ModelError(fmt::format("{}: the model takes windows of {} x {}, not {} x {}", impl.info.file.string(),
                                     format.rows, format.window_frames, window.rows, window.frames));
      const Spectrogram input = to_input(format, window);
      std::copy(input.values.begin(), input.values.end(), inputs.begin() + static_cast<std::ptrdiff_t>(i * input_size));
    }
    const torch::Tensor x = torch::from_blob(inputs.data(),
                                             {static_cast<std::int64_t>(n), 1, static_cast<std::int64_t>(format.input_rows()),
                                              static_cast<std::int64_t>(format.input_frames())},
                                             torch::kFloat32);
    const Outputs outputs = infer(*impl.network, x.to(impl.device), impl.info.multi_label);
    const torch::Tensor p = outputs.probabilities.to(torch::kCPU).contiguous();
    const torch::Tensor e = outputs.embeddings.to(torch::kCPU, torch::kFloat32).contiguous();
    std::copy_n(p.data_ptr<float>(), n * out.classes, out.probabilities.begin() + static_cast<std::ptrdiff_t>(begin * out.classes));
    std::copy_n(e.data_ptr<float>(), n * out.embedding_size,
                out.embeddings.begin() + static_cast<std::ptrdiff_t>(begin * out.embedding_size));
  }
  return out;
}

}  // namespace tunelens
