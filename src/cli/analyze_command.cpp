// tunelens analyze: a whole collection through a model, as the original study did with a band's discography:
// every song cut into windows and classified, per-song and per-album genre profiles with the albums in
// release order, each song's nearest songs, a t-SNE map of all songs, written as tables and one HTML report.
// The study itself is in analysis/collection.h (no torch); this file reads the collection, runs the model and
// prints the summary.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "analysis/collection.h"
#include "analysis/collection_report.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "app/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "store/catalog.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct AnalyzeArgs {
  std::string model, collection, catalog, order, out;
  double perplexity = 30.0;
  std::uint64_t seed = 0;
  int iterations = 1000;
  std::size_t neighbours = 5;
  std::size_t top_k = 3;
  std::string tags = "all";  // tag models: only the tags of this kind
  std::string map_by = "embedding";
  int threads = 0;
  bool quiet = false;
};

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

void print_summary(const CollectionAnalysis& analysis, std::size_t problems, double seconds,
                   const fs::path& out) {
  std::cout << fmt::format(
      "analyze: {} albums, {} songs{} in {:.1f} s\n", analysis.albums.size(), analysis.songs.size(),
      problems > 0 ? fmt::format(" ({} inputs left out)", problems) : std::string(), seconds);
  for (const AlbumAnalysis& album : analysis.albums)
    std::cout << fmt::format("  {:>2}. {}: {} songs, {} (variety {:.3f})\n", album.position,
                             album_label(album), album.songs.size(),
                             genre_list(analysis, album.dominant, album.distribution), album.variety);
  if (analysis.songs.size() > 1)
    std::cout << fmt::format(
        "map: {:.1f}% of each song's {} nearest map neighbours are from its own album (a random map: "
        "{:.1f}%, "
        "{:.1f}x)\n",
        100 * analysis.album_neighbour_share, analysis.share_k, 100 * analysis.random_share,
        analysis.random_share > 0 ? analysis.album_neighbour_share / analysis.random_share : 0.0);
  std::cout << fmt::format("report: {} (tables: songs, albums, neighbours, map .csv/.json; map.png)\n",
                           (out / "report.html").string());
}

