// The music-tagging networks of Won et al., "Evaluation of CNN-based automatic music tagging models" (SMC
// 2020): FCN (Choi et al. 2016), CRNN (Choi et al. 2017) and Musicnn (Pons et al. 2018), written from the
// published architecture so that the authors' trained state dicts load by name (models/README.md). Each takes
// the log-mel [batch, 1, 96, frames] (16 kHz, n_fft 512, hop 256, HTK mels, 10·log10 without reference) and
// starts with the stored BatchNorm over it ("spec_bn"); the mel front end itself is tunelens's
// (src/features).
#include <fmt/format.h>
#include <omp.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "model/fused.h"
#include "model/networks.h"

namespace tunelens::model {
namespace {

namespace nn = torch::nn;

// Inference runs each conv → BatchNorm → ReLU (→ max-pool or max over bands) differently from training, to
// the same values up to float rounding: the BatchNorm, whose statistics are fixed then, is folded into the
// convolution, and the ReLU comes after the maximum (the two commute), so the full-resolution activations are
// written once and read once instead of four times each (and for the first block of FCN and CRNN never
// stored: model/fused.h). Only in evaluation mode without autograd; training takes the layers as they are.
bool runs_folded(const nn::Module& module) {
  return !module.is_training() && !torch::GradMode::is_enabled();
}

// While it lives, this thread's float operations take subnormal inputs and results as zeros (x86's DAZ and
// FTZ bits). jamendo-musicnn's dead channels keep weights far below 1 but above the subnormals, and their
// sums ran through subnormal values, which x86 computes on a slow path: that network was 17 % slower than its
// twin. Values below 1.2e-38 change no tag.
class SubnormalsAsZeros {
 public:
#if defined(__x86_64__)
  SubnormalsAsZeros() : saved_(_mm_getcsr()) {
    _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero);
  }
  ~SubnormalsAsZeros() {
    _mm_setcsr(saved_);
  }

 private:
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  unsigned saved_;
#endif
};

// Runs body(window) for windows 0 .. count - 1 on as many threads as libtorch may use (the caller's and plain
// std::threads), handing out windows one at a time, each thread's operations running on it alone. Not on
// libtorch's OpenMP team: its idle threads spin while they wait for the next operation, and on a machine with
// other work they took the cores from the working ones (2 threads measured 5 to 10 times slower than 1 there,
// with the operations split or the windows); threads that each own whole windows never wait on one another.
template <typename Body>
void on_threads_by_window(std::int64_t count, const Body& body) {
  const auto threads = std::min<std::int64_t>(at::get_num_threads(), count);
  const bool inference_mode = c10::InferenceMode::is_enabled();
  std::atomic<std::int64_t> next{0};
  std::mutex failure_lock;
  std::exception_ptr failure;
  const auto work = [&] {
    // OpenMP's thread count is per thread: 1 here makes libtorch's and oneDNN's operations run on this one.
    // at::get_num_threads() first, since libtorch sets the count of a new thread at its first call.
    const int previous = at::get_num_threads();
    omp_set_num_threads(1);
    try {
      // Autograd's modes belong to a thread too: every one takes the caller's.
      const c10::InferenceMode inference(inference_mode);
      const torch::NoGradGuard no_grad;
      const SubnormalsAsZeros subnormals_as_zeros;
      for (std::int64_t window = next++; window < count; window = next++) body(window);
    } catch (...) {
      const std::lock_guard lock(failure_lock);
      if (!failure) failure = std::current_exception();
      next = count;
    }
    omp_set_num_threads(previous);
  };
  std::vector<std::thread> helpers;
  for (std::int64_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (auto& helper : helpers) helper.join();
  if (failure) std::rethrow_exception(failure);
}

struct FoldedConv {
  torch::Tensor weight, bias;
};

// The convolution's weight and bias with the BatchNorm after it folded in: per output channel
// s = gamma / sqrt(running_var + eps), weight * s and (bias - running_mean) * s + beta (computed in double).
// Products that fall below the normal floats become zeros, as the loaded weights did (flush_subnormals).
template <typename BatchNorm>
FoldedConv fold_batch_norm(const torch::Tensor& weight, const torch::Tensor& bias, const BatchNorm& bn) {
  const torch::Tensor scale =
      bn->weight.to(torch::kFloat64) / (bn->running_var.to(torch::kFloat64) + bn->options.eps()).sqrt();
  std::vector<std::int64_t> per_channel(static_cast<std::size_t>(weight.dim()), 1);
  per_channel[0] = -1;
  FoldedConv folded{(weight.to(torch::kFloat64) * scale.view(per_channel))
                        .to(torch::kFloat32)
                        .contiguous(weight.suggest_memory_format()),
                    ((bias.to(torch::kFloat64) - bn->running_mean.to(torch::kFloat64)) * scale +
                     bn->bias.to(torch::kFloat64))
                        .to(torch::kFloat32)};
  flush_subnormals(folded.weight);
  flush_subnormals(folded.bias);
  return folded;
}

// conv 3 x 3 (same padding) → BatchNorm → ReLU → max-pool: one block of FCN and CRNN (the authors' Conv_2d).
class TaggingConvBlockImpl : public nn::Module {
 public:
  TaggingConvBlockImpl(int in, int out, std::array<std::int64_t, 2> pooling)
      : conv(register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)))),
        bn(register_module("bn", nn::BatchNorm2d(out))),
        pooling_(pooling) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (!runs_folded(*this)) return torch::max_pool2d(torch::relu(bn(conv(x))), {pooling_[0], pooling_[1]});
    const FoldedConv folded = fold_batch_norm(conv->weight, conv->bias, bn);
    if (conv_pool_relu_applies(x, folded.weight, pooling_))
      return conv_pool_relu(x, folded.weight, folded.bias, pooling_);
    return torch::max_pool2d(torch::conv2d(x, folded.weight, folded.bias, 1, 1), {pooling_[0], pooling_[1]})
        .relu_();
  }
  std::array<std::int64_t, 2> pooling() const { return pooling_; }
  nn::Conv2d conv;
  nn::BatchNorm2d bn;

 private:
  std::array<std::int64_t, 2> pooling_;
};
TORCH_MODULE(TaggingConvBlock);

