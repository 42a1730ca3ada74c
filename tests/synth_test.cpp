// The generated corpus: scores, genres, personas, rendering, corpus and collection layouts, the synth
// command, and the PNG writer its preview uses.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "audio/audio.h"
#include "features/features.h"
#include "report/png.h"
#include "synth/compose.h"
#include "synth/corpus.h"
#include "synth/random.h"
#include "synth/render.h"
#include "synth/theory.h"
#include "test_support.h"

namespace tunelens::synth {
// Parameterised tests print the genre's name.
void PrintTo(Genre genre, std::ostream* os) {
  *os << genre_name(genre);
}
}  // namespace tunelens::synth

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using namespace synth;
using testing::ScratchDir;
using testing::ProgramRun;

constexpr int kRate = 22050;

// --- helpers
// --------------------------------------------------------------------------------------------------

ProgramRun tunelens_synth(const std::string& arguments, const ScratchDir& scratch) {
  return testing::tunelens("synth -q " + arguments, scratch);
}

// The persona of artist `artist` of a genre, as a corpus with this seed plans it.
TrackRecipe recipe(Genre genre, int index, double seconds, std::uint64_t seed = 11) {
  TrackRecipe r;
  r.persona = make_persona(genre, derive_seed(seed, "artist:" + std::string(genre_name(genre)),
                                              static_cast<std::uint64_t>(index % 3)));
  r.seed = derive_seed(seed, genre_name(genre), static_cast<std::uint64_t>(index));
  r.seconds = seconds;
  return r;
}

double rms_db(const std::vector<float>& x) {
  double e = 0.0;
  for (const float v : x) e += static_cast<double>(v) * v;
  return 10.0 * std::log10(std::max(e / std::max<std::size_t>(x.size(), 1), 1e-20));
}

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  return testing::csv_rows(testing::read_bytes(path));
}

// Rate, channels and frames from the header tunelens::write_wav writes.
struct WavInfo {
  int rate = 0, channels = 0, bits = 0;
  std::size_t frames = 0;
};

WavInfo wav_info(const fs::path& path) {
  const std::string b = testing::read_bytes(path);
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
  };
  if (b.size() < 44 || b.compare(0, 4, "RIFF") != 0) return {};
  WavInfo info;
  info.channels = static_cast<int>(u32(22) & 0xFFFF);
  info.rate = static_cast<int>(u32(24));
  info.bits = static_cast<int>(u32(34) & 0xFFFF);
  info.frames = u32(40) / static_cast<std::size_t>(info.channels * info.bits / 8);
  return info;
}

std::vector<fs::path> wav_files(const fs::path& folder) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.path().extension() == ".wav") out.push_back(fs::relative(entry.path(), folder));
  std::sort(out.begin(), out.end());
  return out;
}

// --- randomness, scores, theory
// -------------------------------------------------------------------------------

