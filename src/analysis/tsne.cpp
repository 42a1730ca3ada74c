#include "analysis/tsne.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <thread>

namespace tunelens {
namespace {

using Point = std::array<double, 2>;

// Runs body(i) for i in [0, n) over all cores. Each i is independent, so results do not depend on the thread count.
template <typename Body>
void parallel_for(std::size_t n, Body&& body) {
  const std::size_t threads = std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), (n + 63) / 64);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t i = t; i < n; i += threads) body(i);
    });
  for (auto& thread : pool) thread.join();
}

// Conditional probabilities p(j|i) ∝ exp(-beta d²(i,j)) over the given neighbours, with beta found by bisection so
// that the entropy equals log(perplexity).
void conditional_row(std::span<const double> distances, double perplexity, std::span<double> out) {
  const double target = std::log(perplexity);
  double beta = 1.0, low = 0.0, high = std::numeric_limits<double>::infinity();
  // Shift by the smallest distance so that exp() cannot underflow to all zeros.
  const double shift = *std::min_element(distances.begin(), distances.end());
  for (int step = 0; step < 200; ++step) {
    double sum = 0.0, weighted = 0.0;
    for (std::size_t j = 0; j < distances.size(); ++j) {
      out[j] = std::exp(-beta * (distances[j] - shift));
      sum += out[j];
      weighted += out[j] * (distances[j] - shift);
    }
    const double entropy = std::log(sum) + beta * weighted / sum;
    for (auto& p : out) p /= sum;
    if (std::abs(entropy - target) < 1e-5) break;
    if (entropy > target) {  // too flat: sharpen
      low = beta;
      beta = std::isinf(high) ? beta * 2 : (beta + high) / 2;
    } else {
      high = beta;
      beta = (beta + low) / 2;
    }
  }
}

double squared_distance(const float* a, const float* b, std::size_t dim) {
  double sum = 0.0;
  for (std::size_t k = 0; k < dim; ++k) {
    const double d = static_cast<double>(a[k]) - b[k];
    sum += d * d;
  }
  return sum;
}

// Symmetric joint probabilities in compressed rows: P_ij = (p(j|i) + p(i|j)) / 2n.
struct SparseP {
  std::vector<std::size_t> row_start;  // n + 1
  std::vector<std::size_t> column;
  std::vector<double> value;
};

SparseP joint_probabilities(std::span<const float> points, std::size_t n, std::size_t dim, double perplexity,
                            std::size_t neighbours) {
  // For each point, its nearest `neighbours` (all others when exact) and their conditional probabilities.
  std::vector<std::vector<std::size_t>> near(n);
  std::vector<std::vector<double>> conditional(n);
  parallel_for(n, [&](std::size_t i) {
    std::vector<std::pair<double, std::size_t>> all;
    all.reserve(n - 1);
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) all.emplace_back(squared_distance(&points[i * dim], &points[j * dim], dim), j);
    if (neighbours < all.size()) {
      std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(neighbours), all.end());
      all.resize(neighbours);
    }
    std::vector<double> distances(all.size());
    for (std::size_t k = 0; k < all.size(); ++k) {
      distances[k] = all[k].first;
      near[i].push_back(all[k].second);
    }
    conditional[i].resize(all.size());
    conditional_row(distances, perplexity, conditional[i]);
  });
  // Symmetrise: gather p(j|i) and p(i|j) for every pair that appears in either direction.
  std::vector<std::vector<std::pair<std::size_t, double>>> rows(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < near[i].size(); ++k) {
      rows[i].emplace_back(near[i][k], conditional[i][k]);
      rows[near[i][k]].emplace_back(i, conditional[i][k]);
    }
  SparseP p;
  p.row_start.push_back(0);
  for (std::size_t i = 0; i < n; ++i) {
    auto& row = rows[i];
    std::sort(row.begin(), row.end());
    for (std::size_t k = 0; k < row.size();) {
      double sum = 0.0;
      const std::size_t j = row[k].first;
      for (; k < row.size() && row[k].first == j; ++k) sum += row[k].second;
      p.column.push_back(j);
      p.value.push_back(sum / (2.0 * static_cast<double>(n)));
    }
    p.row_start.push_back(p.column.size());
  }
  return p;
}

