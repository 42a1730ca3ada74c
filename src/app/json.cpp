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

namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

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

}  // namespace tunelens::app