// The size a dimension has after each block's max-pool (floor division, as PyTorch's pooling).
std::int64_t pooled_size(std::int64_t n, const std::vector<std::array<std::int64_t, 2>>& pooling, int axis) {
  for (const auto& p : pooling) n /= p[static_cast<std::size_t>(axis)];
  return n;
}

// Base of the three: the input BatchNorm, the convolution blocks, and the tag head (named as the state dicts
// name it: "dense" for FCN and CRNN, "dense2" for Musicnn). block_of calls the head "head", as every tunelens
// network does, so a new label set replaces it (train --backbone) and freezing counts it as the last block.
class TaggingNetwork : public Network {
 public:
  std::string block_of(const std::string& name) const override {
    const std::string block = Network::block_of(name);
    return block == head_name_ ? "head" : block;
  }

 protected:
  explicit TaggingNetwork(std::string head_name) : head_name_(std::move(head_name)) {
    spec_bn = register_module("spec_bn", nn::BatchNorm2d(1));
  }
  // In inference the networks take one window at a time. The tensors of one window (at most 22 MB, CRNN's
  // second convolution) are memory the allocator reuses from window to window, where a batch's would be fresh
  // pages from the system at every call (measured 15 % slower for FCN and CRNN, a third for Musicnn).
  template <typename Features>
  torch::Tensor window_by_window(const torch::Tensor& input, const Features& features) {
    if (!runs_folded(*this)) return features(input);
    if (input.size(0) == 1) {
      const SubnormalsAsZeros subnormals_as_zeros;
      return features(input);
    }
    std::vector<torch::Tensor> windows(static_cast<std::size_t>(input.size(0)));
    on_threads_by_window(input.size(0), [&](std::int64_t window) {
      windows[static_cast<std::size_t>(window)] = features(input.narrow(0, window, 1));
    });
    return torch::cat(windows);
  }
  nn::BatchNorm2d spec_bn{nullptr};
  std::string head_name_;
};

