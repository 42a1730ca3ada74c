#include "recommend/exact_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "recommend/distance.h"
#include "recommend/index_file.h"
#include "recommend/search_support.h"

namespace tunelens {

using recommend_detail::kPanelGroup;
using recommend_detail::kPanelRows;
using recommend_detail::kQueryGroup;
using recommend_detail::nearer;
using recommend_detail::Neighbor;

namespace {

// Queries per block: a block's queries are compared with a chunk of vectors while the chunk is in cache. 128
// queries of 256 dimensions are 128 KiB, in L2 along with the distance tile.
constexpr std::size_t kQueryBlock = 128;
// Panels per chunk (256 vectors): the distance tile is kQueryBlock × 256 floats.
constexpr std::size_t kChunkPanels = 16;
constexpr std::size_t kChunkRows = kChunkPanels * kPanelRows;
// A thread's share of the vectors when one query block is split between threads: at least this many panels.
constexpr std::size_t kMinSplitPanels = 64;

std::size_t round_up(std::size_t n, std::size_t m) {
  return (n + m - 1) / m * m;
}

// Offers row distances d[0, rows) (ids ids[0, rows)) to a top-`k` max-heap. Blocks of 16 are skipped with one
// comparison each unless one of them is within the current k-th distance.
void offer(const float* d, std::size_t rows, const std::int64_t* ids, std::size_t k,
           std::vector<Neighbor>& heap) {
  float worst = heap.size() < k ? std::numeric_limits<float>::infinity() : heap.front().distance;
  for (std::size_t j = 0; j < rows; j += kPanelRows) {
    bool any = false;
    for (std::size_t t = 0; t < kPanelRows; ++t) any |= d[j + t] <= worst;  // the tile is padded to 16
    if (!any) continue;
    const std::size_t m = std::min(kPanelRows, rows - j);
    for (std::size_t t = 0; t < m; ++t) {
      if (d[j + t] > worst) continue;
      const Neighbor candidate{d[j + t], ids[j + t]};
      if (heap.size() < k) {
        heap.push_back(candidate);
        std::push_heap(heap.begin(), heap.end(), nearer);
        if (heap.size() == k) worst = heap.front().distance;
      } else if (nearer(candidate, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), nearer);
        heap.back() = candidate;
        std::push_heap(heap.begin(), heap.end(), nearer);
        worst = heap.front().distance;
      }
    }
  }
}

}  // namespace

ExactIndex::ExactIndex(std::size_t dim, Metric metric, unsigned threads)
    : dim_(dim), metric_(metric), threads_(threads) {
  if (dim == 0) throw IndexError(IndexErrorKind::Invalid, "index dimension must be at least 1");
}

void ExactIndex::set_threads(unsigned threads) {
  threads_ = threads;
}

std::size_t ExactIndex::panel_capacity() const {
  return panels_.size() / panel_floats();
}

void ExactIndex::grow_to(std::size_t rows) {
  const std::size_t needed = round_up((rows + kPanelRows - 1) / kPanelRows, kPanelGroup);
  if (needed <= panel_capacity()) return;
  const std::size_t panels = std::max(needed, round_up(panel_capacity() * 3 / 2, kPanelGroup));
  panels_.resize(panels * panel_floats(), 0.0f);
  norms_.resize(panels * kPanelRows, 0.0f);
}

void ExactIndex::reserve(std::size_t capacity) {
  if (capacity > ids_.size()) {
    grow_to(capacity);
    ids_.reserve(capacity);
    rows_.reserve(capacity);
  }
}

void ExactIndex::write_row(std::size_t row, const float* vector) {
  float* panel = panels_.data() + row / kPanelRows * panel_floats() + row % kPanelRows;
  for (std::size_t k = 0; k < dim_; ++k) panel[k * kPanelRows] = vector[k];
  norms_[row] = recommend_detail::squared_norm(vector, dim_);
}

std::vector<float> ExactIndex::vector_at(std::size_t row) const {
  std::vector<float> v(dim_);
  const float* panel = panels_.data() + row / kPanelRows * panel_floats() + row % kPanelRows;
  for (std::size_t k = 0; k < dim_; ++k) v[k] = panel[k * kPanelRows];
  return v;
}

