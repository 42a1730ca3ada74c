// Dataset sources: the layouts tunelens imports into a catalog. Each scan reads a source's folders and
// metadata and lists the audio files to import, with what the source says about each (label, artist, album,
// ...), plus one line for every row or file it had to skip and why. Scanning checks names and metadata only;
// import.h checks that each file decodes and records it.
//
//   folders ROOT          one folder per label (GTZAN: genres/blues/blues.00000.au), any audio format
//   fma                   the Free Music Archive: tracks.csv (three header rows) +
//   DIR/{id/1000:03d}/{id:06d}.mp3 csv FILE              columns path,label and optional
//   artist,album,title,year,split (paths relative to FILE) albums ROOT           an unlabelled collection,
//   one folder per album, albums in release order
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "data/album_folders.h"
#include "data/dataset_error.h"
#include "store/catalog.h"

namespace tunelens {

// One file to import and what the source says about it. `info.path`, fingerprint and audio properties are
// filled by the import.
struct ImportCandidate {
  std::filesystem::path file;  // where the audio is (as found: absolute, or relative to the working folder)
  std::string origin;  // where it was listed, for messages: "tracks.csv:14 (track 2)" or the file itself
  TrackInfo info;
};

struct SourceScan {
  std::string kind;            // folders, fma, csv, albums
  std::filesystem::path root;  // the natural dataset root of this source (for a new catalog)
  std::vector<ImportCandidate> candidates;
  std::vector<std::string> problems;  // one line per skipped row or file: "<where>: <reason>"
  std::vector<std::string> notes;  // remarks that skip nothing (an order file naming a missing folder, ...)
  std::size_t rows = 0;            // rows or files looked at
  std::size_t outside_subset = 0;  // FMA rows left out by --subset (not problems)
};

// Labels to accept; empty accepts any. A row with another label is a problem ("unknown label").
using LabelSet = std::set<std::string>;

// ROOT/<label>/**/<audio file>. Audio files directly in ROOT (no label folder) are problems; files that are
// not named like audio are ignored; hidden files and folders are skipped.
SourceScan scan_label_folders(const std::filesystem::path& root, const LabelSet& labels = {});

enum class FmaSubset { Small, Medium, Large };
std::optional<FmaSubset> parse_fma_subset(const std::string& text);

// FMA: tracks.csv (fma_metadata) with its three header rows, columns addressed by (top, sub) name:
// (track, genre_top) is the label, (set, subset) and (set, split) the dataset's own subset and split,
// (artist, name), (album, title), (track, title), (track, number), (album, date_released) the metadata.
// Audio is audio_dir/{id/1000:03d}/{id:06d}.mp3. `subset` keeps the tracks of that subset (small ⊂ medium ⊂
// large). Rows without a top genre or without their audio file are problems. Throws DatasetError when the
// file cannot be read or lacks a needed column.
SourceScan scan_fma(const std::filesystem::path& tracks_csv, const std::filesystem::path& audio_dir,
                    FmaSubset subset = FmaSubset::Large, const LabelSet& labels = {});

// A CSV with a header row naming its columns: path and label (required), artist, album, title, year, split
// (optional; split is train/val/test or training/validation/test). Paths are relative to the CSV's folder (or
// absolute). Rows with an empty label, a missing file, a bad year or split are problems. Unknown columns are
// noted and ignored. Throws DatasetError when the file cannot be read or lacks a required column.
SourceScan scan_csv(const std::filesystem::path& csv, const LabelSet& labels = {});

// ROOT/<album folder>/**/<audio file>: unlabelled. Album order (1, 2, ...) comes from `order_file` when
// given, else from ROOT/albums.txt when present (folder names one per line, '#' comments), else from a
// leading year or number in the folder names ("1965 - Rubber Soul", "03 Abbey Road", "The Beatles - 1965 -
// Rubber Soul"; folders that name their artist are ordered artist by artist); albums without one come after,
// by name. A number from 1000 to 2999 is also the year. The album title is the folder name without its number
// (and artist); the artist is `artist` when given, else the one the folder name gives. Names are read by
// parse_album_folder and parse_song_file (data/album_folders.h). Track numbers come from a leading number in
// the file name ("07 - Michelle.mp3", "1-07 Michelle.flac": disc 1, track 7), titles from the rest. Audio
// files directly in ROOT are imported without an album.
SourceScan scan_albums(const std::filesystem::path& root,
                       const std::optional<std::string>& artist = std::nullopt,
                       const std::optional<std::filesystem::path>& order_file = std::nullopt);

}  // namespace tunelens
