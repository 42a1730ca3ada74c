#include "synth/corpus.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "audio/audio.h"
#include "data/csv.h"
#include "synth/names.h"
#include "synth/random.h"
#include "synth/render.h"

namespace tunelens::synth {
namespace {

// Characters that do not belong in a file name on common systems become '-' (a colon ' -').
std::string file_safe(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == ':')
      out += " -";  // "Sonata No. 3: Allegro" -> "Sonata No. 3 - Allegro"
    else
      out += std::string_view("/\\*?\"<>|").find(c) == std::string_view::npos ? c : '-';
  }
  while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(out.begin());
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out.empty() ? "untitled" : out;
}

// A name drawn again (from the same generator) until it is not one of `taken`.
template <typename Draw>
std::string distinct(std::set<std::string>& taken, Rng& rng, Draw draw) {
  std::string name = draw(rng);
  for (int attempt = 0; taken.count(name) && attempt < 20; ++attempt) name = draw(rng);
  if (taken.count(name)) name = fmt::format("{} {}", name, taken.size() + 1);
  taken.insert(name);
  return name;
}

// Release years of an artist's albums.
std::vector<int> album_years(const Persona& persona, int albums) {
  std::vector<int> years;
  int year = persona.first_year;
  for (int k = 0; k < albums; ++k) {
    years.push_back(year);
    Rng gap(derive_seed(persona.seed, "gap", static_cast<std::uint64_t>(k)));
    year += gap.range(1, 3);
  }
  return years;
}

void check_length(double seconds) {
  if (!(seconds > 0.0) || seconds > 3600.0)
    throw std::invalid_argument("the track length must be between 0 and 3600 seconds");
}

}  // namespace

int corpus_artist_count(int per_genre) {
  if (per_genre <= 1) return 1;
  return std::max(2, (per_genre + 9) / 10);
}

std::vector<PlannedTrack> plan_corpus(const CorpusOptions& options) {
  if (options.per_genre < 1) throw std::invalid_argument("there must be at least one track per genre");
  check_length(options.seconds);
  std::vector<Genre> genres = options.genres;
  if (genres.empty()) genres.assign(all_genres().begin(), all_genres().end());
  std::vector<PlannedTrack> plan;
  for (const Genre genre : genres) {
    const std::string label(genre_name(genre));
    const int n = options.per_genre;
    const int artists = std::min(corpus_artist_count(n), n);
    std::set<std::string> names;
    for (int a = 0; a < artists; ++a) {
      const std::uint64_t artist_seed =
          derive_seed(options.seed, "artist:" + label, static_cast<std::uint64_t>(a));
      const Persona persona = make_persona(genre, artist_seed);
      Rng naming(derive_seed(artist_seed, "name"));
      const std::string artist = distinct(names, naming, [&](Rng& r) { return artist_name(persona, r); });
      // The artist's tracks: a contiguous block of the genre's indices, split over 1 to 3 albums.
      std::vector<int> indices;
      for (int i = 0; i < n; ++i)
        if (i * artists / n == a) indices.push_back(i);
      const int count = static_cast<int>(indices.size());
      Rng shape(derive_seed(artist_seed, "albums"));
      const int albums = std::min(shape.range(1, 3), count);
      const std::vector<int> years = album_years(persona, albums);
      std::set<std::string> album_names;
      std::vector<std::string> titles_of_album(static_cast<std::size_t>(albums));
      for (int k = 0; k < albums; ++k) {
        Rng r(derive_seed(artist_seed, "album", static_cast<std::uint64_t>(k)));
        titles_of_album[static_cast<std::size_t>(k)] =
            distinct(album_names, r, [&](Rng& g) { return album_title(genre, g); });
      }
      std::vector<std::set<std::string>> song_names(static_cast<std::size_t>(albums));
      std::vector<int> numbers(static_cast<std::size_t>(albums), 0);
      for (int j = 0; j < count; ++j) {
        const int k = j * albums / count;
        const int index = indices[static_cast<std::size_t>(j)];
        PlannedTrack t;
        t.genre = genre;
        t.path = std::filesystem::path(label) / fmt::format("{}.{:05}.wav", label, index);
        t.artist = artist;
        t.artist_index = a;
        t.album_index = k;
        t.album = titles_of_album[static_cast<std::size_t>(k)];
        t.year = years[static_cast<std::size_t>(k)];
        t.track_number = ++numbers[static_cast<std::size_t>(k)];
        t.recipe.persona = album_persona(persona, k);
        t.recipe.seed = derive_seed(options.seed, label, static_cast<std::uint64_t>(index));
        t.recipe.seconds = options.seconds;
        Rng titling(derive_seed(t.recipe.seed, "title"));
        t.title = distinct(song_names[static_cast<std::size_t>(k)], titling,
                           [&](Rng& g) { return song_title(genre, g); });
        plan.push_back(std::move(t));
      }
    }
  }
  // GTZAN order: by genre, then index.
  std::stable_sort(plan.begin(), plan.end(),
                   [](const PlannedTrack& a, const PlannedTrack& b) { return a.path < b.path; });
  return plan;
}