TEST(SynthRandom, SameSeedSameNumbersAndLabelsSeparateStreams) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
  EXPECT_NE(derive_seed(1, "blues", 0), derive_seed(1, "blues", 1));
  EXPECT_NE(derive_seed(1, "blues", 0), derive_seed(1, "jazz", 0));
  EXPECT_NE(derive_seed(1, "blues", 0), derive_seed(2, "blues", 0));
  Rng r(7);
  double sum = 0.0;
  for (int i = 0; i < 10000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(SynthScore, FinishSortsAndKeepsRepeatedKeysFromCuttingEachOther) {
  Score s;
  s.seconds = 10.0;
  s.note(1, 1.0, 2.0, 60, 100);  // overlaps the next C on the same channel
  s.note(1, 1.5, 1.0, 60, 90);
  s.note(2, 0.5, 0.5, 64, 80);
  s.note(2, 20.0, 1.0, 64, 80);  // after the end: dropped
  s.program(1, 0.0, gm(0));
  s.finish();
  const auto& events = s.events();
  ASSERT_EQ(s.note_count(), 3u);
  for (std::size_t i = 1; i < events.size(); ++i) ASSERT_LE(events[i - 1].time, events[i].time);
  EXPECT_EQ(events.front().kind, EventKind::Program);
  // The first C ends before the second starts.
  double first_off = -1.0, second_on = -1.0;
  int ons = 0;
  for (const auto& e : events) {
    if (e.channel != 1 || e.data1 != 60) continue;
    if (e.kind == EventKind::NoteOn && ++ons == 2) second_on = e.time;
    if (e.kind == EventKind::NoteOff && first_off < 0) first_off = e.time;
  }
  EXPECT_LT(first_off, second_on);
}

TEST(SynthTheory, DiatonicChordsAndVoicings) {
  const Key c_major{0, Mode::Major};
  EXPECT_EQ(diatonic_chord(c_major, 0).classes(), (std::vector<int>{0, 4, 7}));
  EXPECT_EQ(diatonic_chord(c_major, 4, true).classes(), (std::vector<int>{7, 11, 2, 5}));  // G7
  EXPECT_EQ(diatonic_chord(c_major, 6).classes(), (std::vector<int>{11, 2, 5}));           // B diminished
  const Key a_minor{9, Mode::HarmonicMinor};
  EXPECT_EQ(diatonic_chord(a_minor, 4).classes(),
            (std::vector<int>{4, 8, 11}));                            // E major: the raised leading note
  const auto voicing = Chord(7, Quality::Dom13).voicing_near(64, 4);  // rootless: 3, 7, 9, 13
  ASSERT_EQ(voicing.size(), 4u);
  EXPECT_FALSE(std::count(voicing.begin(), voicing.end(), 67) ||
               std::count(voicing.begin(), voicing.end(), 55));
  EXPECT_EQ(c_major.snap(61), 60);
}

// --- every genre
// ----------------------------------------------------------------------------------------------

class SynthGenre : public ::testing::TestWithParam<Genre> {};

TEST_P(SynthGenre, RendersNonSilentAudioOfTheRequestedLength) {
  Renderer renderer(default_sound_font(), kRate);
  for (int i = 0; i < 2; ++i) {
    const Score score = compose(recipe(GetParam(), i, 4.0));
    EXPECT_GT(score.note_count(), 10u) << score.summary;
    EXPECT_GT(score.beat_times.size(), 3u);
    const std::vector<float> audio = renderer.render(score);
    ASSERT_EQ(audio.size(), static_cast<std::size_t>(4 * kRate));
    EXPECT_GT(rms_db(audio), -30.0) << score.summary;
    for (const float x : audio) ASSERT_TRUE(std::isfinite(x) && std::fabs(x) <= 1.0f);
    // Sound in every second, not only at the start.
    for (int second = 0; second < 4; ++second) {
      const std::vector<float> part(audio.begin() + second * kRate, audio.begin() + (second + 1) * kRate);
      EXPECT_GT(rms_db(part), -45.0) << score.summary << ", second " << second;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllGenres, SynthGenre, ::testing::ValuesIn(all_genres().begin(), all_genres().end()),
                         [](const auto& info) { return std::string(genre_name(info.param)); });

// --- determinism
// ----------------------------------------------------------------------------------------------

TEST(SynthRender, TrackDoesNotDependOnWhatWasRenderedBefore) {
  const Score a = compose(recipe(Genre::Metal, 0, 3.0));
  const Score b = compose(recipe(Genre::Jazz, 1, 3.0));
  Renderer fresh(default_sound_font(), kRate), used(default_sound_font(), kRate);
  const auto alone = fresh.render(b);
  used.render(a);
  EXPECT_EQ(used.render(b), alone);
  EXPECT_EQ(compose(recipe(Genre::Jazz, 1, 3.0)).events().size(), b.events().size());
}

TEST(SynthCommand, SameSeedGivesIdenticalFilesWhateverTheThreadsAndAnotherSeedDiffers) {
  ScratchDir scratch;
  const std::string common = "--genres blues,disco,reggae --per-genre 2 --seconds 3 ";
  ASSERT_EQ(
      tunelens_synth(common + "--seed 7 --threads 1 --out " + (scratch / "one").string(), scratch).status, 0);
  ASSERT_EQ(
      tunelens_synth(common + "--seed 7 --threads 2 --out " + (scratch / "two").string(), scratch).status, 0);
  ASSERT_EQ(
      tunelens_synth(common + "--seed 8 --threads 2 --out " + (scratch / "other").string(), scratch).status,
      0);
  const auto files = wav_files(scratch / "one");
  ASSERT_EQ(files.size(), 6u);
  ASSERT_EQ(wav_files(scratch / "two"), files);
  int differing = 0;
  for (const auto& file : files) {
    const std::string bytes = testing::read_bytes(scratch / "one" / file);
    EXPECT_EQ(bytes, testing::read_bytes(scratch / "two" / file)) << file;
    if (bytes != testing::read_bytes(scratch / "other" / file)) ++differing;
  }
  EXPECT_EQ(differing, 6);
  EXPECT_EQ(testing::read_bytes(scratch / "one" / "tracks.csv"),
            testing::read_bytes(scratch / "two" / "tracks.csv"));
}

// --- corpus and collection
// ------------------------------------------------------------------------------------

TEST(SynthCommand, WritesGtzanLayoutWithTracksCsvMatchingTheFiles) {
  ScratchDir scratch;
  const fs::path out = scratch / "corpus";
  const ProgramRun run = tunelens_synth(
      "--genres jazz,metal --per-genre 3 --seconds 2 --sample-rate 16000 --out " + out.string(), scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("6 written, 0 failed"), std::string::npos) << run.out;
  const auto files = wav_files(out);
  ASSERT_EQ(files.size(), 6u);
  EXPECT_EQ(files.front(), fs::path("jazz/jazz.00000.wav"));
  EXPECT_EQ(files.back(), fs::path("metal/metal.00002.wav"));
  for (const auto& file : files) {
    const WavInfo info = wav_info(out / file);
    EXPECT_EQ(info.rate, 16000);
    EXPECT_EQ(info.channels, 1);
    EXPECT_EQ(info.bits, 16);
    EXPECT_EQ(info.frames, 32000u);
  }
  const auto rows = read_csv(out / "tracks.csv");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"path", "label", "artist", "album", "title", "year"}));
  std::map<std::string, std::set<std::string>> artists;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    ASSERT_EQ(row.size(), 6u);
    EXPECT_EQ(fs::path(row[0]), files[i - 1]);
    EXPECT_TRUE(fs::exists(out / row[0]));
    EXPECT_EQ(row[1], fs::path(row[0]).parent_path().string());
    EXPECT_FALSE(row[2].empty() || row[3].empty() || row[4].empty());
    const int year = std::stoi(row[5]);
    EXPECT_TRUE(year >= 1940 && year <= 2030) << year;
    artists[row[1]].insert(row[2]);
  }
  EXPECT_EQ(artists["jazz"].size(), 2u);  // three tracks spread over two artists
  EXPECT_EQ(artists["metal"].size(), 2u);
}

