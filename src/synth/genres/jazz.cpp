// Jazz: the swing ride pattern with the hi-hat on two and four, a walking bass that approaches each root
// chromatically, rootless voicings of extended chords (ninths, thirteenths, altered dominants) comped in
// anticipation, ii-V-I forms (a 32-bar song form, a minor blues, a modal vamp), a horn playing the head and
// then bebop eighth-note lines; also ballads with brushes, jazz waltzes and bossa novas.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Groove { kMedium = 0, kUp = 1, kBallad = 2, kWaltz = 3, kBossa = 4 };

struct ChordSpan {
  Chord chord;
  double beats;
};

// One chorus of a form as chords with lengths.
std::vector<ChordSpan> chorus_of(int form, int tonic, Rng& rng) {
  const int t = tonic;
  auto c = [](int root, Quality q, double beats) { return ChordSpan{Chord(root, q), beats}; };
  const Quality dom = rng.chance(0.5) ? Quality::Dom13 : Quality::Dom9;
  switch (form) {
    case 1:  // minor blues
      return {c(t, Quality::Min9, 16),        c(t + 5, Quality::Min9, 8),       c(t, Quality::Min9, 8),
              c(t + 8, Quality::Dom9, 4),     c(t + 7, Quality::Dom7Sharp9, 4), c(t, Quality::Min9, 4),
              c(t + 7, Quality::Dom7Flat9, 4)};
    case 2:  // modal: Dorian vamp, up a half step for the bridge
      return {c(t, Quality::Min11, 32), c(t + 1, Quality::Min11, 16), c(t, Quality::Min11, 16)};
    default: {  // 32-bar AABA on ii-V-I
      const std::vector<ChordSpan> a{c(t, Quality::Maj9, 4),     c(t + 9, Quality::Dom7Flat9, 4),
                                     c(t + 2, Quality::Min9, 4), c(t + 7, dom, 4),
                                     c(t + 4, Quality::Min7, 4), c(t + 9, Quality::Dom7Flat9, 4),
                                     c(t + 2, Quality::Min9, 2), c(t + 7, dom, 2),
                                     c(t, Quality::Six, 4)};
      const std::vector<ChordSpan> a_last{
          c(t, Quality::Maj9, 4),          c(t + 5, Quality::Maj7, 4), c(t + 4, Quality::Min7, 2),
          c(t + 9, Quality::Dom7Flat9, 2), c(t + 2, Quality::Min9, 4), c(t + 7, dom, 4),
          c(t, Quality::Maj9, 4),          c(t + 2, Quality::Min7, 2), c(t + 7, dom, 2)};
      const std::vector<ChordSpan> bridge{c(t + 4, Quality::Dom9, 8), c(t + 9, Quality::Dom9, 8),
                                          c(t + 2, Quality::Dom9, 8), c(t + 7, dom, 8)};
      std::vector<ChordSpan> out;
      for (const auto* part : {&a, &a, &bridge, &a_last})
        for (const auto& span : *part) out.push_back(span);
      return out;
    }
  }
}

}  // namespace

