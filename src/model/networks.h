// The networks (internal: includes torch). Each takes [batch, 1, rows, frames] and gives logits [batch, classes];
// features() gives the penultimate layer, the embedding used for similarity.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "model/model.h"

namespace tunelens::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class Network : public torch::nn::Module {
 public:
  // The penultimate layer [batch, embedding_size()].
  virtual torch::Tensor features(const torch::Tensor& input) = 0;
  // Logits [batch, classes] from features() (dropout applies in training mode).
  virtual torch::Tensor classify(const torch::Tensor& features) = 0;
  torch::Tensor forward(const torch::Tensor& input) { return classify(features(input)); }

  // Every parameter and buffer under a stable name, in a fixed order (what the model file stores).
  virtual NamedTensors state();
  // Parameters only, in the same order and names.
  virtual NamedTensors trainable();
  // The block a parameter belongs to (freezing trains only the last blocks): its first name component.
  virtual std::string block_of(const std::string& name) const;
  // Switches training mode on or off, here and in every part (a TorchScript backbone included).
  virtual void set_training(bool on) { train(on); }
  // Puts one block (as block_of names it) in evaluation mode: a frozen block's BatchNorm keeps its statistics.
  virtual void freeze_statistics(const std::string& block);

  std::size_t embedding_size() const { return embedding_size_; }

 protected:
  std::size_t embedding_size_ = 0;
};

// Makes a network for inputs of [rows, frames] and `classes` classes. For "torchscript", `torchscript` is the
// backbone's archive (the bytes of a .pt file). Throws ModelError for an unknown network, bad settings, an input
// too small for the network, or a backbone that cannot be loaded or run.
std::shared_ptr<Network> make_network(const NetworkSettings& settings, std::size_t rows, std::size_t frames,
                                      std::size_t classes, const std::string& torchscript = {});

// The music-tagging networks (model/tagging_networks.cpp): fcn, crnn, musicnn; nullptr for another name.
std::shared_ptr<Network> make_tagging_network(const NetworkSettings& settings, std::size_t rows, std::size_t frames,
                                              std::size_t classes);
// Copies a PyTorch state dict into the network: each of the network's tensors must be there with its shape;
// the others must be front-end buffers ("spec.*"). Subnormal values become zeros (flush_subnormals). Throws
// ModelError naming `file` and the first tensor that differs.
void load_state_dict(Network& network, const std::map<std::string, torch::Tensor>& tensors,
                     const std::filesystem::path& file);
// In place: float32 values below the smallest normal float (1.2e-38) become zeros. Four of the eight shipped
// networks hold 77,000 to 242,000 of them (weights and statistics of channels that training left dead), and
// x86 processors multiply subnormal numbers on a slow path: those networks ran 8 to 44 times slower than
// their twins. As zeros they change no tag probability (PyTorch gives the same values to the last bit on a
// whole song).
void flush_subnormals(torch::Tensor& tensor);

// The window length a network is trained on by default.
std::size_t default_window_frames(const NetworkSettings& settings);

// Copies `source` tensors into the network's state where name and shape match; returns the names copied.
std::vector<std::string> copy_matching(Network& network, const NamedTensors& source);

// Number of trainable values.
std::size_t parameter_count(Network& network);

// Sets every 4-D parameter and buffer to the channels-last memory format (or back).
void set_memory_format(Network& network, torch::MemoryFormat format);
// Moves the network to the device it will run on, in the memory layout that runs fastest there: channels-last on
// the CPU (MKL-DNN convolutions, BatchNorm and pooling then skip their layout conversions).
void place(Network& network, torch::Device device);

// The weights section of a model file: for each tensor its name, dtype, shape and raw little-endian values (CPU,
// contiguous), in the network's state order.
std::string encode_tensors(const NamedTensors& tensors);
// Throws ModelError (without a file name) for bytes that are not an encoded tensor list.
NamedTensors decode_tensors(const std::string& bytes);
// Copies every tensor of `source` into the network; each of the network's tensors must be there with its shape.
// Throws ModelError naming the first one missing or different.
void load_state(Network& network, const NamedTensors& source);

// "cpu", "cuda" or "cuda:N". Throws ModelError for another name or a CUDA device this build or machine lacks.
torch::Device parse_device(const std::string& name);
// libtorch's intra-op threads: `threads`, or all cores for 0.
int set_threads(int threads);
// The process settings inference runs best with, made once (Model::load calls it): freed memory kept for
// reuse and OpenBLAS's own thread pool off (model/networks.cpp says why).
void prepare_process_for_inference();

}  // namespace tunelens::model
