// Splits of a labelled catalog into train / validation / test, reproducible from a seed.
//
//   per-class   exactly `val` and `test` tracks of every label held out (the original study: 100 and 100)
//   fraction    fractions of each label's tracks (stratified)
//   source      the source's own split recorded at import (FMA's set.split, a CSV's split column); "fma" too
//   artist      fractions of the tracks, no artist in two parts, approximately stratified by label
//   folds       k-fold cross-validation: each label's tracks dealt into `folds` folds; fold `fold` is the test
//               part, the next fold (cyclically) the validation part, the rest training. The same seed deals the
//               same folds for every `fold`, so the k splits' test parts cover every track once. A track is one
//               source recording, so its windows never fall on two sides.
//
// Only labelled tracks are split. Tracks are ordered by path before drawing, and each label (or the artist
// scheme as a whole) draws from its own stream seeded by the seed and the label, so the same catalog and seed
// always give the same split, on any machine.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/catalog.h"

namespace tunelens {

// A split that cannot be made (too few tracks in a label, a bad fraction); what() says which and why.
class SplitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class SplitScheme { PerClass, Fraction, Source, Artist, Folds };
std::optional<SplitScheme> parse_split_scheme(
    const std::string& text);  // per-class, fraction, source|fma, artist, folds
std::string to_string(SplitScheme scheme);

struct SplitOptions {
  SplitScheme scheme = SplitScheme::Fraction;
  double val = 0.1;  // per-class: tracks per label; fraction, artist: fraction of the tracks
  double test = 0.1;
  std::uint64_t seed = 0;
  int folds = 5;  // folds: how many, and which one is the test part (0 .. folds - 1)
  int fold = 0;
};

struct SplitResult {
  std::vector<SplitAssignment> assignments;  // in track id order
  std::size_t unlabelled = 0;                // tracks left out: no label
  std::size_t without_source_split = 0;      // source scheme: labelled tracks the source gave no split
  std::vector<std::string> warnings;         // e.g. a label with too few artists for every part
};

// Throws SplitError.
SplitResult make_split(const std::vector<Track>& tracks, const SplitOptions& options);

// The options as JSON text, to record with the split: {"scheme":"per-class","test":100,"val":100}.
std::string split_parameters(const SplitOptions& options);

// A small, portable pseudo-random generator (SplitMix64) and draws from it, so that splits do not depend on
// the standard library's distributions.
class SplitRandom {
 public:
  explicit SplitRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, n), without modulo bias. n > 0.
  std::uint64_t below(std::uint64_t n);
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i)
      std::swap(items[i - 1], items[static_cast<std::size_t>(below(i))]);
  }

 private:
  std::uint64_t state_;
};

}  // namespace tunelens
