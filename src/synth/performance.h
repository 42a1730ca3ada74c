// The tools the genre composers share: a tempo map (with rubato), a player that turns beats into humanised,
// swung MIDI events, drum step patterns and fills, song forms, a motif-based melody writer, and the per-track
// set-up (tempo, key, instruments, mix, effects) drawn from a persona.
#pragma once

#include <array>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "synth/persona.h"
#include "synth/random.h"
#include "synth/score.h"
#include "synth/theory.h"

namespace tunelens::synth {

// General MIDI percussion keys (channel 10).
namespace drum {
inline constexpr int kKick2 = 35, kKick = 36, kRim = 37, kSnare = 38, kClap = 39, kSnare2 = 40,
                     kTomFloor = 41, kHatClosed = 42, kTomLow = 43, kHatPedal = 44, kTomMid = 45,
                     kHatOpen = 46, kTomMidHigh = 47, kTomHigh = 48, kCrash = 49, kTomHigher = 50, kRide = 51,
                     kChina = 52, kRideBell = 53, kTambourine = 54, kSplash = 55, kCowbell = 56, kCrash2 = 57,
                     kRide2 = 59, kBongoHigh = 60, kBongoLow = 61, kCongaMute = 62, kCongaOpen = 63,
                     kCongaLow = 64, kCabasa = 69, kMaracas = 70, kClaves = 75, kScratchPush = 29,
                     kScratchPull = 30;
}  // namespace drum

// General MIDI controllers.
namespace cc {
inline constexpr int kModulation = 1, kVolume = 7, kPan = 10, kExpression = 11, kReverb = 91, kChorus = 93;
}

// Where each role plays (drums on channel 10).
inline constexpr int kBassChannel = 0, kCompChannel = 1, kComp2Channel = 2, kLeadChannel = 3, kPadChannel = 4,
                     kColorChannel = 5, kExtraChannel = 6, kExtra2Channel = 7, kExtra3Channel = 8;

// Beat positions to seconds; a beat is a quarter note.
class TempoMap {
 public:
  // A steady tempo covering at least `seconds`.
  static TempoMap steady(double bpm, double seconds);
  // Rubato: each phrase of `phrase_beats` pushes ahead a little and broadens towards its end (by `depth`,
  // e.g. 0.15), with a little random breathing.
  static TempoMap rubato(double bpm, double seconds, int phrase_beats, double depth, Rng& rng);
  // A band's drift: the tempo wanders by about `drift` (e.g. 0.01) around bpm.
  static TempoMap live(double bpm, double seconds, double drift, Rng& rng);

  double time(double beat) const;
  int beats() const { return static_cast<int>(starts_.size()) - 1; }
  const std::vector<double>& beat_starts() const { return starts_; }

 private:
  std::vector<double> starts_;  // onset of beat k; one more than the beats, so every beat has an end
};

// How a player places notes: swing, timing and velocity spread, and a push or lay-back.
struct Feel {
  double swing = 0.5;  // share of each pair of subdivisions taken by the first: 0.5 straight, 0.67 triplets
  double swing_unit = 0.5;   // the subdivision that swings, in beats: 0.5 eighths, 0.25 sixteenths
  double timing_sd = 0.004;  // seconds
  double velocity_sd = 5.0;
  double offset = 0.0;  // seconds; > 0 plays behind the beat
};

// One instrument's part: beats in, events out.
class Player {
 public:
  Player(Score& score, const TempoMap& tempo, Rng& rng, int channel, Feel feel = {});

  // Seconds of a beat position after swing and offset (no random spread).
  double time(double beat) const;
  void note(double beat, double length, int key, int velocity, double legato = 0.92);
  // Several keys at once; `strum` seconds between successive keys (negative: from the top down).
  void chord(double beat, double length, std::span<const int> keys, int velocity, double strum = 0.0,
             double legato = 0.92);
  // A percussive hit (short note).
  void hit(double beat, int key, int velocity);
  void control(double beat, int controller, int value);
  // The pitch wheel: semitones (±2 is the default range) at a beat.
  void bend(double beat, double semitones);
  // Starts `semitones` flat and slides up to the note's pitch over `seconds` (guitar bends, harmonica,
  // steel).
  void bend_into(double beat, double semitones, double seconds);
  // A vibrato of `depth` semitones over a held note from `beat` for `length` beats.
  void vibrato(double beat, double length, double depth, double rate_hz);

  Feel feel;
  int channel() const { return channel_; }

 private:
  double jitter();
  int humanise(int velocity);

