#include "analysis/collection_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "data/csv.h"
#include "report/charts.h"
#include "report/html.h"
#include "report/png.h"
#include "store/json_text.h"
#include "store/whole_file.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string csv_row(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ',';
    line += csv_field(cells[i]);
  }
  line += '\n';
  return line;
}

std::string number(double value) {
  return fmt::format("{:.6g}", value);
}
std::string optional_number(const std::optional<int>& value) {
  return value ? std::to_string(*value) : std::string();
}
json optional_json(const std::optional<int>& value) {
  return value ? json(*value) : json(nullptr);
}

// Position of an album along the release order, in [0, 1], for its colour.
double release_position(const CollectionAnalysis& analysis, std::size_t album) {
  const std::size_t last = analysis.albums.size() > 1 ? analysis.albums.size() - 1 : 1;
  return static_cast<double>(album) / static_cast<double>(last);
}

json top_json(const CollectionAnalysis& analysis, const std::vector<std::size_t>& genres,
              const std::vector<double>& distribution) {
  json top = json::array();
  for (std::size_t genre : genres)
    top.push_back({{"genre", analysis.classes[genre]}, {"probability", distribution[genre]}});
  return top;
}

json distribution_json(const CollectionAnalysis& analysis, const std::vector<double>& distribution) {
  json all = json::object();
  for (std::size_t c = 0; c < analysis.classes.size(); ++c) all[analysis.classes[c]] = distribution[c];
  return all;
}

// The header cells "genre1,probability1,..." for the top genres, and the values of one row.
std::vector<std::string> top_header(std::size_t count) {
  std::vector<std::string> cells;
  for (std::size_t i = 1; i <= count; ++i) {
    cells.push_back(fmt::format("genre{}", i));
    cells.push_back(fmt::format("probability{}", i));
  }
  return cells;
}
void append_top(const CollectionAnalysis& analysis, const std::vector<std::size_t>& genres,
                const std::vector<double>& distribution, std::vector<std::string>& cells) {
  for (std::size_t genre : genres) {
    cells.push_back(analysis.classes[genre]);
    cells.push_back(number(distribution[genre]));
  }
}

void write_songs(const CollectionAnalysis& analysis, const fs::path& folder) {
  const std::size_t top_count = analysis.songs.empty() ? 0 : analysis.songs.front().top.size();
  std::vector<std::string> header = {"song",  "album_position", "artist", "album",   "year",
                                     "track", "title",          "file",   "windows", "entropy_bits"};
  for (const std::string& cell : top_header(top_count)) header.push_back(cell);
  for (const std::string& genre : analysis.classes) header.push_back(genre);
  std::string csv = csv_row(header);
  json songs = json::array();
  for (std::size_t s = 0; s < analysis.songs.size(); ++s) {
    const SongAnalysis& song = analysis.songs[s];
    const AlbumAnalysis& album = analysis.albums[song.album];
    std::vector<std::string> cells = {std::to_string(s + 1),
                                      std::to_string(album.position),
                                      album.artist,
                                      album.title,
                                      optional_number(album.year),
                                      optional_number(song.track_number),
                                      song.title,
                                      song.file,
                                      std::to_string(song.windows),
                                      number(song.entropy)};
    append_top(analysis, song.top, song.distribution, cells);
    for (double p : song.distribution) cells.push_back(number(p));
    csv += csv_row(cells);

    json timeline = json::array();
    for (std::size_t w = 0; w < song.windows; ++w) {
      const auto& shares = song.timeline[w];
      const auto best =
          static_cast<std::size_t>(std::max_element(shares.begin(), shares.end()) - shares.begin());
      timeline.push_back(
          {{"start", song.window_starts[w]}, {"genre", analysis.classes[best]}, {"probabilities", shares}});
    }
    songs.push_back({{"song", s + 1},
                     {"album_position", album.position},
                     {"artist", album.artist},
                     {"album", album.title},
                     {"year", optional_json(album.year)},
                     {"track", optional_json(song.track_number)},
                     {"title", song.title},
                     {"file", song.file},
                     {"windows", song.windows},
                     {"entropy_bits", song.entropy},
                     {"top", top_json(analysis, song.top, song.distribution)},
                     {"probabilities", distribution_json(analysis, song.distribution)},
                     {"timeline", timeline}});
  }
  write_whole_file(folder / "songs.csv", csv);
  write_whole_file(folder / "songs.json",
                   json_text(json({{"classes", analysis.classes}, {"songs", songs}}), 2) + "\n");
}