// A quadtree over the map for the Barnes–Hut estimate of the repulsive forces.
class QuadTree {
 public:
  explicit QuadTree(const std::vector<Point>& y) : y_(y) {
    Point low{INFINITY, INFINITY}, high{-INFINITY, -INFINITY};
    for (const auto& p : y)
      for (int d = 0; d < 2; ++d) {
        low[d] = std::min(low[d], p[d]);
        high[d] = std::max(high[d], p[d]);
      }
    const double half = std::max({high[0] - low[0], high[1] - low[1], 1e-9}) / 2 + 1e-9;
    nodes_.push_back(make_node({(low[0] + high[0]) / 2, (low[1] + high[1]) / 2}, half));
    for (std::size_t i = 0; i < y.size(); ++i) insert(0, i, 0);
  }

  // Adds the repulsion on point i: returns the sum of w over all other points, and adds Σ w² (y_i - y_j) to force.
  double repulsion(std::size_t i, double theta, Point& force) const { return visit(0, i, theta, force); }

 private:
  struct Node {
    Point center{0, 0};
    double half = 0.0;  // half the side of the square
    Point mass_center{0, 0};
    std::size_t count = 0;
    int children = -1;                 // index of the first of four, or -1 for a leaf
    std::vector<std::size_t> points;   // a leaf's points (several only when they coincide or the tree is deep)
  };

  void insert(std::size_t node, std::size_t i, int depth) {
    {
      Node& n = nodes_[node];
      n.mass_center[0] = (n.mass_center[0] * static_cast<double>(n.count) + y_[i][0]) / static_cast<double>(n.count + 1);
      n.mass_center[1] = (n.mass_center[1] * static_cast<double>(n.count) + y_[i][1]) / static_cast<double>(n.count + 1);
      ++n.count;
      if (n.children < 0 && (n.points.empty() || depth > 40)) {
        n.points.push_back(i);
        return;
      }
      if (n.children < 0) split(node);
    }
    const Node& n = nodes_[node];
    insert(static_cast<std::size_t>(n.children) + quadrant(n, y_[i]), i, depth + 1);
  }

  static Node make_node(Point center, double half) {
    Node node;
    node.center = center;
    node.half = half;
    return node;
  }

  static std::size_t quadrant(const Node& n, const Point& p) {
    return (p[0] >= n.center[0] ? 1u : 0u) + (p[1] >= n.center[1] ? 2u : 0u);
  }

  void split(std::size_t node) {
    const auto first = static_cast<int>(nodes_.size());
    const Point c = nodes_[node].center;
    const double h = nodes_[node].half / 2;
    for (int q = 0; q < 4; ++q) nodes_.push_back(make_node({c[0] + ((q & 1) ? h : -h), c[1] + ((q & 2) ? h : -h)}, h));
    Node& n = nodes_[node];
    n.children = first;
    std::vector<std::size_t> moving = std::move(n.points);
    n.points.clear();
    for (std::size_t j : moving) {
      Node& child = nodes_[static_cast<std::size_t>(first) + quadrant(nodes_[node], y_[j])];
      child.mass_center = y_[j];
      child.count = 1;
      child.points.push_back(j);
    }
  }

  double visit(std::size_t node, std::size_t i, double theta, Point& force) const {
    const Node& n = nodes_[node];
    if (n.count == 0) return 0.0;
    const double dx = y_[i][0] - n.mass_center[0], dy = y_[i][1] - n.mass_center[1];
    const double d2 = dx * dx + dy * dy;
    if (n.children < 0) {
      double sum = 0.0;
      for (std::size_t j : n.points) {
        if (j == i) continue;
        const double ex = y_[i][0] - y_[j][0], ey = y_[i][1] - y_[j][1];
        const double w = 1.0 / (1.0 + ex * ex + ey * ey);
        sum += w;
        force[0] += w * w * ex;
        force[1] += w * w * ey;
      }
      return sum;
    }
    // A cell far enough away (side / distance < theta) acts as one point at its centre of mass.
    if (2 * n.half * 2 * n.half < theta * theta * d2) {
      const double w = 1.0 / (1.0 + d2);
      const auto m = static_cast<double>(n.count);
      force[0] += m * w * w * dx;
      force[1] += m * w * w * dy;
      return m * w;
    }
    double sum = 0.0;
    for (int q = 0; q < 4; ++q) sum += visit(static_cast<std::size_t>(n.children + q), i, theta, force);
    return sum;
  }

  const std::vector<Point>& y_;
  std::vector<Node> nodes_;
};

}  // namespace