// Inputs the networks were trained on have exactly 96 mel bands; the frame count is checked per network.
void require_rows(const std::string& network, std::size_t rows, std::size_t needed) {
  if (rows != needed)
    throw ModelError(
        fmt::format("{} takes {} mel bands (the HTK front end its weights were trained on), not {}", network,
                    needed, rows));
}

class Fcn : public TaggingNetwork {
 public:
  Fcn(std::size_t rows, std::size_t frames, std::size_t classes, double dropout) : TaggingNetwork("dense") {
    require_rows("fcn", rows, 96);
    const std::vector<std::array<std::int64_t, 2>> pooling = {{2, 4}, {2, 4}, {2, 4}, {3, 5}, {4, 4}};
    // The last block must leave one value per channel: the dense layer takes 64 inputs.
    if (pooled_size(static_cast<std::int64_t>(frames), pooling, 1) != 1)
      throw ModelError(
          fmt::format("fcn takes windows of 1280 to 2559 frames (trained on 1813: 29 s), not {}", frames));
    const std::array<std::pair<int, int>, 5> channels = {
        {{1, 64}, {64, 128}, {128, 128}, {128, 128}, {128, 64}}};
    for (std::size_t i = 0; i < channels.size(); ++i)
      layers.push_back(register_module("layer" + std::to_string(i + 1),
                                       TaggingConvBlock(channels[i].first, channels[i].second, pooling[i])));
    drop = register_module("drop", nn::Dropout(dropout));
    dense = register_module("dense", nn::Linear(64, static_cast<std::int64_t>(classes)));
    embedding_size_ = 64;
  }
  torch::Tensor features(const torch::Tensor& input) override {
    return window_by_window(input, [this](const torch::Tensor& windows) {
      torch::Tensor x = spec_bn(windows);
      for (auto& layer : layers) x = layer(x);
      return torch::flatten(x, 1);
    });
  }
  torch::Tensor classify(const torch::Tensor& features) override { return dense(drop(features)); }

  std::vector<TaggingConvBlock> layers;
  nn::Dropout drop{nullptr};
  nn::Linear dense{nullptr};
};

class Crnn : public TaggingNetwork {
 public:
  Crnn(std::size_t rows, std::size_t frames, std::size_t classes, double dropout) : TaggingNetwork("dense") {
    require_rows("crnn", rows, 96);
    const std::vector<std::array<std::int64_t, 2>> pooling = {{2, 2}, {3, 3}, {4, 4}, {4, 4}};
    if (pooled_size(static_cast<std::int64_t>(frames), pooling, 1) < 1)
      throw ModelError(
          fmt::format("crnn takes windows of at least 96 frames (trained on 1813: 29 s), not {}", frames));
    const std::array<std::pair<int, int>, 4> channels = {{{1, 64}, {64, 128}, {128, 128}, {128, 128}}};
    for (std::size_t i = 0; i < channels.size(); ++i)
      layers.push_back(register_module("layer" + std::to_string(i + 1),
                                       TaggingConvBlock(channels[i].first, channels[i].second, pooling[i])));
    layer5 = register_module("layer5", nn::GRU(nn::GRUOptions(128, 32).num_layers(2).batch_first(true)));
    drop = register_module("drop", nn::Dropout(dropout));
    dense = register_module("dense", nn::Linear(32, static_cast<std::int64_t>(classes)));
    embedding_size_ = 32;
  }
  torch::Tensor features(const torch::Tensor& input) override {
    torch::Tensor x = window_by_window(input, [this](const torch::Tensor& windows) {
      torch::Tensor y = spec_bn(windows);
      for (auto& layer : layers) y = layer(y);
      return y;
    });
    // [batch, 128, 1, steps] → [batch, steps, 128]; the GRU's output at the last step is the summary.
    x = x.squeeze(2).permute({0, 2, 1}).contiguous();
    const torch::Tensor sequence = std::get<0>(layer5(x));
    return sequence.select(1, sequence.size(1) - 1);
  }
  torch::Tensor classify(const torch::Tensor& features) override { return dense(drop(features)); }

  std::vector<TaggingConvBlock> layers;
  nn::GRU layer5{nullptr};
  nn::Dropout drop{nullptr};
  nn::Linear dense{nullptr};
};

