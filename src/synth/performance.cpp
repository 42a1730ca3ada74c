#include "synth/performance.h"

#include <algorithm>
#include <cmath>

namespace tunelens::synth {
namespace {

constexpr double kTau = 6.283185307179586;

int bend_value(double semitones) {
  return std::clamp(8192 + static_cast<int>(std::lround(semitones / 2.0 * 8191.0)), 0, 16383);
}

}  // namespace

// --- TempoMap
// -------------------------------------------------------------------------------------------------

TempoMap TempoMap::steady(double bpm, double seconds) {
  TempoMap map;
  const int beats = static_cast<int>(std::ceil(seconds * bpm / 60.0)) + 16;
  for (int k = 0; k <= beats; ++k) map.starts_.push_back(k * 60.0 / bpm);
  return map;
}

TempoMap TempoMap::rubato(double bpm, double seconds, int phrase_beats, double depth, Rng& rng) {
  TempoMap map;
  map.starts_.push_back(0.0);
  double phrase_factor = 1.0;
  for (int k = 0; map.starts_.back() < seconds + 8.0; ++k) {
    const int in_phrase = k % std::max(phrase_beats, 1);
    if (in_phrase == 0) phrase_factor = 1.0 + rng.normal(0.0, depth * 0.25);
    const double x = static_cast<double>(in_phrase) / std::max(phrase_beats, 1);
    // A little ahead early in the phrase, broadening (ritardando) into its end, and breathing throughout.
    double factor =
        phrase_factor * (1.0 - 0.3 * depth + 1.8 * depth * std::pow(x, 4.0)) + rng.normal(0.0, depth * 0.08);
    factor = std::clamp(factor, 0.75, 1.7);
    map.starts_.push_back(map.starts_.back() + factor * 60.0 / bpm);
  }
  return map;
}

TempoMap TempoMap::live(double bpm, double seconds, double drift, Rng& rng) {
  TempoMap map;
  map.starts_.push_back(0.0);
  double factor = 1.0;
  while (map.starts_.back() < seconds + 8.0) {
    factor = 1.0 + 0.92 * (factor - 1.0) + rng.normal(0.0, drift * 0.4);
    map.starts_.push_back(map.starts_.back() + factor * 60.0 / bpm);
  }
  return map;
}

double TempoMap::time(double beat) const {
  const int last = beats();
  if (beat <= 0.0) return starts_[0] + beat * (starts_[1] - starts_[0]);
  const int k = static_cast<int>(std::floor(beat));
  if (k >= last)
    return starts_[static_cast<std::size_t>(last)] +
           (beat - last) *
               (starts_[static_cast<std::size_t>(last)] - starts_[static_cast<std::size_t>(last - 1)]);
  const double f = beat - k;
  return starts_[static_cast<std::size_t>(k)] +
         f * (starts_[static_cast<std::size_t>(k + 1)] - starts_[static_cast<std::size_t>(k)]);
}

// --- Player
// ---------------------------------------------------------------------------------------------------

Player::Player(Score& score, const TempoMap& tempo, Rng& rng, int channel, Feel feel)
    : feel(feel), score_(score), tempo_(tempo), rng_(rng), channel_(channel) {}

double Player::time(double beat) const {
  double b = beat;
  if (feel.swing != 0.5 && feel.swing_unit > 0.0) {
    const double pair = 2.0 * feel.swing_unit;
    const double cell = std::floor(b / pair + 1e-9);
    const double f = (b - cell * pair) / pair;
    const double swung = f < 0.5 ? f * feel.swing / 0.5 : feel.swing + (f - 0.5) * (1.0 - feel.swing) / 0.5;
    b = (cell + swung) * pair;
  }
  return tempo_.time(b) + feel.offset;
}

double Player::jitter() {
  return feel.timing_sd > 0.0
             ? std::clamp(rng_.normal(0.0, feel.timing_sd), -3 * feel.timing_sd, 3 * feel.timing_sd)
             : 0.0;
}

int Player::humanise(int velocity) {
  const double v = velocity + (feel.velocity_sd > 0.0 ? rng_.normal(0.0, feel.velocity_sd) : 0.0);
  return std::clamp(static_cast<int>(std::lround(v)), 1, 127);
}

void Player::note(double beat, double length, int key, int velocity, double legato) {
  const double start = time(beat);
  const double duration = std::max(0.03, (time(beat + length) - start) * legato);
  score_.note(channel_, start + jitter(), duration, key, humanise(velocity));
}

void Player::chord(double beat, double length, std::span<const int> keys, int velocity, double strum,
                   double legato) {
  const double start = time(beat) + jitter();
  const double duration = std::max(0.03, (time(beat + length) - time(beat)) * legato);
  const std::size_t n = keys.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t order = strum >= 0 ? i : n - 1 - i;
    const double offset = std::abs(strum) * static_cast<double>(order);
    score_.note(channel_, start + offset, std::max(0.03, duration - offset), keys[i], humanise(velocity));
  }
}

