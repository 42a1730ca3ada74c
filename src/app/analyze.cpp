#include "app/analyze.h"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "app/errors.h"
#include "app/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "store/catalog.h"

namespace tunelens::app {
namespace {

namespace fs = std::filesystem;

// A catalog's tracks as albums: grouped by artist and album, in order of the album's release position
// (album_order, else year), songs by track number. Tracks without an album form one album per artist.
Collection catalog_collection(const fs::path& file) {
  const Catalog catalog = Catalog::open(file);
  std::map<std::pair<std::string, std::string>, CollectionAlbum> albums;
  for (const Track& track : catalog.tracks()) {
    const std::string artist = track.artist.value_or("Unknown artist");
    const std::string title = track.album.value_or("(no album)");
    CollectionAlbum& album = albums[{artist, title}];
    if (album.songs.empty()) {
      album.folder = title;
      album.artist = artist;
      album.title = title;
    }
    if (!album.year && track.year) album.year = track.year;
    if (track.album_order)
      album.order_key = *track.album_order;
    else if (!album.order_key && track.year)
      album.order_key = *track.year;
    const fs::path path = catalog.absolute_path(track.path);
    album.songs.push_back({path, track.title.value_or(path.stem().string()), track.track_number});
  }
  Collection collection;
  for (auto& [key, album] : albums) collection.albums.push_back(std::move(album));
  sort_collection(collection.albums, false);
  if (collection.albums.empty()) throw CollectionError(file.string() + ": the catalog has no tracks");
  return collection;
}

// One song through the model: its windows' softmax, their start times, and its embedding.
SongPrediction predict_song(const Model& model, const MelSpectrogram& mel, const CollectionSong& song,
                            std::size_t album, std::string& warning) {
  const FeatureConfig& config = model.features();
  const Spectrogram features = compute_track_features(song.file, config.settings, mel, nullptr, &warning);
  const WindowPredictions predictions = model.predict(features);
  if (predictions.windows == 0) throw std::runtime_error("no audio to analyse");
  SongPrediction prediction;
  prediction.album = album;
  prediction.title = song.title;
  prediction.file = song.file.string();
  prediction.track_number = song.track_number;
  prediction.windows = predictions.windows;
  prediction.window_probabilities = predictions.probabilities;
  prediction.window_starts = window_start_seconds(config, predictions.windows);
  prediction.embedding = predictions.mean_embedding();
  return prediction;
}

// A tag model's profile by one kind of tags: the other tags' columns left out of every song, and of
// `classes`.
void keep_shown_classes(const std::vector<std::size_t>& shown, std::vector<SongPrediction>& songs,
                        std::vector<std::string>& classes) {
  if (shown.size() == classes.size()) return;
  for (SongPrediction& song : songs) {
    std::vector<float> kept;
    kept.reserve(song.windows * shown.size());
    for (std::size_t w = 0; w < song.windows; ++w)
      for (const std::size_t c : shown) kept.push_back(song.window_probabilities[w * classes.size() + c]);
    song.window_probabilities = std::move(kept);
  }
  std::vector<std::string> names;
  for (const std::size_t c : shown) names.push_back(classes[c]);
  classes = std::move(names);
}

}  // namespace

void check_analyze_request(const AnalyzeRequest& request) {
  if (request.collection.empty() == request.catalog.empty())
    throw BadRequest("collection", "give a collection folder or a catalog, not both");
  if (!request.order.empty() && !request.catalog.empty())
    throw BadRequest("order", "applies to a collection folder, not to a catalog");
  if (!(request.perplexity > 0)) throw BadRequest("perplexity", "must be positive");
  if (request.iterations < 1) throw BadRequest("iterations", "must be at least 1");
  if (request.top_k < 1) throw BadRequest("top_k", "must be at least 1");
  if (!parse_map_space(request.map_by)) throw BadRequest("map_by", "must be probs or embedding");
}

AnalyzeResult analyze(const AnalyzeRequest& request, const std::function<void(const Collection&)>& on_read,
                      const OnItemDone& on_song) {
  check_analyze_request(request);
  // The model's header before the collection is read: a missing model or tag kind is said at once.
  const std::vector<std::size_t> shown = shown_classes(read_model_info(request.model), request.tags);
  const Collection collection =
      request.catalog.empty()
          ? scan_collection(request.collection,
                            request.order.empty() ? std::nullopt : std::optional<fs::path>(request.order))
          : catalog_collection(request.catalog);
  if (on_read) on_read(collection);
  AnalyzeResult result;
  result.notes = collection.notes;
  result.problems = collection.problems;

  struct Job {
    std::size_t album;
    const CollectionSong* song;
  };
  std::vector<Job> jobs;
  for (std::size_t a = 0; a < collection.albums.size(); ++a)
    for (const CollectionSong& song : collection.albums[a].songs) jobs.push_back({a, &song});
  if (jobs.empty()) throw std::runtime_error(request.collection + ": no audio files to analyse");

  // Songs in parallel.
  const ParallelModel loaded = load_parallel_model(request.model, request.threads, jobs.size());
  const Model& model = loaded.model;
  const MelSpectrogram mel(model.features().settings.mel);
  std::vector<std::optional<SongPrediction>> predictions(jobs.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  run_workers(loaded.workers, [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      const fs::path& file = jobs[i].song->file;
      ItemDone done{jobs.size(), file.string(), {}, {}};
      std::string warning;
      try {
        predictions[i] = predict_song(model, mel, *jobs[i].song, jobs[i].album, warning);
        if (!warning.empty()) done.warning = about_file(file, warning);
      } catch (const std::exception& error) {
        done.error = about_file(file, error.what());
      }
      const std::lock_guard lock(mutex);
      if (!done.error.empty()) result.failures.push_back(done.error);
      if (on_song) on_song(done);
    }
  });

  std::vector<SongPrediction> songs;
  for (auto& prediction : predictions)
    if (prediction) songs.push_back(std::move(*prediction));
  if (songs.empty()) throw std::runtime_error("no song could be analysed");

  AnalysisOptions options;
  options.top_genres = request.top_k;
  options.neighbours = request.neighbours;
  options.perplexity = request.perplexity;
  options.iterations = request.iterations;
  options.seed = request.seed;
  options.map_space = *parse_map_space(request.map_by);
  std::vector<std::string> classes = model.classes();
  keep_shown_classes(shown, songs, classes);
  result.analysis = analyse_collection(collection.albums, std::move(songs), classes, options);
  return result;
}

}  // namespace tunelens::app
