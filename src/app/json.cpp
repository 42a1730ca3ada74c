#include "app/json.h"

namespace tunelens::app {

nlohmann::json to_json(const Neighbour& n) {
  return {{"id", n.id},       {"distance", n.distance}, {"title", n.title}, {"artist", n.artist},
          {"album", n.album}, {"label", n.label},       {"path", n.path}};
}

nlohmann::json to_json(const SimilarResult& result) {
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t i = 0; i < result.neighbours.size(); ++i) {
    nlohmann::json row = {{"rank", i + 1}};
    row.update(to_json(result.neighbours[i]));
    results.push_back(std::move(row));
  }
  return {{"query", result.query},
          {"track", result.track ? nlohmann::json(*result.track) : nlohmann::json(nullptr)},
          {"by", result.request.by},
          {"metric", metric_name(result.request.metric)},
          {"index", result.index_kind},
          {"indexed", result.indexed},
          {"results", std::move(results)}};
}

}  // namespace tunelens::app
