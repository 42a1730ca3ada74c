// Streaming resampling with soxr (internal to src/audio): the decoder feeds it as frames arrive, so the signal at
// the file's own rate never has to be held whole.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

struct soxr;

namespace tunelens {

// SOXR_HQ over float32, as librosa.resample(res_type='soxr_hq') through python-soxr. Output is appended to a
// vector (which the caller may empty between calls); finish() flushes soxr and fixes the total length to
// ceil(n * to / from) frames as librosa does.
class Resampler {
 public:
  Resampler(int from_rate, int to_rate, int channels);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Resamples `frames` interleaved frames and appends what soxr emits to `out`.
  void push(const float* samples, std::size_t frames, std::vector<float>& out);
  // Flushes into `out`, then zero-pads or cuts it so that all the frames emitted number what librosa gives for
  // all the frames pushed.
  void finish(std::vector<float>& out);

 private:
  void process(const float* samples, std::size_t frames, std::vector<float>& out);

  std::unique_ptr<soxr, void (*)(soxr*)> soxr_;
  int from_rate_, to_rate_, channels_;
  std::size_t frames_in_ = 0;
  std::size_t frames_out_ = 0;
};

}  // namespace tunelens
