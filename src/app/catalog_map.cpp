#include "app/catalog_map.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "analysis/tsne.h"
#include "app/errors.h"
#include "store/catalog.h"

namespace tunelens::app {

CatalogMap catalog_map(const Catalog& catalog, const std::string& model_key, const MapRequest& request) {
  if (request.by != "embedding" && request.by != "probs")
    throw BadRequest("by", "must be probs or embedding");
  if (request.max_points < 2) throw BadRequest("max_points", "must be at least 2");
  const VectorMatrix vectors = catalog.vectors(model_key, request.by);
  CatalogMap map;
  map.tracks = vectors.size();
  if (vectors.size() == 0)
    throw NotIndexed(
        fmt::format("{}: no {} vectors of model {} yet", catalog.name(), request.by, model_key));

  // Rows mapped: all, or every (n / max)-th.
  std::vector<std::size_t> rows;
  const std::size_t n = vectors.size();
  const std::size_t count = std::min(n, request.max_points);
  for (std::size_t i = 0; i < count; ++i) rows.push_back(i * n / count);
  std::vector<float> points;
  points.reserve(rows.size() * vectors.dim);
  for (const std::size_t row : rows) {
    const auto values = vectors.row(row);
    points.insert(points.end(), values.begin(), values.end());
  }
  std::vector<std::array<double, 2>> xy;
  if (rows.size() == 1) {
    xy = {{0.5, 0.5}};
  } else {
    TsneOptions options;
    options.seed = request.seed;
    options.iterations = rows.size() > 2000 ? 500 : 1000;  // the large maps settle early; half the wait
    xy = tsne(points, vectors.dim, options);
  }
  // Scaled into the unit square, the aspect kept.
  double lo[2] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  double hi[2] = {std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest()};
  for (const auto& p : xy)
    for (int d = 0; d < 2; ++d) lo[d] = std::min(lo[d], p[d]), hi[d] = std::max(hi[d], p[d]);
  const double span = std::max({hi[0] - lo[0], hi[1] - lo[1], 1e-12});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    MapPoint point;
    point.id = vectors.ids[rows[i]];
    point.x = 0.5 + (xy[i][0] - (lo[0] + hi[0]) / 2) / span;
    point.y = 0.5 + (xy[i][1] - (lo[1] + hi[1]) / 2) / span;
    if (const auto track = catalog.find_track(point.id)) {
      point.title = track->title.value_or(track->path);
      point.artist = track->artist.value_or("");
      point.label = track->label.value_or("");
    }
    map.points.push_back(std::move(point));
  }
  return map;
}

}  // namespace tunelens::app
