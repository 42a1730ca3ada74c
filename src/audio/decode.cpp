// Decoding with FFmpeg's libraries: demux, decode to the codec's own sample format, convert to float32 the way
// libsndfile does (integers divided by 2^(bits-1)), and average the channels to mono.

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>

#include "audio/audio.h"
#include "audio/decoders.h"
#include "audio/ffmpeg_handles.h"
#include "audio/resampler.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

std::string reason_text(AudioErrorKind kind) {
  switch (kind) {
    case AudioErrorKind::NotFound: return "not found";
    case AudioErrorKind::Empty: return "empty file";
    case AudioErrorKind::NotAudio: return "not an audio file";
    case AudioErrorKind::NoAudioStream: return "no audio stream";
    case AudioErrorKind::Corrupt: return "corrupt audio";
    case AudioErrorKind::Unsupported: return "unsupported codec";
    case AudioErrorKind::BadOptions: return "bad options";
  }
  return "error";
}

std::string ffmpeg_error(int code) {
  std::array<char, AV_ERROR_MAX_STRING_SIZE> text{};
  av_strerror(code, text.data(), text.size());
  return text.data();
}

using ffmpeg::CodecFreer;
using ffmpeg::FormatCloser;
using ffmpeg::FrameFreer;
using ffmpeg::PacketFreer;

// Demuxers that accept almost any bytes (text as ANSI art, pictures): a file they claim is "not audio" to a user.
bool is_non_media_format(const AVInputFormat* format) {
  const std::string name = format ? format->name : "";
  return name == "tty" || name == "image2" || name.ends_with("_pipe") || name == "txt" || name == "srt" ||
         name == "webvtt" || name == "ass" || name == "subviewer" || name == "microdvd";
}

// The name of the format FFmpeg recognises from a file's first bytes (ignoring its name), or nullptr.
const char* recognised_format(const fs::path& path) {
  std::array<unsigned char, 4096 + AVPROBE_PADDING_SIZE> head{};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return nullptr;
  const std::size_t size = std::fread(head.data(), 1, 4096, file);
  std::fclose(file);
  AVProbeData probe{};
  probe.buf = head.data();
  probe.buf_size = static_cast<int>(size);
  probe.filename = "";
  int score = 0;
  const AVInputFormat* format = av_probe_input_format3(&probe, 1, &score);
  return format && score > AVPROBE_SCORE_EXTENSION && !is_non_media_format(format) ? format->name : nullptr;
}

// Integer samples become float32 in [-1, 1] by scaling with 2^-(bits-1) (8-bit is unsigned around 128), as
// libsndfile does for librosa.
inline float to_float(uint8_t v) { return (static_cast<float>(v) - 128.0f) * (1.0f / 128.0f); }
inline float to_float(int16_t v) { return static_cast<float>(v) * (1.0f / 32768.0f); }
inline float to_float(int32_t v) { return static_cast<float>(v) * (1.0f / 2147483648.0f); }
inline float to_float(int64_t v) { return static_cast<float>(static_cast<double>(v) / 9223372036854775808.0); }
inline float to_float(float v) { return v; }
inline float to_float(double v) { return static_cast<float>(v); }

