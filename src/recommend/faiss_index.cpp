// The only file that includes FAISS: its headers stay out of the public ones.
#include "recommend/faiss_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <fcntl.h>
#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

#include "recommend/distance.h"
#include "recommend/exact_index.h"
#include "recommend/index_file.h"
#include "recommend/search_support.h"

namespace tunelens {

using recommend_detail::nearer;
using recommend_detail::Neighbor;

namespace {

constexpr std::size_t kMaxLists = std::size_t{1} << 22;
constexpr std::size_t kMaxCodeBytes = 1024;
constexpr std::size_t kMaxGraphDegree = 512;
constexpr std::size_t kMaxRerank = std::size_t{1} << 16;
constexpr std::size_t kPqBits = 8;  // 256 centroids per sub-quantizer (distance.h): one byte per sub-vector
using recommend_detail::kPqCentroids;
// Kept vectors start at a file offset that is a multiple of this (aligned floats in the mapping).
constexpr std::size_t kKeptAlignment = 64;
// After an add of at least this many vectors the lists give back the room std::vector grew them by.
constexpr std::size_t kShrinkAfter = 1024;

[[noreturn]] void bad_kind(std::string_view kind, const std::string& why) {
  throw IndexError(IndexErrorKind::Invalid, "bad index kind '" + std::string(kind) + "': " + why +
                                                " (expected ivf-flat:N, ivf-pq:N:M[:R] or hnsw-faiss:M)");
}

std::size_t parse_number(std::string_view kind, std::string_view text, const char* what, std::size_t low,
                         std::size_t high) {
  std::size_t value = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size())
    bad_kind(kind, std::string(what) + " '" + std::string(text) + "' is not a whole number");
  if (value < low || value > high)
    bad_kind(kind,
             std::string(what) + " must be between " + std::to_string(low) + " and " + std::to_string(high));
  return value;
}

// Sets the OpenMP thread count of this thread's parallel regions (FAISS's) for a scope; the setting is per
// thread, so concurrent searches from other threads keep theirs.
class OmpThreads {
 public:
  explicit OmpThreads(unsigned threads) : before_(omp_get_max_threads()) {
    omp_set_num_threads(static_cast<int>(recommend_detail::resolve_threads(threads)));
  }
  ~OmpThreads() { omp_set_num_threads(before_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int before_;
};

// A read-only mapping of a whole file.
class FileMapping {
 public:
  FileMapping(const std::filesystem::path& path, std::size_t bytes) : bytes_(bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IndexError(IndexErrorKind::NotFound, path, "cannot open to map its vectors");
    void* base = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) throw IndexError(IndexErrorKind::Io, path, "cannot map its vectors");
    ::madvise(base, bytes, MADV_RANDOM);  // re-ranking reads a few scattered rows
    base_ = static_cast<const char*>(base);
  }
  ~FileMapping() { ::munmap(const_cast<char*>(base_), bytes_); }
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  const char* at(std::size_t offset) const { return base_ + offset; }

 private:
  const char* base_ = nullptr;
  std::size_t bytes_;
};

// `count` rows of `vectors` (rows of dim), picked with the seed, in their original order.
std::vector<float> sample_rows(std::span<const float> vectors, std::size_t dim, std::size_t count,
                               std::uint64_t seed) {
  const std::size_t n = vectors.size() / dim;
  if (count >= n) return {vectors.begin(), vectors.end()};
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  order.resize(count);
  std::sort(order.begin(), order.end());
  std::vector<float> sample(count * dim);
  for (std::size_t i = 0; i < count; ++i)
    std::copy_n(vectors.data() + order[i] * dim, dim, sample.data() + i * dim);
  return sample;
}

template <typename T>
std::size_t vector_bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace

std::string FaissKind::name() const {
  // Built in steps: GCC 12 warns (falsely) about "literal" + std::string.
  std::string name = family == Family::IvfFlat ? "ivf-flat:"
                     : family == Family::IvfPq ? "ivf-pq:"
                                               : "hnsw-faiss:";
  if (family == Family::Hnsw) return name += std::to_string(m);
  name += std::to_string(lists);
  if (family == Family::IvfFlat) return name;
  name += ':';
  name += std::to_string(m);
  if (rerank > 0) {
    name += ':';
    name += std::to_string(rerank);
  }
  return name;
}

std::size_t FaissKind::training_minimum() const {
  switch (family) {
    case Family::IvfFlat:
      return lists;
    case Family::IvfPq:
      return std::max(lists, kPqCentroids);
    case Family::Hnsw:
      break;
  }
  return 0;
}

bool is_faiss_kind(std::string_view kind) {
  const std::string_view family = kind.substr(0, kind.find(':'));
  return family == "ivf-flat" || family == "ivf-pq" || family == "hnsw-faiss";
}

FaissKind parse_faiss_kind(std::string_view kind) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = kind.find(':', start);
    parts.push_back(kind.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  FaissKind parsed;
  if (parts[0] == "ivf-flat") {
    if (parts.size() != 2) bad_kind(kind, "ivf-flat takes one number, the lists");
    parsed.family = FaissKind::Family::IvfFlat;
    parsed.lists = parse_number(kind, parts[1], "lists N", 1, kMaxLists);
  } else if (parts[0] == "ivf-pq") {
    if (parts.size() != 3 && parts.size() != 4)
      bad_kind(kind, "ivf-pq takes the lists, the code bytes and optionally the re-ranked candidates");
    parsed.family = FaissKind::Family::IvfPq;
    parsed.lists = parse_number(kind, parts[1], "lists N", 1, kMaxLists);
    parsed.m = parse_number(kind, parts[2], "code bytes M", 1, kMaxCodeBytes);
    if (parts.size() == 4) parsed.rerank = parse_number(kind, parts[3], "re-ranked R", 0, kMaxRerank);
  } else if (parts[0] == "hnsw-faiss") {
    if (parts.size() != 2) bad_kind(kind, "hnsw-faiss takes one number, the graph degree");
    parsed.family = FaissKind::Family::Hnsw;
    parsed.m = parse_number(kind, parts[1], "graph degree M", 2, kMaxGraphDegree);
  } else {
    bad_kind(kind, "unknown FAISS kind");
  }
  return parsed;
}

struct FaissIndex::State {
  std::unique_ptr<faiss::Index> index;     // IndexIVFFlat, IndexIVFPQ or IndexHNSWFlat, over rows
  std::vector<std::int64_t> row_ids;       // row -> caller's id; -1 once removed
  std::vector<std::uint32_t> sorted_rows;  // the live rows, by their id (row_ids) ascending
  std::size_t removed = 0;                 // rows removed
  // ivf-pq:N:M:R: the prepared vector of every row, rows [0, mapped_rows) in the file mapping and the others
  // in `kept`.
  std::vector<float> kept;
  std::shared_ptr<FileMapping> mapping;
  const float* mapped = nullptr;
  std::size_t mapped_rows = 0;

