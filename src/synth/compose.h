// Composing one track: a persona (artist and album), a seed and a length in, a score out.
#pragma once

#include <cstdint>

#include "synth/persona.h"
#include "synth/score.h"

namespace tunelens::synth {

struct TrackRecipe {
  Persona persona;         // the artist's, as it stood on the album
  std::uint64_t seed = 0;  // the track's own randomness
  double seconds = 30.0;
};

// The finished score (sorted, ready to render) of a track in the persona's genre.
Score compose(const TrackRecipe& recipe);

}  // namespace tunelens::synth
