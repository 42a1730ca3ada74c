// The tunelens program end to end: `tunelens features` on real files, as a user runs it.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "model/network_names.h"
#include "store/npy.h"
#include "test_support.h"
#include "tunelens_version.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::data_path;
using testing::relative_error;
using testing::ScratchDir;
using testing::ProgramRun;
using testing::tunelens;

// The whole pipeline through the program (decode, resample, mel, dB) against librosa, for every fixture.
struct PipelineCase {
  std::string input;
  std::string stem;          // of the reference files
  double power_tolerance;    // relative error of the mel power
};

void PrintTo(const PipelineCase& c, std::ostream* os) { *os << c.input; }

const PipelineCase kPipelineCases[] = {
    {"sweep.wav", "sweep", 1e-5},
    {"noise.wav", "noise", 1e-5},
    {"impulse.wav", "impulse", 1e-5},
    {"short.wav", "short", 1e-5},
    {"silence.wav", "silence", 1e-5},
    {"music_48k_stereo.flac", "music_48k_stereo_flac", 1e-3},
    {"music_48k_stereo.ogg", "music_48k_stereo_ogg", 1e-3},
    {"music_44k_stereo.wav", "music_44k_stereo_wav", 1e-3},
    {"music_44k_stereo.mp3", "music_44k_stereo_mp3", 1e-5},  // libmpg123, as librosa
    {"music_22k_mono.au", "music_22k_mono_au", 1e-3},
};

class Pipeline : public ::testing::TestWithParam<PipelineCase> {};

TEST_P(Pipeline, MatchesLibrosaMelPowerAndDecibels) {
  const PipelineCase& c = GetParam();
  ScratchDir scratch;
  const std::string input = data_path("librosa/" + c.input).string();
  const ProgramRun power = tunelens("features -q --db none --out " + (scratch / "power").string() + " " + input, scratch);
  ASSERT_EQ(power.status, 0) << power.err;
  const ProgramRun db = tunelens("features -q --out " + (scratch / "db").string() + " " + input, scratch);
  ASSERT_EQ(db.status, 0) << db.err;
  const std::string name = fs::path(c.input).stem().string() + ".npy";

  const NpyArray ours_power = read_npy(scratch / "power" / name);
  const NpyArray ref_power = read_npy(data_path("librosa/" + c.stem + ".mel_power.npy"));
  ASSERT_EQ(ours_power.shape, ref_power.shape);
  EXPECT_LE(relative_error(ours_power.values, ref_power.values), c.power_tolerance);

  const NpyArray ours_db = read_npy(scratch / "db" / name);
  const NpyArray ref_db = read_npy(data_path("librosa/" + c.stem + ".mel_db_refmax.npy"));
  ASSERT_EQ(ours_db.shape, ref_db.shape);
  double worst = 0.0;
  for (std::size_t i = 0; i < ref_db.values.size(); ++i)
    if (ref_db.values[i] > -60.0f) worst = std::max(worst, std::abs(static_cast<double>(ours_db.values[i]) - ref_db.values[i]));
  EXPECT_LE(worst, 0.01) << "dB error on bins above -60 dB";
}

INSTANTIATE_TEST_SUITE_P(Librosa, Pipeline, ::testing::ValuesIn(kPipelineCases),
                         testing::ParamName(&PipelineCase::stem));

