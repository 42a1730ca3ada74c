// Recommendation quality (the must-show 2): for each query track, of its k nearest other tracks in
// the whole catalog (exact search over the catalog's stored vectors), the share by the same artist and the
// share with the same label (genre); averaged over the queries. Beside it, what a recommender drawing k
// tracks at random would give in expectation: for a query, (tracks of the same artist besides it) / (tracks
// besides it), averaged over the queries; likewise for labels.
//
// A query with no artist (label) counts as no match for every neighbour; a neighbour with none matches
// nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recommend/index.h"

namespace tunelens {

class Catalog;

struct RecommenderQuality {
  std::string kind;  // "probs", "embedding"
  Metric metric = Metric::Cosine;
  std::size_t k = 0;
  std::size_t queries = 0;   // query tracks that have a vector
  std::size_t catalog = 0;   // tracks with a vector, searched
  double same_artist = 0.0;  // mean share over the queries, in [0, 1]
  double same_label = 0.0;
  double random_artist = 0.0;  // expected shares of a random recommender
  double random_label = 0.0;
};

// The quality of ranking by a model's `kind` vectors under `metric`, for the query tracks `queries` (ids;
// those without a vector are left out). Throws CatalogError, and IndexError for vectors the metric refuses.
RecommenderQuality recommendation_quality(const Catalog& catalog, const std::string& model_key,
                                          const std::string& kind, Metric metric,
                                          const std::vector<std::int64_t>& queries, std::size_t k,
                                          unsigned threads = 0);

}  // namespace tunelens
