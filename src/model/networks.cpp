#include "model/networks.h"

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/fused.h"
#include "model/network_names.h"

namespace tunelens::model {
namespace {

namespace nn = torch::nn;

// --- the original study's networks (Keras): Glorot-uniform weights, zero biases, and Keras's BatchNormalization
// epsilon 1e-3. Not Keras's moving-average momentum 0.99 (PyTorch 0.01): with the few hundred batches an epoch of a
// small corpus has, such slow averages still describe the untrained network when validation runs, and a network
// that fits its training windows predicts one class on every other window (seen on the 10 x 100 x 30 s corpus:
// validation accuracy 0.10 for 11 epochs). PyTorch's momentum 0.1 follows the training within an epoch.
constexpr double kKerasEpsilon = 1e-3;
constexpr double kKerasMomentum = 0.1;

nn::Conv2d keras_conv(int in, int out, int kernel, int stride) {
  nn::Conv2d conv(nn::Conv2dOptions(in, out, kernel).stride(stride));
  torch::NoGradGuard no_grad;
  nn::init::xavier_uniform_(conv->weight);
  nn::init::zeros_(conv->bias);
  return conv;
}

nn::Linear keras_dense(int in, int out) {
  nn::Linear dense(in, out);
  torch::NoGradGuard no_grad;
  nn::init::xavier_uniform_(dense->weight);
  nn::init::zeros_(dense->bias);
  return dense;
}

nn::BatchNorm2d keras_batchnorm2d(int channels) {
  return nn::BatchNorm2d(nn::BatchNormOptions(channels).eps(kKerasEpsilon).momentum(kKerasMomentum));
}

// conv (valid padding) → ReLU → BatchNorm → max-pool 2: one block of convpool. On the CPU the whole block runs as
// one fused operation (model/fused.h) that never stores the full-resolution activations; elsewhere it is the
// plain sequence of layers.
class ConvReluNormPoolImpl : public nn::Module {
 public:
  ConvReluNormPoolImpl(int in, int out, int kernel, int stride)
      : conv(register_module("conv", keras_conv(in, out, kernel, stride))),
        bn(register_module("bn", keras_batchnorm2d(out))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (fused_block_applies(x, conv)) return conv_relu_norm_pool(x, conv, bn, is_training());
    return torch::max_pool2d(bn->forward(torch::relu(conv->forward(x))), 2);
  }
  nn::Conv2d conv;
  nn::BatchNorm2d bn;
};
TORCH_MODULE(ConvReluNormPool);

// Two convolutions with ReLU, then BatchNorm and max-pool 2: one block of convconvpool.
class ConvConvNormPoolImpl : public nn::Module {
 public:
  ConvConvNormPoolImpl(int in, int out, int kernel, int stride)
      : conv1(register_module("conv1", keras_conv(in, out, kernel, stride))),
        conv2(register_module("conv2", keras_conv(out, out, kernel, stride))),
        bn(register_module("bn", keras_batchnorm2d(out))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::max_pool2d(bn->forward(torch::relu(conv2->forward(torch::relu(conv1->forward(x))))), 2);
  }
  nn::Conv2d conv1, conv2;
  nn::BatchNorm2d bn;
};
TORCH_MODULE(ConvConvNormPool);

// Dense → BatchNorm → ReLU: the original's penultimate layer.
class DenseImpl : public nn::Module {
 public:
  DenseImpl(int in, int out, bool keras)
      : linear(register_module("linear", keras ? keras_dense(in, out) : nn::Linear(in, out))),
        bn(register_module("bn", nn::BatchNorm1d(keras ? nn::BatchNormOptions(out).eps(kKerasEpsilon).momentum(kKerasMomentum)
                                                       : nn::BatchNormOptions(out)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(bn->forward(linear->forward(x))); }
  nn::Linear linear;
  nn::BatchNorm1d bn;
};
TORCH_MODULE(Dense);

std::int64_t conv_size(std::int64_t n, std::int64_t kernel, std::int64_t stride) {
  return n < kernel ? 0 : (n - kernel) / stride + 1;
}

// Output size of an input dimension through the blocks (kernel, stride, convolutions per block), each followed by
// a max-pool 2.
std::int64_t blocks_size(std::int64_t n, const std::vector<std::array<int, 3>>& blocks) {
  for (const auto& [kernel, stride, convs] : blocks) {
    for (int c = 0; c < convs; ++c) n = conv_size(n, kernel, stride);
    n /= 2;
  }
  return n;
}

void check_input(const std::string& network, std::int64_t out_rows, std::int64_t out_frames, std::size_t rows,
                 std::size_t frames, const std::vector<std::array<int, 3>>& blocks) {
  if (out_rows > 0 && out_frames > 0) return;
  std::int64_t least = 1;
  while (blocks_size(least, blocks) < 1) ++least;
  throw ModelError(fmt::format("{} needs inputs of at least {} x {} (mel bands x frames), not {} x {}", network,
                               least, least, rows, frames));
}

class ConvPool : public Network {
 public:
  ConvPool(std::size_t rows, std::size_t frames, std::size_t classes, double dropout) {
    const std::vector<std::array<int, 3>> shape = {{4, 2, 1}, {3, 2, 1}, {2, 1, 1}, {2, 1, 1}};
    const std::int64_t out_rows = blocks_size(static_cast<std::int64_t>(rows), shape);
    const std::int64_t out_frames = blocks_size(static_cast<std::int64_t>(frames), shape);
    check_input("convpool", out_rows, out_frames, rows, frames, shape);
    block1 = register_module("block1", ConvReluNormPool(1, 32, 4, 2));
    block2 = register_module("block2", ConvReluNormPool(32, 32, 3, 2));
    block3 = register_module("block3", ConvReluNormPool(32, 64, 2, 1));
    block4 = register_module("block4", ConvReluNormPool(64, 128, 2, 1));
    drop1 = register_module("drop1", nn::Dropout(dropout));
    dense = register_module("dense", Dense(static_cast<int>(128 * out_rows * out_frames), 1024, true));
    drop2 = register_module("drop2", nn::Dropout(dropout));
    head = register_module("head", keras_dense(1024, static_cast<int>(classes)));
    embedding_size_ = 1024;
  }
  torch::Tensor features(const torch::Tensor& input) override {
    torch::Tensor x = block4(block3(block2(block1(input))));
    return dense(torch::flatten(drop1(x), 1));
  }
  torch::Tensor classify(const torch::Tensor& features) override { return head(drop2(features)); }

  ConvReluNormPool block1{nullptr}, block2{nullptr}, block3{nullptr}, block4{nullptr};
  nn::Dropout drop1{nullptr}, drop2{nullptr};
  Dense dense{nullptr};
  nn::Linear head{nullptr};
};

class ConvConvPool : public Network {
 public:
  ConvConvPool(std::size_t rows, std::size_t frames, std::size_t classes, double dropout) {
    const std::vector<std::array<int, 3>> shape = {{2, 2, 2}, {2, 1, 2}};
    const std::int64_t out_rows = blocks_size(static_cast<std::int64_t>(rows), shape);
    const std::int64_t out_frames = blocks_size(static_cast<std::int64_t>(frames), shape);
    check_input("convconvpool", out_rows, out_frames, rows, frames, shape);
    block1 = register_module("block1", ConvConvNormPool(1, 32, 2, 2));
    block2 = register_module("block2", ConvConvNormPool(32, 64, 2, 1));
    drop1 = register_module("drop1", nn::Dropout(dropout));
    dense = register_module("dense", Dense(static_cast<int>(64 * out_rows * out_frames), 1024, true));
    drop2 = register_module("drop2", nn::Dropout(dropout));
    head = register_module("head", keras_dense(1024, static_cast<int>(classes)));
    embedding_size_ = 1024;
  }
  torch::Tensor features(const torch::Tensor& input) override {
    return dense(torch::flatten(drop1(block2(block1(input))), 1));
  }
  torch::Tensor classify(const torch::Tensor& features) override { return head(drop2(features)); }

  ConvConvNormPool block1{nullptr}, block2{nullptr};
  nn::Dropout drop1{nullptr}, drop2{nullptr};
  Dense dense{nullptr};
  nn::Linear head{nullptr};
};

// --- residual networks (He et al. 2016), on one-channel spectrograms.
nn::Conv2d conv3x3(int in, int out, int stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}
nn::Conv2d conv1x1(int in, int out, int stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

class BasicBlockImpl : public nn::Module {
 public:
  static constexpr int kExpansion = 1;
  BasicBlockImpl(int in, int out, int stride)
      : conv1(register_module("conv1", conv3x3(in, out, stride))), bn1(register_module("bn1", nn::BatchNorm2d(out))),
        conv2(register_module("conv2", conv3x3(out, out, 1))), bn2(register_module("bn2", nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      down_conv = register_module("down_conv", conv1x1(in, out, stride));
      down_bn = register_module("down_bn", nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = bn2(conv2(torch::relu(bn1(conv1(x)))));
    return torch::relu(y + (down_conv ? down_bn(down_conv(x)) : x));
  }
  nn::Conv2d conv1, down_conv{nullptr};
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2, down_bn{nullptr};
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public nn::Module {
 public:
  static constexpr int kExpansion = 4;
  BottleneckImpl(int in, int width, int stride)
      : conv1(register_module("conv1", conv1x1(in, width, 1))), bn1(register_module("bn1", nn::BatchNorm2d(width))),
        conv2(register_module("conv2", conv3x3(width, width, stride))),
        bn2(register_module("bn2", nn::BatchNorm2d(width))),
        conv3(register_module("conv3", conv1x1(width, width * kExpansion, 1))),
        bn3(register_module("bn3", nn::BatchNorm2d(width * kExpansion))) {
    if (stride != 1 || in != width * kExpansion) {
      down_conv = register_module("down_conv", conv1x1(in, width * kExpansion, stride));
      down_bn = register_module("down_bn", nn::BatchNorm2d(width * kExpansion));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = torch::relu(bn2(conv2(y)));
    y = bn3(conv3(y));
    return torch::relu(y + (down_conv ? down_bn(down_conv(x)) : x));
  }
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::Conv2d conv3;
  nn::BatchNorm2d bn3;
  nn::Conv2d down_conv{nullptr};
  nn::BatchNorm2d down_bn{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNet : public Network {
 public:
  ResNet(int depth, int width, std::size_t classes, double dropout) {
    std::array<int, 4> counts{};
    bool bottleneck = false;
    switch (depth) {
      case 10: counts = {1, 1, 1, 1}; break;
      case 18: counts = {2, 2, 2, 2}; break;
      case 34: counts = {3, 4, 6, 3}; break;
      case 50: counts = {3, 4, 6, 3}; bottleneck = true; break;
      default: throw ModelError(fmt::format("resnet depth must be 10, 18, 34 or 50, not {}", depth));
    }
    stem_conv = register_module("stem_conv", nn::Conv2d(nn::Conv2dOptions(1, width, 7).stride(2).padding(3).bias(false)));
    stem_bn = register_module("stem_bn", nn::BatchNorm2d(width));
    int in = width;
    for (int stage = 0; stage < 4; ++stage) {
      nn::Sequential layer;
      const int planes = width << stage;
      for (int b = 0; b < counts[static_cast<std::size_t>(stage)]; ++b) {
        const int stride = (b == 0 && stage > 0) ? 2 : 1;
        if (bottleneck) {
          layer->push_back(Bottleneck(in, planes, stride));
          in = planes * BottleneckImpl::kExpansion;
        } else {
          layer->push_back(BasicBlock(in, planes, stride));
          in = planes;
        }
      }
      layers.push_back(register_module("layer" + std::to_string(stage + 1), layer));
    }
    drop = register_module("drop", nn::Dropout(dropout));
    head = register_module("head", nn::Linear(in, static_cast<int>(classes)));
    embedding_size_ = static_cast<std::size_t>(in);
    for (auto& module : modules(false))
      if (auto* conv = module->as<nn::Conv2d>()) {
        torch::NoGradGuard no_grad;
        nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      }
  }
  torch::Tensor features(const torch::Tensor& input) override {
    torch::Tensor x = torch::max_pool2d(torch::relu(stem_bn(stem_conv(input))), 3, 2, 1);
    for (auto& layer : layers) x = layer->forward(x);
    return torch::flatten(torch::adaptive_avg_pool2d(x, {1, 1}), 1);
  }
  torch::Tensor classify(const torch::Tensor& features) override { return head(drop(features)); }
  std::string block_of(const std::string& name) const override {
    return name.starts_with("stem_") ? "stem" : Network::block_of(name);
  }

  nn::Conv2d stem_conv{nullptr};
  nn::BatchNorm2d stem_bn{nullptr};
  std::vector<nn::Sequential> layers;
  nn::Dropout drop{nullptr};
  nn::Linear head{nullptr};
};

// --- short-chunk CNN with residual blocks (Won et al. 2020): seven stride-2 residual blocks of 3 x 3 convolutions,
// global max-pooling, a dense layer, and the classifier.
class ResidualBlockImpl : public nn::Module {
 public:
  ResidualBlockImpl(int in, int out, int stride)
      : conv1(register_module("conv1", conv3x3(in, out, stride))), bn1(register_module("bn1", nn::BatchNorm2d(out))),
        conv2(register_module("conv2", conv3x3(out, out, 1))), bn2(register_module("bn2", nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      skip_conv = register_module("skip_conv", conv3x3(in, out, stride));
      skip_bn = register_module("skip_bn", nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = bn2(conv2(torch::relu(bn1(conv1(x)))));
    return torch::relu(y + (skip_conv ? skip_bn(skip_conv(x)) : x));
  }
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::Conv2d skip_conv{nullptr};
  nn::BatchNorm2d skip_bn{nullptr};
};
TORCH_MODULE(ResidualBlock);

class ShortChunk : public Network {
 public:
  ShortChunk(int width, std::size_t classes, double dropout) {
    input_bn = register_module("input_bn", nn::BatchNorm2d(1));
    const std::array<std::pair<int, int>, 7> channels = {
        {{1, width}, {width, width}, {width, 2 * width}, {2 * width, 2 * width}, {2 * width, 2 * width},
         {2 * width, 2 * width}, {2 * width, 4 * width}}};
    for (std::size_t i = 0; i < channels.size(); ++i)
      layers.push_back(register_module("layer" + std::to_string(i + 1),
                                       ResidualBlock(channels[i].first, channels[i].second, 2)));
    dense = register_module("dense", Dense(4 * width, 4 * width, false));
    drop = register_module("drop", nn::Dropout(dropout));
    head = register_module("head", nn::Linear(4 * width, static_cast<int>(classes)));
    embedding_size_ = static_cast<std::size_t>(4 * width);
  }
  torch::Tensor features(const torch::Tensor& input) override {
    torch::Tensor x = input_bn(input);
    for (auto& layer : layers) x = layer(x);
    return dense(x.amax({2, 3}));
  }
  torch::Tensor classify(const torch::Tensor& features) override { return head(drop(features)); }

  nn::BatchNorm2d input_bn{nullptr};
  std::vector<ResidualBlock> layers;
  Dense dense{nullptr};
  nn::Dropout drop{nullptr};
  nn::Linear head{nullptr};
};

// --- a new head on vectors a frozen backbone computed (train --backbone caches them): dropout, then linear. The
// input is [batch, 1, size, 1]; the layer is named "head" as every network's classifier.
class VectorHead : public Network {
 public:
  VectorHead(std::size_t inputs, std::size_t classes, double dropout) {
    drop = register_module("drop", nn::Dropout(dropout));
    head = register_module("head", nn::Linear(static_cast<int>(inputs), static_cast<int>(classes)));
    embedding_size_ = inputs;
  }
  torch::Tensor features(const torch::Tensor& input) override { return torch::flatten(input, 1); }
  torch::Tensor classify(const torch::Tensor& features) override { return head(drop(features)); }
  nn::Dropout drop{nullptr};
  nn::Linear head{nullptr};
};

// --- the baseline: softmax regression on standardised MFCC statistics (the input is already those statistics).
class MfccLinear : public Network {
 public:
  MfccLinear(std::size_t inputs, std::size_t classes) {
    head = register_module("head", nn::Linear(static_cast<int>(inputs), static_cast<int>(classes)));
    embedding_size_ = inputs;
  }
  torch::Tensor features(const torch::Tensor& input) override { return torch::flatten(input, 1); }
  torch::Tensor classify(const torch::Tensor& features) override { return head(features); }
  nn::Linear head{nullptr};
};

// --- a TorchScript feature extractor from PyTorch, with a new head.
class TorchScriptNetwork : public Network {
 public:
  TorchScriptNetwork(const std::string& archive, std::size_t rows, std::size_t frames, std::size_t classes,
                     double dropout) {
    try {
      std::istringstream in(archive);
      backbone_ = torch::jit::load(in);
    } catch (const std::exception& error) {
      throw ModelError(std::string("not a TorchScript archive: ") + first_line(error.what()));
    }
    for (const auto& parameter : backbone_.named_parameters(true)) parameter.value.requires_grad_(true);
    backbone_.eval();
    try {
      torch::NoGradGuard no_grad;
      const torch::Tensor out = features(torch::zeros({2, 1, static_cast<std::int64_t>(rows), static_cast<std::int64_t>(frames)}));
      embedding_size_ = static_cast<std::size_t>(out.size(1));
    } catch (const ModelError&) {
      throw;
    } catch (const std::exception& error) {
      throw ModelError(fmt::format("the TorchScript backbone fails on a [2, 1, {}, {}] input: {}", rows, frames,
                                   first_line(error.what())));
    }
    drop = register_module("drop", nn::Dropout(dropout));
    head = register_module("head", nn::Linear(static_cast<std::int64_t>(embedding_size_), static_cast<std::int64_t>(classes)));
  }
  torch::Tensor features(const torch::Tensor& input) override {
    torch::Tensor out = backbone_.forward({input}).toTensor();
    if (out.dim() > 2) out = torch::flatten(torch::adaptive_avg_pool2d(out.dim() == 4 ? out : out.unsqueeze(-1), {1, 1}), 1);
    if (out.dim() != 2) throw ModelError("the TorchScript backbone must return [batch, features]");
    return out;
  }
  torch::Tensor classify(const torch::Tensor& features) override { return head(drop(features)); }
  NamedTensors state() override {
    NamedTensors all;
    for (const auto& p : backbone_.named_parameters(true)) all.emplace_back("backbone." + p.name, p.value);
    for (const auto& b : backbone_.named_buffers(true)) all.emplace_back("backbone." + b.name, b.value);
    for (auto& entry : Network::state()) all.push_back(std::move(entry));
    return all;
  }
  NamedTensors trainable() override {
    NamedTensors all;
    for (const auto& p : backbone_.named_parameters(true)) all.emplace_back("backbone." + p.name, p.value);
    for (auto& entry : Network::trainable()) all.push_back(std::move(entry));
    return all;
  }
  std::string block_of(const std::string& name) const override {
    if (!name.starts_with("backbone.")) return Network::block_of(name);
    // backbone.<child>, or backbone.<child>.<n> for the numbered parts of a sequence
    const std::size_t first = name.find('.', 9);
    if (first == std::string::npos) return name;
    const std::size_t second = name.find('.', first + 1);
    const std::string part = name.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
    const bool numbered = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    return numbered && second != std::string::npos ? name.substr(0, second) : name.substr(0, first);
  }
  void set_training(bool on) override {
    train(on);
    backbone_.train(on);
  }
  using Network::to;
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking) override {
    Network::to(device, dtype, non_blocking);
    backbone_.to(device, dtype, non_blocking);
  }
  void to(torch::Dtype dtype, bool non_blocking) override {
    Network::to(dtype, non_blocking);
    backbone_.to(dtype, non_blocking);
  }
  void to(torch::Device device, bool non_blocking) override {
    Network::to(device, non_blocking);
    backbone_.to(device, non_blocking);
  }
  void freeze_statistics(const std::string& block) override {
    if (!block.starts_with("backbone.")) return Network::freeze_statistics(block);
    const std::string path = block.substr(9);
    for (const auto& child : backbone_.named_modules())
      if (child.name == path) {
        torch::jit::Module module = child.value;
        module.eval();
      }
  }

 private:
  static std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }
  torch::jit::Module backbone_;

 public:
  nn::Dropout drop{nullptr};
  nn::Linear head{nullptr};
};

}  // namespace

NamedTensors Network::state() {
  NamedTensors all;
  for (const auto& p : named_parameters(true)) all.emplace_back(p.key(), p.value());
  for (const auto& b : named_buffers(true)) all.emplace_back(b.key(), b.value());
  return all;
}

NamedTensors Network::trainable() {
  NamedTensors all;
  for (const auto& p : named_parameters(true)) all.emplace_back(p.key(), p.value());
  return all;
}

std::string Network::block_of(const std::string& name) const { return name.substr(0, name.find('.')); }

void Network::freeze_statistics(const std::string& block) {
  for (const auto& child : named_modules("", false))
    if (child.key() == block) child.value()->eval();
}

std::size_t default_window_frames(const NetworkSettings& settings) { return settings.name == "shortchunk" ? 128 : 1024; }

std::shared_ptr<Network> make_network(const NetworkSettings& settings, std::size_t rows, std::size_t frames,
                                      std::size_t classes, const std::string& torchscript) {
  if (classes < 2) throw ModelError("a classifier needs at least 2 classes");
  if (!(settings.dropout >= 0.0 && settings.dropout < 1.0))
    throw ModelError(fmt::format("dropout must be in [0, 1), not {}", settings.dropout));
  const std::string& name = settings.name;
  if (name == "convpool") return std::make_shared<ConvPool>(rows, frames, classes, settings.dropout);
  if (name == "convconvpool") return std::make_shared<ConvConvPool>(rows, frames, classes, settings.dropout);
  if (name == "resnet" || name == "shortchunk") {
    const int width = settings.width > 0 ? settings.width : (name == "resnet" ? 64 : 128);
    // train's range: a model file claiming more (4096 wide: 10 GB of weights) is damaged.
    if (width > 1024) throw ModelError(fmt::format("width {} is too large (1024 at most)", width));
    if (name == "resnet") return std::make_shared<ResNet>(settings.depth, width, classes, settings.dropout);
    return std::make_shared<ShortChunk>(width, classes, settings.dropout);
  }
  if (name == "mfcc-linear") return std::make_shared<MfccLinear>(rows * frames, classes);
  if (auto tagging = make_tagging_network(settings, rows, frames, classes)) return tagging;
  if (name == "vector-head") return std::make_shared<VectorHead>(rows * frames, classes, settings.dropout);
  if (name == "torchscript") {
    if (torchscript.empty()) throw ModelError("the torchscript network needs a backbone (--backbone FILE.pt)");
    return std::make_shared<TorchScriptNetwork>(torchscript, rows, frames, classes, settings.dropout);
  }
  throw ModelError("unknown network '" + name + "' (known: " + trainable_network_list() + ")");
}

std::vector<std::string> copy_matching(Network& network, const NamedTensors& source) {
  std::map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, tensor] : source) by_name[name] = &tensor;
  std::vector<std::string> copied;
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : network.state()) {
    const auto found = by_name.find(name);
    if (found == by_name.end() || found->second->sizes() != tensor.sizes() ||
        found->second->scalar_type() != tensor.scalar_type())
      continue;
    tensor.copy_(*found->second);
    copied.push_back(name);
  }
  return copied;
}

std::size_t parameter_count(Network& network) {
  std::size_t count = 0;
  for (const auto& [name, tensor] : network.trainable()) count += static_cast<std::size_t>(tensor.numel());
  return count;
}

void place(Network& network, torch::Device device) {
  network.to(device);
  if (device.is_cpu()) set_memory_format(network, torch::MemoryFormat::ChannelsLast);
  // Subnormal weights (see flush_subnormals) in any model file, a head trained on a shipped network's included.
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : network.state()) flush_subnormals(tensor);
}

void set_memory_format(Network& network, torch::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : network.state())
    if (tensor.dim() == 4) tensor.set_data(tensor.contiguous(format));
}

}  // namespace tunelens::model

namespace tunelens::model {
namespace {

enum class DtypeCode : std::uint8_t { Float32 = 0, Float64 = 1, Int64 = 2, Float16 = 3, Int32 = 4, UInt8 = 5, Bool = 6 };

std::optional<DtypeCode> dtype_code(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return DtypeCode::Float32;
    case torch::kFloat64: return DtypeCode::Float64;
    case torch::kInt64: return DtypeCode::Int64;
    case torch::kFloat16: return DtypeCode::Float16;
    case torch::kInt32: return DtypeCode::Int32;
    case torch::kUInt8: return DtypeCode::UInt8;
    case torch::kBool: return DtypeCode::Bool;
    default: return std::nullopt;
  }
}

std::optional<torch::ScalarType> scalar_type(std::uint8_t code) {
  switch (static_cast<DtypeCode>(code)) {
    case DtypeCode::Float32: return torch::kFloat32;
    case DtypeCode::Float64: return torch::kFloat64;
    case DtypeCode::Int64: return torch::kInt64;
    case DtypeCode::Float16: return torch::kFloat16;
    case DtypeCode::Int32: return torch::kInt32;
    case DtypeCode::UInt8: return torch::kUInt8;
    case DtypeCode::Bool: return torch::kBool;
  }
  return std::nullopt;
}

void put(std::string& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

class ByteReader {
 public:
  explicit ByteReader(const std::string& bytes) : bytes_(bytes) {}
  std::uint64_t number(int width) {
    need(static_cast<std::size_t>(width));
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes_[at_ + static_cast<std::size_t>(i)]);
    at_ += static_cast<std::size_t>(width);
    return v;
  }
  const char* take(std::size_t count) {
    need(count);
    const char* p = bytes_.data() + at_;
    at_ += count;
    return p;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  void need(std::size_t count) const {
    if (count > bytes_.size() - at_) throw ModelError("damaged weights: they end in the middle of a tensor");
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace

std::string encode_tensors(const NamedTensors& tensors) {
  static_assert(std::endian::native == std::endian::little, "model files are little-endian");
  std::string out;
  put(out, tensors.size(), 4);
  for (const auto& [name, tensor] : tensors) {
    const auto code = dtype_code(tensor.scalar_type());
    if (!code) throw ModelError("tensor " + name + " has a type model files do not store");
    const torch::Tensor values = tensor.detach().to(torch::kCPU).contiguous();
    put(out, name.size(), 4);
    out += name;
    put(out, static_cast<std::uint8_t>(*code), 1);
    put(out, static_cast<std::uint64_t>(values.dim()), 4);
    for (const auto size : values.sizes()) put(out, static_cast<std::uint64_t>(size), 8);
    const std::size_t bytes = values.numel() * values.element_size();
    put(out, bytes, 8);
    out.append(static_cast<const char*>(values.data_ptr()), bytes);
  }
  return out;
}

NamedTensors decode_tensors(const std::string& bytes) {
  ByteReader in(bytes);
  const auto count = in.number(4);
  NamedTensors tensors;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto name_size = in.number(4);
    if (name_size > 4096) throw ModelError("damaged weights: a tensor name is too long");
    std::string name(in.take(name_size), name_size);
    const auto type = scalar_type(static_cast<std::uint8_t>(in.number(1)));
    if (!type) throw ModelError("damaged weights: tensor " + name + " has an unknown type");
    const auto dims = in.number(4);
    if (dims > 8) throw ModelError("damaged weights: tensor " + name + " has too many dimensions");
    // The shape is checked against the bytes that follow before a tensor is made: a damaged file may claim any
    // size (libtorch's own error, or an allocation of exabytes, otherwise).
    std::vector<std::int64_t> shape;
    std::uint64_t elements = 1;
    bool too_large = false;
    for (std::uint64_t d = 0; d < dims; ++d) {
      const std::uint64_t extent = in.number(8);
      too_large = too_large || extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
                  (extent != 0 && elements > std::numeric_limits<std::uint64_t>::max() / extent);
      shape.push_back(static_cast<std::int64_t>(extent));
      elements *= extent;
    }
    const auto size = in.number(8);
    const std::uint64_t item = c10::elementSize(*type);
    if (too_large || elements > std::numeric_limits<std::uint64_t>::max() / item || size != elements * item)
      throw ModelError("damaged weights: tensor " + name + " has " + std::to_string(size) + " bytes for its shape");
    const char* values = in.take(size);  // fails when the file holds fewer bytes, before anything is allocated
    torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(*type));
    if (size > 0) std::memcpy(tensor.data_ptr(), values, size);
    tensors.emplace_back(std::move(name), std::move(tensor));
  }
  if (!in.done()) throw ModelError("damaged weights: bytes after the last tensor");
  return tensors;
}

void load_state(Network& network, const NamedTensors& source) {
  std::map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, tensor] : source) by_name[name] = &tensor;
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : network.state()) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) throw ModelError("the weights lack " + name + ": not this network's weights");
    if (found->second->sizes() != tensor.sizes())
      throw ModelError(fmt::format("the weights of {} have shape {}, the network {}", name,
                                   fmt::join(found->second->sizes(), "x"), fmt::join(tensor.sizes(), "x")));
    tensor.copy_(*found->second);
  }
}

torch::Device parse_device(const std::string& name) {
  std::optional<torch::Device> device;
  try {
    device = torch::Device(name);
  } catch (const std::exception&) {
    throw ModelError("unknown device '" + name + "' (cpu, cuda or cuda:N)");
  }
  if (device->is_cpu()) return *device;
  if (!device->is_cuda()) throw ModelError("unsupported device '" + name + "' (cpu, cuda or cuda:N)");
  if (!torch::cuda::is_available())
    throw ModelError("device '" + name + "': CUDA is not available (this libtorch is built without it, or no GPU)");
  if (device->has_index() && device->index() >= static_cast<int>(torch::cuda::device_count()))
    throw ModelError(fmt::format("device '{}': there are {} CUDA devices", name, torch::cuda::device_count()));
  return *device;
}

void prepare_process_for_inference() {
  static std::once_flag once;
  std::call_once(once, [] {
    // glibc maps large blocks afresh and hands freed memory above its trim threshold back to the system, so a
    // window's activations (up to 22 MB) were new pages the kernel zeroes at every window: a quarter of
    // Musicnn's time. Blocks up to 32 MB (glibc's largest threshold) come from the heap instead, and up to
    // 256 MB of freed memory stays for the next window.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    // OpenBLAS (libtorch's BLAS on Debian) runs a thread pool of its own whose threads spin between calls: a
    // second core busy while tunelens runs on one. The networks' dense layers are too small to gain from it.
    using SetThreads = void (*)(int);
    if (const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
      set(1);
  });
}

int set_threads(int threads) {
  const int count = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (torch::get_num_threads() != count) torch::set_num_threads(count);
  // Subnormal activations are as slow as subnormal weights (see place); threads libtorch starts later inherit the
  // flush-to-zero mode of this one.
  at::globalContext().setFlushDenormal(true);
  return count;
}

}  // namespace tunelens::model
