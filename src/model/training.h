// The training step and the inference path (internal: includes torch), shared by train_model, Model and the
// benchmark, so that what the benchmark measures is what tunelens runs.
#pragma once

#include <memory>
#include <vector>

#include "model/networks.h"

namespace tunelens::model {

struct StepResult {
  double loss = 0.0;
  std::size_t correct = 0;  // samples whose argmax is their (dominant, under mixup) label
};

// One Adam step per batch: forward, class-weighted cross-entropy (soft targets under mixup), backward, update.
class Trainer {
 public:
  // `parameters`: what to train (the network's, less frozen ones). `class_weights`: one per class (undefined: 1).
  Trainer(std::shared_ptr<Network> network, const std::vector<torch::Tensor>& parameters, double learning_rate,
          double weight_decay, torch::Tensor class_weights, torch::Device device);

  // inputs [batch, 1, rows, frames] (any device; moved to the trainer's), labels [batch] int64; with mixup,
  // mixed_labels [batch] and the weight `mix` of labels.
  StepResult step(const torch::Tensor& inputs, const torch::Tensor& labels, const torch::Tensor& mixed_labels = {},
                  float mix = 1.0f);

  // The whole set at once: L-BFGS to convergence on the class-weighted cross-entropy plus l2 times the squared
  // weights (not the biases), from the current weights. For linear heads, where that is a convex problem and
  // every window fits in memory. The loss returned is the cross-entropy alone. Evaluation mode (no dropout): a
  // deterministic objective.
  StepResult solve(const torch::Tensor& inputs, const torch::Tensor& labels, double l2);

  void set_learning_rate(double rate);
  torch::optim::AdamW& optimizer() { return *optimizer_; }
  const torch::Tensor& class_weights() const { return class_weights_; }

 private:
  std::shared_ptr<Network> network_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  torch::Tensor class_weights_;
  torch::Device device_;
};

// train --backbone NAME (model/transfer.cpp): whether the backbone names a shipped network, and the training of a
// new head on it (the vectors of the frozen network cached in the catalog), or of its upper blocks too.
bool names_shipped_backbone(const TrainOptions& options);
TrainResult train_on_shipped_backbone(const TrainOptions& options, const TrainCallbacks& callbacks);

// Class-weighted cross-entropy of logits against labels, or against the mixup blend of two labels.
torch::Tensor weighted_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                     const torch::Tensor& mixed_labels, float mix, const torch::Tensor& weights);

// Evaluation-mode forward for inference: softmax and embedding of a batch [batch, 1, rows, frames].
struct Outputs {
  torch::Tensor probabilities;  // [batch, classes]
  torch::Tensor embeddings;     // [batch, embedding]
};
// Softmax over the classes, or with `multi_label` an independent sigmoid per class (tags).
Outputs infer(Network& network, const torch::Tensor& inputs, bool multi_label = false);

}  // namespace tunelens::model
