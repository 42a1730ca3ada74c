#include "app/json.h"

namespace tunelens::app {
namespace {

// A confident mistake of an evaluation, on the track it was made on.
nlohmann::json mistake_json(const Mistake& m, const Track& track, const std::vector<std::string>& classes) {
  return {{"track", track.id},
          {"path", track.path},
          {"truth", classes[m.truth]},
          {"predicted", classes[m.predicted]},
          {"confidence", m.confidence}};
}

}  // namespace

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

nlohmann::json to_json(const EvaluateResult& result) {
  const std::vector<std::string>& classes = result.classes;
  nlohmann::json tracks = nlohmann::json::array();
  for (const Mistake& m : result.report.confident_mistakes) {
    const Track& track = result.tracks[m.example];
    nlohmann::json mistake = mistake_json(m, track, classes);
    mistake["title"] = track.title ? nlohmann::json(*track.title) : nlohmann::json(nullptr);
    tracks.push_back(std::move(mistake));
  }
  nlohmann::json windows = nlohmann::json::array();
  for (const Mistake& m : result.windows.confident_mistakes) {
    const WindowOrigin& origin = result.origins[m.example];
    nlohmann::json mistake = mistake_json(m, result.tracks[origin.track], classes);
    mistake["start_seconds"] = origin.start_seconds;
    windows.push_back(std::move(mistake));
  }
  nlohmann::json out = nlohmann::json::parse(result.report.json());
  out["model"] = result.model;
  out["catalog"] = result.request.catalog;
  out["split"] = result.split;
  out["part"] = result.request.part;
  out["failed_tracks"] = result.failures.size();
  out["skipped_unknown_label_tracks"] = result.skipped();
  out["recomputed_features"] = result.recomputed;
  out["confident_mistake_tracks"] = std::move(tracks);
  out["windows"] = {{"examples", result.windows.examples},
                    {"accuracy", result.windows.accuracy},
                    {"report", nlohmann::json::parse(result.windows.json())},
                    {"confident_mistake_windows", std::move(windows)}};
  return out;
}

}  // namespace tunelens::app
