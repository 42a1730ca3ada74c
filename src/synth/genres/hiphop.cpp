// Hip-hop: a boom-bap beat with swung sixteenths and a laid-back snare, a looped "sample" (a jazzy minor
// chord loop repeated exactly, as a sampler would), a bass that follows the kick, a rapped cadence (short
// syllables on a narrow contour), and a hook with stabs, a riff, vocal chops and scratches.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kBoomBap = 0, kLaidBack = 1, kUptempo = 2, kEightOhEight = 3 };

// Two-bar kick and snare patterns in sixteenths.
constexpr std::string_view kKicks[] = {
    "x.........x.....x.x.......x.....", "x......x..x.....x.........x..x..",
    "x..x......x.....x..x....x.x.....", "x.......x.x.....x.x.....x.......",
    "x.x.......x..x..x.........x.....",
};
constexpr std::string_view kSnares[] = {
    "....x.......x.......x.......x...",
    "....x.......x.......x.......x..g",
    "....x..g....x.......x..g....x...",
    "....x.......x..g....x.......x.g.",
};

}  // namespace

Score compose_hiphop(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Dorian, Mode::Minor, 0.03);
  const int groove = p.variant[kGroove];
  const TempoMap tempo = TempoMap::steady(s.bpm, seconds);
  const int bars = bars_covering(tempo, seconds, 4);
  const int t = s.key.tonic;
  const bool minor = s.key.minor();

  // The loop's harmony: two or four chords over a two- or four-bar loop.
  const std::vector<std::vector<Chord>> loops{
      {Chord(t, Quality::Min9), Chord(t + 5, Quality::Min9)},
      {Chord(t, Quality::Min7), Chord(t + 8, Quality::Maj7)},
      {Chord(t + 8, Quality::Maj7), Chord(t + 7, Quality::Min7)},
      {Chord(t, Quality::Min9), Chord(t + 3, Quality::Maj7), Chord(t + 5, Quality::Min7),
       Chord(t + 7, Quality::Dom7Sharp9)},
      {Chord(t, Quality::Min7), Chord(t + 10, Quality::Dom9), Chord(t + 8, Quality::Maj7),
       Chord(t + 7, Quality::Min7)},
  };
  std::vector<Chord> loop = rng.pick(loops);
  if (!minor) loop = {Chord(t, Quality::Maj7), Chord(t + 2, Quality::Min9)};
  const int loop_bars =
      static_cast<int>(loop.size()) <= 2 && rng.chance(0.5) ? 2 : static_cast<int>(loop.size());
  auto chord_at = [&](double beat) {
    const int bar = static_cast<int>(beat / 4);
    return loop[static_cast<std::size_t>((bar % loop_bars) * static_cast<int>(loop.size()) / loop_bars)];
  };

  const std::vector<Section> form{{SectionKind::Intro, 4, 0.5},
                                  {SectionKind::Verse, 16, 0.7},
                                  {SectionKind::Chorus, 8, 0.9},
                                  {SectionKind::Verse, 16, 0.7},
                                  {SectionKind::Chorus, 8, 0.95}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 3)), bars, 4);

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {20, 5, 35, 40, 35, 50, 30}, {0, 0, 30, 20, 10, 40, 20});
  Feel feel = s.feel;
  feel.swing_unit = 0.25;  // swung sixteenths
  feel.timing_sd = std::min(feel.timing_sd, 0.003);

  // Drums.
  const std::string_view kick = kKicks[static_cast<std::size_t>(rng.range(0, 4))];
  const std::string_view snare = kSnares[static_cast<std::size_t>(rng.range(0, 3))];
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    Feel late = feel;
    late.offset = rng.uniform(0.008, 0.025) * (groove == kLaidBack ? 1.5 : 1.0);  // the snare behind the beat
    Player snares(score, tempo, rng, kDrumChannel, late);
    const std::string_view hats =
        groove == kEightOhEight || groove == kUptempo ? "xgxgXgxgxgxgXgxg" : "x.x.X.x.x.x.X.x.";
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(92 + 16 * slot.section.energy);
      const bool intro = slot.section.kind == SectionKind::Intro;
      const std::string_view k = kick.substr(static_cast<std::size_t>((slot.index % 2) * 16), 16);
      const std::string_view sn = snare.substr(static_cast<std::size_t>((slot.index % 2) * 16), 16);
      if (!intro || slot.in_section >= 2) {
        play_steps(drums, b, k, 0.25, groove == kEightOhEight ? drum::kKick2 : drum::kKick, v);
        play_steps(snares, b, sn, 0.25, drum::kSnare, v);
        if (groove == kEightOhEight) play_steps(snares, b, sn, 0.25, drum::kClap, v - 15);
      }
      play_steps(drums, b, hats, 0.25, drum::kHatClosed, v - 38);
      if (groove == kEightOhEight && slot.last()) {  // a hi-hat roll in thirty-seconds
        for (int j = 0; j < 8; ++j) drums.hit(b + 3.0 + j * 0.125, drum::kHatClosed, v - 40 + j * 3);
      }
      if (slot.first() && slot.section.kind == SectionKind::Chorus) drums.hit(b, drum::kCrash, v - 25);
      if (slot.section.kind == SectionKind::Chorus && slot.in_section % 4 == 3 &&
          rng.chance(0.6)) {  // scratches
        for (int j = 0; j < 6; ++j)
          drums.hit(b + 2.0 + j * 0.25, j % 2 ? drum::kScratchPull : drum::kScratchPush, v - 10);
      }
    }
  }

  // The sample: a loop composed once and repeated exactly (no humanising), as chopped from a record.
  if (s.instrument[kComp] >= 0) {
    Feel sampled = feel;
    sampled.timing_sd = 0.0;
    sampled.velocity_sd = 0.0;
    Player sampler(score, tempo, rng, kCompChannel, sampled);
    const int pattern = p.variant[kCompPattern];
    struct Hit {
      double beat, length;
      std::vector<int> keys;
      int velocity;
    };
    std::vector<Hit> bar_loop;
    std::vector<int> held;
    for (int bar = 0; bar < loop_bars; ++bar) {
      const Chord c = chord_at(bar * 4.0);
      held = voice_lead(held, c, 4, 55, 74);
      const double b = bar * 4.0;
      if (pattern == 0) {  // held chords with a re-strike
        bar_loop.push_back({b, 2.5, held, 70});
        bar_loop.push_back({b + 2.5, 1.5, held, 62});
      } else if (pattern == 1) {  // chopped stabs
        for (const double at : {0.0, 0.75, 1.5, 2.5, 3.25})
          if (at == 0.0 || rng.chance(0.6)) bar_loop.push_back({b + at, 0.5, held, 74});
      } else {  // a broken-chord riff
        for (int j = 0; j < 8; ++j)
          if (j == 0 || rng.chance(0.7))
            bar_loop.push_back({b + j * 0.5,
                                0.5,
                                {held[static_cast<std::size_t>((j * 3) % 4)] + (j % 4 == 3 ? 12 : 0)},
                                72});
      }
    }
    for (const auto& slot : slots) {
      const int offset_bar = slot.index % loop_bars;
      if (slot.section.kind == SectionKind::Intro && slot.in_section < 2 && slot.index % 2) continue;
      for (const auto& h : bar_loop)
        if (static_cast<int>(h.beat / 4) == offset_bar)
          sampler.chord(slot.beat + h.beat - offset_bar * 4.0, h.length, h.keys, h.velocity, 0.0, 0.95);
    }
  }

  // Bass on the kicks.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    for (const auto& slot : slots) {
      if (slot.section.kind == SectionKind::Intro && slot.in_section < 2) continue;
      const std::string_view k = kick.substr(static_cast<std::size_t>((slot.index % 2) * 16), 16);
      const int r = chord_at(slot.beat).root_at_or_above(28);
      for (std::size_t j = 0; j < k.size(); ++j) {
        if (k[j] != 'x') continue;
        std::size_t next = j + 1;
        while (next < k.size() && k[next] != 'x') ++next;
        const double length = static_cast<double>(next - j) * 0.25;
        const int key = (p.variant[kBassPattern] == 1 && j % 8 == 6) ? r + 7 : r;
        bass.note(slot.beat + static_cast<double>(j) * 0.25, length, key, 104, 0.9);
      }
    }
  }

  // The MC: syllables in sixteenths on a narrow speech contour, phrases with breaths, in the verses.
  if (s.instrument[kColor] >= 0) {
    Player mc(score, tempo, rng, kColorChannel, feel);
    const int centre = rng.range(50, 57);
    for (const auto& slot : slots) {
      if (slot.section.kind == SectionKind::Intro) continue;
      const bool hook = slot.section.kind == SectionKind::Chorus;
      double pitch = centre;
      for (int j = 0; j < 16; ++j) {
        const bool breath = j >= 14 && slot.index % 2 == 1;
        if (breath || !rng.chance(hook ? 0.45 : 0.78)) continue;
        pitch += rng.normal(0.0, 1.0) - 0.15 * (pitch - centre);
        const int accent = (j % 4 == 0 ? 12 : 0) + (j == 4 || j == 12 ? 8 : 0);
        mc.note(slot.beat + j * 0.25, 0.25, static_cast<int>(std::lround(pitch)) + (hook ? 5 : 0),
                70 + accent, 0.7);
      }
    }
  }

  // Hook: stabs, a short riff, a pad.
  if (s.instrument[kComp2] >= 0) {
    Player stabs(score, tempo, rng, kComp2Channel, feel);
    for (const auto& slot : slots)
      if (slot.section.kind == SectionKind::Chorus && slot.in_section % 2 == 0)
        stabs.chord(slot.beat, 0.5, chord_at(slot.beat).voicing_near(67, 3), 96, 0.0, 0.6);
  }
  if (s.instrument[kLead] >= 0) {
    Player riff(score, tempo, rng, kLeadChannel, feel);
    MelodyStyle style;
    style.scale = scales::kMinorPentatonic;
    style.tonic = t;
    style.low = 64;
    style.high = 82;
    style.step = 0.5;
    style.density = 0.45;
    style.motif_bars = 1;
    style.vary = 0.1;
    const auto notes = compose_melody(style, 0.0, 1, 4, chord_at, rng);
    for (const auto& slot : slots)
      if (slot.section.kind == SectionKind::Chorus ||
          (slot.section.kind == SectionKind::Intro && slot.in_section >= 2))
        for (const auto& n : notes) riff.note(slot.beat + n.beat, n.length, n.key, n.velocity - 4, 0.85);
  }
  if (s.instrument[kPad] >= 0) {
    Player pad(score, tempo, rng, kPadChannel, feel);
    for (const auto& slot : slots)
      if (slot.section.kind == SectionKind::Chorus)
        pad.chord(slot.beat, 4.0, chord_at(slot.beat).voicing_near(64, 3), 50, 0.0, 0.98);
  }

  record_grid(score, tempo, s.bpm, 4);
  static constexpr const char* kGrooves[] = {"boom-bap", "laid back", "uptempo", "808"};
  score.summary =
      std::string("hiphop: ") + kGrooves[groove] + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
