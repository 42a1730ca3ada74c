// tunelens synth: a generated music corpus (GTZAN's layout, or an artist collection), composed in code and
// played by FluidSynth with a General MIDI sound font.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "audio/audio.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "features/features.h"
#include "report/png.h"
#include "synth/corpus.h"
#include "synth/render.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;
using synth::Genre;
using synth::PlannedTrack;

struct SynthArgs {
  std::string out;
  std::vector<std::string> genres;
  int per_genre = 100;
  bool collection = false;
  int artists = 3;
  int albums = 4;
  int tracks = 8;
  double seconds = 30.0;
  std::uint64_t seed = 1;
  unsigned threads = 0;
  int sample_rate = 22050;
  std::string sound_font = synth::default_sound_font().string();
  std::string preview;
  bool quiet = false;
};

// "1 genre", "3 genres".
std::string counted(int n, const std::string& noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// The dB mel spectrogram (first 10 s) of the first track of each genre, side by side with the genres as
// captions.
RgbImage draw_preview(const std::vector<std::pair<std::string, fs::path>>& panels, int sample_rate) {
  MelOptions options;
  options.sample_rate = sample_rate;
  const MelSpectrogram mel(options);
  LoadOptions load;
  load.sample_rate = sample_rate;
  load.duration = 10.0;
  std::vector<Spectrogram> spectrograms;
  std::size_t width = 1;
  for (const auto& [caption, path] : panels) {
    Spectrogram s = mel.compute(load_audio(path, load).samples);
    power_to_db(s);  // ref = max, top_db = 80
    width = std::max(width, s.frames);
    spectrograms.push_back(std::move(s));
  }
  const int columns = static_cast<int>(std::min<std::size_t>(5, panels.size()));
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  const int panel_w = static_cast<int>(width), panel_h = options.n_mels, gap = 14, caption = 26, title = 34;
  RgbImage image(columns * panel_w + (columns + 1) * gap, title + rows * (caption + panel_h + gap) + gap / 2,
                 {18, 18, 22});
  const Rgb ink{225, 225, 230};
  image.draw_text(gap, 12,
                  fmt::format("tunelens synth: dB mel spectrograms ({} bands, first 10 s)", options.n_mels),
                  ink, 2);
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const int x0 = gap + static_cast<int>(i % static_cast<std::size_t>(columns)) * (panel_w + gap);
    const int y0 =
        title + static_cast<int>(i / static_cast<std::size_t>(columns)) * (caption + panel_h + gap);
    image.draw_text(x0, y0 + 6, panels[i].first, ink, 2);
    const Spectrogram& s = spectrograms[i];
    // Whole decibels (80 colours): no visible difference, and a quarter smaller file.
    for (std::size_t t = 0; t < s.frames; ++t)
      for (std::size_t m = 0; m < s.rows; ++m)  // low frequencies at the bottom
        image.set(x0 + static_cast<int>(t), y0 + caption + panel_h - 1 - static_cast<int>(m),
                  magma((std::round(s.at(m, t)) + 80.0) / 80.0));
  }
  return image;
}

