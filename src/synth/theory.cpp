#include "synth/theory.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace tunelens::synth {

const std::vector<int>& mode_intervals(Mode mode) {
  static const std::vector<int> major{0, 2, 4, 5, 7, 9, 11}, minor{0, 2, 3, 5, 7, 8, 10},
      dorian{0, 2, 3, 5, 7, 9, 10}, mixolydian{0, 2, 4, 5, 7, 9, 10}, phrygian{0, 1, 3, 5, 7, 8, 10},
      harmonic_minor{0, 2, 3, 5, 7, 8, 11};
  switch (mode) {
    case Mode::Major:
      return major;
    case Mode::Minor:
      return minor;
    case Mode::Dorian:
      return dorian;
    case Mode::Mixolydian:
      return mixolydian;
    case Mode::Phrygian:
      return phrygian;
    case Mode::HarmonicMinor:
      return harmonic_minor;
  }
  return major;
}

int Key::degree_class(int degree) const {
  const auto& steps = mode_intervals(mode);
  const int octave = degree >= 0 ? degree / 7 : -((-degree + 6) / 7);
  const int index = degree - octave * 7;
  return pitch_class(tonic + steps[static_cast<std::size_t>(index)]);
}

int Key::degree_pitch(int degree, int tonic_pitch) const {
  const auto& steps = mode_intervals(mode);
  const int octave = degree >= 0 ? degree / 7 : -((-degree + 6) / 7);
  const int index = degree - octave * 7;
  return tonic_pitch + 12 * octave + steps[static_cast<std::size_t>(index)];
}

int Key::tonic_below(int pitch) const {
  return pitch - pitch_class(pitch - tonic);
}

int Key::snap(int pitch) const {
  const auto& steps = mode_intervals(mode);
  for (int d = 0; d < 12; ++d)
    for (const int candidate : {pitch - d, pitch + d})
      if (std::find(steps.begin(), steps.end(), pitch_class(candidate - tonic)) != steps.end())
        return candidate;
  return pitch;
}

Chord::Chord(int root_class, Quality quality) : root(pitch_class(root_class)) {
  switch (quality) {
    case Quality::Major:
      intervals = {0, 4, 7};
      break;
    case Quality::Minor:
      intervals = {0, 3, 7};
      break;
    case Quality::Diminished:
      intervals = {0, 3, 6};
      break;
    case Quality::Augmented:
      intervals = {0, 4, 8};
      break;
    case Quality::Sus2:
      intervals = {0, 2, 7};
      break;
    case Quality::Sus4:
      intervals = {0, 5, 7};
      break;
    case Quality::Power:
      intervals = {0, 7};
      break;
    case Quality::Dom7:
      intervals = {0, 4, 7, 10};
      break;
    case Quality::Maj7:
      intervals = {0, 4, 7, 11};
      break;
    case Quality::Min7:
      intervals = {0, 3, 7, 10};
      break;
    case Quality::HalfDim7:
      intervals = {0, 3, 6, 10};
      break;
    case Quality::Dim7:
      intervals = {0, 3, 6, 9};
      break;
    case Quality::Six:
      intervals = {0, 4, 7, 9};
      break;
    case Quality::Min6:
      intervals = {0, 3, 7, 9};
      break;
    case Quality::Dom9:
      intervals = {0, 4, 7, 10, 14};
      break;
    case Quality::Maj9:
      intervals = {0, 4, 7, 11, 14};
      break;
    case Quality::Min9:
      intervals = {0, 3, 7, 10, 14};
      break;
    case Quality::Dom13:
      intervals = {0, 4, 7, 10, 14, 21};
      break;
    case Quality::Min11:
      intervals = {0, 3, 7, 10, 14, 17};
      break;
    case Quality::Add9:
      intervals = {0, 4, 7, 14};
      break;
    case Quality::Dom7Flat9:
      intervals = {0, 4, 7, 10, 13};
      break;
    case Quality::Dom7Sharp9:
      intervals = {0, 4, 7, 10, 15};
      break;
  }
}

bool Chord::has_class(int pc) const {
  for (const int i : intervals)
    if (pitch_class(root + i) == pitch_class(pc)) return true;
  return false;
}

std::vector<int> Chord::classes() const {
  std::vector<int> out;
  for (const int i : intervals) out.push_back(pitch_class(root + i));
  return out;
}

