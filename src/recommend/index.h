// Vector indexes over track vectors: "what sounds like this?" as the k nearest vectors to a query.
//
// Every track of a catalog has two vectors, the mean softmax over its windows (a probability vector, what the
// original study ranked by squared Euclidean distance) and an embedding (the L2-normalised penultimate
// layer). An Index holds vectors of one dimension under one metric, each with a caller's id (the track id),
// and answers k-nearest-neighbour queries in batches, FAISS-style:
//
//   auto index = tunelens::make_index("hnsw", 256, tunelens::Metric::Cosine);
//   index->add(ids, vectors);                    // row-major [ids.size() × dim]
//   tunelens::SearchResults r = index->search(queries, 10);
//   r.ids_of(0), r.distances_of(0);              // nearest first
//   index->save("catalog.hnsw");                 // later: tunelens::load_index("catalog.hnsw")
//
// Kinds: ExactIndex (exact_index.h) compares a query with every vector (blocked matrix products, all
// cores), HnswIndex (hnsw_index.h) walks an HNSW graph (hnswlib): approximate, and far faster on large
// catalogs; FaissIndex (faiss_index.h) holds FAISS's inverted-file indexes (ivf-flat, ivf-pq: compressed
// codes, for catalogs beyond memory) and its HNSW graph; ShardedIndex (sharded_index.h) searches several
// indexes as one. recommended_index_kind() says which of the first two to use for a catalog size.
//
// Results are deterministic: neighbours at equal distance come in increasing id order. An index is safe for
// concurrent search() calls; add(), remove(), load() and the setters need the caller to exclude other calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tunelens {

// How far apart two vectors are; smaller is nearer.
enum class Metric {
  SqEuclidean,    // "sqeuclidean": sum of squared differences (the original study's recommender)
  Cosine,         // "cosine": 1 - cos(angle), in [0, 2]; vectors are L2-normalised on the way in
  JensenShannon,  // "js": Jensen-Shannon divergence in nats, in [0, ln 2], between probability vectors;
                  // vectors must be non-negative and are scaled to sum to 1 on the way in
};

std::string_view metric_name(Metric metric);
// "sqeuclidean" (also "l2"), "cosine", "js"; throws IndexError (Invalid) for anything else.
Metric parse_metric(std::string_view name);

enum class IndexErrorKind {
  NotFound,    // no index file at that path, or it cannot be opened
  NotAnIndex,  // the file is not a tunelens index (wrong magic) or is of a newer format version
  Corrupt,     // truncated, checksum mismatch, or inconsistent contents
  Mismatch,    // the file's kind, dimension or metric is not the one this index was made for
  Invalid,     // a bad argument: vector of the wrong length, negative id, NaN, unknown option, ...
  Io,          // cannot write the file (disk full, read-only folder, ...)
};

// Errors about a file say "<file>: <reason>"; the others just the reason.
class IndexError : public std::runtime_error {
 public:
  IndexError(IndexErrorKind kind, const std::string& reason);
  IndexError(IndexErrorKind kind, const std::filesystem::path& path, const std::string& reason);
  IndexErrorKind kind() const { return kind_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  IndexErrorKind kind_;
  std::filesystem::path path_;
};

// The answer to a batch of queries: for query q, row q of ids and distances (k each), nearest first. Where
// the index holds fewer than k vectors the row ends with id -1 and distance +infinity.
struct SearchResults {
  std::size_t queries = 0;
  std::size_t k = 0;
  std::vector<std::int64_t> ids;  // [queries × k]
  std::vector<float> distances;   // [queries × k]

  std::span<const std::int64_t> ids_of(std::size_t query) const { return {ids.data() + query * k, k}; }
  std::span<const float> distances_of(std::size_t query) const { return {distances.data() + query * k, k}; }
  // How many real neighbours row `query` has (k, or fewer when the index is small).
  std::size_t found(std::size_t query) const;
};

// Recall@k of approximate results against exact ones: the share of each query's true k nearest (by id) that
// the approximate search also returned in its first k, over all queries.
double recall_at(const SearchResults& approx, const SearchResults& exact, std::size_t k);

// Options of make_index() and load_index(). Each kind reads the ones that concern it.
struct IndexOptions {
  // Threads for search() (and for add() of HnswIndex and FaissIndex); 0: all cores.
  unsigned threads = 0;
  // HNSW graph degree: links per vector on the upper layers, twice that on the bottom one. Higher: better
  // recall at a given ef_search, more memory (8·M bytes per vector on top of the vector itself) and slower
  // builds.
  std::size_t M = 24;
  // Candidates kept while linking a new vector. Higher: a better graph, slower builds.
  std::size_t ef_construction = 128;
  // Candidates kept while searching (at least k are always kept), for hnsw and hnsw-faiss. The recall / speed
  // trade-off; changeable on a built or loaded index with set_ef_search().
  std::size_t ef_search = 32;
  // Inverted lists (cells) scanned per query by ivf-flat and ivf-pq (faiss_index.h). The recall / speed
  // trade-off of those kinds; changeable with FaissIndex::set_nprobe().
  std::size_t nprobe = 16;
  // Of those nprobe cells, scan only the ones whose centre's squared distance to the query is at most
  // probe_ratio times the nearest centre's; 0: all nprobe. Where the vectors form clusters that k-means cut
  // into several cells, a query's neighbours lie in the cells about as near as its own, and the far ones
  // add time and nothing else: 1.2 scans those alone (at most nprobe). Changeable with set_probe_ratio().
  float probe_ratio = 0.0f;
  // Vectors an ivf index trains its cells (and codebooks) on, drawn from its first add(); 0: max(64 × lists,
  // 16,384).
  std::size_t train_size = 0;
  // Seed of the HNSW level draws, and of an ivf index's training sample and k-means. An HNSW build with one
  // thread is reproducible; one with several depends on timing.
  std::uint64_t seed = 100;
};

class Index {
 public:
  virtual ~Index() = default;

