// A score: the MIDI-like events of one generated track, in seconds, plus the settings the renderer needs
// (effects, target loudness) and the beat grid it was composed on (for analysis and tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tunelens::synth {

// General MIDI: drums are on channel 10, index 9.
inline constexpr int kDrumChannel = 9;

// At equal times events apply in this order: set-up first, a note-off before a note-on.
enum class EventKind : std::uint8_t { Program = 0, Control = 1, PitchBend = 2, NoteOff = 3, NoteOn = 4 };

struct MidiEvent {
  double time = 0.0;  // seconds from the start of the track
  EventKind kind = EventKind::NoteOn;
  std::uint8_t channel = 0;
  std::int16_t data1 = 0;  // key, controller, program (bank * 128 + program) or bend (0..16383)
  std::int16_t data2 = 0;  // velocity or controller value
};

// The synthesizer's global effects for a track.
struct Effects {
  double reverb_room = 0.5;   // 0..1
  double reverb_damp = 0.3;   // 0..1
  double reverb_width = 0.8;  // 0..100
  double reverb_level = 0.6;  // 0..1
  int chorus_voices = 3;      // 0..99
  double chorus_level = 1.2;  // 0..10
  double chorus_speed = 0.3;  // Hz
  double chorus_depth = 6.0;  // ms
};

class Score {
 public:
  double seconds = 0.0;  // length of the track; events after it are not heard
  double bpm = 120.0;    // nominal tempo
  int beats_per_bar = 4;
  std::vector<double> beat_times;  // onset of every beat of the grid, seconds (rubato included)
  Effects effects;
  double loudness_db = -14.0;  // mastering target: RMS level of the mono mix, dBFS
  std::string summary;         // what was composed, in words (for logs and debugging)

  // Adds a note; times before 0 are moved to 0, and a note that starts after the end is dropped.
  void note(int channel, double time, double duration, int key, int velocity);
  // Program (instrument) change; `instrument` is bank * 128 + program (bank 128 is the drum kits).
  void program(int channel, double time, int instrument);
  void control(int channel, double time, int controller, int value);
  // Pitch bend, 0..16383 with 8192 the centre (±2 semitones by default).
  void pitch_bend(int channel, double time, int value);

  // Sorts the events for rendering and shortens notes that would overlap a later note of the same key on the
  // same channel (so its note-off cannot cut the later note). Call once, after composing.
  void finish();

  const std::vector<MidiEvent>& events() const { return events_; }
  // Note-ons, optionally only those of one channel (-1: all).
  std::size_t note_count(int channel = -1) const;

 private:
  struct Note {
    double time;
    double duration;
    int channel;
    int key;
    int velocity;
  };
  std::vector<Note> notes_;
  std::vector<MidiEvent> events_;
};

}  // namespace tunelens::synth