TEST(Pipeline, NonDefaultSettingsMatchLibrosa) {
  ScratchDir scratch;
  const ProgramRun run = tunelens("features -q --sr 16000 --n-fft 512 --hop 256 --n-mels 96 --fmax 8000 --db none --out " +
                               scratch.path().string() + " " + data_path("librosa/music_44k_stereo.wav").string(),
                           scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  const NpyArray ours = read_npy(scratch / "music_44k_stereo.npy");
  const NpyArray ref = read_npy(data_path("librosa/music_44k_stereo_wav.sr16000_nfft512_hop256_mels96.mel_power.npy"));
  ASSERT_EQ(ours.shape, ref.shape);
  EXPECT_LE(relative_error(ours.values, ref.values), 1e-3);
}

// A folder mixing good and bad files: every good file is written, every bad one is named once, the exit status
// says that some failed, and a rerun skips what is done.
TEST(FeaturesCommand, MixedFolderWritesTheGoodAndNamesTheBad) {
  ScratchDir scratch;
  const fs::path music = scratch / "music";
  fs::create_directories(music / "album");
  for (const char* good : {"wav_s16.wav", "flac_s16.flac", "mp3_lame.mp3", "ogg_vorbis.ogg"})
    fs::copy_file(data_path(std::string("formats/") + good), music / "album" / good);
  testing::write_bytes(music / "album" / "empty.wav", "");
  testing::write_bytes(music / "album" / "notes.mp3", "not music at all, just text with an mp3 name\n");
  testing::write_bytes(music / "album" / "header_only.wav", testing::read_bytes(data_path("formats/wav_s16.wav")).substr(0, 44));
  fs::copy_file(data_path("formats/video_only.mp4"), music / "album" / "video_only.mp4");
  testing::write_bytes(music / "album" / "cover.jpg", "not audio and not named like audio: ignored");

  const std::string args = "features --recursive -q --out " + (scratch / "out").string() + " " + music.string();
  const ProgramRun first = tunelens(args, scratch);
  EXPECT_EQ(first.status, 1) << first.err;
  EXPECT_NE(first.out.find("8 files: 4 written, 0 skipped (already done), 4 failed"), std::string::npos) << first.out;
  for (const char* bad : {"empty.wav: empty file", "notes.mp3: not an audio file", "header_only.wav: corrupt audio",
                          "video_only.mp4: no audio stream"})
    EXPECT_EQ(testing::occurrences(first.err, bad), 1u) << bad << " in:\n" << first.err;
  EXPECT_EQ(testing::occurrences(first.err, "error: "), 4u) << first.err;
  EXPECT_EQ(testing::occurrences(first.err, "cover.jpg"), 0u);
  for (const char* good : {"wav_s16.npy", "flac_s16.npy", "mp3_lame.npy", "ogg_vorbis.npy"}) {
    const NpyArray mel = read_npy(scratch / "out" / "album" / good);
    EXPECT_EQ(mel.shape, (std::vector<std::size_t>{128, 44})) << good;  // 1 s at 22050 Hz: 1 + 22050 / 512 frames
  }

  const ProgramRun again = tunelens(args, scratch);
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.out.find("8 files: 0 written, 4 skipped (already done), 4 failed"), std::string::npos) << again.out;

  const ProgramRun forced = tunelens(args + " --force", scratch);
  EXPECT_NE(forced.out.find("4 written, 0 skipped"), std::string::npos) << forced.out;
}

