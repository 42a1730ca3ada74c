#include "synth/persona.h"

#include <algorithm>
#include <cmath>

#include "synth/random.h"

namespace tunelens::synth {
namespace {

constexpr std::array<Genre, kGenreCount> kGenres{
    Genre::Blues, Genre::Classical, Genre::Country, Genre::Disco,  Genre::HipHop,
    Genre::Jazz,  Genre::Metal,     Genre::Pop,     Genre::Reggae, Genre::Rock};
constexpr std::array<std::string_view, kGenreCount> kNames{
    "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"};

// Pitch classes, for readable key lists.
enum : int { C = 0, Db = 1, D = 2, Eb = 3, E = 4, F = 5, Gb = 6, G = 7, Ab = 8, A = 9, Bb = 10, B = 11 };

Palette blues_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(8, 128), gm(32, 128)};
  p.instruments[kBass] = {gm(32), gm(33), gm(34)};
  p.instruments[kComp] = {gm(27), gm(29), gm(26), gm(0), gm(16)};  // rhythm guitar, piano or organ
  p.instruments[kComp2] = {gm(0), gm(16), gm(17), gm(27)};
  p.instruments[kLead] = {gm(29), gm(27), gm(26), gm(22), gm(66), gm(0)};
  p.instruments[kPad] = {gm(16), gm(61)};
  p.instruments[kColor] = {gm(61), gm(66), gm(57)};  // horn section riffs
  p.presence = {1, 1, 1, 0.6, 1, 0.35, 0.35};
  p.level = {100, 100, 90, 80, 105, 70, 80};
  p.groove_tempo = {{80, 124}, {52, 72}, {112, 148}, {100, 132}};  // shuffle, slow 12/8, Texas ride, straight
  p.variants = {4, 3, 3, 2};
  p.keys = {E, A, G, C, Bb, D, F};
  p.minor_share = 0.2;
  p.swing = {0.62, 0.69};
  p.humanize_ms = {6, 14};
  p.reverb = {0.3, 0.6};
  p.room = {0.3, 0.6};
  p.chorus = {0.3, 1.0};
  p.loudness = {-17, -13};
  p.first_year = {1950, 1978};
  return p;
}

Palette classical_palette() {
  Palette p;
  // The ensemble (variant kGroove) fixes most instruments; the roles give each artist its colours.
  p.instruments[kLead] = {gm(40), gm(73), gm(68), gm(71), gm(40, 8)};
  p.instruments[kComp] = {gm(41), gm(0), gm(6), gm(46)};
  p.instruments[kComp2] = {gm(41), gm(40), gm(71), gm(60)};
  p.instruments[kBass] = {gm(42), gm(43), gm(70)};
  p.instruments[kPad] = {gm(48), gm(49), gm(60), gm(52)};
  p.instruments[kColor] = {gm(47), gm(46), gm(8), gm(9)};
  p.presence = {0, 1, 1, 1, 1, 0.6, 0.45};
  p.level = {0, 95, 90, 85, 100, 80, 70};
  // quartet, piano solo, chamber orchestra, wind ensemble, piano trio, baroque
  p.groove_tempo = {{60, 120}, {56, 132}, {66, 120}, {70, 126}, {60, 116}, {80, 132}};
  p.variants = {6, 4, 2, 2};  // ensemble; texture; meter (4/4, 3/4); melody (cantabile, running)
  p.keys = {C, D, Eb, F, G, A, Bb, E};
  p.minor_share = 0.4;
  p.swing = {0.5, 0.5};
  p.humanize_ms = {8, 18};
  p.reverb = {0.6, 0.9};
  p.room = {0.7, 0.95};
  p.chorus = {0.0, 0.4};
  p.loudness = {-23, -17};
  p.first_year = {1955, 2015};
  return p;
}

