#include "synth/compose.h"

#include "synth/genres/genres.h"

namespace tunelens::synth {

Score compose(const TrackRecipe& recipe) {
  Rng rng(recipe.seed);
  const Persona& p = recipe.persona;
  Score score;
  switch (p.genre) {
    case Genre::Blues:
      score = compose_blues(p, rng, recipe.seconds);
      break;
    case Genre::Classical:
      score = compose_classical(p, rng, recipe.seconds);
      break;
    case Genre::Country:
      score = compose_country(p, rng, recipe.seconds);
      break;
    case Genre::Disco:
      score = compose_disco(p, rng, recipe.seconds);
      break;
    case Genre::HipHop:
      score = compose_hiphop(p, rng, recipe.seconds);
      break;
    case Genre::Jazz:
      score = compose_jazz(p, rng, recipe.seconds);
      break;
    case Genre::Metal:
      score = compose_metal(p, rng, recipe.seconds);
      break;
    case Genre::Pop:
      score = compose_pop(p, rng, recipe.seconds);
      break;
    case Genre::Reggae:
      score = compose_reggae(p, rng, recipe.seconds);
      break;
    case Genre::Rock:
      score = compose_rock(p, rng, recipe.seconds);
      break;
  }
  score.finish();
  return score;
}

}  // namespace tunelens::synth
