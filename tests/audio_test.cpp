// Decoding and resampling: parity with librosa.load, every supported format, offsets, and every kind of bad input.
#include "audio/audio.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <future>

#include "audio/probe.h"
#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

using testing::data_path;
using testing::relative_error;
using testing::ScratchDir;
using testing::TaggedFixture;

struct SignalCase {
  std::string input;      // file under tests/data/librosa
  std::string reference;  // librosa.load's output for it
  double tolerance;       // on ||ours - ref|| / ||ref||
  int sample_rate = 22050;
};

void PrintTo(const SignalCase& c, std::ostream* os) { *os << c.input; }

// 1e-5 where nothing but float32 copying happens (22050 Hz float WAV) and for MP3 (libmpg123 on both sides), 1e-3
// where librosa decoded with libsndfile and tunelens with FFmpeg, and resampled with python-soxr.
const SignalCase kSignalCases[] = {
    {"sweep.wav", "sweep.signal.npy", 1e-5},
    {"noise.wav", "noise.signal.npy", 1e-5},
    {"silence.wav", "silence.signal.npy", 1e-5},
    {"short.wav", "short.signal.npy", 1e-5},
    {"impulse.wav", "impulse.signal.npy", 1e-5},
    {"music_48k_stereo.flac", "music_48k_stereo_flac.signal.npy", 1e-3},
    {"music_48k_stereo.ogg", "music_48k_stereo_ogg.signal.npy", 1e-3},
    {"music_44k_stereo.wav", "music_44k_stereo_wav.signal.npy", 1e-3},
    {"music_44k_stereo.mp3", "music_44k_stereo_mp3.signal.npy", 1e-6},  // libmpg123, as librosa
    {"music_22k_mono.au", "music_22k_mono_au.signal.npy", 1e-3},
    {"music_44k_stereo.wav", "music_44k_stereo_wav.sr16000.signal.npy", 1e-3, 16000},
};

class LibrosaSignal : public ::testing::TestWithParam<SignalCase> {};

TEST_P(LibrosaSignal, MatchesLibrosaLoad) {
  const SignalCase& c = GetParam();
  const NpyArray ref = read_npy(data_path("librosa/" + c.reference));
  LoadOptions options;
  options.sample_rate = c.sample_rate;
  const Audio audio = load_audio(data_path("librosa/" + c.input), options);
  EXPECT_EQ(audio.sample_rate, c.sample_rate);
  EXPECT_EQ(audio.channels, 1);
  ASSERT_EQ(audio.samples.size(), ref.values.size()) << c.input;
  const double error = relative_error(audio.samples, ref.values);
  EXPECT_LE(error, c.tolerance) << c.input;
  RecordProperty("relative_error", std::to_string(error));
  EXPECT_FALSE(audio.damaged());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LibrosaSignal, ::testing::ValuesIn(kSignalCases),
                         testing::ParamName(&SignalCase::reference));

// One second of the stereo music excerpt in every format (tests/data/formats/make.sh), compared with the 16-bit
// WAV of the same second decoded at the native rate.
struct FormatCase {
  std::string file;
  double tolerance;         // relative error against the 16-bit WAV
  int native_rate = 44100;
  bool exact_length = true;  // false: the container does not record the encoder's delay (FFmpeg's own M4A)
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.file; }

const FormatCase kFormatCases[] = {
    {"wav_u8.wav", 6e-2},    {"wav_s16.wav", 0.0},       {"wav_s24.wav", 1e-4},     {"wav_s32.wav", 1e-4},
    {"wav_f32.wav", 1e-4},   {"wav_f64.wav", 1e-4},      {"aiff_s16.aiff", 0.0},    {"au_s16.au", 0.0},
    {"flac_s16.flac", 0.0},  {"ogg_vorbis.ogg", 0.25},   {"mp3_lame.mp3", 0.25},    {"m4a_aac.m4a", 0.25, 44100, false},
    {"opus.opus", 0.5, 48000},
};

class Formats : public ::testing::TestWithParam<FormatCase> {};

