// Dataset sources, imports, splits and catalog features: the library, and `tunelens dataset` / `tunelens
// extract` run as a user runs them.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <set>

#include "audio/audio.h"
#include "data/csv.h"
#include "data/extract.h"
#include "data/import.h"
#include "data/sources.h"
#include "data/splits.h"
#include "store/catalog.h"
#include "store/feature_array.h"
#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::data_path;
using testing::ProgramRun;
using testing::ScratchDir;
using testing::tunelens;

std::size_t line_count(const std::string& text) {
  return testing::occurrences(text, "\n");
}

// A sine tone as a 16-bit WAV: small, fast to decode, and different for each frequency.
void write_tone(const fs::path& path, double frequency, double seconds = 0.5, int rate = 22050) {
  fs::create_directories(path.parent_path());
  std::vector<float> samples(static_cast<std::size_t>(seconds * rate));
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = 0.5f * static_cast<float>(
                            std::sin(2.0 * std::numbers::pi * frequency * static_cast<double>(i) / rate));
  write_wav(path, samples, rate);
}

// Every row of a catalog is whole: what an import writes, it writes completely.
void expect_complete_rows(const Catalog& catalog) {
  for (const auto& track : catalog.tracks()) {
    EXPECT_EQ(track.fingerprint.size(), 16u) << track.path;
    EXPECT_GT(track.size, 0) << track.path;
    EXPECT_GT(track.duration, 0.0) << track.path;
    EXPECT_GT(track.sample_rate, 0) << track.path;
    EXPECT_GT(track.channels, 0) << track.path;
    EXPECT_FALSE(track.codec.empty()) << track.path;
    EXPECT_TRUE(fs::exists(catalog.absolute_path(track.path))) << track.path;
  }
}

// FMA's audio layout: DIR/{id/1000:03d}/{id:06d}.mp3.
std::string fmt_id_folder(int id) {
  char text[16];
  std::snprintf(text, sizeof text, "%03d", id / 1000);
  return text;
}
std::string fmt_id_file(int id) {
  char text[16];
  std::snprintf(text, sizeof text, "%06d.mp3", id);
  return text;
}

std::string fmt_record(const FeatureRecord& r) {
  return std::to_string(r.track) + " " + r.config + " " +
         (r.status == FeatureStatus::Done ? "done" : "failed") + " " + std::to_string(r.n_mels) + "x" +
         std::to_string(r.frames) + " " + std::to_string(r.seconds) + " " + r.error;
}

std::set<std::string> paths_of(const Catalog& catalog) {
  std::set<std::string> paths;
  for (const auto& track : catalog.tracks()) paths.insert(track.path);
  return paths;
}

// --- parsing

TEST(Csv, QuotesCommasDoubledQuotesAndLineBreaks) {
  ScratchDir scratch;
  testing::write_bytes(scratch / "a.csv",
                       "\xef\xbb\xbfpath,title\r\n"
                       "a.wav,\"Hello, world\"\r\n"
                       "b.wav,\"He said \"\"hi\"\"\"\n"
                       "c.wav,\"two\nlines\"\n"
                       "\n"
                       "d.wav,\n"
                       "e.wav,last");
  CsvReader reader(scratch / "a.csv");
  std::vector<std::string> row;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> lines;
  while (reader.next(row)) {
    rows.push_back(row);
    lines.push_back(reader.line());
  }
  const std::vector<std::vector<std::string>> expected = {{"path", "title"},
                                                          {"a.wav", "Hello, world"},
                                                          {"b.wav", "He said \"hi\""},
                                                          {"c.wav", "two\nlines"},
                                                          {""},
                                                          {"d.wav", ""},
                                                          {"e.wav", "last"}};
  EXPECT_EQ(rows, expected);
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 3, 4, 6, 7, 8}));

  testing::write_bytes(scratch / "open.csv", "path,title\na.wav,\"never closed\nb.wav,x\n");
  CsvReader open(scratch / "open.csv");
  open.next(row);
  try {
    open.next(row);
    ADD_FAILURE() << "an unclosed quote was accepted";
  } catch (const DatasetError& error) {
    EXPECT_NE(std::string(error.what()).find("open.csv:2: a quoted field is not closed"), std::string::npos)
        << error.what();
  }
}

TEST(Sources, LeadingNumbersOfAlbumsAndTracks) {
  auto check = [](const std::string& name, bool disc, std::optional<int> number, const std::string& rest) {
    const NumberedName parsed = split_leading_number(name, disc);
    EXPECT_EQ(parsed.number, number) << name;
    EXPECT_EQ(parsed.rest, rest) << name;
  };
  check("07 - Michelle", true, 7, "Michelle");
  check("1965 - Rubber Soul", false, 1965, "Rubber Soul");
  check("03 Abbey Road", false, 3, "Abbey Road");
  check("1-07 Michelle", true, 7, "Michelle");
  check("1-07 Michelle", false, 1, "07 Michelle");
  check("12. Her Majesty", true, 12, "Her Majesty");
  check("05_Something", true, 5, "Something");
  check("Help!", true, std::nullopt, "Help!");
  check("2Pac Live", true, std::nullopt, "2Pac Live");
  check("07", true, 7, "07");
}

// --- imports, end to end

// genres/<label>/..., with good files in several formats and bad ones of every kind.
fs::path make_label_folders(const fs::path& root) {
  write_tone(root / "blues" / "blues.00000.wav", 220);
  write_tone(root / "blues" / "blues.00001.wav", 247);
  fs::copy_file(data_path("formats/flac_s16.flac"), root / "blues" / "blues.00002.flac");
  write_tone(root / "rock" / "rock.00000.wav", 330);
  fs::copy_file(data_path("formats/mp3_lame.mp3"), root / "rock" / "rock.00001.mp3");
  fs::create_directories(root / "rock" / "live");
  fs::copy_file(data_path("formats/au_s16.au"), root / "rock" / "live" / "rock.00002.au");
  write_tone(root / "jazz" / "jazz.00000.wav", 440);
  testing::write_bytes(root / "rock" / "broken.mp3", "not music at all, just text with an mp3 name\n");
  testing::write_bytes(root / "jazz" / "empty.wav", "");
  testing::write_bytes(root / "jazz" / "header_only.wav",
                       testing::read_bytes(data_path("formats/wav_s16.wav")).substr(0, 44));
  write_tone(root / "loose.wav", 550);  // not in a label folder
  testing::write_bytes(root / "blues" / "notes.txt", "not audio: ignored");
  return root;
}

TEST(ImportFolders, EveryGoodFileInEveryBadOneNamedAndRerunsAddNothing) {
  ScratchDir scratch;
  const fs::path root = make_label_folders(scratch / "genres");
  const fs::path db = scratch / "genres.db";
  const std::string args =
      "dataset import folders " + testing::quoted(root) + " --catalog " + testing::quoted(db) + " -q -j2";
  const ProgramRun first = tunelens(args, scratch);
  EXPECT_EQ(first.status, 1) << first.err;
  EXPECT_NE(first.out.find("import folders: 11 files: 7 added"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("0 already in the catalog, 4 failed"), std::string::npos) << first.out;
  const std::vector<std::string> bad = {"loose.wav: no label: not in a label folder",
                                        "broken.mp3: not an audio file", "empty.wav: empty file",
                                        "header_only.wav: corrupt audio"};
  for (const auto& line : bad)
    EXPECT_EQ(testing::occurrences(first.err, line), 1u) << line << " in:\n" << first.err;
  EXPECT_EQ(testing::occurrences(first.err, "error: "), 4u) << first.err;
  EXPECT_EQ(line_count(first.err), 4u) << first.err;

  {
    const Catalog catalog = Catalog::open(db);
    EXPECT_EQ(paths_of(catalog), (std::set<std::string>{"blues/blues.00000.wav", "blues/blues.00001.wav",
                                                        "blues/blues.00002.flac", "jazz/jazz.00000.wav",
                                                        "rock/live/rock.00002.au", "rock/rock.00000.wav",
                                                        "rock/rock.00001.mp3"}));
    expect_complete_rows(catalog);
    EXPECT_EQ(catalog.stored_dataset_root(), "genres");
    const auto mp3 = catalog.find_track("rock/rock.00001.mp3");
    ASSERT_TRUE(mp3);
    EXPECT_EQ(mp3->label, "rock");
    EXPECT_EQ(mp3->codec, "mp3");  // the codec, not FFmpeg's decoder (mp3float)
    EXPECT_EQ(mp3->sample_rate, 44100);
    EXPECT_EQ(mp3->channels, 2);
    EXPECT_NEAR(mp3->duration, 1.0, 0.1);
    EXPECT_EQ(mp3->source, "folders");
    EXPECT_EQ(catalog.find_track("blues/blues.00000.wav")->duration, 0.5);
    EXPECT_EQ(catalog.find_track("rock/live/rock.00002.au")->label, "rock");
  }

  const ProgramRun again = tunelens(args, scratch);
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.out.find("0 added (0.0 s of audio), 7 already in the catalog, 4 failed"), std::string::npos)
      << again.out;
  EXPECT_EQ(Catalog::open(db).track_count(), 7u);

  // Only some labels accepted: the others are named as unknown.
  const ProgramRun some =
      tunelens("dataset import folders " + testing::quoted(root) + " --labels blues,rock --catalog " +
                   testing::quoted(scratch / "some.db") + " -q",
               scratch);
  EXPECT_EQ(some.status, 1);
  EXPECT_EQ(testing::occurrences(some.err, "unknown label 'jazz'"), 3u)
      << some.err;  // jazz.00000, empty, header_only
  EXPECT_EQ(Catalog::open(scratch / "some.db").track_count(), 6u);
}