// Appends samples [begin, end) of a decoded frame to `out`: averaged to mono, or interleaved. The samples are
// converted in a small buffer that stays in cache and then appended, so `out` is written once and never zero-filled.
template <typename T>
void append_samples(const AVFrame* frame, int64_t begin, int64_t end, bool mono, std::vector<float>& out) {
  const int channels = frame->ch_layout.nb_channels;
  const bool planar = av_sample_fmt_is_planar(static_cast<AVSampleFormat>(frame->format)) != 0;
  auto plane = [&](int c) { return reinterpret_cast<const T*>(frame->extended_data[planar ? c : 0]); };
  const int stride = planar ? 1 : channels;  // distance between a channel's consecutive samples
  const int width = mono ? 1 : channels;     // output values per frame
  constexpr int64_t kChunk = 1024;
  float buffer[kChunk * 8];
  const int64_t chunk = std::max<int64_t>(1, static_cast<int64_t>(std::size(buffer)) / width);
  for (int64_t at = begin; at < end; at += chunk) {
    const int64_t n = std::min(chunk, end - at);
    if (mono) {
      const T* first = plane(0);
      for (int64_t i = 0; i < n; ++i) buffer[i] = to_float(first[(at + i) * stride]);
      // numpy's mean: sum in float32 in channel order, then divide by the count
      for (int c = 1; c < channels; ++c) {
        const T* data = plane(c) + (planar ? 0 : c);
        for (int64_t i = 0; i < n; ++i) buffer[i] += to_float(data[(at + i) * stride]);
      }
      if (channels > 1) {
        const auto count = static_cast<float>(channels);
        for (int64_t i = 0; i < n; ++i) buffer[i] /= count;
      }
    } else {
      for (int c = 0; c < channels; ++c) {
        const T* data = plane(c) + (planar ? 0 : c);
        for (int64_t i = 0; i < n; ++i) buffer[i * channels + c] = to_float(data[(at + i) * stride]);
      }
    }
    out.insert(out.end(), buffer, buffer + n * width);
  }
}

// Returns false for a sample format tunelens does not know.
bool append_frame(const AVFrame* frame, int64_t begin, int64_t end, bool mono, std::vector<float>& out) {
  switch (av_get_packed_sample_fmt(static_cast<AVSampleFormat>(frame->format))) {
    case AV_SAMPLE_FMT_U8: append_samples<uint8_t>(frame, begin, end, mono, out); return true;
    case AV_SAMPLE_FMT_S16: append_samples<int16_t>(frame, begin, end, mono, out); return true;
    case AV_SAMPLE_FMT_S32: append_samples<int32_t>(frame, begin, end, mono, out); return true;
    case AV_SAMPLE_FMT_S64: append_samples<int64_t>(frame, begin, end, mono, out); return true;
    case AV_SAMPLE_FMT_FLT: append_samples<float>(frame, begin, end, mono, out); return true;
    case AV_SAMPLE_FMT_DBL: append_samples<double>(frame, begin, end, mono, out); return true;
    default: return false;
  }
}

// Decoding state for one file: where the requested span starts and ends (in native frames), and the output.
class Decoder {
 public:
  Decoder(const fs::path& path, const LoadOptions& options, AudioSink& sink)
      : path_(path), options_(options), output_(path, options, sink) {}

  DecodeResult run() {
    open();
    // MPEG audio in its own container goes to libmpg123, which librosa reads it with (through libsndfile):
    // FFmpeg's MP3 decoder gives other samples and keeps the encoder's padding.
    if (std::string_view(format_->iformat->name) == "mp3")
      if (auto result = audio_detail::decode_with_mpg123(path_, options_, declared_frames(), output_.sink()))
        return std::move(*result);
    output_.start(result_, declared_frames());
    decode_span();
    return std::move(result_);
  }

  // Whether the file failed before any sample came out (then another decoder may try it).
  bool wrote() const { return output_.wrote(); }

 private:
  [[noreturn]] void fail(AudioErrorKind kind, const std::string& detail) const { throw AudioError(kind, path_, detail); }