TEST(SynthCorpus, PlanSpreadsEachGenreOverArtistsWithAFewAlbums) {
  CorpusOptions options;
  options.per_genre = 100;
  const auto plan = plan_corpus(options);
  ASSERT_EQ(plan.size(), 1000u);
  std::map<Genre, std::set<std::string>> artists;
  std::map<std::string, std::set<std::string>> albums_of;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> titles;
  std::map<std::pair<std::string, std::string>, std::set<int>> years;
  std::set<fs::path> paths;
  for (const auto& t : plan) {
    artists[t.genre].insert(t.artist);
    albums_of[t.artist].insert(t.album);
    EXPECT_TRUE(titles[std::pair(t.artist, t.album)].insert(t.title).second)
        << "title repeated on an album: " << t.title;
    years[std::pair(t.artist, t.album)].insert(t.year);
    EXPECT_TRUE(paths.insert(t.path).second);
    EXPECT_EQ(t.recipe.persona.genre, t.genre);
  }
  for (const auto& [genre, names] : artists) EXPECT_EQ(names.size(), 10u) << genre_name(genre);
  for (const auto& [artist, albums] : albums_of) {
    EXPECT_GE(albums.size(), 1u);
    EXPECT_LE(albums.size(), 3u) << artist;
  }
  for (const auto& [album, year] : years) EXPECT_EQ(year.size(), 1u);
  EXPECT_EQ(corpus_artist_count(1), 1);
  EXPECT_EQ(corpus_artist_count(2), 2);
  EXPECT_EQ(corpus_artist_count(25), 3);
  options.per_genre = 0;
  EXPECT_THROW(plan_corpus(options), std::invalid_argument);
}

