// The front-end choices beyond librosa's defaults (mel scale, filter norm, pad mode) by name, and the chunked
// computation the pretrained networks were fed with.
#include <algorithm>
#include <string>

#include "features/features.h"

namespace tunelens {

std::string to_string(MelScale scale) {
  return scale == MelScale::Htk ? "htk" : "slaney";
}
std::string to_string(MelNorm norm) {
  return norm == MelNorm::None ? "none" : "slaney";
}
std::string to_string(PadMode mode) {
  return mode == PadMode::Reflect ? "reflect" : "constant";
}

MelScale parse_mel_scale(const std::string& text) {
  if (text == "slaney") return MelScale::Slaney;
  if (text == "htk") return MelScale::Htk;
  throw FeatureError("mel_scale must be slaney or htk, not '" + text + "'");
}

MelNorm parse_mel_norm(const std::string& text) {
  if (text == "slaney") return MelNorm::Slaney;
  if (text == "none") return MelNorm::None;
  throw FeatureError("mel_norm must be slaney or none, not '" + text + "'");
}

PadMode parse_pad_mode(const std::string& text) {
  if (text == "constant") return PadMode::Constant;
  if (text == "reflect") return PadMode::Reflect;
  throw FeatureError("pad_mode must be constant or reflect, not '" + text + "'");
}

std::string describe_front_end_choices(const FeatureSettings& settings) {
  std::string text;
  const auto add = [&text](const std::string& words) { text += (text.empty() ? "" : ", ") + words; };
  if (settings.mel.mel_scale != MelScale::Slaney) add(to_string(settings.mel.mel_scale) + " mels");
  if (settings.mel.mel_norm == MelNorm::None) add("no filter norm");
  if (settings.mel.pad_mode != PadMode::Constant) add(to_string(settings.mel.pad_mode) + " padding");
  if (settings.chunk_samples > 0) add("chunks of " + std::to_string(settings.chunk_samples) + " samples");
  return text;
}

Spectrogram chunked_mel_spectrogram(const MelSpectrogram& mel, std::span<const float> signal,
                                    std::size_t chunk_samples) {
  if (chunk_samples == 0) return mel.compute(signal);
  const std::size_t frames_per_chunk = mel.frame_count(chunk_samples);
  if (frames_per_chunk == 0) {
    throw FeatureError("chunks of " + std::to_string(chunk_samples) +
                       " samples are too short for one frame of " + std::to_string(mel.options().n_fft) +
                       " samples");
  }
  const auto n_mels = static_cast<std::size_t>(mel.options().n_mels);
  if (signal.empty()) return Spectrogram(n_mels, 0);

  // A short excerpt still makes one whole chunk: the signal looped, so that its content fills the chunk
  // rather than silence (which would shift the network's view of it).
  std::vector<float> looped;
  if (signal.size() < chunk_samples) {
    looped.resize(chunk_samples);
    for (std::size_t i = 0; i < chunk_samples; i += signal.size())
      std::copy_n(signal.begin(), std::min(signal.size(), chunk_samples - i),
                  looped.begin() + static_cast<std::ptrdiff_t>(i));
    signal = looped;
  }

  const std::size_t chunks = signal.size() / chunk_samples;
  Spectrogram out(n_mels, chunks * frames_per_chunk);
  for (std::size_t c = 0; c < chunks; ++c) {
    const Spectrogram part = mel.compute(signal.subspan(c * chunk_samples, chunk_samples));
    for (std::size_t m = 0; m < n_mels; ++m) {
      const float* row = part.values.data() + m * frames_per_chunk;
      std::copy(row, row + frames_per_chunk, out.values.data() + m * out.frames + c * frames_per_chunk);
    }
  }
  return out;
}

Spectrogram signal_features(const MelSpectrogram& mel, std::span<const float> signal,
                            const FeatureSettings& settings) {
  Spectrogram spectrogram = chunked_mel_spectrogram(mel, signal, settings.chunk_samples);
  if (settings.in_db()) power_to_db(spectrogram, settings.db_options());
  return spectrogram;
}

double frame_start_seconds(const FeatureSettings& settings, std::size_t frame) {
  const auto rate = static_cast<double>(settings.mel.sample_rate);
  const auto hop = static_cast<double>(settings.mel.hop_length);
  const std::size_t frames_per_chunk =
      settings.chunk_samples > 0 ? frame_count(settings.mel, settings.chunk_samples) : 0;
  if (frames_per_chunk == 0) return settings.offset + static_cast<double>(frame) * hop / rate;
  const std::size_t chunk = frame / frames_per_chunk;
  const std::size_t within = frame % frames_per_chunk;
  return settings.offset +
         (static_cast<double>(chunk * settings.chunk_samples) + static_cast<double>(within) * hop) / rate;
}

}  // namespace tunelens