Score compose_jazz(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Major, Mode::Dorian);
  const int groove = p.variant[kGroove];
  const int bpb = groove == kWaltz ? 3 : 4;
  const TempoMap tempo = TempoMap::live(s.bpm, seconds, 0.006, rng);
  const int bars = bars_covering(tempo, seconds, bpb);
  const bool minor = s.key.minor();
  const int form = minor ? (rng.chance(0.5) ? 1 : 2) : (rng.chance(0.85) ? 0 : 2);

  // Chords along the track: choruses of the form, entered at a random eight-bar boundary.
  std::vector<ChordSpan> changes;
  for (int k = 0; k < 4; ++k)
    for (const auto& span : chorus_of(form, s.key.tonic, rng)) changes.push_back(span);
  double chorus_beats = 0.0;
  for (const auto& span : chorus_of(form, s.key.tonic, rng)) chorus_beats += span.beats;
  const int start_bar = rng.range(0, static_cast<int>(chorus_beats) / (4 * 8) - 1) * 8;
  std::vector<std::pair<double, Chord>> timeline;  // (start beat, chord), from beat 0 of the track
  {
    double at = -start_bar * 4.0;
    for (const auto& span : changes) {
      double beats = span.beats * bpb / 4.0;  // a waltz keeps the bar count
      if (at + beats > 0) timeline.push_back({std::max(at, 0.0), span.chord});
      at += beats;
      if (at > bars * bpb + 8) break;
    }
  }
  auto chord_at = [&](double beat) {
    std::size_t i = 0;
    while (i + 1 < timeline.size() && timeline[i + 1].first <= beat + 1e-9) ++i;
    return timeline[i].second;
  };
  // Head (the tune) for the first chorus of the excerpt, solos after, by bar.
  const int head_bars = static_cast<int>(chorus_beats / 4) - start_bar;
  auto in_head = [&](double beat) { return beat / bpb < head_bars && form != 2; };

  apply_effects(score, p, rng);
  set_up_band(score, p, s, rng, {40, 25, 45, 45, 45, 70, 45}, {0, 0, 10, 10, 10, 30, 10});
  Feel feel = s.feel;
  if (groove == kBossa) feel.swing = 0.5;
  if (groove == kUp) feel.swing = 0.5 + (feel.swing - 0.5) * 0.6;  // fast swing flattens

  // Drums.
  if (s.instrument[kDrums] >= 0) {
    Player drums(score, tempo, rng, kDrumChannel, feel);
    const bool brushes = s.instrument[kDrums] == gm(40, 128) || groove == kBallad;
    for (int bar = 0; bar < bars; ++bar) {
      const double b = bar * bpb;
      const int v = 70;
      if (groove == kBossa) {
        play_steps(drums, b, "x.xx.xx.", 0.5, drum::kHatClosed, v - 20);
        play_steps(drums, b, bar % 2 ? "..x..x.." : "x..x..x.", 0.5, drum::kRim, v - 5);
        play_steps(drums, b, "x..xx..x", 0.5, drum::kKick, v - 15);
        continue;
      }
      if (brushes) {  // brushes: a soft sweep of sixteenths on the snare, taps on two and four
        for (int j = 0; j < bpb * 4; ++j) drums.hit(b + j * 0.25, drum::kSnare, 22 + (j % 4 == 0 ? 8 : 0));
        play_steps(drums, b, bpb == 3 ? "..x.x." : "..X...X.", 0.5, drum::kSnare, v - 20);
        play_steps(drums, b, bpb == 3 ? "..x.x." : "..x...x.", 0.5, drum::kHatPedal, v - 30);
        continue;
      }
      // The ride: ding, ding-a, ding, ding-a.
      play_steps(drums, b, bpb == 3 ? "X.xxx." : "X.xxX.xx", 0.5, drum::kRide, v - 5);
      play_steps(drums, b, bpb == 3 ? "..x.x." : "..x...x.", 0.5, drum::kHatPedal, v - 22);
      if (rng.chance(0.6))
        play_steps(drums, b, bpb == 3 ? "x.x.x." : "x.x.x.x.", 0.5, drum::kKick, 30);  // feathering
      for (int j = 0; j < bpb * 2; ++j)                                                // snare comping
        if (rng.chance(0.12 + 0.2 * s.density))
          drums.hit(b + j * 0.5, drum::kSnare, rng.chance(0.3) ? v : 38);
      if (rng.chance(0.08)) drums.hit(b + bpb - 0.5, drum::kKick, v + 10);  // a bomb
      if ((bar + start_bar) % 8 == 7 && rng.chance(0.5))
        drum_fill(drums, b + bpb - 1.0, 1.0, v, FillKind::Triplets, rng);
    }
  }

  // Bass.
  if (s.instrument[kBass] >= 0) {
    Player bass(score, tempo, rng, kBassChannel, feel);
    int previous = s.key.tonic + 36;
    for (int beat = 0; beat < bars * bpb; ++beat) {
      const Chord c = chord_at(beat);
      const Chord next = chord_at(beat + 1);
      const bool downbeat = beat % bpb == 0;
      int key = previous;
      if (groove == kBossa) {  // root and fifth, with the anticipation
        if (beat % 2 == 0) {
          const int r = c.root_at_or_above(31);
          bass.note(beat, 1.5, r, 90, 0.9);
          bass.note(beat + 1.5, 0.5, r + 7 > 50 ? r - 5 : r + 7, 80, 0.9);
        }
        continue;
      }
      if (groove == kBallad ||
          (groove == kMedium && in_head(beat) && p.variant[kBassPattern] == 1)) {  // two-feel
        if (beat % 2 == 0)
          bass.note(beat, 2.0, beat % 4 == 0 ? c.root_at_or_above(31) : c.root_at_or_above(31) + 7, 88, 0.9);
        continue;
      }
      const bool change_next = next.root != c.root || (beat + 1) % bpb == 0;
      if (downbeat || c.root != chord_at(beat - 1).root) {
        key = c.root_at_or_above(31);
      } else if (change_next &&
                 rng.chance(0.75)) {  // approach the next root by a half step (or from its fifth)
        const int target = next.root_at_or_above(31);
        key = rng.chance(0.75) ? target + (rng.chance(0.5) ? 1 : -1) : target + 7;
      } else {  // chord tones and scale steps in between
        const int step =
            rng.chance(0.6) ? (rng.chance(0.6) ? 2 : 1) : rng.pick(std::vector<int>{3, 4, -3, -2});
        key = c.nearest_tone(previous + step);
        if (key == previous) key = previous + step;
      }
      while (key > 52) key -= 12;
      while (key < 28) key += 12;
      bass.note(beat, 1.0, key, downbeat ? 92 : 84, 0.92);
      if (rng.chance(0.05 + 0.08 * s.density))
        bass.note(beat + 2.0 / 3.0, 1.0 / 3.0, key + (rng.chance(0.5) ? 12 : -1), 70, 0.8);  // a skip
      previous = key;
    }
  }

  // Comping: rootless voicings, Charleston and anticipations (piano, vibes), or four to the bar (guitar).
  auto comp = [&](int channel, int instrument, int centre, double activity) {
    Player player(score, tempo, rng, channel, feel);
    const bool guitar = is_guitar(instrument);
    for (int bar = 0; bar < bars; ++bar) {
      const double b = bar * bpb;
      if (guitar && groove != kBallad && groove != kBossa && p.variant[kCompPattern] == 1) {  // Freddie Green
        for (int k = 0; k < bpb; ++k) {
          const Chord c = chord_at(b + k);
          const int r = c.root_at_or_above(43);
          const std::vector<int> shell{r, r + (c.has_class(c.root + 3) ? 3 : 4) + 12,
                                       r + (c.has_class(c.root + 11) ? 11 : 10)};
          player.chord(b + k, 1.0, shell, 62, 0.004, 0.5);
        }
        continue;
      }
      if (groove == kBallad || groove == kBossa) {
        const auto v = chord_at(b).voicing_near(centre, 4);
        player.chord(b, groove == kBossa ? 1.5 : bpb, v, 58, 0.0, 0.95);
        if (groove == kBossa) {
          player.chord(b + 1.5, 1.0, v, 52, 0.0, 0.6);
          player.chord(b + 3.0, 1.0, v, 54, 0.0, 0.6);
        }
        continue;
      }
      const double charleston[2] = {0.0, 1.5};
      const bool use_charleston = p.variant[kCompPattern] == 0 && rng.chance(0.6);
      for (int j = 0; j < bpb * 2; ++j) {
        const double at = b + j * 0.5;
        const bool hit = use_charleston ? (at - b == charleston[0] || at - b == charleston[1])
                                        : rng.chance(activity * (j % 2 ? 0.35 : 0.2));
        if (!hit) continue;
        const Chord c = chord_at(at + 0.5);  // off-beat hits anticipate the next chord
        player.chord(at, j % 2 ? 1.0 : 0.5, c.voicing_near(centre, 4), j % 2 ? 66 : 58, 0.0,
                     j % 2 ? 0.8 : 0.45);
      }
    }
  };
  if (s.instrument[kComp] >= 0) comp(kCompChannel, s.instrument[kComp], 62, 0.6 + 0.6 * s.density);
  if (s.instrument[kComp2] >= 0 && s.instrument[kComp2] != s.instrument[kComp])
    comp(kComp2Channel, s.instrument[kComp2], 67, 0.4);

  // Strings or a brass pad under a ballad.
  if (s.instrument[kPad] >= 0 && (groove == kBallad || rng.chance(0.3))) {
    Player pad(score, tempo, rng, kPadChannel, feel);
    std::vector<int> held;
    for (std::size_t i = 0; i < timeline.size(); ++i) {
      const double start = timeline[i].first;
      const double end = i + 1 < timeline.size() ? timeline[i + 1].first : bars * bpb;
      held = voice_lead(held, timeline[i].second, 4, 55, 76);
      pad.chord(start, end - start, held, 48, 0.0, 0.98);
    }
  }

  // The horn: the head's motif, then bebop lines (eighths: chord tones on the beats, passing and chromatic
  // notes between, phrases that start off the beat and end on a long note).
  if (s.instrument[kLead] >= 0) {
    const int lead = s.instrument[kLead];
    Player horn(score, tempo, rng, kLeadChannel, feel);
    const int program = lead % 128;
    const int low = program == 66 || program == 57 ? 48 : program == 64 ? 62 : 55;
    const int high = low + 24;
    const double shift = groove == kBallad ? 1.0 : 0.5;
    MelodyStyle head;
    head.scale = minor ? scales::kDorian : mode_intervals(Mode::Major);
    head.tonic = s.key.tonic;
    head.low = low + 4;
    head.high = high - 2;
    head.step = shift;
    head.density = 0.5;
    head.hold = 0.6;
    head.chord_pull = 0.8;
    head.motif_bars = 2;
    head.vary = 0.4;
    head.velocity = 80;
    const auto tune = compose_melody(head, 0.0, bars, bpb, chord_at, rng);
    std::vector<MelodyNote> notes;
    for (const auto& n : tune)
      if (in_head(n.beat)) notes.push_back(n);
    // Solos.
    int key = (low + high) / 2;
    double beat = std::max(0.0, static_cast<double>(head_bars * bpb));
    if (form == 2) beat = 0.0;
    while (beat < bars * bpb) {
      const int phrase = rng.range(4, 12) * 2;  // eighths
      if (rng.chance(0.5)) beat += 0.5;         // start off the beat
      for (int j = 0; j < phrase && beat < bars * bpb; ++j, beat += shift) {
        const Chord c = chord_at(beat);
        const bool on_beat = std::fmod(beat, 1.0) < 1e-9;
        int direction = key > high - 4 ? -1 : key < low + 4 ? 1 : (rng.chance(0.5) ? 1 : -1);
        if (on_beat)
          key = c.nearest_tone(key + direction * 2);
        else if (rng.chance(0.3))
          key = chord_at(beat + 0.5).nearest_tone(key + direction * 2) - direction;  // chromatic approach
        else
          key = s.key.snap(key + direction * 2) == key ? key + direction : s.key.snap(key + direction * 2);
        key = std::clamp(key, low, high);
        const bool last = j == phrase - 1;
        notes.push_back({beat, last ? 1.5 : shift, key, on_beat ? 78 : 88});  // upbeats accented
        if (!last && rng.chance(0.06)) {                                      // a triplet turn
          notes.push_back({beat + shift / 3, shift / 3, key + 1, 72});
          notes.push_back({beat + 2 * shift / 3, shift / 3, key - 1, 72});
        }
      }
      beat += rng.range(2, 6) * 0.5;  // breathe
    }
    for (const auto& n : notes) {
      horn.note(n.beat, n.length, n.key, n.velocity, n.length > 1.0 ? 0.95 : 0.8);
      if (n.length > 1.0) horn.vibrato(n.beat, n.length, 0.2, 5.0);
    }
    // A second horn doubles the head a sixth below.
    if (s.instrument[kColor] >= 0) {
      Player second(score, tempo, rng, kColorChannel, feel);
      for (const auto& n : tune)
        if (in_head(n.beat)) second.note(n.beat, n.length, s.key.snap(n.key - 9), n.velocity - 8, 0.9);
    }
  }

  record_grid(score, tempo, s.bpm, bpb);
  static constexpr const char* kGrooves[] = {"medium swing", "up-tempo", "ballad", "jazz waltz",
                                             "bossa nova"};
  static constexpr const char* kForms[] = {"AABA", "minor blues", "modal"};
  score.summary = std::string("jazz: ") + kGrooves[groove] + ", " + kForms[form] + ", " +
                  std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
