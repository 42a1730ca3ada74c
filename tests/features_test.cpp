// Features against librosa 0.11's own outputs (tests/data/librosa, see its manifest.json), and the behaviour
// a user relies on: frame counts, dB options, MFCC, windows, scaling, parameter checks, concurrent use.
#include "features/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

const std::filesystem::path kLibrosa = std::filesystem::path(TUNELENS_TEST_DATA) / "librosa";

NpyArray fixture(const std::string& name) {
  return read_npy(kLibrosa / name);
}

std::vector<float> signal_of(const std::string& name) {
  return fixture(name).values;
}

double norm(const std::vector<float>& v) {
  double sum = 0.0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

// ||ours - ref|| / ||ref||, or ||ours|| when the reference is all zero.
double relative_error(const std::vector<float>& ours, const std::vector<float>& ref) {
  double diff = 0.0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const double d = static_cast<double>(ours[i]) - ref[i];
    diff += d * d;
  }
  const double ref_norm = norm(ref);
  return ref_norm > 0.0 ? std::sqrt(diff) / ref_norm : std::sqrt(diff);
}

void expect_shape(const Spectrogram& ours, const NpyArray& ref) {
  ASSERT_EQ(ref.shape.size(), 2u);
  ASSERT_EQ(ours.rows, ref.shape[0]);
  ASSERT_EQ(ours.frames, ref.shape[1]);
  ASSERT_EQ(ours.values.size(), ref.values.size());
}

// -----------------------------------------------------------------------------------------------------------
// librosa parity

TEST(MelFilterbank, MatchesLibrosaFilters) {
  const MelFilterbank bank(22050, 2048, 128);
  const Spectrogram dense = bank.dense();
  const NpyArray ref = fixture("mel_filters_sr22050_nfft2048_n128.npy");
  expect_shape(dense, ref);
  double max_diff = 0.0;
  for (std::size_t i = 0; i < ref.values.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(dense.values[i]) - ref.values[i]));
  }
  std::printf("[ parity   ] filterbank max abs diff %.3g\n", max_diff);
  EXPECT_LE(max_diff, 1e-6);
}

TEST(MelFilterbank, SparseApplyMatchesDenseProduct) {
  const MelFilterbank bank(22050, 2048, 128);
  const Spectrogram dense = bank.dense();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> spectrum(static_cast<std::size_t>(bank.n_bins()));
  for (float& x : spectrum) x = uniform(rng);
  std::vector<float> mel(128);
  bank.apply(spectrum.data(), mel.data());
  for (std::size_t m = 0; m < 128; ++m) {
    double expected = 0.0;
    for (std::size_t k = 0; k < spectrum.size(); ++k)
      expected += static_cast<double>(dense.at(m, k)) * spectrum[k];
    EXPECT_NEAR(mel[m], expected, 1e-5 * std::max(1.0, expected)) << "band " << m;
  }
}

class LibrosaCase : public ::testing::TestWithParam<std::string> {};

TEST_P(LibrosaCase, MelPowerMatches) {
  const std::string name = GetParam();
  const MelSpectrogram mel_spectrogram;
  const Spectrogram ours = mel_spectrogram.compute(signal_of(name + ".signal.npy"));
  const NpyArray ref = fixture(name + ".mel_power.npy");
  expect_shape(ours, ref);
  const double error = relative_error(ours.values, ref.values);
  std::printf("[ parity   ] %-24s mel power relative error %.3g\n", name.c_str(), error);
  if (norm(ref.values) == 0.0) {
    EXPECT_LE(error, 1e-20);  // silence: all zero, or tiny
  } else {
    EXPECT_LE(error, 1e-5);
  }
}

TEST_P(LibrosaCase, DecibelsMatch) {
  const std::string name = GetParam();
  const MelSpectrogram mel_spectrogram;
  Spectrogram ours = mel_spectrogram.compute(signal_of(name + ".signal.npy"));
  power_to_db(ours);
  const NpyArray ref = fixture(name + ".mel_db_refmax.npy");
  expect_shape(ours, ref);
  double max_diff = 0.0;
  std::size_t compared = 0;
  for (std::size_t i = 0; i < ref.values.size(); ++i) {
    if (ref.values[i] <= -60.0f) continue;
    max_diff = std::max(max_diff, std::abs(static_cast<double>(ours.values[i]) - ref.values[i]));
    ++compared;
  }
  std::printf("[ parity   ] %-24s dB max abs diff %.3g over %zu bins > -60 dB\n", name.c_str(), max_diff,
              compared);
  EXPECT_GT(compared, 0u);
  EXPECT_LE(max_diff, 0.01);
}

INSTANTIATE_TEST_SUITE_P(Librosa, LibrosaCase,
                         ::testing::Values("sweep", "noise", "silence", "short", "impulse",
                                           "music_48k_stereo_flac", "music_48k_stereo_ogg",
                                           "music_44k_stereo_wav", "music_44k_stereo_mp3",
                                           "music_22k_mono_au"));

TEST(MelSpectrogram, NonDefaultOptionsMatchLibrosa) {
  MelOptions options;
  options.sample_rate = 16000;
  options.n_fft = 512;
  options.hop_length = 256;
  options.n_mels = 96;
  options.fmax = 8000;
  const MelSpectrogram mel_spectrogram(options);
  const Spectrogram ours = mel_spectrogram.compute(signal_of("music_44k_stereo_wav.sr16000.signal.npy"));
  const NpyArray ref = fixture("music_44k_stereo_wav.sr16000_nfft512_hop256_mels96.mel_power.npy");
  expect_shape(ours, ref);
  const double error = relative_error(ours.values, ref.values);
  std::printf("[ parity   ] sr16000 nfft512 hop256 mels96 mel power relative error %.3g\n", error);
  EXPECT_LE(error, 1e-5);
}

// -----------------------------------------------------------------------------------------------------------
// STFT framing and power