TEST_P(Formats, DecodesToTheSameMusic) {
  const FormatCase& c = GetParam();
  LoadOptions native;
  native.sample_rate = 0;
  const Audio wav = load_audio(data_path("formats/wav_s16.wav"), native);
  LoadOptions options;
  options.sample_rate = 44100;  // opus decodes at 48 kHz: compare at one rate
  const Audio audio = load_audio(data_path("formats/" + c.file), options);
  EXPECT_EQ(audio.native_sample_rate, c.native_rate);
  EXPECT_EQ(audio.native_channels, 2);
  // Lossless formats keep every sample; lossy ones keep the length when the container records the encoder's delay
  // and padding (LAME header for MP3, pre-skip for Opus). Without that record, the music is found after the delay.
  if (c.exact_length) {
    ASSERT_EQ(audio.samples.size(), wav.samples.size()) << c.file;
    EXPECT_LE(relative_error(audio.samples, wav.samples), c.tolerance) << c.file;
    return;
  }
  ASSERT_GE(audio.samples.size(), wav.samples.size()) << c.file;
  ASSERT_LE(audio.samples.size(), wav.samples.size() + 2048) << c.file;
  double best = INFINITY;
  for (std::size_t lag = 0; lag + wav.samples.size() <= audio.samples.size(); ++lag)
    best = std::min(best, relative_error(std::span(audio.samples).subspan(lag, wav.samples.size()), wav.samples));
  EXPECT_LE(best, c.tolerance) << c.file;
}

INSTANTIATE_TEST_SUITE_P(AllFormats, Formats, ::testing::ValuesIn(kFormatCases), testing::ParamName(&FormatCase::file));

TEST(LoadAudio, MonoIsTheMeanOfTheChannels) {
  LoadOptions stereo;
  stereo.mono = false;
  stereo.sample_rate = 0;
  LoadOptions mono;
  mono.sample_rate = 0;
  const Audio both = load_audio(data_path("formats/wav_f32.wav"), stereo);
  const Audio one = load_audio(data_path("formats/wav_f32.wav"), mono);
  ASSERT_EQ(both.channels, 2);
  ASSERT_EQ(both.samples.size(), 2 * one.samples.size());
  for (std::size_t i = 0; i < one.samples.size(); ++i)
    ASSERT_EQ(one.samples[i], (both.samples[2 * i] + both.samples[2 * i + 1]) / 2.0f) << i;
}

TEST(LoadAudio, KeepsNativeRateWhenAsked) {
  LoadOptions options;
  options.sample_rate = 0;
  const Audio audio = load_audio(data_path("librosa/music_48k_stereo.flac"), options);
  EXPECT_EQ(audio.sample_rate, 48000);
  EXPECT_EQ(audio.frames(), 12u * 48000u);
}

// The decoder resamples block by block as frames arrive; soxr's result does not depend on how input is divided.
TEST(LoadAudio, StreamingResampleEqualsResamplingTheWholeSignal) {
  for (const char* file : {"music_48k_stereo.ogg", "music_44k_stereo.mp3"}) {
    LoadOptions native;
    native.sample_rate = 0;
    const Audio whole = load_audio(data_path(std::string("librosa/") + file), native);
    const Audio streamed = load_audio(data_path(std::string("librosa/") + file));
    EXPECT_EQ(streamed.samples, resample(whole.samples, whole.sample_rate, 22050)) << file;
  }
}

// decode_audio hands the samples over in blocks as they are decoded, never the whole file at once: the same
// samples load_audio collects, for every decoder.
TEST(DecodeAudio, DeliversBlocksThatAddUpToTheWholeFile) {
  class Recorder : public AudioSink {
   public:
    void start(const DecodeResult&, std::size_t expected) override { expected_frames = expected; }
    void write(std::span<const float> block) override {
      samples.insert(samples.end(), block.begin(), block.end());
      largest = std::max(largest, block.size());
      ++blocks;
    }
    std::vector<float> samples;
    std::size_t expected_frames = 0, largest = 0, blocks = 0;
  };
  for (const char* file : {"librosa/music_48k_stereo.flac", "librosa/music_44k_stereo.mp3", "formats/ffmpeg_rejects.ogg"}) {
    Recorder recorder;
    const DecodeResult result = decode_audio(data_path(file), LoadOptions{}, recorder);
    const Audio whole = load_audio(data_path(file));
    EXPECT_EQ(recorder.samples, whole.samples) << file;
    EXPECT_EQ(result.length, whole.frames()) << file;
    EXPECT_GT(recorder.blocks, 1u) << file;
    EXPECT_LE(recorder.largest, 65536u) << file;  // a block is a fraction of a second, whatever the file's length
    EXPECT_NEAR(static_cast<double>(recorder.expected_frames), static_cast<double>(whole.frames()), 0.01 * whole.frames() + 128)
        << file;
  }
}