TEST(SynthCorpus, CollectionFoldersPutEachArtistsAlbumsInReleaseOrder) {
  CollectionOptions options;
  options.artists = 3;
  options.albums = 4;
  options.tracks = 2;
  const auto plan = plan_collection(options);
  ASSERT_EQ(plan.size(), 24u);
  // Sorting the folders by name groups an artist's albums and orders them by year.
  std::map<std::string, std::pair<std::string, int>> folders;  // folder -> (artist, album index)
  std::map<std::string, std::set<Genre>> genres;
  for (const auto& t : plan) {
    const std::string folder = t.path.parent_path().string();
    EXPECT_EQ(folder.rfind(t.artist + " - " + std::to_string(t.year) + " - ", 0), 0u) << folder;
    char number[4];
    std::snprintf(number, sizeof number, "%02d", t.track_number);
    EXPECT_EQ(t.path.filename().string().rfind(std::string(number) + " - ", 0), 0u) << t.path;
    EXPECT_EQ(t.path.extension(), ".wav");
    folders[folder] = {t.artist, t.album_index};
    genres[t.artist].insert(t.genre);
  }
  std::map<std::string, int> last_index;
  for (const auto& [folder, who] : folders) {  // std::map iterates in sorted order
    const auto found = last_index.find(who.first);
    if (found != last_index.end()) {
      EXPECT_EQ(who.second, found->second + 1) << folder;
    }
    last_index[who.first] = who.second;
  }
  EXPECT_EQ(folders.size(), 12u);
  for (const auto& [artist, set] : genres) EXPECT_LE(set.size(), 2u) << artist;

  options.artists = 1;  // one artist: no artist prefix, the year leads
  for (const auto& t : plan_collection(options))
    EXPECT_EQ(t.path.parent_path().string().rfind(std::to_string(t.year) + " - " + t.album, 0), 0u) << t.path;
}

