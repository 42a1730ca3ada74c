#include "synth/score.h"

#include <algorithm>
#include <cmath>

namespace tunelens::synth {
namespace {

std::int16_t clamp16(int value, int lo, int hi) {
  return static_cast<std::int16_t>(std::clamp(value, lo, hi));
}

}  // namespace

void Score::note(int channel, double time, double duration, int key, int velocity) {
  if (key < 0 || key > 127 || velocity <= 0) return;
  time = std::max(0.0, time);
  if (time >= seconds) return;
  notes_.push_back({time, std::max(0.01, duration), channel, key, std::min(velocity, 127)});
}

void Score::program(int channel, double time, int instrument) {
  events_.push_back({std::max(0.0, time), EventKind::Program, static_cast<std::uint8_t>(channel),
                     clamp16(instrument, 0, 128 * 128 + 127), 0});
}

void Score::control(int channel, double time, int controller, int value) {
  events_.push_back({std::max(0.0, time), EventKind::Control, static_cast<std::uint8_t>(channel),
                     clamp16(controller, 0, 127), clamp16(value, 0, 127)});
}

void Score::pitch_bend(int channel, double time, int value) {
  events_.push_back({std::max(0.0, time), EventKind::PitchBend, static_cast<std::uint8_t>(channel),
                     clamp16(value, 0, 16383), 0});
}

void Score::finish() {
  // Per channel and key, in time order: a note ends (at the latest) just before the next one starts.
  std::stable_sort(notes_.begin(), notes_.end(), [](const Note& a, const Note& b) {
    if (a.channel != b.channel) return a.channel < b.channel;
    if (a.key != b.key) return a.key < b.key;
    return a.time < b.time;
  });
  for (std::size_t i = 0; i < notes_.size(); ++i) {
    Note& note = notes_[i];
    if (i + 1 < notes_.size() && notes_[i + 1].channel == note.channel && notes_[i + 1].key == note.key) {
      const double gap = notes_[i + 1].time - note.time;
      note.duration = std::min(note.duration, std::max(0.005, gap - 0.004));
    }
    const auto channel = static_cast<std::uint8_t>(note.channel);
    const auto key = static_cast<std::int16_t>(note.key);
    events_.push_back({note.time, EventKind::NoteOn, channel, key, static_cast<std::int16_t>(note.velocity)});
    events_.push_back({note.time + note.duration, EventKind::NoteOff, channel, key, 0});
  }
  notes_.clear();
  std::stable_sort(events_.begin(), events_.end(), [](const MidiEvent& a, const MidiEvent& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.channel != b.channel) return a.channel < b.channel;
    return a.data1 < b.data1;
  });
}

std::size_t Score::note_count(int channel) const {
  std::size_t n = 0;
  for (const auto& event : events_)
    if (event.kind == EventKind::NoteOn && (channel < 0 || event.channel == channel)) ++n;
  return n;
}

}  // namespace tunelens::synth
