// Helpers shared by the tests: fixture paths, error measures, scratch folders.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "features/features.h"

namespace tunelens::testing {

inline std::filesystem::path data_path(const std::string& relative) {
  return std::filesystem::path(TUNELENS_TEST_DATA) / relative;
}

// The pretrained music-tagging networks' front end (tests/data/pretrained): 16 kHz, n_fft 512, hop 256,
// reflect padding, 96 HTK mels 0-8000 Hz without normalisation, 10 log10(max(x, 1e-10)); in chunks of
// chunk_samples when that is > 0 (Musicnn: 48000).
inline FeatureSettings pretrained_front_end(std::size_t chunk_samples = 0) {
  FeatureSettings settings;
  settings.mel.sample_rate = 16000;
  settings.mel.n_fft = 512;
  settings.mel.hop_length = 256;
  settings.mel.pad_mode = PadMode::Reflect;
  settings.mel.n_mels = 96;
  settings.mel.fmax = 8000.0;
  settings.mel.mel_scale = MelScale::Htk;
  settings.mel.mel_norm = MelNorm::None;
  settings.db = "ref-one";
  settings.top_db = 0.0;
  settings.chunk_samples = chunk_samples;
  return settings;
}

// ||ours - ref|| / ||ref|| over the common length; +inf when the lengths differ.
inline double relative_error(std::span<const float> ours, std::span<const float> ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(ours[i]) - ref[i];
    diff += d * d;
    norm += static_cast<double>(ref[i]) * ref[i];
  }
  return norm == 0.0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

// A fresh empty folder under the system's temporary directory, removed when the object goes away.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() / ("tunelens-test-" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// How many times `part` occurs in `text` (a match may overlap the one before).
inline std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The cells of one CSV line (RFC 4180 quotes), and the rows of a CSV text: for checking what tunelens writes.
inline std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}
inline std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(csv_cells(line));
  return rows;
}

