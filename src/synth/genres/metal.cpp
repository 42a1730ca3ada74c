// Metal: palm-muted sixteenth-note chugs on a low (often drop-tuned) root and accented power chords on the
// dark degrees of Phrygian, Aeolian or harmonic minor; two distorted rhythm guitars, a bass doubling them,
// fast double kick (or blast beats, a thrash skank, a half-time breakdown), crashes and chinas, and a shred
// solo.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kDoubleKick = 0, kBlast = 1, kThrash = 2, kHalfTime = 3 };

// One step of a riff: a muted chug on the root, a power chord on a degree (semitones above the root), or
// rest.
struct RiffStep {
  enum Kind { Rest, Chug, Chord } kind = Rest;
  int offset = 0;
};

std::vector<RiffStep> make_riff(int style, Mode mode, double density, Rng& rng) {
  std::vector<int> dark{1, 3, 5, 6, 7, 8, 10};  // Phrygian's flat second, the tritone, flat sixth ...
  if (mode == Mode::HarmonicMinor) dark = {3, 5, 7, 8, 11};
  if (mode == Mode::Minor) dark = {3, 5, 7, 8, 10};
  std::vector<RiffStep> riff(32);  // two bars of sixteenths
  for (int i = 0; i < 32; ++i) {
    RiffStep& step = riff[static_cast<std::size_t>(i)];
    const int in_beat = i % 4;
    switch (style) {
      case 0:  // gallop: eighth and two sixteenths
        step.kind = in_beat == 1 ? RiffStep::Rest : RiffStep::Chug;
        break;
      case 1:  // straight sixteenths
        step.kind = rng.chance(0.9) ? RiffStep::Chug : RiffStep::Rest;
        break;
      default:  // syncopated, with space
        step.kind = (in_beat == 0 || rng.chance(density * 0.6)) ? RiffStep::Chug : RiffStep::Rest;
        break;
    }
    if ((i % 8 == 0 && i > 0 && rng.chance(0.45)) || (i % 16 == 14 && rng.chance(0.5))) {
      step.kind = RiffStep::Chord;
      step.offset = rng.pick(dark);
    }
  }
  riff[0] = {RiffStep::Chord, 0};
  return riff;
}

}  // namespace