// FMA's layout: the shipped tracks.csv and a copy of one small MP3 under each id that has audio.
fs::path make_fma_audio(const fs::path& audio) {
  for (const int id : {2, 3, 5, 10, 134, 140, 1001, 1002}) {
    const fs::path file = audio / fmt_id_folder(id) / fmt_id_file(id);
    fs::create_directories(file.parent_path());
    fs::copy_file(data_path("formats/mp3_lame.mp3"), file);
  }
  testing::write_bytes(audio / "000" / "000148.mp3", "a text file named like an mp3\n");
  fs::create_directories(audio / "001");
  testing::write_bytes(audio / "001" / "001003.mp3", "");
  return audio;
}

TEST(ImportFma, ThreeHeaderRowsSubsetsAndBadRows) {
  ScratchDir scratch;
  const fs::path audio = make_fma_audio(scratch / "fma_small");
  const fs::path db = scratch / "fma.db";
  const std::string base = "dataset import fma --metadata " +
                           testing::quoted(data_path("datasets/fma/tracks.csv")) + " --audio " +
                           testing::quoted(audio) + " --catalog " + testing::quoted(db) + " -q";
  const ProgramRun small = tunelens(base + " --subset small", scratch);
  EXPECT_EQ(small.status, 1) << small.err;
  EXPECT_NE(small.out.find("import fma: 11 rows: 5 added"), std::string::npos) << small.out;
  EXPECT_NE(small.out.find("4 failed, 2 outside subset small"), std::string::npos) << small.out;
  EXPECT_EQ(testing::occurrences(small.err, "tracks.csv:"), 4u) << small.err;
  EXPECT_EQ(line_count(small.err), 4u) << small.err;
  EXPECT_EQ(testing::occurrences(small.err, "(track 140): no top genre"), 1u) << small.err;
  EXPECT_EQ(testing::occurrences(small.err,
                                 "(track 141): no audio file " + (audio / "000" / "000141.mp3").string()),
            1u)
      << small.err;
  EXPECT_EQ(testing::occurrences(
                small.err, "(track 148): " + (audio / "000" / "000148.mp3").string() + ": not an audio file"),
            1u)
      << small.err;
  EXPECT_EQ(testing::occurrences(small.err,
                                 "(track 1003): " + (audio / "001" / "001003.mp3").string() + ": empty file"),
            1u)
      << small.err;

  {
    const Catalog catalog = Catalog::open(db);
    expect_complete_rows(catalog);
    EXPECT_EQ(paths_of(catalog), (std::set<std::string>{"000/000002.mp3", "000/000003.mp3", "000/000005.mp3",
                                                        "000/000010.mp3", "001/001002.mp3"}));
    const auto food = catalog.find_track("000/000002.mp3");
    ASSERT_TRUE(food);
    EXPECT_EQ(food->label, "Hip-Hop");
    EXPECT_EQ(food->artist, "AWOL");
    EXPECT_EQ(food->album, "AWOL - A Way Of Life");
    EXPECT_EQ(food->title, "Food");
    EXPECT_EQ(food->track_number, 3);
    EXPECT_EQ(food->year, 2008);
    EXPECT_EQ(food->source, "fma");
    EXPECT_EQ(food->source_id, "2");
    EXPECT_EQ(food->source_split, "train");
    EXPECT_EQ(food->source_subset, "small");
    EXPECT_EQ(catalog.find_track("000/000003.mp3")->title, "Electric Ave, \"live\"");
    EXPECT_EQ(catalog.find_track("000/000005.mp3")->source_split, "val");
    const auto freeway = catalog.find_track("000/000010.mp3");
    EXPECT_EQ(freeway->label, "Pop");
    EXPECT_EQ(freeway->source_split, "test");
    EXPECT_EQ(freeway->artist, "Kurt Vile");
    const auto hearing_aid = catalog.find_track("001/001002.mp3");
    EXPECT_EQ(hearing_aid->artist, "Alec K. Redfearn & the Eyesores");
    EXPECT_FALSE(hearing_aid->year.has_value());  // no release date
  }

  // Medium adds the medium track; large adds the large one; nothing is added twice.
  const ProgramRun medium = tunelens(base + " --subset medium", scratch);
  EXPECT_NE(medium.out.find("1 added"), std::string::npos) << medium.out;
  EXPECT_NE(medium.out.find("5 already in the catalog, 4 failed, 1 outside subset medium"), std::string::npos)
      << medium.out;
  const ProgramRun large = tunelens(base, scratch);
  EXPECT_NE(large.out.find("1 added"), std::string::npos) << large.out;
  EXPECT_NE(large.out.find("6 already in the catalog"), std::string::npos) << large.out;
  EXPECT_EQ(Catalog::open(db).track_count(), 7u);
  EXPECT_EQ(Catalog::open(db).find_track("000/000134.mp3")->source_subset, "medium");

  const ProgramRun not_fma =
      tunelens("dataset import fma --metadata " + testing::quoted(data_path("formats/make.sh")) +
                   " --audio " + testing::quoted(audio) + " --catalog " + testing::quoted(scratch / "x.db"),
               scratch);
  EXPECT_EQ(not_fma.status, 2);
  EXPECT_NE(not_fma.err.find("make.sh: not an FMA tracks.csv"), std::string::npos) << not_fma.err;
  EXPECT_EQ(line_count(not_fma.err), 1u) << not_fma.err;
}

