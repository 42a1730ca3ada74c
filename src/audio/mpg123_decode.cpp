// MPEG audio (MP3, MP2) with libmpg123, set up as libsndfile sets it up when librosa (through soundfile) reads an
// MP3: float output at the file's own rate, gapless (the encoder's delay and the final frame's padding, as the
// LAME/Info tag records them, removed), no automatic resampling. Two differences, which change nothing for an
// intact file: quiet (libmpg123 would print its notes about damaged frames on stderr), and decoding goes on past
// damage (libsndfile stops at the first frame header that changes format, which garbage in the middle of a file
// soon gives: half the song lost). FFmpeg's MP3 decoder is a different implementation
// (its samples differ by up to a dB in quiet bins) and keeps the padding; this is what makes MP3 librosa-exact.
#include <mpg123.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "audio/decoders.h"

namespace tunelens::audio_detail {
namespace {

struct Mpg123Closer {
  void operator()(mpg123_handle* handle) const {
    mpg123_close(handle);
    mpg123_delete(handle);
  }
};

std::unique_ptr<mpg123_handle, Mpg123Closer> open_mpeg(const std::filesystem::path& path) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { mpg123_init(); });  // a no-op in recent versions, required in older ones
  int error = MPG123_OK;
  std::unique_ptr<mpg123_handle, Mpg123Closer> handle(mpg123_new(nullptr, &error));
  if (!handle) return nullptr;
  mpg123_param(handle.get(), MPG123_REMOVE_FLAGS, MPG123_AUTO_RESAMPLE, 0.0);
  mpg123_param(handle.get(), MPG123_ADD_FLAGS,
               MPG123_FORCE_FLOAT | MPG123_GAPLESS | MPG123_QUIET, 0.0);
  // Past damage, look for the next frame however far it is (the default gives up after 1 KB of garbage).
  mpg123_param(handle.get(), MPG123_RESYNC_LIMIT, -1, 0.0);
  if (mpg123_open(handle.get(), path.c_str()) != MPG123_OK) return nullptr;
  return handle;
}

}  // namespace

std::optional<DecodeResult> decode_with_mpg123(const std::filesystem::path& path, const LoadOptions& options,
                                               std::int64_t declared_frames, AudioSink& sink) {
  auto handle = open_mpeg(path);
  if (!handle) return std::nullopt;
  long rate = 0;
  int channels = 0, encoding = 0;
  if (mpg123_getformat(handle.get(), &rate, &channels, &encoding) != MPG123_OK || rate <= 0 || channels <= 0)
    return std::nullopt;
  if (encoding != MPG123_ENC_FLOAT_32) {
    mpg123_format_none(handle.get());
    if (mpg123_format(handle.get(), rate, channels, MPG123_ENC_FLOAT_32) != MPG123_OK) return std::nullopt;
  }

  DecodeResult result;
  result.decoder = "libmpg123";
  result.native_sample_rate = static_cast<int>(rate);
  result.native_channels = channels;
  result.channels = options.mono ? 1 : channels;
  mpg123_frameinfo info{};
  result.codec = mpg123_info(handle.get(), &info) == MPG123_OK ? "mp" + std::to_string(info.layer) : "mp3";

  // librosa (through soundfile) seeks to int(offset * sr) and reads int(duration * sr) frames.
  const auto first = static_cast<std::int64_t>(options.offset * static_cast<double>(rate));
  const std::int64_t wanted =
      options.duration >= 0.0 ? static_cast<std::int64_t>(options.duration * static_cast<double>(rate)) : -1;
  if (first > 0) {
    if (declared_frames > 0 && first >= declared_frames)
      throw AudioError(AudioErrorKind::BadOptions, path, "offset " + std::to_string(options.offset) + " s is past the end");
    if (mpg123_seek(handle.get(), static_cast<off_t>(first), SEEK_SET) < 0)
      throw AudioError(AudioErrorKind::BadOptions, path, "cannot seek to the offset");
  }

  constexpr std::size_t kBlockFrames = 16384;
  std::vector<float> block(kBlockFrames * static_cast<std::size_t>(channels));
  std::vector<float> mono;
  SampleOutput output(path, options, sink);
  output.start(result, declared_frames > 0 ? declared_frames - first : -1);
  std::int64_t frames = 0;
  bool same_format = true;  // false while damage makes frames claim another rate or channel count
  while (wanted < 0 || frames < wanted) {
    std::size_t ask = block.size();
    if (wanted >= 0) ask = std::min<std::size_t>(ask, static_cast<std::size_t>(wanted - frames) * channels);
    std::size_t bytes = 0;
    const int status = mpg123_read(handle.get(), block.data(), ask * sizeof(float), &bytes);
    const std::size_t values = bytes / sizeof(float) / static_cast<std::size_t>(channels) * channels;
    if (values > 0 && same_format) {
      std::span<float> samples(block.data(), values);
      if (options.mono && channels > 1) {
        mono.clear();
        append_mono(samples, channels, mono);
        samples = mono;
      }
      output.write(samples);
      frames += static_cast<std::int64_t>(values) / channels;
    }
    if (status == MPG123_DONE) break;
    if (status == MPG123_NEW_FORMAT) {
      // Garbage read as a frame header: what comes in another format is skipped until the stream's own returns.
      ++result.bad_packets;
      long now_rate = 0;
      int now_channels = 0, now_encoding = 0;
      same_format = mpg123_getformat(handle.get(), &now_rate, &now_channels, &now_encoding) == MPG123_OK &&
                    now_rate == rate && now_channels == channels;
      continue;
    }
    if (status != MPG123_OK) {
      ++result.bad_packets;  // a decoding error: keep what decoded
      break;
    }
    if (values == 0) break;
  }
  if (!output.wrote()) {
    if (first > 0) throw AudioError(AudioErrorKind::BadOptions, path, "offset " + std::to_string(options.offset) + " s is past the end");
    return std::nullopt;  // nothing decodes: FFmpeg may do better
  }
  result.lost_seconds = missing_seconds(declared_frames, first, wanted < 0 ? -1 : first + wanted, frames,
                                        result.native_sample_rate);
  output.finish();
  return result;
}

}  // namespace tunelens::audio_detail
