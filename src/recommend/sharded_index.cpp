#include "recommend/sharded_index.h"

#include <algorithm>

#include "recommend/index_file.h"
#include "recommend/search_support.h"

namespace tunelens {

using recommend_detail::Neighbor;

namespace {

constexpr std::uint32_t kMaxShards = 1 << 16;
constexpr std::uint32_t kMaxShardName = 4096;

// Payload of a sharded index file: u32 shard count, then per shard a u32 length and its file name (in the
// folder of the sharded file).
std::vector<std::filesystem::path> read_shard_list(const std::filesystem::path& path, std::size_t& dim,
                                                   Metric& metric) {
  recommend_detail::IndexFileReader file(path);
  if (file.header().kind != recommend_detail::kShardedKind)
    file.fail(IndexErrorKind::Mismatch,
              "is an " + recommend_detail::kind_name(file.header().kind) + " index, not a sharded one");
  dim = file.header().dim;
  metric = file.metric();
  std::uint32_t count = 0;
  file.read_payload(&count, sizeof count);
  if (count == 0 || count > kMaxShards) file.fail(IndexErrorKind::Corrupt, "bad shard count");
  std::vector<std::filesystem::path> shards;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t length = 0;
    file.read_payload(&length, sizeof length);
    if (length == 0 || length > kMaxShardName) file.fail(IndexErrorKind::Corrupt, "bad shard name");
    std::string name(length, '\0');
    file.read_payload(name.data(), name.size());
    if (name.find('/') != std::string::npos) file.fail(IndexErrorKind::Corrupt, "bad shard name");
    shards.push_back(path.parent_path() / name);
  }
  file.verify_checksum();
  return shards;
}

std::vector<std::unique_ptr<Index>> open_shards(const std::filesystem::path& path,
                                                const IndexOptions& options) {
  std::size_t dim = 0;
  Metric metric = Metric::SqEuclidean;
  std::vector<std::unique_ptr<Index>> shards;
  for (const auto& shard : read_shard_list(path, dim, metric)) {
    shards.push_back(load_index(shard, options));
    if (shards.back()->dim() != dim || shards.back()->metric() != metric)
      throw IndexError(IndexErrorKind::Mismatch, shard,
                       "is not of the dimension and metric of " + path.string());
  }
  return shards;
}

}  // namespace

ShardedIndex::ShardedIndex(std::vector<std::unique_ptr<Index>> shards) : shards_(std::move(shards)) {
  if (shards_.empty()) throw IndexError(IndexErrorKind::Invalid, "a sharded index needs at least one shard");
  for (const auto& shard : shards_) {
    if (!shard) throw IndexError(IndexErrorKind::Invalid, "a sharded index got a null shard");
    if (shard->dim() != dim() || shard->metric() != metric())
      throw IndexError(IndexErrorKind::Invalid, "the shards of an index must share the dimension and metric");
  }
}

std::unique_ptr<ShardedIndex> ShardedIndex::open(const std::filesystem::path& path,
                                                 const IndexOptions& options) {
  return std::make_unique<ShardedIndex>(open_shards(path, options));
}

std::size_t ShardedIndex::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) n += shard->size();
  return n;
}

bool ShardedIndex::contains(std::int64_t id) const {
  return std::any_of(shards_.begin(), shards_.end(), [&](const auto& shard) { return shard->contains(id); });
}

bool ShardedIndex::exact_distances() const {
  return std::all_of(shards_.begin(), shards_.end(),
                     [](const auto& shard) { return shard->exact_distances(); });
}

void ShardedIndex::add(std::span<const std::int64_t> ids, std::span<const float> vectors) {
  recommend_detail::check_add_arguments(dim(), ids, vectors);
  // Each id to the shard that holds it (a replacement), new ones to the last shard.
  std::vector<std::vector<std::int64_t>> shard_ids(shards_.size());
  std::vector<std::vector<float>> shard_vectors(shards_.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::size_t s = shards_.size() - 1;
    for (std::size_t t = 0; t < shards_.size(); ++t)
      if (shards_[t]->contains(ids[i])) s = t;
    shard_ids[s].push_back(ids[i]);
    shard_vectors[s].insert(shard_vectors[s].end(), vectors.begin() + static_cast<std::ptrdiff_t>(i * dim()),
                            vectors.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim()));
  }
  for (std::size_t s = 0; s < shards_.size(); ++s)
    if (!shard_ids[s].empty()) shards_[s]->add(shard_ids[s], shard_vectors[s]);
}

bool ShardedIndex::remove(std::int64_t id) {
  bool removed = false;
  for (auto& shard : shards_) removed |= shard->remove(id);
  return removed;
}

void ShardedIndex::reserve(std::size_t capacity) {
  const std::size_t others = size() - shards_.back()->size();
  if (capacity > others) shards_.back()->reserve(capacity - others);
}

SearchResults ShardedIndex::search(std::span<const float> queries, std::size_t k) const {
  k = std::min(k, size());
  const std::size_t nq = recommend_detail::check_queries(dim(), queries);
  SearchResults results = recommend_detail::empty_results(nq, k);
  if (nq == 0 || k == 0) return results;
  std::vector<SearchResults> parts;
  for (const auto& shard : shards_)
    if (shard->size() > 0) parts.push_back(shard->search(queries, k));
  std::vector<Neighbor> row;
  for (std::size_t q = 0; q < nq; ++q) {
    row.clear();
    for (const SearchResults& part : parts)
      for (std::size_t j = 0; j < part.found(q); ++j)
        row.push_back({part.distances_of(q)[j], part.ids_of(q)[j]});
    recommend_detail::write_nearest(row, q, results);
  }
  return results;
}

void ShardedIndex::save(const std::filesystem::path& path) const {
  std::vector<std::string> names;
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    std::filesystem::path shard = path;
    shard += ".";
    shard += std::to_string(s);
    shards_[s]->save(shard);
    names.push_back(shard.filename().string());
  }
  recommend_detail::IndexFileHeader header;
  header.kind = recommend_detail::kShardedKind;
  header.metric = recommend_detail::metric_code(metric());
  header.dim = static_cast<std::uint32_t>(dim());
  header.count = size();
  recommend_detail::IndexFileWriter file(path, header);
  const auto count = static_cast<std::uint32_t>(names.size());
  file.write_payload(&count, sizeof count);
  for (const std::string& name : names) {
    const auto length = static_cast<std::uint32_t>(name.size());
    file.write_payload(&length, sizeof length);
    file.write_payload(name.data(), name.size());
  }
  file.commit();
}

void ShardedIndex::load(const std::filesystem::path& path) {
  IndexOptions options;
  options.threads = threads();
  auto shards = open_shards(path, options);
  if (shards.front()->dim() != dim() || shards.front()->metric() != metric())
    throw IndexError(IndexErrorKind::Mismatch, path, "holds shards of another dimension or metric");
  shards_ = std::move(shards);
}

std::size_t ShardedIndex::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& shard : shards_) bytes += shard->memory_bytes();
  return bytes;
}

void ShardedIndex::set_threads(unsigned threads) {
  for (auto& shard : shards_) shard->set_threads(threads);
}

}  // namespace tunelens
