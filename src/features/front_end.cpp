// The front-end choices beyond librosa's defaults (mel scale, filter norm, pad mode) by name, and the chunked
// computation the pretrained networks were fed with.
#include <algorithm>
#include <stdexcept>
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

FeatureStream::FeatureStream(const MelSpectrogram& mel, const FeatureSettings& settings)
    : mel_(mel), settings_(settings), chunks_(static_cast<std::size_t>(mel.options().n_mels)) {
  settings_.db_options();  // a bad `db` word fails before any work
  if (settings.chunk_samples == 0) {
    whole_ = std::make_unique<MelStream>(mel);
    return;
  }
  frames_per_chunk_ = mel.frame_count(settings.chunk_samples);
  if (frames_per_chunk_ == 0) {
    throw FeatureError("chunks of " + std::to_string(settings.chunk_samples) +
                       " samples are too short for one frame of " + std::to_string(mel.options().n_fft) +
                       " samples");
  }
  chunk_.reserve(settings.chunk_samples);
}

FeatureStream::~FeatureStream() = default;

void FeatureStream::expect(std::size_t samples) {
  if (whole_) whole_->expect(samples);
  else chunks_.reserve(std::max<std::size_t>(1, samples / settings_.chunk_samples) * frames_per_chunk_);
}

void FeatureStream::push(std::span<const float> samples) {
  if (whole_) {
    whole_->push(samples);
    return;
  }
  while (!samples.empty()) {
    const std::size_t take = std::min(samples.size(), settings_.chunk_samples - chunk_.size());
    chunk_.insert(chunk_.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(take));
    samples = samples.subspan(take);
    if (chunk_.size() == settings_.chunk_samples) {
      add_chunk(chunk_);
      chunk_.clear();
    }
  }
}

void FeatureStream::add_chunk(std::span<const float> chunk) {
  chunks_.append(mel_.compute(chunk));
  ++chunks_added_;
}

Spectrogram FeatureStream::scaled(Spectrogram frames) const {
  if (settings_.in_db()) power_to_db(frames, settings_.db_options());
  return frames;
}

Spectrogram FeatureStream::take() {
  // With decibels relative to the loudest bin, or floored below the peak, no frame is final before the last.
  if (!settings_.pointwise())
    throw std::logic_error("FeatureStream::take: these decibels need the whole spectrogram");
  return scaled(whole_ ? whole_->take() : chunks_.finish());
}

Spectrogram FeatureStream::finish() {
  if (whole_) return scaled(whole_->finish());
  // The tail shorter than a chunk is dropped; but a short excerpt still makes one whole chunk: the signal
  // looped, so that its content fills the chunk rather than silence (which would shift the network's view).
  if (chunks_added_ == 0 && !chunk_.empty()) {
    const std::size_t length = chunk_.size();
    chunk_.resize(settings_.chunk_samples);
    for (std::size_t i = length; i < chunk_.size(); ++i) chunk_[i] = chunk_[i - length];
    add_chunk(chunk_);
  }
  chunk_.clear();
  return scaled(chunks_.finish());
}

Spectrogram chunked_mel_spectrogram(const MelSpectrogram& mel, std::span<const float> signal,
                                    std::size_t chunk_samples) {
  if (chunk_samples == 0) return mel.compute(signal);
  FeatureSettings settings;
  settings.mel = mel.options();
  settings.db = "none";
  settings.chunk_samples = chunk_samples;
  FeatureStream stream(mel, settings);
  stream.push(signal);
  return stream.finish();
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