TEST(MelSpectrogram, FrameCount) {
  const MelSpectrogram centred;
  EXPECT_EQ(centred.frame_count(22050), 1u + 22050 / 512);  // 44, as librosa
  EXPECT_EQ(centred.frame_count(264600), 517u);
  EXPECT_EQ(centred.frame_count(1000), 2u);
  EXPECT_EQ(centred.frame_count(1), 1u);
  EXPECT_EQ(centred.frame_count(0), 0u);  // documented: an empty signal has no frames

  MelOptions options;
  options.center = false;
  const MelSpectrogram uncentred(options);
  EXPECT_EQ(uncentred.frame_count(2047), 0u);
  EXPECT_EQ(uncentred.frame_count(2048), 1u);
  EXPECT_EQ(uncentred.frame_count(2048 + 511), 1u);
  EXPECT_EQ(uncentred.frame_count(2048 + 512), 2u);
}

TEST(MelSpectrogram, ShortAndEmptySignals) {
  const MelSpectrogram mel_spectrogram;
  std::vector<float> short_signal(1000);
  for (std::size_t i = 0; i < short_signal.size(); ++i)
    short_signal[i] = std::sin(0.05f * static_cast<float>(i));
  const Spectrogram mel = mel_spectrogram.compute(short_signal);
  EXPECT_EQ(mel.rows, 128u);
  EXPECT_EQ(mel.frames, 2u);
  EXPECT_GT(*std::max_element(mel.values.begin(), mel.values.end()), 0.0f);

  const Spectrogram empty = mel_spectrogram.compute({});
  EXPECT_EQ(empty.rows, 128u);
  EXPECT_EQ(empty.frames, 0u);
  EXPECT_TRUE(empty.values.empty());
}

// One frame's mel, computed the slow way in double: zero-padded frame, periodic Hann, O(n^2) DFT, |X|^power,
// dense filterbank.
std::vector<double> direct_mel_frame(const std::vector<float>& signal, const MelSpectrogram& mel_spectrogram,
                                     std::size_t t) {
  const MelOptions& o = mel_spectrogram.options();
  const auto n_fft = static_cast<std::size_t>(o.n_fft);
  const std::size_t n_bins = n_fft / 2 + 1;
  std::vector<double> frame(n_fft, 0.0);
  for (std::size_t i = 0; i < n_fft; ++i) {
    const auto at = static_cast<std::ptrdiff_t>(t * static_cast<std::size_t>(o.hop_length) + i) -
                    static_cast<std::ptrdiff_t>(n_fft / 2);
    if (at >= 0 && at < static_cast<std::ptrdiff_t>(signal.size())) {
      const double hann = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / o.n_fft);
      frame[i] = signal[static_cast<std::size_t>(at)] * hann;
    }
  }
  std::vector<double> spectrum(n_bins);
  for (std::size_t k = 0; k < n_bins; ++k) {
    double re = 0.0;
    double im = 0.0;
    for (std::size_t i = 0; i < n_fft; ++i) {
      const double angle = 2.0 * std::numbers::pi * static_cast<double>((k * i) % n_fft) / o.n_fft;
      re += frame[i] * std::cos(angle);
      im -= frame[i] * std::sin(angle);
    }
    spectrum[k] = std::pow(std::hypot(re, im), o.power);
  }
  const Spectrogram dense = mel_spectrogram.filterbank().dense();
  std::vector<double> mel(dense.rows, 0.0);
  for (std::size_t m = 0; m < dense.rows; ++m) {
    for (std::size_t k = 0; k < n_bins; ++k) mel[m] += dense.at(m, k) * spectrum[k];
  }
  return mel;
}

TEST(MelSpectrogram, PowerOneTwoAndOtherAgainstDirectDft) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> signal(4000);
  for (std::size_t i = 0; i < signal.size(); ++i) {
    signal[i] = 0.5f * std::sin(0.3f * static_cast<float>(i)) + noise(rng);
  }
  for (double power : {1.0, 2.0, 1.5}) {
    MelOptions options;
    options.sample_rate = 8000;
    options.n_fft = 256;
    options.hop_length = 64;
    options.n_mels = 20;
    options.power = power;
    const MelSpectrogram mel_spectrogram(options);
    const Spectrogram mel = mel_spectrogram.compute(signal);
    for (std::size_t t : {std::size_t{0}, std::size_t{17}, mel.frames - 1}) {
      const std::vector<double> expected = direct_mel_frame(signal, mel_spectrogram, t);
      for (std::size_t m = 0; m < expected.size(); ++m) {
        EXPECT_NEAR(mel.at(m, t), expected[m], 1e-4 * std::max(1.0, std::abs(expected[m])))
            << "power " << power << " frame " << t << " band " << m;
      }
    }
  }
}

TEST(MelSpectrogram, ScalesWithThePowerOfTheAmplitude) {
  std::vector<float> signal = signal_of("music_22k_mono_au.signal.npy");
  signal.resize(22050);
  std::vector<float> doubled(signal);
  for (float& x : doubled) x *= 2.0f;
  for (double power : {1.0, 2.0}) {
    MelOptions options;
    options.power = power;
    const MelSpectrogram mel_spectrogram(options);
    const Spectrogram a = mel_spectrogram.compute(signal);
    const Spectrogram b = mel_spectrogram.compute(doubled);
    const double factor = std::pow(2.0, power);
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      ASSERT_NEAR(b.values[i], factor * a.values[i], 1e-5 * factor * a.values[i] + 1e-12)
          << "power " << power;
    }
  }
}

TEST(MelSpectrogram, ConcurrentComputeMatchesSerial) {
  const MelSpectrogram mel_spectrogram;
  const std::vector<float> signal = signal_of("music_22k_mono_au.signal.npy");
  const Spectrogram serial = mel_spectrogram.compute(signal);
  constexpr int kThreads = 6;
  std::vector<Spectrogram> results(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 3; ++repeat)
        results[static_cast<std::size_t>(i)] = mel_spectrogram.compute(signal);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Spectrogram& result : results) {
    ASSERT_EQ(result.rows, serial.rows);
    ASSERT_EQ(result.frames, serial.frames);
    EXPECT_TRUE(result.values == serial.values);  // bit for bit
  }
}

