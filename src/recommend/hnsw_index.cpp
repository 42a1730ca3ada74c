// The only file that includes hnswlib: its header defines non-inline functions, and it stays out of the
// public headers.
#include "recommend/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

#include "recommend/distance.h"
#include "recommend/index_file.h"
#include "recommend/search_support.h"

namespace tunelens {

using recommend_detail::nearer;
using recommend_detail::Neighbor;

namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;

// Room for this many vectors in a new graph; add() doubles it as needed.
constexpr std::size_t kInitialCapacity = 64;
// hnswlib keeps a list's length in 16 bits and a deletion mark in the next 8.
constexpr std::size_t kMaxM = 10000;

// Our distance kernels as an hnswlib space: vectors of `dim` floats.
class VectorSpace final : public hnswlib::SpaceInterface<float> {
 public:
  VectorSpace(std::size_t dim, Metric metric) : dim_(dim), metric_(metric) {}
  std::size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override {
    switch (metric_) {
      case Metric::Cosine:
        return recommend_detail::cosine_space_distance;
      case Metric::JensenShannon:
        return recommend_detail::js_space_distance;
      case Metric::SqEuclidean:
        break;
    }
    return recommend_detail::sqeuclidean_space_distance;
  }
  void* get_dist_func_param() override { return &dim_; }

 private:
  std::size_t dim_;
  Metric metric_;
};

// Moves the graph's bottom layer (links, vectors and ids of every element: nearly all its memory) to a block
// that the kernel backs with 2 MiB pages where transparent huge pages are enabled ("madvise" or "always"). A
// search jumps between random vectors; with 4 KiB pages nearly every jump is also a TLB miss, and on a
// virtual machine a TLB miss is a two-level page walk. Measured on the benchmark machine: 10-20 % more
// queries per second. hnswlib allocates with malloc and frees with free(); an aligned_alloc block is valid
// for both (and for its realloc).
void place_on_huge_pages(Hnsw& graph) {
#ifdef __linux__
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  const std::size_t used = graph.cur_element_count * graph.size_data_per_element_;
  const std::size_t capacity = graph.max_elements_ * graph.size_data_per_element_;
  if (capacity < kHugePage) return;  // a small graph: not worth a copy
  const std::size_t bytes = (capacity + kHugePage - 1) / kHugePage * kHugePage;
  void* block = std::aligned_alloc(kHugePage, bytes);
  if (!block) return;                      // keep hnswlib's block
  ::madvise(block, bytes, MADV_HUGEPAGE);  // advice only: no error matters
  std::memcpy(block, graph.data_level0_memory_, used);
  std::free(graph.data_level0_memory_);
  graph.data_level0_memory_ = static_cast<char*>(block);
#else
  (void)graph;
#endif
}

// Grows the graph's capacity (hnswlib reallocates its blocks), then re-homes the bottom layer on huge pages.
void grow(Hnsw& graph, std::size_t capacity) {
  graph.resizeIndex(capacity);
  place_on_huge_pages(graph);
}

// The fixed part of hnswlib's saveIndex() stream (version 0.6), field by field.
struct HnswlibHeader {
  std::size_t offset_level0, max_elements, count, size_data_per_element, label_offset, offset_data;
  int max_level;
  hnswlib::tableint entry_point;
  std::size_t max_m, max_m0, m;
  double mult;
  std::size_t ef_construction;
};
constexpr std::size_t kHnswlibHeaderBytes = 6 * sizeof(std::size_t) + sizeof(int) +
                                            sizeof(hnswlib::tableint) + 3 * sizeof(std::size_t) +
                                            sizeof(double) + sizeof(std::size_t);

template <typename T>
bool read_pod(std::istream& in, T& value) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&value), sizeof value));
}

// The bytes hnswlib's saveIndex() writes for this graph.
std::uintmax_t expected_stream_bytes(const Hnsw& graph) {
  std::uintmax_t bytes = kHnswlibHeaderBytes + graph.cur_element_count * graph.size_data_per_element_;
  for (std::size_t i = 0; i < graph.cur_element_count; ++i)
    bytes += sizeof(unsigned) +
             (graph.element_levels_[i] > 0 ? graph.size_links_per_element_ * graph.element_levels_[i] : 0);
  return bytes;
}

