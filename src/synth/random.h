// Deterministic randomness for the synthesizer: the same seed gives the same numbers on every platform and in
// every thread, because nothing here uses the standard library's distributions (their results are
// implementation-defined). Every track, artist and album derives its own generator from (seed, label, index).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace tunelens::synth {

// SplitMix64 step: a well-mixed 64-bit value from a counter.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A child seed for one named thing: derive_seed(seed, "blues", 7) is the seed of the eighth blues track.
inline std::uint64_t derive_seed(std::uint64_t seed, std::string_view label, std::uint64_t index = 0) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;  // FNV-1a over the label
  for (const char c : label) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  std::uint64_t state = seed ^ (hash * 0x9E3779B97F4A7C15ULL);
  splitmix64(state);
  state ^= index * 0xD1B54A32D192ED03ULL;
  return splitmix64(state);
}

// xoshiro256** seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : state_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (both included).
  int range(int lo, int hi) {
    if (hi <= lo) return lo;
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(next() % span);
  }
  bool chance(double p) { return uniform() < p; }
  // Gaussian by Box-Muller.
  double normal(double mean = 0.0, double sd = 1.0) {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <typename T>
  const T& pick(std::span<const T> items) {
    return items[static_cast<std::size_t>(range(0, static_cast<int>(items.size()) - 1))];
  }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return pick(std::span<const T>(items));
  }
  // An index drawn with probability proportional to weights[i].
  std::size_t weighted(std::span<const double> weights) {
    double total = 0.0;
    for (const double w : weights) total += w;
    double x = uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.empty() ? 0 : weights.size() - 1;
  }
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i)
      std::swap(items[i - 1], items[static_cast<std::size_t>(range(0, static_cast<int>(i) - 1))]);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace tunelens::synth