TEST(ImportCsv, GoodRowsInBadRowsNamedByLine) {
  ScratchDir scratch;
  const fs::path dir = scratch / "set";
  write_tone(dir / "audio" / "a.wav", 200);
  write_tone(dir / "audio" / "b.wav", 300);
  write_tone(dir / "audio" / "c.wav", 400);
  write_tone(dir / "audio" / "d.wav", 500);
  testing::write_bytes(dir / "audio" / "garbage.wav", "RIFF....WAVEnot really");
  testing::write_bytes(dir / "list.csv",
                       "path,label,artist,title,year,split,mood\n"
                       "audio/a.wav,rock,Someone,\"Song, with a comma\",1999,train,happy\n"
                       "audio/b.wav,jazz,\"The \"\"Quoted\"\" Band\",B,,val,\n"
                       "audio/c.wav,rock,,,,,\n"
                       "audio/missing.wav,rock,,,,,\n"
                       "audio/d.wav,,,,,,\n"
                       "audio/d.wav,rock,,,nineteen,,\n"
                       "audio/d.wav,rock,,,,later,\n"
                       "audio/garbage.wav,rock,,,,,\n"
                       "audio/d.wav,polka,,,,,\n"
                       "audio/a.wav,rock,,,,,\n"
                       "only,two\n");
  const fs::path db = scratch / "csv.db";
  const ProgramRun run = tunelens("dataset import csv " + testing::quoted(dir / "list.csv") +
                                      " --labels rock,jazz --catalog " + testing::quoted(db) + " -q",
                                  scratch);
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.out.find("import csv: 11 rows: 3 added"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("8 failed"), std::string::npos) << run.out;
  const std::vector<std::string> bad = {
      "list.csv:5 (audio/missing.wav): no such file",
      "list.csv:6 (audio/d.wav): no label",
      "list.csv:7 (audio/d.wav): year 'nineteen' is not a year",
      "list.csv:8 (audio/d.wav): split 'later' is not train, val or test",
      "list.csv:9 (audio/garbage.wav): " + (dir / "audio" / "garbage.wav").string() + ": ",
      "list.csv:10 (audio/d.wav): unknown label 'polka' (accepted: jazz, rock)",
      "list.csv:11 (audio/a.wav): listed twice (also list.csv:2 (audio/a.wav))",
      "list.csv:12: 2 fields, the header has 7",
  };
  for (const auto& line : bad)
    EXPECT_EQ(testing::occurrences(run.err, "error: " + line), 1u) << line << " in:\n" << run.err;
  EXPECT_EQ(testing::occurrences(run.err, "note: " + (dir / "list.csv").string() + ": column 'mood' ignored"),
            1u)
      << run.err;
  EXPECT_EQ(line_count(run.err), 9u) << run.err;

  const Catalog catalog = Catalog::open(db);
  expect_complete_rows(catalog);
  EXPECT_EQ(paths_of(catalog), (std::set<std::string>{"audio/a.wav", "audio/b.wav", "audio/c.wav"}));
  const auto a = catalog.find_track("audio/a.wav");
  EXPECT_EQ(a->title, "Song, with a comma");
  EXPECT_EQ(a->year, 1999);
  EXPECT_EQ(a->source_split, "train");
  EXPECT_EQ(catalog.find_track("audio/b.wav")->artist, "The \"Quoted\" Band");
  EXPECT_FALSE(catalog.find_track("audio/c.wav")->artist.has_value());

  testing::write_bytes(dir / "nolabel.csv", "path,artist\naudio/a.wav,x\n");
  const ProgramRun missing_column = tunelens(
      "dataset import csv " + testing::quoted(dir / "nolabel.csv") + " --catalog " + testing::quoted(db),
      scratch);
  EXPECT_EQ(missing_column.status, 2);
  EXPECT_NE(missing_column.err.find("nolabel.csv: no 'label' column"), std::string::npos)
      << missing_column.err;
}

TEST(ImportAlbums, AlbumOrderTrackNumbersAndTitles) {
  ScratchDir scratch;
  const fs::path root = scratch / "beatles";
  write_tone(root / "1965 - Rubber Soul" / "07 - Michelle.wav", 300);
  write_tone(root / "1965 - Rubber Soul" / "01 - Drive My Car.wav", 310);
  write_tone(root / "1963 - Please Please Me" / "1-01 I Saw Her Standing There.wav", 320);
  write_tone(root / "1969 - Abbey Road" / "17. Her Majesty.wav", 330);
  testing::write_bytes(root / "1969 - Abbey Road" / "16 - The End.mp3", "not audio");
  write_tone(root / "Help!" / "Help.wav", 340);
  write_tone(root / "Empty Album" / ".hidden.wav", 350);
  testing::write_bytes(root / "Empty Album" / "cover.jpg", "jpeg");
  const fs::path db = scratch / "beatles.db";
  const ProgramRun run = tunelens("dataset import albums " + testing::quoted(root) +
                                      " --artist 'The Beatles' --catalog " + testing::quoted(db) + " -q",
                                  scratch);
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.out.find("import albums: 6 files: 5 added"), std::string::npos) << run.out;
  EXPECT_EQ(
      testing::occurrences(run.err, "error: " + (root / "1969 - Abbey Road" / "16 - The End.mp3").string() +
                                        ": not an audio file"),
      1u)
      << run.err;
  EXPECT_EQ(testing::occurrences(run.err, "note: " + (root / "Empty Album").string() + ": no audio files"),
            1u)
      << run.err;

  const Catalog catalog = Catalog::open(db);
  expect_complete_rows(catalog);
  auto track = [&](const std::string& path) {
    const auto found = catalog.find_track(path);
    EXPECT_TRUE(found) << path;
    return found.value_or(Track{});
  };
  const Track michelle = track("1965 - Rubber Soul/07 - Michelle.wav");
  EXPECT_EQ(michelle.album, "Rubber Soul");
  EXPECT_EQ(michelle.album_order, 2);
  EXPECT_EQ(michelle.year, 1965);
  EXPECT_EQ(michelle.track_number, 7);
  EXPECT_EQ(michelle.title, "Michelle");
  EXPECT_EQ(michelle.artist, "The Beatles");
  EXPECT_FALSE(michelle.label.has_value());
  const Track saw_her = track("1963 - Please Please Me/1-01 I Saw Her Standing There.wav");
  EXPECT_EQ(saw_her.album_order, 1);
  EXPECT_EQ(saw_her.track_number, 1);
  EXPECT_EQ(saw_her.title, "I Saw Her Standing There");
  EXPECT_EQ(track("1969 - Abbey Road/17. Her Majesty.wav").album_order, 3);
  const Track help = track("Help!/Help.wav");
  EXPECT_EQ(help.album, "Help!");
  EXPECT_EQ(help.album_order, 4);  // no number: after the numbered albums
  EXPECT_FALSE(help.year.has_value());
  EXPECT_FALSE(help.track_number.has_value());

  // An order file decides the order instead.
  testing::write_bytes(root / "albums.txt",
                       "# release order\nHelp!\n1969 - Abbey Road\n\n1965 - Rubber Soul\nLet It Be\n");
  const fs::path ordered_db = scratch / "ordered.db";
  const ProgramRun ordered = tunelens(
      "dataset import albums " + testing::quoted(root) + " --catalog " + testing::quoted(ordered_db) + " -q",
      scratch);
  EXPECT_NE(ordered.err.find("albums.txt: lists 'Let It Be', which is not a folder"), std::string::npos)
      << ordered.err;
  EXPECT_NE(ordered.err.find("1963 - Please Please Me: not listed in"), std::string::npos) << ordered.err;
  const Catalog by_file = Catalog::open(ordered_db);
  EXPECT_EQ(by_file.find_track("Help!/Help.wav")->album_order, 1);
  EXPECT_EQ(by_file.find_track("1969 - Abbey Road/17. Her Majesty.wav")->album_order, 2);
  EXPECT_EQ(by_file.find_track("1965 - Rubber Soul/07 - Michelle.wav")->album_order, 3);
  EXPECT_EQ(by_file.find_track("1963 - Please Please Me/1-01 I Saw Her Standing There.wav")->album_order, 4);
}

