// The decoders' common output: the check for damaged sample values, resampling, and delivery to the sink.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "audio/decoders.h"

namespace tunelens::audio_detail {

std::size_t zero_bad_samples(std::span<float> samples) {
  std::size_t bad = 0;
  for (float& value : samples)
    if (!(std::abs(value) <= kMaxSampleValue)) {  // NaN fails every comparison
      ++bad;
      value = 0.0f;
    }
  return bad;
}

void append_mono(std::span<const float> interleaved, int channels, std::vector<float>& out) {
  if (channels <= 1) {
    out.insert(out.end(), interleaved.begin(), interleaved.end());
    return;
  }
  const auto width = static_cast<std::size_t>(channels);
  const auto count = static_cast<float>(channels);
  for (std::size_t at = 0; at + width <= interleaved.size(); at += width) {
    float sum = interleaved[at];
    for (std::size_t c = 1; c < width; ++c) sum += interleaved[at + c];
    out.push_back(sum / count);
  }
}

std::size_t expected_output_frames(const std::filesystem::path& path, std::int64_t declared_native_frames,
                                   int native_rate, int output_rate) {
  std::error_code error;
  const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, error));
  std::int64_t frames = declared_native_frames;
  if (!error) frames = std::min(frames, bytes * 64);
  if (frames <= 0 || native_rate <= 0) return 0;
  return static_cast<std::size_t>(static_cast<double>(frames) * output_rate / native_rate) + 64;
}

double missing_seconds(std::int64_t declared, std::int64_t first, std::int64_t end, std::int64_t decoded,
                       int native_rate) {
  if (declared <= 0 || native_rate <= 0) return 0.0;
  const std::int64_t wanted = (end >= 0 ? std::min(end, declared) : declared) - first;
  const std::int64_t missing = wanted - decoded;
  const std::int64_t tolerance = std::max<std::int64_t>(native_rate / 20, wanted / 200);
  return missing > tolerance ? static_cast<double>(missing) / native_rate : 0.0;
}

SampleOutput::SampleOutput(const std::filesystem::path& path, const LoadOptions& options, AudioSink& sink)
    : path_(path), options_(options), sink_(sink) {}

void SampleOutput::start(DecodeResult& format, std::int64_t declared_native_frames) {
  result_ = &format;
  format.sample_rate = format.native_sample_rate;
  if (options_.sample_rate > 0 && options_.sample_rate != format.native_sample_rate) {
    resampler_ = std::make_unique<Resampler>(format.native_sample_rate, options_.sample_rate, format.channels);
    format.sample_rate = options_.sample_rate;
  }
  sink_.start(format, expected_output_frames(path_, declared_native_frames, format.native_sample_rate,
                                             format.sample_rate));
}

// NaN, infinity or a magnitude beyond kMaxSampleValue (possible in float WAV, FLAC never) would turn every
// spectrum bin into the same garbage, silently: refused, or set to 0 when repairing.
void SampleOutput::write(std::span<float> samples) {
  const auto width = static_cast<std::size_t>(result_->channels);
  const auto first_bad = std::find_if(samples.begin(), samples.end(),
                                      [](float value) { return !(std::abs(value) <= kMaxSampleValue); });
  if (first_bad != samples.end()) {
    saw_bad_samples_ = true;
    if (!options_.repair) {
      const auto frame = native_frames_ + (first_bad - samples.begin()) / static_cast<std::ptrdiff_t>(width);
      char at[32];
      std::snprintf(at, sizeof at, "%.2f", static_cast<double>(frame) / result_->native_sample_rate);
      throw AudioError(AudioErrorKind::Corrupt, path_,
                       std::string("samples that are NaN, infinite or beyond ±1e6 (full scale is ±1), from ") +
                           at + " s on: damaged samples");
    }
    result_->repaired_samples += zero_bad_samples(samples);
  }
  native_frames_ += static_cast<std::int64_t>(samples.size() / width);
  if (!resampler_) {
    deliver(samples);
    return;
  }
  resampler_->push(samples.data(), samples.size() / width, resampled_);
  deliver(resampled_);
  resampled_.clear();
}

void SampleOutput::finish() {
  if (resampler_) {
    resampler_->finish(resampled_);
    deliver(resampled_);
    resampled_.clear();
  }
}

void SampleOutput::deliver(std::span<const float> samples) {
  if (samples.empty()) return;
  sink_.write(samples);
  result_->length += samples.size() / static_cast<std::size_t>(result_->channels);
}

}  // namespace tunelens::audio_detail