Palette country_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(8, 128), gm(40, 128)};
  p.instruments[kBass] = {gm(32), gm(33), gm(34)};
  p.instruments[kComp] = {gm(25), gm(24), gm(25, 8)};           // steel, nylon, 12-string acoustic guitars
  p.instruments[kComp2] = {gm(105), gm(25, 16), gm(3), gm(0)};  // banjo, mandolin, honky-tonk or plain piano
  p.instruments[kLead] = {gm(110), gm(26, 8), gm(22), gm(27)};  // fiddle, steel guitar, harmonica, telecaster
  p.instruments[kPad] = {gm(26, 8), gm(48), gm(16)};
  p.instruments[kColor] = {gm(105), gm(110), gm(21)};
  p.presence = {1, 1, 1, 0.7, 1, 0.5, 0.4};
  p.level = {95, 100, 95, 85, 100, 70, 80};
  // two-step, train beat, country rock, waltz (3/4), ballad
  p.groove_tempo = {{92, 132}, {124, 160}, {104, 138}, {96, 144}, {66, 84}};
  p.variants = {5, 2, 3, 2};
  p.keys = {G, D, A, C, E, F};
  p.minor_share = 0.08;
  p.swing = {0.5, 0.56};
  p.humanize_ms = {4, 10};
  p.reverb = {0.25, 0.5};
  p.room = {0.3, 0.6};
  p.chorus = {0.2, 1.0};
  p.loudness = {-15, -11.5};
  p.first_year = {1960, 2012};
  return p;
}

Palette disco_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(8, 128), gm(24, 128), gm(25, 128)};
  p.instruments[kBass] = {gm(33), gm(38), gm(39), gm(36), gm(34)};
  p.instruments[kComp] = {gm(28), gm(28, 8), gm(27)};  // funky rhythm guitar
  p.instruments[kComp2] = {gm(4), gm(5), gm(0), gm(2)};
  p.instruments[kLead] = {gm(48), gm(81), gm(73), gm(56), gm(62), gm(80)};
  p.instruments[kPad] = {gm(48), gm(49), gm(50), gm(89)};
  p.instruments[kColor] = {gm(61), gm(62), gm(63)};  // brass stabs
  p.presence = {1, 1, 1, 0.75, 1, 0.85, 0.7};
  p.level = {105, 105, 85, 80, 95, 80, 85};
  p.groove_tempo = {{112, 126}, {116, 130}, {124, 136}};  // classic, sixteenth hats, Euro
  p.variants = {3, 3, 3, 2};
  p.keys = {A, E, D, G, C, F, Bb};
  p.minor_share = 0.6;
  p.swing = {0.5, 0.54};
  p.humanize_ms = {2, 5};
  p.reverb = {0.25, 0.5};
  p.room = {0.4, 0.7};
  p.chorus = {1.0, 3.0};
  p.loudness = {-12.5, -10};
  p.first_year = {1974, 1983};
  return p;
}

Palette hiphop_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(8, 128), gm(24, 128), gm(25, 128)};
  p.instruments[kBass] = {gm(38), gm(39), gm(33), gm(32), gm(87)};
  p.instruments[kComp] = {gm(4), gm(0), gm(11), gm(26), gm(48), gm(5)};  // the sampled loop
  p.instruments[kComp2] = {gm(61), gm(48), gm(0)};                       // stabs
  p.instruments[kLead] = {gm(73), gm(81), gm(80), gm(56), gm(65), gm(11)};
  p.instruments[kPad] = {gm(89), gm(91), gm(52), gm(50)};
  p.instruments[kColor] = {gm(53), gm(54), gm(85)};  // vocal chops
  p.presence = {1, 1, 1, 0.45, 0.6, 0.5, 0.5};
  p.level = {110, 100, 85, 80, 85, 70, 80};
  p.groove_tempo = {{84, 96}, {76, 88}, {92, 102}, {80, 92}};  // boom-bap, laid back, uptempo, 808
  p.variants = {4, 2, 3, 2};
  p.keys = {C, Db, D, Eb, E, F, Gb, G, A, Bb};
  p.minor_share = 0.85;
  p.swing = {0.52, 0.63};
  p.humanize_ms = {2, 7};
  p.reverb = {0.15, 0.35};
  p.room = {0.3, 0.5};
  p.chorus = {0.2, 1.0};
  p.loudness = {-12, -9.5};
  p.first_year = {1986, 2010};
  return p;
}

