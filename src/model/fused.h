// Fused CPU kernels for the first layer of networks on one-channel spectrograms (internal: includes torch):
// the original study's conv → ReLU → BatchNorm → max-pool 2, and the inference of the music-tagging networks'
// conv → BatchNorm → ReLU → max-pool (conv_pool_relu).
//
// The plain sequence of layers writes and reads the full-resolution activations [batch, 32, 63, 511] (80 MB
// for a batch of 20 windows of 128 x 1024) five times forward and as often backward; the fused kernel
// computes the convolution row by row in cache, keeps only the BatchNorm sums and the pooled result, and
// recomputes what the backward pass needs, so the big tensor never exists. Same arithmetic as the layers (to
// float rounding), same BatchNorm semantics (batch statistics and running averages in training, running
// statistics in evaluation).
#pragma once

#include <torch/torch.h>

#include <array>

namespace tunelens::model {

// Whether conv_relu_norm_pool can run the block for this input: CPU float32, one input channel, no padding,
// dilation or groups.
bool fused_block_applies(const torch::Tensor& input, const torch::nn::Conv2d& conv);

// max_pool2d(bn(relu(conv(input))), 2), with autograd, as one fused operation. In training mode the BatchNorm
// uses the batch's statistics and updates its running averages, as torch::nn::BatchNorm2d does.
torch::Tensor conv_relu_norm_pool(const torch::Tensor& input, torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn,
                                  bool training);

// Inference of conv → max-pool → ReLU on one-channel input: the first block of FCN and CRNN, its BatchNorm
// folded into `weight` and `bias` [channels, 1, kh, kw] (odd kernel sizes, zero padding kh / 2 and kw / 2,
// stride 1) and its ReLU moved after the pooling (they commute). The pooling's stride is its size and it
// drops a remainder, as max_pool2d does. Computed in cache, row by row: the full-resolution convolution
// output (the largest tensor of these networks, 89 MB for two 29 s windows) is never stored. Returns [batch,
// channels, rows / pooling[0], frames / pooling[1]] in channels-last layout. No autograd; the same on any
// number of threads.
bool conv_pool_relu_applies(const torch::Tensor& input, const torch::Tensor& weight,
                            std::array<std::int64_t, 2> pooling);
torch::Tensor conv_pool_relu(const torch::Tensor& input, const torch::Tensor& weight,
                             const torch::Tensor& bias, std::array<std::int64_t, 2> pooling);

}  // namespace tunelens::model
