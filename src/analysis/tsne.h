// t-SNE: a 2-D map of high-dimensional vectors in which near neighbours stay near (van der Maaten & Hinton 2008;
// Barnes–Hut approximation, van der Maaten 2014). Used to draw every song of a collection on one map.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace tunelens {

class TsneError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class TsneMethod {
  Auto,       // exact up to 1,000 points, Barnes–Hut above
  Exact,      // O(n²) per iteration: every pair
  BarnesHut,  // O(n log n): sparse neighbours for attraction, a quadtree for repulsion
};

struct TsneOptions {
  double perplexity = 30.0;          // effective number of neighbours; lowered to (n - 1) / 3 for small inputs
  int iterations = 1000;             // gradient steps
  double learning_rate = 0.0;        // 0: automatic, max(n / early_exaggeration / 4, 50) (scikit-learn's 'auto')
  double early_exaggeration = 12.0;  // attraction multiplier during the first exaggeration_iterations
  int exaggeration_iterations = 250;
  double theta = 0.5;                // Barnes–Hut accuracy: smaller is more exact and slower
  TsneMethod method = TsneMethod::Auto;
  std::uint64_t seed = 0;            // the same seed gives the same map
};

// Maps n points of `dim` dimensions (row-major) to 2-D. Deterministic for a seed. Throws TsneError for fewer than
// 2 points, a non-positive perplexity, or non-finite values.
std::vector<std::array<double, 2>> tsne(std::span<const float> points, std::size_t dim, const TsneOptions& options = {});

}  // namespace tunelens
