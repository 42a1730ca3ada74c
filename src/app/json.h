// The JSON form of the use cases' results, the same wherever it is given: the commands' --format json and the
// service's responses.
#pragma once

#include <nlohmann/json.hpp>

#include "app/classify.h"
#include "app/evaluate.h"
#include "app/search.h"

namespace tunelens::app {

// {"id", "distance", "title", "artist", "album", "label", "path"} (unknown fields: "").
nlohmann::json to_json(const Neighbour& neighbour);
// {"query", "track" (id or null), "by", "metric", "index", "indexed", "results": [{"rank", ...Neighbour}]}.
nlohmann::json to_json(const SimilarResult& result);
// The track report (eval/metrics.h's JSON) with "model", "catalog", "split", "part", "failed_tracks",
// "skipped_unknown_label_tracks", "recomputed_features", "confident_mistake_tracks" ({"track", "path",
// "title", "truth", "predicted", "confidence"}) and "windows" ({"examples", "accuracy", "report",
// "confident_mistake_windows": [{"track", "path", "start_seconds", "truth", "predicted", "confidence"}]}).
nlohmann::json to_json(const EvaluateResult& result);

// A catalog track's metadata: {"id", "path", "title", "artist", "album", "year", "track_number", "label",
// "duration", "sample_rate", "channels", "codec", "source"} (unknown: null).
nlohmann::json to_json(const Track& track);

// A classified file: {"file", "seconds", "decoder", "windows", "top": [{"genre" (a tag model: "tag"),
// "probability"}] (the first top_k shown classes), "probabilities": {class: p} (the shown classes),
// "warnings"}, with "timeline": [{"start", "genre" (or "tag"), "probability"}] when asked. A file that
// failed: {"file", "error"}.
nlohmann::json to_json(const FileClassification& file, const ModelInfo& model, std::size_t top_k,
                       bool timeline);

}  // namespace tunelens::app
