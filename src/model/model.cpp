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

void MeanProbabilities::add(const WindowPredictions& batch) {
  sum_.resize(batch.classes, 0.0);
  for (std::size_t w = 0; w < batch.windows; ++w)
    for (std::size_t c = 0; c < batch.classes; ++c) sum_[c] += batch.probabilities[w * batch.classes + c];
  windows_ += batch.windows;
}

std::vector<float> MeanProbabilities::mean() const {
  std::vector<float> mean;
  if (windows_ == 0) return mean;
  for (const double sum : sum_) mean.push_back(static_cast<float>(sum / static_cast<double>(windows_)));
  return mean;
}

std::vector<float> WindowPredictions::mean_probabilities() const {
  MeanProbabilities mean;
  mean.add(*this);
  return mean.mean();
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

WindowOptions Model::windows() const {
  WindowOptions windows;
  windows.frames = features().window_frames;
  windows.hop = features().window_hop;
  windows.short_clip = ShortClip::Pad;
  return windows;
}

void Model::check_rows(const Spectrogram& spectrogram) const {
  if (spectrogram.rows != impl_->format.rows)
    throw ModelError(fmt::format("{}: the model takes {} mel bands, the spectrogram has {}",
                                 impl_->info.file.string(), impl_->format.rows, spectrogram.rows));
}

WindowPredictions Model::predict(const Spectrogram& spectrogram, std::size_t batch_size) const {
  check_rows(spectrogram);
  const WindowOptions windows = this->windows();
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

WindowStream::WindowStream(const Model& model, std::function<void(const WindowPredictions&)> on_batch)
    : model_(model),
      on_batch_(std::move(on_batch)),
      windows_(model.windows()),
      hop_(windows_.hop > 0 ? windows_.hop : windows_.frames) {}

void WindowStream::push(Spectrogram frames) {
  model_.check_rows(frames);
  if (frames.frames == 0) return;
  held_end_ += frames.frames;
  held_.push_back(std::move(frames));
  // Whole batches from window 0, as predict makes them: a network's output for a window may differ in its
  // last bits with the size of the batch it is in.
  while (complete_windows() >= predicted_ + Model::kBatchSize) predict_up_to(predicted_ + Model::kBatchSize);
}

void WindowStream::finish() {
  // A song shorter than one window let no frame go: predict pads its window from the whole song, as ever.
  if (complete_windows() == 0) {
    if (held_end_ > 0) on_batch_(model_.predict(frames(0, held_end_)));
  } else {
    predict_up_to(complete_windows());
  }
  held_.clear();
}

std::size_t WindowStream::complete_windows() const {
  return held_end_ < windows_.frames ? 0 : (held_end_ - windows_.frames) / hop_ + 1;
}

void WindowStream::predict_up_to(std::size_t end) {
  const std::size_t first = predicted_;
  if (end == first) return;
  on_batch_(model_.predict_each(
      end - first, [&](std::size_t i) { return frames((first + i) * hop_, windows_.frames); },
      Model::kBatchSize));
  predicted_ = end;
  // The pieces that end before the next window starts are let go.
  while (!held_.empty() && held_from_ + held_.front().frames <= predicted_ * hop_) {
    held_from_ += held_.front().frames;
    held_.pop_front();
  }
}

Spectrogram WindowStream::frames(std::size_t first, std::size_t count) const {
  Spectrogram out(held_.empty() ? 0 : held_.front().rows, count);
  std::size_t at = held_from_;  // where the piece starts
  for (const Spectrogram& piece : held_) {
    const std::size_t from = std::max(first, at), to = std::min(first + count, at + piece.frames);
    for (std::size_t r = 0; from < to && r < out.rows; ++r)
      std::copy(piece.values.begin() + static_cast<std::ptrdiff_t>(r * piece.frames + from - at),
                piece.values.begin() + static_cast<std::ptrdiff_t>(r * piece.frames + to - at),
                out.values.begin() + static_cast<std::ptrdiff_t>(r * count + from - first));
    at += piece.frames;
  }
  return out;
}

}  // namespace tunelens
