// Feature speed: tunelens's mel spectrogram + dB against a straightforward implementation written the way
// librosa/numpy computes it, on the same 30 s clip, in one run and on one thread.
//
//   build/release/bench/bench_features
//
// Each benchmark reports x_realtime (seconds of audio per second of wall time); the program ends with a
// summary line "features: tunelens N x realtime, baseline M x realtime, ratio R" taken from the median of the
// repetitions.
#include <benchmark/benchmark.h>
#include <fftw3.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "features/features.h"

namespace {

using tunelens::MelOptions;
using tunelens::Spectrogram;

constexpr int kSampleRate = 22050;
constexpr double kClipSeconds = 30.0;
constexpr int kRepetitions = 5;

// A deterministic music-like 30 s signal: a chord progression of harmonic tones with note envelopes, a
// kick-like low thump on every beat, and a little noise, all from a fixed seed.
std::vector<float> synthetic_music() {
  const auto n = static_cast<std::size_t>(kClipSeconds * kSampleRate);
  std::vector<float> signal(n);
  std::mt19937 rng(2024);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  const double chords[4][3] = {
      {220.0, 277.18, 329.63}, {196.0, 246.94, 293.66}, {174.61, 220.0, 261.63}, {164.81, 207.65, 246.94}};
  const double beat = 0.5;  // seconds
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kSampleRate;
    const auto bar = static_cast<std::size_t>(t / (4 * beat)) % 4;
    const double in_beat = std::fmod(t, beat);
    double x = 0.0;
    for (double f0 : chords[bar]) {
      for (int h = 1; h <= 6; ++h) x += 0.08 / h * std::sin(2.0 * std::numbers::pi * f0 * h * t);
    }
    x *= 0.6 + 0.4 * std::exp(-6.0 * in_beat);
    x += 0.5 * std::exp(-30.0 * in_beat) * std::sin(2.0 * std::numbers::pi * 55.0 * in_beat);
    signal[i] = static_cast<float>(x) + noise(rng);
  }
  return signal;
}

const std::vector<float>& clip() {
  static const std::vector<float> signal = synthetic_music();
  return signal;
}