void ExactIndex::add(std::span<const std::int64_t> ids, std::span<const float> vectors) {
  recommend_detail::check_add_arguments(dim_, ids, vectors);
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, vectors, "vector", prepared);
  std::size_t fresh = 0;
  for (std::int64_t id : ids) fresh += rows_.count(id) == 0;
  grow_to(ids_.size() + fresh);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto [it, inserted] = rows_.try_emplace(ids[i], ids_.size());
    if (inserted) ids_.push_back(ids[i]);
    write_row(it->second, prepared.data() + i * dim_);
  }
}

bool ExactIndex::remove(std::int64_t id) {
  const auto it = rows_.find(id);
  if (it == rows_.end()) return false;
  const std::size_t row = it->second, last = ids_.size() - 1;
  rows_.erase(it);
  if (row != last) {
    write_row(row, vector_at(last).data());
    ids_[row] = ids_[last];
    rows_[ids_[row]] = row;
  }
  const std::vector<float> zero(dim_, 0.0f);
  write_row(last, zero.data());
  ids_.pop_back();
  return true;
}

SearchResults ExactIndex::search(std::span<const float> queries, std::size_t k) const {
  k = std::min(k, size());  // never more than the index holds (k may come from a user: -k 1e9)
  const std::size_t nq = recommend_detail::check_queries(dim_, queries);
  SearchResults results = recommend_detail::empty_results(nq, k);
  const std::size_t n = ids_.size();
  if (nq == 0 || k == 0) return results;
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, queries, "query", prepared);
  if (n == 0) return results;

  const std::size_t keep = std::min(k, n);
  const std::size_t panels = round_up((n + kPanelRows - 1) / kPanelRows, kPanelGroup);
  const std::size_t blocks = (nq + kQueryBlock - 1) / kQueryBlock;
  const unsigned threads = recommend_detail::resolve_threads(threads_);
  // Few query blocks for many threads (one query, say): split the vectors between threads as well.
  std::size_t splits = 1;
  if (blocks < threads)
    splits = std::max<std::size_t>(
        1, std::min<std::size_t>((threads + blocks - 1) / blocks, panels / kMinSplitPanels));
  const std::size_t groups = panels / kPanelGroup;

  std::vector<std::vector<Neighbor>> partial(splits * nq);
  recommend_detail::run_tasks(threads, blocks * splits, [&](std::size_t task) {
    const std::size_t block = task / splits, split = task % splits;
    const std::size_t q0 = block * kQueryBlock, qn = std::min(kQueryBlock, nq - q0);
    const std::size_t qn_padded = round_up(qn, kQueryGroup);
    std::vector<float> block_queries(qn_padded * dim_, 0.0f), block_norms(qn_padded, 0.0f);
    std::copy_n(prepared.data() + q0 * dim_, qn * dim_, block_queries.data());
    for (std::size_t i = 0; i < qn; ++i)
      block_norms[i] = recommend_detail::squared_norm(block_queries.data() + i * dim_, dim_);
    std::vector<std::vector<Neighbor>> heaps(qn);
    for (auto& heap : heaps) heap.reserve(keep);
    std::vector<float> tile(qn_padded * kChunkRows);

    const std::size_t first = groups * split / splits * kPanelGroup;
    const std::size_t end = groups * (split + 1) / splits * kPanelGroup;
    for (std::size_t p = first; p < end; p += kChunkPanels) {
      const std::size_t count = std::min(kChunkPanels, end - p);
      const std::size_t row0 = p * kPanelRows;
      if (row0 >= n) break;
      recommend_detail::panel_distances(metric_, block_queries.data(), qn_padded, block_norms.data(),
                                        panels_.data() + p * panel_floats(), count, norms_.data() + row0,
                                        dim_, tile.data(), kChunkRows);
      const std::size_t rows = std::min(count * kPanelRows, n - row0);
      for (std::size_t i = 0; i < qn; ++i)
        offer(tile.data() + i * kChunkRows, rows, ids_.data() + row0, keep, heaps[i]);
    }
    for (std::size_t i = 0; i < qn; ++i) partial[split * nq + q0 + i] = std::move(heaps[i]);
  });

  std::vector<Neighbor> merged;
  for (std::size_t q = 0; q < nq; ++q) {
    merged.clear();
    for (std::size_t s = 0; s < splits; ++s)
      merged.insert(merged.end(), partial[s * nq + q].begin(), partial[s * nq + q].end());
    const std::size_t m = std::min(keep, merged.size());
    std::partial_sort(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(m), merged.end(), nearer);
    for (std::size_t j = 0; j < m; ++j) {
      results.ids[q * k + j] = merged[j].id;
      results.distances[q * k + j] = merged[j].distance;
    }
  }
  return results;
}

