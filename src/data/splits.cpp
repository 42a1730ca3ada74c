#include "data/splits.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "store/fingerprint.h"

namespace tunelens {
namespace {

// The labelled tracks, by label, each list sorted by path.
std::map<std::string, std::vector<const Track*>> by_label(const std::vector<Track>& tracks,
                                                          SplitResult& result) {
  std::map<std::string, std::vector<const Track*>> groups;
  for (const auto& track : tracks) {
    if (track.label)
      groups[*track.label].push_back(&track);
    else
      ++result.unlabelled;
  }
  for (auto& [label, group] : groups)
    std::sort(group.begin(), group.end(), [](const Track* a, const Track* b) { return a->path < b->path; });
  return groups;
}

std::uint64_t stream_seed(std::uint64_t seed, const std::string& name) {
  return seed ^ content_hash(name);
}

void check_fractions(const SplitOptions& options) {
  if (!(options.val >= 0.0 && options.test >= 0.0 && options.val + options.test < 1.0))
    throw SplitError(
        fmt::format("--val {} and --test {} must be fractions of the tracks, each >= 0, summing to less "
                    "than 1",
                    options.val, options.test));
}

// Per label: shuffle, then the first n_val to validation, the next n_test to test, the rest to training.
void split_each_label(const std::vector<Track>& tracks, const SplitOptions& options, SplitResult& result) {
  const bool counts = options.scheme == SplitScheme::PerClass;
  if (counts) {
    if (options.val < 0 || options.test < 0 || options.val != std::floor(options.val) ||
        options.test != std::floor(options.test))
      throw SplitError(
          fmt::format("per-class: --val {} and --test {} must be whole numbers of tracks per label",
                      options.val, options.test));
  } else {
    check_fractions(options);
  }
  const auto groups = by_label(tracks, result);
  if (groups.empty()) throw SplitError("no labelled tracks to split");
  for (const auto& [label, group] : groups) {
    const std::size_t n = group.size();
    std::size_t n_val, n_test;
    if (counts) {
      n_val = static_cast<std::size_t>(options.val);
      n_test = static_cast<std::size_t>(options.test);
      if (n_val + n_test >= n)
        throw SplitError(
            fmt::format("per-class: label '{}' has {} tracks, not more than --val {} + --test {} (none "
                        "would be left for training)",
                        label, n, n_val, n_test));
    } else {
      n_val = static_cast<std::size_t>(std::llround(options.val * static_cast<double>(n)));
      n_test = static_cast<std::size_t>(std::llround(options.test * static_cast<double>(n)));
      n_test = std::min(n_test, n - std::min(n, n_val));
    }
    std::vector<const Track*> order = group;
    SplitRandom random(stream_seed(options.seed, label));
    random.shuffle(order);
    for (std::size_t i = 0; i < n; ++i) {
      const SplitPart part = i < n_val            ? SplitPart::Val
                             : i < n_val + n_test ? SplitPart::Test
                                                  : SplitPart::Train;
      result.assignments.push_back({order[i]->id, part});
    }
  }
}

// Per label: shuffle, then deal the tracks into the folds in turn.
void split_into_folds(const std::vector<Track>& tracks, const SplitOptions& options, SplitResult& result) {
  if (options.folds < 3)
    throw SplitError(
        fmt::format("--folds {} must be at least 3 (test, validation, training)", options.folds));
  if (options.fold < 0 || options.fold >= options.folds)
    throw SplitError(fmt::format("--fold {} must be between 0 and {}", options.fold, options.folds - 1));
  const auto groups = by_label(tracks, result);
  if (groups.empty()) throw SplitError("no labelled tracks to split");
  const auto folds = static_cast<std::size_t>(options.folds);
  const auto test = static_cast<std::size_t>(options.fold), val = (test + 1) % folds;
  for (const auto& [label, group] : groups) {
    if (group.size() < folds)
      result.warnings.push_back(
          fmt::format("label '{}' has {} tracks, fewer than the {} folds", label, group.size(), folds));
    std::vector<const Track*> order = group;
    SplitRandom random(stream_seed(options.seed, label));
    random.shuffle(order);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const std::size_t fold = i % folds;
      const SplitPart part = fold == test ? SplitPart::Test : fold == val ? SplitPart::Val : SplitPart::Train;
      result.assignments.push_back({order[i]->id, part});
    }
  }
}

void split_by_source(const std::vector<Track>& tracks, SplitResult& result) {
  for (const auto& track : tracks) {
    if (!track.label) {
      ++result.unlabelled;
    } else if (const auto part = track.source_split ? parse_split_part(*track.source_split) : std::nullopt) {
      result.assignments.push_back({track.id, *part});
    } else {
      ++result.without_source_split;
    }
  }
  if (result.assignments.empty())
    throw SplitError(
        "no track has a split of its own source (scheme source/fma needs FMA's set.split or a CSV split "
        "column)");
}

std::string artist_key(const Track& track) {
  if (!track.artist) return "\x01track:" + track.path;  // no artist: the track is a group of its own
  std::string key;
  for (const char c : *track.artist)
    if (!std::isspace(static_cast<unsigned char>(c)))
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return key.empty() ? "\x01track:" + track.path : key;
}

// Whole artists to parts. Targets per label and held-out part are the fractions of the label's tracks;
// artists, largest first, fill them without overshooting; what stays open is then filled by the artists that
// bring the counts closest; the rest train.
void split_by_artist(const std::vector<Track>& tracks, const SplitOptions& options, SplitResult& result) {
  check_fractions(options);
  const auto groups = by_label(tracks, result);
  if (groups.empty()) throw SplitError("no labelled tracks to split");
  std::map<std::string, std::size_t> label_index;
  for (const auto& [label, group] : groups) label_index.emplace(label, label_index.size());
  const std::size_t labels = label_index.size();

  struct Artist {
    std::string key;
    std::vector<const Track*> tracks;
    std::vector<double> per_label;
  };
  std::map<std::string, Artist> artists;
  for (const auto& [label, group] : groups)
    for (const Track* track : group) {
      Artist& artist = artists[artist_key(*track)];
      if (artist.per_label.empty()) artist.per_label.assign(labels, 0.0);
      artist.key = artist_key(*track);
      artist.tracks.push_back(track);
      artist.per_label[label_index[label]] += 1.0;
    }
  // Largest artists first, equal sizes in a seeded random order (the seed picks among the many small
  // artists).
  std::vector<Artist*> order;
  order.reserve(artists.size());
  for (auto& [key, artist] : artists) order.push_back(&artist);
  SplitRandom random(stream_seed(options.seed, "artist"));
  random.shuffle(order);
  std::stable_sort(order.begin(), order.end(),
                   [](const Artist* a, const Artist* b) { return a->tracks.size() > b->tracks.size(); });

  // need[part][label]: tracks still wanted in validation (0) and test (1).
  std::vector<std::vector<double>> need(2, std::vector<double>(labels, 0.0));
  for (const auto& [label, group] : groups) {
    const double n = static_cast<double>(group.size());
    need[0][label_index[label]] = std::round(options.val * n);
    need[1][label_index[label]] = std::round(options.test * n);
  }
  std::vector<int> part_of(order.size(), -1);  // -1: training
  auto join = [&](std::size_t a, int part) {
    part_of[a] = part;
    for (std::size_t l = 0; l < labels; ++l)
      need[static_cast<std::size_t>(part)][l] -= order[a]->per_label[l];
  };
  // Pass 1: an artist joins the part with the most need that it fits in every label without overshooting.
  for (std::size_t a = 0; a < order.size(); ++a) {
    int best = -1;
    double best_gain = 0.0;
    for (int part = 0; part < 2; ++part) {
      bool fits = true;
      double gain = 0.0;
      for (std::size_t l = 0; l < labels; ++l) {
        const double h = order[a]->per_label[l];
        fits = fits && h <= need[static_cast<std::size_t>(part)][l];
        gain += std::min(h, need[static_cast<std::size_t>(part)][l]);
      }
      if (fits && gain > best_gain) {
        best = part;
        best_gain = gain;
      }
    }
    if (best >= 0) join(a, best);
  }
  // Pass 2, for needs left open (artists too large to fit anywhere): a training artist joins a part when that
  // brings the part's per-label counts closer to their targets in squared distance:
  // sum over labels of (need - h)^2 - need^2 = h * (h - 2 need) < 0.
  for (std::size_t a = 0; a < order.size(); ++a) {
    if (part_of[a] >= 0) continue;
    int best = -1;
    double best_change = 0.0;
    for (int part = 0; part < 2; ++part) {
      double change = 0.0;
      for (std::size_t l = 0; l < labels; ++l) {
        const double h = order[a]->per_label[l];
        change += h * (h - 2.0 * need[static_cast<std::size_t>(part)][l]);
      }
      if (change < best_change) {
        best = part;
        best_change = change;
      }
    }
    if (best >= 0) join(a, best);
  }
  // Pass 3: a held-out part still empty for a label gets that label's smallest training artist, as long as
  // the label keeps one in training: a few large artists (a small corpus) must not leave validation or test
  // without the label. Where the label has too few artists, say so.
  for (const auto& [label, l] : label_index) {
    for (int part = 0; part < 2; ++part) {
      const double wanted = part == 0 ? options.val : options.test;
      if (wanted <= 0) continue;
      bool present = false;
      std::vector<std::size_t> training;  // artists of this label in training, largest first
      for (std::size_t a = 0; a < order.size(); ++a) {
        if (order[a]->per_label[l] <= 0) continue;
        if (part_of[a] == part) present = true;
        if (part_of[a] < 0) training.push_back(a);
      }
      if (present) continue;
      if (training.size() >= 2) {
        join(training.back(), part);
      } else {
        result.warnings.push_back(
            fmt::format("label '{}' has too few artists to put one in {} and keep one in "
                        "training; its {} part is empty",
                        label, part == 0 ? "validation" : "test", part == 0 ? "val" : "test"));
      }
    }
  }
  for (std::size_t a = 0; a < order.size(); ++a) {
    const SplitPart part = part_of[a] < 0    ? SplitPart::Train
                           : part_of[a] == 0 ? SplitPart::Val
                                             : SplitPart::Test;
    for (const Track* track : order[a]->tracks) result.assignments.push_back({track->id, part});
  }
}

}  // namespace

