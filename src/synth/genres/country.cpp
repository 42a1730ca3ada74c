// Country: I-IV-V in major keys, the boom-chick of alternating bass and strummed acoustic guitar (or a train
// beat, a country-rock eight, a waltz, a ballad), walk-ups into chord changes, banjo rolls or mandolin chops,
// and a fiddle, steel guitar, harmonica or telecaster answering the melody.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kTwoStep = 0, kTrain = 1, kCountryRock = 2, kWaltz = 3, kBallad = 4 };

}  // namespace

Score compose_country(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Major, Mode::Minor);
  const int groove = p.variant[kGroove];
  const int bpb = groove == kWaltz ? 3 : 4;
  const TempoMap tempo = TempoMap::live(s.bpm, seconds, 0.006, rng);
  const int bars = bars_covering(tempo, seconds, bpb);
  const Key& key = s.key;

  const std::vector<Section> form{{SectionKind::Intro, 4, 0.5},   {SectionKind::Verse, 8, 0.55},
                                  {SectionKind::Chorus, 8, 0.8},  {SectionKind::Verse, 8, 0.6},
                                  {SectionKind::Chorus, 8, 0.85}, {SectionKind::Solo, 8, 0.8},
                                  {SectionKind::Chorus, 8, 0.9}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 5)), bars, bpb);
  // Degrees per bar of each section kind, drawn once per track so that repeats sound like repeats.
  const std::vector<std::vector<int>> verses{
      {0, 0, 3, 3, 0, 0, 4, 4}, {0, 3, 0, 4, 0, 3, 4, 0}, {0, 0, 3, 0, 4, 4, 0, 0}, {0, 0, 4, 4, 3, 3, 0, 0}};
  const std::vector<std::vector<int>> choruses{
      {3, 3, 0, 0, 4, 4, 0, 0}, {0, 4, 5, 3, 0, 4, 0, 0}, {3, 0, 4, 0, 3, 0, 4, 0}};
  const auto verse = rng.pick(verses), chorus = rng.pick(choruses);
  std::vector<Chord> chords;
  for (const auto& slot : slots) {
    int degree = 0;
    switch (slot.section.kind) {
      case SectionKind::Intro:
        degree = std::vector<int>{0, 3, 4, 0}[static_cast<std::size_t>(slot.in_section % 4)];
        break;
      case SectionKind::Chorus:
        degree = chorus[static_cast<std::size_t>(slot.in_section % 8)];
        break;
      default:
        degree = verse[static_cast<std::size_t>(slot.in_section % 8)];
        break;
    }
    chords.push_back(diatonic_chord(key, degree, degree == 4 && slot.last()));
  }
  auto chord_at = [&](double beat) {
    return chords[static_cast<std::size_t>(std::clamp(static_cast<int>(beat / bpb), 0, bars - 1))];
  };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {30, 20, 35, 40, 50, 70, 45}, {0, 0, 30, 20, 10, 30, 20});
  Feel feel = s.feel;
  feel.swing_unit = 0.5;

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Feel df = feel;
    df.timing_sd *= 0.6;
    Player drums(score, tempo, rng, kDrumChannel, df);
    const bool brushes = s.instrument[kDrums] == gm(40, 128);
    for (const auto& slot : slots) {
      const double b = slot.beat;
      const int v = static_cast<int>(66 + 34 * slot.section.energy);
      const bool chorus_like = slot.section.energy > 0.75;
      if (slot.first() && slot.section.kind != SectionKind::Verse) drums.hit(b, drum::kCrash, v);
      const bool fill = slot.last() && rng.chance(0.5);
      switch (groove) {
        case kTrain:
          play_steps(drums, b, fill ? "gxgXgxgx" : "gxgXgxgXgxgXgxgX", 0.25, drum::kSnare,
                     brushes ? v - 10 : v - 20);
          play_steps(drums, b, "x...x...", 0.5, drum::kKick, v - 5);
          break;
        case kCountryRock:
          play_steps(drums, b, "xxxxxxxx", 0.5, chorus_like ? drum::kRide : drum::kHatClosed, v - 25);
          play_steps(drums, b, "x...xx..", 0.5, drum::kKick, v);
          play_steps(drums, b, "..X...X.", 0.5, drum::kSnare, v);
          break;
        case kWaltz:
          play_steps(drums, b, "x.....", 0.5, drum::kKick, v);
          play_steps(drums, b, "..x.x.", 0.5, chorus_like ? drum::kSnare : drum::kRim, v - 15);
          play_steps(drums, b, "x.x.x.", 0.5, drum::kHatClosed, v - 35);
          break;
        case kBallad:
          play_steps(drums, b, "x......x", 0.5, drum::kKick, v - 10);
          play_steps(drums, b, "..x...x.", 0.5, chorus_like ? drum::kSnare : drum::kRim, v - 10);
          play_steps(drums, b, "xxxxxxxx", 0.5, chorus_like ? drum::kRide : drum::kHatClosed, v - 40);
          break;
        default:  // two-step: kick on one and three, backbeat on the side stick (snare in the chorus)
          play_steps(drums, b, "x...x...", 0.5, drum::kKick, v);
          play_steps(drums, b, "..x...x.", 0.5, chorus_like ? drum::kSnare : drum::kRim, v - 8);
          play_steps(drums, b, "xxxxxxxx", 0.5, drum::kHatClosed, v - 32);
          break;
      }
      if (fill && groove != kTrain) drum_fill(drums, b + bpb - 1.0, 1.0, v, FillKind::Sparse, rng);
    }
  }

  // Bass: alternating root and fifth, walking up (or down) into the next chord.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      const Chord& c = chords[i];
      const Chord& next = i + 1 < chords.size() ? chords[i + 1] : c;
      const int r = c.root_at_or_above(33);
      const int fifth = r + 7 > 52 ? r - 5 : r + 7;
      const bool change = next.root != c.root;
      if (bpb == 3) {
        bass.note(b, 1.0, (i % 2) ? fifth : r, 92, 0.85);
        continue;
      }
      bass.note(b, 1.0, r, 94, 0.85);
      bass.note(b + 2.0, 1.0, p.variant[kBassPattern] == 1 && (i % 2) ? r + 12 : fifth, 86, 0.85);
      if (change && rng.chance(0.7)) {  // walk-up: two scale steps under the next root
        const int target = next.root_at_or_above(33);
        const int up = target > r ? 1 : -1;
        bass.note(b + 3.0, 0.5, key.snap(target - up * 3), 80, 0.9);
        bass.note(b + 3.5, 0.5, key.snap(target - up * 1), 84, 0.9);
      } else if (p.variant[kBassPattern] == 1) {
        bass.note(b + 1.0, 1.0, r + 12 <= 55 ? r + 12 : r, 76, 0.6);
        bass.note(b + 3.0, 1.0, fifth, 76, 0.6);
      }
    }
  }

  // Acoustic guitar: strums, boom-chick, or Travis picking.
  if (s.instrument[kComp] >= 0) {
    Player guitar(score, tempo, rng, kCompChannel, feel);
    const int pattern = p.variant[kCompPattern];
    const std::string_view strums =
        rng.pick(std::vector<std::string_view>{"D.DU.UDU", "D.D.DUDU", "D.DUDUDU", "D..UDUDU"});
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      const auto shape = chords[i].guitar_shape(40, true, 6);
      if (bpb == 3) {
        guitar.note(b, 1.0, shape[0], 84);
        strum(guitar, b + 1.0, "D.D.", 0.5, std::span<const int>(shape).subspan(2), 74);
      } else if (pattern == 0 || groove == kTrain) {
        strum(guitar, b, strums, 0.5, shape, 82);
      } else if (pattern == 1) {  // boom-chick: a bass string, then the top strings
        const std::span<const int> top = std::span<const int>(shape).subspan(2);
        guitar.note(b, 1.0, shape[0], 86);
        strum(guitar, b + 1.0, "D.", 0.5, top, 76);
        guitar.note(b + 2.0, 1.0, shape[1], 82);
        strum(guitar, b + 3.0, "DU", 0.5, top, 74);
      } else {  // Travis picking: thumb alternating on the beats, fingers between
        for (int k = 0; k < 8; ++k) {
          if (k % 2 == 0)
            guitar.note(b + k * 0.5, 1.0, k % 4 == 0 ? shape[0] : shape[1], 84, 0.7);
          else
            guitar.note(b + k * 0.5, 0.5, shape[static_cast<std::size_t>(3 + (k / 2) % (shape.size() - 3))],
                        72, 1.2);
        }
      }
    }
  }

  // Banjo rolls, mandolin chops or honky-tonk piano.
  if (s.instrument[kComp2] >= 0) {
    const int instrument = s.instrument[kComp2];
    Player player(score, tempo, rng, kComp2Channel, feel);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const double b = slots[i].beat;
      if (slots[i].section.energy < 0.6 && !rng.chance(0.4)) continue;
      const auto voicing = chords[i].voicing_near(67, 3);
      if (instrument == gm(105)) {  // forward roll in sixteenths
        static constexpr int kRoll[8] = {0, 1, 2, 0, 1, 2, 0, 2};
        for (int k = 0; k < bpb * 4; ++k)
          player.note(b + k * 0.25, 0.5, voicing[static_cast<std::size_t>(kRoll[k % 8])], k % 2 ? 64 : 76,
                      1.0);
      } else if (is_keyboard(instrument)) {  // off-beat chords and a slide into the bar
        for (int k = 0; k < bpb; ++k) player.chord(b + k + 0.5, 0.4, voicing, 68, 0.0, 0.6);
        if (rng.chance(0.4)) player.note(b - 0.125, 0.12, voicing.back() - 1, 60, 0.9);
      } else {  // mandolin chop on the backbeat
        for (int k = 1; k < bpb; k += 2) player.chord(b + k, 0.25, voicing, 80, 0.004, 0.3);
      }
    }
  }

  // Pad: steel guitar swells, strings or organ, in the choruses.
  if (s.instrument[kPad] >= 0) {
    Player pad(score, tempo, rng, kPadChannel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].section.kind != SectionKind::Chorus) continue;
      held = voice_lead(held, chords[i], 3, 57, 74);
      pad.chord(slots[i].beat, bpb, held, 56, 0.0, 0.98);
    }
  }

  // Lead: the melody line, answered by fills; the instrumental sections are the lead's.
  auto play_line = [&](int channel, int instrument, double density, double hold, int low, int high,
                       bool fills_only) {
    Player player(score, tempo, rng, channel, feel);
    MelodyStyle style;
    style.scale = rng.chance(0.6) ? scales::kMajorPentatonic : mode_intervals(key.mode);
    style.tonic = key.tonic;
    style.low = low;
    style.high = high;
    style.step = instrument == gm(27) ? 0.25 : 0.5;
    style.density = density;
    style.hold = hold;
    style.leap = 0.15;
    style.end_on_tonic = true;
    style.velocity = 86;
    const auto notes = compose_melody(style, 0.0, bars, bpb, chord_at, rng);
    const bool steel = instrument == gm(26, 8);
    for (const auto& n : notes) {
      const BarSlot& slot =
          slots[static_cast<std::size_t>(std::clamp(static_cast<int>(n.beat / bpb), 0, bars - 1))];
      const bool instrumental =
          slot.section.kind == SectionKind::Intro || slot.section.kind == SectionKind::Solo;
      const double in_phrase = std::fmod(n.beat, 4.0 * bpb) / bpb;
      if (fills_only && !instrumental && in_phrase < 2.5)
        continue;  // answer the (absent) singer between lines
      if (steel && rng.chance(0.5))
        player.bend_into(n.beat, rng.chance(0.5) ? 2.0 : 1.0, 0.25);
      else if (bends(instrument) && rng.chance(0.25))
        player.bend_into(n.beat, 1.0, 0.1);
      player.note(n.beat, n.length, n.key, n.velocity, steel ? 0.99 : 0.9);
      if (n.length >= 1.0 && !is_keyboard(instrument))
        player.vibrato(n.beat, n.length, steel ? 0.15 : 0.25, 5.0);
    }
  };
  if (s.instrument[kLead] >= 0) {
    const int lead = s.instrument[kLead];
    const bool fiddle = lead == gm(110);
    play_line(kLeadChannel, lead, 0.45 + 0.3 * s.density, 0.4, fiddle ? 62 : 55, fiddle ? 86 : 79, false);
  }
  if (s.instrument[kColor] >= 0 && s.instrument[kColor] != s.instrument[kLead])
    play_line(kColorChannel, s.instrument[kColor], 0.55, 0.3, 62, 84, true);

  record_grid(score, tempo, s.bpm, bpb);
  static constexpr const char* kGrooves[] = {"two-step", "train beat", "country rock", "waltz", "ballad"};
  score.summary =
      std::string("country: ") + kGrooves[groove] + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
