#include "data/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>

#include "audio/audio.h"
#include "data/csv.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& path) {
  return path.filename().string().starts_with(".");
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<std::string> non_empty(std::string text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  return text;
}

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || at != end) return std::nullopt;
  return value;
}

void require_folder(const fs::path& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw DatasetError(root.string() + ": no such folder");
  if (!fs::is_directory(root, ec)) throw DatasetError(root.string() + ": not a folder");
}

// Subfolders (not hidden) and loose files of a folder, each sorted by name.
void list_folder(const fs::path& folder, std::vector<fs::path>& subfolders, std::vector<fs::path>& files) {
  for (const auto& entry : fs::directory_iterator(folder, fs::directory_options::skip_permission_denied)) {
    if (is_hidden(entry.path())) continue;
    std::error_code ec;
    if (entry.is_directory(ec))
      subfolders.push_back(entry.path());
    else if (entry.is_regular_file(ec))
      files.push_back(entry.path());
  }
  std::sort(subfolders.begin(), subfolders.end());
  std::sort(files.begin(), files.end());
}

bool label_accepted(const LabelSet& labels, const std::string& label) {
  return labels.empty() || labels.contains(label);
}

std::string label_list(const LabelSet& labels) {
  std::string text;
  for (const auto& label : labels) text += (text.empty() ? "" : ", ") + label;
  return text;
}

}  // namespace

std::optional<FmaSubset> parse_fma_subset(const std::string& text) {
  if (text == "small") return FmaSubset::Small;
  if (text == "medium") return FmaSubset::Medium;
  if (text == "large" || text == "full") return FmaSubset::Large;
  return std::nullopt;
}

// --- folders

SourceScan scan_label_folders(const std::filesystem::path& root, const LabelSet& labels) {
  require_folder(root);
  SourceScan scan;
  scan.kind = "folders";
  scan.root = root;
  std::vector<fs::path> folders, loose;
  list_folder(root, folders, loose);
  for (const auto& file : loose) {
    if (!has_audio_extension(file)) continue;
    ++scan.rows;
    scan.problems.push_back(file.string() + ": no label: not in a label folder (expected " + root.string() +
                            "/<label>/...)");
  }
  if (folders.empty())
    throw DatasetError(root.string() + ": no label folders (expected one folder per label: " + root.string() +
                       "/<label>/<audio files>)");
  for (const auto& folder : folders) {
    const std::string label = folder.filename().string();
    const auto files = find_audio_files(folder, true, &scan.problems);
    if (files.empty()) scan.notes.push_back(folder.string() + ": label folder without audio files");
    for (const auto& file : files) {
      ++scan.rows;
      if (!label_accepted(labels, label)) {
        scan.problems.push_back(file.string() + ": unknown label '" + label +
                                "' (accepted: " + label_list(labels) + ")");
        continue;
      }
      ImportCandidate candidate;
      candidate.file = file;
      candidate.origin = file.string();
      candidate.info.label = label;
      candidate.info.title = file.stem().string();
      candidate.info.source = "folders";
      scan.candidates.push_back(std::move(candidate));
    }
  }
  return scan;
}

// --- FMA