void Player::hit(double beat, int key, int velocity) {
  score_.note(channel_, time(beat) + jitter(), 0.12, key, humanise(velocity));
}

void Player::control(double beat, int controller, int value) {
  score_.control(channel_, time(beat), controller, value);
}

void Player::bend(double beat, double semitones) {
  score_.pitch_bend(channel_, time(beat), bend_value(semitones));
}

void Player::bend_into(double beat, double semitones, double seconds) {
  const double start = time(beat);
  score_.pitch_bend(channel_, start - 3.0 * feel.timing_sd - 0.004, bend_value(-semitones));
  const int steps = std::max(2, static_cast<int>(seconds / 0.012));
  for (int i = 1; i <= steps; ++i) {
    const double x = static_cast<double>(i) / steps;
    const double eased = 1.0 - (1.0 - x) * (1.0 - x);
    score_.pitch_bend(channel_, start + 0.02 + x * seconds, bend_value(-semitones * (1.0 - eased)));
  }
}

void Player::vibrato(double beat, double length, double depth, double rate_hz) {
  const double start = time(beat) + 0.12;
  const double end = time(beat + length);
  for (double t = start; t < end; t += 0.015) {
    const double ramp = std::min(1.0, (t - start) / 0.25);
    score_.pitch_bend(channel_, t, bend_value(depth * ramp * std::sin(kTau * rate_hz * (t - start))));
  }
  score_.pitch_bend(channel_, end, 8192);
}

// --- drums
// ----------------------------------------------------------------------------------------------------

void play_steps(Player& player, double beat, std::string_view steps, double step, int key, int velocity) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const char c = steps[i];
    if (c == '.' || c == ' ' || c == '|') continue;
    const double scale = c == 'X' ? 1.2 : c == 'g' ? 0.42 : 1.0;
    player.hit(beat + static_cast<double>(i) * step, key, static_cast<int>(velocity * scale));
  }
}

void strum(Player& guitar, double beat, std::string_view pattern, double step, std::span<const int> shape,
           int velocity) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != 'D' && c != 'U' && c != 'd' && c != 'u') continue;
    // A note rings until the next strum.
    std::size_t next = i + 1;
    while (next < pattern.size() && pattern[next] == '.') ++next;
    const double length = static_cast<double>(next - i) * step;
    const bool down = c == 'D' || c == 'd';
    const bool muted = c == 'd' || c == 'u';
    const std::span<const int> strings = down || shape.size() <= 3 ? shape : shape.subspan(shape.size() - 3);
    guitar.chord(beat + static_cast<double>(i) * step, length, strings, down ? velocity : velocity - 14,
                 down ? 0.009 : -0.007, muted ? 0.25 : 0.95);
  }
}

