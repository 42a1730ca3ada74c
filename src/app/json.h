// The JSON form of the use cases' results, the same wherever it is given: the commands' --format json and the
// service's responses.
#pragma once

#include <nlohmann/json.hpp>

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

}  // namespace tunelens::app
