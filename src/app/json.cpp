#include "app/json.h"

#include "store/catalog.h"

namespace tunelens::app {
namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

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

nlohmann::json to_json(const Track& track) {
  return {{"id", track.id},
          {"path", track.path},
          {"title", or_null(track.title)},
          {"artist", or_null(track.artist)},
          {"album", or_null(track.album)},
          {"year", or_null(track.year)},
          {"track_number", or_null(track.track_number)},
          {"label", or_null(track.label)},
          {"duration", track.duration},
          {"sample_rate", track.sample_rate},
          {"channels", track.channels},
          {"codec", track.codec},
          {"source", track.source}};
}

nlohmann::json to_json(const FileClassification& file, const ModelInfo& model, std::size_t top_k,
                       bool timeline) {
  if (!file.error.empty()) return {{"file", file.file}, {"error", file.error}};
  const std::vector<std::string>& classes = model.classes;
  const char* label = model.multi_label ? "tag" : "genre";
  nlohmann::json top = nlohmann::json::array(), all = nlohmann::json::object();
  for (std::size_t i = 0; i < std::min(top_k, file.ranking.size()); ++i)
    top.push_back({{label, classes[file.ranking[i]]}, {"probability", file.probabilities[file.ranking[i]]}});
  for (const std::size_t c : file.ranking) all[classes[c]] = file.probabilities[c];
  nlohmann::json out = {{"file", file.file},        {"seconds", file.seconds},
                        {"decoder", file.decoder},  {"windows", file.windows},
                        {"top", std::move(top)},    {"probabilities", std::move(all)},
                        {"warnings", file.warnings}};
  if (timeline) {
    nlohmann::json windows = nlohmann::json::array();
    for (const WindowLabel& w : file.timeline)
      windows.push_back({{"start", w.start}, {label, classes[w.label]}, {"probability", w.probability}});
    out["timeline"] = std::move(windows);
  }
  return out;
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
  out["catalog"] = masked_location(result.request.catalog);
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
