#include "analysis/collection.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>

#include "analysis/tsne.h"
#include "audio/audio.h"
#include "audio/probe.h"
#include "data/album_folders.h"
#include "data/dataset_error.h"
#include "recommend/index.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& path) {
  return path.filename().string().starts_with(".");
}

// An absolute folder path without a trailing separator, so that "collection/" and "." have a name.
fs::path normal_folder(const fs::path& folder) {
  const fs::path normal = fs::absolute(folder).lexically_normal();
  return normal.has_filename() ? normal : normal.parent_path();
}
std::string folder_name(const fs::path& folder) {
  return normal_folder(folder).filename().string();
}

// An album named by its folder: artist (else `artist`), title and year from the parsed name.
CollectionAlbum named_album(const std::string& name, const AlbumFolderName& parsed,
                            const std::string& artist) {
  CollectionAlbum album;
  album.folder = name;
  album.artist = parsed.artist.value_or(artist);
  album.title = parsed.title;
  album.year = parsed.year;
  return album;
}

// A song's title from its tags, else its file name; its track number from the file name, else its tags (a
// file name's number is what orders a folder on screen).
void add_song(CollectionAlbum& album, const fs::path& file) {
  const SongFileName song = parse_song_file(file.stem().string());
  const AudioTags tags = read_audio_tags(file);
  album.songs.push_back(
      {file, tags.title.value_or(song.title), song.number ? song.number : tags.track_number});
}

}  // namespace

void sort_collection(std::vector<CollectionAlbum>& albums, bool by_position_only) {
  std::stable_sort(albums.begin(), albums.end(), [&](const CollectionAlbum& a, const CollectionAlbum& b) {
    return released_before({a.artist, a.order_key, a.folder}, {b.artist, b.order_key, b.folder},
                           !by_position_only);
  });
  for (CollectionAlbum& album : albums)
    std::stable_sort(album.songs.begin(), album.songs.end(),
                     [](const CollectionSong& a, const CollectionSong& b) {
                       if (const auto before = numbered_before(a.track_number, b.track_number))
                         return *before;
                       if (a.title != b.title) return a.title < b.title;
                       return a.file < b.file;
                     });
}

Collection scan_collection(const fs::path& root, const std::optional<fs::path>& order_file) {
  std::error_code error;
  if (!fs::is_directory(root, error)) throw CollectionError(root.string() + ": not a folder");
  Collection collection;

  std::optional<AlbumOrder> order;
  if (order_file) {
    try {
      order = read_album_order(*order_file, root);
    } catch (const DatasetError& unreadable) {
      throw CollectionError(unreadable.what());
    }
    collection.notes = order->notes;
  }

  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(root, fs::directory_options::skip_permission_denied))
    if (!hidden(entry.path())) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());

  const std::string root_artist = folder_name(root);
  std::vector<fs::path> loose;  // audio files directly in root
  std::size_t album_folders = 0;
  for (const fs::path& entry : entries) {
    if (!fs::is_directory(entry, error)) {
      if (has_audio_extension(entry)) loose.push_back(entry);
      continue;
    }
    ++album_folders;
    const std::string name = entry.filename().string();
    const AlbumFolderName parsed = parse_album_folder(name);
    CollectionAlbum album = named_album(name, parsed, root_artist);
    album.order_key = release_key(entry, parsed, order, collection.notes);

    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(entry, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
      if (hidden(it->path())) {
        if (it->is_directory(error)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(error)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      if (has_audio_extension(file))
        add_song(album, file);
      else
        collection.problems.push_back({file.string(), "not an audio file: skipped"});
    }
    if (album.songs.empty())
      collection.problems.push_back({entry.string(), "album folder with no audio files: skipped"});
    else
      collection.albums.push_back(std::move(album));
  }
  if (album_folders == 0 && !loose.empty()) {
    // A folder of songs without album folders is one album itself, by the artist its parent folder names.
    CollectionAlbum album = named_album(root_artist, parse_album_folder(root_artist),
                                        folder_name(normal_folder(root).parent_path()));
    for (const fs::path& file : loose) add_song(album, file);
    collection.albums.push_back(std::move(album));
  } else {
    for (const fs::path& file : loose)
      collection.problems.push_back({file.string(), "audio file outside any album folder: skipped"});
  }
  sort_collection(collection.albums, order_file.has_value());
  return collection;
}

// --- what follows from the model's output

std::vector<double> mean_rows(std::span<const float> values, std::size_t columns) {
  std::vector<double> mean(columns, 0.0);
  if (columns == 0 || values.size() < columns) return mean;
  const std::size_t rows = values.size() / columns;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < columns; ++c) mean[c] += values[r * columns + c];
  for (double& value : mean) value /= static_cast<double>(rows);
  return mean;
}

