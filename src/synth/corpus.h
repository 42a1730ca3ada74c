// Generated corpora: the plan (which artist, album, title, year and persona each track has, and where its
// file goes), the tracks.csv that describes it, and the threaded rendering of the plan to 16-bit WAV files.
//
// Two layouts:
//   corpus      GTZAN's: DIR/<genre>/<genre>.00000.wav, each genre's tracks spread over a few artists
//   (per-genre/10
//               rounded up, at least 2 when there are 2 tracks or more), each with 1 to 3 albums.
//   collection  a discography: DIR/<year> - <Album>/<NN> - <Title>.wav for one artist, and
//               DIR/<Artist> - <year> - <Album>/<NN> - <Title>.wav for several (sorting the folders groups
//               each artist's albums in release order). Each artist stays within one or two genres.
// Both write DIR/tracks.csv: path,label,artist,album,title,year (path relative to DIR, label the genre).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "synth/compose.h"
#include "synth/persona.h"

namespace tunelens::synth {

struct PlannedTrack {
  std::filesystem::path path;  // relative to the output folder
  Genre genre = Genre::Rock;
  std::string artist, album, title;
  int year = 0;
  int artist_index = 0;  // within its genre (corpus) or the collection
  int album_index = 0;   // within the artist's albums, in release order
  int track_number = 1;  // within the album, from 1
  TrackRecipe recipe;
};

struct CorpusOptions {
  std::vector<Genre> genres;  // empty: all ten
  int per_genre = 100;
  double seconds = 30.0;
  std::uint64_t seed = 1;
};

struct CollectionOptions {
  int artists = 3;
  int albums = 4;  // per artist
  int tracks = 8;  // per album
  double seconds = 30.0;
  std::uint64_t seed = 1;
};

// Throws std::invalid_argument for counts below 1 or a length that is not positive.
std::vector<PlannedTrack> plan_corpus(const CorpusOptions& options);
std::vector<PlannedTrack> plan_collection(const CollectionOptions& options);

// Number of artists a genre's tracks are spread over in a corpus.
int corpus_artist_count(int per_genre);

// Writes tracks.csv (header path,label,artist,album,title,year). Throws std::runtime_error naming the file.
void write_tracks_csv(const std::filesystem::path& path, const std::vector<PlannedTrack>& tracks);

struct RenderOptions {
  std::filesystem::path out;         // the corpus folder
  std::filesystem::path sound_font;  // a General MIDI .sf2
  int sample_rate = 22050;
  unsigned threads = 1;
};

struct RenderSummary {
  std::size_t written = 0;
  std::size_t failed = 0;
  double audio_seconds = 0.0;
  std::vector<char> ok;  // per planned track: 1 when written
};

// Composes and renders every planned track to out/path as 16-bit mono WAV, on `threads` threads; the bytes do
// not depend on the thread count. `done(track, error)` is called (from the worker threads, one call at a time
// per thread) as each track finishes, with an empty error on success; a failed track is counted and the rest
// go on. Throws SynthError before writing anything when the sound font cannot be used.
RenderSummary render_tracks(const std::vector<PlannedTrack>& tracks, const RenderOptions& options,
                            const std::function<void(const PlannedTrack&, const std::string&)>& done);

}  // namespace tunelens::synth
