// Pop: four-chord progressions in major keys (I-V-vi-IV and its rotations), verse / pre-chorus / chorus with
// the chorus lifting (higher, louder, fuller: pad, strings, crash, open hats), a singable hook that comes
// back identically every chorus, tight programmed drums with claps, pulsing bass, and plucks or bells on top.
#include <algorithm>
#include <cmath>
#include <map>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kPopRock = 0, kDancePop = 1, kBallad = 2, kSixteenths = 3 };

}  // namespace

Score compose_pop(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Major, Mode::Minor, 0.04);
  const int groove = p.variant[kGroove];
  const TempoMap tempo = TempoMap::steady(s.bpm, seconds);
  const int bars = bars_covering(tempo, seconds, 4);
  const Key& key = s.key;

  const std::vector<std::vector<int>> progressions{
      {0, 4, 5, 3}, {5, 3, 0, 4}, {0, 5, 3, 4}, {3, 0, 4, 5}, {0, 3, 5, 4}};
  const auto verse = rng.pick(progressions), chorus = rng.pick(progressions);
  const std::vector<int> pre{1, 3, 4, 4};
  const std::vector<Section> form{
      {SectionKind::Intro, 4, 0.45},  {SectionKind::Verse, 8, 0.5},  {SectionKind::PreChorus, 4, 0.65},
      {SectionKind::Chorus, 8, 0.95}, {SectionKind::Verse, 8, 0.55}, {SectionKind::PreChorus, 4, 0.7},
      {SectionKind::Chorus, 8, 1.0},  {SectionKind::Bridge, 4, 0.6}, {SectionKind::Chorus, 8, 1.0}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 6)), bars, 4);
  const bool two_per_bar = s.bpm < 90 && rng.chance(0.3);
  std::vector<Chord> chords;  // per bar
  for (const auto& slot : slots) {
    const std::vector<int>& prog = slot.section.kind == SectionKind::Chorus      ? chorus
                                   : slot.section.kind == SectionKind::PreChorus ? pre
                                                                                 : verse;
    int degree = prog[static_cast<std::size_t>(slot.in_section % 4)];
    if (two_per_bar) degree = prog[static_cast<std::size_t>((slot.in_section * 2) % 4)];
    Chord c = diatonic_chord(key, degree);
    if (rng.chance(0.15)) c = Chord(c.root, c.has_class(c.root + 3) ? Quality::Min7 : Quality::Add9);
    chords.push_back(c);
  }
  auto big = [](const BarSlot& slot) { return slot.section.kind == SectionKind::Chorus; };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {25, 10, 35, 45, 45, 75, 60}, {0, 0, 40, 50, 30, 70, 40});
  Feel feel = s.feel;
  feel.swing_unit = 0.25;
  feel.timing_sd = std::min(feel.timing_sd, 0.004);

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    const bool electronic = s.instrument[kDrums] == gm(24, 128) || s.instrument[kDrums] == gm(25, 128);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(80 + 26 * slot.section.energy);
      const bool intro = slot.section.kind == SectionKind::Intro;
      if (slot.first() && (big(slot) || slot.section.kind == SectionKind::Bridge))
        drums.hit(b, drum::kCrash, v);
      if (intro && slot.in_section < 2) continue;
      switch (groove) {
        case kDancePop:
          play_steps(drums, b, big(slot) ? "x...x...x...x..." : "x.......x.x.....", 0.25, drum::kKick, v);
          play_steps(drums, b, "..o...o...o...o.", 0.25, big(slot) ? drum::kHatOpen : drum::kHatClosed,
                     v - 30);
          break;
        case kBallad:
          play_steps(drums, b, "x.......x.x.....", 0.25, drum::kKick, v - 10);
          play_steps(drums, b, "x.x.x.x.x.x.x.x.", 0.25, drum::kHatClosed, v - 38);
          break;
        case kSixteenths:
          play_steps(drums, b, "x..x..x...x.....", 0.25, drum::kKick, v);
          play_steps(drums, b, "xgxgxgxgxgxgxgxg", 0.25, drum::kHatClosed, v - 35);
          break;
        default:
          play_steps(drums, b, "x.....x.x.......", 0.25, drum::kKick, v);
          play_steps(drums, b, "x.x.x.x.x.x.x.x.", 0.25, big(slot) ? drum::kRide : drum::kHatClosed, v - 30);
          break;
      }
      const std::string_view back = groove == kBallad && !big(slot) ? "........x......." : "....x.......x...";
      play_steps(drums, b, back, 0.25,
                 slot.section.kind == SectionKind::Verse && groove == kBallad ? drum::kRim : drum::kSnare, v);
      if (electronic || groove == kDancePop) play_steps(drums, b, back, 0.25, drum::kClap, v - 10);
      if (slot.last() && slot.section.kind == SectionKind::PreChorus)
        drum_fill(drums, b + 2.0, 2.0, v, FillKind::SnareRoll, rng);
      else if (slot.last() && rng.chance(0.3))
        drum_fill(drums, b + 3.0, 1.0, v, FillKind::Toms, rng);
    }
  }

  // Bass.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    const int pattern = groove == kBallad ? 2 : p.variant[kBassPattern];
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].section.kind == SectionKind::Intro && slots[i].in_section < 2) continue;
      const double b = slots[i].beat;
      const int r = chords[i].root_at_or_above(33);
      switch (pattern) {
        case 1:  // 3-3-2
          for (const double at : {0.0, 1.5, 3.0}) bass.note(b + at, at == 3.0 ? 1.0 : 1.5, r, 96, 0.85);
          break;
        case 2:  // long roots with an octave pickup
          bass.note(b, 3.5, r, 96, 0.95);
          bass.note(b + 3.5, 0.5, r + 12, 80, 0.8);
          break;
        default:  // pulsing eighths
          for (int k = 0; k < 8; ++k) bass.note(b + k * 0.5, 0.5, r, k % 2 ? 80 : 96, 0.8);
          break;
      }
    }
  }

  // Chords: piano, electric piano, guitar or polysynth.
  if (s.instrument[kComp] >= 0) {
    const int instrument = s.instrument[kComp];
    Player comp(score, tempo, rng, kCompChannel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      held = voice_lead(held, chords[i], 4, 55, 74);
      if (instrument == gm(25)) {
        strum(comp, b, big(slots[i]) ? "D.DUDUDU" : "D.DU.UDU", 0.5, chords[i].guitar_shape(40, true, 6), 80);
      } else if (instrument == gm(27)) {  // clean guitar arpeggio
        const auto shape = chords[i].guitar_shape(40, true, 5);
        for (int k = 0; k < 8; ++k)
          comp.note(b + k * 0.5, 1.0, shape[static_cast<std::size_t>((k * 2) % 5)], 74, 1.0);
      } else if (p.variant[kCompPattern] == 0 || groove == kBallad) {  // held chords, re-struck
        comp.chord(b, 2.0, held, 70, 0.0, 0.97);
        comp.chord(b + 2.0, 2.0, held, 64, 0.0, 0.97);
      } else if (p.variant[kCompPattern] == 1) {  // quarter-note pulse
        for (int k = 0; k < 4; ++k) comp.chord(b + k, 1.0, held, k % 2 ? 62 : 72, 0.0, 0.8);
      } else {  // syncopated stabs
        for (const double at : {0.0, 1.5, 3.0}) comp.chord(b + at, 0.5, held, 74, 0.0, 0.6);
      }
    }
  }

  // Plucks and bells: arpeggios in the chorus.
  if (s.instrument[kComp2] >= 0) {
    Player pluck(score, tempo, rng, kComp2Channel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!big(slots[i]) && slots[i].section.kind != SectionKind::Intro) continue;
      const auto v = chords[i].voicing_near(76, 3);
      for (int k = 0; k < 8; ++k)
        pluck.note(slots[i].beat + k * 0.5, 0.5, v[static_cast<std::size_t>(k % 3)] + (k % 4 == 3 ? 12 : 0),
                   66, 0.5);
    }
  }

  // Pad and strings lift the chorus and the bridge.
  auto sustain = [&](int channel, int low, int high, int velocity) {
    Player player(score, tempo, rng, channel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!big(slots[i]) && slots[i].section.kind != SectionKind::Bridge &&
          slots[i].section.kind != SectionKind::PreChorus)
        continue;
      held = voice_lead(held, chords[i], 4, low, high);
      player.chord(slots[i].beat, 4.0, held, velocity, 0.0, 0.98);
    }
  };
  if (s.instrument[kPad] >= 0) sustain(kPadChannel, 55, 76, 58);
  if (s.instrument[kColor] >= 0) sustain(kColorChannel, 64, 84, 54);

  // The "voice": one melody per section kind, sung again identically when the section comes back; the chorus
  // sits higher and louder.
  if (s.instrument[kLead] >= 0) {
    Player voice(score, tempo, rng, kLeadChannel, feel);
    std::map<SectionKind, std::vector<MelodyNote>> tunes;
    for (const auto kind :
         {SectionKind::Verse, SectionKind::PreChorus, SectionKind::Chorus, SectionKind::Bridge}) {
      MelodyStyle style;
      style.scale = rng.chance(0.5) ? scales::kMajorPentatonic : mode_intervals(key.mode);
      style.tonic = key.tonic;
      const bool hook = kind == SectionKind::Chorus;
      style.low = hook ? 64 : 59;
      style.high = hook ? 81 : 76;
      style.step = groove == kSixteenths ? 0.25 : 0.5;
      style.density = hook ? 0.55 : 0.45;
      style.hold = 0.45;
      style.motif_bars = hook ? 2 : 2;
      style.vary = hook ? 0.15 : 0.35;
      style.rest_bar = hook ? 0.0 : 0.2;
      style.end_on_tonic = hook;
      style.velocity = hook ? 96 : 84;
      // Composed against the section's own chords, from its first bar.
      const auto& prog = hook ? chorus : kind == SectionKind::PreChorus ? pre : verse;
      auto section_chord = [&](double beat) {
        return diatonic_chord(key, prog[static_cast<std::size_t>(static_cast<int>(beat / 4) % 4)]);
      };
      tunes[kind] = compose_melody(style, 0.0, 8, 4, section_chord, rng);
    }
    for (const auto& slot : slots) {
      const auto found = tunes.find(slot.section.kind);
      if (found == tunes.end()) continue;
      for (const auto& n : found->second) {
        if (static_cast<int>(n.beat / 4) != slot.in_section) continue;
        voice.note(slot.beat + n.beat - slot.in_section * 4.0, n.length, n.key, n.velocity, 0.9);
        if (n.length >= 1.5) voice.vibrato(slot.beat + n.beat - slot.in_section * 4.0, n.length, 0.2, 5.0);
      }
    }
  }

  record_grid(score, tempo, s.bpm, 4);
  static constexpr const char* kGrooves[] = {"pop rock", "dance pop", "ballad", "sixteenths"};
  score.summary =
      std::string("pop: ") + kGrooves[groove] + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