// Checks an hnswlib stream (the payload of `file`, copied to `stream`) thoroughly enough that hnswlib's
// loadIndex(), which trusts it, cannot fail or read out of bounds: the header's sizes agree with `dim`, and
// the per-vector link lists add up to the file's length.
HnswlibHeader check_stream(const recommend_detail::IndexFileReader& file, const std::filesystem::path& stream,
                           std::size_t dim) {
  auto corrupt = [&](const std::string& reason) {
    file.fail(IndexErrorKind::Corrupt, "HNSW graph: " + reason);
  };
  std::ifstream in(stream, std::ios::binary);
  const std::uintmax_t total = file.header().payload_bytes;
  HnswlibHeader h{};
  if (!read_pod(in, h.offset_level0) || !read_pod(in, h.max_elements) || !read_pod(in, h.count) ||
      !read_pod(in, h.size_data_per_element) || !read_pod(in, h.label_offset) ||
      !read_pod(in, h.offset_data) || !read_pod(in, h.max_level) || !read_pod(in, h.entry_point) ||
      !read_pod(in, h.max_m) || !read_pod(in, h.max_m0) || !read_pod(in, h.m) || !read_pod(in, h.mult) ||
      !read_pod(in, h.ef_construction))
    corrupt("truncated header");
  if (h.offset_level0 != 0 || h.m < 2 || h.m > kMaxM || h.max_m != h.m || h.max_m0 < h.max_m ||
      h.max_m0 > 2 * kMaxM || !(std::isfinite(h.mult) && h.mult > 0.0))
    corrupt("bad graph parameters");
  if (h.offset_data != h.max_m0 * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint))
    corrupt("bad layout of the bottom layer");
  if (h.label_offset < h.offset_data || h.label_offset - h.offset_data != dim * sizeof(float))
    corrupt("holds vectors of " + std::to_string((h.label_offset - h.offset_data) / sizeof(float)) +
            " dimensions where the header says " + std::to_string(dim));
  if (h.size_data_per_element != h.label_offset + sizeof(hnswlib::labeltype)) corrupt("bad element size");
  if (h.count > (total - kHnswlibHeaderBytes) / h.size_data_per_element) corrupt("truncated vectors");
  if (h.count > std::numeric_limits<hnswlib::tableint>::max() / 2) corrupt("too many vectors");
  if (h.count > 0 && (h.entry_point >= h.count || h.max_level < 0)) corrupt("bad entry point");
  const std::size_t upper_links = h.max_m * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  std::uintmax_t position = kHnswlibHeaderBytes + h.count * h.size_data_per_element;
  in.seekg(static_cast<std::streamoff>(position));
  for (std::size_t i = 0; i < h.count; ++i) {
    unsigned size = 0;
    if (position + sizeof size > total || !read_pod(in, size)) corrupt("truncated link lists");
    if (size % upper_links != 0 || size / upper_links > static_cast<unsigned>(h.max_level))
      corrupt("bad link list of vector " + std::to_string(i));
    position += sizeof size + size;
    if (position > total) corrupt("truncated link lists");
    if (size) in.seekg(size, std::ios::cur);
  }
  if (position != total) corrupt("trailing bytes after the link lists");
  return h;
}

// After hnswlib has loaded a checked stream: every link points at a vector of the graph, and lists are no
// longer than the graph's degree. Returns an empty string or the first problem.
std::string check_links(const Hnsw& graph) {
  const auto count = static_cast<hnswlib::tableint>(graph.cur_element_count);
  auto check_list = [&](const hnswlib::linklistsizeint* list, std::size_t max) {
    const std::size_t size = graph.getListCount(const_cast<hnswlib::linklistsizeint*>(list));
    if (size > max) return false;
    const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
    return std::all_of(links, links + size, [&](hnswlib::tableint link) { return link < count; });
  };
  for (hnswlib::tableint i = 0; i < count; ++i) {
    if (!check_list(graph.get_linklist0(i), graph.maxM0_)) return "bad links of vector " + std::to_string(i);
    for (int level = 1; level <= graph.element_levels_[i]; ++level)
      if (!check_list(graph.get_linklist(i, level), graph.maxM_))
        return "bad links of vector " + std::to_string(i) + " at level " + std::to_string(level);
  }
  if (count > 0 && graph.element_levels_[graph.enterpoint_node_] != graph.maxlevel_) return "bad entry point";
  if (graph.label_lookup_.size() != count) return "an id appears twice";
  for (const auto& [label, internal] : graph.label_lookup_)
    if (label > static_cast<hnswlib::labeltype>(std::numeric_limits<std::int64_t>::max()))
      return "id out of range";
  return {};
}

}  // namespace

struct HnswIndex::Graph {
  Graph(std::size_t dim, Metric metric) : space(dim, metric) {}
  VectorSpace space;  // before hnsw: the graph keeps a pointer to it
  std::unique_ptr<Hnsw> hnsw;
};

