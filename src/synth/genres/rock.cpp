// Rock: a straight-eighths backbeat (or a driving punk eight, a half-time heavy groove, a shuffle),
// overdriven power chords in eighths, open-chord strums or a pentatonic riff, root-note bass in eighths,
// mixolydian and minor progressions (I-bVII-IV, i-bVI-bVII), an organ in the chorus, and a guitar solo with
// bends.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kStraight = 0, kDriving = 1, kHalfTime = 2, kShuffle = 3 };

}  // namespace

Score compose_rock(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Mixolydian, Mode::Minor, 0.04);
  const int groove = p.variant[kGroove];
  const TempoMap tempo = TempoMap::live(s.bpm, seconds, 0.005, rng);
  const int bars = bars_covering(tempo, seconds, 4);
  const bool minor = s.key.minor();
  const int t = s.key.tonic;

  // Progressions as (semitones above the tonic, minor?) per bar.
  using Step = std::pair<int, bool>;
  const std::vector<std::vector<Step>> majors{{{0, false}, {10, false}, {5, false}, {0, false}},
                                              {{0, false}, {5, false}, {7, false}, {5, false}},
                                              {{9, true}, {5, false}, {0, false}, {7, false}},
                                              {{0, false}, {7, false}, {9, true}, {5, false}},
                                              {{0, false}, {3, false}, {5, false}, {0, false}}};
  const std::vector<std::vector<Step>> minors{{{0, true}, {8, false}, {10, false}, {0, true}},
                                              {{0, true}, {10, false}, {8, false}, {10, false}},
                                              {{0, true}, {5, true}, {10, false}, {0, true}}};
  const auto& pool = minor ? minors : majors;
  const auto verse = rng.pick(pool), chorus = rng.pick(pool);
  const std::vector<Section> form{{SectionKind::Intro, 4, 0.6},   {SectionKind::Verse, 8, 0.65},
                                  {SectionKind::Chorus, 8, 0.9},  {SectionKind::Verse, 8, 0.7},
                                  {SectionKind::Chorus, 8, 0.95}, {SectionKind::Solo, 8, 0.9},
                                  {SectionKind::Chorus, 8, 1.0}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 5)), bars, 4);
  std::vector<Chord> chords;
  for (const auto& slot : slots) {
    const auto& prog = slot.section.kind == SectionKind::Chorus ? chorus : verse;
    const Step st = prog[static_cast<std::size_t>(slot.in_section % 4)];
    chords.push_back(Chord(t + st.first, st.second ? Quality::Minor : Quality::Major));
  }
  auto chord_at = [&](double beat) {
    return chords[static_cast<std::size_t>(std::clamp(static_cast<int>(beat / 4), 0, bars - 1))];
  };
  auto loud = [](const BarSlot& slot) {
    return slot.section.kind != SectionKind::Verse && slot.section.kind != SectionKind::Intro;
  };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {35, 15, 25, 35, 40, 55, 40}, {0, 0, 10, 30, 10, 20, 10});
  Feel feel = s.feel;
  if (groove == kShuffle) feel.swing = rng.uniform(0.6, 0.66);

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(86 + 24 * slot.section.energy);
      if (slot.first() && slot.section.kind != SectionKind::Verse) drums.hit(b, drum::kCrash, v);
      const int cymbal = loud(slot) ? (rng.chance(0.5) ? drum::kRide : drum::kHatOpen) : drum::kHatClosed;
      switch (groove) {
        case kDriving:
          play_steps(drums, b, "x.x.x.x.", 0.5, drum::kKick, v);
          play_steps(drums, b, "..X...X.", 0.5, drum::kSnare, v + 5);
          play_steps(drums, b, "xxxxxxxx", 0.5, loud(slot) ? drum::kCrash : drum::kHatClosed, v - 25);
          break;
        case kHalfTime:
          play_steps(drums, b, "x..x....", 0.5, drum::kKick, v);
          play_steps(drums, b, "....X...", 0.5, drum::kSnare, v + 10);
          play_steps(drums, b, "x.x.x.x.", 0.5, cymbal, v - 20);
          break;
        default:  // straight or shuffled eighths
          play_steps(drums, b, rng.chance(0.4) ? "x...xx.." : "x...x.x.", 0.5, drum::kKick, v);
          play_steps(drums, b, "..X...X.", 0.5, drum::kSnare, v + 5);
          play_steps(drums, b, "xxxxxxxx", 0.5, cymbal, v - 25);
          break;
      }
      if (slot.last() && rng.chance(0.6))
        drum_fill(drums, b + 2.0, 2.0, v, rng.chance(0.6) ? FillKind::Toms : FillKind::SnareRoll, rng);
    }
  }

  // Bass: eighth-note roots (or root, octave and fifth).
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const int r = chords[i].root_at_or_above(28);
      for (int k = 0; k < 8; ++k) {
        int key = r;
        if (p.variant[kBassPattern] == 1 && k % 4 == 2) key = r + 12;
        if (p.variant[kBassPattern] == 1 && k == 7) key = r + 7;
        if (groove == kHalfTime && k % 2) continue;
        bass.note(slots[i].beat + k * 0.5, groove == kHalfTime ? 1.0 : 0.5, key, k % 2 ? 86 : 98, 0.85);
      }
    }
  }

  // Rhythm guitar: power chords in eighths, open strums, or a riff.
  const int pattern = p.variant[kCompPattern];
  std::vector<std::pair<double, int>> riff;  // (beat in two bars, semitones above the root), minor pentatonic
  {
    const std::vector<int> pent{0, 3, 5, 7, 10, 12};
    for (double at = 0.0; at < 8.0; at += 0.5)
      if (at == 0.0 || rng.chance(0.55)) riff.push_back({at, at == 0.0 ? 0 : rng.pick(pent)});
  }
  if (s.instrument[kComp] >= 0) {
    Player guitar(score, tempo, rng, kCompChannel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      const int r = chords[i].root_at_or_above(40);
      const int power[3] = {r, r + 7, r + 12};
      if (pattern == 2 && !loud(slots[i])) {  // the riff in the verse
        for (const auto& [at, semis] : riff)
          if (static_cast<int>(at / 4) == static_cast<int>(i % 2))
            guitar.note(b + at - (i % 2) * 4.0, 0.5, r + semis, 100, 0.8);
      } else if (pattern == 1) {
        strum(guitar, b, loud(slots[i]) ? "D.DUDUDU" : "D..UDU.U", 0.5, chords[i].guitar_shape(40, true, 6),
              92);
      } else {
        for (int k = 0; k < 8; ++k)
          guitar.chord(b + k * 0.5, 0.5, power, k % 2 ? 96 : 108, 0.003, loud(slots[i]) ? 0.95 : 0.5);
      }
    }
  }

  // Second part: acoustic strums, clean arpeggios, organ or piano.
  if (s.instrument[kComp2] >= 0) {
    const int instrument = s.instrument[kComp2];
    Player player(score, tempo, rng, kComp2Channel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      if (instrument == gm(25)) {
        strum(player, b, "D.DU.UDU", 0.5, chords[i].guitar_shape(40, true, 6), 78);
      } else if (is_guitar(instrument)) {
        const auto shape = chords[i].guitar_shape(45, true, 5);
        for (int k = 0; k < 8; ++k)
          player.note(b + k * 0.5, 0.5, shape[static_cast<std::size_t>(k % 5)], 72, 1.2);
      } else {
        held = voice_lead(held, chords[i], 4, 55, 76);
        if (is_organ(instrument))
          player.chord(b, 4.0, held, 70, 0.0, 0.98);
        else
          for (int k = 0; k < 8; ++k) player.chord(b + k * 0.5, 0.5, held, k % 2 ? 62 : 74, 0.0, 0.7);
      }
    }
  }

  if (s.instrument[kPad] >= 0) {
    Player pad(score, tempo, rng, kPadChannel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!loud(slots[i])) continue;
      held = voice_lead(held, chords[i], 4, 55, 76);
      pad.chord(slots[i].beat, 4.0, held, 64, 0.0, 0.98);
    }
  }
  if (s.instrument[kColor] >= 0) {  // piano or organ hits on the chorus downbeats
    Player player(score, tempo, rng, kColorChannel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (slots[i].section.kind == SectionKind::Chorus)
        player.chord(slots[i].beat, 1.0, chords[i].voicing_near(72, 4), 84, 0.0, 0.8);
  }

  // Lead guitar: the melody in the chorus, licks between verse lines, and the solo, with bends and vibrato.
  if (s.instrument[kLead] >= 0) {
    const int instrument = s.instrument[kLead];
    Player lead(score, tempo, rng, kLeadChannel, feel);
    MelodyStyle style;
    style.scale =
        minor ? scales::kMinorPentatonic : (rng.chance(0.5) ? scales::kMajorPentatonic : scales::kMixolydian);
    style.tonic = t;
    style.low = 59;
    style.high = 86;
    style.step = 0.5;
    style.motif_bars = 2;
    for (int bar = 0; bar < bars; bar += 4) {
      const auto& slot = slots[static_cast<std::size_t>(bar)];
      const bool solo = slot.section.kind == SectionKind::Solo;
      if (slot.section.kind == SectionKind::Intro && p.variant[kLeadStyle] == 0) continue;
      style.density = solo ? 0.75 : slot.section.kind == SectionKind::Chorus ? 0.45 : 0.3;
      style.step = solo && s.bpm < 130 ? 0.25 : 0.5;
      style.hold = solo ? 0.2 : 0.5;
      style.velocity = solo ? 100 : 90;
      const auto notes = compose_melody(style, slot.beat, std::min(4, bars - bar), 4, chord_at, rng);
      for (const auto& n : notes) {
        const double in_line = std::fmod(n.beat, 16.0) / 4.0;
        if (slot.section.kind == SectionKind::Verse && in_line < 2.5)
          continue;  // licks answer the verse lines
        const int degree = pitch_class(n.key - t);
        if (bends(instrument) && (degree == 7 || degree == 5 || degree == 0) && rng.chance(solo ? 0.3 : 0.2))
          lead.bend_into(n.beat, 2.0, 0.12);
        lead.note(n.beat, n.length, n.key, n.velocity, 0.92);
        if (n.length >= 1.0) lead.vibrato(n.beat, n.length, 0.4, 6.0);
      }
    }
  }

  record_grid(score, tempo, s.bpm, 4);
  static constexpr const char* kGrooves[] = {"straight", "driving", "half-time", "shuffle"};
  score.summary = std::string("rock: ") + kGrooves[groove] + (minor ? ", minor" : ", major") + ", " +
                  std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
