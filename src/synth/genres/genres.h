// One composer per genre. Each writes a whole track in its own idiom from an artist's persona; they share
// only the tools of synth/performance.h, not a template.
#pragma once

#include "synth/performance.h"

namespace tunelens::synth {

Score compose_blues(const Persona& persona, Rng& rng, double seconds);
Score compose_classical(const Persona& persona, Rng& rng, double seconds);
Score compose_country(const Persona& persona, Rng& rng, double seconds);
Score compose_disco(const Persona& persona, Rng& rng, double seconds);
Score compose_hiphop(const Persona& persona, Rng& rng, double seconds);
Score compose_jazz(const Persona& persona, Rng& rng, double seconds);
Score compose_metal(const Persona& persona, Rng& rng, double seconds);
Score compose_pop(const Persona& persona, Rng& rng, double seconds);
Score compose_reggae(const Persona& persona, Rng& rng, double seconds);
Score compose_rock(const Persona& persona, Rng& rng, double seconds);

// Instrument families, for choices that depend on what plays (a guitar bends, a piano does not).
inline bool is_guitar(int instrument) {
  return instrument % 128 >= 24 && instrument % 128 <= 31 && instrument < 128 * 16;
}
inline bool is_keyboard(int instrument) {
  return instrument >= 0 && instrument % 128 <= 7;
}
inline bool is_organ(int instrument) {
  return instrument % 128 >= 16 && instrument % 128 <= 20;
}
inline bool is_wind(int instrument) {
  return instrument % 128 >= 56 && instrument % 128 <= 79;
}
inline bool bends(int instrument) {
  return is_guitar(instrument) || instrument % 128 == 22 || instrument == gm(26, 8);
}

}  // namespace tunelens::synth
