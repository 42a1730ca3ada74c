// Audio: decode any music file with FFmpeg (MPEG audio with libmpg123, as librosa does; libsndfile when FFmpeg
// cannot) and resample it with soxr, as librosa.load does.
//
// load_audio(path) == librosa.load(path, sr=22050, mono=True, res_type='soxr_hq'): float32 samples in [-1, 1],
// channels averaged to mono, resampled with SOXR_HQ to the target rate and cut or zero-padded to
// ceil(n * target / native) samples.
#pragma once

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace tunelens {

// Why a file could not be decoded. Every AudioError names the file and the reason in what().
enum class AudioErrorKind {
  NotFound,       // no such file, or it cannot be opened for reading
  Empty,          // the file has zero bytes
  NotAudio,       // FFmpeg recognises no audio/media format in it
  NoAudioStream,  // a media file without an audio stream (a video-only or image file)
  Corrupt,        // the stream is damaged so badly that nothing decodes
  Unsupported,    // the codec is not available in this FFmpeg build
  BadOptions,     // an offset beyond the end, a negative duration, ...
};

class AudioError : public std::runtime_error {
 public:
  AudioError(AudioErrorKind kind, const std::filesystem::path& path, const std::string& reason);
  AudioErrorKind kind() const { return kind_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  AudioErrorKind kind_;
  std::filesystem::path path_;
};

struct LoadOptions {
  int sample_rate = 22050;  // target rate in Hz; 0 keeps the file's native rate
  bool mono = true;         // average the channels (librosa's mono=True); false keeps them interleaved
  double offset = 0.0;      // seconds to skip from the start (only that part is decoded)
  double duration = -1.0;   // seconds to read after offset; < 0 reads to the end
  // Samples that are NaN, infinite or beyond ±kMaxSampleValue (a float file's damage: full scale is ±1) make the
  // file Corrupt, unless `repair`: then they become 0 (silence) and Audio::repaired_samples counts them.
  bool repair = false;
};

// The largest magnitude a decoded sample may have (120 dB above full scale): beyond it the spectrum overflows.
inline constexpr float kMaxSampleValue = 1e6f;
// The lowest rate a file's audio may have: no music is stored below it, and resampling 1 Hz audio to 22,050 Hz made
// 170 MB of samples from a 1 KB file. Lower rates are a Corrupt file.
inline constexpr int kMinNativeSampleRate = 1000;

// What decoding a file gave besides its samples.
struct DecodeResult {
  int sample_rate = 0;         // rate of the samples delivered
  int channels = 0;            // channels in them (1 when mono)
  int native_sample_rate = 0;  // the file's own rate
  int native_channels = 0;     // the file's own channel count
  std::string codec;           // the codec's name, e.g. "mp3", "vorbis", "pcm_s16le"
  std::size_t length = 0;      // frames delivered (at sample_rate)
  // Damage found while decoding a partly corrupt or truncated file: what was decoded is returned, and these say
  // how much is missing (compared to the duration the container declares) and how many packets failed.
  double lost_seconds = 0.0;
  int bad_packets = 0;
  std::size_t repaired_samples = 0;  // with LoadOptions::repair: NaN, infinite or huge samples set to 0
  // Which library decoded it: "ffmpeg"; "libmpg123" for MPEG audio (as librosa reads it, through libsndfile);
  // "libsndfile" when FFmpeg could not (fallback_reason: FFmpeg's error).
  std::string decoder = "ffmpeg";
  std::string fallback_reason;

  double seconds() const { return sample_rate > 0 ? static_cast<double>(length) / sample_rate : 0.0; }
  bool damaged() const { return lost_seconds > 0.0 || bad_packets > 0; }
};

// A decoded file held whole.
struct Audio : DecodeResult {
  std::vector<float> samples;  // interleaved when channels > 1

  std::size_t frames() const { return channels > 0 ? samples.size() / static_cast<std::size_t>(channels) : 0; }
};

// Where decode_audio delivers a file's samples as they are decoded, so that a long file is never held whole.
class AudioSink {
 public:
  virtual ~AudioSink() = default;
  // Called before any samples, with the format (rates, channels, codec) and the number of frames the container
  // declares (0: unknown; a hint, capped at 64 frames per byte of file). Called again, before any write, when the
  // first decoder fails and another takes over.
  virtual void start(const DecodeResult& format, std::size_t expected_frames) = 0;
  // Samples in order, `format.channels` interleaved, at `format.sample_rate`.
  virtual void write(std::span<const float> samples) = 0;
};

// Decodes (and resamples) a file into `sink`, in blocks: memory does not grow with the file's length. Throws
// AudioError; what was written before an error stays written.
DecodeResult decode_audio(const std::filesystem::path& path, const LoadOptions& options, AudioSink& sink);

// Decodes (and resamples) a file whole. Throws AudioError.
Audio load_audio(const std::filesystem::path& path, const LoadOptions& options = {});

// Resamples with soxr at SOXR_HQ quality over float32, exactly as librosa.resample(res_type='soxr_hq'): the output
// has ceil(n * to_rate / from_rate) frames (zero-padded or cut). `samples` holds `channels` interleaved channels.
// Returns a copy of the input when the rates match.
std::vector<float> resample(std::span<const float> samples, int from_rate, int to_rate, int channels = 1);

// Writes 16-bit PCM WAV (samples clipped to [-1, 1], rounded to the nearest step, interleaved when channels > 1),
// under a temporary name renamed into place. Throws std::runtime_error naming the file when it cannot be written.
void write_wav(const std::filesystem::path& path, std::span<const float> samples, int sample_rate, int channels = 1);

// True for file names with an extension of a format tunelens decodes (wav, flac, mp3, ogg, opus, m4a, ...).
bool has_audio_extension(const std::filesystem::path& path);

// The audio files (by extension) in a folder, and in its subfolders when `recursive`, sorted by path, each
// path under `folder` as given (a symbolic link is listed where it is, not where it points; links to folders are
// not followed, so loops cannot arise). Hidden files and folders (names starting with '.') are skipped. A folder
// that cannot be read (permissions, a path longer than the system allows) is skipped and, with `problems`, named
// there with the reason, never dropped silently.
std::vector<std::filesystem::path> find_audio_files(const std::filesystem::path& folder, bool recursive,
                                                    std::vector<std::string>* problems = nullptr);

}  // namespace tunelens
