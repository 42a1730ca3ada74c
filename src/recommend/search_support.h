// Pieces shared by the two index kinds (internal to src/recommend): thread fan-out, neighbour order, argument
// checks.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "recommend/index.h"

namespace tunelens::recommend_detail {

struct Neighbor {
  float distance;
  std::int64_t id;
};

// Nearer first; at equal distance, smaller id first. As a heap order (std::push_heap) the top is the worst.
inline bool nearer(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
}

inline unsigned resolve_threads(unsigned threads) {
  return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

// Runs f(task) for task in [0, tasks) on up to `threads` threads (the calling one included), each taking the
// next task. The first exception thrown by f is rethrown once all threads have stopped.
template <typename F>
void run_tasks(unsigned threads, std::size_t tasks, F&& f) {
  const std::size_t workers = std::min<std::size_t>(std::max(1u, threads), tasks);
  if (workers <= 1) {
    for (std::size_t t = 0; t < tasks; ++t) f(t);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_guard;
  auto work = [&] {
    try {
      for (std::size_t t = next++; t < tasks && !failed; t = next++) f(t);
    } catch (...) {
      const std::lock_guard lock(error_guard);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

// The checks every add() makes before touching the index.
inline void check_add_arguments(std::size_t dim, std::span<const std::int64_t> ids,
                                std::span<const float> vectors) {
  if (vectors.size() != ids.size() * dim)
    throw IndexError(IndexErrorKind::Invalid, "add: " + std::to_string(ids.size()) + " ids need " +
                                                  std::to_string(ids.size() * dim) + " values (dimension " +
                                                  std::to_string(dim) + "), got " +
                                                  std::to_string(vectors.size()));
  std::unordered_set<std::int64_t> seen;
  if (ids.size() > 1) seen.reserve(ids.size());
  for (std::int64_t id : ids) {
    if (id < 0) throw IndexError(IndexErrorKind::Invalid, "add: negative id " + std::to_string(id));
    if (ids.size() > 1 && !seen.insert(id).second)
      throw IndexError(IndexErrorKind::Invalid,
                       "add: id " + std::to_string(id) + " appears twice in one call");
  }
}

inline std::size_t check_queries(std::size_t dim, std::span<const float> queries) {
  if (queries.size() % dim != 0)
    throw IndexError(IndexErrorKind::Invalid, "search: " + std::to_string(queries.size()) +
                                                  " values are not a whole number of queries of dimension " +
                                                  std::to_string(dim));
  return queries.size() / dim;
}

// An empty result table: every id -1, every distance +infinity.
inline SearchResults empty_results(std::size_t queries, std::size_t k) {
  SearchResults r;
  r.queries = queries;
  r.k = k;
  r.ids.assign(queries * k, -1);
  r.distances.assign(queries * k, std::numeric_limits<float>::infinity());
  return r;
}

// Writes the k nearest of `row` (any order) into row `query` of `results`, nearest first, equal distances by
// id; `row` is reordered.
inline void write_nearest(std::vector<Neighbor>& row, std::size_t query, SearchResults& results) {
  const std::size_t k = results.k, m = std::min(k, row.size());
  std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(m), row.end(), nearer);
  for (std::size_t j = 0; j < m; ++j) {
    results.ids[query * k + j] = row[j].id;
    results.distances[query * k + j] = row[j].distance;
  }
}

}  // namespace tunelens::recommend_detail
