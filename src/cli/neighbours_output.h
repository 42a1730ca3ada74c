// How similar and ingest print a query's neighbours (app::SimilarResult): an aligned table, one JSON line or
// CSV.
#pragma once

#include <iosfwd>
#include <string>

#include "app/search.h"

namespace tunelens::cli {

enum class NeighbourFormat { Table, Json, Csv };
// "table", "json", "csv"; throws CLI::ValidationError (--format) otherwise.
NeighbourFormat parse_neighbour_format(const std::string& text);

// Table: a line naming the query, by, metric and index, then a header and one aligned row per neighbour. Csv:
// rank,id,distance,title,artist,album,label,path. Json: {"query", "by", "metric", "index", "indexed",
// "results":
// [{"rank", "id", "distance", "title", "artist", "album", "label", "path"}]} on one line (app/json.h).
void write_neighbours(std::ostream& out, NeighbourFormat format, const app::SimilarResult& result);

}  // namespace tunelens::cli
