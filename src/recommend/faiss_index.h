// FAISS indexes (Debian libfaiss-dev 1.7.3) behind the Index interface: for catalogs whose vectors no longer
// fit in memory as they are, or whose exact search is too slow.
//
// Three kinds, named with their build parameters:
//
//   "ivf-flat:N"       N inverted lists (k-means cells); the vectors stored as they are in their cell's list.
//                      A query scans the `nprobe` cells nearest to it: exact distances, fewer vectors.
//   "ivf-pq:N:M"       N lists, each vector stored as a product-quantisation code of M bytes (M sub-vectors
//                      of dim / M dimensions, 256 centroids each, of the vector's residual from its cell
//                      centre). Distances are estimated from the codes (asymmetric: the query stays exact).
//   "ivf-pq:N:M:R"     the same, and the vectors themselves kept in the index file: the R candidates nearest
//                      by estimate are re-ranked by their exact distance. A saved and loaded index reads those
//                      vectors through a memory mapping of its file (on disk, in the page cache when memory
//                      allows; mapped_bytes()), so its memory stays the codes'. The estimate uses each
//                      vector's true distance to its cell centre (4 bytes a vector, from the kept vectors)
//                      where the codes alone would estimate it too: half the error on clustered vectors,
//                      so fewer candidates reach the same recall.
//   "hnsw-faiss:M"     FAISS's HNSW graph (IndexHNSWFlat) of degree M, vectors stored as they are.
//
// Settings (IndexOptions):
//   nprobe = 16          cells scanned per query (ivf kinds); more: better recall, slower queries
//   probe_ratio = 0      of those, only the cells whose centre's squared distance is within probe_ratio
//                        times the nearest centre's (0: all nprobe); see IndexOptions
//   ef_search = 32       candidates kept while searching (hnsw-faiss); at least k are kept
//   ef_construction=128  candidates kept while linking a new vector (hnsw-faiss)
//   train_size = 0       vectors the ivf kinds train on: 0 picks max(64·N, 16,384), all when fewer are given
//   seed = 100           which vectors form the training sample, and the k-means seeds
//   threads = 0          threads for add() and search() (0: all cores)
//
// Training: an ivf index is trained by its first add() (or train()), on a sample of train_size of its vectors
// picked with the seed, so the same vectors and seed give the same index. It needs at least N vectors
// (k-means of N cells) and, for ivf-pq, at least 256 (the codebooks). Until trained it refuses add() of fewer
// and search(). hnsw-faiss needs no training.
//
// Metrics: sqeuclidean is FAISS's L2 (squared). cosine is L2 on L2-normalised vectors, |a - b|² = 2 - 2 cos,
// reported as 1 - cos = |a - b|² / 2. js is refused (no FAISS index searches by a divergence).
//
// Ids: FAISS holds each vector under a row number of ours, handed out in order and never reused; the index
// maps rows to the caller's ids and back (a row → id array and the rows sorted by id: 12 bytes a vector).
// add() of an id already held replaces it: the old row is removed (ivf: taken out of its list; hnsw-faiss:
// left in the graph as a waypoint and never returned) and the vector added under a new row. Removed rows'
// kept vectors and graph nodes stay until the index is rebuilt.
//
// Memory (memory_bytes): the lists' codes and row numbers, the centroids, the codebooks, the graph, the id
// maps, the distances to the cell centres and vectors kept in memory; the mapped vectors of ivf-pq:N:M:R are
// counted by mapped_bytes() instead. ivf-pq uses no precomputed distance tables (N·M·256 floats: 32 MiB at
// N = 1024, M = 32): each probed cell's table is computed per query.
//
// Search: FAISS trains, assigns, encodes and stores (its lists, its files); the ivf kinds' queries are
// tunelens's own (faiss_index.cpp says why): the cells from the exact index's kernel over the centres, each
// cell's distances from distance.h's kernels. hnsw-faiss searches with FAISS.
//
// FAISS runs on OpenMP. On a machine shared with other work, OMP_WAIT_POLICY=PASSIVE (set before the program
// starts) keeps its idle threads from spinning: training ivf-pq took 4 times longer without it here.
#pragma once

#include <memory>
#include <string>

#include "recommend/index.h"

namespace tunelens {

// A FAISS kind, parsed. Throws IndexError (Invalid) for a bad spec from parse_faiss_kind().
struct FaissKind {
  enum class Family { IvfFlat, IvfPq, Hnsw };
  Family family = Family::IvfFlat;
  std::size_t lists = 0;     // N (ivf)
  std::size_t m = 0;         // code bytes (ivf-pq) or graph degree (hnsw-faiss)
  std::size_t rerank = 0;    // R (ivf-pq): candidates re-ranked exactly; 0: none, vectors not kept
  std::string name() const;  // the canonical spec, e.g. "ivf-pq:1024:32"
  // Vectors the first add() must bring to train on: N for ivf-flat, max(N, 256) for ivf-pq, 0 for hnsw-faiss.
  std::size_t training_minimum() const;
};
// True when `kind` names a FAISS family ("ivf-flat", "ivf-pq" or "hnsw-faiss", with or without parameters).
bool is_faiss_kind(std::string_view kind);
FaissKind parse_faiss_kind(std::string_view kind);

class FaissIndex final : public Index {
 public:
  // Throws IndexError (Invalid) for a bad kind, a dimension ivf-pq's M does not divide, or the js metric.
  FaissIndex(std::string_view kind, std::size_t dim, Metric metric, const IndexOptions& options = {});
  ~FaissIndex() override;

  std::string_view kind() const override { return name_; }
  std::size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::size_t size() const override;
  bool contains(std::int64_t id) const override;
  bool exact_distances() const override;

  void add(std::span<const std::int64_t> ids, std::span<const float> vectors) override;
  bool remove(std::int64_t id) override;
  void reserve(std::size_t capacity) override;
  SearchResults search(std::span<const float> queries, std::size_t k) const override;
  void save(const std::filesystem::path& path) const override;
  void load(const std::filesystem::path& path) override;
  std::size_t memory_bytes() const override;
  unsigned threads() const override { return options_.threads; }
  void set_threads(unsigned threads) override;

  const FaissKind& faiss_kind() const { return kind_; }
  bool trained() const;
  // Trains an ivf index on these vectors (a sample of train_size of them); a no-op for hnsw-faiss. Throws
  // IndexError (Invalid) when already trained or given too few.
  void train(std::span<const float> vectors);
  std::size_t nprobe() const { return options_.nprobe; }
  void set_nprobe(std::size_t nprobe);
  float probe_ratio() const { return options_.probe_ratio; }
  void set_probe_ratio(float ratio);
  std::size_t ef_search() const { return options_.ef_search; }
  void set_ef_search(std::size_t ef_search);
  // Candidates re-ranked by exact distance: R of the kind unless changed.
  std::size_t rerank() const { return rerank_; }
  // Changes how many candidates an ivf-pq:N:M:R index re-ranks (0: none, the codes' estimates; the vectors
  // stay kept either way).
  void set_rerank(std::size_t rerank);
  // Bytes of kept vectors read through the file mapping (not in memory_bytes()).
  std::size_t mapped_bytes() const;

 private:
  struct State;
  FaissKind kind_;
  std::string name_;
  std::size_t dim_;
  Metric metric_;
  IndexOptions options_;
  std::size_t rerank_ = 0;
  std::unique_ptr<State> state_;
};

}  // namespace tunelens