  std::optional<std::size_t> position(std::int64_t id) const {
    const auto it =
        std::lower_bound(sorted_rows.begin(), sorted_rows.end(), id,
                         [&](std::uint32_t row, std::int64_t value) { return row_ids[row] < value; });
    if (it == sorted_rows.end() || row_ids[*it] != id) return std::nullopt;
    return static_cast<std::size_t>(it - sorted_rows.begin());
  }
  const float* row_vector(std::size_t row, std::size_t dim) const {
    return row < mapped_rows ? mapped + row * dim : kept.data() + (row - mapped_rows) * dim;
  }
  faiss::IndexIVF* ivf() const { return dynamic_cast<faiss::IndexIVF*>(index.get()); }
  // hnsw-faiss: FAISS 1.7.3 sizes the graph search's candidate list by the index's own efSearch whatever the
  // search parameters say (changed upstream in 2024: FAISS pull request 3233), so the setting is written
  // there.
  void set_graph_ef(std::size_t ef) {
    if (auto* graph = dynamic_cast<faiss::IndexHNSW*>(index.get()))
      graph->hnsw.efSearch = static_cast<int>(ef);
  }
  // Takes the rows of these ids out of the sorted maps (one pass) and, for ivf, out of the lists.
  void drop(std::vector<std::int64_t> ids);

