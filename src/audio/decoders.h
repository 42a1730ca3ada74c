// What the decoders share (internal to src/audio). FFmpeg's (decode.cpp) opens every file first; MPEG audio is
// handed to libmpg123 (mpg123_decode.cpp), which is what librosa reads MP3 with (through libsndfile); libsndfile
// (sndfile_decode.cpp) takes files FFmpeg cannot open or decode that the format's reference library reads (an Ogg
// Vorbis file that repeats its headers, say: FFmpeg 5.1 rejects it). Each decoder hands its samples, at the file's
// own rate, to a SampleOutput, which checks them, resamples them and passes them to the caller's AudioSink.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "audio/audio.h"
#include "audio/resampler.h"

namespace tunelens::audio_detail {

// Sets every NaN, infinite or beyond-kMaxSampleValue sample to 0 and returns how many there were.
std::size_t zero_bad_samples(std::span<float> samples);

// From native-rate samples to the caller's sink: the value check (or repair), resampling, the frame count.
class SampleOutput {
 public:
  SampleOutput(const std::filesystem::path& path, const LoadOptions& options, AudioSink& sink);

  // `format` has the native rate and channels, the output channels and the codec; sets the output rate and tells
  // the sink, with the number of native frames the container declares (<= 0: unknown).
  void start(DecodeResult& format, std::int64_t declared_native_frames);
  // `samples`: native-rate frames, format.channels interleaved. Throws AudioError (Corrupt) for NaN, infinite or
  // huge samples unless the options repair them (to 0, counted in the result).
  void write(std::span<float> samples);
  // Flushes the resampler (to librosa's length) and records the frames delivered.
  void finish();

  std::int64_t native_frames() const { return native_frames_; }
  // Whether any sample reached the decoder's output (then no other decoder may take over).
  bool wrote() const { return native_frames_ > 0 || saw_bad_samples_; }
  AudioSink& sink() { return sink_; }

 private:
  void deliver(std::span<const float> samples);

  std::filesystem::path path_;
  LoadOptions options_;
  AudioSink& sink_;
  DecodeResult* result_ = nullptr;
  std::unique_ptr<Resampler> resampler_;
  std::vector<float> resampled_;
  std::int64_t native_frames_ = 0;
  bool saw_bad_samples_ = false;
};

// How many frames to expect at the output from a declared native length, capped by the file's size (a header
// may claim 2^31 samples in a 1 KB file): at most 64 frames per byte. 0 when unknown.
std::size_t expected_output_frames(const std::filesystem::path& path, std::int64_t declared_native_frames,
                                   int native_rate, int output_rate);

// Seconds missing from a decode that gave `decoded` native frames of the span [first, end) (end < 0: to the
// end) of a stream the container says has `declared` frames (<= 0: unknown, then 0); within a tolerance of
// 1/20 s or 0.5 %, since containers round.
double missing_seconds(std::int64_t declared, std::int64_t first, std::int64_t end, std::int64_t decoded,
                       int native_rate);

// Decodes MPEG audio (layers 1-3) with libmpg123 set up as libsndfile sets it up for librosa: gapless (the
// encoder's delay and padding removed), float output. `declared_frames` is the container's length in native
// frames (<= 0: unknown), to report what a truncated file lost. nullopt, with nothing written, when libmpg123
// cannot read the file; throws AudioError for bad options or bad samples.
std::optional<DecodeResult> decode_with_mpg123(const std::filesystem::path& path, const LoadOptions& options,
                                               std::int64_t declared_frames, AudioSink& sink);

// Decodes with libsndfile as the FFmpeg path does (offset, duration, mono, resampling, the same checks). nullopt,
// with nothing written, when libsndfile cannot open the file either; throws AudioError for bad options or bad
// samples.
std::optional<DecodeResult> decode_with_sndfile(const std::filesystem::path& path, const LoadOptions& options,
                                                AudioSink& sink);

// The number of frames a WAV file's header declares (its 'data' chunk size over the frame size), or -1.
std::int64_t wav_declared_frames(const std::filesystem::path& path, int block_align);

// Averages interleaved frames to mono as numpy's mean does (float32 sum in channel order, then divided by the
// count), appending to `out`.
void append_mono(std::span<const float> interleaved, int channels, std::vector<float>& out);

}  // namespace tunelens::audio_detail