std::vector<PlannedTrack> plan_collection(const CollectionOptions& options) {
  if (options.artists < 1 || options.albums < 1 || options.tracks < 1)
    throw std::invalid_argument("a collection needs at least one artist, one album and one track");
  check_length(options.seconds);
  // Genres that sit next to each other, for artists who move between two.
  static const std::map<Genre, std::vector<Genre>> neighbours{
      {Genre::Blues, {Genre::Jazz, Genre::Rock, Genre::Country}},
      {Genre::Classical, {Genre::Jazz}},
      {Genre::Country, {Genre::Rock, Genre::Blues, Genre::Pop}},
      {Genre::Disco, {Genre::Pop, Genre::HipHop}},
      {Genre::HipHop, {Genre::Reggae, Genre::Disco, Genre::Pop}},
      {Genre::Jazz, {Genre::Blues, Genre::Classical}},
      {Genre::Metal, {Genre::Rock}},
      {Genre::Pop, {Genre::Disco, Genre::Rock, Genre::Country}},
      {Genre::Reggae, {Genre::HipHop, Genre::Pop}},
      {Genre::Rock, {Genre::Metal, Genre::Blues, Genre::Pop}}};
  Rng rng(derive_seed(options.seed, "collection"));
  std::vector<Genre> order(all_genres().begin(), all_genres().end());
  rng.shuffle(order);

  std::vector<PlannedTrack> plan;
  std::set<std::string> artist_names;
  int index = 0;
  for (int a = 0; a < options.artists; ++a) {
    const std::uint64_t artist_seed =
        derive_seed(options.seed, "collection-artist", static_cast<std::uint64_t>(a));
    Rng career(derive_seed(artist_seed, "career"));
    const Genre primary = order[static_cast<std::size_t>(a) % order.size()];
    // One artist in two moves to a neighbouring genre for a run of albums (later ones, or one in the middle).
    std::vector<Genre> genre_of_album(static_cast<std::size_t>(options.albums), primary);
    if (options.albums >= 2 && career.chance(0.5)) {
      const Genre second = career.pick(neighbours.at(primary));
      const int from = career.range(1, options.albums - 1);
      const int to = career.chance(0.6) ? options.albums : from + 1;
      for (int k = from; k < to; ++k) genre_of_album[static_cast<std::size_t>(k)] = second;
    }
    const Persona home = make_persona(primary, artist_seed);
    Rng naming(derive_seed(artist_seed, "name"));
    const std::string artist = distinct(artist_names, naming, [&](Rng& r) { return artist_name(home, r); });
    const std::vector<int> years = album_years(home, options.albums);
    std::set<std::string> album_names;
    for (int k = 0; k < options.albums; ++k) {
      const Genre genre = genre_of_album[static_cast<std::size_t>(k)];
      const Persona persona = album_persona(make_persona(genre, artist_seed), k);
      Rng r(derive_seed(artist_seed, "album", static_cast<std::uint64_t>(k)));
      const std::string album = distinct(album_names, r, [&](Rng& g) { return album_title(genre, g); });
      const std::string folder =
          options.artists > 1 ? fmt::format("{} - {} - {}", file_safe(artist),
                                            years[static_cast<std::size_t>(k)], file_safe(album))
                              : fmt::format("{} - {}", years[static_cast<std::size_t>(k)], file_safe(album));
      std::set<std::string> song_names;
      for (int n = 0; n < options.tracks; ++n, ++index) {
        PlannedTrack t;
        t.genre = genre;
        t.artist = artist;
        t.artist_index = a;
        t.album = album;
        t.album_index = k;
        t.year = years[static_cast<std::size_t>(k)];
        t.track_number = n + 1;
        t.recipe.persona = persona;
        t.recipe.seed = derive_seed(options.seed, "collection:" + std::string(genre_name(genre)),
                                    static_cast<std::uint64_t>(index));
        t.recipe.seconds = options.seconds;
        Rng titling(derive_seed(t.recipe.seed, "title"));
        t.title = distinct(song_names, titling, [&](Rng& g) { return song_title(genre, g); });
        t.path = std::filesystem::path(folder) / fmt::format("{:02} - {}.wav", n + 1, file_safe(t.title));
        plan.push_back(std::move(t));
      }
    }
  }
  return plan;
}

