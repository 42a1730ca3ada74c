// Plausible, deterministic names for generated artists, albums and songs, in the manner of each genre.
#pragma once

#include <string>

#include "synth/persona.h"
#include "synth/random.h"

namespace tunelens::synth {

std::string artist_name(const Persona& persona, Rng& rng);
std::string album_title(Genre genre, Rng& rng);
std::string song_title(Genre genre, Rng& rng);

}  // namespace tunelens::synth
