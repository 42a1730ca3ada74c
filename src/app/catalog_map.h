// Use case: a 2-D map of a catalog's tracks (t-SNE of their stored embeddings), on which tracks that sound
// alike lie close: the service's catalog map. A large catalog is mapped through an even sample of its tracks,
// said so in the result, so that the map costs seconds, not hours.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tunelens {
class Catalog;
}

namespace tunelens::app {

struct MapPoint {
  std::int64_t id = 0;
  double x = 0.0, y = 0.0;           // in [0, 1] each
  std::string title, artist, label;  // empty when unknown
};

struct CatalogMap {
  std::vector<MapPoint> points;
  std::size_t tracks = 0;  // tracks with embeddings; points.size() is fewer when sampled
  bool sampled() const { return points.size() < tracks; }
};

struct MapRequest {
  std::string by = "embedding";   // the vectors mapped (embedding or probs)
  std::size_t max_points = 5000;  // more tracks than this: an even sample of them (by id)
  std::uint64_t seed = 0;         // the same seed and catalog give the same map
};

// Throws NotIndexed when the catalog holds no such vectors of the model, BadRequest for a bad request.
CatalogMap catalog_map(const Catalog& catalog, const std::string& model_key, const MapRequest& request = {});

}  // namespace tunelens::app