HnswIndex::HnswIndex(std::size_t dim, Metric metric, const IndexOptions& options)
    : dim_(dim), metric_(metric), options_(options) {
  if (dim == 0) throw IndexError(IndexErrorKind::Invalid, "index dimension must be at least 1");
  if (options.M < 2 || options.M > kMaxM)
    throw IndexError(IndexErrorKind::Invalid, "HNSW M must be between 2 and " + std::to_string(kMaxM) +
                                                  ", got " + std::to_string(options.M));
  if (options.ef_construction < 1)
    throw IndexError(IndexErrorKind::Invalid, "HNSW ef_construction must be at least 1");
  if (options.ef_search < 1) throw IndexError(IndexErrorKind::Invalid, "HNSW ef_search must be at least 1");
  graph_ = std::make_unique<Graph>(dim, metric);
  graph_->hnsw = std::make_unique<Hnsw>(&graph_->space, kInitialCapacity, options.M, options.ef_construction,
                                        static_cast<std::size_t>(options.seed));
  graph_->hnsw->setEf(options.ef_search);
  graph_->hnsw->metric_distance_computations = 0;
  graph_->hnsw->metric_hops = 0;
}

HnswIndex::~HnswIndex() = default;

std::size_t HnswIndex::size() const {
  return graph_->hnsw->cur_element_count - graph_->hnsw->num_deleted_;
}

std::size_t HnswIndex::capacity() const {
  return graph_->hnsw->max_elements_;
}

bool HnswIndex::contains(std::int64_t id) const {
  if (id < 0) return false;
  const Hnsw& graph = *graph_->hnsw;
  const auto it = graph.label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  return it != graph.label_lookup_.end() && !graph.isMarkedDeleted(it->second);
}

void HnswIndex::set_ef_search(std::size_t ef_search) {
  if (ef_search < 1) throw IndexError(IndexErrorKind::Invalid, "HNSW ef_search must be at least 1");
  options_.ef_search = ef_search;
  graph_->hnsw->setEf(ef_search);
}

void HnswIndex::reserve(std::size_t capacity) {
  Hnsw& graph = *graph_->hnsw;
  if (capacity > graph.max_elements_) grow(graph, capacity);
}

void HnswIndex::add(std::span<const std::int64_t> ids, std::span<const float> vectors) {
  recommend_detail::check_add_arguments(dim_, ids, vectors);
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, vectors, "vector", prepared);
  Hnsw& graph = *graph_->hnsw;
  // New ids are linked in on all threads (hnswlib's addPoint takes per-element locks; its level draws share
  // one generator, so a build on several threads is not reproducible). Ids already held are relinked one at a
  // time first: hnswlib's updatePoint draws from another shared generator and is meant for one writer.
  std::vector<std::size_t> fresh, known;
  for (std::size_t i = 0; i < ids.size(); ++i)
    (graph.label_lookup_.count(static_cast<hnswlib::labeltype>(ids[i])) ? known : fresh).push_back(i);
  const std::size_t needed = graph.cur_element_count + fresh.size();
  if (needed > graph.max_elements_) grow(graph, std::max(needed, graph.max_elements_ * 2));
  auto add_point = [&](std::size_t i) {
    graph.addPoint(prepared.data() + i * dim_, static_cast<hnswlib::labeltype>(ids[i]));
  };
  try {
    for (std::size_t i : known) add_point(i);
    recommend_detail::run_tasks(recommend_detail::resolve_threads(options_.threads), fresh.size(),
                                [&](std::size_t task) { add_point(fresh[task]); });
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw IndexError(IndexErrorKind::Invalid, std::string("add: hnswlib: ") + e.what());
  }
}

bool HnswIndex::remove(std::int64_t id) {
  if (!contains(id)) return false;
  graph_->hnsw->markDelete(static_cast<hnswlib::labeltype>(id));
  return true;
}

SearchResults HnswIndex::search(std::span<const float> queries, std::size_t k) const {
  k = std::min(k, size());  // never more than the index holds (k may come from a user: -k 1e9)
  const std::size_t nq = recommend_detail::check_queries(dim_, queries);
  SearchResults results = recommend_detail::empty_results(nq, k);
  if (nq == 0 || k == 0) return results;
  std::vector<float> prepared;
  recommend_detail::prepare_vectors(metric_, dim_, queries, "query", prepared);
  const Hnsw& graph = *graph_->hnsw;
  if (graph.cur_element_count == 0) return results;
  // hnswlib searches with max(ef_search, k) candidates anyway; taking them all (rather than its k nearest,
  // cut among equal distances in no particular order) lets ties be broken by id.
  const std::size_t wanted = std::max(k, options_.ef_search);
  recommend_detail::run_tasks(recommend_detail::resolve_threads(options_.threads), nq, [&](std::size_t q) {
    auto found = graph.searchKnn(prepared.data() + q * dim_, wanted);
    std::vector<Neighbor> row;
    row.reserve(found.size());
    for (; !found.empty(); found.pop())
      row.push_back({found.top().first, static_cast<std::int64_t>(found.top().second)});
    std::sort(row.begin(), row.end(), nearer);
    for (std::size_t j = 0; j < row.size() && j < k; ++j) {
      results.ids[q * k + j] = row[j].id;
      results.distances[q * k + j] = row[j].distance;
    }
  });
  return results;
}

