// Reggae: the one drop (kick and rim together on beat three only; or rockers, or steppers with the kick on
// every beat), the guitar's skank on the off-beats (beats two and four), the organ bubble, a deep melodic
// bass riff that leaves the downbeat empty and repeats, melodica or horns, and dub echoes in the breakdown.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kOneDrop = 0, kRockers = 1, kSteppers = 2 };

}  // namespace

Score compose_reggae(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Major, Mode::Minor, 0.04);
  const int groove = p.variant[kGroove];
  const TempoMap tempo = TempoMap::live(s.bpm, seconds, 0.004, rng);
  const int bars = bars_covering(tempo, seconds, 4);
  const bool minor = s.key.minor();
  const int t = s.key.tonic;

  const std::vector<std::vector<Chord>> majors{{Chord(t, Quality::Major), Chord(t + 5, Quality::Major)},
                                               {Chord(t, Quality::Major), Chord(t + 7, Quality::Major)},
                                               {Chord(t + 2, Quality::Min7), Chord(t + 7, Quality::Major)},
                                               {Chord(t, Quality::Major), Chord(t + 5, Quality::Major),
                                                Chord(t + 7, Quality::Major), Chord(t + 5, Quality::Major)}};
  const std::vector<std::vector<Chord>> minors{{Chord(t, Quality::Minor), Chord(t + 5, Quality::Minor)},
                                               {Chord(t, Quality::Minor), Chord(t + 10, Quality::Major)},
                                               {Chord(t, Quality::Minor), Chord(t + 8, Quality::Major),
                                                Chord(t + 10, Quality::Major), Chord(t, Quality::Minor)}};
  const auto riddim = rng.pick(minor ? minors : majors);
  const bool two_bar_chords = riddim.size() == 2 && rng.chance(0.5);
  auto chord_at = [&](double beat) {
    const int bar = static_cast<int>(beat / 4);
    return riddim[static_cast<std::size_t>((two_bar_chords ? bar / 2 : bar) %
                                           static_cast<int>(riddim.size()))];
  };
  const std::vector<Section> form{{SectionKind::Intro, 4, 0.5},      {SectionKind::Verse, 8, 0.65},
                                  {SectionKind::Chorus, 8, 0.85},    {SectionKind::Verse, 8, 0.65},
                                  {SectionKind::Breakdown, 8, 0.45}, {SectionKind::Chorus, 8, 0.9}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 5)), bars, 4);
  auto dub = [](const BarSlot& slot) { return slot.section.kind == SectionKind::Breakdown; };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {60, 15, 60, 45, 50, 60, 50}, {0, 0, 30, 40, 20, 20, 20});
  Feel feel = s.feel;
  feel.swing_unit = groove == kOneDrop ? 0.5 : 0.25;

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(80 + 25 * slot.section.energy);
      switch (groove) {
        case kSteppers:
          play_steps(drums, b, "x...x...x...x...", 0.25, drum::kKick, v);
          break;
        case kRockers:
          play_steps(drums, b, "x.....x.x.......", 0.25, drum::kKick, v);
          break;
        default:
          play_steps(drums, b, "........x.......", 0.25, drum::kKick, v + 5);  // the drop: nothing on one
          break;
      }
      const bool rim = !(slot.section.kind == SectionKind::Chorus && rng.chance(0.5));
      play_steps(drums, b, "........X.......", 0.25, rim ? drum::kRim : drum::kSnare, v + 5);
      if (dub(slot)) {  // dub echo on the drop: repeats every dotted eighth, fading
        for (int e = 1; e <= 4; ++e) drums.hit(b + 2.0 + e * 0.75, drum::kRim, v - 18 * e);
      } else if (groove == kSteppers) {
        play_steps(drums, b, "..o...o...o...o.", 0.25, drum::kHatOpen, v - 35);
      } else {
        play_steps(drums, b, rng.chance(0.3) ? "x.x.x.x.x.x.x.xo" : "x.x.x.x.x.x.x.x.", 0.25,
                   drum::kHatClosed, v - 32);
      }
      if (slot.last() && rng.chance(0.6)) {  // a snare and tom triplet run into the next section
        for (int j = 0; j < 6; ++j)
          drums.hit(b + 2.0 + j / 3.0, j < 3 ? drum::kSnare : drum::kTomLow, v - 10 + j * 3);
      }
      if (slot.first() && slot.section.kind == SectionKind::Chorus) drums.hit(b, drum::kCrash, v - 15);
    }
  }

  // Bass: a two-bar riff, composed once per track and repeated, deep and round; the downbeat is often left
  // out.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    struct Step {
      double beat;
      double length;
      int degree;  // semitones above the chord's root
    };
    std::vector<Step> riff;
    const int pattern = p.variant[kBassPattern];
    const std::vector<int> tones =
        minor ? std::vector<int>{0, 3, 5, 7, 10, 12} : std::vector<int>{0, 4, 5, 7, 9, 12};
    for (int bar = 0; bar < 2; ++bar) {
      double at = bar * 4.0 + (pattern == 0 ? 0.5 : pattern == 1 ? 1.0 : 0.0);
      while (at < bar * 4.0 + 3.75) {
        const double length = rng.pick(std::vector<double>{0.5, 0.5, 1.0, 1.0, 1.5});
        riff.push_back({at, length, rng.chance(0.4) ? 0 : rng.pick(tones)});
        at += length + (rng.chance(0.3) ? 0.5 : 0.0);
      }
    }
    riff.front().degree = 0;
    for (const auto& slot : slots) {
      if (slot.section.kind == SectionKind::Intro && slot.in_section < 2) continue;
      for (const auto& st : riff) {
        if (static_cast<int>(st.beat / 4) != slot.index % 2) continue;
        const double at = slot.beat + st.beat - (slot.index % 2) * 4.0;
        const int r = chord_at(at).root_at_or_above(28);
        bass.note(at, st.length, r + st.degree, 100, 0.9);
      }
    }
  }

  // The skank: short chords on two and four (doubled a sixteenth later now and then).
  auto skank = [&](int channel, int centre, int velocity, double legato) {
    Player player(score, tempo, rng, channel, feel);
    for (const auto& slot : slots) {
      const auto v = chord_at(slot.beat).voicing_near(centre, 3);
      for (const double at : {1.0, 3.0}) {
        if (dub(slot) && rng.chance(0.5)) continue;
        player.chord(slot.beat + at, 0.5, v, velocity, 0.003, legato);
        if (p.variant[kCompPattern] == 1 && rng.chance(0.5))
          player.chord(slot.beat + at + 0.25, 0.25, v, velocity - 20, 0.003, legato);
        if (dub(slot))  // echoes of the skank
          for (int e = 1; e <= 2; ++e)
            player.chord(slot.beat + at + e * 0.75, 0.25, v, velocity - 25 * e, 0.0, legato);
      }
    }
  };
  if (s.instrument[kComp] >= 0) skank(kCompChannel, 67, 84, 0.25);
  if (s.instrument[kPad] >= 0) skank(kPadChannel, 62, 70, 0.35);

  // The organ bubble: "and-a" of every beat, low then high.
  if (s.instrument[kComp2] >= 0) {
    Player organ(score, tempo, rng, kComp2Channel, feel);
    for (const auto& slot : slots) {
      if (dub(slot)) continue;
      const Chord c = chord_at(slot.beat);
      const auto low = c.voicing_near(57, 3), high = c.voicing_near(66, 3);
      for (int k = 0; k < 4; ++k) {
        organ.note(slot.beat + k + 0.5, 0.25, low[0], 62, 0.8);
        organ.chord(slot.beat + k + 0.75, 0.25, high, 58, 0.0, 0.8);
      }
    }
  }

  // Melodica or horns: the tune, with a second horn in sixths in the chorus.
  if (s.instrument[kLead] >= 0) {
    Player lead(score, tempo, rng, kLeadChannel, feel);
    MelodyStyle style;
    style.scale = minor ? scales::kMinorPentatonic : scales::kMajorPentatonic;
    style.tonic = t;
    style.low = 60;
    style.high = 81;
    style.step = 0.5;
    style.density = 0.4 + 0.2 * s.density;
    style.hold = 0.5;
    style.motif_bars = 2;
    style.vary = 0.3;
    style.rest_bar = 0.25;
    style.velocity = 84;
    const auto tune = compose_melody(style, 0.0, bars, 4, chord_at, rng);
    Player second(score, tempo, rng, kColorChannel, feel);
    for (const auto& n : tune) {
      const auto& slot =
          slots[static_cast<std::size_t>(std::clamp(static_cast<int>(n.beat / 4), 0, bars - 1))];
      if (dub(slot)) continue;
      lead.note(n.beat, n.length, n.key, n.velocity, 0.9);
      if (s.instrument[kColor] >= 0 && slot.section.kind == SectionKind::Chorus)
        second.note(n.beat, n.length, s.key.snap(n.key - 9), n.velocity - 6, 0.9);
    }
  }

  record_grid(score, tempo, s.bpm, 4);
  static constexpr const char* kGrooves[] = {"one drop", "rockers", "steppers"};
  score.summary =
      std::string("reggae: ") + kGrooves[groove] + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