// MP3 is read as librosa reads it, by libmpg123 (through libsndfile there), not FFmpeg's own MP3 decoder.
TEST(LoadAudio, MpegAudioIsDecodedByLibmpg123) {
  const Audio audio = load_audio(data_path("librosa/music_44k_stereo.mp3"));
  EXPECT_EQ(audio.decoder, "libmpg123");
  EXPECT_EQ(audio.codec, "mp3");
  EXPECT_TRUE(audio.fallback_reason.empty());
  EXPECT_EQ(load_audio(data_path("formats/wav_s16.wav")).decoder, "ffmpeg");
}

TEST(LoadAudio, MultichannelResamplingKeepsChannelsApart) {
  LoadOptions options;
  options.mono = false;
  const Audio audio = load_audio(data_path("librosa/music_48k_stereo.flac"), options);
  LoadOptions mono;
  const Audio reference = load_audio(data_path("librosa/music_48k_stereo.flac"), mono);
  ASSERT_EQ(audio.channels, 2);
  ASSERT_EQ(audio.frames(), reference.frames());
  std::vector<float> mean(audio.frames());
  for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = (audio.samples[2 * i] + audio.samples[2 * i + 1]) / 2.0f;
  EXPECT_LE(relative_error(mean, reference.samples), 1e-5);  // resampling is linear: mean commutes with it
}

// Offset and duration pick the same samples a full decode has at those positions, for seekable formats too.
class OffsetDuration : public ::testing::TestWithParam<std::string> {};

TEST_P(OffsetDuration, SelectsTheSameSamplesAsAFullDecode) {
  const auto path = data_path("librosa/" + GetParam());
  LoadOptions full;
  full.sample_rate = 0;
  const Audio all = load_audio(path, full);
  LoadOptions part = full;
  part.offset = 4.5;
  part.duration = 2.0;
  const Audio some = load_audio(path, part);
  const auto first = static_cast<std::size_t>(4.5 * all.sample_rate);
  const auto count = static_cast<std::size_t>(2.0 * all.sample_rate);
  ASSERT_EQ(some.samples.size(), count);
  const std::span<const float> expected(all.samples.data() + first, count);
  // Lossless: identical. Lossy codecs restarted after a seek may differ slightly in the first frame.
  const bool lossless = GetParam().ends_with(".wav") || GetParam().ends_with(".flac") || GetParam().ends_with(".au");
  EXPECT_LE(relative_error(some.samples, expected), lossless ? 0.0 : 1e-2) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Formats, OffsetDuration,
                         ::testing::Values("music_44k_stereo.wav", "music_48k_stereo.flac", "music_48k_stereo.ogg",
                                           "music_44k_stereo.mp3", "music_22k_mono.au"),
                         testing::ParamName());

TEST(LoadAudio, DurationPastTheEndStopsAtTheEnd) {
  LoadOptions options;
  options.sample_rate = 0;
  options.offset = 11.0;
  options.duration = 30.0;
  const Audio audio = load_audio(data_path("librosa/music_48k_stereo.flac"), options);
  EXPECT_EQ(audio.frames(), 48000u);
  EXPECT_FALSE(audio.damaged());
}