// Every run on a machine computes the same bytes: the FFT plan measured by the first run is kept (FFTW wisdom) and
// reused, also by runs that start at the same time.
// A mono 16-bit WAV of `seconds` of a 440 Hz tone at 8 kHz, written in pieces (an hour is 57.6 MB).
void write_long_wav(const fs::path& file, int seconds) {
  constexpr int kRate = 8000;
  const auto samples = static_cast<std::uint32_t>(seconds) * kRate;
  std::ofstream out(file, std::ios::binary);
  const auto u32 = [&out](std::uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  const auto u16 = [&out](std::uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  out.write("RIFF", 4), u32(36 + 2 * samples), out.write("WAVEfmt ", 8), u32(16), u16(1), u16(1), u32(kRate),
      u32(2 * kRate), u16(2), u16(16), out.write("data", 4), u32(2 * samples);
  std::vector<std::int16_t> block(kRate);
  for (std::uint32_t at = 0; at < samples; at += kRate) {
    for (std::size_t i = 0; i < block.size(); ++i)
      block[i] = static_cast<std::int16_t>(8000.0 * std::sin(2.0 * 3.14159265358979 * 440.0 * static_cast<double>(at + i) / kRate));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(2 * block.size()));
  }
}

// Runs the program as tunelens() does and returns the peak resident memory of this run alone, in MB (wait4
// reports the one child; RUSAGE_CHILDREN would give the largest of every run so far). Under AddressSanitizer
// (make test PRESET=asan) freed blocks wait in its quarantine, up to 256 MB, so a longer run would hold more
// for that alone: the quarantine is turned off for these runs (other builds ignore the variable).
double peak_mb_of_run(const std::string& arguments, const ScratchDir& scratch) {
  const std::string command = "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 exec " TUNELENS_BINARY
                              " " + arguments + " >" +
                              testing::quoted(scratch / "stdout.txt") + " 2>" +
                              testing::quoted(scratch / "stderr.txt");
  const pid_t child = fork();
  if (child == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = -1;
  rusage usage{};
  if (child < 0 || wait4(child, &status, 0, &usage) != child) ADD_FAILURE() << "cannot run " << command;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << arguments << "\n"
                                                             << testing::read_bytes(scratch / "stderr.txt");
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// A long file streams through the decoder into the spectrogram: an hour takes the memory of ten seconds, plus its
// (small) output. Before, the whole signal was held: 115 MB more for this hour at 8 kHz.
TEST(FeaturesCommand, MemoryDoesNotGrowWithTheFilesLength) {
  ScratchDir scratch;
  write_long_wav(scratch / "short.wav", 10);
  write_long_wav(scratch / "hour.wav", 3600);
  const std::string options = " -q -j 1 --sr 8000 --n-fft 512 --hop 4096 --n-mels 32 --db none --out " +
                              (scratch / "out").string() + " ";
  const double short_mb = peak_mb_of_run("features" + options + (scratch / "short.wav").string(), scratch);
  const double hour_mb = peak_mb_of_run("features" + options + (scratch / "hour.wav").string(), scratch);
  EXPECT_EQ(read_npy(scratch / "out" / "hour.npy").shape, (std::vector<std::size_t>{32, 7032}));
  EXPECT_LT(hour_mb, short_mb + 30.0) << "10 s: " << short_mb << " MB, 1 hour: " << hour_mb << " MB";
  RecordProperty("peak_mb_10s", std::to_string(short_mb));
  RecordProperty("peak_mb_1h", std::to_string(hour_mb));
}

// classify streams too when the model's decibels are pointwise (relative to 1 without a floor, as the shipped
// networks' are): each batch of windows goes to the network as soon as its frames exist, so an hour takes the
// memory of ten seconds. Before, the whole spectrogram was held: 115 MB more for this hour (64 mels, hop 64).
TEST(Classify, MemoryDoesNotGrowWithTheFilesLength) {
  ScratchDir scratch;
  testing::write_tone_tracks(scratch);
  for (const ProgramRun& step : testing::train_tone_model(
           scratch, "low",
           "--sr 8000 --n-fft 512 --hop 64 --n-mels 64 --db ref-one --top-db 0 --dtype float32",
           "--epochs 1"))
    ASSERT_EQ(step.status, 0) << step.err;
  write_long_wav(scratch / "short.wav", 10);
  write_long_wav(scratch / "hour.wav", 3600);
  const std::string classify = "classify --format json --model " + testing::quoted(scratch / "low.tlm") + " ";
  const double short_mb = peak_mb_of_run(classify + testing::quoted(scratch / "short.wav"), scratch);
  const double hour_mb = peak_mb_of_run(classify + testing::quoted(scratch / "hour.wav"), scratch);
  EXPECT_NE(testing::read_bytes(scratch / "stdout.txt").find("\"windows\": 14062"), std::string::npos)
      << testing::read_bytes(scratch / "stdout.txt");  // 450,001 frames of the hour in windows of 32
  EXPECT_LT(hour_mb, short_mb + 30.0) << "10 s: " << short_mb << " MB, 1 hour: " << hour_mb << " MB";
  RecordProperty("peak_mb_10s", std::to_string(short_mb));
  RecordProperty("peak_mb_1h", std::to_string(hour_mb));
}

// NaN samples fail the file, naming it; --repair-samples reads them as silence and says how many.
TEST(FeaturesCommand, RepairSamplesReadsNaNAsSilenceWithAWarning) {
  ScratchDir scratch;
  std::vector<float> samples(22050, 0.25f);
  samples[100] = std::numeric_limits<float>::quiet_NaN();
  samples[200] = std::numeric_limits<float>::infinity();
  testing::write_bytes(scratch / "nan.wav", testing::float_wav(samples, 22050));
  const std::string args = "features -q --out " + (scratch / "out").string() + " " + (scratch / "nan.wav").string();
  const ProgramRun refused = tunelens(args, scratch);
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("nan.wav: corrupt audio: samples that are NaN"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(scratch / "out" / "nan.npy"));
  const ProgramRun repaired = tunelens(args + " --repair-samples", scratch);
  EXPECT_EQ(repaired.status, 0) << repaired.err;
  EXPECT_NE(repaired.err.find("nan.wav: 2 NaN, infinite or huge samples read as silence"), std::string::npos)
      << repaired.err;
  const NpyArray features = read_npy(scratch / "out" / "nan.npy");
  EXPECT_TRUE(std::all_of(features.values.begin(), features.values.end(), [](float x) { return std::isfinite(x); }));
}

// --verbose says which decoder read each file: libmpg123 for MP3 (as librosa), libsndfile where FFmpeg could not.
TEST(FeaturesCommand, VerboseNamesTheDecoderOfEachFile) {
  ScratchDir scratch;
  const ProgramRun run = tunelens("features -q -v --out " + (scratch / "out").string() + " " +
                                      testing::quoted(data_path("formats/mp3_lame.mp3")) + " " +
                                      testing::quoted(data_path("formats/ffmpeg_rejects.ogg")) + " " +
                                      testing::quoted(data_path("formats/flac_s16.flac")),
                                  scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("mp3_lame.mp3: 1.00 s, 44100 Hz, 2 channels, mp3, decoded by libmpg123"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("ffmpeg_rejects.ogg: 2.00 s, 44100 Hz, 2 channels, vorbis, decoded by libsndfile"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("flac_s16.flac: 1.00 s, 44100 Hz, 2 channels, flac, decoded by ffmpeg"), std::string::npos)
      << run.err;
}

TEST(FeaturesCommand, RunsAreByteIdentical) {
  ScratchDir scratch;
  const std::string input = data_path("librosa/music_44k_stereo.mp3").string();
  const std::string wisdom = "TUNELENS_FFTW_WISDOM=" + (scratch / "wisdom").string() + " ";
  std::vector<std::string> outputs;
  for (int run = 0; run < 4; ++run) {
    const std::string out = (scratch / ("run" + std::to_string(run))).string();
    const ProgramRun result = tunelens("features -q --out " + out + " " + input, scratch, wisdom);
    ASSERT_EQ(result.status, 0) << result.err;
    outputs.push_back(testing::read_bytes(fs::path(out) / "music_44k_stereo.npy"));
  }
  for (const auto& output : outputs) EXPECT_EQ(output, outputs.front());
  EXPECT_TRUE(fs::exists(scratch / "wisdom"));
}

TEST(FeaturesCommand, RefusesToMixSettingsInOneFolder) {
  ScratchDir scratch;
  const std::string input = data_path("formats/wav_s16.wav").string();
  const std::string out = (scratch / "out").string();
  ASSERT_EQ(tunelens("features -q --out " + out + " " + input, scratch).status, 0);
  const ProgramRun other = tunelens("features -q --n-mels 64 --out " + out + " " + input, scratch);
  EXPECT_EQ(other.status, 2);
  EXPECT_NE(other.err.find("other settings"), std::string::npos) << other.err;
  const ProgramRun forced = tunelens("features -q --force --n-mels 64 --out " + out + " " + input, scratch);
  EXPECT_EQ(forced.status, 0) << forced.err;
  EXPECT_EQ(read_npy(scratch / "out" / "wav_s16.npy").shape, (std::vector<std::size_t>{64, 44}));
}

TEST(FeaturesCommand, PretrainedFrontEndOptionsAreUsedAndRecorded) {
  ScratchDir scratch;
  const std::string input = data_path("librosa/music_48k_stereo.flac").string();  // 12 s: four 3 s chunks
  const std::string out = (scratch / "out").string();
  const std::string options =
      "--sr 16000 --n-fft 512 --hop 256 --n-mels 96 --fmax 8000 --mel-norm none --pad-mode reflect "
      "--chunk-samples 48000 --db ref-one --top-db 0";
  const ProgramRun run =
      tunelens("features -q " + options + " --mel-scale htk --out " + out + " " + input, scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(read_npy(scratch / "out" / "music_48k_stereo.npy").shape,
            (std::vector<std::size_t>{96, 4 * 188}));
  const std::string recorded = testing::read_bytes(scratch / "out" / "features.json");
  for (const char* key : {R"("mel_scale": "htk")", R"("mel_norm": "none")", R"("pad_mode": "reflect")",
                          R"("chunk_samples": 48000)"})
    EXPECT_NE(recorded.find(key), std::string::npos) << key << " in " << recorded;
  // The same folder refuses other front-end settings.
  const ProgramRun other =
      tunelens("features -q " + options + " --mel-scale slaney --out " + out + " " + input, scratch);
  EXPECT_EQ(other.status, 2);
  EXPECT_NE(other.err.find("other settings"), std::string::npos) << other.err;
}

TEST(FeaturesCommand, AFolderWrittenBeforeTheFrontEndOptionsIsStillItsOwn) {
  // features.json as earlier versions wrote it (fmax -1 unresolved, no front-end keys): a rerun with the same
  // settings carries on instead of refusing the folder.
  ScratchDir scratch;
  const std::string input = data_path("formats/wav_s16.wav").string();
  fs::create_directories(scratch / "out");
  testing::write_bytes(
      scratch / "out" / "features.json",
      R"({"amin": 1e-10, "center": true, "db": "ref-max", "duration": -1.0, "fmax": -1.0,)"
      R"( "fmin": 0.0, "hop_length": 512, "mfcc": 0, "n_fft": 2048, "n_mels": 128, "offset": 0.0,)"
      R"( "power": 2.0, "sample_rate": 22050, "top_db": 80.0, "window": "hann"})");
  const ProgramRun run = tunelens("features -q --out " + (scratch / "out").string() + " " + input, scratch);
  EXPECT_EQ(run.status, 0) << run.err;
}

TEST(FeaturesCommand, MfccAndOffsetDuration) {
  ScratchDir scratch;
  const ProgramRun run = tunelens("features -q --mfcc 13 --offset 1 --duration 2 --out " + scratch.path().string() + " " +
                               data_path("librosa/music_48k_stereo.flac").string(),
                           scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(read_npy(scratch / "music_48k_stereo.npy").shape, (std::vector<std::size_t>{128, 87}));  // 1 + 44100/512
  EXPECT_EQ(read_npy(scratch / "music_48k_stereo.mfcc.npy").shape, (std::vector<std::size_t>{13, 87}));
}

TEST(FeaturesCommand, UsageErrorsExitWithTwoAndSayWhy) {
  ScratchDir scratch;
  const std::string input = data_path("formats/wav_s16.wav").string();
  EXPECT_EQ(tunelens("features " + input, scratch).status, 2);  // no --out
  const ProgramRun bad_fft = tunelens("features --n-fft 1 --out " + scratch.path().string() + " " + input, scratch);
  EXPECT_EQ(bad_fft.status, 2);
  EXPECT_NE(bad_fft.err.find("--n-fft"), std::string::npos) << bad_fft.err;
  const ProgramRun bad_db = tunelens("features --db loud --out " + scratch.path().string() + " " + input, scratch);
  EXPECT_EQ(bad_db.status, 2);
  EXPECT_NE(bad_db.err.find("--db"), std::string::npos) << bad_db.err;
  for (const std::string bad :
       {"--mel-scale mel", "--mel-norm l2", "--pad-mode wrap", "--chunk-samples -48000"}) {
    const ProgramRun run =
        tunelens("features " + bad + " --out " + scratch.path().string() + " " + input, scratch);
    EXPECT_EQ(run.status, 2) << bad;
    EXPECT_EQ(run.err.rfind(bad.substr(0, bad.find(' ')) + ": ", 0), 0u)
        << run.err;  // the first line names it
  }
}

// Outputs go under --out by the path as listed: a link in the folder to a file elsewhere gives OUT/<link>.npy
// (its .npy was written beside the link's target, outside --out); odd names are kept; a link to a folder that
// contains it is not followed (no loop); nothing is written beside an input.
TEST(Confinement, FeaturesWritesUnderOutByThePathAsGivenNeverBesideALinksTarget) {
  ScratchDir scratch;
  const fs::path wav = data_path("formats/wav_s16.wav");
  fs::create_directories(scratch / "elsewhere");
  fs::create_directories(scratch / "in" / "sub");
  fs::copy_file(wav, scratch / "elsewhere" / "target.wav");
  fs::create_symlink(scratch / "elsewhere" / "target.wav", scratch / "in" / "link.wav");
  const std::string odd = "-dash song\nwith newline.wav";
  fs::copy_file(wav, scratch / "in" / "sub" / odd);
  fs::create_directory_symlink(scratch / "in", scratch / "in" / "sub" / "loop");
  const ProgramRun run = tunelens("features -r -q --out " + testing::quoted(scratch / "out") + " " +
                                      testing::quoted(scratch / "in"),
                                  scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::exists(scratch / "out" / "link.npy"));
  EXPECT_TRUE(fs::exists(scratch / "out" / "sub" / "-dash song\nwith newline.npy"));
  std::size_t outputs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(scratch / "out"))
    outputs += entry.path().extension() == ".npy";
  EXPECT_EQ(outputs, 2u);  // the loop was not walked
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch / "elsewhere"), fs::directory_iterator()), 1);
  EXPECT_FALSE(fs::exists(scratch / "in" / "link.npy"));
}

// A pipe and a name longer than the system allows are each one file's error with its reason (a pipe was "no such
// file"; a long name aborted the whole run with a raw filesystem message), and the other files are done.
TEST(FeaturesCommand, APipeAndAnOverlongNameFailAloneWithTheirReason) {
  ScratchDir scratch;
  ASSERT_EQ(::mkfifo((scratch / "pipe.wav").c_str(), 0600), 0);
  const std::string overlong = (scratch / (std::string(300, 'a') + ".wav")).string();
  const ProgramRun run = tunelens("features -q --out " + testing::quoted(scratch / "out") + " " +
                                      testing::quoted(scratch / "pipe.wav") + " " + testing::quoted(overlong) + " " +
                                      testing::quoted(data_path("formats/wav_s16.wav")),
                                  scratch);
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.err.find("pipe.wav: not an audio file: not a regular file"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("File name too long"), std::string::npos) << run.err;
  EXPECT_TRUE(fs::exists(scratch / "out" / "wav_s16.npy"));
}

// A 16-bit mono 22,050 Hz WAV of `samples` samples whose header claims `claimed_bytes` of data.
std::string claiming_wav(std::size_t samples, std::uint32_t claimed_bytes) {
  std::string bytes = "RIFF";
  const auto put = [&](std::uint32_t value, int size) {
    for (int i = 0; i < size; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  };
  put(36 + claimed_bytes, 4);
  bytes += "WAVEfmt ";
  for (const auto& [value, size] : std::vector<std::pair<std::uint32_t, int>>{
           {16, 4}, {1, 2}, {1, 2}, {22050, 4}, {44100, 4}, {2, 2}, {16, 2}})
    put(value, size);
  bytes += "data";
  put(claimed_bytes, 4);
  for (std::size_t i = 0; i < samples; ++i) put(static_cast<std::uint16_t>((i * 37) % 2000), 2);
  return bytes;
}

// classify says when its answer stands on little: a 1-sample file got a confident genre with no word, a WAV whose
// header claims 2^31 samples no warning of the hours missing.
TEST(Classify, TooLittleAudioOrALyingHeaderIsSaidWithTheAnswer) {
  ScratchDir scratch;
  testing::write_bytes(scratch / "one.wav", claiming_wav(1, 2));
  testing::write_bytes(scratch / "claims.wav", claiming_wav(3 * 22050, 0x7ffffff0u));
  const ProgramRun run = tunelens("classify --model msd-fcn --top-k 1 " + testing::quoted(scratch / "one.wav") +
                                      " " + testing::quoted(scratch / "claims.wav"),
                                  scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("one.wav: only 0.000 s of audio"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("claims.wav: damaged stream"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("of audio lost"), std::string::npos) << run.err;
  EXPECT_EQ(testing::occurrences(run.out, "\n"), 2u) << run.out;  // both still answered
}

// import records what a file holds, and says when its header claims more (it said nothing).
TEST(DatasetImport, AHeaderClaimingMoreThanTheFileHoldsIsSaid) {
  ScratchDir scratch;
  fs::create_directories(scratch / "music/rock");
  testing::write_bytes(scratch / "music/rock/claims.wav", claiming_wav(3 * 22050, 0x7ffffff0u));
  testing::write_bytes(scratch / "music/rock/honest.wav", claiming_wav(2 * 22050, 2 * 2 * 22050));
  const ProgramRun run = tunelens("dataset import folders -q --catalog " + testing::quoted(scratch / "c.db") + " " +
                                      testing::quoted(scratch / "music"),
                                  scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("claims.wav: its header claims 48695.8 s of audio, the file holds 3.0 s (truncated?)"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(run.err.find("honest.wav"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("2 added"), std::string::npos) << run.out;
}

// A .partial left by a killed run is removed by the next run, even when that input now fails.
TEST(FeaturesCommand, PartialFilesOfAKilledRunAreRemovedByTheNext) {
  ScratchDir scratch;
  fs::create_directories(scratch / "in");
  testing::write_bytes(scratch / "in" / "gone.wav", "not audio any more");
  fs::create_directories(scratch / "out");
  testing::write_bytes(scratch / "out" / "gone.npy.partial", std::string(1000, 'x'));
  const ProgramRun run = tunelens("features -q --out " + testing::quoted(scratch / "out") + " " +
                                      testing::quoted(scratch / "in" / "gone.wav"),
                                  scratch);
  EXPECT_EQ(run.status, 1) << run.err;  // the input failed, and said so
  EXPECT_FALSE(fs::exists(scratch / "out" / "gone.npy.partial"));
}

// Every size an option sets is checked before it is used: out of range is one line naming the option (an n_fft
// of 10^7 ran for minutes; --top-db -5, --duration 0 and --mfcc -1 were taken silently).
TEST(Limits, OutOfRangeOptionsAreOneLineNamingTheOption) {
  ScratchDir scratch;
  const std::string input = data_path("formats/wav_s16.wav").string();
  for (const std::string bad : {"--n-fft 10000000", "--n-mels 100000", "--hop 0", "--sr 10", "--top-db -5",
                                "--duration 0", "--offset -1", "--mfcc -1", "--mfcc 200", "--power 0",
                                "--threads 100000", "-j -3"}) {
    const ProgramRun run =
        tunelens("features " + bad + " --out " + (scratch / "out").string() + " " + input, scratch);
    EXPECT_EQ(run.status, 2) << bad;
    const std::string option = bad.substr(0, bad.find(' ')) == "-j" ? "--threads" : bad.substr(0, bad.find(' '));
    EXPECT_EQ(run.err.rfind(option + ": ", 0), 0u) << bad << ": " << run.err;
    EXPECT_FALSE(fs::exists(scratch / "out" / "wav_s16.npy")) << bad;
  }
  // train: checked before anything is read or written; a good model at --out is kept as it is.
  testing::write_bytes(scratch / "good.tlm", "a good model");
  for (const std::string bad : {"--batch-size -1", "--batch-size 0", "--window -1", "--window 100000",
                                "--width -4", "--warmup -1", "--mixup-alpha -1", "--epochs 0", "--lr 0",
                                "--dropout 1", "--patience -1", "--freeze -2", "-j 100000"}) {
    const ProgramRun run = tunelens("train " + (scratch / "none.db").string() + " " + bad + " --out " +
                                        (scratch / "good.tlm").string(),
                                    scratch);
    EXPECT_EQ(run.status, 2) << bad;
    EXPECT_NE(run.err.find(bad.substr(0, bad.find(' ')) == "-j" ? "--threads" : bad.substr(0, bad.find(' '))),
              std::string::npos)
        << bad << ": " << run.err;
    EXPECT_EQ(testing::read_bytes(scratch / "good.tlm"), "a good model") << bad;
  }
  // A first word that is no command is named.
  const ProgramRun bogus = tunelens("bogus", scratch);
  EXPECT_EQ(bogus.status, 2);
  EXPECT_EQ(bogus.err, "tunelens: error: 'bogus' is not a command (tunelens --help lists them)\n");
}

// The networks train takes are one list: the command list names them, and train refuses another name before
// reading anything.
TEST(Commands, TrainNamesTheNetworksItTakes) {
  ScratchDir scratch;
  const ProgramRun help = tunelens("--help", scratch);
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("(" + trainable_network_list() + ")"), std::string::npos) << help.out;
  const ProgramRun other = tunelens("train " + (scratch / "none.db").string() + " --model vgg16 --out " +
                                        (scratch / "m.tlm").string(),
                                    scratch);
  EXPECT_EQ(other.status, 2);
  EXPECT_EQ(other.err.rfind("--model: ", 0), 0u) << other.err;
  EXPECT_NE(other.err.find("shortchunk"), std::string::npos) << other.err;
}

// Both programs say the one version, CMake's project() version.
TEST(Commands, BothProgramsSayTheProjectVersion) {
  ScratchDir scratch;
  const std::string expected = "tunelens " + std::string(kVersion) + "\n";
  const ProgramRun plain = tunelens("--version", scratch);
  EXPECT_EQ(plain.status, 0);
  EXPECT_EQ(plain.out, expected);
  const fs::path torch_program = fs::path(TUNELENS_BINARY).parent_path() / "tunelens-torch";
  const fs::path out = scratch / "version.txt";
  EXPECT_EQ(std::system((testing::quoted(torch_program) + " --version >" + testing::quoted(out)).c_str()), 0);
  EXPECT_EQ(testing::read_bytes(out), expected);
}

}  // namespace
}  // namespace tunelens