Score compose_metal(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  TrackSetup s = plan_track(p, rng, Mode::Minor, Mode::Phrygian, 0.04);
  if (s.key.minor())
    s.key.mode = rng.pick(std::vector<Mode>{Mode::Phrygian, Mode::Minor, Mode::HarmonicMinor});
  const int groove = p.variant[kGroove];
  const TempoMap tempo = TempoMap::steady(s.bpm, seconds);
  const int bars = bars_covering(tempo, seconds, 4);
  // The low root: the guitar's lowest string, down-tuned to the key (B1 .. A#2).
  const int low = 35 + pitch_class(s.key.tonic - 35);
  const double step = groove == kHalfTime || s.bpm > 190 ? 0.5 : 0.25;  // very fast riffs move in eighths

  const std::vector<Section> form{{SectionKind::Intro, 4, 0.7},     {SectionKind::Verse, 8, 0.85},
                                  {SectionKind::Chorus, 8, 1.0},    {SectionKind::Verse, 8, 0.85},
                                  {SectionKind::Breakdown, 4, 0.9}, {SectionKind::Solo, 8, 1.0},
                                  {SectionKind::Chorus, 8, 1.0}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 5)), bars, 4);
  const auto verse_riff = make_riff(p.variant[kCompPattern], s.key.mode, s.density, rng);
  const auto solo_riff = make_riff((p.variant[kCompPattern] + 1) % 3, s.key.mode, s.density, rng);
  // The chorus: sustained power chords, i - bVI - bVII - i (or the Phrygian i - bII).
  const std::vector<int> chorus_roots =
      s.key.mode == Mode::Phrygian ? std::vector<int>{0, 1, 0, 8} : std::vector<int>{0, 8, 10, 0};
  auto chorus_root = [&](int bar) { return chorus_roots[static_cast<std::size_t>(bar % 4)]; };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {20, 10, 15, 15, 35, 60, 50}, {0, 0, 0, 0, 20, 30, 20});
  Feel feel = s.feel;
  feel.swing = 0.5;

  // Rhythm guitars (the second slightly detuned and separately played: double-tracked).
  struct GuitarEvent {
    double beat, length;
    int offset;
    bool muted;
  };
  std::vector<GuitarEvent> events;
  for (const auto& slot : slots) {
    if (slot.section.kind == SectionKind::Chorus) {
      const int offset = chorus_root(slot.in_section);
      events.push_back({slot.beat, 2.0, offset, false});
      events.push_back({slot.beat + 2.0, 2.0, offset, false});
      continue;
    }
    const auto& riff = slot.section.kind == SectionKind::Solo ? solo_riff : verse_riff;
    const int half = slot.index % 2;
    const int steps = static_cast<int>(4.0 / step);
    for (int j = 0; j < steps; ++j) {
      const auto& rs = riff[static_cast<std::size_t>((half * 16 + j * static_cast<int>(step / 0.25)) % 32)];
      if (rs.kind == RiffStep::Rest) continue;
      if (slot.section.kind == SectionKind::Breakdown && j % 3 != 0) continue;  // half-time, syncopated
      events.push_back({slot.beat + j * step, rs.kind == RiffStep::Chord ? step * 2 : step, rs.offset,
                        rs.kind == RiffStep::Chug});
    }
  }
  // The intro's first two bars are the guitars alone.
  auto alone = [&](double beat) {
    const auto& slot = slots[static_cast<std::size_t>(std::clamp(static_cast<int>(beat / 4), 0, bars - 1))];
    return slot.section.kind == SectionKind::Intro && slot.in_section < 2;
  };
  auto play_guitar = [&](int channel, double detune) {
    Player guitar(score, tempo, rng, channel, feel);
    if (detune != 0.0) guitar.bend(0.0, detune);
    for (const auto& e : events) {
      const int root = low + e.offset;
      if (e.muted) {
        guitar.note(e.beat, e.length, root, 88, 0.45);
      } else {
        const int keys[3] = {root, root + 7, root + 12};
        guitar.chord(e.beat, e.length, keys, 112, 0.003, 0.95);
      }
    }
  };
  if (s.instrument[kComp] >= 0) play_guitar(kCompChannel, 0.0);
  if (s.instrument[kComp2] >= 0) play_guitar(kComp2Channel, 0.09);

  // Bass doubles the riff an octave down.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    for (const auto& e : events)
      if (!alone(e.beat))
        bass.note(e.beat, e.length, low - 12 + e.offset + (low - 12 + e.offset < 28 ? 12 : 0),
                  e.muted ? 92 : 108, e.muted ? 0.6 : 0.95);
  }

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = 108;
      const bool breakdown = slot.section.kind == SectionKind::Breakdown;
      if (alone(b)) continue;
      if (slot.first()) drums.hit(b, drum::kCrash, v + 10);
      if (breakdown || groove == kHalfTime) {
        play_steps(drums, b, "....x...", 0.5, drum::kSnare, v + 10);
        for (const auto& e : events)
          if (e.beat >= b && e.beat < b + 4.0) drums.hit(e.beat, drum::kKick, v);
        play_steps(drums, b, "x.x.x.x.", 0.5, drum::kChina, v - 15);
        continue;
      }
      switch (groove) {
        case kBlast:
          if (slot.section.kind == SectionKind::Chorus || rng.chance(0.6)) {
            play_steps(drums, b, "xxxxxxxxxxxxxxxx", 0.25, drum::kKick, v);
            play_steps(drums, b, ".x.x.x.x.x.x.x.x", 0.25, drum::kSnare, v - 5);
            play_steps(drums, b, "x.x.x.x.x.x.x.x.", 0.25, drum::kRide, v - 10);
            break;
          }
          [[fallthrough]];
        case kDoubleKick:
          play_steps(drums, b, "xxxxxxxxxxxxxxxx", 0.25, drum::kKick, v - 5);
          play_steps(drums, b, "....X.......X...", 0.25, drum::kSnare, v + 10);
          play_steps(drums, b, slot.section.kind == SectionKind::Chorus ? "x.x.x.x." : "xxxxxxxx", 0.5,
                     slot.section.kind == SectionKind::Chorus ? drum::kCrash : drum::kHatClosed, v - 20);
          break;
        default:  // thrash skank: kick on the beat, snare between
          play_steps(drums, b, "x.x.x.x.", 0.5, drum::kKick, v);
          play_steps(drums, b, ".X.X.X.X", 0.5, drum::kSnare, v + 5);
          play_steps(drums, b, "xxxxxxxx", 0.5,
                     slot.section.kind == SectionKind::Chorus ? drum::kCrash : drum::kRide, v - 20);
          break;
      }
      if (slot.last() && rng.chance(0.7)) drum_fill(drums, b + 2.0, 2.0, v, FillKind::Toms, rng);
    }
  }

  // Pad (strings, organ, choir) under the chorus.
  if (s.instrument[kPad] >= 0) {
    Player pad(score, tempo, rng, kPadChannel, feel);
    for (const auto& slot : slots)
      if (slot.section.kind == SectionKind::Chorus) {
        const int offset = chorus_root(slot.in_section);  // i minor; bII, bVI, bVII major
        const Chord c(s.key.tonic + offset, offset == 0 ? Quality::Minor : Quality::Major);
        pad.chord(slot.beat, 4.0, c.voicing_near(64, 3), 70, 0.0, 0.98);
      }
  }
  if (s.instrument[kColor] >= 0) {
    Player choir(score, tempo, rng, kColorChannel, feel);
    for (const auto& slot : slots)
      if (slot.section.kind == SectionKind::Chorus && slot.in_section % 2 == 0)
        choir.note(slot.beat, 8.0, low + 24 + chorus_root(slot.in_section), 75, 0.98);
  }

  // Lead: a shred solo (sixteenths or sextuplets, ascending sequences, a screaming bend at the end of each
  // phrase) and a melodic line over the chorus.
  if (s.instrument[kLead] >= 0) {
    Player lead(score, tempo, rng, kLeadChannel, feel);
    const auto scale = scale_pitches(mode_intervals(s.key.mode), s.key.tonic, 59, 91);
    for (const auto& slot : slots) {
      if (slot.section.kind == SectionKind::Solo) {
        const double unit = s.bpm > 150 ? 0.25 : 1.0 / 6.0;
        std::size_t index = nearest_index(scale, 72 + rng.range(-5, 5));
        const int count = static_cast<int>(3.0 / unit);
        for (int j = 0; j < count; ++j) {  // four-note groups, each starting a step higher (or lower)
          const int group = j / 4, in_group = j % 4;
          const int direction = (slot.index % 2) ? -1 : 1;
          const int at = std::clamp(static_cast<int>(index) + direction * group + in_group, 0,
                                    static_cast<int>(scale.size()) - 1);
          lead.note(slot.beat + j * unit, unit, scale[static_cast<std::size_t>(at)], 96, 0.9);
        }
        const int top = scale[std::min(scale.size() - 1, index + 6)];
        lead.bend_into(slot.beat + 3.0, 2.0, 0.15);
        lead.note(slot.beat + 3.0, 1.0, top, 110, 0.98);
        lead.vibrato(slot.beat + 3.0, 1.0, 0.6, 6.5);
      } else if (slot.section.kind == SectionKind::Chorus && p.variant[kLeadStyle] == 1) {
        const int root = s.key.tonic + chorus_root(slot.in_section);
        const int note = s.key.snap(72 + pitch_class(root - 72) + rng.pick(std::vector<int>{0, 3, 7}));
        lead.note(slot.beat, 2.0, note, 100, 0.98);
        lead.vibrato(slot.beat, 2.0, 0.4, 6.0);
        lead.note(slot.beat + 2.0, 2.0, s.key.snap(note + rng.range(-3, 3)), 100, 0.98);
      }
    }
  }

  record_grid(score, tempo, s.bpm, 4);
  static constexpr const char* kGrooves[] = {"double kick", "blast beat", "thrash", "half-time"};
  score.summary =
      std::string("metal: ") + kGrooves[groove] + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