std::optional<SplitScheme> parse_split_scheme(const std::string& text) {
  if (text == "per-class") return SplitScheme::PerClass;
  if (text == "fraction") return SplitScheme::Fraction;
  if (text == "source" || text == "fma") return SplitScheme::Source;
  if (text == "artist") return SplitScheme::Artist;
  if (text == "folds") return SplitScheme::Folds;
  return std::nullopt;
}

std::string to_string(SplitScheme scheme) {
  switch (scheme) {
    case SplitScheme::PerClass:
      return "per-class";
    case SplitScheme::Fraction:
      return "fraction";
    case SplitScheme::Source:
      return "source";
    case SplitScheme::Artist:
      return "artist";
    case SplitScheme::Folds:
      return "folds";
  }
  return "fraction";
}

std::uint64_t SplitRandom::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t SplitRandom::below(std::uint64_t n) {
  // Reject the top partial range of 2^64 so every residue is equally likely.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t value;
  do value = next();
  while (value >= limit);
  return value % n;
}

SplitResult make_split(const std::vector<Track>& tracks, const SplitOptions& options) {
  SplitResult result;
  switch (options.scheme) {
    case SplitScheme::PerClass:
    case SplitScheme::Fraction:
      split_each_label(tracks, options, result);
      break;
    case SplitScheme::Source:
      split_by_source(tracks, result);
      break;
    case SplitScheme::Artist:
      split_by_artist(tracks, options, result);
      break;
    case SplitScheme::Folds:
      split_into_folds(tracks, options, result);
      break;
  }
  std::sort(result.assignments.begin(), result.assignments.end(),
            [](const SplitAssignment& a, const SplitAssignment& b) { return a.track < b.track; });
  return result;
}

std::string split_parameters(const SplitOptions& options) {
  nlohmann::json json = {{"scheme", to_string(options.scheme)}};
  if (options.scheme == SplitScheme::PerClass) {
    json["val"] = static_cast<long long>(options.val);
    json["test"] = static_cast<long long>(options.test);
  } else if (options.scheme == SplitScheme::Folds) {
    json["folds"] = options.folds;
    json["fold"] = options.fold;
  } else if (options.scheme != SplitScheme::Source) {
    json["val"] = options.val;
    json["test"] = options.test;
  }
  return json.dump();
}

}  // namespace tunelens
