// Audio decoding of bytes from anywhere: load_audio (FFmpeg, and libsndfile when FFmpeg cannot), probe_audio and
// read_audio_tags (what an import does with each file). The input is the file; its last byte also picks the load
// options (mono or not, the target rate, repair, an offset and a duration), so one campaign covers them all.
// Expected: AudioError naming the file, or audio whose shape matches the options and whose samples are finite.
#include <cmath>

#include "audio/audio.h"
#include "audio/probe.h"
#include "fuzz_support.h"

namespace tf = tunelens::fuzz;

namespace {

tunelens::LoadOptions options_from(std::uint8_t byte) {
  tunelens::LoadOptions options;
  options.mono = (byte & 1) == 0;
  constexpr int kRates[] = {22050, 0, 16000, 44100};
  options.sample_rate = kRates[(byte >> 1) & 3];
  options.repair = (byte & 8) != 0;
  constexpr double kOffsets[] = {0.0, 0.0, 0.01, 1.5};
  options.offset = kOffsets[(byte >> 4) & 3];
  constexpr double kDurations[] = {-1.0, -1.0, 0.5, 0.0};
  options.duration = kDurations[(byte >> 6) & 3];
  return options;
}

void check(const tunelens::Audio& audio, const tunelens::LoadOptions& options) {
  const int channels = options.mono ? 1 : audio.native_channels;
  if (audio.channels != channels || channels <= 0)
    tf::finding("audio with the wrong channel count", std::to_string(audio.channels));
  if (audio.samples.size() % static_cast<std::size_t>(channels) != 0)
    tf::finding("samples that are not whole frames", std::to_string(audio.samples.size()));
  const int rate = options.sample_rate > 0 ? options.sample_rate : audio.native_sample_rate;
  if (audio.sample_rate != rate || rate <= 0)
    tf::finding("audio at the wrong rate", std::to_string(audio.sample_rate));
  for (const float value : audio.samples)
    if (!std::isfinite(value)) tf::finding("a sample that is not finite", std::to_string(value));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = tf::write_file("input", data, size);
  const tunelens::LoadOptions options = options_from(size > 0 ? data[size - 1] : 0);
  tf::expect_only<tunelens::AudioError>(path, [&] { check(tunelens::load_audio(path, options), options); });
  tf::expect_only<tunelens::AudioError>(path, [&] { tunelens::probe_audio(path); });
  tf::expect_only<>(path, [&] { tunelens::read_audio_tags(path); });
  return 0;
}
