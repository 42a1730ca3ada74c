// Renders scores with FluidSynth and a General MIDI sound font (recordings of real instruments), offline: no
// audio driver; the renderer runs the synthesizer up to each event's sample, then applies the event.
// FluidSynth itself starts new events on its internal 64-frame blocks (2.9 ms at 22050 Hz), which is as fine
// as it goes.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "synth/score.h"

namespace tunelens::synth {

// The sound font cannot be used, or the synthesizer cannot be made. what() names the file and the reason.
class SynthError : public std::runtime_error {
 public:
  SynthError(const std::filesystem::path& path, const std::string& reason);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Where Debian's fluid-soundfont-gm puts FluidR3_GM.sf2.
std::filesystem::path default_sound_font();

// Renders scores to mono float samples. Not thread-safe: make one per thread. Each render starts from a
// freshly made synthesizer (FluidSynth's reset leaves effect tails and voice state behind), so a track's
// samples do not depend on what was rendered before; the font loads its samples lazily, only those of the
// presets a track uses.
class Renderer {
 public:
  // Loads the sound font. Throws SynthError naming the file if it is missing or not a SoundFont.
  Renderer(const std::filesystem::path& sound_font, int sample_rate);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  int sample_rate() const { return sample_rate_; }
  // round(score.seconds * sample_rate) mono samples: the mean of the synthesizer's two channels, mastered to
  // score.loudness_db RMS with a soft limiter above -1.5 dBFS.
  std::vector<float> render(const Score& score);

 private:
  struct Fluid;  // FluidSynth's settings, and a synthesizer that checked the font at construction
  std::filesystem::path sound_font_;
  int sample_rate_;
  std::unique_ptr<Fluid> fluid_;
};

}  // namespace tunelens::synth