namespace {

// Columns of FMA's tracks.csv, found by their two header names.
class FmaColumns {
 public:
  FmaColumns(const std::vector<std::string>& top, const std::vector<std::string>& sub) {
    std::string current;
    for (std::size_t i = 0; i < top.size(); ++i) {
      // pandas writes every top-level name; a file saved by other tools may leave repeats blank: carry them.
      if (!top[i].empty()) current = top[i];
      if (i > 0 && i < sub.size()) index_[{current, sub[i]}] = i;
    }
  }
  std::optional<std::size_t> find(const std::string& top, const std::string& sub) const {
    const auto it = index_.find({top, sub});
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::pair<std::string, std::string>, std::size_t> index_;
};

}  // namespace

SourceScan scan_fma(const std::filesystem::path& tracks_csv, const std::filesystem::path& audio_dir,
                    FmaSubset subset, const LabelSet& labels) {
  require_folder(audio_dir);
  CsvReader reader(tracks_csv);
  std::vector<std::string> top, sub, third;
  if (!reader.next(top) || !reader.next(sub) || !reader.next(third) || third.empty() ||
      trim(third[0]) != "track_id")
    throw DatasetError(
        tracks_csv.string() +
        ": not an FMA tracks.csv (expected three header rows, the third starting with track_id)");
  const FmaColumns columns(top, sub);
  auto required = [&](const char* a, const char* b) {
    const auto index = columns.find(a, b);
    if (!index)
      throw DatasetError(tracks_csv.string() + ": no column (" + a + ", " + b + ") in the header rows");
    return *index;
  };
  const std::size_t genre_column = required("track", "genre_top");
  const std::size_t subset_column = required("set", "subset");
  const std::size_t split_column = required("set", "split");
  const auto artist_column = columns.find("artist", "name");
  const auto album_column = columns.find("album", "title");
  const auto title_column = columns.find("track", "title");
  const auto number_column = columns.find("track", "number");
  const auto released_column = columns.find("album", "date_released");

  SourceScan scan;
  scan.kind = "fma";
  scan.root = audio_dir;
  const std::string name = tracks_csv.filename().string();
  std::vector<std::string> row;
  while (reader.next(row)) {
    if (row.size() == 1 && trim(row[0]).empty()) continue;  // a blank line
    ++scan.rows;
    std::string where = fmt::format("{}:{}", name, reader.line());
    if (row.size() != top.size()) {
      scan.problems.push_back(fmt::format("{}: {} fields, the header has {}", where, row.size(), top.size()));
      continue;
    }
    const auto id = parse_integer(trim(row[0]));
    if (!id || *id < 0) {
      scan.problems.push_back(fmt::format("{}: bad track id '{}'", where, row[0]));
      continue;
    }
    where += fmt::format(" (track {})", *id);
    const auto cell = [&](std::optional<std::size_t> column) -> std::optional<std::string> {
      return column ? non_empty(row[*column]) : std::nullopt;
    };

    const std::string subset_name = lower(trim(row[subset_column]));
    const auto track_subset = parse_fma_subset(subset_name);
    if (!track_subset) {
      scan.problems.push_back(
          fmt::format("{}: unknown subset '{}' (small, medium or large)", where, subset_name));
      continue;
    }
    if (*track_subset > subset) {
      ++scan.outside_subset;
      continue;
    }
    const auto genre = cell(genre_column);
    if (!genre) {
      scan.problems.push_back(where + ": no top genre (track.genre_top is empty)");
      continue;
    }
    if (!label_accepted(labels, *genre)) {
      scan.problems.push_back(
          fmt::format("{}: unknown label '{}' (accepted: {})", where, *genre, label_list(labels)));
      continue;
    }
    std::optional<std::string> split;
    if (const auto split_text = cell(split_column)) {
      const auto part = parse_split_part(lower(*split_text));
      if (!part) {
        scan.problems.push_back(fmt::format("{}: unknown split '{}'", where, *split_text));
        continue;
      }
      split = to_string(*part);
    }
    const fs::path file = audio_dir / fmt::format("{:03d}", *id / 1000) / fmt::format("{:06d}.mp3", *id);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      scan.problems.push_back(fmt::format("{}: no audio file {}", where, file.string()));
      continue;
    }

    ImportCandidate candidate;
    candidate.file = file;
    candidate.origin = where;
    TrackInfo& info = candidate.info;
    info.label = genre;
    info.source = "fma";
    info.source_id = std::to_string(*id);
    info.source_split = split;
    info.source_subset = subset_name;
    info.artist = cell(artist_column);
    info.album = cell(album_column);
    info.title = cell(title_column);
    if (const auto number = cell(number_column)) {
      if (const auto value = parse_integer(*number); value && *value > 0 && *value < 100000)
        info.track_number = static_cast<int>(*value);
    }
    if (const auto released = cell(released_column); released && released->size() >= 4) {
      if (const auto year = parse_integer(std::string_view(*released).substr(0, 4)); year && *year > 0)
        info.year = static_cast<int>(*year);
    }
    scan.candidates.push_back(std::move(candidate));
  }
  return scan;
}

// --- CSV