TEST(Resample, LengthIsCeilOfTheRatioAndRatesThatMatchAreUntouched) {
  std::vector<float> signal(1001, 0.25f);
  EXPECT_EQ(resample(signal, 22050, 22050), signal);
  EXPECT_EQ(resample(signal, 44100, 22050).size(), 501u);  // ceil(1001 / 2)
  EXPECT_EQ(resample(signal, 48000, 22050).size(), 460u);  // ceil(1001 * 0.459375) = ceil(459.84)
  EXPECT_EQ(resample(signal, 8000, 22050).size(), 2760u);  // ceil(1001 * 2.75625) = ceil(2759.006)
}

TEST(Resample, PreservesAToneBelowNyquist) {
  const int from = 48000, to = 22050;
  std::vector<float> tone(from);
  for (int i = 0; i < from; ++i) tone[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 440.0 * i / from));
  const auto out = resample(tone, from, to);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(to));
  std::vector<float> expected(to);
  for (int i = 0; i < to; ++i) expected[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 440.0 * i / to));
  // Away from the edges (the filter's start-up), the resampled tone is the tone at the new rate.
  const std::span<const float> middle(out.data() + 1000, to - 2000), want(expected.data() + 1000, to - 2000);
  EXPECT_LE(relative_error(middle, want), 1e-3);
}

// Bad input: a typed error naming the file and the reason; never a crash or a hang.
void expect_error(const std::filesystem::path& path, AudioErrorKind kind, const std::string& reason_part) {
  try {
    // A hang would fail the test instead of blocking the suite.
    auto result = std::async(std::launch::async, [&] { return load_audio(path); });
    ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready) << path << " hangs";
    result.get();
    FAIL() << "no error for " << path;
  } catch (const AudioError& error) {
    EXPECT_EQ(error.kind(), kind) << error.what();
    EXPECT_EQ(error.path(), path);
    const std::string what = error.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find(reason_part), std::string::npos) << what;
  }
}

TEST(BadInput, MissingFile) {
  ScratchDir dir;
  expect_error(dir / "nope.wav", AudioErrorKind::NotFound, "no such file");
}

TEST(BadInput, Directory) {
  ScratchDir dir;
  expect_error(dir.path(), AudioErrorKind::NotFound, "directory");
}

TEST(BadInput, DeviceThatNeverEnds) { expect_error("/dev/zero", AudioErrorKind::NotAudio, "not a regular file"); }

TEST(BadInput, ZeroLengthFile) {
  ScratchDir dir;
  testing::write_bytes(dir / "empty.mp3", "");
  expect_error(dir / "empty.mp3", AudioErrorKind::Empty, "zero bytes");
}

TEST(BadInput, TextFileIsNotAudio) {
  ScratchDir dir;
  testing::write_bytes(dir / "notes.txt", "These are my notes about music, not music itself.\nLine two.\n");
  expect_error(dir / "notes.txt", AudioErrorKind::NotAudio, "not an audio file");
}

TEST(BadInput, RandomBytesWithAnAudioExtension) {
  ScratchDir dir;
  std::mt19937 random(7);
  std::string bytes(50000, '\0');
  for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
  testing::write_bytes(dir / "garbage.mp3", bytes);
  try {
    const Audio audio = load_audio(dir / "garbage.mp3");
    // If some demuxer claims the noise, what comes out must be flagged as damaged.
    EXPECT_TRUE(audio.damaged());
  } catch (const AudioError& error) {
    EXPECT_TRUE(error.kind() == AudioErrorKind::NotAudio || error.kind() == AudioErrorKind::Corrupt) << error.what();
  }
}

TEST(BadInput, VideoWithoutAudioStream) {
  expect_error(data_path("formats/video_only.mp4"), AudioErrorKind::NoAudioStream, "no audio stream");
}

TEST(BadInput, HeaderOnlyWav) {
  ScratchDir dir;
  testing::write_bytes(dir / "header.wav", testing::read_bytes(data_path("formats/wav_s16.wav")).substr(0, 44));
  expect_error(dir / "header.wav", AudioErrorKind::Corrupt, "damaged wav file");
}