  // An ivf index's search data, from the trained index (prepare_search): the cell centres in an exact index
  // (the queries' cells), and for ivf-pq the codebooks laid out for pq_distance_table() (distance.h).
  std::unique_ptr<ExactIndex> centres;
  std::vector<float> pq_columns, pq_norms;
  // ivf-pq:N:M:R: |v − c|² of every row's kept vector v and its cell's centre c (0 for removed rows). A
  // code's estimate of |q − v|² is |q − c|² + |v − c|² − 2 (q − c)·(v − c) with the code standing in for v −
  // c in all but the first term; the true |v − c|² in the second halves the estimate's error on clustered
  // vectors, so that fewer candidates need re-ranking for the same recall.
  std::vector<float> residual_norms;
  // Appends the norms of rows [first, first + n), these vectors in these cells.
  void add_residual_norms(std::size_t first, const float* vectors, std::size_t n,
                          const faiss::Index::idx_t* cells);
  void prepare_search(unsigned threads);
  // The cells each query scans: its `nprobe` nearest, nearest first, those past `ratio` times the nearest's
  // distance (ratio > 0) replaced by -1.
  SearchResults probe_cells(const float* queries, std::size_t nq, std::size_t nprobe, float ratio) const;
  // The ivf kinds' search: the vectors of each query's cells, by their distance (ivf-flat) or their code's
  // (ivf-pq); with `rerank` > 0 the `rerank` nearest by code re-ranked by their kept vectors. Distances are
  // multiplied by `scale`.
  void search_ivf(const float* queries, std::size_t nq, const SearchResults& cells, std::size_t rerank,
                  unsigned threads, float scale, SearchResults& results) const;
};

void FaissIndex::State::prepare_search(unsigned threads) {
  const faiss::IndexIVF* ivf_index = ivf();
  if (!ivf_index || !ivf_index->is_trained) return;
  const auto d = static_cast<std::size_t>(ivf_index->d);
  const auto& quantizer = dynamic_cast<const faiss::IndexFlatCodes&>(*ivf_index->quantizer);
  const std::span<const float> cells(reinterpret_cast<const float*>(quantizer.codes.data()),
                                     ivf_index->nlist * d);
  std::vector<std::int64_t> numbers(ivf_index->nlist);
  std::iota(numbers.begin(), numbers.end(), std::int64_t{0});
  centres = std::make_unique<ExactIndex>(d, Metric::SqEuclidean, threads);
  centres->add(numbers, cells);

  const auto* ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(ivf_index);
  if (!ivfpq) return;
  const faiss::ProductQuantizer& pq = ivfpq->pq;
  pq_columns.assign(pq.M * pq.dsub * pq.ksub, 0.0f);
  pq_norms.assign(pq.M * pq.ksub, 0.0f);
  for (std::size_t m = 0; m < pq.M; ++m)
    for (std::size_t c = 0; c < pq.ksub; ++c) {
      const float* centroid = pq.get_centroids(m, c);
      for (std::size_t j = 0; j < pq.dsub; ++j) {
        pq_columns[(m * pq.dsub + j) * pq.ksub + c] = centroid[j];
        pq_norms[m * pq.ksub + c] += centroid[j] * centroid[j];
      }
    }
  if (mapped_rows + kept.size() / d > 0 && residual_norms.size() < row_ids.size()) {
    residual_norms.assign(row_ids.size(), 0.0f);
    const float* centre = reinterpret_cast<const float*>(quantizer.codes.data());
    for (std::size_t list = 0; list < ivfpq->nlist; ++list) {
      const std::size_t size = ivfpq->invlists->list_size(list);
      const faiss::Index::idx_t* rows = ivfpq->invlists->get_ids(list);
      for (std::size_t i = 0; i < size; ++i) {
        const auto row = static_cast<std::size_t>(rows[i]);
        residual_norms[row] =
            recommend_detail::sqeuclidean_distance(row_vector(row, d), centre + list * d, d);
      }
    }
  }
}

void FaissIndex::State::add_residual_norms(std::size_t first, const float* vectors, std::size_t n,
                                           const faiss::Index::idx_t* cells) {
  const faiss::IndexIVF& ivf_index = *ivf();
  const auto d = static_cast<std::size_t>(ivf_index.d);
  const auto& quantizer = dynamic_cast<const faiss::IndexFlatCodes&>(*ivf_index.quantizer);
  const float* centre = reinterpret_cast<const float*>(quantizer.codes.data());
  residual_norms.resize(first, 0.0f);
  for (std::size_t i = 0; i < n; ++i)
    residual_norms.push_back(recommend_detail::sqeuclidean_distance(
        vectors + i * d, centre + static_cast<std::size_t>(cells[i]) * d, d));
}

SearchResults FaissIndex::State::probe_cells(const float* queries, std::size_t nq, std::size_t nprobe,
                                             float ratio) const {
  const faiss::IndexIVF& ivf_index = *ivf();
  SearchResults cells = centres->search({queries, nq * static_cast<std::size_t>(ivf_index.d)},
                                        std::min(nprobe, ivf_index.nlist));
  if (ratio > 0)
    for (std::size_t q = 0; q < nq; ++q) {
      const float limit = ratio * cells.distances[q * cells.k];
      for (std::size_t p = 1; p < cells.k; ++p)
        if (cells.distances[q * cells.k + p] > limit) cells.ids[q * cells.k + p] = -1;
    }
  return cells;
}

// FAISS's own IVF scans, in Debian's build for baseline x86-64 (and ivf-pq's without precomputed tables),
// spend most of a query on distances without vector instructions, and the coarse assignment on OpenBLAS
// threads that spin between small products; here the cells come from the exact index's kernel over all
// queries at once, and each cell's distances from distance.h's kernels, compiled for the CPU's vector width.
void FaissIndex::State::search_ivf(const float* queries, std::size_t nq, const SearchResults& cells,
                                   std::size_t rerank, unsigned threads, float scale,
                                   SearchResults& results) const {
  const faiss::IndexIVF& ivf_index = *ivf();
  const auto* ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(&ivf_index);
  const std::size_t d = static_cast<std::size_t>(ivf_index.d);
  const std::size_t M = ivfpq ? ivfpq->pq.M : 0, dsub = ivfpq ? ivfpq->pq.dsub : 0;
  const auto& quantizer = dynamic_cast<const faiss::IndexFlatCodes&>(*ivf_index.quantizer);
  const auto* centre = reinterpret_cast<const float*>(quantizer.codes.data());
  const std::size_t k = results.k;
  recommend_detail::run_tasks(recommend_detail::resolve_threads(threads), nq, [&](std::size_t q) {
    const float* query = queries + q * d;
    std::vector<float> residual(d), table(M * recommend_detail::kPqCentroids), estimates;
    std::vector<Neighbor> found;  // (distance, row)
    for (std::size_t p = 0; p < cells.k; ++p) {
      const std::int64_t cell = cells.ids[q * cells.k + p];
      if (cell < 0) continue;
      const auto list = static_cast<std::size_t>(cell);
      const std::size_t size = ivf_index.invlists->list_size(list);
      if (size == 0) continue;
      faiss::InvertedLists::ScopedCodes codes(ivf_index.invlists, list);
      faiss::InvertedLists::ScopedIds ids(ivf_index.invlists, list);
      estimates.resize(size);
      if (ivfpq) {
        float base = 0.0f;  // |r|²
        for (std::size_t j = 0; j < d; ++j) {
          residual[j] = query[j] - centre[list * d + j];
          base += residual[j] * residual[j];
        }
        const bool norms = !residual_norms.empty();
        recommend_detail::pq_distance_table(residual.data(), pq_columns.data(),
                                            norms ? nullptr : pq_norms.data(), M, dsub, table.data());
        recommend_detail::pq_code_distances(table.data(), codes.get(), size, M, base, estimates.data());
        if (norms)
          for (std::size_t i = 0; i < size; ++i)
            estimates[i] += residual_norms[static_cast<std::size_t>(ids.get()[i])];
      } else {
        const auto* vectors = reinterpret_cast<const float*>(codes.get());
        for (std::size_t i = 0; i < size; ++i)
          estimates[i] = recommend_detail::sqeuclidean_distance(query, vectors + i * d, d);
      }
      for (std::size_t i = 0; i < size; ++i) found.push_back({estimates[i], ids.get()[i]});
    }
    if (rerank > 0) {
      const std::size_t fetch = std::max(rerank, k);
      if (found.size() > fetch) {
        std::nth_element(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(fetch), found.end(),
                         nearer);
        found.resize(fetch);
      }
      // The kept vectors are scattered rows of a mapping: ask for the next ones while this one is summed.
      constexpr std::size_t kAhead = 4, kLine = 64 / sizeof(float);
      for (std::size_t j = 0; j < found.size(); ++j) {
        if (j + kAhead < found.size()) {
          const float* next = row_vector(static_cast<std::size_t>(found[j + kAhead].id), d);
          for (std::size_t at = 0; at < d; at += kLine) __builtin_prefetch(next + at);
        }
        found[j].distance = recommend_detail::sqeuclidean_distance(
            query, row_vector(static_cast<std::size_t>(found[j].id), d), d);
      }
    }
    for (Neighbor& n : found) {
      n.distance *= scale;
      n.id = row_ids[static_cast<std::size_t>(n.id)];
    }
    recommend_detail::write_nearest(found, q, results);
  });
}

namespace {

std::unique_ptr<faiss::Index> make_faiss(const FaissKind& kind, std::size_t dim,
                                         const IndexOptions& options) {
  const auto d = static_cast<faiss::Index::idx_t>(dim);
  if (kind.family == FaissKind::Family::Hnsw) {
    auto graph = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(dim), static_cast<int>(kind.m));
    graph->hnsw.efConstruction = static_cast<int>(options.ef_construction);
    graph->hnsw.efSearch = static_cast<int>(options.ef_search);
    return graph;
  }
  auto quantizer = std::make_unique<faiss::IndexFlatL2>(d);
  std::unique_ptr<faiss::IndexIVF> ivf;
  if (kind.family == FaissKind::Family::IvfFlat) {
    ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dim, kind.lists);
  } else {
    auto pq = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), dim, kind.lists, kind.m, kPqBits);
    pq->use_precomputed_table = -1;  // see the header: N·M·256 floats that would not count as codes
    pq->pq.cp.seed = static_cast<int>(options.seed & 0x7fffffff);
    pq->pq.cp.min_points_per_centroid = 1;  // the sample size is ours to pick (no warnings on stderr)
    ivf = std::move(pq);
  }
  quantizer.release();
  ivf->own_fields = true;
  ivf->cp.seed = static_cast<int>(options.seed & 0x7fffffff);
  ivf->cp.min_points_per_centroid = 1;
  ivf->nprobe = options.nprobe;
  return ivf;
}