// "<Artist> - <year> - <Album>" folders (as `tunelens synth --collection` writes them, and as `analyze` reads
// them) give each album its artist and year; --artist, when given, wins.
TEST(ImportAlbums, ArtistAndYearFromTheFolderName) {
  ScratchDir scratch;
  const fs::path root = scratch / "collection";
  write_tone(root / "Trio Aurora - 1957 - Music for Piano" / "02 Nocturne.wav", 300);
  write_tone(root / "Brass Union - 1949 - First Steps" / "01 Fanfare.wav", 310);
  write_tone(root / "Trio Aurora - 1955 - Pastoral Music" / "01 Dawn.wav", 320);
  const fs::path db = scratch / "collection.db";
  const ProgramRun run =
      tunelens("dataset import albums " + testing::quoted(root) + " --catalog " + testing::quoted(db) + " -q",
               scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  const Catalog catalog = Catalog::open(db);
  const auto nocturne = catalog.find_track("Trio Aurora - 1957 - Music for Piano/02 Nocturne.wav");
  ASSERT_TRUE(nocturne);
  EXPECT_EQ(nocturne->artist, "Trio Aurora");
  EXPECT_EQ(nocturne->album, "Music for Piano");
  EXPECT_EQ(nocturne->year, 1957);
  EXPECT_EQ(nocturne->album_order,
            3);  // artist by artist (Brass Union first), then by year: 1955 before 1957
  EXPECT_EQ(nocturne->track_number, 2);
  EXPECT_EQ(nocturne->title, "Nocturne");

  const fs::path named_db = scratch / "named.db";
  ASSERT_EQ(tunelens("dataset import albums " + testing::quoted(root) + " --artist Various --catalog " +
                         testing::quoted(named_db) + " -q",
                     scratch)
                .status,
            0);
  EXPECT_EQ(Catalog::open(named_db).find_track("Brass Union - 1949 - First Steps/01 Fanfare.wav")->artist,
            "Various");
}

// An import stopped part-way (here by an exception in the middle of the second batch, as a crash would stop
// it) keeps whole batches only; a rerun adds the rest, and the catalog ends as one clean import leaves it.
TEST(ImportInterrupted, KeepsWholeBatchesAndARerunCompletesIt) {
  ScratchDir scratch;
  for (int i = 0; i < 10; ++i)
    write_tone(scratch / "tones" / (i < 5 ? "low" : "high") / (std::to_string(i) + ".wav"), 200.0 + 50 * i);
  const SourceScan scan = scan_label_folders(scratch / "tones");
  ASSERT_EQ(scan.candidates.size(), 10u);
  ImportOptions options;
  options.batch = 4;
  options.threads = 2;
  {
    Catalog catalog = Catalog::create(scratch / "a.db", scan.root);
    ImportOptions stopping = options;
    int handled = 0;
    stopping.on_progress = [&](const std::string&) {
      if (++handled == 6) throw std::runtime_error("stopped");
    };
    EXPECT_THROW(import_candidates(catalog, scan.candidates, stopping), std::runtime_error);
    EXPECT_EQ(catalog.track_count(), 4u);  // the first batch; the second rolled back
    expect_complete_rows(catalog);
  }
  Catalog resumed = Catalog::open(scratch / "a.db");
  const ImportSummary summary = import_candidates(resumed, scan.candidates, options);
  EXPECT_EQ(summary.added, 6u);
  EXPECT_EQ(summary.already, 4u);
  Catalog clean = Catalog::create(scratch / "b.db", scan.root);
  import_candidates(clean, scan.candidates, options);
  const auto a = resumed.tracks(), b = clean.tracks();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].path, b[i].path);
    EXPECT_EQ(a[i].fingerprint, b[i].fingerprint);
    EXPECT_EQ(a[i].label, b[i].label);
  }
}

// --- extract

// A dataset of tones in two labels and a catalog of it.
void make_tone_dataset(const fs::path& root, int per_label) {
  for (int i = 0; i < per_label; ++i) {
    write_tone(root / "low" / ("low" + std::to_string(i) + ".wav"), 110.0 + 20.0 * i, 1.0);
    write_tone(root / "high" / ("high" + std::to_string(i) + ".wav"), 1000.0 + 150.0 * i, 1.0);
  }
}

// Everything an extraction leaves: the track rows, the feature rows and the bytes of every feature file.
struct ExtractionState {
  std::vector<std::string> tracks;
  std::vector<std::string> configs;
  std::vector<std::string> records;
  std::map<std::string, std::string> files;  // name under <catalog>.features → bytes
};

ExtractionState state_of(const fs::path& db) {
  const Catalog catalog = Catalog::open(db);
  ExtractionState state;
  for (const auto& t : catalog.tracks())
    state.tracks.push_back(std::to_string(t.id) + " " + t.path + " " + t.fingerprint + " " +
                           std::to_string(t.duration) + " " + t.label.value_or("-"));
  for (const auto& config : catalog.feature_configs()) {
    state.configs.push_back(config.id + " " + config.parameters);
    for (const auto& r : catalog.feature_records(config.id)) state.records.push_back(fmt_record(r));
  }
  fs::path folder = db;
  folder += ".features";
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file())
      state.files[entry.path().lexically_relative(folder).string()] = testing::read_bytes(entry.path());
  return state;
}

// The same feature files: same names (no .partial left over), same .npy headers, same values. The values are
// compared to 0.01 dB rather than bit for bit: the FFT is planned with FFTW_MEASURE, which picks among
// equivalent algorithms by timing them, so two processes may round differently in the last bits (`tunelens
// features` run twice on one file differs by about 1e-4 dB too).
void expect_same_feature_files(const ExtractionState& a, const ExtractionState& b, const fs::path& a_db,
                               const fs::path& b_db) {
  std::vector<std::string> a_names, b_names;
  for (const auto& [name, bytes] : a.files) a_names.push_back(name);
  for (const auto& [name, bytes] : b.files) b_names.push_back(name);
  ASSERT_EQ(a_names, b_names);
  for (const auto& [name, bytes] : a.files) {
    const std::string& other = b.files.at(name);
    ASSERT_EQ(bytes.size(), other.size()) << name;
    EXPECT_EQ(bytes.substr(0, 128), other.substr(0, 128)) << name;  // magic, dtype, shape
    const FeatureArray x(fs::path(a_db.string() + ".features") / name),
        y(fs::path(b_db.string() + ".features") / name);
    const std::vector<float> xs = x.read_all(), ys = y.read_all();
    double worst = 0.0;
    for (std::size_t i = 0; i < xs.size(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(xs[i]) - ys[i]));
    EXPECT_LE(worst, 0.01) << name;  // the tolerance of the librosa comparisons
  }
}

TEST(Extract, KilledPartWayThenRerunGivesTheSameCatalogAsOneCleanRun) {
  ScratchDir scratch;
  const fs::path root = scratch / "tones";
  make_tone_dataset(root, 6);
  const fs::path clean = scratch / "clean.db", killed = scratch / "killed.db";
  for (const fs::path& db : {clean, killed})
    ASSERT_EQ(tunelens("dataset import folders " + testing::quoted(root) + " --catalog " +
                           testing::quoted(db) + " -q",
                       scratch)
                  .status,
              0);

  ASSERT_EQ(
      tunelens("extract --dtype float32 --catalog " + testing::quoted(clean) + " -q -j2", scratch).status, 0);

  // Killed right after the 5th file is in place, before the catalog records it.
  const ProgramRun first =
      tunelens("extract --dtype float32 --catalog " + testing::quoted(killed) + " -q -j1", scratch,
               "TUNELENS_EXTRACT_KILL_AFTER=5");
  EXPECT_EQ(first.status, 128 + SIGKILL) << first.err;
  {
    const ExtractionState partial = state_of(killed);
    EXPECT_EQ(partial.records.size(), 4u);
    EXPECT_EQ(partial.files.size(), 5u);  // one file without its row
  }
  // Killed again, with two threads, after 3 more files.
  const ProgramRun second =
      tunelens("extract --dtype float32 --catalog " + testing::quoted(killed) + " -q -j2", scratch,
               "TUNELENS_EXTRACT_KILL_AFTER=3");
  EXPECT_EQ(second.status, 128 + SIGKILL) << second.err;
  // A file cut short by a kill while writing, as a real crash may leave.
  {
    const Catalog catalog = Catalog::open(killed);
    const std::string config = catalog.feature_configs().at(0).id;
    testing::write_bytes(catalog.features_folder(config) / "12.npy.partial", "\x93NUMPY half");
  }
  const ProgramRun resumed =
      tunelens("extract --dtype float32 --catalog " + testing::quoted(killed) + " -q -j2", scratch);
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("extract: 12 tracks: "), std::string::npos) << resumed.out;

  const ExtractionState a = state_of(clean), b = state_of(killed);
  EXPECT_EQ(a.tracks, b.tracks);
  EXPECT_EQ(a.configs, b.configs);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.records.size(), 12u);
  expect_same_feature_files(a, b, clean, killed);

  const ProgramRun nothing_left =
      tunelens("extract --dtype float32 --catalog " + testing::quoted(killed) + " -q", scratch);
  EXPECT_EQ(nothing_left.status, 0);
  EXPECT_NE(nothing_left.out.find("12 tracks: 0 computed, 12 already done, 0 failed"), std::string::npos)
      << nothing_left.out;
}

