// Music theory for composing: keys and modes, chords with their qualities, voicings and voice leading.
// Pitches are MIDI keys (60 = middle C); pitch classes are 0..11 (0 = C).
#pragma once

#include <vector>

namespace tunelens::synth {

enum class Mode { Major, Minor, Dorian, Mixolydian, Phrygian, HarmonicMinor };

// Semitone offsets of the seven degrees of a mode from its tonic.
const std::vector<int>& mode_intervals(Mode mode);

// Named scales (offsets from the tonic) that are not modes.
namespace scales {
inline const std::vector<int> kMajorPentatonic{0, 2, 4, 7, 9};
inline const std::vector<int> kMinorPentatonic{0, 3, 5, 7, 10};
inline const std::vector<int> kBlues{0, 3, 5, 6, 7, 10};
inline const std::vector<int> kMajorBlues{0, 2, 3, 4, 7, 9};
inline const std::vector<int> kMixolydian{0, 2, 4, 5, 7, 9, 10};
inline const std::vector<int> kDorian{0, 2, 3, 5, 7, 9, 10};
}  // namespace scales

inline int pitch_class(int pitch) {
  return ((pitch % 12) + 12) % 12;
}

struct Key {
  int tonic = 0;  // pitch class
  Mode mode = Mode::Major;

  bool minor() const {
    return mode == Mode::Minor || mode == Mode::Dorian || mode == Mode::Phrygian ||
           mode == Mode::HarmonicMinor;
  }
  // Pitch class of a diatonic degree (0 = tonic; any integer).
  int degree_class(int degree) const;
  // MIDI pitch of a diatonic degree counted from the tonic at `tonic_pitch` (a pitch whose class is the
  // tonic).
  int degree_pitch(int degree, int tonic_pitch) const;
  // The tonic pitch in the octave at or just below `pitch`.
  int tonic_below(int pitch) const;
  // The nearest pitch of the key's scale (the lower one on a tie).
  int snap(int pitch) const;
};

enum class Quality {
  Major,
  Minor,
  Diminished,
  Augmented,
  Sus2,
  Sus4,
  Power,
  Dom7,
  Maj7,
  Min7,
  HalfDim7,
  Dim7,
  Six,
  Min6,
  Dom9,
  Maj9,
  Min9,
  Dom13,
  Min11,
  Add9,
  Dom7Flat9,
  Dom7Sharp9,
};

struct Chord {
  int root = 0;                // pitch class
  std::vector<int> intervals;  // semitones above the root, ascending, starting at 0 (extensions above 12)

  Chord() = default;
  Chord(int root_class, Quality quality);

  bool has_class(int pc) const;
  std::vector<int> classes() const;
  // The chord tones to play when only `count` notes are wanted: the third and seventh first, then extensions,
  // then the root and the fifth (so four-note voicings of ninth chords are rootless, as jazz pianists play
  // them).
  std::vector<int> essential_intervals(int count) const;
  // The root at or above `floor`.
  int root_at_or_above(int floor) const;
  // A close voicing of `count` notes whose middle sits as near `centre` as possible (any inversion).
  std::vector<int> voicing_near(int centre, int count) const;
  // Root, fifth and octave (with the third when `third`), the root at or above `floor`: a guitar's chord
  // shape.
  std::vector<int> guitar_shape(int floor, bool third = true, int strings = 5) const;
  // Chord tone nearest to `pitch`.
  int nearest_tone(int pitch) const;
};

// The triad (or seventh chord) built on a degree of the key from its own scale.
Chord diatonic_chord(const Key& key, int degree, bool seventh = false);

// The voicing of `chord` with `count` notes in [low, high] that moves least from `previous`
// (any voicing near the range's middle when `previous` is empty).
std::vector<int> voice_lead(const std::vector<int>& previous, const Chord& chord, int count, int low,
                            int high);

// Pitches in [low, high] whose offset from `tonic` (a pitch class) is in `scale`, ascending.
std::vector<int> scale_pitches(const std::vector<int>& scale, int tonic, int low, int high);

// Index of the pitch in `pitches` nearest to `pitch`.
std::size_t nearest_index(const std::vector<int>& pitches, int pitch);

}  // namespace tunelens::synth