TEST(MelSpectrogram, ObjectsCanBeBuiltFromManyThreads) {
  // Planning goes through FFTW's planner, which is not thread-safe; the constructor must serialise it.
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<std::size_t> frames(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&frames, i] {
      MelOptions options;
      options.n_fft = 256 << i;
      options.hop_length = 64;
      const MelSpectrogram mel_spectrogram(options);
      frames[static_cast<std::size_t>(i)] = mel_spectrogram.compute(std::vector<float>(4096, 0.25f)).frames;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (std::size_t f : frames) EXPECT_EQ(f, 1u + 4096 / 64);
}

TEST(MelSpectrogram, BadParametersThrow) {
  const auto with = [](auto change) {
    MelOptions options;
    change(options);
    return options;
  };
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.n_fft = 1; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.hop_length = 0; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.n_mels = 0; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.fmax = 11025.5; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.fmin = 11025.0; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) {
                 o.fmin = 5000.0;
                 o.fmax = 4000.0;
               })),
               FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.fmin = -1.0; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.sample_rate = 0; })), FeatureError);
  EXPECT_THROW(MelSpectrogram(with([](MelOptions& o) { o.power = 0.0; })), FeatureError);
  EXPECT_NO_THROW(MelSpectrogram(with([](MelOptions& o) { o.fmax = 11025.0; })));

  EXPECT_THROW(MelFilterbank(22050, 1, 128), FeatureError);
  EXPECT_THROW(MelFilterbank(22050, 2048, 0), FeatureError);
  EXPECT_THROW(MelFilterbank(22050, 2048, 128, 0.0, 12000.0), FeatureError);
  EXPECT_THROW(MelFilterbank(22050, 2048, 128, 3000.0, 3000.0), FeatureError);
}

// -----------------------------------------------------------------------------------------------------------
// Decibels

Spectrogram row_of(std::vector<float> values) {
  Spectrogram s(1, values.size());
  s.values = std::move(values);
  return s;
}

TEST(PowerToDb, ReferenceMax) {
  Spectrogram s = row_of({4.0f, 0.4f, 0.04f, 0.0f});
  power_to_db(s);
  EXPECT_NEAR(s.values[0], 0.0f, 1e-5);
  EXPECT_NEAR(s.values[1], -10.0f, 1e-5);
  EXPECT_NEAR(s.values[2], -20.0f, 1e-5);
  EXPECT_NEAR(s.values[3], -80.0f, 1e-5);  // floored at max - top_db
}

TEST(PowerToDb, ReferenceValue) {
  DbOptions options;
  options.reference = DbReference::Value;
  options.ref = 1.0;
  options.top_db = 0.0;
  Spectrogram s = row_of({1.0f, 100.0f, 0.01f, 0.0f});
  power_to_db(s, options);
  EXPECT_NEAR(s.values[0], 0.0f, 1e-5);
  EXPECT_NEAR(s.values[1], 20.0f, 1e-5);
  EXPECT_NEAR(s.values[2], -20.0f, 1e-5);
  EXPECT_NEAR(s.values[3], -100.0f, 1e-4);  // amin = 1e-10

  options.ref = 10.0;
  Spectrogram t = row_of({1.0f, 100.0f});
  power_to_db(t, options);
  EXPECT_NEAR(t.values[0], -10.0f, 1e-5);
  EXPECT_NEAR(t.values[1], 10.0f, 1e-5);
}

TEST(PowerToDb, TopDbClipsAndNonPositiveDisables) {
  const std::vector<float> values = {1.0f, 1e-3f, 1e-9f};
  for (double top_db : {0.0, -5.0}) {
    DbOptions options;
    options.top_db = top_db;
    Spectrogram s = row_of(values);
    power_to_db(s, options);
    EXPECT_NEAR(s.values[2], -90.0f, 1e-4) << "top_db " << top_db;
  }
  DbOptions clip;
  clip.top_db = 25.0;
  Spectrogram s = row_of(values);
  power_to_db(s, clip);
  EXPECT_NEAR(s.values[0], 0.0f, 1e-5);
  EXPECT_NEAR(s.values[1], -25.0f, 1e-5);
  EXPECT_NEAR(s.values[2], -25.0f, 1e-5);
}

TEST(PowerToDb, SilenceIsZeroDbAndBadAminThrows) {
  Spectrogram s(3, 4);
  power_to_db(s);
  for (float v : s.values) EXPECT_NEAR(v, 0.0f, 1e-4);
  DbOptions options;
  options.amin = 0.0;
  EXPECT_THROW(power_to_db(s, options), FeatureError);
}

// -----------------------------------------------------------------------------------------------------------
// MFCC

// scipy.fftpack.dct(x, type=2, norm='ortho'), term by term in double.
std::vector<double> dct_ortho(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<double> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      sum += x[j] * std::cos(std::numbers::pi * static_cast<double>(k) *
                             (2.0 * static_cast<double>(j) + 1.0) / (2.0 * static_cast<double>(n)));
    }
    out[k] = sum * std::sqrt((k == 0 ? 1.0 : 2.0) / static_cast<double>(n));
  }
  return out;
}

TEST(Mfcc, MatchesDirectDct) {
  const MelSpectrogram mel_spectrogram;
  std::vector<float> signal = signal_of("music_22k_mono_au.signal.npy");
  signal.resize(std::size_t{22050} * 2);
  Spectrogram db = mel_spectrogram.compute(signal);
  power_to_db(db);
  const Spectrogram coefficients = mfcc(db, 20);
  ASSERT_EQ(coefficients.rows, 20u);
  ASSERT_EQ(coefficients.frames, db.frames);
  for (std::size_t t = 0; t < db.frames; ++t) {
    std::vector<double> column(db.rows);
    for (std::size_t m = 0; m < db.rows; ++m) column[m] = db.at(m, t);
    const std::vector<double> expected = dct_ortho(column);
    for (std::size_t k = 0; k < 20; ++k) {
      ASSERT_NEAR(coefficients.at(k, t), expected[k], 1e-4 * std::max(1.0, std::abs(expected[k])))
          << "coefficient " << k << " frame " << t;
    }
  }
}