double entropy_bits(std::span<const double> p) {
  double sum = 0.0;
  for (double value : p)
    if (value > 0.0) sum -= value * std::log2(value);
  return sum;
}

double jensen_shannon_bits(std::span<const double> p, std::span<const double> q) {
  if (p.size() != q.size()) throw std::invalid_argument("Jensen-Shannon: vectors of different lengths");
  // JS(p, q) = H(m) - (H(p) + H(q)) / 2 with m the midpoint; clamped at 0 against rounding.
  std::vector<double> middle(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) middle[i] = (p[i] + q[i]) / 2.0;
  return std::max(0.0, entropy_bits(middle) - (entropy_bits(p) + entropy_bits(q)) / 2.0);
}

std::vector<std::size_t> top_indices(std::span<const double> values, std::size_t k) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  order.resize(std::min(k, order.size()));
  return order;
}

std::vector<std::vector<Neighbour>> nearest_vectors(std::span<const float> vectors, std::size_t dim,
                                                    const std::string& metric, std::size_t k) {
  const std::size_t n = dim > 0 ? vectors.size() / dim : 0;
  std::vector<std::vector<Neighbour>> nearest(n);
  k = std::min(k, n > 0 ? n - 1 : 0);
  if (k == 0) return nearest;
  const auto index = make_index("exact", dim, parse_metric(metric));
  std::vector<std::int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  index->add(ids, vectors);
  // One more than asked, as each vector finds itself (usually first).
  const SearchResults results = index->search(vectors, k + 1);
  for (std::size_t q = 0; q < n; ++q) {
    const auto found_ids = results.ids_of(q);
    const auto distances = results.distances_of(q);
    for (std::size_t r = 0; r < found_ids.size() && nearest[q].size() < k; ++r)
      if (found_ids[r] >= 0 && static_cast<std::size_t>(found_ids[r]) != q)
        nearest[q].push_back({static_cast<std::size_t>(found_ids[r]), distances[r]});
  }
  return nearest;
}

double same_group_neighbour_share(const std::vector<std::array<double, 2>>& map,
                                  const std::vector<std::size_t>& group_of, std::size_t k) {
  const std::size_t n = map.size();
  if (group_of.size() != n) throw std::invalid_argument("neighbour share: one group per point needed");
  k = std::min(k, n > 0 ? n - 1 : 0);
  if (k == 0) return 0.0;
  std::size_t same = 0;
  std::vector<std::pair<double, std::size_t>> others;
  for (std::size_t i = 0; i < n; ++i) {
    others.clear();
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double dx = map[i][0] - map[j][0], dy = map[i][1] - map[j][1];
      others.emplace_back(dx * dx + dy * dy, j);
    }
    std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(k), others.end());
    for (std::size_t r = 0; r < k; ++r) same += group_of[others[r].second] == group_of[i];
  }
  return static_cast<double>(same) / static_cast<double>(n * k);
}

double random_group_neighbour_share(const std::vector<std::size_t>& group_of) {
  const std::size_t n = group_of.size();
  if (n < 2) return 0.0;
  std::map<std::size_t, std::size_t> sizes;
  for (std::size_t group : group_of) ++sizes[group];
  double sum = 0.0;
  for (std::size_t group : group_of)
    sum += static_cast<double>(sizes[group] - 1) / static_cast<double>(n - 1);
  return sum / static_cast<double>(n);
}

// --- the whole study

std::string to_string(MapSpace space) {
  return space == MapSpace::Probabilities ? "probs" : "embedding";
}

std::optional<MapSpace> parse_map_space(const std::string& text) {
  if (text == "probs" || text == "probabilities") return MapSpace::Probabilities;
  if (text == "embedding" || text == "embeddings") return MapSpace::Embeddings;
  return std::nullopt;
}