void drum_fill(Player& drums, double beat, double beats, int velocity, FillKind kind, Rng& rng) {
  static constexpr int kToms[] = {drum::kTomHigher, drum::kTomHigh, drum::kTomMidHigh,
                                  drum::kTomMid,    drum::kTomLow,  drum::kTomFloor};
  switch (kind) {
    case FillKind::Toms: {
      const int steps = static_cast<int>(beats * 4);
      for (int i = 0; i < steps; ++i) {
        const double x = static_cast<double>(i) / std::max(steps - 1, 1);
        const int tom = kToms[std::min(5, static_cast<int>(x * 6.0))];
        const int key = (i % 4 == 0 && rng.chance(0.3)) ? drum::kSnare : tom;
        if (rng.chance(0.12) && i > 0) continue;
        drums.hit(beat + i * 0.25, key, static_cast<int>(velocity * (0.75 + 0.3 * x)));
      }
      break;
    }
    case FillKind::SnareRoll: {
      const int steps = static_cast<int>(beats * 4);
      for (int i = 0; i < steps; ++i) {
        const double x = static_cast<double>(i) / std::max(steps - 1, 1);
        drums.hit(beat + i * 0.25, drum::kSnare, static_cast<int>(velocity * (0.45 + 0.6 * x)));
      }
      break;
    }
    case FillKind::Triplets: {
      const int steps = static_cast<int>(beats * 3);
      for (int i = 0; i < steps; ++i) {
        const double x = static_cast<double>(i) / std::max(steps - 1, 1);
        const int key = i % 3 == 0 ? drum::kSnare : kToms[std::min(5, static_cast<int>(x * 6.0))];
        drums.hit(beat + i / 3.0, key, static_cast<int>(velocity * (0.7 + 0.35 * x)));
      }
      break;
    }
    case FillKind::Sparse: {
      drums.hit(beat + beats - 1.0, drum::kSnare, velocity);
      drums.hit(beat + beats - 0.5, drum::kSnare, static_cast<int>(velocity * 1.1));
      drums.hit(beat + beats - 0.5, drum::kTomFloor, velocity);
      break;
    }
  }
}

// --- form
// -----------------------------------------------------------------------------------------------------

std::vector<BarSlot> lay_out(const std::vector<Section>& form, std::size_t start, int bars,
                             int beats_per_bar) {
  std::vector<BarSlot> out;
  if (form.empty()) return out;
  std::size_t section = start % form.size();
  int section_index = 0, in_section = 0;
  for (int bar = 0; bar < bars; ++bar) {
    BarSlot slot;
    slot.index = bar;
    slot.beat = static_cast<double>(bar * beats_per_bar);
    slot.section = form[section];
    slot.section_index = section_index;
    slot.in_section = in_section;
    out.push_back(slot);
    if (++in_section >= form[section].bars) {
      in_section = 0;
      ++section_index;
      section = (section + 1) % form.size();
    }
  }
  return out;
}

// --- melody
// ---------------------------------------------------------------------------------------------------

