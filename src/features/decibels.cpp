// Decibels (librosa.power_to_db) and MFCC (librosa.feature.mfcc from a dB mel spectrogram).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "features/features.h"

namespace tunelens {

void power_to_db(Spectrogram& spectrogram, const DbOptions& options) {
  if (!(options.amin > 0.0))
    throw FeatureError("power_to_db: amin must be positive, got " + std::to_string(options.amin));
  std::vector<float>& values = spectrogram.values;
  if (values.empty()) return;

  double ref = std::abs(options.ref);
  if (options.reference == DbReference::Max) ref = *std::max_element(values.begin(), values.end());
  // librosa works in float32 for the array and in double for the scalar reference term.
  const auto ref_db = static_cast<float>(10.0 * std::log10(std::max(options.amin, ref)));
  const auto amin = static_cast<float>(options.amin);

  // 10*log10(x) as (10/ln 10)*ln(x): glibc's logf is much faster than its log10f, and the extra rounding is
  // ~1e-6 dB, far below anything that matters here.
  constexpr float kDbPerNeper = static_cast<float>(10.0 / std::numbers::ln10);
  float top = -INFINITY;
  for (float& v : values) {
    v = kDbPerNeper * std::log(std::max(amin, v)) - ref_db;
    top = std::max(top, v);
  }
  if (options.top_db > 0.0) {
    const auto floor = static_cast<float>(top - options.top_db);
    for (float& v : values) v = std::max(v, floor);
  }
}

Spectrogram mfcc(const Spectrogram& db_mel, int n_mfcc) {
  const std::size_t n = db_mel.rows;
  if (n_mfcc < 1 || static_cast<std::size_t>(n_mfcc) > n) {
    throw FeatureError("mfcc: n_mfcc must be between 1 and the number of bands (" + std::to_string(n) +
                       "), got " + std::to_string(n_mfcc));
  }
  const auto n_out = static_cast<std::size_t>(n_mfcc);
  const std::size_t frames = db_mel.frames;

  // Orthonormal DCT-II matrix, first n_mfcc rows: D[k][j] = s(k) * cos(pi * k * (2j + 1) / (2n)),
  // s(0) = sqrt(1/n), s(k > 0) = sqrt(2/n) (scipy.fftpack.dct(type=2, norm='ortho')).
  std::vector<double> dct(n_out * n);
  for (std::size_t k = 0; k < n_out; ++k) {
    const double scale = std::sqrt((k == 0 ? 1.0 : 2.0) / static_cast<double>(n));
    for (std::size_t j = 0; j < n; ++j) {
      dct[k * n + j] = scale * std::cos(std::numbers::pi * static_cast<double>(k * (2 * j + 1)) /
                                        (2.0 * static_cast<double>(n)));
    }
  }

  // Row by row (coefficient k = sum over bands j of D[k][j] * band row j), so the inner loop runs along
  // frames.
  Spectrogram out(n_out, frames);
  std::vector<double> row(frames);
  for (std::size_t k = 0; k < n_out; ++k) {
    std::fill(row.begin(), row.end(), 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      const double d = dct[k * n + j];
      const float* band = db_mel.values.data() + j * frames;
      for (std::size_t t = 0; t < frames; ++t) row[t] += d * band[t];
    }
    std::transform(row.begin(), row.end(), out.values.begin() + static_cast<std::ptrdiff_t>(k * frames),
                   [](double v) { return static_cast<float>(v); });
  }
  return out;
}

bool FeatureSettings::pointwise() const {
  return !in_db() || (db_options().reference == DbReference::Value && top_db <= 0.0);
}

DbOptions FeatureSettings::db_options() const {
  DbOptions options;
  if (db == "ref-max") options.reference = DbReference::Max;
  else if (db == "ref-one") options.reference = DbReference::Value;
  else if (db != "none") throw FeatureError("db must be ref-max, ref-one or none, not '" + db + "'");
  options.top_db = top_db;
  return options;
}

}  // namespace tunelens