SourceScan scan_csv(const std::filesystem::path& csv, const LabelSet& labels) {
  CsvReader reader(csv);
  std::vector<std::string> header;
  if (!reader.next(header))
    throw DatasetError(csv.string() + ": empty file (expected a header row: path,label,...)");
  SourceScan scan;
  scan.kind = "csv";
  scan.root = csv.has_parent_path() ? csv.parent_path() : fs::path(".");
  std::map<std::string, std::size_t> column;
  static const std::set<std::string> kKnown = {"path", "label", "artist", "album", "title", "year", "split"};
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name = lower(trim(header[i]));
    if (!kKnown.contains(name)) {
      scan.notes.push_back(
          fmt::format("{}: column '{}' ignored (known: path, label, artist, album, title, year, split)",
                      csv.string(), header[i]));
      continue;
    }
    if (column.contains(name)) throw DatasetError(csv.string() + ": column '" + name + "' appears twice");
    column[name] = i;
  }
  for (const char* needed : {"path", "label"})
    if (!column.contains(needed))
      throw DatasetError(csv.string() + ": no '" + needed + "' column in the header row (needs path,label)");
  auto find = [&](const char* name) -> std::optional<std::size_t> {
    const auto it = column.find(name);
    if (it == column.end()) return std::nullopt;
    return it->second;
  };
  const auto artist_column = find("artist"), album_column = find("album"), title_column = find("title");
  const auto year_column = find("year"), split_column = find("split");

  const std::string name = csv.filename().string();
  std::vector<std::string> row;
  while (reader.next(row)) {
    if (row.size() == 1 && trim(row[0]).empty()) continue;
    ++scan.rows;
    const std::string where = fmt::format("{}:{}", name, reader.line());
    if (row.size() != header.size()) {
      scan.problems.push_back(
          fmt::format("{}: {} fields, the header has {}", where, row.size(), header.size()));
      continue;
    }
    const auto cell = [&](std::optional<std::size_t> index) -> std::optional<std::string> {
      return index ? non_empty(row[*index]) : std::nullopt;
    };
    const auto path = cell(column["path"]);
    if (!path) {
      scan.problems.push_back(where + ": no path");
      continue;
    }
    const std::string at = where + " (" + *path + ")";
    const auto label = cell(column["label"]);
    if (!label) {
      scan.problems.push_back(at + ": no label");
      continue;
    }
    if (!label_accepted(labels, *label)) {
      scan.problems.push_back(
          fmt::format("{}: unknown label '{}' (accepted: {})", at, *label, label_list(labels)));
      continue;
    }
    std::optional<int> year;
    if (const auto text = cell(year_column)) {
      const auto value = parse_integer(*text);
      if (!value || *value < 0 || *value > 9999) {
        scan.problems.push_back(fmt::format("{}: year '{}' is not a year", at, *text));
        continue;
      }
      year = static_cast<int>(*value);
    }
    std::optional<std::string> split;
    if (const auto text = cell(split_column)) {
      const auto part = parse_split_part(lower(*text));
      if (!part) {
        scan.problems.push_back(fmt::format("{}: split '{}' is not train, val or test", at, *text));
        continue;
      }
      split = to_string(*part);
    }
    const fs::path listed(*path);
    const fs::path file = listed.is_absolute() ? listed : scan.root / listed;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      scan.problems.push_back(fmt::format("{}: no such file {}", at, file.string()));
      continue;
    }
    ImportCandidate candidate;
    candidate.file = file;
    candidate.origin = at;
    candidate.info.label = label;
    candidate.info.source = "csv";
    candidate.info.artist = cell(artist_column);
    candidate.info.album = cell(album_column);
    candidate.info.title = cell(title_column);
    candidate.info.year = year;
    candidate.info.source_split = split;
    scan.candidates.push_back(std::move(candidate));
  }
  return scan;
}

// --- albums

SourceScan scan_albums(const std::filesystem::path& root, const std::optional<std::string>& artist,
                       const std::optional<std::filesystem::path>& order_file) {
  require_folder(root);
  SourceScan scan;
  scan.kind = "albums";
  scan.root = root;
  std::vector<fs::path> folders, loose;
  list_folder(root, folders, loose);

  // Album order: an order file, else the leading number of each folder name.
  std::optional<fs::path> order_path = order_file;
  std::error_code ec;
  if (!order_path && fs::is_regular_file(root / "albums.txt", ec)) order_path = root / "albums.txt";
  std::optional<AlbumOrder> listed;
  if (order_path) {
    listed = read_album_order(*order_path, root);
    scan.notes.insert(scan.notes.end(), listed->notes.begin(), listed->notes.end());
  }

  struct Album {
    fs::path folder;
    std::string name;                   // the folder's own name
    std::optional<long long> key;       // release_key: position in the order file, or leading number
    std::optional<std::string> artist;  // from an "Artist - 1971 - Album" folder name
    std::string title;
    std::optional<int> year;
  };
  std::vector<Album> albums;
  for (const auto& folder : folders) {
    const std::string name = folder.filename().string();
    const AlbumFolderName parsed = parse_album_folder(name);
    albums.push_back({folder, name, release_key(folder, parsed, listed, scan.notes), parsed.artist,
                      parsed.title, parsed.year});
  }
  // As `analyze` orders them (released_before): without an order file, artist by artist.
  auto place = [](const Album& album) {
    return ReleasePlace{album.artist ? std::string_view(*album.artist) : std::string_view(), album.key,
                        album.name};
  };
  std::stable_sort(albums.begin(), albums.end(), [&](const Album& a, const Album& b) {
    return released_before(place(a), place(b), !listed);
  });

  auto add_file = [&](const fs::path& file, const Album* album, int order) {
    ++scan.rows;
    const SongFileName song = parse_song_file(file.stem().string());
    ImportCandidate candidate;
    candidate.file = file;
    candidate.origin = file.string();
    TrackInfo& info = candidate.info;
    info.source = "albums";
    info.artist = artist;
    info.title = song.title;
    info.track_number = song.number;
    if (album) {
      if (!artist && album->artist) info.artist = album->artist;
      info.album = album->title;
      info.album_order = order;
      info.year = album->year;
    }
    scan.candidates.push_back(std::move(candidate));
  };
  for (const auto& file : loose)
    if (has_audio_extension(file)) add_file(file, nullptr, 0);
  int order = 0;
  for (const auto& album : albums) {
    const auto files = find_audio_files(album.folder, true, &scan.problems);
    if (files.empty()) {
      scan.notes.push_back(album.folder.string() + ": no audio files in this album folder");
      continue;
    }
    ++order;
    for (const auto& file : files) add_file(file, &album, order);
  }
  if (scan.rows == 0)
    throw DatasetError(root.string() + ": no audio files (expected " + root.string() +
                       "/<album>/<audio files>)");
  return scan;
}

}  // namespace tunelens