// Hands the lists' spare room back (std::vector grows by doubling).
void shrink_lists(faiss::IndexIVF& ivf) {
  if (auto* lists = dynamic_cast<faiss::ArrayInvertedLists*>(ivf.invlists)) {
    for (auto& codes : lists->codes) codes.shrink_to_fit();
    for (auto& ids : lists->ids) ids.shrink_to_fit();
  }
}

void check_probe_ratio(float ratio) {
  if (!(ratio == 0.0f || (ratio >= 1.0f && ratio <= 1e6f)))
    throw IndexError(IndexErrorKind::Invalid, "probe ratio must be 0 (off) or between 1 and 1e6");
}

std::string faiss_reason(const faiss::FaissException& e) {
  // FAISS's message ends with the file and line of its own source: keep the message.
  return e.msg;
}

}  // namespace

FaissIndex::FaissIndex(std::string_view kind, std::size_t dim, Metric metric, const IndexOptions& options)
    : kind_(parse_faiss_kind(kind)), name_(kind_.name()), dim_(dim), metric_(metric), options_(options) {
  if (dim == 0) throw IndexError(IndexErrorKind::Invalid, "index dimension must be at least 1");
  if (metric == Metric::JensenShannon)
    throw IndexError(IndexErrorKind::Invalid,
                     name_ +
                         ": FAISS indexes search by L2 or inner product, not the Jensen-Shannon divergence "
                         "(use exact or hnsw for js)");
  if (kind_.family == FaissKind::Family::IvfPq && dim % kind_.m != 0)
    throw IndexError(IndexErrorKind::Invalid, name_ + ": the code bytes M (" + std::to_string(kind_.m) +
                                                  ") must divide the dimension " + std::to_string(dim));
  if (options.nprobe < 1) throw IndexError(IndexErrorKind::Invalid, "nprobe must be at least 1");
  if (options.ef_search < 1) throw IndexError(IndexErrorKind::Invalid, "ef_search must be at least 1");
  check_probe_ratio(options.probe_ratio);
  if (options.ef_construction < 1)
    throw IndexError(IndexErrorKind::Invalid, "ef_construction must be at least 1");
  rerank_ = kind_.rerank;
  state_ = std::make_unique<State>();
  state_->index = make_faiss(kind_, dim, options_);
}