Palette jazz_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(32, 128), gm(40, 128), gm(0, 128)};
  p.instruments[kBass] = {gm(32), gm(33), gm(35)};
  p.instruments[kComp] = {gm(0), gm(26), gm(11), gm(4)};
  p.instruments[kComp2] = {gm(26), gm(0), gm(11)};
  p.instruments[kLead] = {gm(65), gm(66), gm(64), gm(56), gm(59), gm(57), gm(73), gm(71)};
  p.instruments[kPad] = {gm(48), gm(61)};
  p.instruments[kColor] = {gm(57), gm(66), gm(56)};  // second horn on the head
  p.presence = {1, 1, 1, 0.45, 1, 0.25, 0.5};
  p.level = {85, 100, 85, 75, 100, 65, 85};
  // medium swing, up-tempo, ballad (brushes), jazz waltz, bossa
  p.groove_tempo = {{118, 176}, {188, 244}, {54, 76}, {120, 168}, {112, 142}};
  p.variants = {5, 2, 3, 2};
  p.keys = {F, Bb, Eb, C, Ab, G, D};
  p.minor_share = 0.25;
  p.swing = {0.6, 0.69};
  p.humanize_ms = {6, 14};
  p.reverb = {0.3, 0.6};
  p.room = {0.4, 0.7};
  p.chorus = {0.0, 0.6};
  p.loudness = {-19, -14};
  p.first_year = {1950, 1976};
  return p;
}

Palette metal_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(16, 128), gm(0, 128), gm(8, 128)};
  p.instruments[kBass] = {gm(34), gm(33)};
  p.instruments[kComp] = {gm(30), gm(29)};
  p.instruments[kComp2] = {gm(30), gm(29)};
  p.instruments[kLead] = {gm(30), gm(29), gm(30, 8)};
  p.instruments[kPad] = {gm(48), gm(19), gm(52)};  // symphonic strings, church organ, choir
  p.instruments[kColor] = {gm(52), gm(48), gm(47)};
  p.presence = {1, 1, 1, 0.8, 0.8, 0.35, 0.25};
  p.level = {110, 100, 105, 100, 100, 70, 70};
  // double-kick gallop, blast beat, thrash, half-time
  p.groove_tempo = {{138, 176}, {176, 216}, {160, 204}, {88, 116}};
  p.variants = {4, 2, 3, 2};
  p.keys = {E, D, Db, B, A, Gb, C};
  p.minor_share = 0.95;
  p.swing = {0.5, 0.5};
  p.humanize_ms = {1, 4};
  p.reverb = {0.12, 0.3};
  p.room = {0.3, 0.6};
  p.chorus = {0.0, 0.5};
  p.loudness = {-10.5, -8.5};
  p.first_year = {1980, 2012};
  return p;
}

Palette pop_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(24, 128), gm(25, 128), gm(8, 128)};
  p.instruments[kBass] = {gm(38), gm(39), gm(33), gm(34)};
  p.instruments[kComp] = {gm(0), gm(4), gm(25), gm(27), gm(90)};
  p.instruments[kComp2] = {gm(81), gm(45), gm(11), gm(8)};                  // plucks and bells
  p.instruments[kLead] = {gm(85), gm(80), gm(81), gm(73), gm(54), gm(65)};  // the "voice"
  p.instruments[kPad] = {gm(89), gm(88), gm(90), gm(91), gm(48)};
  p.instruments[kColor] = {gm(48), gm(61), gm(9), gm(52)};
  p.presence = {1, 1, 1, 0.7, 1, 0.8, 0.5};
  p.level = {100, 100, 85, 75, 105, 75, 75};
  // pop rock, dance pop, ballad, mid-tempo sixteenths
  p.groove_tempo = {{100, 128}, {116, 128}, {66, 84}, {88, 106}};
  p.variants = {4, 3, 3, 2};
  p.keys = {C, G, D, A, F, Bb, E, Eb};
  p.minor_share = 0.25;
  p.swing = {0.5, 0.54};
  p.humanize_ms = {2, 6};
  p.reverb = {0.3, 0.55};
  p.room = {0.4, 0.7};
  p.chorus = {1.0, 3.0};
  p.loudness = {-12, -9.5};
  p.first_year = {1978, 2018};
  return p;
}