json share_json(const CollectionAnalysis& analysis) {
  return {{"album_neighbour_share", analysis.album_neighbour_share},
          {"random_share", analysis.random_share},
          {"ratio", analysis.random_share > 0 ? json(analysis.album_neighbour_share / analysis.random_share)
                                              : json(nullptr)},
          {"map_neighbours", analysis.share_k}};
}

void write_albums(const CollectionAnalysis& analysis, const fs::path& folder) {
  const std::size_t top_count = analysis.albums.empty() ? 0 : analysis.albums.front().dominant.size();
  std::vector<std::string> header = {"position", "artist", "album",           "year",
                                     "folder",   "songs",  "variety_js_bits", "entropy_bits"};
  for (const std::string& cell : top_header(top_count)) header.push_back(cell);
  for (const std::string& genre : analysis.classes) header.push_back(genre);
  std::string csv = csv_row(header);
  json albums = json::array();
  for (const AlbumAnalysis& album : analysis.albums) {
    std::vector<std::string> cells = {
        std::to_string(album.position), album.artist,         album.title,
        optional_number(album.year),    album.folder,         std::to_string(album.songs.size()),
        number(album.variety),          number(album.entropy)};
    append_top(analysis, album.dominant, album.distribution, cells);
    for (double p : album.distribution) cells.push_back(number(p));
    csv += csv_row(cells);
    std::vector<std::size_t> songs;
    for (std::size_t s : album.songs) songs.push_back(s + 1);
    albums.push_back({{"position", album.position},
                      {"artist", album.artist},
                      {"album", album.title},
                      {"year", optional_json(album.year)},
                      {"folder", album.folder},
                      {"songs", songs},
                      {"variety_js_bits", album.variety},
                      {"entropy_bits", album.entropy},
                      {"dominant", top_json(analysis, album.dominant, album.distribution)},
                      {"probabilities", distribution_json(analysis, album.distribution)}});
  }
  write_whole_file(folder / "albums.csv", csv);
  json out = {{"classes", analysis.classes},
              {"variety",
               "mean Jensen-Shannon divergence (bits, 0 to 1) of each song's distribution from the "
               "album's mean distribution"},
              {"albums", albums}};
  out.update(share_json(analysis));
  write_whole_file(folder / "albums.json", json_text(out, 2) + "\n");
}

void write_neighbours(const CollectionAnalysis& analysis, const fs::path& folder) {
  std::string csv = csv_row({"song", "title", "album", "by", "rank", "neighbour", "neighbour_title",
                             "neighbour_album", "distance"});
  json songs = json::array();
  for (std::size_t s = 0; s < analysis.songs.size(); ++s) {
    const SongAnalysis& song = analysis.songs[s];
    json item = {{"song", s + 1}, {"title", song.title}, {"album", analysis.albums[song.album].title}};
    const std::pair<const char*, const std::vector<Neighbour>*> lists[] = {
        {"probs", &song.nearest_by_probs}, {"embedding", &song.nearest_by_embedding}};
    for (const auto& [by, list] : lists) {
      json rows = json::array();
      for (std::size_t r = 0; r < list->size(); ++r) {
        const Neighbour& near = (*list)[r];
        const SongAnalysis& other = analysis.songs[near.song];
        csv += csv_row({std::to_string(s + 1), song.title, analysis.albums[song.album].title, by,
                        std::to_string(r + 1), std::to_string(near.song + 1), other.title,
                        analysis.albums[other.album].title, number(near.distance)});
        rows.push_back({{"song", near.song + 1},
                        {"title", other.title},
                        {"album", analysis.albums[other.album].title},
                        {"distance", near.distance}});
      }
      item[std::string("by_") + by] = rows;
    }
    songs.push_back(item);
  }
  write_whole_file(folder / "neighbours.csv", csv);
  json out = {{"metrics",
               {{"by_probs", "sqeuclidean between mean softmax vectors"},
                {"by_embedding", "cosine distance between embeddings"}}},
              {"songs", songs}};
  write_whole_file(folder / "neighbours.json", json_text(out, 2) + "\n");
}