// NaN, infinite or absurd (1e30) samples in a float WAV: an error naming the file and where, never silent garbage
// (they made every bin the same value, or an all-NaN spectrogram); repaired as silence when asked.
TEST(BadInput, NonFiniteOrHugeSamplesAreAnErrorOrRepairedWhenAsked) {
  ScratchDir dir;
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), 1e30f}) {
    std::vector<float> samples(22050);
    for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = 0.5f * std::sin(0.05f * static_cast<float>(i));
    samples[11025] = bad;
    samples[11026] = bad;
    testing::write_bytes(dir / "bad.wav", testing::float_wav(samples, 22050));
    expect_error(dir / "bad.wav", AudioErrorKind::Corrupt, "NaN, infinite or beyond");
    LoadOptions repair;
    repair.repair = true;
    const Audio audio = load_audio(dir / "bad.wav", repair);
    EXPECT_EQ(audio.repaired_samples, 2u);
    EXPECT_EQ(audio.frames(), 22050u);
    EXPECT_TRUE(std::all_of(audio.samples.begin(), audio.samples.end(), [](float x) { return std::isfinite(x); }));
    EXPECT_EQ(audio.samples[11025], 0.0f);
    EXPECT_EQ(audio.samples[11024], samples[11024]);  // the rest as it was
  }
  // Loud but plausible float audio (a clipped master at +6 dB) is music, not damage.
  std::vector<float> loud(22050, 2.0f);
  testing::write_bytes(dir / "loud.wav", testing::float_wav(loud, 22050));
  EXPECT_EQ(load_audio(dir / "loud.wav").samples[100], 2.0f);
}

// Found by fuzzing (fuzz/regressions/audio): audio at 1 Hz was resampled to 22,050 Hz, 22,050 output samples for
// each sample of the file (a 1 KB EA ADPCM file gave 170 MB). Rates below 1 kHz are refused by both decoders (a WAV
// file goes to libsndfile when FFmpeg refuses it); 1 kHz itself decodes.
TEST(BadInput, SampleRatesBelowOneKilohertzAreRefused) {
  ScratchDir dir;
  const std::vector<float> samples(200, 0.25f);
  testing::write_bytes(dir / "one-hertz.wav", testing::float_wav(samples, 1));
  expect_error(dir / "one-hertz.wav", AudioErrorKind::Corrupt, "a sample rate of 1 Hz");
  testing::write_bytes(dir / "999.wav", testing::float_wav(samples, 999));
  expect_error(dir / "999.wav", AudioErrorKind::Corrupt, "a sample rate of 999 Hz");
  testing::write_bytes(dir / "1000.wav", testing::float_wav(samples, 1000));
  EXPECT_EQ(load_audio(dir / "1000.wav").frames(), 200u * 22050u / 1000u);
}

// Found by fuzzing (fuzz/regressions/audio): FFmpeg 5.1 allocates and zeroes whatever size a WAV file's INFO tag
// declares, so these 64 bytes took 1.6 GB and 2 s before the error. FFmpeg's blocks are capped at 128 MB: the same
// error, in a child process whose memory is measured.
TEST(BadInput, DeclaredSizesDoNotMakeFfmpegAllocateGigabytes) {
  ScratchDir dir;
  std::string wav = "RIFF....WAVEfmt ";
  const auto put = [&](std::uint32_t value, int size) {
    for (int i = 0; i < size; ++i) wav.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  };
  put(16, 4);
  for (const std::uint32_t field : {1u, 1u}) put(field, 2);  // PCM, mono
  put(44100, 4);
  put(88200, 4);
  put(2, 2);
  put(16, 2);
  wav += "LIST";
  put(0xfa00001au, 4);
  wav += "INFOINAM";
  put(0x60000000u, 4);  // a title of 1.6 GB
  wav += "tunelens";
  testing::write_bytes(dir / "info.wav", wav);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      load_audio(dir / "info.wav");
    } catch (const AudioError& error) {
      _exit(error.kind() == AudioErrorKind::Corrupt ? 0 : 1);
    }
    _exit(2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  EXPECT_LT(usage.ru_maxrss, 512 * 1024) << "kB at most";
}

