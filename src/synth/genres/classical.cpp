// Classical: an ensemble (string quartet, piano, chamber orchestra, winds, piano trio, baroque continuo) and
// no drum kit; functional harmony in four-bar phrases (tonic, predominant, dominant, with half and authentic
// cadences), a periodic melody ending on the tonic, rubato, and dynamics that swell and fade with each
// phrase.
#include <algorithm>
#include <cmath>

#include "synth/genres/genres.h"

namespace tunelens::synth {
namespace {

enum Ensemble { kQuartet = 0, kPiano = 1, kOrchestra = 2, kWinds = 3, kTrio = 4, kBaroque = 5 };
enum Texture { kArpeggio = 0, kChorale = 1, kContinuo = 2, kDance = 3 };

// Degrees (0 = I) of one phrase, in the order tonic -> predominant -> dominant -> tonic, ending on a half
// cadence (V) or an authentic one (V - I).
std::vector<int> phrase_degrees(int slots, bool authentic, bool minor, Rng& rng) {
  std::vector<int> d(static_cast<std::size_t>(slots), 0);
  auto function_of = [](int degree) {
    return degree == 3 || degree == 1 ? 1 : degree == 4 || degree == 6 ? 2 : 0;
  };
  for (int i = 1; i < slots; ++i) {
    const int prev = d[static_cast<std::size_t>(i - 1)];
    int next = 0;
    switch (function_of(prev)) {
      case 0:
        next = rng.pick(std::vector<int>{minor ? 5 : rng.pick(std::vector<int>{5, 2}), 3, 1, 3, 4});
        break;
      case 1:
        next = rng.pick(std::vector<int>{prev == 3 ? 1 : 3, 4, 4});
        break;
      default:
        next = rng.chance(0.8) ? 0 : 5;
        break;
    }
    if (next == prev) next = function_of(prev) == 2 ? 0 : 4;
    d[static_cast<std::size_t>(i)] = next;
  }
  if (authentic) {
    if (slots >= 3) d[static_cast<std::size_t>(slots - 3)] = rng.chance(0.5) ? 3 : 1;
    if (slots >= 2) d[static_cast<std::size_t>(slots - 2)] = 4;
    d[static_cast<std::size_t>(slots - 1)] = 0;
  } else {
    if (slots >= 2) d[static_cast<std::size_t>(slots - 2)] = rng.pick(std::vector<int>{3, 1, 0});
    d[static_cast<std::size_t>(slots - 1)] = 4;
  }
  d[0] = 0;
  if (minor)
    for (auto& x : d)
      if (x == 2) x = 5;  // no augmented mediant
  return d;
}

}  // namespace

Score compose_classical(const Persona& p, Rng& rng, double seconds) {
  Score score;
  score.seconds = seconds;
  const TrackSetup s = plan_track(p, rng, Mode::Major, Mode::HarmonicMinor, 0.08);
  const int ensemble = p.variant[kGroove];
  int texture = p.variant[kBassPattern];
  if (ensemble == kBaroque && rng.chance(0.7)) texture = kContinuo;
  const bool triple = p.variant[kCompPattern] == 1 ? rng.chance(0.75) : rng.chance(0.15);
  const int bpb = triple ? 3 : 4;
  const bool running = p.variant[kLeadStyle] == 1 || texture == kContinuo;
  const bool minor = s.key.minor();
  const double depth = 0.05 + 0.12 * rng.uniform() + (ensemble == kPiano ? 0.05 : 0.0);
  const TempoMap tempo = TempoMap::rubato(s.bpm, seconds, bpb * 4, depth, rng);
  const int bars = bars_covering(tempo, seconds, bpb);

  // Form: A A' B A, eight bars each (two phrases, antecedent and consequent).
  const std::vector<Section> form{{SectionKind::Verse, 8, 0.5},
                                  {SectionKind::Verse, 8, 0.65},
                                  {SectionKind::Bridge, 8, 0.8},
                                  {SectionKind::Verse, 8, 0.55}};
  const auto slots = lay_out(form, static_cast<std::size_t>(rng.range(0, 3)), bars, bpb);
  // Harmonic rhythm: a chord per bar, or two per bar in slow common time.
  const int per_bar = (!triple && s.bpm < 84 && rng.chance(0.6)) ? 2 : 1;
  std::vector<Chord> chords;  // one per harmonic slot
  for (int phrase = 0; phrase * 4 < bars; ++phrase) {
    const bool authentic = phrase % 2 == 1;
    for (const int degree : phrase_degrees(4 * per_bar, authentic, minor, rng)) {
      const bool seventh = degree == 4 && rng.chance(0.6);
      Chord c = diatonic_chord(s.key, degree, seventh);
      if (degree == 1 && !minor && rng.chance(0.15))
        c = Chord(s.key.degree_class(1), Quality::Dom7);  // V of V
      chords.push_back(c);
    }
  }
  const double slot_beats = static_cast<double>(bpb) / per_bar;
  auto chord_at = [&](double beat) {
    const auto i = static_cast<std::size_t>(
        std::clamp(static_cast<int>(beat / slot_beats), 0, static_cast<int>(chords.size()) - 1));
    return chords[i];
  };

  // The ensemble: which instrument plays the melody, the inner voices and the bass, and in which range.
  struct Voice {
    int channel;
    int instrument;
    int low, high;
  };
  auto persona_pick = [&](Role role, int fallback) {
    return p.instruments[role].empty() ? fallback
                                       : p.instruments[role][static_cast<std::size_t>(
                                             rng.range(0, static_cast<int>(p.instruments[role].size()) - 1))];
  };
  Voice melody{kLeadChannel, gm(40), 64, 91};
  std::vector<Voice> inner;
  Voice bass{kBassChannel, gm(42), 36, 55};
  int pad = -1, timpani = -1, harp = -1;
  switch (ensemble) {
    case kQuartet:
      inner = {{kComp2Channel, gm(40), 58, 77}, {kCompChannel, gm(41), 50, 70}};
      break;
    case kPiano: {
      const int piano = rng.chance(0.85) ? gm(0) : gm(1);
      melody = {kLeadChannel, piano, 62, 88};
      inner = {{kCompChannel, piano, 52, 69}};
      bass = {kBassChannel, piano, 31, 50};
      texture = texture == kContinuo ? kArpeggio : texture;
      break;
    }
    case kOrchestra:
      melody = {kLeadChannel, persona_pick(kLead, gm(73)), 64, 91};
      inner = {{kComp2Channel, gm(60), 53, 70}};
      bass = {kBassChannel, rng.chance(0.5) ? gm(43) : gm(42), 31, 52};
      pad = gm(48);
      timpani = rng.chance(0.6) ? gm(47) : -1;
      harp = rng.chance(0.4) ? gm(46) : -1;
      break;
    case kWinds:
      melody = {kLeadChannel, gm(73), 67, 93};
      inner = {
          {kComp2Channel, gm(68), 60, 79}, {kCompChannel, gm(71), 52, 72}, {kPadChannel, gm(60), 48, 65}};
      bass = {kBassChannel, gm(70), 34, 55};
      break;
    case kTrio:
      melody = {kLeadChannel, gm(40), 64, 91};
      inner = {{kCompChannel, gm(0), 52, 72}};
      bass = {kBassChannel, gm(42), 36, 55};
      break;
    default:  // baroque: continuo (harpsichord and cello) under a violin, oboe or flute
      melody = {kLeadChannel, persona_pick(kLead, gm(40)), 62, 88};
      inner = {{kCompChannel, gm(6), 53, 72}};
      bass = {kBassChannel, rng.chance(0.6) ? gm(42) : gm(43), 33, 52};
      pad = rng.chance(0.4) ? gm(48) : -1;
      break;
  }
  if (melody.instrument % 128 == 71) melody.low = 55;   // clarinet
  if (melody.instrument % 128 == 68) melody.high = 86;  // oboe

  apply_effects(score, p, rng);
  auto level = [&](Role role) { return std::clamp(p.level[role] + rng.range(-6, 6), 40, 120); };
  set_up_channel(score, melody.channel, melody.instrument, level(kLead), 70, 10);
  for (const auto& v : inner) set_up_channel(score, v.channel, v.instrument, level(kComp), 75, 10);
  set_up_channel(score, bass.channel, bass.instrument, level(kBass), 70, 0);
  if (pad >= 0) set_up_channel(score, kPadChannel, pad, level(kPad), 85, 20);
  if (timpani >= 0) set_up_channel(score, kColorChannel, timpani, 90, 70, 0);
  if (harp >= 0) set_up_channel(score, kExtraChannel, harp, 85, 80, 10);

  Feel feel = s.feel;
  feel.swing = 0.5;
  feel.velocity_sd = std::min(feel.velocity_sd, 5.0);

  // Dynamics: every phrase swells towards its climax and fades into its cadence (expression on sustaining
  // instruments, velocity everywhere); sections differ in level.
  const int phrase_beats = 4 * bpb;
  auto arc = [&](double beat) {
    const double x = std::fmod(std::max(beat, 0.0), phrase_beats) / phrase_beats;
    const double section =
        slots[static_cast<std::size_t>(std::clamp(static_cast<int>(beat / bpb), 0, bars - 1))].section.energy;
    return (0.55 + 0.45 * std::pow(std::sin(3.14159265 * std::min(1.0, x * 1.15)), 1.3)) *
           (0.7 + 0.5 * section);
  };
  auto shape_expression = [&](int channel) {
    Player expr(score, tempo, rng, channel, feel);
    for (double b = 0; b < bars * bpb; b += 0.5)
      expr.control(b, cc::kExpression, std::clamp(static_cast<int>(40 + 80 * arc(b) / 1.2), 30, 127));
  };
  const bool sustaining = ensemble != kPiano;
  if (sustaining) {
    shape_expression(melody.channel);
    for (const auto& v : inner)
      if (!is_keyboard(v.instrument)) shape_expression(v.channel);
    shape_expression(bass.channel);
    if (pad >= 0) shape_expression(kPadChannel);
  }

  // Melody.
  {
    Player player(score, tempo, rng, melody.channel, feel);
    MelodyStyle style;
    style.scale = mode_intervals(s.key.mode);
    style.tonic = s.key.tonic;
    style.low = melody.low;
    style.high = melody.high;
    style.step = running ? 0.25 : (s.bpm > 100 ? 0.5 : rng.pick(std::vector<double>{0.5, 1.0}));
    style.density = running ? 0.8 : 0.55 + 0.2 * s.density;
    style.hold = running ? 0.15 : 0.55;
    style.leap = 0.12;
    style.rest_bar = 0.0;
    style.motif_bars = rng.chance(0.6) ? 2 : 1;
    style.vary = 0.5;
    style.chord_pull = 0.85;
    style.end_on_tonic = true;
    style.velocity = 70;
    const auto notes = compose_melody(style, 0.0, bars, bpb, chord_at, rng);
    for (const auto& n : notes) {
      player.note(n.beat, n.length, n.key, static_cast<int>(n.velocity * arc(n.beat)), running ? 0.85 : 0.97);
      if (sustaining && n.length >= 1.0 && !is_keyboard(melody.instrument))
        player.vibrato(n.beat, n.length, 0.18, 5.5);
    }
  }

  // Inner voices.
  std::vector<std::vector<int>> held(inner.size());
  const int total_slots = bars * per_bar;
  for (int k = 0; k < total_slots; ++k) {
    const double b = k * slot_beats;
    const Chord& c = chords[static_cast<std::size_t>(std::min<int>(k, static_cast<int>(chords.size()) - 1))];
    const int v = static_cast<int>(62 * arc(b));
    for (std::size_t i = 0; i < inner.size(); ++i) {
      const Voice& voice = inner[i];
      Player player(score, tempo, rng, voice.channel, feel);
      const bool keyboard = is_keyboard(voice.instrument) || voice.instrument % 128 == 46;
      const int count = keyboard ? 3 : (inner.size() == 1 ? 2 : 1);
      held[i] = voice_lead(held[i], c, count + (count == 1 ? 1 : 0), voice.low, voice.high);
      std::vector<int> notes = held[i];
      if (count == 1) notes = {held[i][i % held[i].size()]};
      switch (texture) {
        case kArpeggio:
          if (keyboard) {  // Alberti figure: low, high, middle, high
            const double step = s.bpm < 90 ? 0.25 : 0.5;
            const int figure[4] = {0, 2, 1, 2};
            for (int j = 0; static_cast<double>(j) * step < slot_beats; ++j)
              player.note(b + j * step, step, notes[static_cast<std::size_t>(figure[j % 4]) % notes.size()],
                          v - (j % 4 ? 10 : 0), 1.4);
          } else {  // strings repeat their notes in eighths
            for (double t = 0; t < slot_beats; t += 0.5)
              player.chord(b + t, 0.5, notes, t == 0 ? v : v - 12, 0.0, 0.8);
          }
          break;
        case kChorale:
          player.chord(b, slot_beats, notes, v, 0.0, 0.97);
          break;
        case kContinuo:
          if (keyboard)
            for (double t = 0; t < slot_beats; t += 1.0)
              player.chord(b + t, 0.5, notes, v - (t > 0 ? 10 : 0), 0.012, 0.6);
          else
            player.chord(b, slot_beats, notes, v - 8, 0.0, 0.97);
          break;
        default:  // dance: chords after the downbeat
          for (double t = 1.0; t < slot_beats; t += (triple ? 1.0 : 2.0))
            player.chord(b + t, 0.8, notes, v - 6, 0.0, 0.7);
          break;
      }
    }
  }

  // Bass line.
  {
    Player player(score, tempo, rng, bass.channel, feel);
    for (int k = 0; k < total_slots; ++k) {
      const double b = k * slot_beats;
      const Chord& c =
          chords[static_cast<std::size_t>(std::min<int>(k, static_cast<int>(chords.size()) - 1))];
      const Chord& next =
          chords[static_cast<std::size_t>(std::min<int>(k + 1, static_cast<int>(chords.size()) - 1))];
      int root = c.root_at_or_above(bass.low);
      if (root > bass.low + 12) root -= 12;
      const int v = static_cast<int>(70 * arc(b));
      if (texture == kContinuo) {  // walking eighths toward the next root
        const int target = next.root_at_or_above(bass.low);
        const int steps = static_cast<int>(slot_beats * 2);
        for (int j = 0; j < steps; ++j) {
          const double x = static_cast<double>(j) / steps;
          const int key =
              j == 0 ? root : s.key.snap(static_cast<int>(std::lround(root + (target - root) * x)));
          player.note(b + j * 0.5, 0.5, std::clamp(key, bass.low, bass.high), v - (j % 2 ? 8 : 0), 0.85);
        }
      } else if (texture == kDance) {
        player.note(b, 1.0, root, v + 6, 0.8);
      } else if (ensemble == kPiano && texture == kArpeggio) {
        player.note(b, slot_beats, root, v, 0.98);
        if (rng.chance(0.3)) player.note(b, slot_beats, root + 12, v - 10, 0.98);
      } else {
        player.note(b, slot_beats, root, v, 0.98);
      }
    }
  }

  // Orchestra colours: a string pad, harp arpeggios, timpani rolls into the cadences.
  if (pad >= 0) {
    Player player(score, tempo, rng, kPadChannel, feel);
    std::vector<int> voicing;
    for (int k = 0; k < total_slots; ++k) {
      voicing = voice_lead(
          voicing, chords[static_cast<std::size_t>(std::min<int>(k, static_cast<int>(chords.size()) - 1))], 4,
          50, 74);
      player.chord(k * slot_beats, slot_beats, voicing, static_cast<int>(55 * arc(k * slot_beats)), 0.0,
                   0.99);
    }
  }
  if (harp >= 0) {
    Player player(score, tempo, rng, kExtraChannel, feel);
    for (int bar = 0; bar < bars; ++bar) {
      const auto voicing = chord_at(bar * bpb).voicing_near(60, 4);
      for (int j = 0; j < 4; ++j)
        player.note(bar * bpb + j * 0.25, bpb - j * 0.25, voicing[static_cast<std::size_t>(j)], 58, 0.99);
    }
  }
  if (timpani >= 0) {
    Player player(score, tempo, rng, kColorChannel, feel);
    for (int bar = 3; bar < bars; bar += 4) {
      const int root = chord_at(bar * bpb).root_at_or_above(41);
      for (int j = 0; j < bpb * 4; ++j) player.note(bar * bpb + j * 0.25, 0.25, root, 40 + j * 4, 1.0);
      player.note((bar + 1) * bpb, 1.0, chord_at((bar + 1) * bpb).root_at_or_above(41), 100, 1.0);
    }
  }

  record_grid(score, tempo, s.bpm, bpb);
  static constexpr const char* kEnsembles[] = {"string quartet", "piano",      "chamber orchestra",
                                               "wind ensemble",  "piano trio", "baroque"};
  score.summary = std::string("classical: ") + kEnsembles[ensemble] + (triple ? ", 3/4" : ", 4/4") +
                  (minor ? ", minor" : ", major") + ", " + std::to_string(static_cast<int>(s.bpm)) + " bpm";
  return score;
}

}  // namespace tunelens::synth
