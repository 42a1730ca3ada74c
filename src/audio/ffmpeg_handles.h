// Inside src/audio only: owners for FFmpeg's C objects (each freed by its own function), and FFmpeg's logging
// turned off once per process, shared by the decoder and the probe.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

#include <mutex>

namespace tunelens::ffmpeg {

// FFmpeg prints its own diagnostics to stderr; tunelens reports problems itself, one line per file.
inline void quiet_logging() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
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