TEST(Mfcc, CosineAndConstantInputs) {
  // Column 0 is the DCT-II basis vector of index 3, column 1 a constant: their transforms are single spikes.
  constexpr std::size_t kBands = 40;
  Spectrogram s(kBands, 2);
  for (std::size_t j = 0; j < kBands; ++j) {
    s.at(j, 0) = static_cast<float>(std::cos(std::numbers::pi * 3.0 * (2.0 * j + 1.0) / (2.0 * kBands)));
    s.at(j, 1) = -5.0f;
  }
  const Spectrogram c = mfcc(s, 13);
  ASSERT_EQ(c.rows, 13u);
  for (std::size_t k = 0; k < 13; ++k) {
    EXPECT_NEAR(c.at(k, 0), k == 3 ? std::sqrt(kBands / 2.0) : 0.0, 1e-5) << k;
    EXPECT_NEAR(c.at(k, 1), k == 0 ? -5.0 * std::sqrt(double{kBands}) : 0.0, 1e-5) << k;
  }
  EXPECT_THROW(mfcc(s, 0), FeatureError);
  EXPECT_THROW(mfcc(s, 41), FeatureError);
}

// -----------------------------------------------------------------------------------------------------------
// Windows and scaling

Spectrogram ramp(std::size_t rows, std::size_t frames) {
  Spectrogram s(rows, frames);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t t = 0; t < frames; ++t) s.at(r, t) = static_cast<float>(100 * r + t);
  }
  return s;
}

TEST(CutWindows, ConsecutiveWindowsDropTheTail) {
  const Spectrogram s = ramp(2, 10);
  WindowOptions options;
  options.frames = 4;
  const std::vector<Spectrogram> windows = cut_windows(s, options);
  ASSERT_EQ(windows.size(), 2u);  // frames 0-3 and 4-7; 8-9 dropped
  for (std::size_t w = 0; w < 2; ++w) {
    ASSERT_EQ(windows[w].rows, 2u);
    ASSERT_EQ(windows[w].frames, 4u);
    for (std::size_t r = 0; r < 2; ++r) {
      for (std::size_t t = 0; t < 4; ++t) EXPECT_EQ(windows[w].at(r, t), s.at(r, 4 * w + t));
    }
  }
  options.frames = 5;
  EXPECT_EQ(cut_windows(s, options).size(), 2u);  // exact fit
  options.frames = 10;
  EXPECT_EQ(cut_windows(s, options).size(), 1u);
}

TEST(CutWindows, Hop) {
  const Spectrogram s = ramp(3, 10);
  WindowOptions options;
  options.frames = 4;
  options.hop = 3;
  const std::vector<Spectrogram> windows = cut_windows(s, options);
  ASSERT_EQ(windows.size(), 3u);  // starts 0, 3, 6
  for (std::size_t w = 0; w < 3; ++w) EXPECT_EQ(windows[w].at(2, 0), s.at(2, 3 * w));
}

TEST(CutWindows, ShortClipPaddedOrRejected) {
  const Spectrogram s = ramp(2, 3);
  WindowOptions options;
  options.frames = 5;
  const std::vector<Spectrogram> padded = cut_windows(s, options);
  ASSERT_EQ(padded.size(), 1u);
  ASSERT_EQ(padded[0].frames, 5u);
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t t = 0; t < 3; ++t) EXPECT_EQ(padded[0].at(r, t), s.at(r, t));
    for (std::size_t t = 3; t < 5; ++t) EXPECT_EQ(padded[0].at(r, t), 0.0f);  // the clip's minimum
  }
  options.short_clip = ShortClip::Reject;
  EXPECT_TRUE(cut_windows(s, options).empty());
  EXPECT_TRUE(cut_windows(Spectrogram(2, 0), WindowOptions{}).empty());
  options.frames = 0;
  EXPECT_THROW(cut_windows(s, options), FeatureError);
}

TEST(MinmaxScale, RangeIsZeroToOne) {
  Spectrogram s = row_of({-80.0f, -40.0f, 0.0f, -79.9f, -0.1f});
  minmax_scale(s);
  EXPECT_EQ(*std::min_element(s.values.begin(), s.values.end()), 0.0f);
  EXPECT_EQ(*std::max_element(s.values.begin(), s.values.end()), 1.0f);
  EXPECT_NEAR(s.values[1], 0.5f, 1e-6);
  for (float v : s.values) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
}

TEST(MinmaxScale, ConstantBecomesZeros) {
  Spectrogram s = row_of({-80.0f, -80.0f, -80.0f});
  minmax_scale(s);
  for (float v : s.values) EXPECT_EQ(v, 0.0f);
  Spectrogram empty;
  minmax_scale(empty);
  EXPECT_TRUE(empty.values.empty());
}

// -----------------------------------------------------------------------------------------------------------
// The pretrained networks' front end (tests/data/pretrained, see tests/data/README.md): 16 kHz, n_fft 512,
// hop 256, reflect padding, 96 HTK mels 0-8000 Hz without normalisation, 10 log10(max(x, 1e-10)).

const std::filesystem::path kPretrained = std::filesystem::path(TUNELENS_TEST_DATA) / "pretrained";

using testing::pretrained_front_end;

