#include "recommend/index.h"

#include <algorithm>
#include <cmath>

#include "recommend/exact_index.h"
#include "recommend/faiss_index.h"
#include "recommend/hnsw_index.h"
#include "recommend/index_file.h"
#include "recommend/sharded_index.h"

namespace tunelens {

IndexError::IndexError(IndexErrorKind kind, const std::string& reason)
    : std::runtime_error(reason), kind_(kind) {}

IndexError::IndexError(IndexErrorKind kind, const std::filesystem::path& path, const std::string& reason)
    : std::runtime_error(path.string() + ": " + reason), kind_(kind), path_(path) {}

std::string_view metric_name(Metric metric) {
  switch (metric) {
    case Metric::SqEuclidean:
      return "sqeuclidean";
    case Metric::Cosine:
      return "cosine";
    case Metric::JensenShannon:
      return "js";
  }
  return "unknown";
}

Metric parse_metric(std::string_view name) {
  if (name == "sqeuclidean" || name == "l2") return Metric::SqEuclidean;
  if (name == "cosine") return Metric::Cosine;
  if (name == "js") return Metric::JensenShannon;
  throw IndexError(IndexErrorKind::Invalid,
                   "unknown metric '" + std::string(name) + "' (expected sqeuclidean, cosine or js)");
}

std::size_t SearchResults::found(std::size_t query) const {
  std::size_t n = 0;
  for (std::int64_t id : ids_of(query)) n += id >= 0;
  return n;
}

std::unique_ptr<Index> make_index(std::string_view kind, std::size_t dim, Metric metric,
                                  const IndexOptions& options) {
  if (kind == "exact") return std::make_unique<ExactIndex>(dim, metric, options.threads);
  if (kind == "hnsw") return std::make_unique<HnswIndex>(dim, metric, options);
  if (is_faiss_kind(kind)) return std::make_unique<FaissIndex>(kind, dim, metric, options);
  throw IndexError(IndexErrorKind::Invalid,
                   "unknown index kind '" + std::string(kind) +
                       "' (expected exact, hnsw, ivf-flat:N, ivf-pq:N:M[:R] or hnsw-faiss:M)");
}

std::unique_ptr<Index> load_index(const std::filesystem::path& path, const IndexOptions& options) {
  std::unique_ptr<Index> index;
  {
    recommend_detail::IndexFileReader file(path);  // checks the header; read again by load()
    const auto& header = file.header();
    if (header.kind == recommend_detail::kShardedKind) return ShardedIndex::open(path, options);
    if (header.kind == recommend_detail::kFaissKind) {
      const std::string kind = recommend_detail::read_kind_name(file);  // the payload starts with it
      try {
        index = std::make_unique<FaissIndex>(kind, header.dim, file.metric(), options);
      } catch (const IndexError& error) {
        file.fail(IndexErrorKind::Corrupt, error.what());
      }
    } else if (header.kind == recommend_detail::kExactKind) {
      index = std::make_unique<ExactIndex>(header.dim, file.metric(), options.threads);
    } else {
      IndexOptions graph = options;
      graph.M = header.hnsw_m;
      graph.ef_construction = header.hnsw_ef_construction;
      if (graph.M < 2 || graph.ef_construction < 1)
        file.fail(IndexErrorKind::Corrupt, "bad HNSW parameters M " + std::to_string(graph.M) +
                                               ", ef_construction " + std::to_string(graph.ef_construction));
      index = std::make_unique<HnswIndex>(header.dim, file.metric(), graph);
    }
  }
  index->load(path);
  return index;
}

std::string_view recommended_index_kind(std::size_t expected_vectors) {
  return expected_vectors < kExactIndexLimit ? "exact" : "hnsw";
}

double recall_at(const SearchResults& approx, const SearchResults& exact, std::size_t k) {
  std::size_t hits = 0;
  for (std::size_t q = 0; q < exact.queries; ++q) {
    const auto truth = exact.ids_of(q).subspan(0, k);
    for (std::int64_t id : approx.ids_of(q).subspan(0, k))
      hits += std::find(truth.begin(), truth.end(), id) != truth.end();
  }
  return static_cast<double>(hits) / static_cast<double>(exact.queries * k);
}

}  // namespace tunelens
