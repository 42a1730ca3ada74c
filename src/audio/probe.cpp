#include "audio/probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <charconv>
#include <memory>
#include <string_view>

#include "audio/audio.h"
#include "audio/decoders.h"
#include "audio/ffmpeg_handles.h"

namespace tunelens {
namespace {

using ffmpeg::FormatCloser;

// A tag's text without surrounding spaces (keys match in any case), the container's before the stream's;
// absent when blank.
std::optional<std::string> tag(const AVFormatContext& format, const AVStream& stream, const char* key) {
  for (const AVDictionary* tags : {static_cast<const AVDictionary*>(format.metadata),
                                   static_cast<const AVDictionary*>(stream.metadata)}) {
    const AVDictionaryEntry* entry = av_dict_get(tags, key, nullptr, 0);
    if (!entry || !entry->value) continue;
    const std::string_view text(entry->value);
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) continue;
    return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
  }
  return std::nullopt;
}

// The number a text starts with ("1957-03-01" → 1957, "2/9" → 2); absent when it starts with none or is not
// positive.
std::optional<int> leading_number(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  int value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end == text->data() || value <= 0) return std::nullopt;
  return value;
}

AudioTags read_tags(const AVFormatContext& format, const AVStream& stream) {
  AudioTags tags;
  tags.title = tag(format, stream, "title");
  tags.artist = tag(format, stream, "artist");
  if (!tags.artist) tags.artist = tag(format, stream, "album_artist");
  tags.album = tag(format, stream, "album");
  auto date = tag(format, stream, "date");
  if (!date) date = tag(format, stream, "year");
  tags.year = leading_number(date);
  tags.track_number = leading_number(tag(format, stream, "track"));
  return tags;
}

// A file's container opened with its best audio stream; `stream` is null when it cannot be opened or has no
// audio.
struct OpenedContainer {
  std::unique_ptr<AVFormatContext, FormatCloser> format;
  const AVStream* stream = nullptr;
};
// Without `stream_info`, only the header is read: enough for the tags, not for every duration.
OpenedContainer open_container(const std::filesystem::path& path, bool stream_info) {
  OpenedContainer opened;
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) return opened;
  opened.format.reset(raw);
  if (stream_info) {
    if (avformat_find_stream_info(raw, nullptr) < 0) return opened;
    const int index = av_find_best_stream(raw, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (index >= 0) opened.stream = raw->streams[index];
    return opened;
  }
  // From the header alone the rate and channels may be unknown (MP3), which av_find_best_stream requires: the
  // first audio stream.
  for (unsigned i = 0; i < raw->nb_streams && !opened.stream; ++i)
    if (raw->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) opened.stream = raw->streams[i];
  return opened;
}

// The duration the container declares, in seconds (< 0 when it declares none), and the file's tags.
// *estimated tells whether FFmpeg guessed it from the bit rate; *codec gets the codec's name ("mp3", not the
// decoder's "mp3float").
double declared_seconds(const std::filesystem::path& path, bool* estimated, std::string* codec,
                        AudioTags* tags, std::int64_t* wav_header_frames) {
  const OpenedContainer opened = open_container(path, true);
  if (!opened.stream) return -1.0;
  const AVFormatContext& format = *opened.format;
  const AVStream& stream = *opened.stream;
  *codec = avcodec_get_name(stream.codecpar->codec_id);
  *tags = read_tags(format, stream);
  *estimated = format.duration_estimation_method == AVFMT_DURATION_FROM_BITRATE;
  // FFmpeg measures a WAV by its file size; what its header claims is only seen by reading it.
  *wav_header_frames = std::string_view(format.iformat->name) == "wav"
                           ? audio_detail::wav_declared_frames(path, stream.codecpar->block_align)
                           : -1;
  if (stream.duration != AV_NOPTS_VALUE && stream.duration > 0)
    return static_cast<double>(stream.duration) * av_q2d(stream.time_base);
  if (format.duration != AV_NOPTS_VALUE && format.duration > 0)
    return static_cast<double>(format.duration) / AV_TIME_BASE;
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
  std::int64_t header_frames = -1;
  info.seconds = declared_seconds(path, &info.estimated, &info.codec, &info.tags, &header_frames);
  if (info.seconds < 0.0) {  // a container without a duration (raw AAC, a streamed WAV): measure it
    LoadOptions whole;
    whole.sample_rate = 0;
    info.seconds = load_audio(path, whole).seconds();
    info.estimated = false;
  }
  if (header_frames > 0 && info.sample_rate > 0) {
    const double claimed = static_cast<double>(header_frames) / info.sample_rate;
    if (claimed > info.seconds + std::max(0.05, claimed / 200)) info.claimed_seconds = claimed;
  }
  return info;
}

AudioTags read_audio_tags(const std::filesystem::path& path) {
  ffmpeg::setup_once();
  const OpenedContainer opened = open_container(path, false);
  return opened.stream ? read_tags(*opened.format, *opened.stream) : AudioTags{};
}

}  // namespace tunelens