std::vector<MelodyNote> compose_melody(const MelodyStyle& style, double beat, int bars, int beats_per_bar,
                                       const std::function<Chord(double)>& chord_at, Rng& rng) {
  std::vector<MelodyNote> out;
  const std::vector<int> pitches = scale_pitches(style.scale, style.tonic, style.low, style.high);
  if (pitches.size() < 3 || bars <= 0) return out;
  const int slots_per_bar = std::max(1, static_cast<int>(std::lround(beats_per_bar / style.step)));
  const int motif_slots = slots_per_bar * std::max(1, style.motif_bars);

  // The motif: which slots start notes, how long they last, and the contour (steps through the scale).
  struct Cell {
    int slot;
    int length;
    int move;
  };
  auto make_cells = [&](int from_slot, int to_slot) {
    std::vector<Cell> cells;
    for (int s = from_slot; s < to_slot; ++s) {
      const double position = s * style.step;
      const bool strong = std::abs(position - std::round(position)) < 1e-9;
      const double p = s == 0 ? 1.0 : style.density * (strong ? 1.2 : 0.8);
      if (!rng.chance(p)) continue;
      int move = rng.chance(0.5) ? 1 : -1;
      if (rng.chance(style.leap))
        move *= rng.range(2, 4);
      else if (rng.chance(0.2))
        move = 0;
      cells.push_back({s, 1, move});
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const int next = i + 1 < cells.size() ? cells[i + 1].slot : to_slot;
      cells[i].length =
          rng.chance(style.hold) ? next - cells[i].slot : std::min(next - cells[i].slot, rng.range(1, 2));
    }
    return cells;
  };
  std::vector<Cell> motif = make_cells(0, motif_slots);

  std::vector<bool> resting(static_cast<std::size_t>(bars), false);
  for (int b = 0; b < bars; ++b)
    resting[static_cast<std::size_t>(b)] = (b % 4 != 0) && rng.chance(style.rest_bar);

  std::size_t index = nearest_index(pitches, (style.low + style.high) / 2 - 2);
  const int repeats = (bars * slots_per_bar + motif_slots - 1) / motif_slots;
  for (int r = 0; r < repeats; ++r) {
    std::vector<Cell> cells = motif;
    if (r > 0 && rng.chance(style.vary)) {  // a varied second half
      std::vector<Cell> kept;
      for (const Cell& c : cells)
        if (c.slot < motif_slots / 2) kept.push_back(c);
      for (const Cell& c : make_cells(motif_slots / 2, motif_slots)) kept.push_back(c);
      cells = kept;
    }
    for (const Cell& c : cells) {
      const int slot = r * motif_slots + c.slot;
      const int bar = slot / slots_per_bar;
      if (bar >= bars) break;
      if (resting[static_cast<std::size_t>(bar)]) continue;
      int next = static_cast<int>(index) + c.move;
      if (next < 0 || next >= static_cast<int>(pitches.size())) next = static_cast<int>(index) - c.move;
      index = static_cast<std::size_t>(std::clamp(next, 0, static_cast<int>(pitches.size()) - 1));
      const double at = beat + slot * style.step;
      int key = pitches[index];
      const double position = slot * style.step;
      const bool strong = std::abs(position - std::round(position)) < 1e-9;
      if (strong && rng.chance(style.chord_pull)) {
        key = chord_at(at).nearest_tone(key);
        if (key < style.low || key > style.high) key = pitches[index];
        index = nearest_index(pitches, key);
      }
      const int velocity = style.velocity + (key - (style.low + style.high) / 2) / 2 + (strong ? 6 : 0);
      out.push_back({at, c.length * style.step, key, velocity});
    }
  }
  // Phrase ends: the last note of every 4-bar phrase is held to the end of its bar (on the tonic if asked).
  for (int phrase = 0; phrase * 4 < bars; ++phrase) {
    const double end = beat + std::min(bars, (phrase + 1) * 4) * beats_per_bar;
    MelodyNote* last = nullptr;
    for (auto& n : out)
      if (n.beat < end && n.beat >= beat + phrase * 4 * beats_per_bar) last = &n;
    if (!last) continue;
    const double bar_end = beat + (std::floor((last->beat - beat) / beats_per_bar) + 1) * beats_per_bar;
    last->length = std::max(last->length, (bar_end - last->beat) * 0.9);
    if (style.end_on_tonic) {
      int best = last->key;
      for (int d = 0; d <= 6; ++d) {
        if (pitch_class(last->key - d - style.tonic) == 0 && last->key - d >= style.low) {
          best = last->key - d;
          break;
        }
        if (pitch_class(last->key + d - style.tonic) == 0 && last->key + d <= style.high) {
          best = last->key + d;
          break;
        }
      }
      last->key = best;
    }
  }
  return out;
}

// --- set-up
// ---------------------------------------------------------------------------------------------------