TEST(Extract, BadAudioIsRecordedAsFailedAndTheRunGoesOn) {
  ScratchDir scratch;
  const fs::path root = scratch / "tones";
  make_tone_dataset(root, 2);
  const fs::path db = scratch / "tones.db";
  ASSERT_EQ(tunelens("dataset import folders " + testing::quoted(root) + " --catalog " + testing::quoted(db) +
                         " -q",
                     scratch)
                .status,
            0);
  const fs::path damaged = root / "low" / "low1.wav";
  const std::string original = testing::read_bytes(damaged);
  testing::write_bytes(damaged, "overwritten since the import\n");

  const ProgramRun run = tunelens("extract --catalog " + testing::quoted(db) + " -q -j2", scratch);
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.out.find("4 tracks: 3 computed, 0 already done, 1 failed"), std::string::npos) << run.out;
  EXPECT_EQ(testing::occurrences(run.err,
                                 "error: " + fs::weakly_canonical(damaged).string() + ": not an audio file"),
            1u)
      << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
  {
    const Catalog catalog = Catalog::open(db);
    const auto config = catalog.feature_configs().at(0);
    EXPECT_EQ(config.done, 3u);
    EXPECT_EQ(config.failed, 1u);
    const auto record = catalog.features(catalog.find_track("low/low1.wav")->id, config.id);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->status, FeatureStatus::Failed);
    EXPECT_NE(record->error.find("not an audio file"), std::string::npos);
  }
  // Fixed: the rerun does the failed track only.
  testing::write_bytes(damaged, original);
  const ProgramRun fixed = tunelens("extract --catalog " + testing::quoted(db) + " -q", scratch);
  EXPECT_EQ(fixed.status, 0) << fixed.err;
  EXPECT_NE(fixed.out.find("4 tracks: 1 computed, 3 already done, 0 failed"), std::string::npos) << fixed.out;
}

// A deleted features folder or a damaged feature file is noticed: dataset info no longer counts it as done, extract
// computes it again, train leaves the track out saying why (it said "4 done, 0 missing", extract did nothing,
// train aborted on the missing file).
TEST(Extract, MissingOrDamagedFeatureFilesAreNoticedAndComputedAgain) {
  ScratchDir scratch;
  const fs::path root = scratch / "tones";
  make_tone_dataset(root, 2);
  const fs::path db = scratch / "tones.db";
  const std::string catalog = " --catalog " + testing::quoted(db);
  ASSERT_EQ(tunelens("dataset import folders " + testing::quoted(root) + catalog + " -q", scratch).status, 0);
  ASSERT_EQ(tunelens("extract" + catalog + " -q", scratch).status, 0);
  std::string config;
  fs::path folder;
  {
    const Catalog opened = Catalog::open(db);
    config = opened.feature_configs().at(0).id;
    folder = opened.features_folder(config);
    const auto track = opened.find_track("low/low1.wav")->id;
    testing::write_bytes(opened.feature_file(track, config), "truncated");  // damaged
    fs::remove(opened.feature_file(opened.find_track("high/high0.wav")->id, config));  // deleted
  }
  const ProgramRun info = tunelens("dataset info" + catalog, scratch);
  EXPECT_NE(info.out.find("features " + config + ": 2 done, 0 failed, 2 missing (2 of them files deleted or "
                          "damaged since"),
            std::string::npos)
      << info.out;
  const ProgramRun again = tunelens("extract" + catalog + " -q", scratch);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("2 feature files recorded as done are missing or damaged"), std::string::npos)
      << again.err;
  EXPECT_NE(again.out.find("4 tracks: 2 computed, 2 already done, 0 failed"), std::string::npos) << again.out;
  EXPECT_NE(tunelens("dataset info" + catalog, scratch).out.find(": 4 done, 0 failed, 0 missing;"),
            std::string::npos);

  // The whole folder gone: all four computed again.
  fs::remove_all(folder);
  const ProgramRun rebuilt = tunelens("extract" + catalog + " -q", scratch);
  EXPECT_NE(rebuilt.out.find("4 tracks: 4 computed, 0 already done, 0 failed"), std::string::npos)
      << rebuilt.out << rebuilt.err;
}

// <scratch>/music.db: a catalog of test-data files copied into <scratch>/music/<genre>/ under new names
// ({test-data path, name}), imported as a folder dataset.
fs::path catalog_of_files(const ScratchDir& scratch, const std::string& genre,
                          const std::vector<std::pair<std::string, std::string>>& files) {
  const fs::path folder = scratch / "music" / genre;
  fs::create_directories(folder);
  for (const auto& [source, name] : files) fs::copy_file(data_path(source), folder / name);
  const fs::path db = scratch / "music.db";
  const ProgramRun run = tunelens("dataset import folders " + testing::quoted(scratch / "music") +
                                      " --catalog " + testing::quoted(db) + " -q",
                                  scratch);
  EXPECT_EQ(run.status, 0) << run.err;
  return db;
}

TEST(Extract, FeaturesEqualTheFeaturesCommandAndConfigsAreKeptApart) {
  ScratchDir scratch;
  const fs::path root = scratch / "music";
  const fs::path db = catalog_of_files(
      scratch, "rock", {{"formats/mp3_lame.mp3", "a.mp3"}, {"formats/flac_s16.flac", "b.flac"}});
  ASSERT_EQ(tunelens("extract --catalog " + testing::quoted(db) + " --dtype float32 -q", scratch).status, 0);
  ASSERT_EQ(tunelens("extract --catalog " + testing::quoted(db) + " -q", scratch).status,
            0);  // float16: another config
  ASSERT_EQ(
      tunelens("extract --catalog " + testing::quoted(db) + " --n-mels 64 --fmax 8000 -q", scratch).status,
      0);
  ASSERT_EQ(tunelens("features -q --out " + testing::quoted(scratch / "plain") + " " +
                         testing::quoted(root / "rock" / "a.mp3"),
                     scratch)
                .status,
            0);

  const Catalog catalog = Catalog::open(db);
  const auto configs = catalog.feature_configs();
  ASSERT_EQ(configs.size(), 3u);
  std::set<std::string> ids;
  for (const auto& config : configs) {
    ids.insert(config.id);
    EXPECT_EQ(config.done, 2u);
  }
  EXPECT_EQ(ids.size(), 3u);
  const std::int64_t a = catalog.find_track("rock/a.mp3")->id;
  const NpyArray reference = read_npy(scratch / "plain" / "a.npy");
  bool saw16 = false, saw32 = false, saw64 = false;
  for (const auto& config : configs) {
    const FeatureArray array(catalog.feature_file(a, config.id));
    const auto record = catalog.features(a, config.id);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->n_mels, array.rows());
    EXPECT_EQ(record->frames, array.frames());
    if (array.rows() == 64) {
      saw64 = true;
      EXPECT_NE(config.parameters.find("\"fmax\":8000.0"), std::string::npos) << config.parameters;
      continue;
    }
    ASSERT_EQ((std::vector<std::size_t>{array.rows(), array.frames()}), reference.shape);
    const std::vector<float> values = array.read_all();
    double worst = 0.0;
    for (std::size_t i = 0; i < values.size(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(values[i]) - reference.values[i]));
    if (array.dtype() == FeatureDtype::Float32) {
      saw32 = true;
      EXPECT_LE(worst, 1e-3);  // the same computation, up to FFTW's plan choice (see above)
    } else {
      saw16 = true;
      EXPECT_LE(worst, 0.033);  // float16 keeps dB values to about 0.03 dB
    }
  }
  EXPECT_TRUE(saw16 && saw32 && saw64);

  const ProgramRun info = tunelens("dataset info --catalog " + testing::quoted(db), scratch);
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_EQ(testing::occurrences(info.out, "features "), 3u) << info.out;
  EXPECT_NE(info.out.find(
                "2 done, 0 failed, 0 missing; sr 22050, n_fft 2048, hop 512, 64 mels 0-8000 Hz, dB ref-max "
                "top 80, float16"),
            std::string::npos)
      << info.out;
}

