// What tunelens analyze writes: the collection study (analysis/collection.h) as tables (CSV and JSON), a
// picture of the song map (PNG) and one self-contained HTML report (report/html.h) with the song map, the
// albums' genre profiles in release order, every song's timeline and its nearest songs.
//
//   songs.csv/json       one row per song: album, track, title, top genres, entropy, every genre's
//   probability
//                        (the JSON also holds each song's timeline: window start and softmax)
//   albums.csv/json      one row per album in release order: dominant genres, variety, entropy, mean
//   distribution neighbours.csv/json  each song's nearest songs by probabilities (sqeuclidean) and by
//   embeddings (cosine) map.csv/json         each song's t-SNE position; the JSON also holds the map's
//   settings and
//                        album_neighbour_share / random_share
//   map.png              the map as a picture, songs coloured along the album release order
//   report.html          all of it for people
#pragma once

#include <filesystem>
#include <string>

#include "analysis/collection.h"

namespace tunelens {

// Where the study came from, for the report's header.
struct CollectionReportContext {
  std::string collection;    // the folder or catalog analysed
  std::string model;         // the model file
  std::size_t problems = 0;  // inputs left out (each was named on the terminal)
};

// The song's label on the map and in tables: "Title — Album (1971)".
std::string song_label(const CollectionAnalysis& analysis, std::size_t song);
// The album's label: "Artist — Album (1971)".
std::string album_label(const AlbumAnalysis& album);
// Genres with their probabilities, in the given order: "rock 0.62, blues 0.21".
std::string genre_list(const CollectionAnalysis& analysis, const std::vector<std::size_t>& genres,
                       const std::vector<double>& distribution);

// Writes every table, map.png and report.html into `folder` (created if needed), each file under a temporary
// name renamed into place. Throws std::runtime_error naming a file that cannot be written.
void write_collection_report(const CollectionAnalysis& analysis, const CollectionReportContext& context,
                             const std::filesystem::path& folder);

// The HTML report alone.
std::string collection_report_html(const CollectionAnalysis& analysis,
                                   const CollectionReportContext& context);

}  // namespace tunelens