  // "exact", "hnsw", a FAISS kind with its parameters ("ivf-pq:1024:32"), or "sharded"
  virtual std::string_view kind() const = 0;
  virtual std::size_t dim() const = 0;
  virtual Metric metric() const = 0;
  virtual std::size_t size() const = 0;  // vectors held (removed ones excluded)
  virtual bool contains(std::int64_t id) const = 0;
  // Whether search() gives true distances (false for codes that only estimate them: ivf-pq without R).
  virtual bool exact_distances() const { return true; }

  // Adds ids.size() vectors, row-major in `vectors` (ids.size() × dim() values). Ids are the caller's (track
  // ids), non-negative and distinct within one call; adding an id already held replaces its vector. Throws
  // IndexError (Invalid) for a wrong length, a negative or repeated id, a NaN or infinity, or (js) a negative
  // entry or a zero vector; nothing is added then.
  virtual void add(std::span<const std::int64_t> ids, std::span<const float> vectors) = 0;
  // Removes a vector; false if the id is not held.
  virtual bool remove(std::int64_t id) = 0;
  // Makes room for this many vectors in all (a hint: add() grows the index as needed anyway).
  virtual void reserve(std::size_t capacity) = 0;

  // The k nearest vectors to each of queries.size() / dim() queries (row-major); k is capped at size(), so
  // the results' k may be smaller than asked. Throws IndexError (Invalid) when queries.size() is not a
  // multiple of dim() or holds a NaN or infinity.
  virtual SearchResults search(std::span<const float> queries, std::size_t k) const = 0;

  // Writes the index to one file (under a temporary name, renamed into place: a killed run never leaves a
  // half-written index behind). Throws IndexError (Io).
  virtual void save(const std::filesystem::path& path) const = 0;
  // Replaces the contents with a file written by save() of the same kind, dimension and metric. Throws
  // IndexError (NotFound, NotAnIndex, Corrupt, Mismatch) naming the file and the reason; the index is
  // unchanged then.
  virtual void load(const std::filesystem::path& path) = 0;

  // Bytes held by the index's own structures.
  virtual std::size_t memory_bytes() const = 0;
  virtual unsigned threads() const = 0;
  virtual void set_threads(unsigned threads) = 0;  // 0: all cores
};

// "exact", "hnsw", or a FAISS kind: "ivf-flat:N", "ivf-pq:N:M[:R]", "hnsw-faiss:M" (faiss_index.h); throws
// IndexError (Invalid) for another kind, a zero dimension or bad options.
std::unique_ptr<Index> make_index(std::string_view kind, std::size_t dim, Metric metric,
                                  const IndexOptions& options = {});

// Opens an index file of any kind (a sharded one included), with the kind, dimension and metric it was saved
// with. `options` gives the threads and the search settings (ef_search, nprobe); the build settings come from
// the file.
std::unique_ptr<Index> load_index(const std::filesystem::path& path, const IndexOptions& options = {});

// Rule of thumb (bench/bench_index.cpp --n 50000): exact search below this many vectors. Up to there, at 256
// dimensions, exact search costs under half a millisecond of one core per query in batches and under 10 ms
// for a lone query (which reads every vector), its answers are exact, additions are free and nothing needs
// building (an HNSW graph of 50,000 such vectors takes ~20 s of CPU time). Above it exact search grows with
// the catalog while HNSW stays near 0.1 ms a query at recall@10 above 0.95.
inline constexpr std::size_t kExactIndexLimit = 50'000;

// "exact" for fewer than kExactIndexLimit vectors, otherwise "hnsw".
std::string_view recommended_index_kind(std::size_t expected_vectors);

}  // namespace tunelens