  void open() {
    ffmpeg::setup_once();
    AVFormatContext* raw = nullptr;
    int status = avformat_open_input(&raw, path_.c_str(), nullptr, nullptr);
    if (status < 0) {
      if (status == AVERROR(ENOENT)) fail(AudioErrorKind::NotFound, "no such file");
      if (status == AVERROR(EACCES)) fail(AudioErrorKind::NotFound, "permission denied");
      // A file whose first bytes look like a known format but that FFmpeg cannot open is damaged, not foreign.
      if (const char* format = recognised_format(path_))
        fail(AudioErrorKind::Corrupt, std::string("damaged ") + format + " file (" + ffmpeg_error(status) + ")");
      fail(AudioErrorKind::NotAudio, "not a recognised audio format (" + ffmpeg_error(status) + ")");
    }
    format_.reset(raw);
    status = avformat_find_stream_info(format_.get(), nullptr);
    if (status < 0) fail(AudioErrorKind::Corrupt, "cannot read stream information (" + ffmpeg_error(status) + ")");

    const AVCodec* codec = nullptr;
    stream_index_ = av_find_best_stream(format_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (stream_index_ == AVERROR_STREAM_NOT_FOUND) {
      if (format_->nb_streams == 0 || is_non_media_format(format_->iformat))
        fail(AudioErrorKind::NotAudio, "not a recognised audio format");
      fail(AudioErrorKind::NoAudioStream, std::string("no audio stream in this ") + format_->iformat->name + " file");
    }
    if (stream_index_ == AVERROR_DECODER_NOT_FOUND || !codec) {
      fail(AudioErrorKind::Unsupported, "no decoder for its audio codec");
    }
    if (stream_index_ < 0) fail(AudioErrorKind::Corrupt, ffmpeg_error(stream_index_));
    stream_ = format_->streams[stream_index_];
    // Only the chosen audio stream is demuxed.
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      if (static_cast<int>(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;

    codec_.reset(avcodec_alloc_context3(codec));
    if (!codec_) fail(AudioErrorKind::Unsupported, "cannot allocate a decoder");
    avcodec_parameters_to_context(codec_.get(), stream_->codecpar);
    codec_->pkt_timebase = stream_->time_base;
    codec_->thread_count = 1;  // tunelens decodes many files in parallel, one thread each
    status = avcodec_open2(codec_.get(), codec, nullptr);
    if (status < 0) fail(AudioErrorKind::Unsupported, "cannot open the " + std::string(codec->name) + " decoder");

    result_.codec = codec->name;
    result_.native_sample_rate = codec_->sample_rate;
    result_.native_channels = codec_->ch_layout.nb_channels;
    if (result_.native_sample_rate <= 0 || result_.native_channels <= 0)
      fail(AudioErrorKind::Corrupt, "the audio stream declares no sample rate or channels");
    if (result_.native_sample_rate < kMinNativeSampleRate)
      fail(AudioErrorKind::Corrupt, "a sample rate of " + std::to_string(result_.native_sample_rate) +
                                        " Hz (audio has 1000 Hz or more)");
    result_.channels = options_.mono ? 1 : result_.native_channels;

    // librosa (through soundfile) seeks to int(offset * sr) and reads int(duration * sr) frames.
    if (!std::isfinite(options_.offset) || options_.offset < 0.0)
      fail(AudioErrorKind::BadOptions, "offset must be a non-negative number of seconds");
    if (std::isnan(options_.duration)) fail(AudioErrorKind::BadOptions, "duration must be a number of seconds");
    first_frame_ = static_cast<int64_t>(options_.offset * result_.native_sample_rate);
    if (options_.duration >= 0.0) end_frame_ = first_frame_ + static_cast<int64_t>(options_.duration * result_.native_sample_rate);
  }

  // Declared length of the stream in native frames, when the container gives a trustworthy one (not an estimate
  // from the bit rate).
  int64_t declared_frames() const {
    if (std::string_view(format_->iformat->name) == "wav")
      return audio_detail::wav_declared_frames(path_, stream_->codecpar->block_align);
    if (format_->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE) return -1;
    if (stream_->duration != AV_NOPTS_VALUE && stream_->duration > 0)
      return av_rescale_q(stream_->duration, stream_->time_base, AVRational{1, result_.native_sample_rate});
    if (format_->duration != AV_NOPTS_VALUE && format_->duration > 0)
      return av_rescale_q(format_->duration, AV_TIME_BASE_Q, AVRational{1, result_.native_sample_rate});
    return -1;
  }

  // Position of a decoded frame's first sample, in native frames from the start of the stream.
  int64_t frame_position(const AVFrame* frame) const {
    const int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
    return av_rescale_q(frame->best_effort_timestamp - start, stream_->time_base,
                        AVRational{1, result_.native_sample_rate});
  }

  // Seeks near the requested offset (a little before it, so that decoders with state settle); returns false when
  // the container cannot seek, in which case decoding starts at the beginning.
  bool seek_to_offset() {
    constexpr int64_t kPrerollFrames = 8192;
    const int64_t target = std::max<int64_t>(0, first_frame_ - kPrerollFrames);
    if (target == 0) return false;
    const int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
    const int64_t timestamp =
        start + av_rescale_q(target, AVRational{1, result_.native_sample_rate}, stream_->time_base);
    if (av_seek_frame(format_.get(), stream_index_, timestamp, AVSEEK_FLAG_BACKWARD) < 0) return false;
    avcodec_flush_buffers(codec_.get());
    return true;
  }

  // Appends the part of a decoded frame that lies inside [first_frame_, end_frame_).
  void take(const AVFrame* frame) {
    const int channels = frame->ch_layout.nb_channels;
    if (frame->sample_rate != result_.native_sample_rate || channels <= 0 ||
        (!options_.mono && channels != result_.native_channels)) {
      ++result_.bad_packets;  // a change of format mid-stream: skip what does not fit
      return;
    }
    if (!position_known_) {
      position_ = seeked_ && frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame_position(frame) : 0;
      position_known_ = true;
    }
    const int64_t begin = std::max<int64_t>(0, first_frame_ - position_);
    int64_t end = frame->nb_samples;
    if (end_frame_ >= 0) end = std::min<int64_t>(end, end_frame_ - position_);
    position_ += frame->nb_samples;
    if (begin >= end) return;

    // Samples gather in a small buffer that stays in cache, and go on to the output in blocks.
    if (!append_frame(frame, begin, end, options_.mono, pending_)) {
      ++result_.bad_packets;
      return;
    }
    if (pending_.size() >= kBlock * static_cast<std::size_t>(result_.channels)) flush_pending();
  }

  void flush_pending() {
    output_.write(pending_);
    pending_.clear();
  }

  bool span_complete() const { return end_frame_ >= 0 && position_known_ && position_ >= end_frame_; }

  // Receives every frame the decoder has ready.
  void drain(AVFrame* frame) {
    while (true) {
      const int status = avcodec_receive_frame(codec_.get(), frame);
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      if (status < 0) {
        ++result_.bad_packets;
        return;
      }
      take(frame);
      av_frame_unref(frame);
    }
  }

  void decode_span() {
    if (first_frame_ > 0) seeked_ = seek_to_offset();
    const int64_t declared = declared_frames();

    std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
    int packets = 0;
    int read_errors = 0;
    while (!span_complete()) {
      const int status = av_read_frame(format_.get(), packet.get());
      if (status == AVERROR_EOF) break;
      if (status < 0) {
        // A damaged container: skip what cannot be read, but give up after many errors in a row.
        if (status == AVERROR(EIO) || ++read_errors > 1000) break;
        ++result_.bad_packets;
        continue;
      }
      read_errors = 0;
      if (packet->stream_index == stream_index_) {
        ++packets;
        const int sent = avcodec_send_packet(codec_.get(), packet.get());
        if (sent < 0 && sent != AVERROR(EAGAIN)) ++result_.bad_packets;
        drain(frame.get());
      }
      av_packet_unref(packet.get());
    }
    avcodec_send_packet(codec_.get(), nullptr);  // flush the decoder's delayed frames
    drain(frame.get());

    flush_pending();
    const int64_t native_frames = output_.native_frames();
    if (native_frames == 0) {
      if (first_frame_ > 0 && declared > 0 && first_frame_ >= declared)
        fail(AudioErrorKind::BadOptions, "offset " + std::to_string(options_.offset) + " s is past the end");
      if (end_frame_ == first_frame_) return;  // a zero duration was asked for
      if (packets == 0) fail(AudioErrorKind::Corrupt, "the audio stream holds no data (truncated?)");
      fail(AudioErrorKind::Corrupt, "no audio could be decoded (" + std::to_string(result_.bad_packets) +
                                        " damaged packets)");
    }
    // Compare with the declared length to report what a truncated or damaged file lost.
    result_.lost_seconds =
        audio_detail::missing_seconds(declared, first_frame_, end_frame_, native_frames, result_.native_sample_rate);
    output_.finish();
  }

  static constexpr std::size_t kBlock = 16384;  // frames handed on at a time: stays in cache

  fs::path path_;
  LoadOptions options_;
  std::unique_ptr<AVFormatContext, FormatCloser> format_;
  std::unique_ptr<AVCodecContext, CodecFreer> codec_;
  AVStream* stream_ = nullptr;
  int stream_index_ = -1;
  int64_t first_frame_ = 0;   // first native frame wanted
  int64_t end_frame_ = -1;    // one past the last native frame wanted; -1 = to the end
  int64_t position_ = 0;      // native frame index of the next decoded sample
  bool position_known_ = false;
  bool seeked_ = false;
  audio_detail::SampleOutput output_;
  std::vector<float> pending_;  // decoded frames waiting to go to the output
  DecodeResult result_;
};

// Whether the file starts as a container libsndfile parses itself (Ogg, FLAC, WAV/RF64, AIFF, AU, CAF). Not MPEG
// audio: libsndfile hands what it cannot place to libmpg123, which prints its notes on stderr (MPEG audio goes to
// libmpg123 directly, quietly).
bool sndfile_container(const fs::path& path) {
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(magic, sizeof magic)) return false;
  const std::string_view start(magic, sizeof magic);
  for (const std::string_view known : {"OggS", "fLaC", "RIFF", "RIFX", "RF64", "FORM", ".snd", "caff"})
    if (start == known) return true;
  return false;
}

}  // namespace

namespace audio_detail {

// The number of frames a WAV file's header declares (its 'data' chunk size over the frame size), or -1. FFmpeg
// trusts the file size instead, which hides a truncation.
std::int64_t wav_declared_frames(const std::filesystem::path& path, int block_align) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file || block_align <= 0) {
    if (file) std::fclose(file);
    return -1;
  }
  auto u32 = [](const unsigned char* b) { return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24); };
  unsigned char riff[12];
  int64_t frames = -1;
  if (std::fread(riff, 1, 12, file) == 12 && std::memcmp(riff, "RIFF", 4) == 0 && std::memcmp(riff + 8, "WAVE", 4) == 0) {
    unsigned char chunk[8];
    while (std::fread(chunk, 1, 8, file) == 8) {
      const uint32_t size = u32(chunk + 4);
      if (std::memcmp(chunk, "data", 4) == 0) {
        if (size != 0xffffffffu && size != 0) frames = size / block_align;  // 0 and ~0 mean "unknown" (streamed)
        break;
      }
      if (std::fseek(file, static_cast<long>(size + (size & 1)), SEEK_CUR) != 0) break;
    }
  }
  std::fclose(file);
  return frames;
}

}  // namespace audio_detail