TEST(SynthCommand, CollectionWritesAlbumsAndTracksCsv) {
  ScratchDir scratch;
  const fs::path out = scratch / "collection";
  const ProgramRun run = tunelens_synth(
      "--collection --artists 1 --albums 2 --tracks 2 --seconds 2 --out " + out.string(), scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  const auto files = wav_files(out);
  ASSERT_EQ(files.size(), 4u);
  const auto rows = read_csv(out / "tracks.csv");
  ASSERT_EQ(rows.size(), 5u);
  std::set<fs::path> listed;
  for (std::size_t i = 1; i < rows.size(); ++i) listed.insert(rows[i][0]);
  EXPECT_EQ(listed, std::set<fs::path>(files.begin(), files.end()));
  EXPECT_LE(std::stoi(rows[1][5]), std::stoi(rows[4][5]));  // first album no later than the last
  EXPECT_EQ(files.front().filename().string().substr(0, 5), "01 - ");
}

// --- the idioms really differ
// ---------------------------------------------------------------------------------

// Share of the beats of a score with a kick drum note-on within 30 ms.
double kick_on_beat_share(const Score& score) {
  std::vector<double> kicks;
  for (const auto& e : score.events())
    if (e.kind == EventKind::NoteOn && e.channel == kDrumChannel && (e.data1 == 35 || e.data1 == 36))
      kicks.push_back(e.time);
  int hit = 0, beats = 0;
  for (const double beat : score.beat_times) {
    if (beat + 0.1 > score.seconds) break;
    ++beats;
    hit += std::any_of(kicks.begin(), kicks.end(), [&](double k) { return std::fabs(k - beat) < 0.03; });
  }
  return beats ? static_cast<double>(hit) / beats : 0.0;
}

TEST(SynthIdiom, DiscoKicksEveryBeatAndClassicalHasNoDrums) {
  for (int i = 0; i < 12; ++i) {
    const Score disco = compose(recipe(Genre::Disco, i, 20.0, 100 + i));
    EXPECT_GE(kick_on_beat_share(disco), 0.97) << disco.summary;
    const Score classical = compose(recipe(Genre::Classical, i, 20.0, 100 + i));
    EXPECT_EQ(classical.note_count(kDrumChannel), 0u) << classical.summary;
    for (const auto& e : classical.events()) ASSERT_NE(e.channel, kDrumChannel);
  }
  // Reggae's one drop leaves beat one to the bass; hip-hop's kick is syncopated: neither marks every beat.
  for (const Genre genre : {Genre::HipHop, Genre::Jazz}) {
    double share = 0.0;
    for (int i = 0; i < 6; ++i) share += kick_on_beat_share(compose(recipe(genre, i, 20.0, 200 + i))) / 6;
    EXPECT_LT(share, 0.8) << genre_name(genre);
  }
}

TEST(SynthIdiom, MetalIsLouderAndBrighterThanClassical) {
  Renderer renderer(default_sound_font(), kRate);
  const MelSpectrogram mel;
  auto measure = [&](Genre genre) {
    double loudness = 0.0, bright = 0.0;
    const int n = 4;
    for (int i = 0; i < n; ++i) {
      const auto audio = renderer.render(compose(recipe(genre, i, 6.0, 300 + i)));
      loudness += rms_db(audio) / n;
      const Spectrogram s = mel.compute(audio);
      double high = 0.0, all = 0.0;  // bands above about 3 kHz (mel band 80 of 128 at 22050 Hz)
      for (std::size_t m = 0; m < s.rows; ++m)
        for (std::size_t t = 0; t < s.frames; ++t) (m >= 80 ? high : all) += s.at(m, t);
      bright += high / (high + all) / n;
    }
    return std::pair{loudness, bright};
  };
  const auto [metal_loudness, metal_bright] = measure(Genre::Metal);
  const auto [classical_loudness, classical_bright] = measure(Genre::Classical);
  EXPECT_GT(metal_loudness, classical_loudness + 5.0);
  EXPECT_GT(metal_bright, 1.5 * classical_bright) << metal_bright << " vs " << classical_bright;
}

// --- artists sound like themselves
// -----------------------------------------------------------------------------

TEST(SynthPersona, TracksOfAnArtistAreCloserToEachOtherThanToAnotherArtistOfTheGenre) {
  CorpusOptions options;
  options.per_genre = 6;  // two artists of three tracks in each genre
  options.seconds = 5.0;
  options.seed = 5;
  const auto plan = plan_corpus(options);
  Renderer renderer(default_sound_font(), kRate);
  const MelSpectrogram mel;
  std::map<Genre, std::vector<std::pair<int, std::vector<double>>>> vectors;  // genre -> (artist, mean MFCC)
  for (const auto& t : plan) {
    Spectrogram db = mel.compute(renderer.render(compose(t.recipe)));
    power_to_db(db, {DbReference::Value, 1.0, 1e-10, 80.0});
    const Spectrogram c = mfcc(db, 20);
    std::vector<double> mean(c.rows, 0.0);
    for (std::size_t r = 0; r < c.rows; ++r)
      for (std::size_t f = 0; f < c.frames; ++f) mean[r] += c.at(r, f) / static_cast<double>(c.frames);
    vectors[t.genre].push_back({t.artist_index, mean});
  }
  auto distance = [](const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(d);
  };
  int closer = 0;
  double margin = 0.0;
  for (const auto& [genre, tracks] : vectors) {
    double within = 0.0, between = 0.0;
    int nw = 0, nb = 0;
    for (std::size_t i = 0; i < tracks.size(); ++i)
      for (std::size_t j = i + 1; j < tracks.size(); ++j) {
        const double d = distance(tracks[i].second, tracks[j].second);
        if (tracks[i].first == tracks[j].first)
          within += d, ++nw;
        else
          between += d, ++nb;
      }
    within /= nw;
    between /= nb;
    closer += within < between;
    margin += (between - within) / between / static_cast<double>(vectors.size());
  }
  EXPECT_GE(closer, 8)
      << "genres where an artist's tracks are closer to each other than to the other artist's";
  EXPECT_GT(margin, 0.15);
}

// --- bad input
// ------------------------------------------------------------------------------------------------

TEST(SynthCommand, UnknownGenreIsAUsageErrorListingTheValidOnes) {
  ScratchDir scratch;
  const ProgramRun run =
      tunelens_synth("--genres blues,polka --per-genre 1 --out " + (scratch / "x").string(), scratch);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("unknown genre 'polka'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("blues, classical, country, disco, hiphop, jazz, metal, pop, reggae, rock"),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(fs::exists(scratch / "x" / "tracks.csv"));
}

TEST(SynthCommand, ZeroTracksPerGenreIsAUsageError) {
  ScratchDir scratch;
  const ProgramRun run = tunelens_synth("--per-genre 0 --out " + (scratch / "x").string(), scratch);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("--per-genre"), std::string::npos) << run.err;
}

TEST(SynthCommand, MissingSoundFontAndUnwritableFolderAreNamed) {
  ScratchDir scratch;
  const std::string font = (scratch / "missing.sf2").string();
  ProgramRun run = tunelens_synth(
      "--genres rock --per-genre 1 --seconds 1 --sound-font " + font + " --out " + (scratch / "x").string(),
      scratch);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find(font + ": sound font not found"), std::string::npos) << run.err;
  testing::write_bytes(scratch / "file", "not a folder");
  const std::string blocked = (scratch / "file" / "corpus").string();
  run = tunelens_synth("--genres rock --per-genre 1 --seconds 1 --out " + blocked, scratch);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find(blocked), std::string::npos) << run.err;
}

