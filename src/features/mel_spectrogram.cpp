// Mel power spectrogram: librosa.feature.melspectrogram's STFT (periodic Hann, zero or reflect padding when
// centred), then the sparse mel filterbank.
//
// Speed comes from three things: one FFTW plan made in the constructor and reused by every call (and every
// thread) through the new-array execute function; no allocation per frame; and frames processed in blocks of
// kBlockFrames, with the power spectra of a block stored bin-major, so the filterbank's inner loop runs over
// the block's frames (vectorised) and writes straight into the [mel][frame] output rows.
#include <fcntl.h>
#include <fmt/format.h>
#include <fftw3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <numbers>
#include <string>

#include "features/features.h"

namespace tunelens {
namespace {

constexpr std::size_t kBlockFrames = 16;
// Strides between the FFT outputs of a block are rounded to this many bytes so that every frame's buffer has
// the alignment the plan was made with (fftwf_execute_dft_r2c requires it).
constexpr std::size_t kAlignBytes = 64;

// The FFTW planner (plan creation and destruction) is not thread-safe; execution is. One lock for the
// process.
std::mutex& planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Where measured FFT plans are kept between runs: $TUNELENS_FFTW_WISDOM, else $XDG_CACHE_HOME/tunelens or
// ~/.cache/tunelens. "none" turns the cache off.
std::filesystem::path wisdom_file() {
  if (const char* path = std::getenv("TUNELENS_FFTW_WISDOM")) return std::string(path) == "none" ? "" : path;
  std::filesystem::path folder;
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) folder = cache;
  else if (const char* home = std::getenv("HOME"); home && *home) folder = std::filesystem::path(home) / ".cache";
  else return {};
  return folder / "tunelens" / "fftw3f.wisdom";
}

// FFTW_MEASURE times candidate algorithms and keeps the fastest, so two runs may pick different ones, whose results
// differ in the last bits. To make every run on a machine compute the same numbers, the first run's choice is saved
// as FFTW wisdom and every later run (and every process planning at the same time, under a file lock) plans from
// it. Without a writable cache folder, planning falls back to FFTW_ESTIMATE: deterministic, about 20 % slower.
fftwf_plan plan_fft(int n_fft, float* in, fftwf_complex* out) {
  const std::lock_guard lock(planner_mutex());
  const auto file = wisdom_file();
  std::error_code ec;
  if (!file.empty()) std::filesystem::create_directories(file.parent_path(), ec);
  const int lock_fd = file.empty() || ec ? -1 : ::open((file.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
    if (lock_fd >= 0) ::close(lock_fd);
    return fftwf_plan_dft_r2c_1d(n_fft, in, out, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  }
  fftwf_import_wisdom_from_filename(file.c_str());  // absent or unreadable: plan afresh
  // With wisdom for this size, FFTW_WISDOM_ONLY plans without measuring; otherwise measure and save the choice.
  fftwf_plan plan = fftwf_plan_dft_r2c_1d(n_fft, in, out, FFTW_MEASURE | FFTW_DESTROY_INPUT | FFTW_WISDOM_ONLY);
  if (plan == nullptr) {
    plan = fftwf_plan_dft_r2c_1d(n_fft, in, out, FFTW_MEASURE | FFTW_DESTROY_INPUT);
    const std::string partial = file.string() + ".partial";
    if (plan != nullptr && fftwf_export_wisdom_to_filename(partial.c_str()) != 0)
      std::filesystem::rename(partial, file, ec);
  }
  ::flock(lock_fd, LOCK_UN);
  ::close(lock_fd);
  return plan;
}

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
template <typename T>
using FftwBuffer = std::unique_ptr<T[], FftwFree>;

template <typename T>
FftwBuffer<T> fftw_buffer(std::size_t count) {
  auto* p = static_cast<T*>(fftwf_malloc(sizeof(T) * std::max<std::size_t>(count, 1)));
  if (p == nullptr) throw std::bad_alloc();
  return FftwBuffer<T>(p);
}

// Index into a signal of n samples (n >= 1) of position i of its reflect-padded extension, numpy.pad mode
// 'reflect': mirrored about the first and last samples without repeating them. Beyond one reflection (a pad
// longer than n - 1, only for signals shorter than n_fft / 2 + 1) it keeps reflecting, as numpy does: the
// extension is periodic with period 2 (n - 1). A single sample reflects to itself.
std::ptrdiff_t reflected_index(std::ptrdiff_t i, std::ptrdiff_t n) {
  if (n == 1) return 0;
  const std::ptrdiff_t period = 2 * (n - 1);
  std::ptrdiff_t j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

MelOptions validated(MelOptions options) {
  const auto fail = [](const std::string& reason) { throw FeatureError("mel spectrogram: " + reason); };
  const auto between = [&](const char* name, long long value, long long low, long long high) {
    if (value < low || value > high)
      fail(fmt::format("{} must be between {} and {}, got {}", name, low, high, value));
  };
  between("sample_rate", options.sample_rate, kLimits.min_sample_rate, kLimits.max_sample_rate);
  between("n_fft", options.n_fft, 2, kLimits.max_n_fft);
  between("hop_length", options.hop_length, 1, kLimits.max_hop_length);
  between("n_mels", options.n_mels, 1, kLimits.max_n_mels);
  if (!(options.power > 0.0) || !std::isfinite(options.power)) {
    fail("power must be positive, got " + std::to_string(options.power));
  }
  const double nyquist = options.sample_rate / 2.0;
  if (options.fmax <= 0.0) options.fmax = nyquist;
  if (options.fmax > nyquist) {
    fail("fmax " + std::to_string(options.fmax) + " Hz is above the Nyquist frequency " +
         std::to_string(nyquist) + " Hz");
  }
  if (!(options.fmin >= 0.0) || options.fmin >= options.fmax) {
    fail("need 0 <= fmin < fmax, got fmin " + std::to_string(options.fmin) + " Hz, fmax " +
         std::to_string(options.fmax) + " Hz");
  }
  return options;
}

}  // namespace

struct MelSpectrogram::Plan {
  fftwf_plan fft = nullptr;
  std::vector<float> window;   // periodic Hann, n_fft values
  std::size_t n_bins = 0;      // 1 + n_fft / 2
  std::size_t out_stride = 0;  // complex values between the FFT outputs of consecutive frames in a block

  ~Plan() {
    if (fft != nullptr) {
      const std::lock_guard lock(planner_mutex());
      fftwf_destroy_plan(fft);
    }
  }
};

MelSpectrogram::MelSpectrogram(const MelOptions& options)
    : options_(validated(options)),
      filterbank_(options_.sample_rate, options_.n_fft, options_.n_mels, options_.fmin, options_.fmax,
                  options_.mel_scale, options_.mel_norm),
      plan_(std::make_unique<Plan>()) {
  const auto n_fft = static_cast<std::size_t>(options_.n_fft);
  plan_->n_bins = n_fft / 2 + 1;
  constexpr std::size_t kComplexPerAlign = kAlignBytes / sizeof(fftwf_complex);
  plan_->out_stride = (plan_->n_bins + kComplexPerAlign - 1) / kComplexPerAlign * kComplexPerAlign;

  // scipy.signal.get_window('hann', n_fft, fftbins=True), in double, stored as float.
  plan_->window.resize(n_fft);
  for (std::size_t i = 0; i < n_fft; ++i) {
    plan_->window[i] = static_cast<float>(
        0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / options_.n_fft));
  }

  // Planned on scratch buffers from fftwf_malloc; compute() executes the plan on its own buffers, also from
  // fftwf_malloc, so their alignment matches. Measuring takes ~0.15 s the first time a size is planned on a
  // machine (then the saved wisdom is used) and gives a ~25 % faster transform than FFTW_ESTIMATE.
  auto in = fftw_buffer<float>(n_fft);
  auto out = fftw_buffer<fftwf_complex>(plan_->n_bins);
  plan_->fft = plan_fft(options_.n_fft, in.get(), out.get());
  if (plan_->fft == nullptr)
    throw FeatureError("mel spectrogram: FFTW could not plan n_fft " + std::to_string(n_fft));
}

MelSpectrogram::~MelSpectrogram() = default;

std::size_t frame_count(const MelOptions& options, std::size_t n_samples) {
  // An empty signal has no frames (librosa would pad it to one all-zero frame when centred; we return none).
  if (n_samples == 0 || options.n_fft < 1 || options.hop_length < 1) return 0;
  const auto n_fft = static_cast<std::size_t>(options.n_fft);
  const std::size_t padded = options.center ? n_samples + 2 * (n_fft / 2) : n_samples;
  if (padded < n_fft) return 0;
  return 1 + (padded - n_fft) / static_cast<std::size_t>(options.hop_length);
}

std::size_t MelSpectrogram::frame_count(std::size_t n_samples) const {
  return tunelens::frame_count(options_, n_samples);
}

// Per-computation buffers: what makes compute() safe to run from many threads on one object.
struct MelSpectrogram::Work {
  explicit Work(const Plan& plan, std::size_t n_fft)
      : frame(fftw_buffer<float>(n_fft)),
        spectra(fftw_buffer<fftwf_complex>(kBlockFrames * plan.out_stride)),
        power(fftw_buffer<float>(plan.n_bins * kBlockFrames)) {}
  FftwBuffer<float> frame;
  FftwBuffer<fftwf_complex> spectra;
  FftwBuffer<float> power;  // bin-major: power[k * kBlockFrames + f]
};

Spectrogram MelSpectrogram::compute(std::span<const float> signal) const {
  const std::size_t frames = frame_count(signal.size());
  Spectrogram mel(static_cast<std::size_t>(options_.n_mels), frames);
  if (frames == 0) return mel;
  Work work(*plan_, static_cast<std::size_t>(options_.n_fft));
  for (std::size_t t0 = 0; t0 < frames; t0 += kBlockFrames)
    compute_frames(work, signal.data(), 0, static_cast<std::ptrdiff_t>(signal.size()), t0,
                   std::min(kBlockFrames, frames - t0), mel.values.data() + t0, frames);
  return mel;
}

void MelSpectrogram::compute_frames(Work& work, const float* data, std::ptrdiff_t base, std::ptrdiff_t n,
                                    std::size_t t0, std::size_t count, float* out, std::size_t out_stride) const {
  const auto n_fft = static_cast<std::ptrdiff_t>(options_.n_fft);
  const auto hop = static_cast<std::ptrdiff_t>(options_.hop_length);
  const std::ptrdiff_t pad = options_.center ? n_fft / 2 : 0;
  const std::size_t n_bins = plan_->n_bins;
  const std::size_t out_stride_fft = plan_->out_stride;
  const float* window = plan_->window.data();
  // The signal's sample i is sample(i), for i from base on.
  const auto sample = [&](std::ptrdiff_t i) { return data[i - base]; };

  for (std::size_t f = 0; f < count; ++f) {
    // Frame t covers samples [t*hop - pad, t*hop - pad + n_fft) of the signal; outside it, the padding.
    const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(t0 + f) * hop - pad;
    float* in = work.frame.get();
    if (start >= 0 && start + n_fft <= n) {
      const float* x = data + (start - base);
      for (std::ptrdiff_t i = 0; i < n_fft; ++i) in[i] = x[i] * window[i];
    } else if (options_.pad_mode == PadMode::Reflect) {
      for (std::ptrdiff_t i = 0; i < n_fft; ++i) in[i] = sample(reflected_index(start + i, n)) * window[i];
    } else {
      const std::ptrdiff_t lo = std::clamp<std::ptrdiff_t>(-start, 0, n_fft);
      const std::ptrdiff_t hi = std::clamp<std::ptrdiff_t>(n - start, lo, n_fft);
      std::fill(in, in + lo, 0.0f);
      for (std::ptrdiff_t i = lo; i < hi; ++i) in[i] = sample(start + i) * window[i];
      std::fill(in + hi, in + n_fft, 0.0f);
    }
    fftwf_execute_dft_r2c(plan_->fft, in, work.spectra.get() + f * out_stride_fft);
  }

  // |X|^power, transposed to bin-major. Bins outer, frames inner: the writes are sequential and the reads
  // are count sequential streams (the other order's scattered writes measured slower).
  float* p = work.power.get();
  const fftwf_complex* x = work.spectra.get();
  if (options_.power == 2.0) {  // the default: no square root
    for (std::size_t k = 0; k < n_bins; ++k) {
      for (std::size_t f = 0; f < count; ++f) {
        const fftwf_complex& z = x[f * out_stride_fft + k];
        p[k * kBlockFrames + f] = z[0] * z[0] + z[1] * z[1];
      }
    }
  } else {
    const auto exponent = static_cast<float>(options_.power);
    for (std::size_t k = 0; k < n_bins; ++k) {
      for (std::size_t f = 0; f < count; ++f) {
        const fftwf_complex& z = x[f * out_stride_fft + k];
        const float magnitude = std::sqrt(z[0] * z[0] + z[1] * z[1]);
        p[k * kBlockFrames + f] = options_.power == 1.0 ? magnitude : std::pow(magnitude, exponent);
      }
    }
  }
  filterbank_.apply_frames(p, kBlockFrames, count, out, out_stride);
}

void SpectrogramBuilder::reserve(std::size_t frames) {
  if (frames <= capacity_) return;
  std::vector<float> wider(rows_ * frames);
  for (std::size_t r = 0; r < rows_; ++r)
    std::copy_n(values_.data() + r * capacity_, frames_, wider.data() + r * frames);
  values_ = std::move(wider);
  capacity_ = frames;
}

float* SpectrogramBuilder::append(std::size_t count) {
  if (frames_ + count > capacity_) reserve(std::max(frames_ + count, capacity_ * 2));
  float* at = values_.data() + frames_;
  frames_ += count;
  return at;
}

void SpectrogramBuilder::append(const Spectrogram& frames) {
  float* at = append(frames.frames);
  for (std::size_t r = 0; r < rows_; ++r)
    std::copy_n(frames.values.data() + r * frames.frames, frames.frames, at + r * capacity_);
}

Spectrogram SpectrogramBuilder::finish() {
  Spectrogram result;
  result.rows = rows_;
  result.frames = frames_;
  // Rows move down to close the gaps (each to a lower address, so in order is safe); a capacity hint that was
  // far too large gives its memory back.
  for (std::size_t r = 1; r < rows_ && frames_ < capacity_; ++r)
    std::memmove(values_.data() + r * frames_, values_.data() + r * capacity_, frames_ * sizeof(float));
  values_.resize(rows_ * frames_);
  if (capacity_ > frames_ + frames_ / 4) values_.shrink_to_fit();
  result.values = std::move(values_);
  values_.clear();
  frames_ = capacity_ = 0;
  return result;
}

MelStream::MelStream(const MelSpectrogram& mel)
    : mel_(mel),
      work_(std::make_unique<MelSpectrogram::Work>(*mel.plan_, static_cast<std::size_t>(mel.options().n_fft))),
      out_(static_cast<std::size_t>(mel.options().n_mels)) {}

MelStream::~MelStream() = default;

void MelStream::expect(std::size_t samples) { out_.reserve(mel_.frame_count(samples)); }

void MelStream::push(std::span<const float> samples) {
  buffer_.insert(buffer_.end(), samples.begin(), samples.end());
  const auto& options = mel_.options();
  const std::size_t received = base_ + buffer_.size();
  const auto n_fft = static_cast<std::size_t>(options.n_fft);
  const std::size_t pad = options.center ? n_fft / 2 : 0;
  // Frame t is ready once all its samples are in: t*hop - pad + n_fft <= received. (Reflection at the start
  // mirrors samples 1..pad, in by then.) The end's padding waits for finish().
  if (received < n_fft + 2 || received + pad < n_fft) return;
  const std::size_t ready = (received + pad - n_fft) / static_cast<std::size_t>(options.hop_length) + 1;
  compute_ready(ready, static_cast<std::ptrdiff_t>(received));
  // Keep the samples from n_fft before the next frame's start: the end's reflection reaches that far back.
  const std::size_t next_start = next_frame_ * static_cast<std::size_t>(options.hop_length);
  const std::size_t keep_from = next_start > pad + n_fft ? next_start - pad - n_fft : 0;
  // (With a hop over twice n_fft the next frame may start past every sample received: all of them go then.)
  const std::size_t drop = std::min(keep_from, received) > base_ ? std::min(keep_from, received) - base_ : 0;
  if (drop > 0 && drop >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(drop));
    base_ += drop;
  }
}

void MelStream::compute_ready(std::size_t ready_frames, std::ptrdiff_t n) {
  while (next_frame_ < ready_frames) {
    const std::size_t count = std::min(kBlockFrames, ready_frames - next_frame_);
    float* at = out_.append(count);
    mel_.compute_frames(*work_, buffer_.data(), static_cast<std::ptrdiff_t>(base_), n, next_frame_, count, at,
                        out_.stride());
    next_frame_ += count;
  }
}

Spectrogram MelStream::take() {
  return out_.finish();
}

Spectrogram MelStream::finish() {
  const std::size_t n = base_ + buffer_.size();
  compute_ready(mel_.frame_count(n), static_cast<std::ptrdiff_t>(n));
  buffer_.clear();
  buffer_.shrink_to_fit();
  return take();
}

}  // namespace tunelens