Palette reggae_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(8, 128), gm(32, 128)};
  p.instruments[kBass] = {gm(33), gm(38), gm(34), gm(39)};
  p.instruments[kComp] = {gm(27), gm(28), gm(26)};                          // the skank
  p.instruments[kComp2] = {gm(16), gm(17), gm(18)};                         // the organ bubble
  p.instruments[kLead] = {gm(21), gm(56), gm(57), gm(66), gm(22), gm(73)};  // melodica, horns, harmonica
  p.instruments[kPad] = {gm(0), gm(4)};                                     // piano doubling the skank
  p.instruments[kColor] = {gm(61), gm(57), gm(56)};
  p.presence = {1, 1, 1, 0.85, 0.85, 0.55, 0.4};
  p.level = {100, 112, 85, 75, 90, 75, 80};
  p.groove_tempo = {{66, 84}, {72, 90}, {72, 92}};  // one drop, rockers, steppers
  p.variants = {3, 3, 2, 2};
  p.keys = {A, G, D, E, C, F, Bb};
  p.minor_share = 0.55;
  p.swing = {0.5, 0.6};
  p.humanize_ms = {4, 10};
  p.reverb = {0.35, 0.6};
  p.room = {0.5, 0.8};
  p.chorus = {0.2, 1.0};
  p.loudness = {-14, -10.5};
  p.first_year = {1968, 1995};
  return p;
}

Palette rock_palette() {
  Palette p;
  p.instruments[kDrums] = {gm(0, 128), gm(8, 128), gm(16, 128)};
  p.instruments[kBass] = {gm(34), gm(33)};
  p.instruments[kComp] = {gm(29), gm(30), gm(27)};
  p.instruments[kComp2] = {gm(25), gm(27), gm(18), gm(0)};
  p.instruments[kLead] = {gm(29), gm(30), gm(27)};
  p.instruments[kPad] = {gm(18), gm(16), gm(48)};
  p.instruments[kColor] = {gm(0), gm(18)};
  p.presence = {1, 1, 1, 0.75, 0.9, 0.35, 0.3};
  p.level = {105, 100, 100, 85, 100, 70, 75};
  // straight eights, driving (punk), half-time heavy, shuffle rock
  p.groove_tempo = {{108, 144}, {148, 178}, {76, 98}, {100, 128}};
  p.variants = {4, 2, 3, 2};
  p.keys = {E, A, D, G, C, B};
  p.minor_share = 0.35;
  p.swing = {0.5, 0.5};
  p.humanize_ms = {3, 9};
  p.reverb = {0.25, 0.45};
  p.room = {0.4, 0.7};
  p.chorus = {0.0, 0.8};
  p.loudness = {-12, -9.5};
  p.first_year = {1965, 2010};
  return p;
}

const std::array<Palette, kGenreCount>& palettes() {
  static const std::array<Palette, kGenreCount> all{
      blues_palette(), classical_palette(), country_palette(), disco_palette(),  hiphop_palette(),
      jazz_palette(),  metal_palette(),     pop_palette(),     reggae_palette(), rock_palette()};
  return all;
}

// `count` distinct items of `from`, in a random order.
std::vector<int> choose(const std::vector<int>& from, std::size_t count, Rng& rng) {
  std::vector<int> pool = from;
  rng.shuffle(pool);
  pool.resize(std::min(count, pool.size()));
  return pool;
}

}  // namespace

std::span<const Genre> all_genres() {
  return kGenres;
}

std::string_view genre_name(Genre genre) {
  return kNames[static_cast<std::size_t>(genre)];
}

std::optional<Genre> genre_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return kGenres[i];
  if (name == "hip-hop" || name == "hip_hop") return Genre::HipHop;
  return std::nullopt;
}