// A valid Ogg Vorbis file FFmpeg 5.1 rejects (its headers repeated on its first audio page, as in the real
// hr-savino-ocean.ogg of Debian's hyperrogue-music) is decoded by libsndfile, to the samples FFmpeg gives for the
// same audio without the repeated headers (libvorbis and FFmpeg's Vorbis decoder differ in float rounding only).
TEST(Fallback, AnOggFileFfmpegRejectsIsDecodedByLibsndfile) {
  const std::filesystem::path rejected = data_path("formats/ffmpeg_rejects.ogg");
  const Audio reference = load_audio(data_path("formats/tone_vorbis.ogg"));
  EXPECT_EQ(reference.decoder, "ffmpeg");
  const Audio audio = load_audio(rejected);
  EXPECT_EQ(audio.decoder, "libsndfile");
  EXPECT_NE(audio.fallback_reason.find("damaged ogg file"), std::string::npos) << audio.fallback_reason;
  EXPECT_EQ(audio.codec, "vorbis");
  EXPECT_EQ(audio.native_sample_rate, 44100);
  EXPECT_EQ(audio.native_channels, 2);
  EXPECT_EQ(audio.sample_rate, 22050);
  ASSERT_EQ(audio.frames(), reference.frames());
  float worst = 0.0f;
  for (std::size_t i = 0; i < audio.samples.size(); ++i)
    worst = std::max(worst, std::abs(audio.samples[i] - reference.samples[i]));
  EXPECT_LT(worst, 1e-4f);

  // Offset, duration, the file's own rate and channels, as through FFmpeg.
  LoadOptions part;
  part.sample_rate = 0;
  part.mono = false;
  part.offset = 0.5;
  part.duration = 1.0;
  const Audio piece = load_audio(rejected, part);
  EXPECT_EQ(piece.channels, 2);
  EXPECT_EQ(piece.frames(), 44100u);
  const Audio reference_piece = load_audio(data_path("formats/tone_vorbis.ogg"), part);
  ASSERT_EQ(piece.samples.size(), reference_piece.samples.size());
  for (std::size_t i = 0; i < piece.samples.size(); i += 997)
    EXPECT_NEAR(piece.samples[i], reference_piece.samples[i], 1e-4f) << i;

  // Importing it works too: the probe decodes through load_audio.
  const AudioInfo info = probe_audio(rejected);
  EXPECT_NEAR(info.seconds, 2.0, 1e-3);
  EXPECT_EQ(info.sample_rate, 44100);
  EXPECT_EQ(info.channels, 2);
}

TEST(BadInput, BadOptions) {
  LoadOptions options;
  options.offset = -1.0;
  EXPECT_THROW(load_audio(data_path("formats/wav_s16.wav"), options), AudioError);
  options.offset = 5.0;  // the file lasts one second
  try {
    load_audio(data_path("formats/wav_s16.wav"), options);
    FAIL();
  } catch (const AudioError& error) {
    EXPECT_EQ(error.kind(), AudioErrorKind::BadOptions);
    EXPECT_NE(std::string(error.what()).find("past the end"), std::string::npos) << error.what();
  }
}

// A truncated file returns what decodes and says how much was lost.
class Truncated : public ::testing::TestWithParam<std::string> {};

