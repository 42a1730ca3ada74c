// Inside src/audio only: owners for FFmpeg's C objects (each freed by its own function), and FFmpeg's settings
// for the process (its logging, its largest allocation), made once, shared by the decoder and the probe.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

#include <cstddef>
#include <mutex>

namespace tunelens::ffmpeg {

// The most FFmpeg may allocate at once. No audio file needs a block this large (the largest are embedded
// pictures: FLAC's are under 16 MB), and FFmpeg 5.1 believes the sizes a file declares: the INFO chunk of a 560-byte
// WAV made it allocate and zero 1.6 GB (found by fuzz_audio, fuzz/regressions/audio).
inline constexpr std::size_t kMaxAllocation = std::size_t{128} << 20;

// FFmpeg prints its own diagnostics to stderr (tunelens reports problems itself, one line per file), and allocates
// no block over kMaxAllocation: such a file fails to open or decode (ENOMEM), as a damaged one.
inline void setup_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_QUIET);
    av_max_alloc(kMaxAllocation);
  });
}

struct FormatCloser {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct CodecFreer {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct PacketFreer {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct FrameFreer {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};

}  // namespace tunelens::ffmpeg