std::string genre_list() {
  std::string out;
  for (const auto name : kNames) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

const Palette& palette(Genre genre) {
  return palettes()[static_cast<std::size_t>(genre)];
}

Persona make_persona(Genre genre, std::uint64_t artist_seed) {
  const Palette& pal = palette(genre);
  Rng traits(derive_seed(artist_seed, "traits"));
  Rng idiom(derive_seed(artist_seed, genre_name(genre)));
  Persona p;
  p.genre = genre;
  p.seed = artist_seed;

  // The artist's own character, placed within each genre's range.
  p.density = 0.2 + 0.7 * traits.uniform();
  p.humanize_ms = pal.humanize_ms.at(traits.uniform());
  p.velocity_spread = 3.0 + 6.0 * traits.uniform();
  p.reverb = pal.reverb.at(traits.uniform());
  p.room = pal.room.at(traits.uniform());
  p.chorus = pal.chorus.at(traits.uniform());
  p.loudness = pal.loudness.at(traits.uniform());
  p.swing = pal.swing.at(traits.uniform());
  p.first_year = static_cast<int>(std::lround(pal.first_year.at(traits.uniform())));

  // The idiom: patterns, tempo, keys, instruments.
  for (int f = 0; f < kFamilyCount; ++f)
    p.variant[static_cast<std::size_t>(f)] = idiom.range(0, pal.variants[static_cast<std::size_t>(f)] - 1);
  const Range tempo = pal.groove_tempo[static_cast<std::size_t>(
      std::min<int>(p.variant[kGroove], static_cast<int>(pal.groove_tempo.size()) - 1))];
  p.tempo = tempo.at(idiom.uniform(0.1, 0.9));
  p.keys = choose(pal.keys, static_cast<std::size_t>(idiom.range(2, 3)), idiom);
  p.minor_share = std::clamp(pal.minor_share * idiom.uniform(0.3, 1.7), 0.0, 1.0);
  for (int r = 0; r < kRoleCount; ++r) {
    const auto role = static_cast<std::size_t>(r);
    const auto& candidates = pal.instruments[role];
    const bool used = !candidates.empty() && idiom.chance(pal.presence[role]);
    const std::size_t count = (r == kDrums || r == kBass) ? 1 : (idiom.chance(0.35) ? 2 : 1);
    if (used) p.instruments[role] = choose(candidates, count, idiom);
    p.role_share[role] = pal.presence[role] >= 1.0 ? 1.0 : idiom.uniform(0.5, 1.0);
    p.level[role] = std::clamp(pal.level[role] + idiom.range(-12, 10), 30, 127);
  }
  return p;
}

Persona album_persona(const Persona& artist, int album) {
  const Palette& pal = palette(artist.genre);
  Persona p = artist;
  const Range tempo = pal.groove_tempo[static_cast<std::size_t>(
      std::min<int>(p.variant[kGroove], static_cast<int>(pal.groove_tempo.size()) - 1))];
  for (int k = 1; k <= album; ++k) {
    Rng step(derive_seed(artist.seed, "album", static_cast<std::uint64_t>(k)));
    p.tempo = std::clamp(p.tempo * std::exp(step.normal(0.0, 0.035)), tempo.lo * 0.9, tempo.hi * 1.1);
    p.density = std::clamp(p.density + step.normal(0.0, 0.07), 0.15, 0.95);
    p.reverb = std::clamp(p.reverb + step.normal(0.0, 0.04), 0.05, 0.95);
    p.chorus = std::clamp(p.chorus + step.normal(0.0, 0.2), 0.0, 4.0);
    p.loudness =
        std::min(p.loudness + step.uniform(-0.3, 0.7), pal.loudness.hi + 1.0);  // louder over the years
    p.swing = std::clamp(p.swing + step.normal(0.0, 0.01), pal.swing.lo, pal.swing.hi);
    if (step.chance(0.3)) {  // a new instrument in one role
      const int role = step.range(1, kRoleCount - 1);
      auto& mine = p.instruments[static_cast<std::size_t>(role)];
      const auto& candidates = pal.instruments[static_cast<std::size_t>(role)];
      if (!mine.empty() && candidates.size() > mine.size()) {
        std::vector<int> fresh;
        for (const int c : candidates)
          if (std::find(mine.begin(), mine.end(), c) == mine.end()) fresh.push_back(c);
        mine[static_cast<std::size_t>(step.range(0, static_cast<int>(mine.size()) - 1))] = step.pick(fresh);
      }
    }
    if (step.chance(0.2)) {  // a new pattern in one family (the groove, which sets the tempo, stays)
      const int family = step.range(1, kFamilyCount - 1);
      p.variant[static_cast<std::size_t>(family)] =
          step.range(0, pal.variants[static_cast<std::size_t>(family)] - 1);
    }
    if (step.chance(0.25) && !p.keys.empty())
      p.keys[static_cast<std::size_t>(step.range(0, static_cast<int>(p.keys.size()) - 1))] =
          step.pick(pal.keys);
  }
  return p;
}

}  // namespace tunelens::synth