void HnswIndex::save(const std::filesystem::path& path) const {
  const Hnsw& graph = *graph_->hnsw;
  // hnswlib writes to a path of its own, beside the destination (same file system, no size surprise in /tmp);
  // its stream then becomes the payload of our file.
  const std::filesystem::path folder =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string stem(1, '.');
  stem += path.filename().string();
  stem += ".hnswlib";
  const recommend_detail::TemporaryFile stream(folder, stem);
  const_cast<Hnsw&>(graph).saveIndex(stream.path().string());
  std::error_code ec;
  const std::uintmax_t written = std::filesystem::file_size(stream.path(), ec);
  if (ec || written != expected_stream_bytes(graph))
    throw IndexError(IndexErrorKind::Io, path,
                     "cannot write the HNSW graph (disk full or read-only folder?)");

  recommend_detail::IndexFileHeader header;
  header.kind = recommend_detail::kHnswKind;
  header.metric = recommend_detail::metric_code(metric_);
  header.dim = static_cast<std::uint32_t>(dim_);
  header.count = size();
  header.hnsw_m = graph.M_;
  header.hnsw_ef_construction = graph.ef_construction_;
  header.hnsw_ef_search = options_.ef_search;
  recommend_detail::IndexFileWriter file(path, header);
  file.append_file(stream.path());
  file.commit();
}

void HnswIndex::load(const std::filesystem::path& path) {
  recommend_detail::IndexFileReader file(path);
  file.expect(recommend_detail::kHnswKind, dim_, metric_);
  // hnswlib reads only from a path: the payload goes to a temporary file first, checked on the way.
  const recommend_detail::TemporaryFile stream(std::filesystem::temp_directory_path(), "tunelens-hnsw-load");
  file.copy_payload_to(stream.path());
  file.verify_checksum();
  const HnswlibHeader h = check_stream(file, stream.path(), dim_);

  auto loaded = std::make_unique<Graph>(dim_, metric_);
  loaded->hnsw = std::make_unique<Hnsw>(&loaded->space, stream.path().string(), false,
                                        std::max<std::size_t>(h.count, kInitialCapacity));
  Hnsw& graph = *loaded->hnsw;
  // hnswlib 0.6 leaves these uninitialised on this path.
  graph.num_deleted_ = 0;
  for (std::size_t i = 0; i < graph.cur_element_count; ++i)
    graph.num_deleted_ += graph.isMarkedDeleted(static_cast<hnswlib::tableint>(i));
  graph.metric_distance_computations = 0;
  graph.metric_hops = 0;
  graph.setEf(options_.ef_search);
  if (const std::string problem = check_links(graph); !problem.empty())
    file.fail(IndexErrorKind::Corrupt, "HNSW graph: " + problem);
  if (graph.cur_element_count - graph.num_deleted_ != file.header().count)
    file.fail(IndexErrorKind::Corrupt,
              "HNSW graph holds " + std::to_string(graph.cur_element_count - graph.num_deleted_) +
                  " vectors where the header says " + std::to_string(file.header().count));
  place_on_huge_pages(graph);
  options_.M = graph.M_;
  options_.ef_construction = graph.ef_construction_;
  graph_ = std::move(loaded);
}

std::size_t HnswIndex::memory_bytes() const {
  const Hnsw& graph = *graph_->hnsw;
  std::size_t bytes = graph.max_elements_ * (graph.size_data_per_element_  // links, vector and id of layer 0
                                             + sizeof(void*)               // pointer to the upper layers
                                             + sizeof(int)                 // level
                                             + sizeof(std::mutex)          // link list lock
                                             + sizeof(hnswlib::vl_type));  // one visited list
  for (std::size_t i = 0; i < graph.cur_element_count; ++i)
    if (graph.element_levels_[i] > 0) bytes += graph.size_links_per_element_ * graph.element_levels_[i];
  // id -> slot map: a 32-byte node per id and a bucket pointer.
  bytes += graph.label_lookup_.size() * 32 + graph.label_lookup_.bucket_count() * sizeof(void*);
  bytes += Hnsw::max_update_element_locks * sizeof(std::mutex);
  return bytes;
}

}  // namespace tunelens