TEST(Extract, AConfigurationIsItsResolvedParameters) {
  ExtractionSettings defaults, explicit_fmax, other;
  explicit_fmax.mel.fmax = 11025.0;  // what the default fmax resolves to at 22050 Hz
  other.mel.n_mels = 64;
  EXPECT_EQ(defaults.canonical_json(), explicit_fmax.canonical_json());
  EXPECT_NE(defaults.canonical_json(), other.canonical_json());
  ExtractionSettings float32 = defaults;
  float32.dtype = FeatureDtype::Float32;
  EXPECT_NE(defaults.canonical_json(), float32.canonical_json());
  EXPECT_NE(defaults.canonical_json().find("\"fmax\":11025.0"), std::string::npos)
      << defaults.canonical_json();
  ExtractionSettings bad;
  bad.db = "loud";
  EXPECT_THROW(bad.canonical_json(), std::invalid_argument);
}

TEST(Extract, CanonicalJsonOfSettingsMadeBeforeTheFrontEndOptionsIsUnchanged) {
  // Catalogs made before mel_scale, mel_norm, pad_mode and chunk_samples existed keep their configuration
  // ids: these texts are what those versions wrote.
  ExtractionSettings defaults;
  EXPECT_EQ(defaults.canonical_json(),
            R"({"amin":1e-10,"center":true,"db":"ref-max","dtype":"float16","duration":-1.0,"fmax":11025.0,)"
            R"("fmin":0.0,"hop_length":512,"kind":"mel","n_fft":2048,"n_mels":128,"offset":0.0,"power":2.0,)"
            R"("sample_rate":22050,"top_db":80.0,"version":1,"window":"hann"})");
  ExtractionSettings other;
  other.db = "none";
  other.top_db = -3.0;
  other.duration = -7.0;
  other.mel.fmax = 8000.0;
  other.mel.n_mels = 64;
  other.offset = 1.5;
  other.dtype = FeatureDtype::Float32;
  EXPECT_EQ(other.canonical_json(),
            R"({"amin":1e-10,"center":true,"db":"none","dtype":"float32","duration":-1.0,"fmax":8000.0,)"
            R"("fmin":0.0,"hop_length":512,"kind":"mel","n_fft":2048,"n_mels":64,"offset":1.5,"power":2.0,)"
            R"("sample_rate":22050,"top_db":0.0,"version":1,"window":"hann"})");
}

TEST(Extract, EachFrontEndOptionIsPartOfTheConfiguration) {
  const ExtractionSettings defaults;
  std::set<std::string> texts = {defaults.canonical_json()};
  const auto with = [&](auto change) {
    ExtractionSettings settings;
    change(settings);
    return settings.canonical_json();
  };
  texts.insert(with([](ExtractionSettings& s) { s.mel.mel_scale = MelScale::Htk; }));
  texts.insert(with([](ExtractionSettings& s) { s.mel.mel_norm = MelNorm::None; }));
  texts.insert(with([](ExtractionSettings& s) { s.mel.pad_mode = PadMode::Reflect; }));
  texts.insert(with([](ExtractionSettings& s) { s.chunk_samples = 48000; }));
  EXPECT_EQ(texts.size(), 5u);  // every option gives its own configuration
  const std::string all = with([](ExtractionSettings& s) {
    s.mel.mel_scale = MelScale::Htk;
    s.mel.mel_norm = MelNorm::None;
    s.mel.pad_mode = PadMode::Reflect;
    s.chunk_samples = 48000;
  });
  for (const char* key : {R"("mel_scale":"htk")", R"("mel_norm":"none")", R"("pad_mode":"reflect")",
                          R"("chunk_samples":48000)"})
    EXPECT_NE(all.find(key), std::string::npos) << key << " in " << all;
}

TEST(FeatureSettingsJson, RoundTripsEveryKeyAndReadsOldRecordsWithDefaults) {
  FeatureSettings settings = testing::pretrained_front_end(48000);
  settings.offset = 2.0;
  settings.duration = 30.0;
  const nlohmann::json json = feature_settings_json(settings);
  const FeatureSettings back = feature_settings_from_json(json);
  EXPECT_EQ(back.mel.mel_scale, MelScale::Htk);
  EXPECT_EQ(back.mel.mel_norm, MelNorm::None);
  EXPECT_EQ(back.mel.pad_mode, PadMode::Reflect);
  EXPECT_EQ(back.chunk_samples, 48000u);
  EXPECT_EQ(back.mel.sample_rate, 16000);
  EXPECT_EQ(back.mel.fmax, 8000.0);
  EXPECT_EQ(back.db, "ref-one");
  EXPECT_EQ(back.duration, 30.0);
  EXPECT_EQ(feature_settings_json(back), json);

  // A record written before the new keys existed reads as the defaults.
  const FeatureSettings old = feature_settings_from_json(nlohmann::json::parse(
      R"({"sample_rate":22050,"n_fft":2048,"hop_length":512,"n_mels":128,"db":"ref-max","top_db":80.0})"));
  EXPECT_EQ(old.mel.mel_scale, MelScale::Slaney);
  EXPECT_EQ(old.mel.mel_norm, MelNorm::Slaney);
  EXPECT_EQ(old.mel.pad_mode, PadMode::Constant);
  EXPECT_EQ(old.chunk_samples, 0u);
  EXPECT_EQ(feature_settings_json(old).count("mel_scale"), 0u);

  const auto error_of = [](const std::string& text) {
    try {
      feature_settings_from_json(nlohmann::json::parse(text));
    } catch (const FeatureError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  const std::string base = R"("sample_rate":16000,"n_fft":512,"hop_length":256,"n_mels":96)";
  EXPECT_NE(error_of("{" + base + R"(,"mel_scale":"bark"})").find("mel_scale"), std::string::npos);
  EXPECT_NE(error_of("{" + base + R"(,"pad_mode":"edge"})").find("pad_mode"), std::string::npos);
  EXPECT_NE(error_of("{" + base + R"(,"mel_norm":1})").find("mel_norm"), std::string::npos);
  EXPECT_NE(error_of("{" + base + R"(,"chunk_samples":-5})").find("chunk_samples"), std::string::npos);
  EXPECT_NE(error_of(R"({"sample_rate":16000,"hop_length":256,"n_mels":96})").find("'n_fft' is missing"),
            std::string::npos);
}

TEST(Extract, PretrainedFrontEndThroughTheCatalog) {
  // The pretrained networks' front end with Musicnn's 3 s chunks: a 1 s file is looped to one chunk, a 12 s
  // one gives four (its tail dropped); the catalog's arrays are what signal_features computes on the decoded
  // audio.
  ScratchDir scratch;
  const fs::path root = scratch / "music";
  const fs::path db = catalog_of_files(
      scratch, "folk",
      {{"formats/flac_s16.flac", "short.flac"}, {"librosa/music_48k_stereo.flac", "long.flac"}});
  const ProgramRun extract =
      tunelens("extract --catalog " + testing::quoted(db) +
                   " --sr 16000 --n-fft 512 --hop 256 --n-mels 96 --fmax 8000 --mel-scale htk --mel-norm none"
                   " --pad-mode reflect --chunk-samples 48000 --db ref-one --top-db 0 --dtype float32 -q",
               scratch);
  ASSERT_EQ(extract.status, 0) << extract.err;

  const Catalog catalog = Catalog::open(db);
  const auto configs = catalog.feature_configs();
  ASSERT_EQ(configs.size(), 1u);
  for (const char* key : {R"("mel_scale":"htk")", R"("mel_norm":"none")", R"("pad_mode":"reflect")",
                          R"("chunk_samples":48000)"})
    EXPECT_NE(configs[0].parameters.find(key), std::string::npos) << configs[0].parameters;

  FeatureSettings settings = feature_settings_from_json(nlohmann::json::parse(configs[0].parameters));
  const MelSpectrogram mel(settings.mel);
  for (const char* name : {"folk/short.flac", "folk/long.flac"}) {
    LoadOptions load;
    load.sample_rate = 16000;
    const Audio audio = load_audio(root / name, load);
    const std::size_t chunks = std::max<std::size_t>(1, audio.samples.size() / 48000);
    const FeatureArray array(catalog.feature_file(catalog.find_track(name)->id, configs[0].id));
    EXPECT_EQ(array.rows(), 96u) << name;
    EXPECT_EQ(array.frames(), chunks * 188u) << name;
    const Spectrogram expected = signal_features(mel, audio.samples, settings);
    const std::vector<float> values = array.read_all();
    ASSERT_EQ(values.size(), expected.values.size()) << name;
    double worst = 0.0;
    for (std::size_t i = 0; i < values.size(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(values[i]) - expected.values[i]));
    EXPECT_LE(worst, 1e-3) << name;  // the same computation, up to FFTW's plan choice
  }

  const ProgramRun info = tunelens("dataset info --catalog " + testing::quoted(db), scratch);
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("96 mels 0-8000 Hz, dB ref-one top 0, htk mels, no filter norm, reflect padding, "
                          "chunks of 48000 samples, float32"),
            std::string::npos)
      << info.out;
}

TEST(Extract, UsageErrors) {
  ScratchDir scratch;
  const ProgramRun missing = tunelens("extract --catalog " + testing::quoted(scratch / "none.db"), scratch);
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("none.db: no such catalog file"), std::string::npos) << missing.err;
  testing::write_bytes(scratch / "text.db", "hello");
  const ProgramRun text = tunelens("extract --catalog " + testing::quoted(scratch / "text.db"), scratch);
  EXPECT_EQ(text.status, 2);
  EXPECT_NE(text.err.find("text.db: not a tunelens catalog"), std::string::npos) << text.err;
  Catalog::create(scratch / "empty.db", scratch.path());
  EXPECT_EQ(
      tunelens("extract --dtype float8 --catalog " + testing::quoted(scratch / "empty.db"), scratch).status,
      2);
  EXPECT_EQ(tunelens("extract --n-fft 1 --catalog " + testing::quoted(scratch / "empty.db"), scratch).status,
            2);
  for (const std::string bad :
       {"--mel-scale bark", "--mel-norm l1", "--pad-mode edge", "--chunk-samples -1"}) {
    const ProgramRun run =
        tunelens("extract " + bad + " --catalog " + testing::quoted(scratch / "empty.db"), scratch);
    EXPECT_EQ(run.status, 2) << bad;
    const std::string option = bad.substr(0, bad.find(' '));
    const std::string value = bad.substr(bad.find(' ') + 1);
    const std::string first_line = run.err.substr(0, run.err.find('\n'));
    EXPECT_EQ(first_line.rfind(option + ": ", 0), 0u) << run.err;  // the line names the option and the value
    EXPECT_NE(first_line.find(value), std::string::npos) << run.err;
  }
}