void ExactIndex::save(const std::filesystem::path& path) const {
  recommend_detail::IndexFileHeader header;
  header.kind = recommend_detail::kExactKind;
  header.metric = recommend_detail::metric_code(metric_);
  header.dim = static_cast<std::uint32_t>(dim_);
  header.count = ids_.size();
  recommend_detail::IndexFileWriter file(path, header);
  file.write_payload(ids_.data(), ids_.size() * sizeof(std::int64_t));
  constexpr std::size_t kRowsPerWrite = 1024;
  std::vector<float> rows;
  for (std::size_t r0 = 0; r0 < ids_.size(); r0 += kRowsPerWrite) {
    const std::size_t count = std::min(kRowsPerWrite, ids_.size() - r0);
    rows.resize(count * dim_);
    for (std::size_t r = 0; r < count; ++r) {
      const std::vector<float> v = vector_at(r0 + r);
      std::copy(v.begin(), v.end(), rows.begin() + static_cast<std::ptrdiff_t>(r * dim_));
    }
    file.write_payload(rows.data(), rows.size() * sizeof(float));
  }
  file.commit();
}

void ExactIndex::load(const std::filesystem::path& path) {
  recommend_detail::IndexFileReader file(path);
  file.expect(recommend_detail::kExactKind, dim_, metric_);
  const std::uint64_t n = file.header().count;
  const std::uint64_t row_bytes = sizeof(std::int64_t) + dim_ * sizeof(float);
  if (n > file.header().payload_bytes / row_bytes || n * row_bytes != file.header().payload_bytes)
    file.fail(IndexErrorKind::Corrupt, "payload of " + std::to_string(file.header().payload_bytes) +
                                           " bytes does not hold " + std::to_string(n) + " vectors");
  ExactIndex loaded(dim_, metric_, threads_);
  loaded.ids_.resize(n);
  file.read_payload(loaded.ids_.data(), n * sizeof(std::int64_t));
  loaded.rows_.reserve(n);
  for (std::size_t r = 0; r < n; ++r) {
    if (loaded.ids_[r] < 0)
      file.fail(IndexErrorKind::Corrupt, "negative id " + std::to_string(loaded.ids_[r]));
    if (!loaded.rows_.emplace(loaded.ids_[r], r).second)
      file.fail(IndexErrorKind::Corrupt, "id " + std::to_string(loaded.ids_[r]) + " appears twice");
  }
  loaded.grow_to(n);
  constexpr std::size_t kRowsPerRead = 1024;
  std::vector<float> rows;
  for (std::size_t r0 = 0; r0 < n; r0 += kRowsPerRead) {
    const std::size_t count = std::min<std::size_t>(kRowsPerRead, n - r0);
    rows.resize(count * dim_);
    file.read_payload(rows.data(), rows.size() * sizeof(float));
    for (float v : rows)
      if (!std::isfinite(v)) file.fail(IndexErrorKind::Corrupt, "a stored vector holds a NaN or infinity");
    for (std::size_t r = 0; r < count; ++r) loaded.write_row(r0 + r, rows.data() + r * dim_);
  }
  file.verify_checksum();
  panels_ = std::move(loaded.panels_);
  norms_ = std::move(loaded.norms_);
  ids_ = std::move(loaded.ids_);
  rows_ = std::move(loaded.rows_);
}

std::size_t ExactIndex::memory_bytes() const {
  // An unordered_map node holds the pair and a next pointer, 32 bytes with malloc's rounding.
  return panels_.capacity() * sizeof(float) + norms_.capacity() * sizeof(float) +
         ids_.capacity() * sizeof(std::int64_t) + rows_.bucket_count() * sizeof(void*) + rows_.size() * 32;
}

}  // namespace tunelens