  Score& score_;
  const TempoMap& tempo_;
  Rng& rng_;
  int channel_;
};

// A drum step pattern, one character per step of `step` beats from `beat`: '.' rest, 'x' hit, 'X' accent,
// 'g' ghost; any other letter counts as 'x'.
void play_steps(Player& player, double beat, std::string_view steps, double step, int key, int velocity);

// A strummed guitar pattern, one character per step of `step` beats from `beat`: 'D' a down-strum of every
// string of `shape` (low to high), 'U' an up-strum of the top strings (high to low, softer), 'd' and 'u' the
// same muted (short), '.' nothing.
void strum(Player& guitar, double beat, std::string_view pattern, double step, std::span<const int> shape,
           int velocity);

// A drum fill over `beats` beats from `beat` ending on the next downbeat: toms running down, or a snare roll.
enum class FillKind { Toms, SnareRoll, Triplets, Sparse };
void drum_fill(Player& drums, double beat, double beats, int velocity, FillKind kind, Rng& rng);

// Song forms. A track is an excerpt of a song: it may start on any section.
enum class SectionKind { Intro, Verse, PreChorus, Chorus, Bridge, Solo, Breakdown, Outro };

struct Section {
  SectionKind kind = SectionKind::Verse;
  int bars = 8;
  double energy = 0.5;  // 0 quiet .. 1 full band
};

struct BarSlot {
  int index = 0;      // bar of the track
  double beat = 0.0;  // first beat
  Section section;
  int section_index = 0;  // which section of the form (counting repeats)
  int in_section = 0;     // bar within the section
  bool first() const { return in_section == 0; }
  bool last() const { return in_section == section.bars - 1; }
};

// The bars of a track of `bars` bars, following `form` from section `start` (the form repeats if needed).
std::vector<BarSlot> lay_out(const std::vector<Section>& form, std::size_t start, int bars,
                             int beats_per_bar);

// A melody note in beats.
struct MelodyNote {
  double beat = 0.0;
  double length = 0.5;
  int key = 60;
  int velocity = 90;
};

struct MelodyStyle {
  std::vector<int> scale = scales::kMajorPentatonic;  // offsets from the tonic
  int tonic = 0;                                      // pitch class
  int low = 60, high = 84;                            // range
  double step = 0.5;                                  // rhythmic slot, beats
  double density = 0.55;                              // chance a slot starts a note
  double hold = 0.3;                                  // chance a note is held over the next slot
  double leap = 0.15;                                 // chance of a leap instead of a step
  double rest_bar = 0.15;     // chance a bar is left silent (breathing), never the first of a phrase
  int motif_bars = 2;         // rhythm and contour repeat with this period
  double vary = 0.35;         // chance a repeat of the motif is changed in its second half
  double chord_pull = 0.75;   // chance a note on a beat moves to a chord tone
  bool end_on_tonic = false;  // the last note of every 4-bar phrase lands on the tonic
  int velocity = 88;
};

// A melody of `bars` bars from `beat`; chord_at(beat) is the harmony at a beat.
std::vector<MelodyNote> compose_melody(const MelodyStyle& style, double beat, int bars, int beats_per_bar,
                                       const std::function<Chord(double)>& chord_at, Rng& rng);

// The per-track set-up shared by the genres.
struct TrackSetup {
  double bpm = 120.0;
  Key key;
  std::array<int, kRoleCount> instrument{};  // -1: the role sits this track out
  double density = 0.5;
  Feel feel;  // the band's basic feel (swing, humanisation)
};

// Draws tempo (around the persona's centre), key (a favourite, now and then another of the palette's; minor
// as often as the persona likes, in `minor_mode`), which roles play and on which of the persona's
// instruments.
TrackSetup plan_track(const Persona& persona, Rng& rng, Mode major_mode = Mode::Major,
                      Mode minor_mode = Mode::Minor, double tempo_spread = 0.05);

// Program, volume, reverb and chorus sends of one channel at time 0.
void set_up_channel(Score& score, int channel, int instrument, int volume, int reverb_send, int chorus_send);
// The same for every playing role on its usual channel, with the persona's mix and a little variation.
void set_up_band(Score& score, const Persona& persona, const TrackSetup& setup, Rng& rng,
                 const std::array<int, kRoleCount>& reverb_sends,
                 const std::array<int, kRoleCount>& chorus_sends);
int role_channel(Role role);
// Global effects and mastering level from the persona, with a little variation per track.
void apply_effects(Score& score, const Persona& persona, Rng& rng);
// The beat grid of the score from its tempo map, up to its length.
void record_grid(Score& score, const TempoMap& tempo, double bpm, int beats_per_bar);
// Number of bars of `beats_per_bar` beats that cover `seconds` at the tempo map (plus one for safety).
int bars_covering(const TempoMap& tempo, double seconds, int beats_per_bar);

}  // namespace tunelens::synth
