// The whole pipeline on compressed music, against its floor: FFmpeg's own decoding of the same files.
//
//   bench_pipeline DIR [repeats]
//
// DIR holds compressed files (scripts/bench.sh makes 48 kHz stereo Ogg Vorbis and MP3 files of 30 s). In one run:
//   1. decode-only: a plain libavformat/libavcodec loop that decodes every packet and discards the frames;
//   2. tunelens, one thread: load_audio (decode, mono, soxr to 22050 Hz) + mel spectrogram + dB, per file;
//   3. tunelens over the folder with 1 and with 2 threads (one file per thread at a time, as `tunelens features`).
// Each figure is the fastest of `repeats` rounds (the least disturbed by other work on the machine), the rounds
// interleaved so that noise hits all alike.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "audio/audio.h"
#include "features/features.h"

namespace {

namespace fs = std::filesystem;
using tunelens::Audio;
using tunelens::MelSpectrogram;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// FFmpeg decoding alone, single-threaded: the floor under any pipeline that starts from these files.
long long ffmpeg_decode_only(const fs::path& path) {
  AVFormatContext* format = nullptr;
  if (avformat_open_input(&format, path.c_str(), nullptr, nullptr) < 0) throw std::runtime_error("open " + path.string());
  avformat_find_stream_info(format, nullptr);
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  AVCodecContext* context = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(context, format->streams[stream]->codecpar);
  context->thread_count = 1;
  avcodec_open2(context, codec, nullptr);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  long long samples = 0;
  auto drain = [&] {
    while (avcodec_receive_frame(context, frame) == 0) {
      samples += frame->nb_samples;
      av_frame_unref(frame);
    }
  };
  while (av_read_frame(format, packet) >= 0) {
    if (packet->stream_index == stream && avcodec_send_packet(context, packet) >= 0) drain();
    av_packet_unref(packet);
  }
  avcodec_send_packet(context, nullptr);
  drain();
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&context);
  avformat_close_input(&format);
  return samples;
}

// What `tunelens features` does to one file, short of writing the .npy.
double tunelens_pipeline(const fs::path& path, const MelSpectrogram& mel) {
  const Audio audio = tunelens::load_audio(path);
  tunelens::Spectrogram spectrogram = mel.compute(audio.samples);
  tunelens::power_to_db(spectrogram);
  return audio.seconds();
}

// All files over `threads` threads, each taking the next file as `tunelens features` does.
void run_folder(const std::vector<fs::path>& files, const MelSpectrogram& mel, unsigned threads) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) tunelens_pipeline(files[i], mel);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
}

double fastest(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.front();
}

template <typename F>
double timed(F&& f) {
  const double start = now_seconds();
  f();
  return now_seconds() - start;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_pipeline DIR [repeats]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<fs::path> files = tunelens::find_audio_files(argv[1], false);
  if (files.empty()) {
    std::fprintf(stderr, "bench_pipeline: no audio files in %s\n", argv[1]);
    return 2;
  }
  av_log_set_level(AV_LOG_QUIET);
  const MelSpectrogram mel;

  double audio_seconds = 0.0;
  for (const auto& file : files) audio_seconds += tunelens_pipeline(file, mel);  // also warms caches and plans

  // Per-format figures: decode-only vs the whole pipeline, one thread, file by file.
  std::printf("pipeline on %zu files, %.0f s of audio, fastest of %d rounds\n", files.size(), audio_seconds, repeats);
  std::printf("%-12s %14s %14s %8s\n", "format", "ffmpeg decode", "tunelens all", "ratio");
  std::vector<std::string> extensions;
  for (const auto& f : files)
    if (std::find(extensions.begin(), extensions.end(), f.extension().string()) == extensions.end())
      extensions.push_back(f.extension().string());
  double worst_ratio = 0.0;
  for (const auto& extension : extensions) {
    std::vector<fs::path> group;
    for (const auto& f : files)
      if (f.extension() == extension) group.push_back(f);
    // Where tunelens's time goes: decoding to mono at the native rate, resampling (what decoding with resampling
    // adds), features.
    tunelens::LoadOptions native;
    native.sample_rate = 0;
    std::vector<double> decode_times, pipeline_times, load_times, resample_times, feature_times;
    for (int r = 0; r < repeats; ++r) {
      decode_times.push_back(timed([&] { for (const auto& f : group) ffmpeg_decode_only(f); }));
      pipeline_times.push_back(timed([&] { for (const auto& f : group) tunelens_pipeline(f, mel); }));
      double load = 0.0, resampling = 0.0, features = 0.0;
      for (const auto& f : group) {
        load += timed([&] { tunelens::load_audio(f, native); });
        Audio audio;
        resampling += timed([&] { audio = tunelens::load_audio(f); });
        features += timed([&] {
          tunelens::Spectrogram s = mel.compute(audio.samples);
          tunelens::power_to_db(s);
        });
      }
      load_times.push_back(load);
      resample_times.push_back(resampling);
      feature_times.push_back(features);
    }
    const double decode = fastest(decode_times), pipeline = fastest(pipeline_times);
    worst_ratio = std::max(worst_ratio, pipeline / decode);
    std::printf("%-12s %12.3f s %12.3f s %7.2fx\n", extension.c_str(), decode, pipeline, pipeline / decode);
    const double load = fastest(load_times);
    std::printf("%-12s   of which: decode+mono %.3f s, resample %.3f s, features %.3f s\n", "", load,
                fastest(resample_times) - load, fastest(feature_times));
  }
  std::printf("pipeline / decode-only (worst format): %.2fx (target <= 1.6x)\n", worst_ratio);

  // Thread scaling over the folder.
  std::vector<double> one, two;
  for (int r = 0; r < repeats; ++r) {
    one.push_back(timed([&] { run_folder(files, mel, 1); }));
    two.push_back(timed([&] { run_folder(files, mel, 2); }));
  }
  const double t1 = fastest(one), t2 = fastest(two);
  std::printf("folder, 1 thread: %.3f s (%.0fx realtime); 2 threads: %.3f s (%.0fx realtime); speed-up %.2fx "
              "(target >= 1.8x)\n",
              t1, audio_seconds / t1, t2, audio_seconds / t2, t1 / t2);
  return 0;
}