TrackSetup plan_track(const Persona& persona, Rng& rng, Mode major_mode, Mode minor_mode,
                      double tempo_spread) {
  const Palette& pal = palette(persona.genre);
  TrackSetup s;
  s.bpm = persona.tempo *
          std::exp(std::clamp(rng.normal(0.0, tempo_spread), -2.5 * tempo_spread, 2.5 * tempo_spread));
  s.key.tonic = (rng.chance(0.85) && !persona.keys.empty()) ? rng.pick(persona.keys) : rng.pick(pal.keys);
  s.key.mode = rng.chance(persona.minor_share) ? minor_mode : major_mode;
  for (int r = 0; r < kRoleCount; ++r) {
    const auto role = static_cast<std::size_t>(r);
    const auto& mine = persona.instruments[role];
    s.instrument[role] = (!mine.empty() && rng.chance(persona.role_share[role])) ? rng.pick(mine) : -1;
  }
  s.density = std::clamp(persona.density + rng.normal(0.0, 0.1), 0.05, 1.0);
  s.feel.swing = std::clamp(persona.swing + rng.normal(0.0, 0.006), 0.5, 0.72);
  s.feel.timing_sd = persona.humanize_ms / 1000.0;
  s.feel.velocity_sd = persona.velocity_spread;
  return s;
}

int role_channel(Role role) {
  switch (role) {
    case kDrums:
      return kDrumChannel;
    case kBass:
      return kBassChannel;
    case kComp:
      return kCompChannel;
    case kComp2:
      return kComp2Channel;
    case kLead:
      return kLeadChannel;
    case kPad:
      return kPadChannel;
    case kColor:
      return kColorChannel;
    case kRoleCount:
      break;
  }
  return kExtraChannel;
}

void set_up_channel(Score& score, int channel, int instrument, int volume, int reverb_send, int chorus_send) {
  score.program(channel, 0.0, instrument);
  score.control(channel, 0.0, cc::kVolume, volume);
  score.control(channel, 0.0, cc::kExpression, 127);
  score.control(channel, 0.0, cc::kReverb, reverb_send);
  score.control(channel, 0.0, cc::kChorus, chorus_send);
}

void set_up_band(Score& score, const Persona& persona, const TrackSetup& setup, Rng& rng,
                 const std::array<int, kRoleCount>& reverb_sends,
                 const std::array<int, kRoleCount>& chorus_sends) {
  for (int r = 0; r < kRoleCount; ++r) {
    const auto role = static_cast<std::size_t>(r);
    if (setup.instrument[role] < 0) continue;
    set_up_channel(score, role_channel(static_cast<Role>(r)), setup.instrument[role],
                   std::clamp(persona.level[role] + rng.range(-6, 6), 20, 127),
                   std::clamp(reverb_sends[role] + rng.range(-10, 10), 0, 127),
                   std::clamp(chorus_sends[role] + rng.range(-10, 10), 0, 127));
  }
}

void apply_effects(Score& score, const Persona& persona, Rng& rng) {
  Effects& fx = score.effects;
  fx.reverb_level = std::clamp(persona.reverb + rng.normal(0.0, 0.03), 0.0, 1.0);
  fx.reverb_room = std::clamp(persona.room + rng.normal(0.0, 0.03), 0.0, 1.0);
  fx.reverb_damp = rng.uniform(0.15, 0.5);
  fx.reverb_width = rng.uniform(0.5, 1.0);
  fx.chorus_level = std::max(0.0, persona.chorus + rng.normal(0.0, 0.1));
  fx.chorus_depth = rng.uniform(4.0, 8.0);
  fx.chorus_speed = rng.uniform(0.2, 0.5);
  fx.chorus_voices = 3;
  score.loudness_db = persona.loudness + rng.normal(0.0, 0.5);
}

void record_grid(Score& score, const TempoMap& tempo, double bpm, int beats_per_bar) {
  score.bpm = bpm;
  score.beats_per_bar = beats_per_bar;
  score.beat_times.clear();
  for (const double t : tempo.beat_starts())
    if (t < score.seconds) score.beat_times.push_back(t);
}

int bars_covering(const TempoMap& tempo, double seconds, int beats_per_bar) {
  int bars = 1;
  while (tempo.time(static_cast<double>(bars * beats_per_bar)) < seconds) ++bars;
  return bars + 1;
}

}  // namespace tunelens::synth
