#include "cli/neighbours_output.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "app/json.h"
#include "data/csv.h"
#include "store/json_text.h"

namespace tunelens::cli {
namespace {

std::string or_dash(const std::string& text) {
  return text.empty() ? "-" : text;
}

}  // namespace

NeighbourFormat parse_neighbour_format(const std::string& text) {
  if (text == "table") return NeighbourFormat::Table;
  if (text == "json") return NeighbourFormat::Json;
  if (text == "csv") return NeighbourFormat::Csv;
  throw CLI::ValidationError("--format", "unknown format '" + text + "' (expected table, json or csv)");
}

void write_neighbours(std::ostream& out, NeighbourFormat format, const app::SimilarResult& result) {
  const auto& neighbours = result.neighbours;
  if (format == NeighbourFormat::Json) {
    out << json_text(app::to_json(result)) << "\n";
    return;
  }
  if (format == NeighbourFormat::Csv) {
    out << "rank,id,distance,title,artist,album,label,path\n";
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
      const app::Neighbour& n = neighbours[i];
      out << fmt::format("{},{},{:.6f},{},{},{},{},{}\n", i + 1, n.id, n.distance, csv_field(n.title),
                         csv_field(n.artist), csv_field(n.album), csv_field(n.label), csv_field(n.path));
    }
    return;
  }
  out << fmt::format("similar to {}: by {}, {} distance, {} index of {} tracks\n", result.query,
                     result.request.by, metric_name(result.request.metric), result.index_kind,
                     result.indexed);
  std::vector<std::vector<std::string>> rows = {
      {"rank", "distance", "title", "artist", "album", "label", "path"}};
  for (std::size_t i = 0; i < neighbours.size(); ++i) {
    const app::Neighbour& n = neighbours[i];
    rows.push_back({std::to_string(i + 1), fmt::format("{:.6f}", n.distance), or_dash(n.title),
                    or_dash(n.artist), or_dash(n.album), or_dash(n.label), n.path});
  }
  std::size_t widths[7] = {};
  for (const auto& row : rows)
    for (std::size_t c = 0; c < 7; ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows)
    out << fmt::format("{:>{}}  {:>{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", row[0], widths[0], row[1],
                       widths[1], row[2], widths[2], row[3], widths[3], row[4], widths[4], row[5], widths[5],
                       row[6]);
}

}  // namespace tunelens::cli
