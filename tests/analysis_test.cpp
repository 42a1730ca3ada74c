// The 2-D song map (t-SNE): neighbours on the map are neighbours in the data.
#include <gtest/gtest.h>

#include <random>

#include "analysis/tsne.h"

namespace tunelens {
namespace {

// `clusters` well-separated Gaussian clusters of `per_cluster` points in `dim` dimensions.
std::vector<float> gaussian_clusters(std::size_t clusters, std::size_t per_cluster, std::size_t dim, unsigned seed,
                                     std::vector<std::size_t>& cluster_of) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> points;
  for (std::size_t c = 0; c < clusters; ++c) {
    std::vector<float> center(dim);
    for (auto& v : center) v = 10.0f * normal(random);
    for (std::size_t i = 0; i < per_cluster; ++i) {
      for (std::size_t k = 0; k < dim; ++k) points.push_back(center[k] + normal(random));
      cluster_of.push_back(c);
    }
  }
  return points;
}

// Share of each point's k nearest map neighbours that are from its own cluster.
double neighbour_agreement(const std::vector<std::array<double, 2>>& map, const std::vector<std::size_t>& cluster_of,
                           std::size_t k) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < map.size(); ++i) {
    std::vector<std::pair<double, std::size_t>> by_distance;
    for (std::size_t j = 0; j < map.size(); ++j) {
      if (j == i) continue;
      const double dx = map[i][0] - map[j][0], dy = map[i][1] - map[j][1];
      by_distance.emplace_back(dx * dx + dy * dy, j);
    }
    std::partial_sort(by_distance.begin(), by_distance.begin() + static_cast<std::ptrdiff_t>(k), by_distance.end());
    for (std::size_t r = 0; r < k; ++r) same += cluster_of[by_distance[r].second] == cluster_of[i];
  }
  return static_cast<double>(same) / static_cast<double>(map.size() * k);
}

// Each point's 5 nearest map neighbours are from its own cluster at least 90 % of the time.
void expect_map_keeps_clusters(TsneMethod method, std::size_t clusters, std::size_t per_cluster, std::size_t dim,
                               unsigned seed) {
  std::vector<std::size_t> cluster_of;
  const auto points = gaussian_clusters(clusters, per_cluster, dim, seed, cluster_of);
  TsneOptions options;
  options.method = method;
  options.iterations = 500;
  const auto map = tsne(points, dim, options);
  ASSERT_EQ(map.size(), clusters * per_cluster);
  EXPECT_GE(neighbour_agreement(map, cluster_of, 5), 0.9);
}

TEST(Tsne, ExactMapKeepsClustersTogether) { expect_map_keeps_clusters(TsneMethod::Exact, 8, 25, 32, 1); }

TEST(Tsne, BarnesHutMapKeepsClustersTogether) { expect_map_keeps_clusters(TsneMethod::BarnesHut, 20, 60, 64, 2); }

TEST(Tsne, SameSeedSameMapOtherSeedOtherMap) {
  std::vector<std::size_t> cluster_of;
  const auto points = gaussian_clusters(4, 20, 8, 3, cluster_of);
  TsneOptions options;
  options.iterations = 200;
  options.seed = 7;
  const auto a = tsne(points, 8, options), b = tsne(points, 8, options);
  EXPECT_EQ(a, b);
  options.seed = 8;
  EXPECT_NE(a, tsne(points, 8, options));
}

TEST(Tsne, SmallInputsAndBadInput) {
  // Three points: the perplexity is lowered to fit (n - 1) / 3 and the map is still made.
  const std::vector<float> three = {0, 0, 0.1f, 0, 50, 50};
  const auto map = tsne(three, 2, {});
  ASSERT_EQ(map.size(), 3u);
  for (const auto& point : map) EXPECT_TRUE(std::isfinite(point[0]) && std::isfinite(point[1]));
  EXPECT_THROW(tsne(std::vector<float>{1, 2}, 2, {}), TsneError);
  EXPECT_THROW(tsne(std::vector<float>{1, 2, 3}, 2, {}), TsneError);
  EXPECT_THROW(tsne(std::vector<float>{0, 1, NAN, 3}, 2, {}), TsneError);
  TsneOptions bad;
  bad.perplexity = 0;
  EXPECT_THROW(tsne(three, 2, bad), TsneError);
}

}  // namespace
}  // namespace tunelens