FaissIndex::~FaissIndex() = default;

std::size_t FaissIndex::size() const {
  return state_->sorted_rows.size();
}

bool FaissIndex::contains(std::int64_t id) const {
  return state_->position(id).has_value();
}

bool FaissIndex::exact_distances() const {
  return kind_.family != FaissKind::Family::IvfPq || rerank_ > 0;
}

bool FaissIndex::trained() const {
  return state_->index->is_trained;
}

void FaissIndex::set_threads(unsigned threads) {
  options_.threads = threads;
  if (state_->centres) state_->centres->set_threads(threads);
}

void FaissIndex::set_nprobe(std::size_t nprobe) {
  if (nprobe < 1) throw IndexError(IndexErrorKind::Invalid, "nprobe must be at least 1");
  options_.nprobe = nprobe;
}

void FaissIndex::set_probe_ratio(float ratio) {
  check_probe_ratio(ratio);
  options_.probe_ratio = ratio;
}

void FaissIndex::set_ef_search(std::size_t ef_search) {
  if (ef_search < 1) throw IndexError(IndexErrorKind::Invalid, "ef_search must be at least 1");
  options_.ef_search = ef_search;
  state_->set_graph_ef(ef_search);
}

void FaissIndex::set_rerank(std::size_t rerank) {
  if (kind_.rerank == 0)
    throw IndexError(IndexErrorKind::Invalid,
                     name_ + " keeps no vectors to re-rank with (ivf-pq:N:M:R does)");
  if (rerank > kMaxRerank)
    throw IndexError(IndexErrorKind::Invalid,
                     "re-ranked candidates must be at most " + std::to_string(kMaxRerank));
  rerank_ = rerank;
}

std::size_t FaissIndex::mapped_bytes() const {
  return state_->mapped_rows * dim_ * sizeof(float);
}

void FaissIndex::train(std::span<const float> vectors) {
  if (kind_.family == FaissKind::Family::Hnsw) return;
  if (trained()) throw IndexError(IndexErrorKind::Invalid, name_ + " is already trained");
  if (vectors.size() % dim_ != 0)
    throw IndexError(IndexErrorKind::Invalid, "train: values are not a whole number of vectors");
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, vectors, "vector", prepared);
  const std::size_t n = prepared.size() / dim_;
  const std::size_t needed = kind_.training_minimum();
  if (n < needed)
    throw IndexError(IndexErrorKind::Invalid, name_ + " needs at least " + std::to_string(needed) +
                                                  " vectors to train on, got " + std::to_string(n) +
                                                  " (add more at once, or use fewer lists)");
  const std::size_t wanted =
      options_.train_size > 0 ? options_.train_size : std::max<std::size_t>(64 * kind_.lists, 16384);
  const std::vector<float> sample = sample_rows(prepared, dim_, std::max(wanted, needed), options_.seed);
  const OmpThreads threads(options_.threads);
  try {
    state_->index->train(static_cast<faiss::Index::idx_t>(sample.size() / dim_), sample.data());
    state_->prepare_search(options_.threads);
  } catch (const faiss::FaissException& e) {
    throw IndexError(IndexErrorKind::Invalid, name_ + ": training failed: " + faiss_reason(e));
  }
}

void FaissIndex::reserve(std::size_t capacity) {
  state_->row_ids.reserve(capacity);
  state_->sorted_rows.reserve(capacity);
}

void FaissIndex::State::drop(std::vector<std::int64_t> ids) {
  State& s = *this;
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end());
  std::vector<faiss::Index::idx_t> rows;
  std::size_t out = 0;
  for (std::size_t i = 0, d = 0; i < s.sorted_rows.size(); ++i) {
    const std::uint32_t row = s.sorted_rows[i];
    while (d < ids.size() && ids[d] < s.row_ids[row]) ++d;
    if (d < ids.size() && ids[d] == s.row_ids[row]) {
      rows.push_back(row);
      s.row_ids[row] = -1;
      continue;
    }
    s.sorted_rows[out++] = row;
  }
  s.sorted_rows.resize(out);
  s.removed += rows.size();
  if (faiss::IndexIVF* ivf = s.ivf()) {
    const faiss::IDSelectorBatch selected(rows.size(), rows.data());
    ivf->remove_ids(selected);
  }
}