// --- splits

// Synthetic tracks: labels × per_label; within a label, `artists` artists of growing size (1, 3, 5, ...
// tracks); artist 1 of every label is one artist shared by all labels; every 7th track has no artist. Ids
// from 1.
std::vector<Track> synthetic_tracks(const std::vector<std::string>& labels, int per_label, int artists) {
  std::vector<Track> tracks;
  for (const auto& label : labels)
    for (int i = 0; i < per_label; ++i) {
      Track track;
      track.id = static_cast<std::int64_t>(tracks.size()) + 1;
      track.path = label + "/" + std::to_string(i) + ".mp3";
      track.label = label;
      const int k = static_cast<int>(std::sqrt(static_cast<double>(i * artists * artists) / per_label));
      if (i % 7 != 6) track.artist = k == 1 ? "shared" : label + " " + std::to_string(k);
      tracks.push_back(track);
    }
  return tracks;
}

std::map<std::int64_t, SplitPart> as_map(const SplitResult& result) {
  std::map<std::int64_t, SplitPart> parts;
  for (const auto& a : result.assignments) parts[a.track] = a.part;
  return parts;
}

TEST(Splits, PerClassCountsAreExact) {
  const auto tracks = synthetic_tracks({"blues", "jazz", "rock"}, 40, 6);
  SplitOptions options;
  options.scheme = SplitScheme::PerClass;
  options.val = 5;
  options.test = 7;
  options.seed = 11;
  const auto parts = as_map(make_split(tracks, options));
  ASSERT_EQ(parts.size(), tracks.size());
  std::map<std::pair<std::string, SplitPart>, int> counts;
  for (const auto& track : tracks) ++counts[{*track.label, parts.at(track.id)}];
  for (const std::string label : {"blues", "jazz", "rock"}) {
    EXPECT_EQ((counts[{label, SplitPart::Val}]), 5) << label;
    EXPECT_EQ((counts[{label, SplitPart::Test}]), 7) << label;
    EXPECT_EQ((counts[{label, SplitPart::Train}]), 28) << label;
  }
  options.val = 20;
  options.test = 20;
  try {
    make_split(tracks, options);
    ADD_FAILURE() << "a label with too few tracks was split";
  } catch (const SplitError& error) {
    EXPECT_NE(std::string(error.what()).find("label 'blues' has 40 tracks"), std::string::npos)
        << error.what();
  }
  options.val = 2.5;
  EXPECT_THROW(make_split(tracks, options), SplitError);
}

// Cross-validation: over the k splits every track is tested exactly once, validated exactly once (in the fold
// after its test fold), and each fold holds its share of every label.
TEST(Splits, FoldsTestEveryTrackOnceAndValidateOnTheNextFold) {
  const auto tracks = synthetic_tracks({"blues", "jazz", "rock"}, 41, 6);
  SplitOptions options;
  options.scheme = SplitScheme::Folds;
  options.folds = 5;
  options.seed = 3;
  std::map<std::int64_t, int> tested, validated;
  std::map<std::int64_t, int> test_fold;
  for (int fold = 0; fold < 5; ++fold) {
    options.fold = fold;
    const auto parts = as_map(make_split(tracks, options));
    ASSERT_EQ(parts.size(), tracks.size());
    std::map<std::string, int> test_per_label;
    for (const auto& track : tracks) {
      if (parts.at(track.id) == SplitPart::Test) {
        ++tested[track.id];
        test_fold[track.id] = fold;
        ++test_per_label[*track.label];
      }
      if (parts.at(track.id) == SplitPart::Val) ++validated[track.id];
    }
    for (const auto& [label, count] : test_per_label)
      EXPECT_TRUE(count == 8 || count == 9) << label << " " << count;
  }
  for (const auto& track : tracks) {
    EXPECT_EQ(tested[track.id], 1);
    EXPECT_EQ(validated[track.id], 1);
  }
  options.fold = 1;
  const auto parts = as_map(make_split(tracks, options));
  for (const auto& track : tracks)
    if (test_fold[track.id] == 2) {
      EXPECT_EQ(parts.at(track.id), SplitPart::Val);
    }
  options.fold = 5;
  EXPECT_THROW(make_split(tracks, options), SplitError);
  options.fold = 0;
  options.folds = 2;
  EXPECT_THROW(make_split(tracks, options), SplitError);
}

TEST(Splits, FractionIsStratified) {
  const auto tracks = synthetic_tracks({"a", "b"}, 50, 5);
  SplitOptions options;
  options.scheme = SplitScheme::Fraction;
  options.val = 0.1;
  options.test = 0.2;
  const auto parts = as_map(make_split(tracks, options));
  std::map<std::pair<std::string, SplitPart>, int> counts;
  for (const auto& track : tracks) ++counts[{*track.label, parts.at(track.id)}];
  for (const std::string label : {"a", "b"}) {
    EXPECT_EQ((counts[{label, SplitPart::Val}]), 5);
    EXPECT_EQ((counts[{label, SplitPart::Test}]), 10);
  }
  options.val = 0.6;
  options.test = 0.5;
  EXPECT_THROW(make_split(tracks, options), SplitError);
}

