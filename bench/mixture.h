// Clustered test vectors for the index and service benchmarks: a mixture of Gaussian clusters.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace tunelens::bench {

// The mixture: `clusters` centres with N(0, 1) coordinates; a vector is a centre picked uniformly at random
// plus N(0, sigma_c²) noise in every dimension, sigma_c drawn once per cluster in [spread/2, spread].
// Generated in chunks seeded by (seed, stream, chunk), so the data do not depend on the thread count.
struct Mixture {
  std::size_t dim;
  std::vector<float> centres, sigmas;

  Mixture(std::size_t clusters, std::size_t dim_, float spread, std::uint32_t seed) : dim(dim_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> sigma(spread / 2, spread);
    centres.resize(clusters * dim);
    for (auto& x : centres) x = normal(rng);
    sigmas.resize(clusters);
    for (auto& s : sigmas) s = sigma(rng);
  }

  std::vector<float> draw(std::size_t n, std::uint32_t seed, std::uint32_t stream) const {
    std::vector<float> v(n * dim);
    constexpr std::size_t kChunk = 2048;
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (std::size_t c = t; c < chunks; c += threads) {
          std::seed_seq seq{seed, stream, static_cast<std::uint32_t>(c)};
          std::mt19937 rng(seq);
          std::normal_distribution<float> normal;
          std::uniform_int_distribution<std::size_t> pick(0, sigmas.size() - 1);
          for (std::size_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) {
            const std::size_t cluster = pick(rng);
            for (std::size_t k = 0; k < dim; ++k)
              v[i * dim + k] = centres[cluster * dim + k] + sigmas[cluster] * normal(rng);
          }
        }
      });
    for (auto& thread : pool) thread.join();
    return v;
  }
};

}  // namespace tunelens::bench
