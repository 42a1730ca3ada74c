// Exact k-nearest-neighbour search: every query against every vector.
//
// Vectors are stored in panels of 16, transposed (see distance.h), so that the distances of a block of
// queries to a block of vectors are one small matrix product held in registers: |q|² + |x|² - 2 q·x for
// sqeuclidean, 1 - q·x for cosine (vectors normalised on the way in). Blocks of queries are spread over
// threads; when there are fewer query blocks than threads (a single query, say), the vectors are split
// between threads too and the partial top-k lists merged. The top k of each query is kept in a small
// max-heap; a block of 16 distances is looked at one by one only when one of them beats the k-th best so far.
//
// add() and remove() cost O(dim) per vector (remove moves the last vector into the hole), so the index is
// always ready for search: a brand-new track is recommendable at once.
#pragma once

#include <unordered_map>

#include "recommend/index.h"

namespace tunelens {

class ExactIndex final : public Index {
 public:
  ExactIndex(std::size_t dim, Metric metric, unsigned threads = 0);

  std::string_view kind() const override { return "exact"; }
  std::size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::size_t size() const override { return ids_.size(); }
  bool contains(std::int64_t id) const override { return rows_.count(id) > 0; }

  void add(std::span<const std::int64_t> ids, std::span<const float> vectors) override;
  bool remove(std::int64_t id) override;
  void reserve(std::size_t capacity) override;
  SearchResults search(std::span<const float> queries, std::size_t k) const override;
  void save(const std::filesystem::path& path) const override;
  void load(const std::filesystem::path& path) override;
  std::size_t memory_bytes() const override;
  unsigned threads() const override { return threads_; }
  void set_threads(unsigned threads) override;

  // The stored (prepared: normalised for cosine and js) vector of a row, row < size().
  std::vector<float> vector_at(std::size_t row) const;
  std::int64_t id_at(std::size_t row) const { return ids_[row]; }

 private:
  std::size_t panel_floats() const { return dim_ * 16; }
  std::size_t panel_capacity() const;
  void grow_to(std::size_t rows);
  void write_row(std::size_t row, const float* vector);

  std::size_t dim_;
  Metric metric_;
  unsigned threads_;
  std::vector<float> panels_;      // panel p, dimension k, lane l at [p * dim * 16 + k * 16 + l]
  std::vector<float> norms_;       // squared norm per row (0 past the last row)
  std::vector<std::int64_t> ids_;  // id per row
  std::unordered_map<std::int64_t, std::size_t> rows_;  // id -> row
};

}  // namespace tunelens