TEST(Splits, ArtistSchemeLeaksNoArtistAndIsRoughlyStratified) {
  const auto tracks = synthetic_tracks({"blues", "jazz", "rock", "pop"}, 60, 8);
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    SplitOptions options;
    options.scheme = SplitScheme::Artist;
    options.val = 0.15;
    options.test = 0.15;
    options.seed = seed;
    const auto parts = as_map(make_split(tracks, options));
    ASSERT_EQ(parts.size(), tracks.size());
    std::map<std::string, std::set<SplitPart>> parts_of_artist;
    std::map<std::pair<std::string, SplitPart>, int> counts;
    for (const auto& track : tracks) {
      if (track.artist) parts_of_artist[*track.artist].insert(parts.at(track.id));
      ++counts[{*track.label, parts.at(track.id)}];
    }
    for (const auto& [artist, in] : parts_of_artist) EXPECT_EQ(in.size(), 1u) << artist << " seed " << seed;
    for (const std::string label : {"blues", "jazz", "rock", "pop"}) {
      EXPECT_NEAR((counts[{label, SplitPart::Val}]), 9, 1) << label << " seed " << seed;
      EXPECT_NEAR((counts[{label, SplitPart::Test}]), 9, 1) << label << " seed " << seed;
    }
  }
}

// A small corpus: three artists of ten tracks per label, asked for 10 % validation and test. Every artist is
// over twice either target, yet each part gets one artist of every label (none shared); two artists warn
// instead.
TEST(Splits, ArtistSchemeFillsEveryPartWhenArtistsAreFewAndLarge) {
  std::vector<Track> tracks;
  for (const std::string label : {"blues", "jazz"})
    for (int i = 0; i < 30; ++i) {
      Track track;
      track.id = static_cast<std::int64_t>(tracks.size()) + 1;
      track.path = label + "/" + std::to_string(i) + ".wav";
      track.label = label;
      track.artist = label + " artist " + std::to_string(i / 10);
      tracks.push_back(track);
    }
  SplitOptions options;
  options.scheme = SplitScheme::Artist;
  options.val = 0.1;
  options.test = 0.1;
  const SplitResult result = make_split(tracks, options);
  EXPECT_TRUE(result.warnings.empty());
  std::map<std::pair<std::string, SplitPart>, std::set<std::string>> artists;
  for (const auto& a : result.assignments) {
    const Track& track = tracks[static_cast<std::size_t>(a.track - 1)];
    artists[{*track.label, a.part}].insert(*track.artist);
  }
  for (const std::string label : {"blues", "jazz"})
    for (SplitPart part : {SplitPart::Train, SplitPart::Val, SplitPart::Test})
      EXPECT_EQ((artists[{label, part}].size()), 1u) << label << " " << to_string(part);

  tracks.resize(20);  // blues only, two artists: test cannot have one of its own
  EXPECT_EQ(make_split(tracks, options).warnings.size(), 1u);
}

TEST(Splits, SameSeedSameSplitOtherSeedOtherSplit) {
  const auto tracks = synthetic_tracks({"blues", "jazz", "rock"}, 30, 6);
  for (const SplitScheme scheme : {SplitScheme::PerClass, SplitScheme::Fraction, SplitScheme::Artist}) {
    SplitOptions options;
    options.scheme = scheme;
    options.val = scheme == SplitScheme::PerClass ? 4 : 0.15;
    options.test = scheme == SplitScheme::PerClass ? 4 : 0.15;
    options.seed = 42;
    const auto first = as_map(make_split(tracks, options));
    // The same tracks in another order (as another catalog might list them) give the same split too.
    std::vector<Track> reversed(tracks.rbegin(), tracks.rend());
    EXPECT_EQ(as_map(make_split(reversed, options)), first) << to_string(scheme);
    options.seed = 43;
    EXPECT_NE(as_map(make_split(tracks, options)), first) << to_string(scheme);
  }
}

TEST(Splits, SourceSchemeUsesTheSplitRecordedAtImport) {
  std::vector<Track> tracks = synthetic_tracks({"a"}, 4, 2);
  tracks[0].source_split = "train";
  tracks[1].source_split = "val";
  tracks[2].source_split = "test";
  Track unlabelled;
  unlabelled.id = 99;
  unlabelled.path = "x.mp3";
  tracks.push_back(unlabelled);
  SplitOptions options;
  options.scheme = SplitScheme::Source;
  const SplitResult result = make_split(tracks, options);
  EXPECT_EQ(as_map(result), (std::map<std::int64_t, SplitPart>{
                                {1, SplitPart::Train}, {2, SplitPart::Val}, {3, SplitPart::Test}}));
  EXPECT_EQ(result.without_source_split, 1u);
  EXPECT_EQ(result.unlabelled, 1u);
}

TEST(SplitCommand, RecordsNamedSplitsAndInfoShowsTheTable) {
  ScratchDir scratch;
  const fs::path root = scratch / "tones";
  make_tone_dataset(root, 5);
  const fs::path db = scratch / "tones.db";
  ASSERT_EQ(tunelens("dataset import folders " + testing::quoted(root) + " --catalog " + testing::quoted(db) +
                         " -q -j2",
                     scratch)
                .status,
            0);
  const ProgramRun none = tunelens("dataset info --catalog " + testing::quoted(db), scratch);
  EXPECT_NE(none.out.find("no split yet"), std::string::npos) << none.out;

  const std::string split = "dataset split --catalog " + testing::quoted(db);
  const ProgramRun per_class = tunelens(split + " --scheme per-class --val 1 --test 2 --seed 5", scratch);
  EXPECT_EQ(per_class.status, 0) << per_class.err;
  EXPECT_NE(per_class.out.find("split 'default': per-class, seed 5: 4 train, 2 val, 4 test"),
            std::string::npos)
      << per_class.out;
  const auto first = Catalog::open(db).split_assignments("default");
  ASSERT_EQ(tunelens(split + " --scheme per-class --val 1 --test 2 --seed 5", scratch).status, 0);
  const auto again = Catalog::open(db).split_assignments("default");
  EXPECT_TRUE(std::equal(first.begin(), first.end(), again.begin(), again.end(),
                         [](const SplitAssignment& a, const SplitAssignment& b) {
                           return a.track == b.track && a.part == b.part;
                         }));
  ASSERT_EQ(tunelens(split + " --scheme fraction --val 0.2 --test 0.2 --seed 1 --name other", scratch).status,
            0);

  const ProgramRun info = tunelens("dataset info --catalog " + testing::quoted(db), scratch);
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("catalog " + db.string() + ": 10 tracks"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(
                "split 'default': scheme per-class, seed 5, {\"scheme\":\"per-class\",\"test\":2,\"val\":1}"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("  label    train      val     test  unassigned    total\n"
                          "  high         2        1        2           0        5\n"
                          "  low          2        1        2           0        5\n"
                          "  total        4        2        4           0       10\n"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("other split: 'other' (fraction)"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("features: none yet"), std::string::npos) << info.out;

  const ProgramRun too_many = tunelens(split + " --scheme per-class --val 3 --test 3", scratch);
  EXPECT_EQ(too_many.status, 2);
  EXPECT_NE(too_many.err.find("label 'high' has 5 tracks"), std::string::npos) << too_many.err;
  EXPECT_EQ(tunelens(split + " --scheme per-class", scratch).status, 2);
  const ProgramRun no_source = tunelens(split + " --scheme fma", scratch);
  EXPECT_EQ(no_source.status, 2);
  EXPECT_NE(no_source.err.find("no track has a split of its own source"), std::string::npos) << no_source.err;
}

TEST(SplitCommand, FmaSchemeFollowsTracksCsv) {
  ScratchDir scratch;
  const fs::path audio = make_fma_audio(scratch / "fma");
  const fs::path db = scratch / "fma.db";
  tunelens("dataset import fma --metadata " + testing::quoted(data_path("datasets/fma/tracks.csv")) +
               " --audio " + testing::quoted(audio) + " --catalog " + testing::quoted(db) + " -q",
           scratch);
  const ProgramRun run =
      tunelens("dataset split --catalog " + testing::quoted(db) + " --scheme fma -q", scratch);
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("source, seed 0: 4 train, 1 val, 2 test"), std::string::npos) << run.out;
  const Catalog catalog = Catalog::open(db);
  for (const auto& assignment : catalog.split_assignments("default"))
    EXPECT_EQ(to_string(assignment.part), catalog.find_track(assignment.track)->source_split);
}

}  // namespace
}  // namespace tunelens