CollectionAnalysis analyse_collection(const std::vector<CollectionAlbum>& albums,
                                      std::vector<SongPrediction> songs,
                                      const std::vector<std::string>& classes,
                                      const AnalysisOptions& options) {
  const std::size_t n_classes = classes.size();
  if (n_classes == 0) throw std::invalid_argument("analyse_collection: no classes");
  if (songs.empty()) throw std::invalid_argument("analyse_collection: no songs");
  const std::size_t dim = songs.front().embedding.size();
  for (const SongPrediction& song : songs) {
    if (song.album >= albums.size() || song.windows == 0 ||
        song.window_probabilities.size() != song.windows * n_classes ||
        song.window_starts.size() != song.windows || song.embedding.size() != dim)
      throw std::invalid_argument("analyse_collection: inconsistent prediction for " + song.file);
  }
  if (dim == 0 && options.map_space == MapSpace::Embeddings)
    throw std::invalid_argument("analyse_collection: a map of embeddings needs embeddings");

  // Songs album by album in release order, then by track number and title.
  std::stable_sort(songs.begin(), songs.end(), [](const SongPrediction& a, const SongPrediction& b) {
    if (a.album != b.album) return a.album < b.album;
    if (const auto before = numbered_before(a.track_number, b.track_number)) return *before;
    return a.title < b.title;
  });

  CollectionAnalysis result;
  result.classes = classes;
  result.map_space = options.map_space;
  result.seed = options.seed;
  std::vector<std::size_t> position_of(albums.size(), albums.size());  // given album → analysed album
  const std::size_t n = songs.size();
  std::vector<float> probabilities, embeddings;
  probabilities.reserve(n * n_classes);
  embeddings.reserve(n * dim);
  std::vector<std::size_t> album_of;
  for (SongPrediction& song : songs) {
    if (position_of[song.album] == albums.size()) {
      const CollectionAlbum& given = albums[song.album];
      position_of[song.album] = result.albums.size();
      AlbumAnalysis album;
      album.folder = given.folder;
      album.artist = given.artist;
      album.title = given.title;
      album.year = given.year;
      album.position = result.albums.size() + 1;
      result.albums.push_back(std::move(album));
    }
    SongAnalysis analysed;
    analysed.album = position_of[song.album];
    analysed.title = std::move(song.title);
    analysed.file = std::move(song.file);
    analysed.track_number = song.track_number;
    analysed.windows = song.windows;
    analysed.distribution = mean_rows(song.window_probabilities, n_classes);
    analysed.top = top_indices(analysed.distribution, options.top_genres);
    analysed.entropy = entropy_bits(analysed.distribution);
    analysed.window_starts = std::move(song.window_starts);
    for (std::size_t w = 0; w < song.windows; ++w) {
      const auto row = song.window_probabilities.begin() + static_cast<std::ptrdiff_t>(w * n_classes);
      analysed.timeline.emplace_back(row, row + static_cast<std::ptrdiff_t>(n_classes));
    }
    for (double p : analysed.distribution) probabilities.push_back(static_cast<float>(p));
    embeddings.insert(embeddings.end(), song.embedding.begin(), song.embedding.end());
    album_of.push_back(analysed.album);
    result.albums[analysed.album].songs.push_back(result.songs.size());
    result.songs.push_back(std::move(analysed));
  }

  for (AlbumAnalysis& album : result.albums) {
    album.distribution.assign(n_classes, 0.0);
    for (std::size_t s : album.songs)
      for (std::size_t c = 0; c < n_classes; ++c) album.distribution[c] += result.songs[s].distribution[c];
    for (double& value : album.distribution) value /= static_cast<double>(album.songs.size());
    album.dominant = top_indices(album.distribution, options.top_genres);
    album.entropy = entropy_bits(album.distribution);
    double spread = 0.0;
    for (std::size_t s : album.songs)
      spread += jensen_shannon_bits(result.songs[s].distribution, album.distribution);
    album.variety = spread / static_cast<double>(album.songs.size());
  }

  const auto by_probs = nearest_vectors(probabilities, n_classes, "sqeuclidean", options.neighbours);
  const auto by_embedding =
      dim > 0 ? nearest_vectors(embeddings, dim, "cosine", options.neighbours) : decltype(by_probs)(n);
  for (std::size_t s = 0; s < n; ++s) {
    result.songs[s].nearest_by_probs = by_probs[s];
    result.songs[s].nearest_by_embedding = by_embedding[s];
  }

  // The map; t-SNE itself lowers the perplexity the same way, this records the value used.
  const bool exact = n < options.exact_limit;
  result.map_method = exact ? "exact" : "barnes-hut";
  result.perplexity = std::max(1.0, std::min(options.perplexity, (static_cast<double>(n) - 1.0) / 3.0));
  result.share_k = options.share_k;
  if (n >= 2) {
    TsneOptions tsne_options;
    tsne_options.perplexity = result.perplexity;
    tsne_options.iterations = options.iterations;
    tsne_options.seed = options.seed;
    tsne_options.method = exact ? TsneMethod::Exact : TsneMethod::BarnesHut;
    const bool by_probs_space = options.map_space == MapSpace::Probabilities;
    const auto map =
        tsne(by_probs_space ? probabilities : embeddings, by_probs_space ? n_classes : dim, tsne_options);
    for (std::size_t s = 0; s < n; ++s) result.songs[s].map = map[s];
    result.album_neighbour_share = same_group_neighbour_share(map, album_of, options.share_k);
    result.random_share = random_group_neighbour_share(album_of);
  }
  return result;
}

}  // namespace tunelens
