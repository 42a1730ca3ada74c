#include "synth/names.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

namespace tunelens::synth {
namespace {

using Words = std::vector<std::string_view>;

// Slots shared by every genre; each genre adds its own.
const std::map<std::string_view, Words>& common_words() {
  static const std::map<std::string_view, Words> words{
      {"first", {"Willie", "Johnny", "Mary",    "Ruth",  "Eddie",   "Clara", "Otis",  "Louise", "Sam",
                 "Etta",   "Jimmy",  "Lucille", "Henry", "Dolores", "Frank", "Irene", "Walter", "Mabel",
                 "Roy",    "Hazel",  "Leon",    "Nina",  "Curtis",  "Ada",   "Ray",   "June",   "Earl",
                 "Vera",   "Marcus", "Tessa",   "Dale",  "Rosa",    "Gus",   "Lena",  "Abel",   "Iris"}},
      {"last", {"Walker",   "Brooks", "Hayes",   "Carter",  "Bell",     "Turner", "Dixon",     "Reed",
                "Young",    "Harris", "Wade",    "Porter",  "Hunt",     "Lane",   "Fisher",    "Monroe",
                "Holloway", "Pruitt", "Vance",   "Whitley", "Calloway", "Mercer", "Dalton",    "Haskins",
                "Greer",    "Sutton", "Ambrose", "Keller",  "Navarro",  "Osei",   "Lindqvist", "Moreau"}},
      {"place",
       {"Memphis", "Harlan", "Galveston", "Tupelo", "Baton Rouge", "Kingston", "Bristol", "Lisbon",
        "Sheffield", "Detroit", "Bakersfield", "Montego Bay", "Vienna", "Leipzig", "Brooklyn", "Oakland",
        "Tulsa", "Savannah"}},
      {"colour",
       {"Blue", "Silver", "Crimson", "Golden", "Midnight", "Indigo", "Amber", "Scarlet", "Violet", "Grey"}},
      {"number", {"2", "3", "4", "5", "6", "7", "8", "9", "11", "12"}},
  };
  return words;
}

struct NameBook {
  Words artists, albums, titles;
  std::map<std::string_view, Words> words;
};

const NameBook& book(Genre genre) {
  static const std::map<Genre, NameBook> books{
      {Genre::Blues,
       {{"{nick} {first} {last}", "{first} \"{nick}\" {last}", "{first} {last} & the {band}",
         "{nick} {last}"},
        {"{adj} {noun} Blues", "Live at the {club}", "{place} Sessions", "Down in {place}", "{adj} Road"},
        {"{noun} Blues", "Mean Old {noun}", "{day} Morning Blues", "{verb} Down the {noun}",
         "Blues for {first}", "{place} Bound", "Can't Shake This {noun}", "{adj} {noun}"},
        {{"nick",
          {"Big", "Little", "Blind", "Howlin'", "Slim", "Lightnin'", "Sonny", "Delta", "Cotton", "Smokey",
           "Lefty"}},
         {"band", {"Nighthawks", "Houserockers", "Playboys", "Aces", "Rocket Kings", "Midnighters"}},
         {"adj", {"Lonesome", "Muddy", "Crossroad", "Hard Luck", "Low Down", "Rollin'", "Dusty", "Rainy"}},
         {"noun",
          {"Train", "River", "Whiskey", "Levee", "Mojo", "Highway", "Jailhouse", "Shoes", "Rooster", "Moon"}},
         {"club", {"Blue Note Lounge", "Checkerboard", "Red Rooster", "Juke Joint"}},
         {"day", {"Monday", "Tuesday", "Sunday", "Friday"}},
         {"verb", {"Rollin'", "Walkin'", "Cryin'", "Ramblin'", "Shakin'"}}}}},
      {Genre::Classical,
       {{"{last} String Quartet", "{first} {last}", "{place} Chamber Orchestra", "Ensemble {latin}",
         "Trio {latin}", "{place} Wind Quintet", "{latin} Baroque"},
        {"{form}s and {form}s", "Music for {forces}", "The {place} Recital", "{form}s, Book {number}",
         "{adj} Music"},
        {"{form} No. {number}: {tempo}", "{form} in {mood} Style", "{form} No. {number}, {tempo}",
         "{tempo}: {form} for {forces}"},
        {{"latin", {"Aurora", "Lumen", "Concordia", "Tempesta", "Arcadia", "Vox Nova", "Seraphin", "Caelum"}},
         {"form",
          {"Sonata", "Nocturne", "Serenade", "Divertimento", "Romance", "Partita", "Fantasia", "Minuet",
           "Prelude", "Rondo"}},
         {"forces", {"Strings", "Winds", "Piano", "Small Orchestra", "Violin and Piano"}},
         {"adj", {"Evening", "Pastoral", "Chamber", "Court", "Garden", "Winter"}},
         {"mood", {"Pastoral", "Elegiac", "Galant", "Italian", "Rustic"}},
         {"tempo",
          {"Allegro", "Andante", "Adagio", "Allegretto", "Moderato", "Largo", "Presto",
           "Andante cantabile"}}}}},
      {Genre::Country,
       {{"{first} {last}", "The {last} Brothers", "{first} {last} & the {place} Ramblers",
         "{first} Lee {last}", "The {last} Family"},
        {"{place} Nights", "{adj} Hearts", "Honky Tonk {noun}", "Back Roads and {noun}s",
         "{adj} as a {noun}"},
        {"{place} Rain", "Whiskey and {noun}", "Long Road to {place}", "{first}'s Pickup",
         "{adj} Heart Blues", "Down at the {noun}", "Two Steps from {place}", "{adj} {noun}"},
        {{"adj", {"Lonesome", "Dusty", "Broken", "Wild", "Steel", "Cotton", "Tender", "Old"}},
         {"noun",
          {"Dance Hall", "Porch", "Rodeo", "Creek", "Jukebox", "Tailgate", "Fence Line", "County Fair",
           "Saddle"}}}}},
      {Genre::Disco,
       {{"The {colour} {machine}", "{first} {noun} & the {band}", "{noun} {machine}",
         "{colour} {noun} Orchestra"},
        {"Night {noun}", "{adj} Fever", "Dance {noun}", "{colour} Nights", "Boogie {noun}"},
        {"Boogie {noun}", "{adj} Love", "Dance All Night", "Get Down {adv}", "{colour} Lights",
         "Love {machine}", "Shake Your {noun}", "{adj} Groove"},
        {{"machine", {"Connection", "Express", "Machine", "Affair", "Sensation", "Experience"}},
         {"band", {"Sequins", "Starlights", "Satins", "Lovelights"}},
         {"noun",
          {"Fever", "Motion", "Feeling", "Satellite", "Heat", "Glitter", "Rhythm", "Mirror Ball", "Body"}},
         {"adj", {"Funky", "Hot", "Electric", "Sweet", "Fantasy", "Crazy", "Midnight"}},
         {"adv", {"Tonight", "Forever", "Slowly", "Again", "Baby"}}}}},
      {Genre::HipHop,
       {{"MC {word}", "Lil {word}", "{word} {word}", "DJ {word} & {word}", "{word} Collective",
         "The {word} Syndicate"},
        {"{word} Theory", "Street {noun}", "The {adj} Chamber", "{noun} Tapes", "Bars and {noun}"},
        {"Check the {noun}", "{noun} Flow", "Back to the {noun}", "{word} Anthem", "{adj} Cipher",
         "Boom Bap {noun}", "Crate Diggin'", "{adj} Rhymes"},
        {{"word",
          {"Vandal", "Prophecy", "Static", "Nova", "Juice", "Tempo", "Krate", "Mystic", "Phantom", "Lyric",
           "Flint", "Rugged", "Kinetic", "Sly", "Cipher", "Dusty"}},
         {"noun", {"Block", "Basement", "Rhythm", "Corner", "Vinyl", "Concrete", "Mic", "Beat", "Summer"}},
         {"adj", {"Rugged", "Golden", "Raw", "Smooth", "Hard", "Late Night", "Uptown"}}}}},
      {Genre::Jazz,
       {{"The {first} {last} {group}", "{first} {last}", "{first} {last} and Friends",
         "{last}-{last} {group}"},
        {"{adj} {noun}", "Live at the {club}", "{colour} in {place}", "{noun} Suite", "{adj} Standards"},
        {"{colour} {noun}", "Blues for {first}", "{place} After Dark", "Waltz for {first}", "{adj} Steps",
         "{noun} Bounce", "Round About {noun}", "{first}'s Tune"},
        {{"group", {"Quartet", "Trio", "Quintet", "Sextet"}},
         {"adj", {"Blue", "Late", "Modal", "Cool", "Smoky", "Soft", "Swinging", "Brisk"}},
         {"noun", {"Horizons", "Midnight", "Reverie", "Autumn", "Streetlight", "Moods", "Cadence", "Uptown"}},
         {"club", {"Village Vault", "Blue Lantern", "Half Moon", "Five Spot Room"}}}}},
      {Genre::Metal,
       {{"{adj} {noun}", "{noun} of {noun}", "{noun}", "The {adj} {noun}"},
        {"{noun} of the {noun}", "{adj} {noun}", "Reign of {noun}", "{noun} Eternal"},
        {"{verb} the {noun}", "{noun} of {noun}", "{adj} {noun}", "Into the {noun}", "{noun} Unbound"},
        {{"adj",
          {"Iron", "Black", "Grim", "Molten", "Frozen", "Hollow", "Ashen", "Savage", "Cursed", "Burning"}},
         {"noun",
          {"Sepulchre", "Oath", "Throne", "Abyss", "Storm", "Serpent", "Pyre", "Monolith", "Void", "Wrath",
           "Tyrant", "Eclipse", "Inferno"}},
         {"verb", {"Summon", "Devour", "Unleash", "Shatter", "Forge", "Awaken"}}}}},
      {Genre::Pop,
       {{"{first} {last}", "{first}", "{adj} {noun}s", "{colour} {noun}", "{first} & {first}"},
        {"{adj} Hearts", "{colour} Summer", "{noun}", "Neon {noun}", "{adj} Feelings"},
        {"{adj} Tonight", "Call Me {adv}", "{noun} of Mine", "Say You {verb}", "Dancing in the {noun}",
         "{adj} Love", "Over the {noun}", "{noun}s"},
        {{"adj", {"Golden", "Perfect", "Electric", "Sweet", "Brave", "Wild", "Paper", "Bright", "Lovesick"}},
         {"noun",
          {"Paradise", "Heartbeat", "Satellite", "Polaroid", "Echo", "Daydream", "Starlight", "Kiss",
           "Weekend", "Rain"}},
         {"adv", {"Maybe", "Tonight", "Baby", "Anytime", "Back"}},
         {"verb", {"Stay", "Know", "Care", "Remember", "Will"}}}}},
      {Genre::Reggae,
       {{"{title} {first}", "{first} {last} & the {band}", "{noun} Sound System", "The {band}",
         "{title} {last}"},
        {"{place} Roots", "Dub {noun}", "Rise {adv}", "{noun} Vibration", "Zion {noun}"},
        {"{noun} Dub", "Jah {verb}", "Natty {noun}", "{adj} Vibration", "Rise Up {adv}", "Rockers {noun}",
         "Dread in {place}", "{adj} Riddim"},
        {{"title", {"King", "Prince", "Sister", "Brother", "Ranking", "Jah"}},
         {"band", {"Uprisers", "Dreads", "Rockers", "Roots Radics", "Ital Lions"}},
         {"noun", {"Roots", "Zion", "Babylon", "Lion", "Yard", "Culture", "Harvest", "Sunrise"}},
         {"adj", {"Roots", "Herbal", "Conscious", "Militant", "Sweet", "Irie"}},
         {"verb", {"Live", "Guide", "Provide", "Forgive"}},
         {"adv", {"Again", "Now", "Together", "Higher"}}}}},
      {Genre::Rock,
       {{"The {noun}s", "{adj} {noun}", "{first} {last} Band", "{noun} {noun}", "The {adj} {noun}s"},
        {"{noun} {noun}", "{adj} {noun}", "Electric {noun}", "Highway {noun}", "{place} Nights"},
        {"{verb} It Up", "{place} Nights", "{noun} on Fire", "{adj} Highway", "Runnin' {adv}", "Stone {noun}",
         "{adj} Radio", "Turn Up the {noun}"},
        {{"noun",
          {"Stones", "Vipers", "Highway", "Thunder", "Wire", "Radio", "Engine", "Rebel", "Canyon", "Static",
           "Wolves", "Ravens"}},
         {"adj", {"Loud", "Reckless", "Electric", "Broken", "Restless", "Wild", "Rusty", "Young"}},
         {"verb", {"Shake", "Burn", "Tear", "Light", "Rip", "Turn"}},
         {"adv", {"Wild", "Free", "Late", "Hot"}}}}},
  };
  return books.at(genre);
}

std::string fill(std::string_view pattern, const NameBook& names, Rng& rng) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const std::size_t end = pattern.find('}', i);
    const std::string_view slot = pattern.substr(i + 1, end - i - 1);
    const auto own = names.words.find(slot);
    const Words& words = own != names.words.end() ? own->second : common_words().at(slot);
    out += rng.pick(words);
    i = end;
  }
  return out;
}

}  // namespace

std::string artist_name(const Persona& persona, Rng& rng) {
  const NameBook& names = book(persona.genre);
  if (persona.genre == Genre::Classical) {  // the name says what the ensemble is
    static constexpr std::size_t kByEnsemble[] = {0, 1, 2, 5, 4, 6};
    const std::size_t ensemble = static_cast<std::size_t>(std::clamp(persona.variant[kGroove], 0, 5));
    const std::size_t pattern = rng.chance(0.75) ? kByEnsemble[ensemble] : 3;
    return fill(names.artists[pattern], names, rng);
  }
  return fill(rng.pick(names.artists), names, rng);
}

std::string album_title(Genre genre, Rng& rng) {
  const NameBook& names = book(genre);
  return fill(rng.pick(names.albums), names, rng);
}

std::string song_title(Genre genre, Rng& rng) {
  const NameBook& names = book(genre);
  return fill(rng.pick(names.titles), names, rng);
}

}  // namespace tunelens::synth