void FaissIndex::add(std::span<const std::int64_t> ids, std::span<const float> vectors) {
  recommend_detail::check_add_arguments(dim_, ids, vectors);
  if (ids.empty()) return;
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, vectors, "vector", prepared);
  if (!trained()) train(prepared);
  State& s = *state_;
  const std::size_t n = ids.size(), first = s.row_ids.size();
  if (first + n > std::numeric_limits<std::uint32_t>::max())
    throw IndexError(IndexErrorKind::Invalid, name_ + ": more than 2^32 rows; split the catalog into shards");
  std::vector<std::int64_t> held;
  for (std::int64_t id : ids)
    if (s.position(id)) held.push_back(id);
  s.drop(std::move(held));  // adding an id already held replaces its vector

  std::vector<faiss::Index::idx_t> rows(n);
  std::iota(rows.begin(), rows.end(), static_cast<faiss::Index::idx_t>(first));
  const OmpThreads threads(options_.threads);
  try {
    if (faiss::IndexIVF* ivf = s.ivf()) {
      std::vector<faiss::Index::idx_t> cells(n);
      ivf->quantizer->assign(static_cast<faiss::Index::idx_t>(n), prepared.data(), cells.data());
      ivf->add_core(static_cast<faiss::Index::idx_t>(n), prepared.data(), rows.data(), cells.data());
      if (n >= kShrinkAfter) shrink_lists(*ivf);
      if (kind_.rerank > 0) s.add_residual_norms(first, prepared.data(), n, cells.data());
    } else {
      s.index->add(static_cast<faiss::Index::idx_t>(n), prepared.data());  // graph nodes are rows in order
    }
  } catch (const faiss::FaissException& e) {
    throw IndexError(IndexErrorKind::Invalid, name_ + ": add failed: " + faiss_reason(e));
  }
  s.row_ids.insert(s.row_ids.end(), ids.begin(), ids.end());
  if (kind_.rerank > 0) s.kept.insert(s.kept.end(), prepared.begin(), prepared.end());

  // Merge the new rows into the sorted ones.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a] < ids[b]; });
  std::vector<std::uint32_t> merged;
  merged.reserve(std::max(s.sorted_rows.capacity(), s.sorted_rows.size() + n));
  std::size_t i = 0;
  for (std::size_t j : order) {
    for (; i < s.sorted_rows.size() && s.row_ids[s.sorted_rows[i]] < ids[j]; ++i)
      merged.push_back(s.sorted_rows[i]);
    merged.push_back(static_cast<std::uint32_t>(first + j));
  }
  merged.insert(merged.end(), s.sorted_rows.begin() + static_cast<std::ptrdiff_t>(i), s.sorted_rows.end());
  s.sorted_rows = std::move(merged);
}

bool FaissIndex::remove(std::int64_t id) {
  if (!contains(id)) return false;
  state_->drop({id});
  return true;
}

SearchResults FaissIndex::search(std::span<const float> queries, std::size_t k) const {
  k = std::min(k, size());  // never more than the index holds
  const std::size_t nq = recommend_detail::check_queries(dim_, queries);
  SearchResults results = recommend_detail::empty_results(nq, k);
  if (!trained())
    throw IndexError(IndexErrorKind::Invalid,
                     name_ + " is not trained yet: its first add() trains it on a sample of its vectors");
  if (nq == 0 || k == 0) return results;
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, queries, "query", prepared);
  const State& s = *state_;
  const float scale = metric_ == Metric::Cosine ? 0.5f : 1.0f;  // |a - b|² / 2 = 1 - cos for unit vectors
  if (kind_.family != FaissKind::Family::Hnsw) {
    const SearchResults cells = s.probe_cells(prepared.data(), nq, options_.nprobe, options_.probe_ratio);
    s.search_ivf(prepared.data(), nq, cells, rerank_, options_.threads, scale, results);
    return results;
  }

  // Candidates asked of the graph: k, and one more per removed node, which it still returns.
  std::size_t fetch = k + s.removed;
  fetch = std::min<std::size_t>(fetch, static_cast<std::size_t>(s.index->ntotal));
  std::vector<float> distances(nq * fetch);
  std::vector<faiss::Index::idx_t> rows(nq * fetch);
  {
    const OmpThreads threads(options_.threads);
    const auto n = static_cast<faiss::Index::idx_t>(nq), f = static_cast<faiss::Index::idx_t>(fetch);
    try {
      faiss::SearchParametersHNSW params;
      params.efSearch = static_cast<int>(std::max(options_.ef_search, fetch));
      s.index->search(n, prepared.data(), f, distances.data(), rows.data(), &params);
    } catch (const faiss::FaissException& e) {
      throw IndexError(IndexErrorKind::Invalid, name_ + ": search failed: " + faiss_reason(e));
    }
  }
  recommend_detail::run_tasks(recommend_detail::resolve_threads(options_.threads), nq, [&](std::size_t q) {
    std::vector<Neighbor> row;
    row.reserve(fetch);
    for (std::size_t j = 0; j < fetch; ++j) {
      const faiss::Index::idx_t r = rows[q * fetch + j];
      if (r < 0 || s.row_ids[static_cast<std::size_t>(r)] < 0) continue;
      row.push_back({distances[q * fetch + j] * scale, s.row_ids[static_cast<std::size_t>(r)]});
    }
    recommend_detail::write_nearest(row, q, results);
  });
  return results;
}