void write_tracks_csv(const std::filesystem::path& path, const std::vector<PlannedTrack>& tracks) {
  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot create file");
    out << "path,label,artist,album,title,year\n";
    for (const auto& t : tracks)
      out << csv_field(t.path.generic_string()) << ',' << genre_name(t.genre) << ',' << csv_field(t.artist)
          << ',' << csv_field(t.album) << ',' << csv_field(t.title) << ',' << t.year << '\n';
    if (!out.flush()) throw std::runtime_error(path.string() + ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) throw std::runtime_error(path.string() + ": cannot write: " + ec.message());
}

RenderSummary render_tracks(const std::vector<PlannedTrack>& tracks, const RenderOptions& options,
                            const std::function<void(const PlannedTrack&, const std::string&)>& done) {
  RenderSummary summary;
  summary.ok.assign(tracks.size(), false);
  if (tracks.empty()) return summary;
  const unsigned threads =
      std::max(1u, std::min<unsigned>(options.threads, static_cast<unsigned>(tracks.size())));
  // One synthesizer per thread, made here so that a bad sound font fails once, before anything is written.
  std::vector<std::unique_ptr<Renderer>> renderers;
  for (unsigned t = 0; t < threads; ++t)
    renderers.push_back(std::make_unique<Renderer>(options.sound_font, options.sample_rate));

  std::atomic<std::size_t> next{0}, written{0}, failed{0};
  std::atomic<long long> frames{0};
  auto work = [&](Renderer& renderer) {
    for (std::size_t i = next++; i < tracks.size(); i = next++) {
      const PlannedTrack& track = tracks[i];
      const std::filesystem::path file = options.out / track.path;
      std::string error;
      try {
        const std::vector<float> samples = renderer.render(compose(track.recipe));
        std::filesystem::create_directories(file.parent_path());
        write_wav(file, samples, options.sample_rate);
        frames += static_cast<long long>(samples.size());
        summary.ok[i] = true;
        ++written;
      } catch (const std::exception& e) {
        const std::string what = e.what();
        error = what.starts_with(file.string()) ? what : file.string() + ": " + what;
        ++failed;
      }
      done(track, error);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, std::ref(*renderers[t]));
  work(*renderers[0]);
  for (auto& thread : pool) thread.join();
  summary.written = written;
  summary.failed = failed;
  summary.audio_seconds = static_cast<double>(frames.load()) / options.sample_rate;
  return summary;
}

}  // namespace tunelens::synth