TEST_P(Truncated, ReturnsWhatDecodesAndReportsTheLoss) {
  ScratchDir dir;
  const auto source = data_path("librosa/" + GetParam());
  const std::string bytes = testing::read_bytes(source);
  const auto cut = dir / ("cut" + source.extension().string());
  testing::write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  LoadOptions options;
  options.sample_rate = 0;
  const Audio whole = load_audio(source, options);
  const Audio half = load_audio(cut, options);
  EXPECT_GT(half.seconds(), 0.3 * whole.seconds());
  EXPECT_LT(half.seconds(), 0.7 * whole.seconds());
  EXPECT_TRUE(half.damaged());
  EXPECT_NEAR(half.lost_seconds, whole.seconds() - half.seconds(), 0.1);
  // What did decode is the start of the song.
  const std::span<const float> start(whole.samples.data(), half.samples.size() / 2);
  const std::span<const float> ours(half.samples.data(), half.samples.size() / 2);
  EXPECT_LE(relative_error(ours, start), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Formats, Truncated,
                         ::testing::Values("music_44k_stereo.wav", "music_48k_stereo.flac", "music_44k_stereo.mp3"),
                         testing::ParamName());

// Garbage written over the middle of a compressed stream: the rest still decodes, and the damage is reported.
class CorruptMiddle : public ::testing::TestWithParam<std::string> {};

TEST_P(CorruptMiddle, DecodesAroundTheDamage) {
  ScratchDir dir;
  const auto source = data_path("librosa/" + GetParam());
  std::string bytes = testing::read_bytes(source);
  std::mt19937 random(11);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 20000; ++i) bytes[i] = static_cast<char>(random() & 0xff);
  const auto damaged = dir / ("damaged" + source.extension().string());
  testing::write_bytes(damaged, bytes);
  LoadOptions options;
  options.sample_rate = 0;
  const Audio whole = load_audio(source, options);
  auto result = std::async(std::launch::async, [&] { return load_audio(damaged, options); });
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "hangs";
  const Audio audio = result.get();
  EXPECT_TRUE(audio.damaged()) << GetParam();
  EXPECT_GT(audio.seconds(), 0.6 * whole.seconds()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Formats, CorruptMiddle,
                         ::testing::Values("music_48k_stereo.flac", "music_48k_stereo.ogg", "music_44k_stereo.mp3"),
                         testing::ParamName());

TEST(AudioExtensions, RecognisesCommonFormatsCaseInsensitively) {
  EXPECT_TRUE(has_audio_extension("a/b/song.MP3"));
  EXPECT_TRUE(has_audio_extension("x.flac"));
  EXPECT_TRUE(has_audio_extension("x.opus"));
  EXPECT_FALSE(has_audio_extension("cover.jpg"));
  EXPECT_FALSE(has_audio_extension("README"));
}

}  // namespace
}  // namespace tunelens

namespace tunelens {
namespace {

TEST(WriteWav, RoundTripsThroughTheDecoder) {
  testing::ScratchDir dir;
  std::vector<float> stereo(2 * 8000);
  for (std::size_t i = 0; i < stereo.size(); ++i) stereo[i] = static_cast<float>(0.5 * std::sin(0.01 * static_cast<double>(i)));
  write_wav(dir / "out.wav", stereo, 8000, 2);
  LoadOptions options;
  options.sample_rate = 0;
  options.mono = false;
  const Audio audio = load_audio(dir / "out.wav", options);
  EXPECT_EQ(audio.sample_rate, 8000);
  EXPECT_EQ(audio.channels, 2);
  ASSERT_EQ(audio.samples.size(), stereo.size());
  for (std::size_t i = 0; i < stereo.size(); ++i) ASSERT_NEAR(audio.samples[i], stereo[i], 1.0 / 32767) << i;
}

// Tags as a music player shows them: ID3v2 (MP3), a Vorbis comment in FLAC and on Ogg's stream
// (tests/data/formats/make.sh); none from a plain WAV.
TEST(Probe, ReadsTitleArtistAlbumYearAndTrackFromTags) {
  for (const std::string file : {"tagged.mp3", "tagged.flac", "tagged.ogg"}) {
    const AudioInfo info = probe_audio(data_path("formats/" + file));
    EXPECT_EQ(info.tags.title, TaggedFixture::title) << file;
    EXPECT_EQ(info.tags.artist, TaggedFixture::artist) << file;
    EXPECT_EQ(info.tags.album, TaggedFixture::album) << file;
    EXPECT_EQ(info.tags.year, TaggedFixture::year) << file;
    EXPECT_EQ(info.tags.track_number, TaggedFixture::track) << file;
    EXPECT_NEAR(info.seconds, 0.5, 0.06) << file;
  }
  const AudioInfo plain = probe_audio(data_path("formats/wav_s16.wav"));
  EXPECT_FALSE(plain.tags.title || plain.tags.artist || plain.tags.album || plain.tags.year ||
               plain.tags.track_number);
}

}  // namespace
}  // namespace tunelens