// Musicnn's front end: a vertical filter (timbre: a tall kernel over the bands, max over what is left of
// them)...
class VerticalFilterImpl : public nn::Module {
 public:
  VerticalFilterImpl(int out, std::int64_t height, std::int64_t width)
      : conv(register_module("conv",
                             nn::Conv2d(nn::Conv2dOptions(1, out, {height, width}).padding({0, width / 2})))),
        bn(register_module("bn", nn::BatchNorm2d(out))),
        height_(height),
        width_(width) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (!runs_folded(*this)) return std::get<0>(torch::relu(bn(conv(x))).max(2));
    // The same sums as a 1-D convolution: each output row r sees input rows r .. r + height - 1, stacked as
    // `height` channels, so the rows of all windows are one batch [batch * rows, height, frames] convolved
    // with the kernel's rows as input channels (a deep sum over one input channel is a poor shape for the
    // convolution kernels: this measured 8 % faster for the two filters together, 16 % for the 38-band one).
    const std::int64_t batch = x.size(0), bands = x.size(2), frames = x.size(3), rows = bands - height_ + 1;
    const torch::Tensor stacked = x.reshape({batch, bands, frames})
                                      .unfold(1, height_, 1)
                                      .transpose(2, 3)
                                      .reshape({batch * rows, height_, frames});
    const FoldedConv folded = fold_batch_norm(conv->weight, conv->bias, bn);
    const std::int64_t out = folded.weight.size(0);
    const torch::Tensor z =
        torch::conv1d(stacked, folded.weight.reshape({out, height_, width_}), folded.bias, 1, width_ / 2);
    return torch::amax(z.view({batch, rows, out, frames}), 1).relu_();
  }
  nn::Conv2d conv;
  nn::BatchNorm2d bn;

 private:
  std::int64_t height_, width_;
};
TORCH_MODULE(VerticalFilter);

// ... and a horizontal one (temporal patterns: a long 1-D kernel over the mean of the bands).
class HorizontalFilterImpl : public nn::Module {
 public:
  HorizontalFilterImpl(int out, std::int64_t length)
      : conv(register_module("conv", nn::Conv1d(nn::Conv1dOptions(1, out, length).padding(length / 2)))),
        bn(register_module("bn", nn::BatchNorm1d(out))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (!runs_folded(*this)) return torch::relu(bn(conv(x.mean(2))));
    const FoldedConv folded = fold_batch_norm(conv->weight, conv->bias, bn);
    return torch::conv1d(x.mean(2), folded.weight, folded.bias, 1, conv->weight.size(2) / 2).relu_();
  }
  nn::Conv1d conv;
  nn::BatchNorm1d bn;
};
TORCH_MODULE(HorizontalFilter);

// conv1d 7 (same padding) → BatchNorm → ReLU: Musicnn's back-end block (its max-pool is of size 1).
class BackEndBlockImpl : public nn::Module {
 public:
  BackEndBlockImpl(int in, int out)
      : conv(register_module("conv", nn::Conv1d(nn::Conv1dOptions(in, out, 7).padding(3)))),
        bn(register_module("bn", nn::BatchNorm1d(out))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (!runs_folded(*this)) return torch::relu(bn(conv(x)));
    const FoldedConv folded = fold_batch_norm(conv->weight, conv->bias, bn);
    return torch::conv1d(x, folded.weight, folded.bias, 1, 3).relu_();
  }
  nn::Conv1d conv;
  nn::BatchNorm1d bn;
};
TORCH_MODULE(BackEndBlock);