// Compares our log-mel, `ours`, with the reference on the bins within 60 dB of the reference's maximum (below
// that the networks see little but numerical noise); `reference_at(m, t)` gives the reference's band m, frame
// t.
template <typename ReferenceAt>
void expect_log_mel_parity(const Spectrogram& ours, ReferenceAt reference_at, const char* what) {
  float top = -INFINITY;
  for (std::size_t m = 0; m < ours.rows; ++m)
    for (std::size_t t = 0; t < ours.frames; ++t) top = std::max(top, reference_at(m, t));
  std::vector<double> differences;
  for (std::size_t m = 0; m < ours.rows; ++m) {
    for (std::size_t t = 0; t < ours.frames; ++t) {
      const float reference = reference_at(m, t);
      if (reference < top - 60.0f) continue;
      differences.push_back(std::abs(static_cast<double>(ours.at(m, t)) - reference));
    }
  }
  ASSERT_FALSE(differences.empty());
  std::sort(differences.begin(), differences.end());
  const double p999 =
      differences[static_cast<std::size_t>(0.999 * static_cast<double>(differences.size() - 1))];
  std::printf(
      "[ parity   ] %s log-mel: max abs diff %.3g dB, 99.9th percentile %.3g dB, over %zu of %zu bins within "
      "60 dB of the maximum\n",
      what, differences.back(), p999, differences.size(), ours.values.size());
  EXPECT_LE(differences.back(), 0.02);
}

TEST(PretrainedFrontEnd, HtkFilterbankMatchesTheNetworksStoredOne) {
  const MelFilterbank bank(16000, 512, 96, 0.0, 8000.0, MelScale::Htk, MelNorm::None);
  const Spectrogram dense = bank.dense();                                                // [96, 257]
  const NpyArray stored = read_npy(kPretrained / "mel_fb_htk_sr16000_nfft512_n96.npy");  // [257, 96]
  ASSERT_EQ(stored.shape, (std::vector<std::size_t>{257, 96}));
  ASSERT_EQ(dense.rows, 96u);
  ASSERT_EQ(dense.frames, 257u);
  double max_diff = 0.0;
  for (std::size_t k = 0; k < 257; ++k)
    for (std::size_t m = 0; m < 96; ++m)
      max_diff =
          std::max(max_diff, std::abs(static_cast<double>(dense.at(m, k)) - stored.values[k * 96 + m]));
  std::printf(
      "[ parity   ] htk filterbank (norm none) vs the networks' spec.mel_scale.fb: max abs diff %.3g\n",
      max_diff);
  EXPECT_LE(max_diff, 1.1e-5);  // librosa's own filterbank differs from the stored one by up to this much
}

TEST(PretrainedFrontEnd, NormNoneIsSlaneyNormWithoutTheScaling) {
  // The same triangles either way: slaney norm only divides each by its width (2 / (f[m+2] - f[m]) in Hz).
  const Spectrogram scaled =
      MelFilterbank(16000, 512, 40, 0.0, 8000.0, MelScale::Htk, MelNorm::Slaney).dense();
  const Spectrogram peak_one =
      MelFilterbank(16000, 512, 40, 0.0, 8000.0, MelScale::Htk, MelNorm::None).dense();
  for (std::size_t m = 0; m < 40; ++m) {
    const float* a = scaled.values.data() + m * scaled.frames;
    const float* b = peak_one.values.data() + m * peak_one.frames;
    const std::size_t peak = static_cast<std::size_t>(std::max_element(b, b + peak_one.frames) - b);
    ASSERT_GT(b[peak], 0.5f) << "band " << m;
    const double ratio = a[peak] / b[peak];
    for (std::size_t k = 0; k < scaled.frames; ++k)
      EXPECT_NEAR(a[k], ratio * b[k], 1e-6 * ratio) << m << " " << k;
  }
}

TEST(PretrainedFrontEnd, LogMelOfTheWholeInputMatchesFcnAndCrnn) {
  const std::vector<float> input = read_npy(kPretrained / "input16k.npy").values;
  ASSERT_EQ(input.size(), 464000u);
  const FeatureSettings settings = pretrained_front_end();
  const MelSpectrogram mel(settings.mel);
  const Spectrogram ours = signal_features(mel, input, settings);
  ASSERT_EQ(ours.rows, 96u);
  ASSERT_EQ(ours.frames, 1813u);
  // The six FCN and CRNN references (mtat, msd, jamendo) are the same file byte for byte; mtat-fcn stands for
  // all.
  const NpyArray reference = read_npy(kPretrained / "mtat-fcn.logmel.npy");
  ASSERT_EQ(reference.shape, (std::vector<std::size_t>{1, 96, 1813}));
  expect_log_mel_parity(
      ours, [&](std::size_t m, std::size_t t) { return reference.values[m * 1813 + t]; }, "fcn");
}

TEST(PretrainedFrontEnd, ChunkedLogMelMatchesMusicnn) {
  std::vector<float> input = read_npy(kPretrained / "input16k.npy").values;
  input.resize(192000);  // four chunks of 48,000 samples, as the reference was made
  const FeatureSettings settings = pretrained_front_end(48000);
  const MelSpectrogram mel(settings.mel);
  const Spectrogram ours = signal_features(mel, input, settings);
  ASSERT_EQ(ours.rows, 96u);
  ASSERT_EQ(ours.frames, 4u * 188u);
  const NpyArray reference = read_npy(kPretrained / "jamendo-musicnn.logmel.npy");
  ASSERT_EQ(reference.shape, (std::vector<std::size_t>{4, 96, 188}));
  expect_log_mel_parity(
      ours,
      [&](std::size_t m, std::size_t t) { return reference.values[((t / 188) * 96 + m) * 188 + t % 188]; },
      "musicnn (4 chunks)");
}

// -----------------------------------------------------------------------------------------------------------
// Reflect padding: a centred, reflect-padded spectrogram equals the uncentred one of the signal padded by
// hand.

// Options at 16 kHz with reflect padding and a small FFT, so that hand-made padding is easy to write out.
MelOptions reflecting(int n_fft, int hop_length, int n_mels) {
  MelOptions options;
  options.sample_rate = 16000;
  options.n_fft = n_fft;
  options.hop_length = hop_length;
  options.n_mels = n_mels;
  options.pad_mode = PadMode::Reflect;
  return options;
}