std::vector<int> Chord::essential_intervals(int count) const {
  if (count >= static_cast<int>(intervals.size())) return intervals;
  // Rank: third, seventh (or sixth), extensions, root, fifth.
  auto rank = [](int interval) {
    const int pc = interval % 12;
    if (interval > 12) return 2;
    if (pc == 3 || pc == 4) return 0;
    if (pc == 10 || pc == 11 || pc == 9) return 1;
    if (pc == 2 || pc == 5) return 1;  // sus tones stand in for the third
    if (pc == 0) return 3;
    return 4;  // fifths
  };
  std::vector<int> sorted = intervals;
  std::stable_sort(sorted.begin(), sorted.end(), [&](int a, int b) { return rank(a) < rank(b); });
  sorted.resize(static_cast<std::size_t>(std::max(count, 1)));
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

int Chord::root_at_or_above(int floor) const {
  return floor + pitch_class(root - floor);
}

std::vector<int> Chord::voicing_near(int centre, int count) const {
  const std::vector<int> chosen = essential_intervals(count);
  std::vector<int> pcs;
  for (const int i : chosen) pcs.push_back(pitch_class(root + i));
  while (static_cast<int>(pcs.size()) < count) pcs.push_back(pcs[pcs.size() % chosen.size()]);  // doublings
  std::vector<int> best;
  int best_distance = std::numeric_limits<int>::max();
  for (std::size_t inversion = 0; inversion < pcs.size(); ++inversion) {
    std::vector<int> notes;
    int pitch = centre - 9 + pitch_class(pcs[inversion] - (centre - 9));
    notes.push_back(pitch);
    for (std::size_t k = 1; k < pcs.size(); ++k) {
      const int pc = pcs[(inversion + k) % pcs.size()];
      pitch = pitch + 1 + pitch_class(pc - pitch - 1);
      notes.push_back(pitch);
    }
    const int middle = (notes.front() + notes.back()) / 2;
    const int distance = std::abs(middle - centre);
    if (distance < best_distance) {
      best_distance = distance;
      best = notes;
    }
  }
  return best;
}

std::vector<int> Chord::guitar_shape(int floor, bool third, int strings) const {
  const int r = root_at_or_above(floor);
  const bool minor = has_class(root + 3) && !has_class(root + 4);
  std::vector<int> shape{r, r + 7, r + 12};
  if (third) shape.push_back(r + 12 + (minor ? 3 : 4));
  if (third && has_class(root + 10))
    shape.push_back(r + 22);
  else if (third)
    shape.push_back(r + 19);
  if (static_cast<int>(shape.size()) > strings) shape.resize(static_cast<std::size_t>(strings));
  return shape;
}

int Chord::nearest_tone(int pitch) const {
  int best = pitch, best_distance = 99;
  for (int d = 0; d <= 6; ++d) {
    for (const int candidate : {pitch - d, pitch + d})
      if (has_class(candidate) && d < best_distance) {
        best = candidate;
        best_distance = d;
      }
    if (best_distance < 99) break;
  }
  return best;
}

Chord diatonic_chord(const Key& key, int degree, bool seventh) {
  const int root = key.degree_class(degree);
  const int third = pitch_class(key.degree_class(degree + 2) - root);
  const int fifth = pitch_class(key.degree_class(degree + 4) - root);
  Chord chord;
  chord.root = root;
  chord.intervals = {0, third, fifth};
  if (seventh) chord.intervals.push_back(pitch_class(key.degree_class(degree + 6) - root));
  return chord;
}

std::vector<int> voice_lead(const std::vector<int>& previous, const Chord& chord, int count, int low,
                            int high) {
  if (previous.empty() || static_cast<int>(previous.size()) != count)
    return chord.voicing_near((low + high) / 2, count);
  std::vector<int> best;
  int best_cost = std::numeric_limits<int>::max();
  for (int centre = low + 4; centre <= high - 4; centre += 2) {
    const std::vector<int> candidate = chord.voicing_near(centre, count);
    if (candidate.front() < low || candidate.back() > high) continue;
    int cost = 0;
    for (std::size_t i = 0; i < candidate.size(); ++i) cost += std::abs(candidate[i] - previous[i]);
    if (cost < best_cost) {
      best_cost = cost;
      best = candidate;
    }
  }
  return best.empty() ? chord.voicing_near((low + high) / 2, count) : best;
}

std::vector<int> scale_pitches(const std::vector<int>& scale, int tonic, int low, int high) {
  std::vector<int> out;
  for (int p = low; p <= high; ++p)
    if (std::find(scale.begin(), scale.end(), pitch_class(p - tonic)) != scale.end()) out.push_back(p);
  return out;
}

std::size_t nearest_index(const std::vector<int>& pitches, int pitch) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < pitches.size(); ++i)
    if (std::abs(pitches[i] - pitch) < std::abs(pitches[best] - pitch)) best = i;
  return best;
}

}  // namespace tunelens::synth
