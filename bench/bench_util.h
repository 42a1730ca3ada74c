// Small pieces the index benchmarks share: timing, resident memory, number formatting, option lists.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <string>
#include <type_traits>
#include <vector>

namespace tunelens::bench {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds f() takes.
template <typename F>
double timed(F&& f) {
  const double start = now_seconds();
  f();
  return now_seconds() - start;
}

// The process's resident memory, from /proc/self/statm.
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// 1234567.8 -> "1,234,568"
inline std::string with_commas(double value) {
  const std::string digits = std::to_string(std::llround(value));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// "1,2,4" -> {1, 2, 4}
template <typename T = std::size_t>
std::vector<T> parse_list(const char* text) {
  std::vector<T> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    values.push_back(std::is_integral_v<T> ? static_cast<T>(std::stoul(item)) : static_cast<T>(std::stod(item)));
  return values;
}

// The value of option argv[i], stepping i past it; exits with status 2 when it is missing.
inline const char* option_value(int argc, char** argv, int& i, const char* program) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s: %s needs a value\n", program, argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

[[noreturn]] inline void unknown_option(const char* program, const char* option) {
  std::fprintf(stderr, "%s: unknown option %s (see the comment at the top of %s.cpp)\n", program, option,
               program);
  std::exit(2);
}

// What the benchmarks on mixture vectors (mixture.h) share: the vectors, the queries, the rounds.
struct MixtureSettings {
  std::size_t n = 200'000, dim = 256, clusters = 1000, queries = 1000, k = 10;
  int rounds = 5;
  std::uint32_t seed = 42;
  // Within-cluster standard deviation per dimension is drawn per cluster uniformly in [spread/2, spread]
  // (centres are N(0, 1) per dimension).
  float spread = 0.5f;
};

// Reads option argv[i] (and its value) when it is one of MixtureSettings': --n --dim --clusters --queries --k
// --rounds --seed --spread. False for any other.
inline bool read_mixture_option(MixtureSettings& s, int argc, char** argv, int& i, const char* program) {
  const std::string arg = argv[i];
  std::size_t* sizes[] = {&s.n, &s.dim, &s.clusters, &s.queries, &s.k};
  const char* size_names[] = {"--n", "--dim", "--clusters", "--queries", "--k"};
  for (std::size_t o = 0; o < std::size(sizes); ++o)
    if (arg == size_names[o]) {
      *sizes[o] = std::stoul(option_value(argc, argv, i, program));
      return true;
    }
  if (arg == "--rounds")
    s.rounds = std::max(1, std::atoi(option_value(argc, argv, i, program)));
  else if (arg == "--seed")
    s.seed = static_cast<std::uint32_t>(std::stoul(option_value(argc, argv, i, program)));
  else if (arg == "--spread")
    s.spread = std::stof(option_value(argc, argv, i, program));
  else
    return false;
  return true;
}

}  // namespace tunelens::bench