class Musicnn : public TaggingNetwork {
 public:
  // backend 64 and dense 200 for the MagnaTagATune and MTG-Jamendo weights (512 and 500 for the MSD's).
  // With `pooled`, the head reads the pooled features and the dense layer is left out.
  Musicnn(std::size_t rows, std::size_t classes, double dropout, int backend, int dense, bool pooled)
      : TaggingNetwork("dense2") {
    require_rows("musicnn", rows, 96);
    layers = register_module("layers", nn::ModuleList());
    // Kernel heights int(0.7 * 96) and int(0.4 * 96), as the authors computed them.
    layers->push_back(VerticalFilter(204, 67, 7));
    layers->push_back(VerticalFilter(204, 38, 7));
    for (std::int64_t length : {129, 65, 33}) layers->push_back(HorizontalFilter(51, length));
    constexpr int kFrontChannels = 2 * 204 + 3 * 51;  // 561
    layer1 = register_module("layer1", BackEndBlock(kFrontChannels, backend));
    layer2 = register_module("layer2", BackEndBlock(backend, backend));
    layer3 = register_module("layer3", BackEndBlock(backend, backend));
    const int pooled_size = 2 * (kFrontChannels + 3 * backend);
    if (!pooled) {
      dense1 = register_module("dense1", nn::Linear(pooled_size, dense));
      bn = register_module("bn", nn::BatchNorm1d(dense));
    }
    const int pre_head = pooled ? pooled_size : dense;
    drop = register_module("drop", nn::Dropout(dropout));
    dense2 = register_module("dense2", nn::Linear(pre_head, static_cast<std::int64_t>(classes)));
    embedding_size_ = static_cast<std::size_t>(pre_head);
  }
  torch::Tensor features(const torch::Tensor& input) override {
    return window_by_window(input, [this](const torch::Tensor& windows) {
      const torch::Tensor x = spec_bn(windows);
      std::vector<torch::Tensor> front;
      for (const auto& layer : *layers) front.push_back(forward_front(layer, x));
      const torch::Tensor out = torch::cat(front, 1);
      const torch::Tensor res1 = layer1(out);
      const torch::Tensor res2 = layer2(res1) + res1;
      const torch::Tensor res3 = layer3(res2) + res2;
      const torch::Tensor all = torch::cat({out, res1, res2, res3}, 1);
      const torch::Tensor pooled = torch::cat({std::get<0>(all.max(2)), all.mean(2)}, 1);
      return dense1 ? torch::relu(bn(dense1(pooled))) : pooled;
    });
  }
  torch::Tensor classify(const torch::Tensor& features) override { return dense2(drop(features)); }
  // dense1 and its BatchNorm are one block ("dense"), the pre-head layer.
  std::string block_of(const std::string& name) const override {
    const std::string block = TaggingNetwork::block_of(name);
    return block == "dense1" || block == "bn" ? "dense" : block;
  }
  void freeze_statistics(const std::string& block) override {
    if (block == "dense" && bn)
      bn->eval();
    else
      Network::freeze_statistics(block);
  }

  nn::ModuleList layers{nullptr};
  BackEndBlock layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  nn::Linear dense1{nullptr};
  nn::BatchNorm1d bn{nullptr};
  nn::Dropout drop{nullptr};
  nn::Linear dense2{nullptr};

 private:
  static torch::Tensor forward_front(const std::shared_ptr<nn::Module>& layer, const torch::Tensor& x) {
    if (auto* vertical = layer->as<VerticalFilterImpl>()) return vertical->forward(x);
    return layer->as<HorizontalFilterImpl>()->forward(x);
  }
};

}  // namespace

std::shared_ptr<Network> make_tagging_network(const NetworkSettings& settings, std::size_t rows,
                                              std::size_t frames, std::size_t classes) {
  const bool own_pre_head = settings.pre_head.empty() || settings.pre_head == "dense";
  if (settings.name == "musicnn") {
    if (!own_pre_head && settings.pre_head != "pooled")
      throw ModelError("musicnn's pre-head layer is dense or pooled, not '" + settings.pre_head + "'");
    const int backend = settings.width > 0 ? settings.width : 64;
    return std::make_shared<Musicnn>(rows, classes, settings.dropout, backend, backend >= 512 ? 500 : 200,
                                     !own_pre_head);
  }
  if ((settings.name == "fcn" || settings.name == "crnn") && !own_pre_head)
    throw ModelError(settings.name + " has one pre-head layer (its last block's output); only musicnn has a "
                                     "pooled one");
  if (settings.name == "fcn") return std::make_shared<Fcn>(rows, frames, classes, settings.dropout);
  if (settings.name == "crnn") return std::make_shared<Crnn>(rows, frames, classes, settings.dropout);
  return nullptr;
}

}  // namespace tunelens::model