// The tags of tests/data/formats/tagged.{mp3,flac,ogg} (tests/data/formats/make.sh).
struct TaggedFixture {
  static constexpr const char* title = "Été – Nocturne";
  static constexpr const char* artist = "Trio Aurora";
  static constexpr const char* album = "Music for Piano";
  static constexpr int year = 1957;
  static constexpr int track = 2;
};

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// What a run of the tunelens program printed and returned.
struct ProgramRun {
  int status = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

// A 32-bit float WAV (format 3) of these mono samples, written byte by byte.
inline std::string float_wav(const std::vector<float>& samples, std::uint32_t rate) {
  std::string bytes;
  const auto put = [&](std::uint32_t value, int size) {
    for (int i = 0; i < size; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  };
  const auto data_bytes = static_cast<std::uint32_t>(samples.size() * 4);
  bytes += "RIFF";
  put(36 + data_bytes, 4);
  bytes += "WAVEfmt ";
  put(16, 4);
  put(3, 2);  // IEEE float
  put(1, 2);
  put(rate, 4);
  put(rate * 4, 4);
  put(4, 2);
  put(32, 2);
  bytes += "data";
  put(data_bytes, 4);
  for (float value : samples) {
    std::uint32_t word = 0;
    std::memcpy(&word, &value, 4);
    put(word, 4);
  }
  return bytes;
}

// A path quoted for the shell.
inline std::string quoted(const std::filesystem::path& path) {
  std::string out = "'";  // built in steps: GCC 12 warns (falsely) about "'" + std::string
  out += path.string();
  out += '\'';
  return out;
}

// Runs the tunelens program (the build's own) with `arguments`, shell-quoted as needed, after `environment`
// ("NAME=value ..."), capturing what it prints in files of `scratch`.
inline ProgramRun tunelens(const std::string& arguments, const ScratchDir& scratch, const std::string& environment = "") {
  const std::filesystem::path out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  std::string command = environment;
  command += " " TUNELENS_BINARY " ";
  command += arguments;
  command += " >" + quoted(out);
  command += " 2>" + quoted(err);
  const int raw = std::system(command.c_str());
  const int status = WIFEXITED(raw) ? WEXITSTATUS(raw) : WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : -1;
  return {status, read_bytes(out), read_bytes(err)};
}

// Three seconds of a sine tone at 22050 Hz with a little seeded noise, as a 16-bit WAV: music a tiny model can tell
// apart by pitch.
inline void write_noisy_tone(const std::filesystem::path& file, double frequency, unsigned seed) {
  constexpr int rate = 22050;
  std::mt19937 random(seed);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  std::vector<float> samples(3 * rate);
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = 0.5f * static_cast<float>(std::sin(2.0 * M_PI * frequency * static_cast<double>(i) / rate)) +
                 noise(random);
  write_wav(file, samples, rate);
}

// Three "genres" of noisy tones (high 5000 Hz, low 150 Hz, mid 1200 Hz, five tracks each, artists "Artist
// 0/1", titles "<genre> tone <k>") under s/data/ with a tracks.csv; plus outside/query.wav (160 Hz), for no
// catalog.
inline void write_tone_tracks(const ScratchDir& s) {
  const std::vector<std::pair<std::string, double>> genres = {{"high", 5000.0}, {"low", 150.0}, {"mid", 1200.0}};
  std::string csv = "path,label,artist,album,title\n";
  unsigned seed = 1;
  for (const auto& [genre, frequency] : genres) {
    std::filesystem::create_directories(s / ("data/" + genre));
    for (int k = 0; k < 5; ++k) {
      const std::string name = genre + "/" + genre + std::to_string(k) + ".wav";
      write_noisy_tone(s / ("data/" + name), frequency * (1.0 + 0.03 * k), seed++);
      csv += name + "," + genre + ",Artist " + std::to_string(k % 2) + ",Album " + genre + "," + genre + " tone " +
             std::to_string(k) + "\n";
    }
  }
  write_bytes(s / "data/tracks.csv", csv);
  std::filesystem::create_directories(s / "outside");
  write_noisy_tone(s / "outside/query.wav", 160.0, 99);
}

// The tone tracks (write_tone_tracks, already written) imported into <name>.catalog, split per class (1 val,
// 1 test per genre), their features extracted with `extract_options` (the front end) and a small shortchunk
// model trained on them with `train_options` (epochs, ...) into <name>.tlm. Returns every step's run.
inline std::vector<ProgramRun> train_tone_model(const ScratchDir& s, const std::string& name,
                                                const std::string& extract_options,
                                                const std::string& train_options) {
  const std::string catalog = quoted(s / (name + ".catalog"));
  std::vector<ProgramRun> steps;
  std::string command = "dataset import csv ";
  command += quoted(s / "data/tracks.csv");
  command += " --catalog " + catalog + " -q";
  steps.push_back(tunelens(command, s));
  steps.push_back(tunelens("dataset split --catalog " + catalog + " --scheme per-class --val 1 --test 1 -q", s));
  steps.push_back(tunelens("extract --catalog " + catalog + " " + extract_options + " -q", s));
  command = "train " + catalog;
  command += " --split default --out " + quoted(s / (name + ".tlm"));
  command += " --window 32 --width 4 --depth 10 " + train_options + " --patience 0 --threads 1 --seed 7 -q";
  steps.push_back(tunelens(command, s));
  return steps;
}

// The small world of the index, similar and ingest tests, made in `s` with the program itself: the tone
// tracks (write_tone_tracks) imported into tones.catalog, split, with 16-mel float32 features, and a small
// shortchunk model trained on it (tones.tlm). Returns every step's run (each should have status 0).
inline std::vector<ProgramRun> make_tone_catalog(const ScratchDir& s) {
  write_tone_tracks(s);
  return train_tone_model(s, "tones", "--n-mels 16 --dtype float32",
                          "--epochs 15 --batch-size 4 --lr 0.003 --lr-schedule constant");
}

// Names parameterised tests after a string parameter (or a string member of it), with non-alphanumerics as '_'.
template <typename Member = std::nullptr_t>
struct ParamName {
  Member member{};
  ParamName() = default;
  explicit ParamName(Member m) : member(m) {}
  template <typename Info>
  std::string operator()(const Info& info) const {
    std::string name;
    if constexpr (std::is_same_v<Member, std::nullptr_t>) name = info.param;
    else name = info.param.*member;
    for (auto& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
  }
};

}  // namespace tunelens::testing