void set_rate(benchmark::State& state) {
  state.counters["x_realtime"] =
      benchmark::Counter(kClipSeconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// --- tunelens ----------------------------------------------------------------------------------------------

void BM_TunelensMelDb(benchmark::State& state) {
  const tunelens::MelSpectrogram mel_spectrogram;  // the FFT plan is made once, as a program would
  for (auto _ : state) {
    Spectrogram mel = mel_spectrogram.compute(clip());
    tunelens::power_to_db(mel);
    benchmark::DoNotOptimize(mel.values.data());
  }
  set_rate(state);
}

void BM_TunelensMelOnly(benchmark::State& state) {
  const tunelens::MelSpectrogram mel_spectrogram;
  for (auto _ : state) {
    Spectrogram mel = mel_spectrogram.compute(clip());
    benchmark::DoNotOptimize(mel.values.data());
  }
  set_rate(state);
}

void BM_TunelensDbOnly(benchmark::State& state) {
  const tunelens::MelSpectrogram mel_spectrogram;
  const Spectrogram mel = mel_spectrogram.compute(clip());
  for (auto _ : state) {
    state.PauseTiming();
    Spectrogram db = mel;
    state.ResumeTiming();
    tunelens::power_to_db(db);
    benchmark::DoNotOptimize(db.values.data());
  }
  set_rate(state);
}

void BM_TunelensMfcc(benchmark::State& state) {
  const tunelens::MelSpectrogram mel_spectrogram;
  Spectrogram db = mel_spectrogram.compute(clip());
  tunelens::power_to_db(db);
  for (auto _ : state) {
    Spectrogram coefficients = tunelens::mfcc(db, 20);
    benchmark::DoNotOptimize(coefficients.values.data());
  }
  set_rate(state);
}

void BM_TunelensWindowsMinmax(benchmark::State& state) {
  const tunelens::MelSpectrogram mel_spectrogram;
  Spectrogram db = mel_spectrogram.compute(clip());
  tunelens::power_to_db(db);
  tunelens::WindowOptions options;
  options.hop = 128;  // overlapping windows, so that there is more than one to scale
  for (auto _ : state) {
    std::vector<Spectrogram> windows = tunelens::cut_windows(db, options);
    for (Spectrogram& window : windows) tunelens::minmax_scale(window);
    benchmark::DoNotOptimize(windows.data());
  }
  set_rate(state);
}

// --- baseline: librosa's steps, one numpy array at a time --------------------------------------------------

// librosa.feature.melspectrogram + power_to_db(ref=np.max) done literally: pad, frame and window in float64,
// rfft in float64 (an FFTW_ESTIMATE plan made for this call), complex64 result, |X| in float32 then squared,
// the dense filterbank (rebuilt per call, as librosa does without its cache) times the spectrogram, then
// 10*log10 element by element. Every step allocates its own output.
Spectrogram baseline_mel_db(const std::vector<float>& y) {
  const MelOptions o;
  const std::size_t n_fft = static_cast<std::size_t>(o.n_fft);
  const std::size_t hop = static_cast<std::size_t>(o.hop_length);
  const std::size_t n_bins = n_fft / 2 + 1;

  // np.pad(y, n_fft // 2, mode='constant')
  std::vector<double> padded(y.size() + n_fft, 0.0);
  std::copy(y.begin(), y.end(), padded.begin() + static_cast<std::ptrdiff_t>(n_fft / 2));
  const std::size_t frames = 1 + (padded.size() - n_fft) / hop;

  // frames * window, float64
  std::vector<double> window(n_fft);
  for (std::size_t i = 0; i < n_fft; ++i)
    window[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / n_fft);
  std::vector<double> framed(frames * n_fft);
  for (std::size_t t = 0; t < frames; ++t) {
    for (std::size_t i = 0; i < n_fft; ++i) framed[t * n_fft + i] = padded[t * hop + i] * window[i];
  }

  // np.fft.rfft over every frame, in float64
  auto* spectrum = fftw_alloc_complex(frames * n_bins);
  const int n = o.n_fft;
  fftw_plan plan = fftw_plan_many_dft_r2c(1, &n, static_cast<int>(frames), framed.data(), nullptr, 1, n,
                                          spectrum, nullptr, 1, static_cast<int>(n_bins), FFTW_ESTIMATE);
  fftw_execute(plan);
  fftw_destroy_plan(plan);
  // stft_matrix.astype(complex64), laid out [bins, frames] as librosa returns it
  std::vector<std::complex<float>> stft(n_bins * frames);
  for (std::size_t t = 0; t < frames; ++t) {
    for (std::size_t k = 0; k < n_bins; ++k) {
      const auto& x = spectrum[t * n_bins + k];
      stft[k * frames + t] = {static_cast<float>(x[0]), static_cast<float>(x[1])};
    }
  }
  fftw_free(spectrum);

  // np.abs(stft) ** 2, float32
  std::vector<float> magnitude(stft.size());
  for (std::size_t i = 0; i < stft.size(); ++i) magnitude[i] = std::abs(stft[i]);
  std::vector<float> power(magnitude.size());
  for (std::size_t i = 0; i < magnitude.size(); ++i) power[i] = magnitude[i] * magnitude[i];

  // mel_basis @ S, dense
  const Spectrogram basis = tunelens::MelFilterbank(o.sample_rate, o.n_fft, o.n_mels).dense();
  Spectrogram mel(basis.rows, frames);
  for (std::size_t m = 0; m < basis.rows; ++m) {
    float* out = mel.values.data() + m * frames;
    for (std::size_t k = 0; k < n_bins; ++k) {
      const float w = basis.at(m, k);
      const float* row = power.data() + k * frames;
      for (std::size_t t = 0; t < frames; ++t) out[t] += w * row[t];
    }
  }

  // power_to_db(S, ref=np.max, amin=1e-10, top_db=80)
  const float ref = *std::max_element(mel.values.begin(), mel.values.end());
  Spectrogram db(mel.rows, mel.frames);
  for (std::size_t i = 0; i < mel.values.size(); ++i)
    db.values[i] = 10.0f * std::log10(std::max(1e-10f, mel.values[i]));
  const float ref_db = 10.0f * std::log10(std::max(1e-10f, ref));
  for (float& v : db.values) v -= ref_db;
  const float floor = *std::max_element(db.values.begin(), db.values.end()) - 80.0f;
  for (float& v : db.values) v = std::max(v, floor);
  return db;
}

void BM_BaselineMelDb(benchmark::State& state) {
  for (auto _ : state) {
    Spectrogram db = baseline_mel_db(clip());
    benchmark::DoNotOptimize(db.values.data());
  }
  set_rate(state);
}

// The baseline must compute the same thing, or the comparison means nothing: checked once before timing.
void check_baseline_agrees() {
  const tunelens::MelSpectrogram mel_spectrogram;
  Spectrogram ours = mel_spectrogram.compute(clip());
  tunelens::power_to_db(ours);
  const Spectrogram base = baseline_mel_db(clip());
  float max_diff = 0.0f;
  for (std::size_t i = 0; i < ours.values.size(); ++i) {
    if (base.values[i] > -60.0f) max_diff = std::max(max_diff, std::abs(ours.values[i] - base.values[i]));
  }
  std::printf("baseline check: %zu x %zu, max |tunelens - baseline| over bins > -60 dB: %.2g dB\n", ours.rows,
              ours.frames, static_cast<double>(max_diff));
}

#define FEATURE_BENCHMARK(fn)         \
  BENCHMARK(fn)                       \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Repetitions(kRepetitions)     \
      ->DisplayAggregatesOnly()

FEATURE_BENCHMARK(BM_TunelensMelDb);
FEATURE_BENCHMARK(BM_BaselineMelDb);
FEATURE_BENCHMARK(BM_TunelensMelOnly);
FEATURE_BENCHMARK(BM_TunelensDbOnly);
FEATURE_BENCHMARK(BM_TunelensMfcc);
FEATURE_BENCHMARK(BM_TunelensWindowsMinmax);

// Console output as usual, and the median wall time of each benchmark kept for the summary line.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal, as the library's own console reporter does with --benchmark_color=auto.
  SummaryReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (!run.error_occurred && (median || single)) {
        seconds_[run.run_name.function_name] =
            run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Audio seconds per wall second, or 0 if the benchmark did not run.
  double x_realtime(const std::string& name) const {
    const auto it = seconds_.find(name);
    return it == seconds_.end() || it->second <= 0.0 ? 0.0 : kClipSeconds / it->second;
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  check_baseline_agrees();
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double ours = reporter.x_realtime("BM_TunelensMelDb");
  const double base = reporter.x_realtime("BM_BaselineMelDb");
  std::printf("features: tunelens %.0f x realtime, baseline %.0f x realtime, ratio %.1f\n", ours, base,
              base > 0.0 ? ours / base : 0.0);
  return 0;
}