std::vector<std::array<double, 2>> tsne(std::span<const float> points, std::size_t dim, const TsneOptions& options) {
  if (dim == 0 || points.size() % dim != 0) throw TsneError("t-SNE: the data is not a whole number of vectors");
  const std::size_t n = points.size() / dim;
  if (n < 2) throw TsneError("t-SNE needs at least 2 points");
  if (!(options.perplexity > 0)) throw TsneError("t-SNE: perplexity must be positive");
  if (options.iterations < 1) throw TsneError("t-SNE: iterations must be at least 1");
  for (float v : points)
    if (!std::isfinite(v)) throw TsneError("t-SNE: the data holds a NaN or an infinity");

  const double perplexity = std::max(1.0, std::min(options.perplexity, (static_cast<double>(n) - 1) / 3.0));
  const bool exact = options.method == TsneMethod::Exact || (options.method == TsneMethod::Auto && n <= 1000);
  const std::size_t neighbours = exact ? n - 1 : std::min(n - 1, static_cast<std::size_t>(3 * perplexity));
  const SparseP p = joint_probabilities(points, n, dim, perplexity, neighbours);
  const double learning_rate = options.learning_rate > 0
                                   ? options.learning_rate
                                   : std::max(static_cast<double>(n) / options.early_exaggeration / 4.0, 50.0);

  std::mt19937_64 random(options.seed);
  std::normal_distribution<double> normal(0.0, 1e-4);
  std::vector<Point> y(n), update(n, Point{0, 0}), gains(n, Point{1, 1});
  for (auto& point : y) point = {normal(random), normal(random)};

  std::vector<Point> attraction(n), repulsion(n);
  std::vector<double> weight_sums(n);
  for (int iteration = 0; iteration < options.iterations; ++iteration) {
    const double exaggeration = iteration < options.exaggeration_iterations ? options.early_exaggeration : 1.0;
    const double momentum = iteration < options.exaggeration_iterations ? 0.5 : 0.8;

    // Attraction over the (sparse) joint probabilities: Σ_j P_ij w_ij (y_i - y_j).
    parallel_for(n, [&](std::size_t i) {
      Point a{0, 0};
      for (std::size_t k = p.row_start[i]; k < p.row_start[i + 1]; ++k) {
        const std::size_t j = p.column[k];
        const double dx = y[i][0] - y[j][0], dy = y[i][1] - y[j][1];
        const double w = 1.0 / (1.0 + dx * dx + dy * dy);
        a[0] += p.value[k] * w * dx;
        a[1] += p.value[k] * w * dy;
      }
      attraction[i] = a;
    });
    // Repulsion: Σ_j w_ij² (y_i - y_j) / Z, with Z = Σ_ij w_ij; exactly, or through the quadtree.
    if (exact) {
      parallel_for(n, [&](std::size_t i) {
        Point r{0, 0};
        double sum = 0.0;
        for (std::size_t j = 0; j < n; ++j) {
          if (j == i) continue;
          const double dx = y[i][0] - y[j][0], dy = y[i][1] - y[j][1];
          const double w = 1.0 / (1.0 + dx * dx + dy * dy);
          sum += w;
          r[0] += w * w * dx;
          r[1] += w * w * dy;
        }
        repulsion[i] = r;
        weight_sums[i] = sum;
      });
    } else {
      const QuadTree tree(y);
      parallel_for(n, [&](std::size_t i) {
        Point r{0, 0};
        weight_sums[i] = tree.repulsion(i, options.theta, r);
        repulsion[i] = r;
      });
    }
    const double z = std::accumulate(weight_sums.begin(), weight_sums.end(), 0.0);  // in index order: deterministic

    // Gradient step with momentum and per-coordinate gains (delta-bar-delta), then re-centre.
    Point mean{0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      for (int d = 0; d < 2; ++d) {
        const double gradient = 4.0 * (exaggeration * attraction[i][d] - repulsion[i][d] / z);
        gains[i][d] = (gradient > 0) != (update[i][d] > 0) ? gains[i][d] + 0.2 : std::max(gains[i][d] * 0.8, 0.01);
        update[i][d] = momentum * update[i][d] - learning_rate * gains[i][d] * gradient;
        y[i][d] += update[i][d];
        mean[d] += y[i][d];
      }
    }
    for (auto& point : y)
      for (int d = 0; d < 2; ++d) point[d] -= mean[d] / static_cast<double>(n);
  }
  return y;
}

}  // namespace tunelens
