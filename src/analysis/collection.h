// The collection study (tunelens analyze), without the model: what a collection of albums is (folders,
// release order, song order), and what follows from each song's window probabilities and embedding: per-song
// and per-album genre profiles, each song's nearest songs, a 2-D map of all songs, and how well that map
// keeps albums together.
//
// A collection on disk is one folder per album:
//   ROOT/<Artist> - <year> - <Album>/<NN> - <Title>.wav   (tunelens synth --collection with several artists)
//   ROOT/<year> - <Album>/...   ROOT/<NN> <Album>/...      (one artist: the artist is ROOT's own name)
// Albums come in release order: by artist, then by the leading year or number of the folder name (folders
// without one after, by name); or in the order of an order file (one folder name per line). Songs in an album
// come by their leading track number, then by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/album_folders.h"  // parse_album_folder, parse_song_file

namespace tunelens {

// A collection that cannot be read at all (no such folder, an unreadable order file). One bad song or album
// is not an error: it is a CollectionProblem, and the rest goes on.
class CollectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CollectionSong {
  std::filesystem::path file;
  std::string title;
  std::optional<int> track_number;
};

struct CollectionAlbum {
  std::string folder;  // the folder's own name (or the catalog's album name)
  std::string artist;
  std::string title;
  std::optional<int> year;
  std::optional<long long> order_key;  // release position: order-file line, year or leading number
  std::vector<CollectionSong> songs;   // in track order
};

// One input that is left out, named once: "<file>: <reason>".
struct CollectionProblem {
  std::string file;
  std::string reason;
};

struct Collection {
  std::vector<CollectionAlbum> albums;      // in release order, each with at least one song
  std::vector<CollectionProblem> problems;  // empty album folders, non-audio files, audio outside any album
  std::vector<std::string> notes;           // e.g. folders an order file does not list (not failures)
};

// Sorts albums into release order (released_before, data/album_folders.h): with `by_position_only` by
// order_key alone (an order file, which may interleave artists), else by artist, then order_key; albums
// without a key after their artist's others; ties by folder name. Songs within each album by track number
// (songs without one after), then title.
void sort_collection(std::vector<CollectionAlbum>& albums, bool by_position_only);

// Reads a collection folder (no audio is decoded; each song's tags are read from its file's header: a title
// tag names the song, a track tag numbers a song whose file name has no number). Each subfolder of `root` is
// an album; its audio files (by extension, in its subfolders too) are its songs. Problems, each named once:
// an album folder with no audio file, a file in an album folder that is not audio, an audio file directly in
// `root` beside album folders. A `root` with audio files and no subfolder is one album itself (its artist:
// the parent folder's name). Other files directly in `root` (tracks.csv, an order file, a cover) and hidden
// files are ignored. `order_file` (one album folder name per line,
// '#' comments): listed folders first in that order, the rest after with a note. Throws CollectionError when
// `root` is not a folder or the order file cannot be read.
Collection scan_collection(const std::filesystem::path& root,
                           const std::optional<std::filesystem::path>& order_file = std::nullopt);

// --- what follows from the model's output

// The mean of the rows of a [rows × columns] row-major matrix (a song's mean softmax over its windows).
std::vector<double> mean_rows(std::span<const float> values, std::size_t columns);
// Shannon entropy in bits of a probability vector (0 · log 0 = 0).
double entropy_bits(std::span<const double> p);
// Jensen–Shannon divergence in bits between two probability vectors: 0 for equal ones, 1 for disjoint ones.
double jensen_shannon_bits(std::span<const double> p, std::span<const double> q);
// Indices of the `k` largest values, largest first (ties: the lower index first).
std::vector<std::size_t> top_indices(std::span<const double> values, std::size_t k);

struct Neighbour {
  std::size_t song = 0;  // index in the collection's songs
  double distance = 0.0;
};
// Each of n vectors' k nearest others (itself excluded), nearest first, by exact search (recommend/index.h);
// metric "sqeuclidean", "cosine" or "js". Ties come in increasing index order.
std::vector<std::vector<Neighbour>> nearest_vectors(std::span<const float> vectors, std::size_t dim,
                                                    const std::string& metric, std::size_t k);

// The share of each point's k nearest map neighbours (Euclidean, itself excluded, ties by index) that share
// its group, over all points.
double same_group_neighbour_share(const std::vector<std::array<double, 2>>& map,
                                  const std::vector<std::size_t>& group_of, std::size_t k);
// What a random map gives on average: each point's neighbours are then a uniform draw of the others, so the
// expected share is the mean over points of (size of its group - 1) / (n - 1).
double random_group_neighbour_share(const std::vector<std::size_t>& group_of);

// --- the whole study

// One song as the model heard it.
struct SongPrediction {
  std::size_t album = 0;  // index in the album list given to analyse_collection
  std::string title;
  std::string file;
  std::optional<int> track_number;
  std::size_t windows = 0;
  std::vector<float> window_probabilities;  // windows × classes, softmax per window
  std::vector<double> window_starts;        // seconds into the song, per window
  std::vector<float> embedding;             // the song's embedding (mean over its windows, unit length)
};

enum class MapSpace {
  Probabilities,  // the mean softmax (the original study's map)
  Embeddings,     // the penultimate layer
};
std::string to_string(MapSpace space);                             // probs, embedding
std::optional<MapSpace> parse_map_space(const std::string& text);  // probs, embedding

struct AnalysisOptions {
  std::size_t top_genres = 3;     // per song and per album
  std::size_t neighbours = 5;     // nearest songs listed per song
  std::size_t share_k = 5;        // map neighbours counted for the album share
  double perplexity = 30.0;       // t-SNE; lowered to (songs - 1) / 3 for small collections
  int iterations = 1000;          // t-SNE gradient steps
  std::uint64_t seed = 0;         // the same seed gives the same map
  std::size_t exact_limit = 500;  // exact t-SNE below this many songs, Barnes–Hut from there
  MapSpace map_space = MapSpace::Embeddings;
};

struct SongAnalysis {
  std::size_t album = 0;  // index in CollectionAnalysis::albums
  std::string title, file;
  std::optional<int> track_number;
  std::size_t windows = 0;
  std::vector<double> distribution;  // mean softmax over the windows
  std::vector<std::size_t> top;      // the top genres, most probable first
  double entropy = 0.0;              // of the distribution, bits
  std::vector<double> window_starts;
  std::vector<std::vector<double>> timeline;  // [window][genre]: each window's softmax
  std::vector<Neighbour> nearest_by_probs;  // sqeuclidean between distributions (the original's recommender)
  std::vector<Neighbour> nearest_by_embedding;  // cosine between embeddings
  std::array<double, 2> map{};                  // t-SNE position
};

struct AlbumAnalysis {
  std::string folder, artist, title;
  std::optional<int> year;
  std::size_t position = 0;           // in release order, from 1
  std::vector<std::size_t> songs;     // indices in CollectionAnalysis::songs, in track order
  std::vector<double> distribution;   // mean of its songs' distributions
  std::vector<std::size_t> dominant;  // the top genres of that mean
  // How varied its songs are: the mean Jensen–Shannon divergence (bits, 0 to 1) of each song's distribution
  // from the album's mean distribution; 0 when every song sounds alike to the model.
  double variety = 0.0;
  double entropy = 0.0;  // of the mean distribution, bits
};

struct CollectionAnalysis {
  std::vector<std::string> classes;
  std::vector<AlbumAnalysis> albums;  // in release order; albums with no analysed song are left out
  std::vector<SongAnalysis> songs;    // album by album, in track order
  MapSpace map_space = MapSpace::Embeddings;
  double perplexity = 0.0;  // as used, after lowering for a small collection
  std::string map_method;   // "exact" or "barnes-hut"
  std::uint64_t seed = 0;
  std::size_t share_k = 5;
  double album_neighbour_share = 0.0;  // share of each song's share_k map neighbours from its own album
  double random_share = 0.0;           // the same for a random map (expected value)
};

// The study of a collection: `albums` in release order (their songs lists are not used), `songs` the songs
// the model heard (any order; each names its album). Needs at least one song; a single song gets a map at the
// origin and no neighbours. Throws std::invalid_argument for inconsistent sizes.
CollectionAnalysis analyse_collection(const std::vector<CollectionAlbum>& albums,
                                      std::vector<SongPrediction> songs,
                                      const std::vector<std::string>& classes,
                                      const AnalysisOptions& options = {});

}  // namespace tunelens
