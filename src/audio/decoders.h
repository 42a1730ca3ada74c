// What the two decoders share (internal to src/audio): FFmpeg's (decode.cpp), which reads everything first, and
// libsndfile's (sndfile_decode.cpp), which load_audio tries when FFmpeg cannot open or decode a file that the
// format's reference library reads (an Ogg Vorbis file that repeats its headers, say: FFmpeg 5.1 rejects it).
#pragma once

#include <filesystem>
#include <optional>
#include <span>

#include "audio/audio.h"

namespace tunelens::audio_detail {

// Sets every NaN, infinite or beyond-kMaxSampleValue sample to 0 and returns how many there were.
std::size_t zero_bad_samples(std::span<float> samples);

// The message of an AudioError for `bad` such samples found from `seconds` on.
std::string bad_samples_reason(double seconds);

// Decodes with libsndfile as load_audio does with FFmpeg (offset, duration, mono, resampling, the same checks).
// nullopt when libsndfile cannot open the file either; throws AudioError for bad options or bad samples.
std::optional<Audio> decode_with_sndfile(const std::filesystem::path& path, const LoadOptions& options);

}  // namespace tunelens::audio_detail