int run_analyze(const AnalyzeArgs& args) {
  if (args.collection.empty() == args.catalog.empty())
    throw CLI::ValidationError("COLLECTION", "give a collection folder or --catalog, not both");
  if (!args.order.empty() && !args.catalog.empty())
    throw CLI::ValidationError("--order", "applies to a collection folder, not to --catalog");
  if (!(args.perplexity > 0)) throw CLI::ValidationError("--perplexity", "must be positive");
  if (args.iterations < 1) throw CLI::ValidationError("--iterations", "must be at least 1");
  if (args.top_k < 1) throw CLI::ValidationError("--top-k", "must be at least 1");
  const std::optional<MapSpace> space = parse_map_space(args.map_by);
  if (!space) throw CLI::ValidationError("--map-by", "must be probs or embedding");
  require_model(args.model);
  require_writable_folder(args.out);  // before every song is analysed, not after
  const auto start = std::chrono::steady_clock::now();

  const Collection collection =
      args.catalog.empty()
          ? scan_collection(args.collection,
                            args.order.empty() ? std::nullopt : std::optional<fs::path>(args.order))
          : catalog_collection(args.catalog);
  for (const std::string& note : collection.notes) std::cerr << "tunelens analyze: note: " << note << "\n";
  for (const CollectionProblem& problem : collection.problems)
    std::cerr << fmt::format("tunelens analyze: error: {}: {}\n", problem.file, problem.reason);

  struct Job {
    std::size_t album;
    const CollectionSong* song;
  };
  std::vector<Job> jobs;
  for (std::size_t a = 0; a < collection.albums.size(); ++a)
    for (const CollectionSong& song : collection.albums[a].songs) jobs.push_back({a, &song});
  if (jobs.empty()) throw std::runtime_error(args.collection + ": no audio files to analyse");

  // Songs in parallel.
  const app::ParallelModel loaded = app::load_parallel_model(args.model, args.threads, jobs.size());
  const Model& model = loaded.model;
  const std::vector<std::size_t> shown = app::shown_classes(model.info(), args.tags);
  const MelSpectrogram mel(model.features().settings.mel);

  Progress decoding("analyze: decoding", jobs.size(), args.quiet);
  std::vector<std::optional<SongPrediction>> predictions(jobs.size());
  std::atomic<std::size_t> next{0}, failed{0};
  auto work = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      const std::string file = jobs[i].song->file.string();
      std::string warning;
      try {
        predictions[i] = predict_song(model, mel, *jobs[i].song, jobs[i].album, warning);
        if (!warning.empty())
          decoding.message(fmt::format("tunelens analyze: warning: {}: {}", file, warning));
      } catch (const std::exception& error) {
        ++failed;
        decoding.message("tunelens analyze: error: " + app::about_file(jobs[i].song->file, error.what()));
      }
      decoding.advance(file);
    }
  };
  app::run_workers(loaded.workers, work);
  decoding.finish();

  std::vector<SongPrediction> songs;
  for (auto& prediction : predictions)
    if (prediction) songs.push_back(std::move(*prediction));
  if (songs.empty()) throw std::runtime_error("no song could be analysed");

  AnalysisOptions options;
  options.top_genres = args.top_k;
  options.neighbours = args.neighbours;
  options.perplexity = args.perplexity;
  options.iterations = args.iterations;
  options.seed = args.seed;
  options.map_space = *space;
  // A tag model's profile by one kind of tags (--tags genre): the other tags' columns left out.
  std::vector<std::string> classes = model.classes();
  if (shown.size() < classes.size()) {
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
  const CollectionAnalysis analysis =
      analyse_collection(collection.albums, std::move(songs), classes, options);

  const std::size_t problems = collection.problems.size() + failed.load();
  CollectionReportContext context;
  context.collection = args.catalog.empty() ? args.collection : args.catalog;
  context.model = args.model;
  context.problems = problems;
  write_collection_report(analysis, context, args.out);
  print_summary(analysis, problems,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), args.out);
  return problems > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* command = app.add_subcommand(
      "analyze",
      "Study a collection of albums: genre profiles per song and album, nearest songs, a map, a report");
  command->add_option("--model,-m", args->model, "Model file")->required();
  command->add_option(
      "collection", args->collection,
      "Collection folder: one subfolder per album (\"<Artist> - <year> - <Album>\", \"<year> - "
      "<Album>\", \"<NN> <Album>\")");
  command->add_option("--catalog", args->catalog,
                      "Analyse a catalog's tracks instead (album, artist, year metadata)");
  command->add_option("--order", args->order,
                      "Album release order: a file with one album folder name per line");
  command->add_option("--out,-o", args->out, "Report folder (tables, map.png, report.html)")->required();
  command
      ->add_option("--perplexity", args->perplexity,
                   "t-SNE perplexity (lowered to (songs - 1) / 3 for small collections)")
      ->capture_default_str();
  command->add_option("--seed", args->seed, "t-SNE seed: the same seed gives the same map")
      ->capture_default_str();
  command->add_option("--iterations", args->iterations, "t-SNE gradient steps")->capture_default_str();
  command->add_option("--neighbours,-k", args->neighbours, "Nearest songs listed per song")
      ->capture_default_str();
  command->add_option("--top-k", args->top_k, "Top genres per song and album")->capture_default_str();
  command->add_option(
      "--tags", args->tags,
      "Tag models: profile songs and albums by the tags of one kind only: genre, instrument, mood, voice, era "
      "(default: all)");
  command->add_option("--map-by", args->map_by, "What the map is drawn from: embedding or probs")
      ->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Songs decoded at once (default: all cores)")->check(thread_count());
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  set_action(command, [args] { return run_analyze(*args); });
}

}  // namespace tunelens::cli
