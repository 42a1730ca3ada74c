#include <soxr.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "audio/audio.h"
#include "audio/resampler.h"

namespace tunelens {
namespace {

soxr* create_soxr(int from_rate, int to_rate, int channels) {
  if (from_rate <= 0 || to_rate <= 0 || channels <= 0)
    throw std::invalid_argument("resample: rates and channels must be positive");
  soxr_error_t error = nullptr;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  soxr* resampler = soxr_create(from_rate, to_rate, static_cast<unsigned>(channels), &error, &io, &quality, &runtime);
  if (!resampler || error) throw std::runtime_error(std::string("soxr: ") + (error ? error : "cannot create resampler"));
  return resampler;
}

}  // namespace

Resampler::Resampler(int from_rate, int to_rate, int channels)
    : soxr_(create_soxr(from_rate, to_rate, channels), soxr_delete),
      from_rate_(from_rate), to_rate_(to_rate), channels_(channels) {}

Resampler::~Resampler() = default;

// soxr emits about frames * ratio per call; the output grows in place by what it writes.
void Resampler::process(const float* samples, std::size_t frames, std::vector<float>& out) {
  const std::size_t width = static_cast<std::size_t>(channels_);
  const double ratio = static_cast<double>(to_rate_) / from_rate_;
  std::size_t consumed = 0;
  do {
    const std::size_t room = static_cast<std::size_t>(static_cast<double>(frames - consumed) * ratio) + 256;
    const std::size_t old_size = out.size();
    out.resize(old_size + room * width);
    std::size_t used = 0, made = 0;
    const soxr_error_t error = soxr_process(soxr_.get(), samples ? samples + consumed * width : nullptr,
                                            frames - consumed, &used, out.data() + old_size, room, &made);
    out.resize(old_size + made * width);
    frames_out_ += made;
    if (error) throw std::runtime_error(std::string("soxr: ") + error);
    consumed += used;
    if (!samples && made == 0) return;  // flushed completely
  } while (consumed < frames || !samples);
}

void Resampler::push(const float* samples, std::size_t frames, std::vector<float>& out) {
  if (frames == 0) return;
  frames_in_ += frames;
  process(samples, frames, out);
}

void Resampler::finish(std::vector<float>& out) {
  const std::size_t width = static_cast<std::size_t>(channels_);
  process(nullptr, 0, out);  // no input: soxr emits what it still holds
  // librosa: n_samples = int(np.ceil(y.shape[-1] * ratio)) in double precision, then fix_length. soxr's output
  // lags its input, so only what the flush added can be beyond that length.
  const double ratio = static_cast<double>(to_rate_) / static_cast<double>(from_rate_);
  const auto wanted = static_cast<std::size_t>(std::ceil(static_cast<double>(frames_in_) * ratio));
  if (frames_out_ > wanted) {
    const std::size_t cut = std::min(frames_out_ - wanted, out.size() / width);
    out.resize(out.size() - cut * width);
  } else {
    out.resize(out.size() + (wanted - frames_out_) * width, 0.0f);
  }
  frames_out_ = wanted;
}

std::vector<float> resample(std::span<const float> samples, int from_rate, int to_rate, int channels) {
  if (from_rate == to_rate) return {samples.begin(), samples.end()};
  Resampler resampler(from_rate, to_rate, channels);
  std::vector<float> out;
  out.reserve(static_cast<std::size_t>(std::ceil(static_cast<double>(samples.size()) * to_rate / from_rate)) + 64);
  resampler.push(samples.data(), samples.size() / static_cast<std::size_t>(channels), out);
  resampler.finish(out);
  return out;
}

}  // namespace tunelens
