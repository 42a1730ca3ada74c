// The JSON form of the use cases' results, the same wherever it is given: the commands' --format json and the
// service's responses.
#pragma once

#include <nlohmann/json.hpp>

#include "app/search.h"

namespace tunelens::app {

// {"id", "distance", "title", "artist", "album", "label", "path"} (unknown fields: "").
nlohmann::json to_json(const Neighbour& neighbour);
// {"query", "track" (id or null), "by", "metric", "index", "indexed", "results": [{"rank", ...Neighbour}]}.
nlohmann::json to_json(const SimilarResult& result);

}  // namespace tunelens::app
