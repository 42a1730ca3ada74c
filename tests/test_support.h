// Helpers shared by the tests: fixture paths, error measures, scratch folders.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cctype>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "audio/audio.h"

namespace tunelens::testing {

inline std::filesystem::path data_path(const std::string& relative) {
  return std::filesystem::path(TUNELENS_TEST_DATA) / relative;
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
