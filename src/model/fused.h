// Fused CPU kernels for the original study's first layer, conv → ReLU → BatchNorm → max-pool 2 on a one-channel
// spectrogram (internal: includes torch).
//
// The plain sequence of layers writes and reads the full-resolution activations [batch, 32, 63, 511] (80 MB for a
// batch of 20 windows of 128 x 1024) five times forward and as often backward; the fused kernel computes the
// convolution row by row in cache, keeps only the BatchNorm sums and the pooled result, and recomputes what the
// backward pass needs, so the big tensor never exists. Same arithmetic as the layers (to float rounding), same
// BatchNorm semantics (batch statistics and running averages in training, running statistics in evaluation).
#pragma once

#include <torch/torch.h>

namespace tunelens::model {

// Whether conv_relu_norm_pool can run the block for this input: CPU float32, one input channel, no padding,
// dilation or groups.
bool fused_block_applies(const torch::Tensor& input, const torch::nn::Conv2d& conv);

// max_pool2d(bn(relu(conv(input))), 2), with autograd, as one fused operation. In training mode the BatchNorm
// uses the batch's statistics and updates its running averages, as torch::nn::BatchNorm2d does.
torch::Tensor conv_relu_norm_pool(const torch::Tensor& input, torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn,
                                  bool training);

}  // namespace tunelens::model