AudioError::AudioError(AudioErrorKind kind, const std::filesystem::path& path, const std::string& reason)
    : std::runtime_error(path.string() + ": " + reason_text(kind) + ": " + reason), kind_(kind), path_(path) {}

DecodeResult decode_audio(const std::filesystem::path& path, const LoadOptions& options, AudioSink& sink) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)  // a name too long, a folder without permission, ...
    throw AudioError(AudioErrorKind::NotFound, path, "cannot be opened (" + ec.message() + ")");
  if (ec || !fs::exists(status)) throw AudioError(AudioErrorKind::NotFound, path, "no such file");
  if (fs::is_directory(status)) throw AudioError(AudioErrorKind::NotFound, path, "is a directory, not a file");
  // Devices and pipes could stream forever; only regular files (or links to them) are read.
  if (!fs::is_regular_file(status)) throw AudioError(AudioErrorKind::NotAudio, path, "not a regular file");
  if (fs::file_size(path, ec) == 0 && !ec) throw AudioError(AudioErrorKind::Empty, path, "the file has zero bytes");
  if (options.sample_rate < 0) throw AudioError(AudioErrorKind::BadOptions, path, "sample rate must be positive");

  Decoder decoder(path, options, sink);
  try {
    return decoder.run();
  } catch (const AudioError& error) {
    // What FFmpeg cannot open or decode, libsndfile (libvorbis, libFLAC, libopus) may: a valid Ogg Vorbis file
    // that repeats its headers is "Header processing failed" to FFmpeg 5.1. Not once samples have come out
    // (bad sample values are the file's, whichever decoder reads them).
    const AudioErrorKind kind = error.kind();
    if (kind != AudioErrorKind::NotAudio && kind != AudioErrorKind::Corrupt && kind != AudioErrorKind::Unsupported)
      throw;
    if (decoder.wrote() || !sndfile_container(path)) throw;
    std::optional<DecodeResult> result = audio_detail::decode_with_sndfile(path, options, sink);
    if (!result) throw;
    result->fallback_reason = error.what();
    const std::string named = path.string() + ": ";  // the reason alone: the caller names the file
    if (result->fallback_reason.starts_with(named)) result->fallback_reason.erase(0, named.size());
    return std::move(*result);
  }
}

