// Mel filterbank, computed exactly as librosa.filters.mel(htk=..., norm='slaney' or None) does: every step in
// double, with the float32 roundings librosa makes (the triangle weights, then, with slaney norm, the
// normalised weights).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "features/features.h"

namespace tunelens {
namespace {

// Slaney's Auditory Toolbox scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
constexpr double kLinearHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kLinearHzPerMel;
const double kLogStep = std::log(6.4) / 27.0;

double slaney_hz_to_mel(double hz) {
  if (hz >= kLogStartHz) return kLogStartMel + std::log(hz / kLogStartHz) / kLogStep;
  return hz / kLinearHzPerMel;
}

double slaney_mel_to_hz(double mel) {
  if (mel >= kLogStartMel) return kLogStartHz * std::exp(kLogStep * (mel - kLogStartMel));
  return kLinearHzPerMel * mel;
}

// HTK's scale (librosa's htk=True), in librosa's order of operations.
double htk_hz_to_mel(double hz) {
  return 2595.0 * std::log10(1.0 + hz / 700.0);
}
double htk_mel_to_hz(double mel) {
  return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

double hz_to_mel(double hz, MelScale scale) {
  return scale == MelScale::Htk ? htk_hz_to_mel(hz) : slaney_hz_to_mel(hz);
}

double mel_to_hz(double mel, MelScale scale) {
  return scale == MelScale::Htk ? htk_mel_to_hz(mel) : slaney_mel_to_hz(mel);
}

// numpy.linspace(start, stop, num) with endpoint=True, bit for bit: start + i * step, and the last value
// set to stop exactly.
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> values(static_cast<std::size_t>(num));
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) values[static_cast<std::size_t>(i)] = start + i * step;
  values.back() = stop;
  return values;
}

}  // namespace

MelFilterbank::MelFilterbank(int sample_rate, int n_fft, int n_mels, double fmin, double fmax, MelScale scale,
                             MelNorm norm) {
  if (sample_rate <= 0)
    throw FeatureError("mel filterbank: sample rate must be positive, got " + std::to_string(sample_rate));
  if (n_fft < 2) throw FeatureError("mel filterbank: n_fft must be at least 2, got " + std::to_string(n_fft));
  if (n_mels < 1)
    throw FeatureError("mel filterbank: n_mels must be at least 1, got " + std::to_string(n_mels));
  const double nyquist = sample_rate / 2.0;
  if (fmax <= 0.0) fmax = nyquist;
  if (fmax > nyquist) {
    throw FeatureError("mel filterbank: fmax " + std::to_string(fmax) +
                       " Hz is above the Nyquist frequency " + std::to_string(nyquist) + " Hz");
  }
  if (fmin < 0.0 || fmin >= fmax) {
    throw FeatureError("mel filterbank: need 0 <= fmin < fmax, got fmin " + std::to_string(fmin) +
                       " Hz, fmax " + std::to_string(fmax) + " Hz");
  }

  n_mels_ = n_mels;
  n_bins_ = 1 + n_fft / 2;

  // Band edges: n_mels + 2 points evenly spaced in mel, back in Hz.
  std::vector<double> mel_f = linspace(hz_to_mel(fmin, scale), hz_to_mel(fmax, scale), n_mels + 2);
  for (double& f : mel_f) f = mel_to_hz(f, scale);

  std::vector<double> fft_freqs(static_cast<std::size_t>(n_bins_));
  for (int k = 0; k < n_bins_; ++k)
    fft_freqs[static_cast<std::size_t>(k)] = k * static_cast<double>(sample_rate) / n_fft;

  first_bin_.assign(static_cast<std::size_t>(n_mels), 0);
  offset_.assign(static_cast<std::size_t>(n_mels), 0);
  length_.assign(static_cast<std::size_t>(n_mels), 0);
  std::vector<float> band(static_cast<std::size_t>(n_bins_));
  for (int m = 0; m < n_mels; ++m) {
    const auto i = static_cast<std::size_t>(m);
    const double lower_width = mel_f[i + 1] - mel_f[i];
    const double upper_width = mel_f[i + 2] - mel_f[i + 1];
    const bool slaney_norm = norm == MelNorm::Slaney;
    const double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
    int first = -1;
    int last = -1;
    for (int k = 0; k < n_bins_; ++k) {
      const double freq = fft_freqs[static_cast<std::size_t>(k)];
      // librosa's "ramps": rising edge -(mel_f[i] - f) / width, falling edge (mel_f[i+2] - f) / width.
      const double lower = -(mel_f[i] - freq) / lower_width;
      const double upper = (mel_f[i + 2] - freq) / upper_width;
      const float triangle = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      const float weight = slaney_norm ? static_cast<float>(static_cast<double>(triangle) * enorm) : triangle;
      band[static_cast<std::size_t>(k)] = weight;
      if (weight != 0.0f) {
        if (first < 0) first = k;
        last = k;
      }
    }
    // A band too narrow to contain any FFT bin stays empty (librosa warns "Empty filters detected").
    offset_[i] = static_cast<int>(weights_.size());
    if (first >= 0) {
      first_bin_[i] = first;
      length_[i] = last - first + 1;
      weights_.insert(weights_.end(), band.begin() + first, band.begin() + last + 1);
    }
  }
}

Spectrogram MelFilterbank::dense() const {
  Spectrogram matrix(static_cast<std::size_t>(n_mels_), static_cast<std::size_t>(n_bins_));
  for (int m = 0; m < n_mels_; ++m) {
    const auto i = static_cast<std::size_t>(m);
    const float* w = weights_.data() + offset_[i];
    float* row = matrix.values.data() + i * matrix.frames + first_bin_[i];
    std::copy(w, w + length_[i], row);
  }
  return matrix;
}

void MelFilterbank::apply(const float* spectrum, float* mel) const {
  for (int m = 0; m < n_mels_; ++m) {
    const auto i = static_cast<std::size_t>(m);
    const float* w = weights_.data() + offset_[i];
    const float* s = spectrum + first_bin_[i];
    float sum = 0.0f;
    for (int j = 0; j < length_[i]; ++j) sum += w[j] * s[j];
    mel[i] = sum;
  }
}

void MelFilterbank::apply_frames(const float* spectra, std::size_t spectra_stride, std::size_t count,
                                 float* mel, std::size_t mel_stride) const {
  for (int m = 0; m < n_mels_; ++m) {
    const auto i = static_cast<std::size_t>(m);
    float* __restrict out = mel + i * mel_stride;
    std::fill(out, out + count, 0.0f);
    const float* w = weights_.data() + offset_[i];
    for (int j = 0; j < length_[i]; ++j) {
      const float weight = w[j];
      const float* __restrict bin = spectra + static_cast<std::size_t>(first_bin_[i] + j) * spectra_stride;
      for (std::size_t f = 0; f < count; ++f) out[f] += weight * bin[f];
    }
  }
}

}  // namespace tunelens