std::vector<float> noise_signal(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<float> signal(n);
  for (float& x : signal) x = noise(rng);
  return signal;
}

Spectrogram uncentred_mel(MelOptions options, const std::vector<float>& padded) {
  options.center = false;
  options.pad_mode = PadMode::Constant;
  return MelSpectrogram(options).compute(padded);
}

TEST(ReflectPadding, MirrorsWithoutRepeatingTheEdge) {
  MelOptions options = reflecting(64, 16, 8);
  const std::vector<float> signal = noise_signal(1000, 11);

  // numpy.pad(signal, 32, mode='reflect'): x[32], ..., x[1], then the signal, then x[n-2], ..., x[n-33].
  std::vector<float> padded;
  for (std::size_t i = 32; i >= 1; --i) padded.push_back(signal[i]);
  padded.insert(padded.end(), signal.begin(), signal.end());
  for (std::size_t i = 1; i <= 32; ++i) padded.push_back(signal[signal.size() - 1 - i]);

  const Spectrogram ours = MelSpectrogram(options).compute(signal);
  const Spectrogram expected = uncentred_mel(options, padded);
  ASSERT_EQ(ours.frames, expected.frames);
  EXPECT_TRUE(ours.values == expected.values);  // the same FFT inputs, bit for bit

  options.pad_mode = PadMode::Constant;  // and it is not what zero padding gives
  EXPECT_FALSE(MelSpectrogram(options).compute(signal).values == ours.values);
}

TEST(ReflectPadding, SignalsShorterThanThePadReflectRepeatedlyAsNumpy) {
  // Torch refuses these; numpy.pad(x, 8, mode='reflect') keeps reflecting: for 5 samples the padded signal is
  // x0 x1 x2 x3 x4 x3 x2 x1 | x0 x1 x2 x3 x4 | x3 x2 x1 x0 x1 x2 x3 x4.
  const MelOptions options = reflecting(16, 1, 4);
  const std::vector<float> signal = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f};
  std::vector<float> padded;
  for (int i : {0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4})
    padded.push_back(signal[static_cast<std::size_t>(i)]);
  const Spectrogram ours = MelSpectrogram(options).compute(signal);
  const Spectrogram expected = uncentred_mel(options, padded);
  ASSERT_EQ(ours.frames, 6u);
  ASSERT_EQ(expected.frames, 6u);
  EXPECT_TRUE(ours.values == expected.values);

  // A single sample reflects to itself: every padded sample is that sample.
  const Spectrogram one = MelSpectrogram(options).compute(std::vector<float>{0.5f});
  const Spectrogram constant = uncentred_mel(options, std::vector<float>(17, 0.5f));
  ASSERT_EQ(one.frames, 2u);
  EXPECT_TRUE(one.values == constant.values);
}

// -----------------------------------------------------------------------------------------------------------
// Chunks

// Frames [first, first + count) of every band.
Spectrogram frames_of(const Spectrogram& s, std::size_t first, std::size_t count) {
  Spectrogram out(s.rows, count);
  for (std::size_t m = 0; m < s.rows; ++m)
    std::copy_n(s.values.begin() + static_cast<std::ptrdiff_t>(m * s.frames + first), count,
                out.values.begin() + static_cast<std::ptrdiff_t>(m * count));
  return out;
}

TEST(Chunks, FramesPerChunkAsTheNetworksSawThem) {
  const MelSpectrogram mel(pretrained_front_end().mel);
  EXPECT_EQ(mel.frame_count(48000), 188u);    // Musicnn's 3 s
  EXPECT_EQ(mel.frame_count(464000), 1813u);  // FCN's and CRNN's 29 s
  EXPECT_EQ(chunked_mel_spectrogram(mel, noise_signal(48000 * 2, 1), 48000).frames, 2u * 188u);
}

TEST(Chunks, EachChunkOnItsOwnAndTheTailDropped) {
  const MelSpectrogram mel(pretrained_front_end().mel);
  const std::vector<float> signal = noise_signal(3 * 4000 + 2500, 2);  // three chunks and a tail
  const Spectrogram chunked = chunked_mel_spectrogram(mel, signal, 4000);
  const std::size_t per_chunk = mel.frame_count(4000);
  ASSERT_EQ(chunked.frames, 3u * per_chunk);
  for (std::size_t c = 0; c < 3; ++c) {
    const std::span<const float> chunk(signal.data() + c * 4000, 4000);
    EXPECT_TRUE(frames_of(chunked, c * per_chunk, per_chunk).values == mel.compute(chunk).values)
        << "chunk " << c;
  }
  // Not the same as slicing one spectrogram of the whole signal: each chunk has its own padded edges.
  EXPECT_FALSE(frames_of(chunked, per_chunk, per_chunk).values ==
               frames_of(mel.compute(signal), 4000 / 256, per_chunk).values);
  // chunk_samples 0 is the whole signal at once.
  EXPECT_TRUE(chunked_mel_spectrogram(mel, signal, 0).values == mel.compute(signal).values);
}

TEST(Chunks, AShortSignalIsLoopedToOneChunk) {
  const MelSpectrogram mel(pretrained_front_end().mel);
  const std::vector<float> signal = noise_signal(1700, 3);  // 1700 + 1700 + 600 = one chunk of 4000
  std::vector<float> looped(signal);
  looped.insert(looped.end(), signal.begin(), signal.end());
  looped.insert(looped.end(), signal.begin(), signal.begin() + 600);
  const Spectrogram chunked = chunked_mel_spectrogram(mel, signal, 4000);
  EXPECT_EQ(chunked.frames, mel.frame_count(4000));
  EXPECT_TRUE(chunked.values == mel.compute(looped).values);

  const Spectrogram empty = chunked_mel_spectrogram(mel, {}, 4000);
  EXPECT_EQ(empty.rows, 96u);
  EXPECT_EQ(empty.frames, 0u);
}

