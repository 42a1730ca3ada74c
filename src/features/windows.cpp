// Fixed-size windows of a spectrogram and their min-max scaling, as the original study fed its models.
#include <algorithm>
#include <string>

#include "features/features.h"

namespace tunelens {

std::vector<Spectrogram> cut_windows(const Spectrogram& spectrogram, const WindowOptions& options) {
  if (options.frames == 0) throw FeatureError("cut_windows: a window must have at least one frame");
  const std::size_t width = options.frames;
  const std::size_t hop = options.hop == 0 ? width : options.hop;
  const std::size_t rows = spectrogram.rows;
  const std::size_t frames = spectrogram.frames;

  std::vector<Spectrogram> windows;
  if (rows == 0 || frames == 0) return windows;

  if (frames < width) {
    if (options.short_clip == ShortClip::Reject) return windows;
    // One window: the clip, then its minimum (silence, in dB) up to the full width.
    const float fill = *std::min_element(spectrogram.values.begin(), spectrogram.values.end());
    Spectrogram& window = windows.emplace_back(rows, width);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* src = spectrogram.values.data() + r * frames;
      float* dst = window.values.data() + r * width;
      std::copy(src, src + frames, dst);
      std::fill(dst + frames, dst + width, fill);
    }
    return windows;
  }

  windows.reserve((frames - width) / hop + 1);
  for (std::size_t start = 0; start + width <= frames; start += hop) {
    Spectrogram& window = windows.emplace_back(rows, width);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* src = spectrogram.values.data() + r * frames + start;
      std::copy(src, src + width, window.values.data() + r * width);
    }
  }
  return windows;
}

void minmax_scale(Spectrogram& window) {
  std::vector<float>& values = window.values;
  if (values.empty()) return;
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const float lo = *lo_it;
  const float range = *hi_it - lo;
  if (!(range > 0.0f)) {
    std::fill(values.begin(), values.end(), 0.0f);
    return;
  }
  // Division rather than multiplication by 1/range: x - lo <= range, so the result never exceeds 1.
  for (float& v : values) v = (v - lo) / range;
}

}  // namespace tunelens
