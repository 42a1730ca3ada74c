// Blues: twelve-bar choruses of dominant sevenths, a shuffle (or a slow 12/8, a Texas ride shuffle, a
// straight Chicago eight), boogie bass, call-and-response lead with bent notes.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kShuffle = 0, kSlow = 1, kTexas = 2, kStraight = 3 };

}  // namespace

Score compose_blues(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Mixolydian, Mode::Dorian);
  const int groove = p.variant[kGroove];
  const bool minor = s.key.minor();
  const int tonic = s.key.tonic;

  Feel feel = s.feel;
  if (groove == kSlow) feel.swing = 2.0 / 3.0;
  if (groove == kStraight) feel.swing = 0.5 + (feel.swing - 0.5) * 0.15;
  const TempoMap tempo = TempoMap::live(s.bpm, seconds, 0.008, rng);
  const int bars = bars_covering(tempo, seconds, 4);

  // Twelve-bar choruses: the head (a sung line and its answer) and solo choruses; sometimes a four-bar intro
  // from the turnaround.
  const bool quick_change = rng.chance(0.5);
  const bool ninths = rng.chance(0.3);
  std::vector<Section> form{{SectionKind::Intro, 4, 0.5},
                            {SectionKind::Verse, 12, 0.6},
                            {SectionKind::Solo, 12, 0.85},
                            {SectionKind::Solo, 12, 0.95},
                            {SectionKind::Verse, 12, 0.65}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 3)), bars, 4);
  auto chord_of_bar = [&](const BarSlot& slot) {
    static constexpr int kTwelve[] = {0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7};
    static constexpr int kIntro[] = {7, 5, 0, 7};
    int offset =
        slot.section.kind == SectionKind::Intro ? kIntro[slot.in_section % 4] : kTwelve[slot.in_section % 12];
    if (slot.section.kind != SectionKind::Intro && slot.in_section == 1 && !quick_change) offset = 0;
    Quality q = ninths ? Quality::Dom9 : Quality::Dom7;
    if (minor) q = offset == 7 ? Quality::Dom7Sharp9 : Quality::Min7;
    return Chord(tonic + offset, q);
  };
  std::vector<Chord> chords;
  for (const auto& slot : slots) chords.push_back(chord_of_bar(slot));
  auto chord_at = [&](double beat) {
    return chords[static_cast<std::size_t>(std::clamp(static_cast<int>(beat / 4), 0, bars - 1))];
  };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {30, 25, 40, 45, 55, 60, 50}, {0, 0, 20, 20, 10, 30, 20});

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Feel drum_feel = feel;
    drum_feel.timing_sd *= 0.6;
    if (groove == kSlow) drum_feel.swing = 0.5;  // its triplets are written out
    Player drums(score, tempo, rng, kDrumChannel, drum_feel);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(70 + 30 * slot.section.energy);
      const bool fill = slot.last() && rng.chance(0.65);
      if (slot.first()) drums.hit(b, drum::kCrash, v);
      switch (groove) {
        case kSlow:
          play_steps(drums, b, fill ? "xxxxxx......" : "Xxxxxxxxxxxx", 1.0 / 3.0,
                     slot.section.energy > 0.8 ? drum::kRide : drum::kHatClosed, v - 25);
          play_steps(drums, b, "x.....x....x", 1.0 / 3.0, drum::kKick, v);
          play_steps(drums, b, fill ? "...X........" : "...X.....X..", 1.0 / 3.0, drum::kSnare, v + 5);
          break;
        case kTexas:
          play_steps(drums, b, "Xx.xXx.x", 0.5, drum::kRide, v - 20);
          play_steps(drums, b, "x.x.x.x.", 0.5, drum::kKick, v - 25);
          play_steps(drums, b, "..X...X.", 0.5, drum::kSnare, v);
          play_steps(drums, b, "..x...x.", 0.5, drum::kHatPedal, v - 30);
          break;
        case kStraight:
          play_steps(drums, b, "xxxxxxxx", 0.5, drum::kHatClosed, v - 25);
          play_steps(drums, b, rng.chance(0.5) ? "x....x.." : "x...x...", 0.5, drum::kKick, v);
          play_steps(drums, b, "..X...X.", 0.5, drum::kSnare, v);
          break;
        default:  // the shuffle: swung eighths on the hi-hat, a ghost note before the backbeat
          play_steps(drums, b, "XxXxXxXx", 0.5,
                     slot.section.kind == SectionKind::Solo ? drum::kRide : drum::kHatClosed, v - 25);
          play_steps(drums, b, "x...x...", 0.5, drum::kKick, v - 5);
          play_steps(drums, b, rng.chance(s.density) ? "..X..gX." : "..X...X.", 0.5, drum::kSnare, v);
          break;
      }
      if (fill)
        drum_fill(drums, b + 2.0, 2.0, v, groove == kStraight ? FillKind::Toms : FillKind::Triplets, rng);
    }
  }

  // Bass.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    const int pattern = p.variant[kBassPattern];
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const Chord& c = chords[i];
      const Chord& next = i + 1 < chords.size() ? chords[i + 1] : chords[i];
      const int r = c.root_at_or_above(28);
      const int third = r + (minor ? 3 : 4), sixth = r + 9, seventh = r + 10;
      const double b = slots[i].beat;
      const int v = 92;
      if (pattern == 0 && groove != kSlow) {  // boogie: up and down the chord in swung eighths
        const int walk[8] = {r, r, third, third, r + 7, r + 7, sixth, seventh};
        for (int k = 0; k < 8; ++k) bass.note(b + k * 0.5, 0.5, walk[k], k % 2 ? v - 14 : v, 0.85);
      } else if (pattern == 1 || groove == kSlow) {  // root, fifth, sixth, fifth, with a triplet pickup
        const int line[4] = {r, r + 7, sixth, r + 7};
        for (int k = 0; k < 4; ++k) bass.note(b + k, 0.9, line[k], v, 0.8);
        if (rng.chance(0.5))
          bass.note(b + 3 + 2.0 / 3.0, 1.0 / 3.0, next.root_at_or_above(28) - 1, v - 15, 0.8);
      } else {  // walking quarters, approaching the next root by a half step
        const int target = next.root_at_or_above(28);
        const int line[4] = {r, third, r + 7, target + (rng.chance(0.5) ? 1 : -1)};
        for (int k = 0; k < 4; ++k) bass.note(b + k, 1.0, line[k], k == 0 ? v : v - 8, 0.9);
      }
    }
  }

  // Rhythm part: the guitar's shuffle riff, stabs, or held chords.
  if (s.instrument[kComp] >= 0) {
    Player comp(score, tempo, rng, kCompChannel, feel);
    const int pattern = p.variant[kCompPattern];
    const bool guitar = is_guitar(s.instrument[kComp]);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const Chord& c = chords[i];
      const double b = slots[i].beat;
      if (pattern == 0 && groove != kSlow && (guitar || is_keyboard(s.instrument[kComp]))) {
        const int r = c.root_at_or_above(40);
        const int fifth[2] = {r, r + 7}, sixth[2] = {r, r + 9}, seventh[2] = {r, r + 10};
        for (int k = 0; k < 8; ++k) {
          const bool up = (k / 2) % 2 == 1;
          const int* shape = up ? (k >= 6 && rng.chance(0.3) ? seventh : sixth) : fifth;
          comp.chord(b + k * 0.5, 0.5, std::span<const int>(shape, 2), k % 2 ? 70 : 84, 0.004, 0.7);
        }
      } else if (pattern == 1 || groove == kSlow) {
        held = voice_lead(held, c, 4, 55, 74);
        if (groove == kSlow) {  // repeated triplet chords, the slow blues piano
          for (int k = 0; k < 12; ++k)
            comp.chord(b + k / 3.0, 1.0 / 3.0, held, k % 3 == 0 ? 72 : 56, 0.0, 0.8);
        } else {
          for (double at : {1.0, 3.0}) comp.chord(b + at, 0.4, held, 80, guitar ? 0.008 : 0.0, 0.6);
          if (rng.chance(0.4)) comp.chord(b + 3.5, 0.4, held, 70, guitar ? -0.008 : 0.0, 0.5);
        }
      } else {
        held = voice_lead(held, c, 4, 53, 72);
        comp.chord(b, 4.0, held, 68, 0.0, 0.98);
      }
    }
  }

  // Second keyboard: high triplet fills and tremolos in the solos, or an organ pad.
  if (s.instrument[kComp2] >= 0) {
    Player keys(score, tempo, rng, kComp2Channel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].section.energy < 0.6) continue;
      const auto voicing = chords[i].voicing_near(76, 3);
      if (is_organ(s.instrument[kComp2])) {
        keys.chord(slots[i].beat, 4.0, voicing, 60, 0.0, 0.98);
      } else {
        for (int k = 0; k < 4; ++k)
          if (rng.chance(0.35 + 0.3 * s.density))
            keys.chord(slots[i].beat + k + 2.0 / 3.0, 1.0 / 3.0, voicing, 62, 0.0, 0.7);
      }
    }
  }

  // Organ or horn pad.
  if (s.instrument[kPad] >= 0) {
    Player pad(score, tempo, rng, kPadChannel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      held = voice_lead(held, chords[i], 3, 60, 76);
      pad.chord(slots[i].beat, 4.0, held, 55, 0.0, 0.99);
    }
  }

  // Horn riffs in the solo choruses.
  if (s.instrument[kColor] >= 0) {
    Player horns(score, tempo, rng, kColorChannel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].section.kind != SectionKind::Solo || slots[i].in_section % 2 != 0) continue;
      const int r = chords[i].root_at_or_above(58);
      horns.note(slots[i].beat - 0.5, 0.5, r + 10 - 12, 78);
      horns.note(slots[i].beat, 1.5, r, 88);
      horns.note(slots[i].beat + 2.5, 1.0, r + (minor ? 3 : 4), 80);
    }
  }

  // Lead: call and response in the head, a busier line in the solos, with bends and vibrato.
  if (s.instrument[kLead] >= 0) {
    const int lead = s.instrument[kLead];
    Player voice(score, tempo, rng, kLeadChannel, feel);
    MelodyStyle style;
    style.scale = (minor || rng.chance(0.5)) ? scales::kBlues : scales::kMajorBlues;
    style.tonic = tonic;
    const bool low_horn = lead % 128 == 66;
    style.low = low_horn ? 50 : 57;
    style.high = low_horn ? 74 : 84;
    style.step = groove == kSlow ? 1.0 / 3.0 : 0.5;
    style.leap = 0.2;
    style.motif_bars = 2;
    style.chord_pull = 0.6;
    style.velocity = 92;
    const bool bender = bends(lead);
    for (int bar = 0; bar < bars;) {
      const BarSlot& slot = slots[static_cast<std::size_t>(bar)];
      const int length = std::min(4, bars - bar);
      const bool solo = slot.section.kind == SectionKind::Solo;
      style.density = solo ? 0.45 + 0.4 * s.density : 0.35 + 0.2 * s.density;
      style.hold = solo ? 0.25 : 0.5;
      style.rest_bar = solo ? 0.05 : 0.0;
      auto line = compose_melody(style, slot.beat, length, 4, chord_at, rng);
      for (const auto& n : line) {
        const double in_line = (n.beat - slot.beat) / 4.0;
        if (!solo && in_line >= 2.0) continue;  // the head answers itself with silence (the band's response)
        if (slot.section.kind == SectionKind::Intro && rng.chance(0.5)) continue;
        const int degree = pitch_class(n.key - tonic);
        if (bender && (degree == 4 || degree == 7 || degree == 9) && rng.chance(0.45))
          voice.bend_into(n.beat, degree == 7 ? 2.0 : 1.0, 0.12 + 0.1 * rng.uniform());
        voice.note(n.beat, n.length, n.key, n.velocity, 0.95);
        if (n.length >= 1.0) voice.vibrato(n.beat, n.length, bender ? 0.35 : 0.2, 5.5);
      }
      bar += length;
    }
  }

  record_grid(score, tempo, s.bpm, 4);
  score.summary = std::string("blues: ") +
                  (groove == kSlow       ? "slow 12/8"
                   : groove == kTexas    ? "Texas shuffle"
                   : groove == kStraight ? "straight"
                                         : "shuffle") +
                  (minor ? ", minor" : "") + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