// ---- file ----
//
// Payload of a FAISS index file (header kind 3, recommend/index_file.h):
//   u32 length, then the kind's canonical name ("ivf-pq:1024:32:100")
//   u64 length, then FAISS's write_index() stream of the index (over rows)
//   u64 rows, then the id of every row (int64; -1 for a removed row)
//   ivf-pq:N:M:R only: zero bytes up to a file offset that is a multiple of 64, then every row's prepared
//   vector (float32 × dim), mapped rather than read when the file is loaded.

void FaissIndex::save(const std::filesystem::path& path) const {
  const State& s = *state_;
  recommend_detail::IndexFileHeader header;
  header.kind = recommend_detail::kFaissKind;
  header.metric = recommend_detail::metric_code(metric_);
  header.dim = static_cast<std::uint32_t>(dim_);
  header.count = size();
  faiss::VectorIOWriter stream;
  try {
    faiss::write_index(s.index.get(), &stream);
  } catch (const faiss::FaissException& e) {
    throw IndexError(IndexErrorKind::Io, path, "cannot serialise the index: " + faiss_reason(e));
  }
  recommend_detail::IndexFileWriter file(path, header);
  std::size_t offset = sizeof header;
  auto write = [&](const void* data, std::size_t bytes) {
    file.write_payload(data, bytes);
    offset += bytes;
  };
  const auto name_length = static_cast<std::uint32_t>(name_.size());
  write(&name_length, sizeof name_length);
  write(name_.data(), name_.size());
  const std::uint64_t stream_bytes = stream.data.size();
  write(&stream_bytes, sizeof stream_bytes);
  write(stream.data.data(), stream.data.size());
  const std::uint64_t rows = s.row_ids.size();
  write(&rows, sizeof rows);
  write(s.row_ids.data(), s.row_ids.size() * sizeof(std::int64_t));
  if (kind_.rerank > 0) {
    const char zeros[kKeptAlignment] = {};
    write(zeros, (kKeptAlignment - offset % kKeptAlignment) % kKeptAlignment);
    if (s.mapped_rows > 0) write(s.mapped, s.mapped_rows * dim_ * sizeof(float));
    write(s.kept.data(), s.kept.size() * sizeof(float));
  }
  file.commit();
}