void write_map(const CollectionAnalysis& analysis, const fs::path& folder) {
  std::string csv = csv_row({"song", "title", "album", "album_position", "x", "y"});
  json points = json::array();
  for (std::size_t s = 0; s < analysis.songs.size(); ++s) {
    const SongAnalysis& song = analysis.songs[s];
    const AlbumAnalysis& album = analysis.albums[song.album];
    csv += csv_row({std::to_string(s + 1), song.title, album.title, std::to_string(album.position),
                    number(song.map[0]), number(song.map[1])});
    points.push_back({{"song", s + 1},
                      {"title", song.title},
                      {"album", album.title},
                      {"album_position", album.position},
                      {"x", song.map[0]},
                      {"y", song.map[1]}});
  }
  write_whole_file(folder / "map.csv", csv);
  json out = {{"space", to_string(analysis.map_space)},
              {"method", analysis.map_method},
              {"perplexity", analysis.perplexity},
              {"seed", analysis.seed}};
  out.update(share_json(analysis));
  out["points"] = points;
  write_whole_file(folder / "map.json", json_text(out, 2) + "\n");
}

// "Artist<separator>Album (1971)"
std::string album_label_joined(const AlbumAnalysis& album, const char* separator) {
  std::string label = album.artist;
  label += separator;
  label += album.title;
  if (album.year) label += fmt::format(" ({})", *album.year);
  return label;
}

Rgb parse_colour(const std::string& hex) {
  const auto channel = [&](std::size_t at) {
    return static_cast<std::uint8_t>(std::stoi(hex.substr(at, 2), nullptr, 16));
  };
  return {channel(1), channel(3), channel(5)};
}

// The map as a PNG: a square of dots coloured along the release order, with a legend of albums below.
void write_map_png(const CollectionAnalysis& analysis, const fs::path& path) {
  constexpr int kSize = 640, kMargin = 20, kLine = 14;
  const int height = kSize + kMargin + kLine * static_cast<int>(analysis.albums.size()) + kMargin;
  RgbImage image(kSize, height);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const SongAnalysis& song : analysis.songs) {
    x0 = std::min(x0, song.map[0]), x1 = std::max(x1, song.map[0]);
    y0 = std::min(y0, song.map[1]), y1 = std::max(y1, song.map[1]);
  }
  const double span = std::max({x1 - x0, y1 - y0, 1e-12});
  const double inner = kSize - 2 * kMargin;
  for (const SongAnalysis& song : analysis.songs) {
    const Rgb colour = parse_colour(report::sequential_colour(release_position(analysis, song.album)));
    // Centred in the square, the longer side of the map filling it.
    const int cx =
        kMargin + static_cast<int>(std::lround(((song.map[0] - (x0 + x1) / 2) / span + 0.5) * inner));
    const int cy =
        kMargin + static_cast<int>(std::lround((0.5 - (song.map[1] - (y0 + y1) / 2) / span) * inner));
    for (int dy = -5; dy <= 5; ++dy)
      for (int dx = -5; dx <= 5; ++dx) {
        const int r2 = dx * dx + dy * dy;
        if (r2 <= 25) image.set(cx + dx, cy + dy, r2 >= 20 ? Rgb{51, 51, 51} : colour);
      }
  }
  int y = kSize + kMargin;
  for (std::size_t a = 0; a < analysis.albums.size(); ++a, y += kLine) {
    image.fill(kMargin, y, 10, 10, parse_colour(report::sequential_colour(release_position(analysis, a))));
    // The PNG font is ASCII: a plain dash between artist and album.
    image.draw_text(kMargin + 16, y + 1, album_label_joined(analysis.albums[a], " - "), {34, 34, 34});
  }
  write_png(path, image);
}

}  // namespace

std::string genre_list(const CollectionAnalysis& analysis, const std::vector<std::size_t>& genres,
                       const std::vector<double>& distribution) {
  std::string text;
  for (std::size_t genre : genres) {
    if (!text.empty()) text += ", ";
    text += fmt::format("{} {:.2f}", analysis.classes[genre], distribution[genre]);
  }
  return text;
}

std::string album_label(const AlbumAnalysis& album) {
  return album_label_joined(album, " — ");
}

std::string song_label(const CollectionAnalysis& analysis, std::size_t song) {
  const AlbumAnalysis& album = analysis.albums[analysis.songs[song].album];
  std::string label = analysis.songs[song].title;
  label += " — ";
  label += album.title;
  if (album.year) label += fmt::format(" ({})", *album.year);
  return label;
}

