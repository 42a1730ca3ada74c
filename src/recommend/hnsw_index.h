// Approximate k-nearest-neighbour search on an HNSW graph (hnswlib 0.6, Malkov & Yashunin 2016).
//
// Options (IndexOptions; defaults chosen with bench/bench_index.cpp: 200,000 vectors of 256 dimensions in
// 1,000 Gaussian clusters, where they give recall@10 ≈ 0.98 at about 14 times exact search's queries per
// second, and a build of ~30 s of CPU time per 100,000 vectors):
//   M = 24                 links per vector (48 on the bottom layer); with the id, lock, level and id map,
//                          ~320 bytes a vector besides the vector itself (1,345 in all at 256 dimensions)
//   ef_construction = 128  candidates while linking a new vector
//   ef_search = 32         candidates while searching; hnswlib uses max(ef_search, k), so for k well above 10
//                          raise it to 2-3 × k to keep recall; set_ef_search() changes it at any time
// Raising ef_search buys recall with speed; raising M or ef_construction buys recall at a given ef_search
// with memory and build time. (There, M 16 / ef_construction 200 gives about the same recall at a given
// ef_search and M 32 / ef_construction 100 slightly less, but the first builds 1.8 times slower and the
// second takes 64 bytes more a vector.)
//
// The graph grows as tracks arrive: add() links new vectors into a built or loaded graph (hnswlib's addPoint,
// called from `threads` threads at once), doubling the capacity when full. A build on one thread is
// reproducible from the seed; on several, the graph depends on timing. Adding an id already held replaces its
// vector and relinks it; remove() marks a vector deleted (it is never returned again, and its slot stays in
// the graph as a waypoint until the index is rebuilt; re-adding the id revives the slot). The bottom layer
// lives on transparent huge pages where the kernel allows them (fewer TLB misses: 10-20 % more queries per
// second).
//
// Metrics: sqeuclidean, cosine (inner product of normalised vectors, 1 - q·x) and js. HNSW only ever compares
// two distances, and the Jensen-Shannon divergence orders pairs exactly as its square root, the
// Jensen-Shannon distance, which is a metric; so the graph built and searched with the divergence is the
// graph of a true metric space, and js is supported through a custom hnswlib space (cost: two logarithms per
// dimension per distance).
//
// The distance kernels are tunelens's own (distance.h), picked at run time for the CPU (AVX-512, AVX2 or
// SSE2), the same ones the exact index uses.
#pragma once

#include <memory>

#include "recommend/index.h"

namespace tunelens {

class HnswIndex final : public Index {
 public:
  HnswIndex(std::size_t dim, Metric metric, const IndexOptions& options = {});
  ~HnswIndex() override;

  std::string_view kind() const override { return "hnsw"; }
  std::size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::size_t size() const override;
  bool contains(std::int64_t id) const override;

  void add(std::span<const std::int64_t> ids, std::span<const float> vectors) override;
  bool remove(std::int64_t id) override;
  void reserve(std::size_t capacity) override;
  SearchResults search(std::span<const float> queries, std::size_t k) const override;
  void save(const std::filesystem::path& path) const override;
  void load(const std::filesystem::path& path) override;
  std::size_t memory_bytes() const override;
  unsigned threads() const override { return options_.threads; }
  void set_threads(unsigned threads) override { options_.threads = threads; }

  std::size_t ef_search() const { return options_.ef_search; }
  void set_ef_search(std::size_t ef_search);
  std::size_t M() const { return options_.M; }
  std::size_t ef_construction() const { return options_.ef_construction; }
  // Vectors the graph holds room for (removed ones included) before it grows.
  std::size_t capacity() const;

 private:
  struct Graph;
  std::size_t dim_;
  Metric metric_;
  IndexOptions options_;
  std::unique_ptr<Graph> graph_;
};

}  // namespace tunelens
