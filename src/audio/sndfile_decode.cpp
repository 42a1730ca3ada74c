// The second decoder: libsndfile, for files FFmpeg cannot open or decode (audio/decoders.h). It reads what the
// formats' reference libraries read (libvorbis, libFLAC, libopus, mpg123, and every PCM container), as floats
// scaled as FFmpeg's path scales them (integers divided by 2^(bits-1)), and then follows load_audio's steps:
// offset and duration in native frames, numpy's channel mean, soxr resampling, block by block.
#include <sndfile.h>

#include <algorithm>
#include <memory>
#include <string>

#include "audio/decoders.h"

namespace tunelens::audio_detail {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};

// libsndfile's name of the encoding ("Vorbis I", "FLAC", "MPEG Layer 3", "Signed 16 bit PCM"), lower-cased.
std::string codec_name(SNDFILE* file, int format) {
  SF_FORMAT_INFO info{};
  info.format = format & SF_FORMAT_SUBMASK;
  if (sf_command(file, SFC_GET_FORMAT_INFO, &info, sizeof info) != 0 || info.name == nullptr) return "unknown";
  std::string name = info.name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

}  // namespace

std::optional<DecodeResult> decode_with_sndfile(const std::filesystem::path& path, const LoadOptions& options,
                                                AudioSink& sink) {
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file || info.channels <= 0 || info.samplerate < kMinNativeSampleRate) return std::nullopt;
  // Integer formats read as float are divided by 2^(bits-1), as FFmpeg's path and soundfile do (not by 2^(bits-1)
  // - 1); floats as they are.
  sf_command(file.get(), SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);

  DecodeResult result;
  result.decoder = "libsndfile";
  result.codec = codec_name(file.get(), info.format);
  result.native_sample_rate = info.samplerate;
  result.native_channels = info.channels;
  result.channels = options.mono ? 1 : info.channels;

  const auto first = static_cast<sf_count_t>(options.offset * info.samplerate);
  if (first > 0) {
    if (info.frames > 0 && first >= info.frames)
      throw AudioError(AudioErrorKind::BadOptions, path, "the offset is past the end of the audio");
    if (sf_seek(file.get(), first, SEEK_SET) < 0)
      throw AudioError(AudioErrorKind::BadOptions, path, "cannot seek to the offset");
  }
  const sf_count_t wanted = options.duration >= 0.0 ? static_cast<sf_count_t>(options.duration * info.samplerate) : -1;

  // The first block is read before the output starts: a file libsndfile opens but cannot decode leaves the
  // FFmpeg error standing, with nothing written. Blocks of 65,536 values whatever the channel count (a header may
  // claim 1,024 channels: 268 MB a block).
  const sf_count_t block_frames = std::max<sf_count_t>(1, 65536 / info.channels);
  std::vector<float> block(static_cast<std::size_t>(block_frames * info.channels));
  std::vector<float> mono;
  SampleOutput output(path, options, sink);
  for (sf_count_t read_frames = 0;;) {
    const sf_count_t ask = wanted < 0 ? block_frames : std::min(block_frames, wanted - read_frames);
    if (ask <= 0) break;
    const sf_count_t got = sf_readf_float(file.get(), block.data(), ask);
    if (got <= 0) break;
    if (read_frames == 0) output.start(result, info.frames > 0 ? info.frames - first : -1);
    std::span<float> samples(block.data(), static_cast<std::size_t>(got * info.channels));
    if (options.mono && info.channels > 1) {
      mono.clear();
      append_mono(samples, info.channels, mono);
      samples = mono;
    }
    output.write(samples);
    read_frames += got;
  }
  if (!output.wrote()) return std::nullopt;  // nothing decodes: the FFmpeg error stands
  output.finish();
  return result;
}

}  // namespace tunelens::audio_detail
