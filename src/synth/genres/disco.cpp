// Disco: four on the floor with open hi-hats on the off-beats and claps on the backbeat, octave-jumping bass,
// sixteenth-note muted guitar, electric piano on the off-beats, string pads and swoops, brass stabs, minor
// seventh (Dorian) vamps, and a breakdown where the band drops out to kick, bass and hats.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {

Score compose_disco(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Major, Mode::Dorian, 0.03);
  const int groove = p.variant[kGroove];
  const TempoMap tempo = TempoMap::steady(s.bpm, seconds);
  const int bars = bars_covering(tempo, seconds, 4);
  const bool minor = s.key.minor();
  const int t = s.key.tonic;

  // Vamps: two chords for the verse, four for the chorus.
  std::vector<std::vector<Chord>> verse_vamps, chorus_vamps;
  if (minor) {
    verse_vamps = {{Chord(t, Quality::Min7), Chord(t + 5, Quality::Dom9)},
                   {Chord(t, Quality::Min9), Chord(t + 5, Quality::Min7)},
                   {Chord(t, Quality::Min7), Chord(t + 10, Quality::Major)}};
    chorus_vamps = {{Chord(t + 8, Quality::Maj7), Chord(t + 10, Quality::Dom7), Chord(t, Quality::Min7),
                     Chord(t, Quality::Min7)},
                    {Chord(t, Quality::Min7), Chord(t + 3, Quality::Maj7), Chord(t + 5, Quality::Min7),
                     Chord(t + 7, Quality::Min7)}};
  } else {
    verse_vamps = {{Chord(t, Quality::Maj7), Chord(t + 5, Quality::Maj7)},
                   {Chord(t + 2, Quality::Min7), Chord(t + 7, Quality::Dom9)}};
    chorus_vamps = {{Chord(t + 2, Quality::Min7), Chord(t + 7, Quality::Dom7), Chord(t, Quality::Maj7),
                     Chord(t + 9, Quality::Min7)},
                    {Chord(t, Quality::Maj7), Chord(t + 9, Quality::Min7), Chord(t + 2, Quality::Min7),
                     Chord(t + 7, Quality::Dom7)}};
  }
  const auto verse = rng.pick(verse_vamps), chorus = rng.pick(chorus_vamps);
  const std::vector<Section> form{{SectionKind::Intro, 8, 0.6},     {SectionKind::Verse, 8, 0.7},
                                  {SectionKind::Chorus, 8, 0.95},   {SectionKind::Verse, 8, 0.7},
                                  {SectionKind::Breakdown, 8, 0.4}, {SectionKind::Chorus, 8, 1.0}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 5)), bars, 4);
  std::vector<Chord> chords;
  for (const auto& slot : slots) {
    if (slot.section.kind == SectionKind::Chorus)
      chords.push_back(chorus[static_cast<std::size_t>(slot.in_section % 4)]);
    else
      chords.push_back(verse[static_cast<std::size_t>((slot.in_section / 2) % 2)]);
  }
  auto chord_at = [&](double beat) {
    return chords[static_cast<std::size_t>(std::clamp(static_cast<int>(beat / 4), 0, bars - 1))];
  };
  auto full_band = [](const BarSlot& slot) { return slot.section.kind != SectionKind::Breakdown; };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {25, 15, 30, 40, 55, 70, 40}, {0, 0, 40, 50, 40, 60, 20});
  Feel feel = s.feel;
  feel.swing_unit = 0.25;
  feel.timing_sd = std::min(feel.timing_sd, 0.004);

  // Drums: the kick on every beat, always.
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(84 + 20 * slot.section.energy);
      play_steps(drums, b, "XxXx", 1.0, drum::kKick, v);
      if (slot.first() && full_band(slot)) drums.hit(b, drum::kCrash, v - 10);
      const bool breakdown = !full_band(slot);
      if (!breakdown || slot.in_section >= 4) {
        play_steps(drums, b, "..o...o...o...o.", 0.25, drum::kHatOpen, v - 28);
        if (groove == 1)
          play_steps(drums, b, "xg.gxg.gxg.gxg.g", 0.25, drum::kHatClosed, v - 30);
        else if (groove == 2)
          play_steps(drums, b, "x...x...x...x...", 0.25, drum::kHatPedal, v - 35);
        else
          play_steps(drums, b, "x.g.x.g.x.g.x.g.", 0.25, drum::kHatClosed, v - 32);
      }
      if (!breakdown || slot.in_section >= 6) {
        play_steps(drums, b, "....X.......X...", 0.25, drum::kClap, v - 8);
        play_steps(drums, b, "....x.......x...", 0.25, drum::kSnare, v - 20);
      }
      if (groove == 1 && !breakdown)
        play_steps(drums, b, "xxXxxxXxxxXxxxXx", 0.25, drum::kTambourine, v - 45);
      if (slot.last() && rng.chance(0.5)) drum_fill(drums, b + 3.0, 1.0, v, FillKind::SnareRoll, rng);
    }
  }

  // Bass: octaves.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    const int pattern = p.variant[kBassPattern];
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      const int r = chords[i].root_at_or_above(33);
      const int fifth = r + 7, seventh = r + (chords[i].has_class(chords[i].root + 10) ? 10 : 11);
      for (int k = 0; k < 8; ++k) {
        switch (pattern) {
          case 1: {  // sixteenth syncopation: root, octave, and pickups
            static constexpr std::string_view kRhythm = "x.xxx.x.x.xxx.xx";
            for (int j = 0; j < 2; ++j) {
              const int step = k * 2 + j;
              if (kRhythm[static_cast<std::size_t>(step)] != 'x') continue;
              bass.note(b + step * 0.25, 0.25, step % 4 == 2 ? r + 12 : r, step % 4 == 0 ? 100 : 84, 0.7);
            }
            break;
          }
          case 2: {  // arpeggio: root, octave, fifth, octave, seventh
            const int line[8] = {r, r + 12, fifth, r + 12, r, r + 12, seventh, r + 12};
            bass.note(b + k * 0.5, 0.5, line[k], k % 2 ? 84 : 98, 0.65);
            break;
          }
          default:  // octave eighths
            bass.note(b + k * 0.5, 0.5, k % 2 ? r + 12 : r, k % 2 ? 86 : 100, 0.7);
            break;
        }
      }
    }
  }

  // Muted guitar, sixteenth-note scratches.
  if (s.instrument[kComp] >= 0) {
    Player guitar(score, tempo, rng, kCompChannel, feel);
    const std::string_view rhythm =
        rng.pick(std::vector<std::string_view>{"gxgxXxgxgxgxXxgx", ".x.xX..x.x.xX..x", "x.gxx.gxx.gxx.gx"});
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!full_band(slots[i])) continue;
      const auto voicing = chords[i].voicing_near(66, 3);
      for (std::size_t k = 0; k < rhythm.size(); ++k) {
        const char c = rhythm[k];
        if (c == '.') continue;
        guitar.chord(slots[i].beat + static_cast<double>(k) * 0.25, 0.25, voicing,
                     c == 'X'   ? 92
                     : c == 'g' ? 54
                                : 74,
                     0.003, 0.35);
      }
    }
  }

  // Electric piano: off-beat chords.
  if (s.instrument[kComp2] >= 0) {
    Player keys(score, tempo, rng, kComp2Channel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!full_band(slots[i]) && slots[i].in_section < 4) continue;
      held = voice_lead(held, chords[i], 4, 55, 74);
      for (int k = 0; k < 4; ++k) keys.chord(slots[i].beat + k + 0.5, 0.5, held, 72, 0.0, 0.6);
    }
  }

  // Strings: a pad, and swoops up into the chorus.
  if (s.instrument[kPad] >= 0) {
    Player strings(score, tempo, rng, kPadChannel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const auto& slot = slots[i];
      held = voice_lead(held, chords[i], 4, 60, 81);
      if (full_band(slot)) strings.chord(slot.beat, 4.0, held, 62, 0.0, 0.97);
      if (slot.last() && i + 1 < slots.size() && slots[i + 1].section.kind == SectionKind::Chorus) {
        const auto run = scale_pitches(mode_intervals(s.key.mode), t, 64, 88);
        for (int k = 0; k < 8; ++k)
          strings.note(slot.beat + 2.0 + k * 0.25, 0.25,
                       run[static_cast<std::size_t>(k * static_cast<int>(run.size()) / 8)], 70 + k * 3, 0.9);
      }
    }
  }

  // Brass stabs in the chorus.
  if (s.instrument[kColor] >= 0) {
    Player brass(score, tempo, rng, kColorChannel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].section.kind != SectionKind::Chorus) continue;
      const auto voicing = chords[i].voicing_near(68, 3);
      brass.chord(slots[i].beat, 0.5, voicing, 96, 0.0, 0.5);
      if (i % 2 == 1) brass.chord(slots[i].beat + 2.5, 0.5, voicing, 90, 0.0, 0.5);
    }
  }

  // The tune: strings, synth, flute or trumpet.
  if (s.instrument[kLead] >= 0) {
    const int lead = s.instrument[kLead];
    Player player(score, tempo, rng, kLeadChannel, feel);
    MelodyStyle style;
    style.scale = minor ? scales::kDorian : mode_intervals(Mode::Major);
    style.tonic = t;
    style.low = lead == gm(48) ? 67 : 62;
    style.high = style.low + 19;
    style.step = p.variant[kLeadStyle] == 0 ? 0.5 : 0.25;
    style.density = p.variant[kLeadStyle] == 0 ? 0.5 : 0.45;
    style.hold = 0.4;
    style.motif_bars = 2;
    style.vary = 0.25;
    style.velocity = 90;
    const auto notes = compose_melody(style, 0.0, bars, 4, chord_at, rng);
    for (const auto& n : notes) {
      const auto& slot =
          slots[static_cast<std::size_t>(std::clamp(static_cast<int>(n.beat / 4), 0, bars - 1))];
      if (!full_band(slot) || slot.section.kind == SectionKind::Intro) continue;
      player.note(n.beat, n.length, n.key, n.velocity, 0.92);
      if (lead == gm(48))
        player.note(n.beat, n.length, n.key - 12, n.velocity - 10, 0.92);  // strings in octaves
    }
  }

  record_grid(score, tempo, s.bpm, 4);
  score.summary = std::string("disco: ") + (minor ? "minor" : "major") + ", " +
                  std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