Audio load_audio(const std::filesystem::path& path, const LoadOptions& options) {
  // Collects the samples, reserving once what the container declares.
  class Collector : public AudioSink {
   public:
    explicit Collector(std::vector<float>& samples) : samples_(samples) {}
    void start(const DecodeResult& format, std::size_t expected_frames) override {
      samples_.clear();
      samples_.reserve(expected_frames * static_cast<std::size_t>(format.channels));
    }
    void write(std::span<const float> samples) override { samples_.insert(samples_.end(), samples.begin(), samples.end()); }

   private:
    std::vector<float>& samples_;
  };
  Audio audio;
  Collector collector(audio.samples);
  static_cast<DecodeResult&>(audio) = decode_audio(path, options, collector);
  return audio;
}

bool has_audio_extension(const std::filesystem::path& path) {
  static constexpr std::array<std::string_view, 17> kExtensions = {"wav", "wave", "flac", "mp3", "ogg", "oga",
                                                                    "opus", "m4a", "aac", "aif", "aiff", "aifc",
                                                                    "au", "snd", "wma", "mp4", "webm"};
  std::string ext = path.extension().string();
  if (ext.empty()) return false;
  ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

std::vector<std::filesystem::path> find_audio_files(const std::filesystem::path& folder, bool recursive,
                                                    std::vector<std::string>* problems) {
  std::vector<fs::path> files;
  const auto report = [&](const fs::path& path, const std::string& reason) {
    if (problems) problems->push_back(path.string() + ": " + reason + ": skipped");
  };
  // Opening a folder fails for the same reasons access() gives (no permission; a path over PATH_MAX): asked
  // first, so that the walk skips that folder and goes on.
  const auto readable = [&](const fs::path& path) {
    if (::access(path.c_str(), R_OK | X_OK) == 0) return true;
    report(path, std::string("cannot read this folder (") + std::strerror(errno) + ")");
    return false;
  };
  if (!readable(folder)) return files;
  const auto keep = [&](const fs::directory_entry& entry) {
    std::error_code ec;
    if (entry.is_regular_file(ec) && has_audio_extension(entry.path()) &&
        !entry.path().filename().string().starts_with("."))
      files.push_back(entry.path());
  };
  std::error_code ec;
  if (recursive) {
    fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec);
    for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
      std::error_code type_error;
      if (it->is_directory(type_error) && !it->is_symlink(type_error)) {
        if (it->path().filename().string().starts_with(".") || !readable(it->path())) it.disable_recursion_pending();
      } else {
        keep(*it);
      }
    }
  } else {
    fs::directory_iterator it(folder, ec);
    for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) keep(*it);
  }
  if (ec) report(folder, "the listing stopped (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace tunelens