int run_synth(const SynthArgs& args) {
  // Plan.
  std::vector<PlannedTrack> plan;
  std::string shape;
  if (args.collection) {
    synth::CollectionOptions options;
    options.artists = args.artists;
    options.albums = args.albums;
    options.tracks = args.tracks;
    options.seconds = args.seconds;
    options.seed = args.seed;
    plan = synth::plan_collection(options);
    shape = fmt::format("{} x {} x {}", counted(args.artists, "artist"), counted(args.albums, "album"),
                        counted(args.tracks, "track"));
  } else {
    synth::CorpusOptions options;
    for (const auto& name : args.genres) {
      const auto genre = synth::genre_from_name(name);
      if (!genre)
        throw CLI::ValidationError(
            "--genres", fmt::format("unknown genre '{}'; valid genres: {}", name, synth::genre_list()));
      if (std::find(options.genres.begin(), options.genres.end(), *genre) == options.genres.end())
        options.genres.push_back(*genre);
    }
    options.per_genre = args.per_genre;
    options.seconds = args.seconds;
    options.seed = args.seed;
    plan = synth::plan_corpus(options);
    const std::size_t genres = options.genres.empty() ? synth::kGenreCount : options.genres.size();
    shape = fmt::format("{} x {}, {} per genre", counted(static_cast<int>(genres), "genre"), args.per_genre,
                        counted(synth::corpus_artist_count(args.per_genre), "artist"));
  }

  // The output folder must be writable before an hour of work goes into it.
  const fs::path out(args.out);
  try {
    require_writable_folder(out);
  } catch (const std::runtime_error& error) {
    std::cerr << "tunelens synth: error: " << error.what() << "\n";
    return kUsageError;
  }

  synth::RenderOptions render;
  render.out = out;
  render.sound_font = args.sound_font;
  render.sample_rate = args.sample_rate;
  render.threads = std::max(1u, args.threads ? args.threads : std::thread::hardware_concurrency());
  const unsigned threads = std::min<unsigned>(render.threads, static_cast<unsigned>(plan.size()));
  Progress progress("synth", plan.size(), args.quiet);
  synth::RenderSummary summary;
  try {
    summary = synth::render_tracks(plan, render, [&](const PlannedTrack& track, const std::string& error) {
      if (!error.empty()) progress.message("error: " + error);
      progress.advance(track.path.filename().string());
    });
  } catch (const synth::SynthError& error) {
    progress.finish();
    std::cerr << "tunelens synth: error: " << error.what() << "\n";
    return kUsageError;
  }
  progress.finish();
  const double seconds = progress.elapsed_seconds();

  std::vector<PlannedTrack> written;
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (summary.ok[i]) written.push_back(plan[i]);
  int status = summary.failed > 0 ? kSomeFailed : kSuccess;
  try {
    synth::write_tracks_csv(out / "tracks.csv", written);
  } catch (const std::exception& error) {
    std::cerr << "tunelens synth: error: " << error.what() << "\n";
    status = kSomeFailed;
  }
  std::cout << fmt::format(
      "synth: {} files ({}): {} written, {} failed; {:.1f} s of audio in {:.2f} s ({:.0f}x realtime, "
      "{} threads) -> {}\n",
      plan.size(), shape, summary.written, summary.failed, summary.audio_seconds, seconds,
      seconds > 0 ? summary.audio_seconds / seconds : 0.0, threads, out.string());

  if (!args.preview.empty()) {
    std::vector<std::pair<std::string, fs::path>> panels;
    std::set<Genre> seen;
    for (const auto& track : written)
      if (seen.insert(track.genre).second)
        panels.emplace_back(std::string(synth::genre_name(track.genre)), out / track.path);
    try {
      if (panels.empty()) throw std::runtime_error("no track was written to draw");
      write_png(args.preview, draw_preview(panels, args.sample_rate));
      std::cout << fmt::format("synth: preview of {} genres -> {}\n", panels.size(), args.preview);
    } catch (const std::exception& error) {
      const std::string what = error.what();
      std::cerr << "tunelens synth: error: "
                << (what.starts_with(args.preview) ? what : args.preview + ": " + what) << "\n";
      status = kSomeFailed;
    }
  }
  return status;
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* command = app.add_subcommand("synth",
                                         "Generate a music corpus (GTZAN layout, or an artist collection) "
                                         "with FluidSynth and a General MIDI sound font");
  command->add_option("--out,-o", args->out, "Folder for the corpus (WAV files and tracks.csv)")->required();
  auto* genres =
      command
          ->add_option("--genres", args->genres,
                       "Genres to make, comma-separated (default: all ten: " + synth::genre_list() + ")")
          ->delimiter(',');
  auto* per_genre =
      command->add_option("--per-genre", args->per_genre, "Tracks per genre")->capture_default_str();
  auto* collection = command->add_flag(
      "--collection", args->collection,
      "Make an artist collection instead: DIR/[<Artist> - ]<year> - <Album>/<NN> - <Title>.wav");
  command->add_option("--artists", args->artists, "Collection: artists")
      ->capture_default_str()
      ->needs(collection);
  command->add_option("--albums", args->albums, "Collection: albums per artist")
      ->capture_default_str()
      ->needs(collection);
  command->add_option("--tracks", args->tracks, "Collection: tracks per album")
      ->capture_default_str()
      ->needs(collection);
  collection->excludes(genres)->excludes(per_genre);
  command->add_option("--seconds", args->seconds, "Length of each track, seconds")->capture_default_str();
  command->add_option("--seed", args->seed, "Seed: the same seed gives the same files, byte for byte")
      ->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Tracks rendered at once (default: all cores)")->check(thread_count());
  command->add_option("--sample-rate", args->sample_rate, "Sample rate of the WAV files, Hz")
      ->capture_default_str();
  command->add_option("--sound-font", args->sound_font, "General MIDI sound font (.sf2)")
      ->capture_default_str();
  command->add_option("--preview", args->preview,
                      "Also draw the mel spectrogram of each genre's first track to this PNG");
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  set_action(command, [args] {
    if (args->per_genre < 1)
      throw CLI::ValidationError("--per-genre", fmt::format("must be at least 1 (got {})", args->per_genre));
    if (args->artists < 1 || args->albums < 1 || args->tracks < 1)
      throw CLI::ValidationError("--artists/--albums/--tracks", "must each be at least 1");
    if (!(args->seconds > 0.0) || args->seconds > 3600.0)
      throw CLI::ValidationError("--seconds", "must be more than 0 and at most 3600");
    if (args->sample_rate < 8000 || args->sample_rate > 96000)
      throw CLI::ValidationError("--sample-rate", "must be within 8000..96000 Hz");
    return run_synth(*args);
  });
}

}  // namespace tunelens::cli
