#include "recommend/quality.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "store/catalog.h"

namespace tunelens {
namespace {

// What is compared: a track's artist and label, absent when the catalog has none.
struct Tags {
  std::optional<std::string> artist, label;
};

bool same(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  return a && b && !a->empty() && *a == *b;
}

}  // namespace

RecommenderQuality recommendation_quality(const Catalog& catalog, const std::string& model_key,
                                          const std::string& kind, Metric metric,
                                          const std::vector<std::int64_t>& queries, std::size_t k,
                                          unsigned threads) {
  RecommenderQuality quality;
  quality.kind = kind;
  quality.metric = metric;
  quality.k = k;
  const VectorMatrix vectors = catalog.vectors(model_key, kind);
  quality.catalog = vectors.size();
  if (vectors.size() < 2 || k == 0) return quality;

  std::unordered_map<std::int64_t, std::size_t> row_of;
  for (std::size_t i = 0; i < vectors.size(); ++i) row_of.emplace(vectors.ids[i], i);
  std::unordered_map<std::int64_t, Tags> tags;
  std::map<std::string, std::size_t> per_artist, per_label;  // tracks with a vector
  for (const Track& track : catalog.tracks()) {
    if (!row_of.count(track.id)) continue;
    tags[track.id] = {track.artist, track.label};
    if (track.artist && !track.artist->empty()) ++per_artist[*track.artist];
    if (track.label) ++per_label[*track.label];
  }

  std::vector<std::int64_t> query_ids;
  std::vector<float> query_vectors;
  for (std::int64_t id : queries) {
    const auto row = row_of.find(id);
    if (row == row_of.end()) continue;
    query_ids.push_back(id);
    const auto vector = vectors.row(row->second);
    query_vectors.insert(query_vectors.end(), vector.begin(), vector.end());
  }
  quality.queries = query_ids.size();
  if (query_ids.empty()) return quality;

  IndexOptions options;
  options.threads = threads;
  const std::unique_ptr<Index> index = make_index("exact", vectors.dim, metric, options);
  index->add(vectors.ids, vectors.values);
  const SearchResults results = index->search(query_vectors, k + 1);  // + 1: the query finds itself

  const double others = static_cast<double>(vectors.size() - 1);
  double artist_sum = 0.0, label_sum = 0.0, random_artist = 0.0, random_label = 0.0;
  for (std::size_t q = 0; q < query_ids.size(); ++q) {
    const Tags& query = tags[query_ids[q]];
    std::size_t taken = 0, artists = 0, labels = 0;
    const auto ids = results.ids_of(q);
    for (std::size_t i = 0; i < results.found(q) && taken < k; ++i) {
      if (ids[i] == query_ids[q]) continue;
      const Tags& neighbour = tags[ids[i]];
      ++taken;
      artists += same(query.artist, neighbour.artist);
      labels += same(query.label, neighbour.label);
    }
    if (taken > 0) {
      artist_sum += static_cast<double>(artists) / static_cast<double>(taken);
      label_sum += static_cast<double>(labels) / static_cast<double>(taken);
    }
    if (query.artist && !query.artist->empty())
      random_artist += static_cast<double>(per_artist[*query.artist] - 1) / others;
    if (query.label) random_label += static_cast<double>(per_label[*query.label] - 1) / others;
  }
  const double n = static_cast<double>(query_ids.size());
  quality.same_artist = artist_sum / n;
  quality.same_label = label_sum / n;
  quality.random_artist = random_artist / n;
  quality.random_label = random_label / n;
  return quality;
}

}  // namespace tunelens