// --- preview and PNG
// ------------------------------------------------------------------------------------------

// Decodes an 8-bit RGB PNG written by encode_png (any row filter), checking every chunk's CRC.
std::vector<std::uint8_t> decode_rgb_png(const std::vector<std::uint8_t>& png, int& width, int& height) {
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(png[at]) << 24 | static_cast<std::uint32_t>(png[at + 1]) << 16 |
           static_cast<std::uint32_t>(png[at + 2]) << 8 | png[at + 3];
  };
  EXPECT_EQ(std::vector<std::uint8_t>(png.begin(), png.begin() + 8),
            (std::vector<std::uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}));
  std::vector<std::uint8_t> idat;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const std::uint32_t length = u32(at);
    const std::string type(png.begin() + static_cast<long>(at) + 4, png.begin() + static_cast<long>(at) + 8);
    EXPECT_EQ(crc32(0L, png.data() + at + 4, length + 4), u32(at + 8 + length)) << type;
    if (type == "IHDR") {
      width = static_cast<int>(u32(at + 8));
      height = static_cast<int>(u32(at + 12));
      EXPECT_EQ(png[at + 16], 8);  // bit depth
      EXPECT_EQ(png[at + 17], 2);  // RGB
    } else if (type == "IDAT") {
      idat.insert(idat.end(), png.begin() + static_cast<long>(at) + 8,
                  png.begin() + static_cast<long>(at + 8 + length));
    }
    at += 12 + length;
  }
  const std::size_t stride = static_cast<std::size_t>(width) * 3;
  std::vector<std::uint8_t> raw((stride + 1) * static_cast<std::size_t>(height));
  uLongf size = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &size, idat.data(), idat.size()), Z_OK);
  std::vector<std::uint8_t> out(stride * static_cast<std::size_t>(height));
  for (std::size_t y = 0; y < static_cast<std::size_t>(height); ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= 3 ? out[y * stride + i - 3] : 0, b = y ? out[(y - 1) * stride + i] : 0,
                c = (y && i >= 3) ? out[(y - 1) * stride + i - 3] : 0;
      int p = 0;
      if (filter == 1) p = a;
      if (filter == 2) p = b;
      if (filter == 3) p = (a + b) / 2;
      if (filter == 4) {
        const int e = a + b - c, pa = std::abs(e - a), pb = std::abs(e - b), pc = std::abs(e - c);
        p = (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c;
      }
      out[y * stride + i] = static_cast<std::uint8_t>(raw[y * (stride + 1) + 1 + i] + p);
    }
  }
  return out;
}

TEST(Png, RoundTripsThroughZlibWithValidChunks) {
  RgbImage image(37, 23, {10, 20, 30});
  for (int y = 0; y < 23; ++y)
    for (int x = 0; x < 37; ++x) image.set(x, y, magma((x + y) / 60.0));
  image.draw_text(2, 2, "Hip-Hop 2024", {255, 255, 255});
  int width = 0, height = 0;
  const auto pixels = decode_rgb_png(encode_png(image), width, height);
  EXPECT_EQ(width, 37);
  EXPECT_EQ(height, 23);
  EXPECT_EQ(pixels, image.bytes());
}

TEST(Png, MagmaGetsBrighterAlongTheScale) {
  double previous = -1.0;
  for (int i = 0; i <= 20; ++i) {
    const Rgb c = magma(i / 20.0);
    const double luminance = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    EXPECT_GT(luminance, previous);
    previous = luminance;
  }
  EXPECT_EQ(magma(-1.0), magma(0.0));
  EXPECT_EQ(magma(2.0), magma(1.0));
}

TEST(SynthCommand, PreviewDrawsEachGenresFirstTrack) {
  ScratchDir scratch;
  const fs::path png = scratch / "preview.png";
  const ProgramRun run = tunelens_synth("--genres pop,rock --per-genre 1 --seconds 2 --preview " +
                                            png.string() + " --out " + (scratch / "corpus").string(),
                                        scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  const std::string bytes = testing::read_bytes(png);
  int width = 0, height = 0;
  const auto pixels = decode_rgb_png(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), width, height);
  EXPECT_GT(width, 2 * 87);  // two panels of 2 s (87 frames) side by side
  EXPECT_GT(height, 128);
  EXPECT_EQ(pixels.size(), static_cast<std::size_t>(width * height * 3));
}

}  // namespace
}  // namespace tunelens