void FaissIndex::load(const std::filesystem::path& path) {
  recommend_detail::IndexFileReader file(path);
  file.expect(recommend_detail::kFaissKind, dim_, metric_);
  const std::uint64_t payload = file.header().payload_bytes;
  std::uint64_t offset = sizeof(recommend_detail::IndexFileHeader);
  auto read = [&](void* data, std::size_t bytes) {
    file.read_payload(data, bytes);
    offset += bytes;
  };
  auto corrupt = [&](const std::string& reason) { file.fail(IndexErrorKind::Corrupt, reason); };

  const std::string name = recommend_detail::read_kind_name(file);
  offset += sizeof(std::uint32_t) + name.size();
  if (name != name_) {
    try {
      parse_faiss_kind(name);
    } catch (const IndexError&) {
      corrupt("bad FAISS kind");
    }
    file.fail(IndexErrorKind::Mismatch, "is an " + name + " index, not an " + name_ + " one");
  }

  std::uint64_t stream_bytes = 0;
  read(&stream_bytes, sizeof stream_bytes);
  if (stream_bytes > payload) corrupt("FAISS stream runs past the payload");
  faiss::VectorIOReader stream;
  stream.data.resize(stream_bytes);
  read(stream.data.data(), stream.data.size());
  std::uint64_t rows = 0;
  read(&rows, sizeof rows);
  if (rows > payload / sizeof(std::int64_t) || rows > std::numeric_limits<std::uint32_t>::max())
    corrupt("row count runs past the payload");
  auto loaded = std::make_unique<State>();
  loaded->row_ids.resize(rows);
  read(loaded->row_ids.data(), rows * sizeof(std::int64_t));

  // The ids: each at most once, none below -1.
  std::vector<std::size_t> order;
  for (std::size_t r = 0; r < rows; ++r) {
    if (loaded->row_ids[r] < -1) corrupt("negative id " + std::to_string(loaded->row_ids[r]));
    if (loaded->row_ids[r] >= 0) order.push_back(r);
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return loaded->row_ids[a] < loaded->row_ids[b]; });
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0 && loaded->row_ids[order[i]] == loaded->row_ids[order[i - 1]])
      corrupt("id " + std::to_string(loaded->row_ids[order[i]]) + " appears twice");
    loaded->sorted_rows.push_back(static_cast<std::uint32_t>(order[i]));
  }
  loaded->removed = rows - order.size();
  if (order.size() != file.header().count)
    corrupt("holds " + std::to_string(order.size()) + " vectors where the header says " +
            std::to_string(file.header().count));

  std::uint64_t kept_offset = 0;
  if (kind_.rerank > 0) {
    char zeros[kKeptAlignment];
    read(zeros, static_cast<std::size_t>((kKeptAlignment - offset % kKeptAlignment) % kKeptAlignment));
    kept_offset = offset;
    if (payload + sizeof(recommend_detail::IndexFileHeader) - offset != rows * dim_ * sizeof(float))
      corrupt("kept vectors do not match the rows");
    // Read once for the checksum, in pieces: the vectors themselves are mapped below.
    std::vector<char> piece(std::size_t{1} << 20);
    for (std::uint64_t left = rows * dim_ * sizeof(float); left > 0;) {
      const auto bytes = static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()));
      read(piece.data(), bytes);
      left -= bytes;
    }
  }
  file.verify_checksum();

  try {
    loaded->index.reset(faiss::read_index(&stream));
  } catch (const faiss::FaissException& e) {
    corrupt("FAISS stream: " + faiss_reason(e));
  }
  const faiss::Index& index = *loaded->index;
  const bool right_type = kind_.family == FaissKind::Family::IvfFlat
                              ? dynamic_cast<const faiss::IndexIVFFlat*>(&index) != nullptr
                          : kind_.family == FaissKind::Family::IvfPq
                              ? dynamic_cast<const faiss::IndexIVFPQ*>(&index) != nullptr
                              : dynamic_cast<const faiss::IndexHNSWFlat*>(&index) != nullptr;
  if (!right_type || index.d != static_cast<faiss::Index::idx_t>(dim_) ||
      index.metric_type != faiss::METRIC_L2)
    corrupt("the FAISS stream is not an " + name_ + " index of dimension " + std::to_string(dim_));
  if (faiss::IndexIVF* ivf = loaded->ivf()) {
    if (ivf->nlist != kind_.lists) corrupt("the FAISS stream has " + std::to_string(ivf->nlist) + " lists");
    if (static_cast<std::uint64_t>(ivf->ntotal) != order.size()) corrupt("the FAISS lists hold other rows");
    // Every row a list holds must be a live row of the map: search() looks rows up without checks.
    for (std::size_t list = 0; list < ivf->nlist; ++list) {
      const std::size_t entries = ivf->invlists->list_size(list);
      const faiss::Index::idx_t* list_rows = ivf->invlists->get_ids(list);
      for (std::size_t e = 0; e < entries; ++e)
        if (list_rows[e] < 0 || static_cast<std::uint64_t>(list_rows[e]) >= rows ||
            loaded->row_ids[static_cast<std::size_t>(list_rows[e])] < 0)
          corrupt("a FAISS list holds an unknown row");
    }
    ivf->nprobe = options_.nprobe;
    if (auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(ivf)) {
      if (pq->pq.M != kind_.m || pq->pq.nbits != kPqBits) corrupt("the FAISS stream has other codes");
      // read_index() computes the tables make_faiss() turns off: the same arithmetic and memory as built.
      pq->use_precomputed_table = -1;
      pq->precomputed_table.resize(0);
    }
  } else if (static_cast<std::uint64_t>(index.ntotal) != rows) {
    corrupt("the FAISS graph holds " + std::to_string(index.ntotal) + " rows, the map " +
            std::to_string(rows));
  }
  if (kind_.rerank > 0 && rows > 0) {
    loaded->mapping = std::make_shared<FileMapping>(
        path, static_cast<std::size_t>(kept_offset + rows * dim_ * sizeof(float)));
    loaded->mapped =
        reinterpret_cast<const float*>(loaded->mapping->at(static_cast<std::size_t>(kept_offset)));
    loaded->mapped_rows = rows;
  }
  loaded->prepare_search(options_.threads);
  loaded->set_graph_ef(options_.ef_search);
  state_ = std::move(loaded);
}

std::size_t FaissIndex::memory_bytes() const {
  const State& s = *state_;
  std::size_t bytes = vector_bytes(s.row_ids) + vector_bytes(s.sorted_rows) + vector_bytes(s.kept) +
                      vector_bytes(s.residual_norms);
  if (const faiss::IndexIVF* ivf = s.ivf()) {
    if (const auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(ivf->quantizer))
      bytes += vector_bytes(flat->codes);
    if (const auto* lists = dynamic_cast<const faiss::ArrayInvertedLists*>(ivf->invlists)) {
      for (const auto& codes : lists->codes) bytes += vector_bytes(codes) + sizeof codes;
      for (const auto& ids : lists->ids) bytes += vector_bytes(ids) + sizeof ids;
    }
    if (const auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(ivf))
      bytes += vector_bytes(pq->pq.centroids) + pq->precomputed_table.size() * sizeof(float) +
               vector_bytes(s.pq_columns) + vector_bytes(s.pq_norms) +
               (s.centres ? s.centres->memory_bytes() : 0);
  } else if (const auto* graph = dynamic_cast<const faiss::IndexHNSW*>(s.index.get())) {
    if (const auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(graph->storage))
      bytes += vector_bytes(flat->codes);
    bytes += vector_bytes(graph->hnsw.neighbors) + vector_bytes(graph->hnsw.offsets) +
             vector_bytes(graph->hnsw.levels) + vector_bytes(graph->hnsw.assign_probas) +
             vector_bytes(graph->hnsw.cum_nneighbor_per_level);
  }
  return bytes;
}

}  // namespace tunelens