TEST(Chunks, DecibelsAfterTheChunksAreJoined) {
  // ref-max takes the loudest bin of the whole spectrogram, not of each chunk: a quiet chunk stays below 0
  // dB.
  std::vector<float> signal = noise_signal(8000, 4);
  for (std::size_t i = 4000; i < 8000; ++i) signal[i] *= 0.01f;
  FeatureSettings settings = pretrained_front_end(4000);
  settings.db = "ref-max";
  const MelSpectrogram mel(settings.mel);
  const Spectrogram db = signal_features(mel, signal, settings);
  const std::size_t per_chunk = mel.frame_count(4000);
  const Spectrogram quiet = frames_of(db, per_chunk, per_chunk);
  EXPECT_NEAR(*std::max_element(db.values.begin(), db.values.end()), 0.0f, 1e-4);
  EXPECT_LT(*std::max_element(quiet.values.begin(), quiet.values.end()), -30.0f);
}

TEST(Chunks, TooShortForAFrameThrows) {
  MelOptions options = pretrained_front_end().mel;
  options.center = false;
  const MelSpectrogram mel(options);
  EXPECT_THROW(chunked_mel_spectrogram(mel, noise_signal(2000, 5), 400), FeatureError);  // 400 < n_fft 512
}

TEST(Chunks, FrameStartSecondsCountWholeChunks) {
  FeatureSettings settings = pretrained_front_end(48000);
  settings.offset = 1.0;
  EXPECT_DOUBLE_EQ(frame_start_seconds(settings, 0), 1.0);
  EXPECT_DOUBLE_EQ(frame_start_seconds(settings, 187), 1.0 + 187 * 256 / 16000.0);
  EXPECT_DOUBLE_EQ(frame_start_seconds(settings, 188), 1.0 + 3.0);  // the second chunk starts 3 s in
  EXPECT_DOUBLE_EQ(frame_start_seconds(settings, 2 * 188 + 10), 1.0 + 6.0 + 10 * 256 / 16000.0);
  settings.chunk_samples = 0;
  EXPECT_DOUBLE_EQ(frame_start_seconds(settings, 188), 1.0 + 188 * 256 / 16000.0);
}

TEST(FrontEndNames, WordsRoundTripAndOthersThrow) {
  for (MelScale scale : {MelScale::Slaney, MelScale::Htk})
    EXPECT_EQ(parse_mel_scale(to_string(scale)), scale);
  for (MelNorm norm : {MelNorm::Slaney, MelNorm::None}) EXPECT_EQ(parse_mel_norm(to_string(norm)), norm);
  for (PadMode mode : {PadMode::Constant, PadMode::Reflect}) EXPECT_EQ(parse_pad_mode(to_string(mode)), mode);
  EXPECT_THROW(parse_mel_scale("HTK"), FeatureError);
  EXPECT_THROW(parse_mel_norm("l2"), FeatureError);
  EXPECT_THROW(parse_pad_mode("edge"), FeatureError);
  EXPECT_EQ(describe_front_end_choices(FeatureSettings{}), "");
  EXPECT_EQ(describe_front_end_choices(pretrained_front_end(48000)),
            "htk mels, no filter norm, reflect padding, chunks of 48000 samples");
}

// -----------------------------------------------------------------------------------------------------------
// Streaming: the spectrogram of a signal that arrives in pieces is the spectrogram of the whole signal, to the
// bit, however the pieces fall and whatever the capacity hint said.

// Pushes `signal` in pieces of the given sizes (cycled), with `expected` as the hint (0: none).
Spectrogram streamed(const MelSpectrogram& mel, std::span<const float> signal, std::vector<std::size_t> pieces,
                     std::size_t expected = 0) {
  MelStream stream(mel);
  if (expected > 0) stream.expect(expected);
  for (std::size_t at = 0, i = 0; at < signal.size(); ++i) {
    const std::size_t size = std::min(pieces[i % pieces.size()], signal.size() - at);
    stream.push(signal.subspan(at, size));
    at += size;
  }
  return stream.finish();
}

TEST(MelStream, EqualsTheWholeSignalsSpectrogramForAnyPieces) {
  const std::vector<float> signal = noise_signal(22050 * 3 + 123, 7);
  for (const PadMode pad : {PadMode::Constant, PadMode::Reflect}) {
    for (const bool center : {true, false}) {
      MelOptions options;
      options.pad_mode = pad;
      options.center = center;
      const MelSpectrogram mel(options);
      const Spectrogram whole = mel.compute(signal);
      for (const std::vector<std::size_t>& pieces :
           std::vector<std::vector<std::size_t>>{{1}, {511, 1, 4096}, {2049}, {100000}, {signal.size()}}) {
        if (pieces[0] == 1 && pieces.size() == 1) continue;  // one sample at a time: covered by {511, 1, 4096}
        const std::string what = to_string(pad) + (center ? " centred" : " not centred") + ", pieces of " +
                                 std::to_string(pieces[0]);
        const Spectrogram parts = streamed(mel, signal, pieces);
        ASSERT_EQ(parts.frames, whole.frames) << what;
        EXPECT_TRUE(parts.values == whole.values) << what;
        // A hint that is right, far too small or far too large changes nothing but memory.
        for (const std::size_t hint : {signal.size(), std::size_t{1000}, 10 * signal.size()})
          EXPECT_TRUE(streamed(mel, signal, pieces, hint).values == whole.values) << what << ", hint " << hint;
      }
    }
  }
}

