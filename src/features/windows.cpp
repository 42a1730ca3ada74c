// Fixed-size windows of a spectrogram and their min-max scaling, as the original study fed its models.
#include <algorithm>
#include <string>

#include "features/features.h"

namespace tunelens {

std::size_t window_count(const Spectrogram& spectrogram, const WindowOptions& options) {
  if (options.frames == 0) throw FeatureError("cut_windows: a window must have at least one frame");
  const std::size_t hop = options.hop == 0 ? options.frames : options.hop;
  if (spectrogram.rows == 0 || spectrogram.frames == 0) return 0;
  if (spectrogram.frames < options.frames) return options.short_clip == ShortClip::Reject ? 0 : 1;
  return (spectrogram.frames - options.frames) / hop + 1;
}

Spectrogram cut_window(const Spectrogram& spectrogram, const WindowOptions& options, std::size_t index) {
  if (index >= window_count(spectrogram, options)) throw FeatureError("cut_window: no window " + std::to_string(index));
  const std::size_t width = options.frames;
  const std::size_t hop = options.hop == 0 ? width : options.hop;
  const std::size_t rows = spectrogram.rows;
  const std::size_t frames = spectrogram.frames;
  Spectrogram window(rows, width);
  // A clip shorter than a window is one window: the clip, then its minimum (silence, in dB) up to the full width.
  const std::size_t start = index * hop;
  const std::size_t taken = std::min(width, frames - start);
  const float fill = taken < width ? *std::min_element(spectrogram.values.begin(), spectrogram.values.end()) : 0.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = spectrogram.values.data() + r * frames + start;
    float* dst = window.values.data() + r * width;
    std::copy(src, src + taken, dst);
    std::fill(dst + taken, dst + width, fill);
  }
  return window;
}

std::vector<Spectrogram> cut_windows(const Spectrogram& spectrogram, const WindowOptions& options) {
  std::vector<Spectrogram> windows(window_count(spectrogram, options));
  for (std::size_t i = 0; i < windows.size(); ++i) windows[i] = cut_window(spectrogram, options, i);
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
