#include <soxr.h>

#include <cmath>
#include <memory>

#include "audio/audio.h"

namespace tunelens {

// librosa.resample(res_type='soxr_hq') calls python-soxr with quality HQ over float32 and then fixes the length to
// ceil(n * to / from); the same steps here, with the length computed in double precision exactly as librosa does.
std::vector<float> resample(std::span<const float> samples, int from_rate, int to_rate, int channels) {
  if (from_rate == to_rate) return {samples.begin(), samples.end()};
  if (from_rate <= 0 || to_rate <= 0 || channels <= 0) throw std::invalid_argument("resample: rates and channels must be positive");
  const std::size_t in_frames = samples.size() / static_cast<std::size_t>(channels);
  const double ratio = static_cast<double>(to_rate) / static_cast<double>(from_rate);
  const auto out_frames = static_cast<std::size_t>(std::ceil(static_cast<double>(in_frames) * ratio));

  soxr_error_t error = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  std::unique_ptr<soxr, decltype(&soxr_delete)> resampler(
      soxr_create(from_rate, to_rate, static_cast<unsigned>(channels), &error, &io, &quality, &runtime), &soxr_delete);
  if (!resampler || error) throw std::runtime_error(std::string("soxr: ") + (error ? error : "cannot create resampler"));

  // Room for soxr's own output length (about n * ratio) plus a margin; the result is then fixed to out_frames.
  const std::size_t capacity = out_frames + 64;
  std::vector<float> out(capacity * static_cast<std::size_t>(channels), 0.0f);
  std::size_t done = 0;
  std::size_t used = 0;
  error = soxr_process(resampler.get(), samples.data(), in_frames, &used, out.data(), capacity, &done);
  // Flush: input nullptr tells soxr the stream has ended, and it emits what it still holds.
  while (!error && done < capacity) {
    std::size_t more = 0;
    error = soxr_process(resampler.get(), nullptr, 0, nullptr, out.data() + done * channels, capacity - done, &more);
    if (more == 0) break;
    done += more;
  }
  if (error) throw std::runtime_error(std::string("soxr: ") + error);
  out.resize(out_frames * static_cast<std::size_t>(channels), 0.0f);  // zero-pads or cuts, as librosa.util.fix_length
  return out;
}

}  // namespace tunelens
