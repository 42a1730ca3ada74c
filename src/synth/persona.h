// Genres, their palettes (the instruments, tempos, keys and patterns of each idiom) and artists' personas: a
// fixed subset of a genre's palette with the artist's own tempo centre, favourite keys and patterns, which
// drifts a little from album to album.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tunelens::synth {

// The ten genres of GTZAN.
enum class Genre : int { Blues, Classical, Country, Disco, HipHop, Jazz, Metal, Pop, Reggae, Rock };
inline constexpr int kGenreCount = 10;

std::span<const Genre> all_genres();
// GTZAN's folder names: blues, classical, country, disco, hiphop, jazz, metal, pop, reggae, rock.
std::string_view genre_name(Genre genre);
std::optional<Genre> genre_from_name(std::string_view name);
// "blues, classical, ..., rock"
std::string genre_list();

// What an instrument does in an arrangement; each genre reads the roles in its own way (a classical "lead" is
// the first violin, a reggae "comp2" the organ bubble).
enum Role : int { kDrums, kBass, kComp, kComp2, kLead, kPad, kColor, kRoleCount };

// A General MIDI instrument as bank * 128 + program (bank 128 holds the drum kits).
constexpr int gm(int program, int bank = 0) {
  return bank * 128 + program;
}

struct Range {
  double lo = 0.0;
  double hi = 0.0;
  double at(double u) const { return lo + (hi - lo) * u; }  // u in [0, 1]
};

// Pattern families every genre chooses among: the drum groove (which also sets the tempo range), the bass
// pattern, the accompaniment pattern and the lead's style.
enum Family : int { kGroove, kBassPattern, kCompPattern, kLeadStyle, kFamilyCount };

struct Palette {
  std::array<std::vector<int>, kRoleCount> instruments;  // candidates per role; for kDrums the kits
  std::array<double, kRoleCount> presence{};             // chance an artist uses the role at all
  std::array<int, kRoleCount> level{};                   // typical channel volume (CC 7)
  std::vector<Range> groove_tempo;                       // bpm range of each groove variant
  std::array<int, kFamilyCount> variants{1, 1, 1, 1};
  std::vector<int> keys;         // idiomatic tonics (pitch classes)
  double minor_share = 0.3;      // typical share of tracks in a minor mode
  Range swing{0.5, 0.5};         // 0.5 straight .. 0.67 triplet swing
  Range humanize_ms{3, 8};       // timing spread of the players, ms
  Range reverb{0.3, 0.6};        // reverb level
  Range room{0.4, 0.7};          // reverb room size
  Range chorus{0.5, 2.0};        // chorus level
  Range loudness{-15, -12};      // mastered RMS, dBFS
  Range first_year{1970, 2000};  // when artists of the genre release their first album
};

const Palette& palette(Genre genre);

struct Persona {
  Genre genre = Genre::Rock;
  std::uint64_t seed = 0;  // the artist's
  double tempo = 120.0;    // centre, bpm
  std::vector<int> keys;   // favourite tonics
  double minor_share = 0.3;
  std::array<std::vector<int>, kRoleCount> instruments;  // the artist's own; empty: the role is never used
  std::array<double, kRoleCount> role_share{};           // chance a track uses the role
  std::array<int, kRoleCount> level{};
  std::array<int, kFamilyCount> variant{};
  double swing = 0.5;
  double density = 0.5;  // 0 sparse .. 1 busy
  double humanize_ms = 5.0;
  double velocity_spread = 6.0;
  double reverb = 0.4;
  double room = 0.5;
  double chorus = 1.0;
  double loudness = -13.0;
  int first_year = 1990;
};

// The persona of an artist in a genre. Traits that are not about the idiom (density, feel, mix, loudness,
// era) come from the artist's seed alone, so an artist who changes genre keeps them.
Persona make_persona(Genre genre, std::uint64_t artist_seed);

// The persona on album `album` (0 = the first): small random steps from album to album in tempo, density,
// mix, effects, and now and then an instrument or a pattern swapped for another of the palette.
Persona album_persona(const Persona& artist, int album);

}  // namespace tunelens::synth