std::string collection_report_html(const CollectionAnalysis& analysis,
                                   const CollectionReportContext& context) {
  std::string subtitle = fmt::format("{} albums, {} songs", analysis.albums.size(), analysis.songs.size());
  if (!context.collection.empty()) subtitle += " · " + context.collection;
  if (!context.model.empty()) subtitle += " · model " + context.model;
  report::HtmlPage page("Collection analysis", subtitle);
  if (context.problems > 0)
    page.paragraph(
        fmt::format("{} input(s) could not be analysed and are left out (each was named when the report "
                    "was made).",
                    context.problems));

  page.heading("Map of the songs");
  std::vector<report::MapPoint> points;
  for (std::size_t s = 0; s < analysis.songs.size(); ++s) {
    const SongAnalysis& song = analysis.songs[s];
    points.push_back({song.map[0], song.map[1], song_label(analysis, s),
                      album_label(analysis.albums[song.album]), release_position(analysis, song.album)});
  }
  std::string caption = fmt::format(
      "t-SNE ({}, perplexity {:.3g}, seed {}) of every song's {}; colour: album, dark to light in release "
      "order. "
      "Hover a song for its title and album.",
      analysis.map_method, analysis.perplexity, analysis.seed,
      analysis.map_space == MapSpace::Probabilities ? "mean genre probabilities" : "embedding");
  if (analysis.songs.size() > 1)
    caption += fmt::format(
        " {:.0f}% of each song's {} nearest songs on the map are from its own album; a random map "
        "gives {:.0f}%.",
        100 * analysis.album_neighbour_share, analysis.share_k, 100 * analysis.random_share);
  page.figure(report::scatter_map("Songs", points), caption);

  page.heading("Albums in release order");
  std::vector<std::string> album_labels;
  std::vector<std::vector<double>> profiles;
  std::vector<std::vector<std::string>> album_rows;
  for (const AlbumAnalysis& album : analysis.albums) {
    album_labels.push_back(album_label(album));
    profiles.push_back(album.distribution);
    album_rows.push_back({std::to_string(album.position), album.artist, album.title,
                          optional_number(album.year), std::to_string(album.songs.size()),
                          genre_list(analysis, album.dominant, album.distribution),
                          fmt::format("{:.3f}", album.variety), fmt::format("{:.2f}", album.entropy)});
  }
  page.figure(report::stacked_bars("Genre profile of each album", album_labels, analysis.classes, profiles),
              "Mean genre distribution of each album's songs.");
  page.table({"#", "Artist", "Album", "Year", "Songs", "Dominant genres", "Variety", "Entropy (bits)"},
             album_rows);
  page.paragraph(
      "Variety: the mean Jensen–Shannon divergence (bits; 0: every song sounds alike to the model, 1: "
      "nothing in common) between each song's genre distribution and its album's mean.");

  page.heading("Songs and their nearest songs");
  auto nearest_text = [&](const std::vector<Neighbour>& list) {
    std::string text;
    for (std::size_t r = 0; r < std::min<std::size_t>(3, list.size()); ++r) {
      if (!text.empty()) text += "; ";
      text += song_label(analysis, list[r].song);
    }
    return text;
  };
  std::vector<std::vector<std::string>> song_rows;
  for (std::size_t s = 0; s < analysis.songs.size(); ++s) {
    const SongAnalysis& song = analysis.songs[s];
    song_rows.push_back({std::to_string(s + 1), song_label(analysis, s),
                         genre_list(analysis, song.top, song.distribution),
                         nearest_text(song.nearest_by_probs), nearest_text(song.nearest_by_embedding)});
  }
  page.table({"#", "Song", "Top genres", "Nearest by genre probabilities", "Nearest by embedding"},
             song_rows);
  page.paragraph(
      "Nearest by genre probabilities: squared Euclidean distance between the songs' mean softmax "
      "vectors (the original study's recommender); by embedding: cosine distance between the network's "
      "penultimate layers. The full lists are in neighbours.csv.");

  page.heading("Song timelines");
  for (std::size_t s = 0; s < analysis.songs.size(); ++s) {
    const SongAnalysis& song = analysis.songs[s];
    std::string block = "<details><summary>" + report::escape(song_label(analysis, s)) + "</summary>\n";
    block += report::timeline(song.title, song.window_starts, analysis.classes, song.timeline);
    block += "</details>\n";
    page.figure(block);
  }
  return page.html();
}

void write_collection_report(const CollectionAnalysis& analysis, const CollectionReportContext& context,
                             const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (!fs::is_directory(folder))
    throw std::runtime_error(folder.string() + ": cannot create the report folder");
  write_songs(analysis, folder);
  write_albums(analysis, folder);
  write_neighbours(analysis, folder);
  write_map(analysis, folder);
  write_map_png(analysis, folder / "map.png");
  write_whole_file(folder / "report.html", collection_report_html(analysis, context));
}

}  // namespace tunelens
