// Training and inference speed of the original study's convpool network: a naive libtorch loop against tunelens's
// own training step and inference path, side by side in one run.
//
//   bench_model [rounds] [threads]     (defaults: 5 rounds, 2 threads)
//
// Both run convpool (4 x conv-ReLU-BatchNorm-maxpool, dense 1024, dropout 0.5, 8 classes) on batches of 20 windows
// of 1 x 128 x 1024 held in memory, on the same threads:
//   naive     the layers as listed in a torch::nn::Sequential, default memory layout; a training step is
//             zero_grad, forward, cross_entropy, backward, Adam step; inference is eval() under NoGradGuard.
//   tunelens  make_network("convpool") placed as tunelens places it (channels-last on the CPU), Trainer::step (what
//             `tunelens train` runs per batch), and infer() (what Model::predict runs), at batch 20 and at 64.
// Each figure is the fastest of the rounds (the least disturbed by other work on the machine), the rounds
// interleaved so that noise hits all alike. Before timing, the two inference paths are checked to give the same
// probabilities from the same weights.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <ATen/Parallel.h>

#include "model/networks.h"
#include "model/training.h"

namespace {

namespace nn = torch::nn;
using tunelens::NetworkSettings;

constexpr std::int64_t kBatch = 20, kRows = 128, kFrames = 1024, kClasses = 8;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// convpool exactly as the study lists it, layer by layer.
nn::Sequential naive_convpool() {
  nn::Sequential net;
  auto block = [&](int in, int out, int kernel, int stride) {
    net->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride)));
    net->push_back(nn::ReLU());
    net->push_back(nn::BatchNorm2d(nn::BatchNormOptions(out).eps(1e-3).momentum(0.01)));
    net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
  };
  block(1, 32, 4, 2);
  block(32, 32, 3, 2);
  block(32, 64, 2, 1);
  block(64, 128, 2, 1);
  net->push_back(nn::Dropout(0.5));
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(1920, 1024));
  net->push_back(nn::BatchNorm1d(nn::BatchNormOptions(1024).eps(1e-3).momentum(0.01)));
  net->push_back(nn::ReLU());
  net->push_back(nn::Dropout(0.5));
  net->push_back(nn::Linear(1024, kClasses));
  return net;
}

struct Timing {
  double best = 1e30;
  void add(double seconds) { best = std::min(best, seconds); }
};

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int steps = 4;  // training steps (batches) per round and path
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  const torch::Tensor x = torch::rand({kBatch, 1, kRows, kFrames});
  const torch::Tensor y = torch::randint(0, kClasses, {kBatch}, torch::kInt64);
  const torch::Tensor x64 = torch::rand({64, 1, kRows, kFrames});

  nn::Sequential naive = naive_convpool();
  torch::optim::Adam naive_adam(naive->parameters(), torch::optim::AdamOptions(1e-3));
  NetworkSettings settings;
  settings.name = "convpool";
  auto network = tunelens::model::make_network(settings, kRows, kFrames, kClasses);
  tunelens::model::place(*network, torch::kCPU);
  std::vector<torch::Tensor> parameters;
  for (auto& [name, tensor] : network->trainable()) parameters.push_back(tensor);
  tunelens::model::Trainer trainer(network, parameters, 1e-3, 1e-4, torch::Tensor(), torch::kCPU);

  // Same weights, same answer: after two training steps (so that the BatchNorm statistics are not the initial
  // ones), tunelens's weights go into the naive network (the same layers in the same order) and both classify x.
  network->set_training(true);
  for (int i = 0; i < 2; ++i) trainer.step(x, y);
  {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> ours;
    for (const auto& p : network->named_parameters()) ours.push_back(p.value());
    for (const auto& b : network->named_buffers()) ours.push_back(b.value());
    std::vector<torch::Tensor> theirs = naive->parameters();
    for (const auto& b : naive->buffers()) theirs.push_back(b);
    for (std::size_t i = 0; i < theirs.size(); ++i) theirs[i].copy_(ours[i]);
  }
  network->set_training(false);
  naive->eval();
  {
    const torch::Tensor ours = tunelens::model::infer(*network, x).probabilities;
    torch::NoGradGuard no_grad;
    const torch::Tensor theirs = torch::softmax(naive->forward(x), 1);
    std::printf("same weights, same inputs: largest difference of the probabilities %.2e\n",
                (ours - theirs).abs().max().item<double>());
  }

  Timing naive_train, ours_train, naive_infer, ours_infer, ours_infer64;
  for (int round = 0; round < rounds + 1; ++round) {  // round 0 warms up
    const bool timed = round > 0;
    double t0 = now_seconds();
    naive->train();
    for (int s = 0; s < steps; ++s) {
      naive_adam.zero_grad();
      const torch::Tensor loss = torch::nn::functional::cross_entropy(naive->forward(x), y);
      loss.backward();
      naive_adam.step();
    }
    if (timed) naive_train.add((now_seconds() - t0) / steps);

    t0 = now_seconds();
    network->set_training(true);
    for (int s = 0; s < steps; ++s) trainer.step(x, y);
    if (timed) ours_train.add((now_seconds() - t0) / steps);

    naive->eval();
    t0 = now_seconds();
    {
      torch::NoGradGuard no_grad;
      for (int s = 0; s < steps; ++s) naive->forward(x);
    }
    if (timed) naive_infer.add((now_seconds() - t0) / steps);

    network->set_training(false);
    t0 = now_seconds();
    for (int s = 0; s < steps; ++s) tunelens::model::infer(*network, x);
    if (timed) ours_infer.add((now_seconds() - t0) / steps);

    t0 = now_seconds();
    tunelens::model::infer(*network, x64);
    if (timed) ours_infer64.add((now_seconds() - t0) * kBatch / 64.0);
  }

  const auto rate = [](const Timing& t) { return static_cast<double>(kBatch) / t.best; };
  std::printf("convpool, batches of %lld windows of 1 x %lld x %lld, %d threads (libtorch %s, MKL-DNN %s), best of %d "
              "rounds\n",
              static_cast<long long>(kBatch), static_cast<long long>(kRows), static_cast<long long>(kFrames), threads,
              TORCH_VERSION, at::hasMKLDNN() ? "on" : "off", rounds);
  std::printf("  %-34s %10s %10s %8s\n", "", "naive", "tunelens", "ratio");
  std::printf("  %-34s %10.1f %10.1f %7.2fx\n", "training, windows/s", rate(naive_train), rate(ours_train),
              rate(ours_train) / rate(naive_train));
  std::printf("  %-34s %10.1f %10.1f %7.2fx\n", "inference, windows/s (batch 20)", rate(naive_infer),
              rate(ours_infer), rate(ours_infer) / rate(naive_infer));
  std::printf("  %-34s %10s %10.1f %7.2fx\n", "inference, windows/s (batch 64)", "", rate(ours_infer64),
              rate(ours_infer64) / rate(naive_infer));
  return 0;
}