// A hop over twice n_fft: the next frame may start past every sample received so far, and the samples dropped
// are then all of them (it erased past the buffer's end, which AddressSanitizer caught).
TEST(MelStream, AHopLongerThanTwoFramesDropsOnlyWhatItHolds) {
  const std::vector<float> signal = noise_signal(22050 * 2 + 77, 13);
  for (const bool center : {true, false}) {
    MelOptions options;
    options.n_fft = 512;
    options.hop_length = 4096;
    options.center = center;
    const MelSpectrogram mel(options);
    const Spectrogram whole = mel.compute(signal);
    for (const std::size_t piece : {std::size_t{100}, std::size_t{1500}, std::size_t{5000}}) {
      const Spectrogram parts = streamed(mel, signal, {piece});
      ASSERT_EQ(parts.frames, whole.frames) << piece;
      EXPECT_TRUE(parts.values == whole.values) << (center ? "centred" : "not centred") << ", pieces of " << piece;
    }
  }
}

TEST(MelStream, ShortSignalsAndEdgesAsTheWholeSignal) {
  for (const PadMode pad : {PadMode::Constant, PadMode::Reflect}) {
    MelOptions options;
    options.pad_mode = pad;
    const MelSpectrogram mel(options);
    // Shorter than the padding (reflection wraps), than a frame, around n_fft + 2, and an empty signal.
    for (const std::size_t length : {std::size_t{1}, std::size_t{5}, std::size_t{1023}, std::size_t{2047},
                                     std::size_t{2048}, std::size_t{2050}, std::size_t{2051}, std::size_t{4096}}) {
      const std::vector<float> signal = noise_signal(length, 11);
      const Spectrogram whole = mel.compute(signal);
      const Spectrogram parts = streamed(mel, signal, {3, 700});
      ASSERT_EQ(parts.frames, whole.frames) << length;
      EXPECT_TRUE(parts.values == whole.values) << to_string(pad) << ", " << length << " samples";
    }
    MelStream empty(mel);
    const Spectrogram none = empty.finish();
    EXPECT_EQ(none.rows, 128u);
    EXPECT_EQ(none.frames, 0u);
  }
}

TEST(FeatureStream, EqualsSignalFeaturesInChunksAndWhole) {
  const std::vector<float> signal = noise_signal(16000 * 7 + 999, 12);
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{48000}, std::size_t{200000}}) {
    FeatureSettings settings = pretrained_front_end(chunk);
    settings.db = "ref-max";
    const MelSpectrogram mel(settings.mel);
    const Spectrogram whole = signal_features(mel, signal, settings);
    FeatureStream stream(mel, settings);
    stream.expect(signal.size());
    for (std::size_t at = 0; at < signal.size(); at += 12345)
      stream.push(std::span(signal).subspan(at, std::min<std::size_t>(12345, signal.size() - at)));
    const Spectrogram parts = stream.finish();
    ASSERT_EQ(parts.frames, whole.frames) << chunk;
    EXPECT_TRUE(parts.values == whole.values) << "chunks of " << chunk;
  }
}

// With pointwise settings the frames can be taken as they come (what classify streams), and together they are
// the whole signal's features, to the bit; decibels that depend on the whole spectrogram refuse.
TEST(FeatureStream, FramesTakenAsTheyComeAreTheWholeSignalsFeatures) {
  const std::vector<float> signal = noise_signal(16000 * 7 + 999, 12);
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{48000}, std::size_t{200000}}) {
    for (const std::string db : {"ref-one", "none"}) {
      FeatureSettings settings = pretrained_front_end(chunk);
      settings.db = db;
      settings.top_db = 0.0;
      ASSERT_TRUE(settings.pointwise());
      const MelSpectrogram mel(settings.mel);
      const Spectrogram whole = signal_features(mel, signal, settings);
      FeatureStream stream(mel, settings);
      SpectrogramBuilder taken(whole.rows);
      for (std::size_t at = 0; at < signal.size(); at += 12345) {
        stream.push(std::span(signal).subspan(at, std::min<std::size_t>(12345, signal.size() - at)));
        taken.append(stream.take());
      }
      const std::size_t before_the_end = taken.frames();
      taken.append(stream.finish());
      const Spectrogram parts = taken.finish();
      const std::string what = db + ", chunks of " + std::to_string(chunk);
      if (chunk < signal.size()) {
        EXPECT_GT(before_the_end, whole.frames / 2) << what;  // not all at the end
      }
      ASSERT_EQ(parts.frames, whole.frames) << what;
      EXPECT_TRUE(parts.values == whole.values) << what;
    }
  }
  for (const auto& [db, top_db] :
       {std::pair{"ref-max", 0.0}, std::pair{"ref-max", 80.0}, std::pair{"ref-one", 80.0}}) {
    FeatureSettings settings;
    settings.db = db;
    settings.top_db = top_db;
    EXPECT_FALSE(settings.pointwise()) << db << " " << top_db;
    const MelSpectrogram mel(settings.mel);
    FeatureStream stream(mel, settings);
    EXPECT_THROW(stream.take(), std::logic_error) << db << " " << top_db;
  }
}

// One window at a time (what Model::predict asks for, so a long song's windows are never all held) is the same
// as cutting them all, the padded short clip included.
TEST(Windows, OneAtATimeAsAllAtOnce) {
  for (const std::size_t frames : {std::size_t{10}, std::size_t{64}, std::size_t{200}}) {
    Spectrogram s(4, frames);
    for (std::size_t i = 0; i < s.values.size(); ++i) s.values[i] = static_cast<float>((i * 37) % 101) - 50.0f;
    for (const std::size_t hop : {std::size_t{0}, std::size_t{16}}) {
      WindowOptions options;
      options.frames = 64;
      options.hop = hop;
      const std::vector<Spectrogram> all = cut_windows(s, options);
      ASSERT_EQ(window_count(s, options), all.size());
      for (std::size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(cut_window(s, options, i).values == all[i].values);
      EXPECT_THROW(cut_window(s, options, all.size()), FeatureError);
    }
  }
  WindowOptions reject;
  reject.frames = 64;
  reject.short_clip = ShortClip::Reject;
  EXPECT_EQ(window_count(Spectrogram(4, 10), reject), 0u);
}

}  // namespace
}  // namespace tunelens
