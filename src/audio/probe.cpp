#include "audio/probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <memory>

#include "audio/audio.h"

namespace tunelens {
namespace {

struct FormatCloser {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};

// The duration the container declares, in seconds (< 0 when it declares none). *estimated tells whether
// FFmpeg guessed it from the bit rate; *codec gets the codec's name ("mp3", not the decoder's "mp3float").
double declared_seconds(const std::filesystem::path& path, bool* estimated, std::string* codec) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) return -1.0;
  std::unique_ptr<AVFormatContext, FormatCloser> format(raw);
  if (avformat_find_stream_info(format.get(), nullptr) < 0) return -1.0;
  const int index = av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (index < 0) return -1.0;
  const AVStream* stream = format->streams[index];
  *codec = avcodec_get_name(stream->codecpar->codec_id);
  *estimated = format->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0)
    return static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  if (format->duration != AV_NOPTS_VALUE && format->duration > 0)
    return static_cast<double>(format->duration) / AV_TIME_BASE;
  return -1.0;
}

}  // namespace

AudioInfo probe_audio(const std::filesystem::path& path) {
  LoadOptions head;
  head.sample_rate = 0;  // the native rate: no resampling
  head.duration = 0.25;
  // Decoding a short head through load_audio classifies every kind of bad file the way decoding does (and
  // sets FFmpeg's logging quiet before this file opens the container again).
  const Audio audio = load_audio(path, head);
  AudioInfo info;
  info.sample_rate = audio.native_sample_rate;
  info.channels = audio.native_channels;
  info.codec = audio.codec;
  info.seconds = declared_seconds(path, &info.estimated, &info.codec);
  if (info.seconds < 0.0) {  // a container without a duration (raw AAC, a streamed WAV): measure it
    LoadOptions whole;
    whole.sample_rate = 0;
    info.seconds = load_audio(path, whole).seconds();
    info.estimated = false;
  }
  return info;
}

}  // namespace tunelens
