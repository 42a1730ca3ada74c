// tunelens ingest end to end, on the tone catalog of the similar tests (testing::make_tone_catalog), indexed:
// new files become tracks with features, predictions and vectors, found by similar; existing tracks are never
// touched; a file already there (by path or by content) is skipped; a bad file is named once and the rest go
// on; a saved HNSW index is made by index --search hnsw, loaded by similar, updated by ingest and rebuilt
// when stale.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "recommend/catalog_index.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ProgramRun;
using testing::quoted;
using testing::ScratchDir;
using testing::tunelens;

// Every row of the catalog's vectors table, read behind the catalog's back: "<track> <model> <kind>" → bytes.
std::map<std::string, std::string> vector_rows(const fs::path& catalog_file) {
  std::map<std::string, std::string> rows;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(catalog_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT track, model, kind, vector FROM vectors", -1, &statement, nullptr),
            SQLITE_OK);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string name = std::to_string(sqlite3_column_int64(statement, 0));
    name += ' ';
    name += reinterpret_cast<const char*>(sqlite3_column_text(statement, 1));
    name += ' ';
    name += reinterpret_cast<const char*>(sqlite3_column_text(statement, 2));
    const auto* data = static_cast<const char*>(sqlite3_column_blob(statement, 3));
    rows[name] = std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(statement, 3)));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

// Every feature file beside the catalog → its bytes.
std::map<std::string, std::string> feature_files(const fs::path& catalog_file) {
  std::map<std::string, std::string> files;
  fs::path folder = catalog_file;
  folder += ".features";
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) files[entry.path().string()] = testing::read_bytes(entry.path());
  return files;
}

// The HNSW files of the catalog's index folder.
std::vector<fs::path> index_files(const fs::path& catalog_file, const std::string& extension = ".hnsw") {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(catalog_index_folder(catalog_file), error))
    if (entry.path().extension() == extension) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

class Ingest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const ScratchDir& s = *scratch_;
    steps_ = testing::make_tone_catalog(s);
    steps_.push_back(tunelens(
        "index -j 1 -q --model " + quoted(s / "tones.tlm") + " --catalog " + quoted(s / "tones.catalog"), s));
    fs::create_directories(s / "data/new");
    testing::write_noisy_tone(s / "data/new/new_low.wav", 155.0, 200);
    testing::write_noisy_tone(s / "data/new/new_high.wav", 5100.0, 201);
    testing::write_noisy_tone(s / "data/new/later_mid.wav", 1250.0, 202);
    testing::write_bytes(s / "data/new/broken.wav", "RIFF not really a wave file at all");
    fs::copy_file(s / "data/low/low1.wav", s / "data/new/copy_of_low1.wav");
    // Copies of the indexed catalog (taken before any ingest) for the HNSW tests and the tags test, so that
    // no test depends on what another ingested (all of them may run in one process).
    fs::copy_file(s / "tones.catalog", s / "hnsw.catalog");
    fs::copy_file(s / "tones.catalog", s / "faiss.catalog");
    fs::copy_file(s / "tones.catalog", s / "tags.catalog");

    vectors_before_ = new std::map<std::string, std::string>(vector_rows(s / "tones.catalog"));
    features_before_ = new std::map<std::string, std::string>(feature_files(s / "tones.catalog"));
    first_ =
        new ProgramRun(ingest(quoted(s / "data/new/new_low.wav") + " " + quoted(s / "data/new/broken.wav") +
                              " " + quoted(s / "data/new/new_high.wav") + " -k 3"));
    second_ = new ProgramRun(ingest(quoted(s / "data/new/new_low.wav") + " " +
                                    quoted(s / "data/new/copy_of_low1.wav") + " " +
                                    quoted(s / "data/low/low2.wav") + " -k 0"));
  }
  static void TearDownTestSuite() {
    delete first_;
    delete second_;
    delete vectors_before_;
    delete features_before_;
    delete scratch_;
  }
  void SetUp() override {
    for (const ProgramRun& step : steps_) ASSERT_EQ(step.status, 0) << step.out << step.err;
  }

  static const ScratchDir& scratch() { return *scratch_; }
  static ProgramRun run(const std::string& command, const std::string& catalog,
                        const std::string& arguments) {
    std::string line = command;
    line += " -j 1 --catalog " + quoted(scratch() / catalog);
    line += " --model " + quoted(scratch() / "tones.tlm");
    line += " " + arguments;
    return tunelens(line, scratch());
  }
  static ProgramRun ingest(const std::string& arguments, const std::string& catalog = "tones.catalog") {
    return run("ingest", catalog, arguments);
  }
  static ProgramRun similar(const std::string& arguments, const std::string& catalog = "tones.catalog") {
    return run("similar", catalog, arguments);
  }

  // Ingests data/new/later_mid.wav into `catalog`, whose output must say `searched`, and checks that every
  // saved index file in `files` took it.
  static void ingest_later_into(const std::string& catalog, const std::string& searched,
                                const std::vector<fs::path>& files) {
    const ProgramRun added = ingest(quoted(scratch() / "data/new/later_mid.wav") + " -k 2", catalog);
    ASSERT_EQ(added.status, 0) << added.out << added.err;
    EXPECT_NE(added.out.find(searched), std::string::npos) << added.out;
    const auto track = Catalog::open(scratch() / catalog).find_track(std::string("new/later_mid.wav"));
    ASSERT_TRUE(track);
    for (const fs::path& file : files) {
      const auto reloaded = load_index(file);
      EXPECT_EQ(reloaded->size(), 16u) << file;
      EXPECT_TRUE(reloaded->contains(track->id)) << file;
    }
  }

  static ScratchDir* scratch_;
  static std::vector<ProgramRun> steps_;
  static ProgramRun *first_, *second_;
  static std::map<std::string, std::string>*vectors_before_, *features_before_;
};
ScratchDir* Ingest::scratch_ = nullptr;
std::vector<ProgramRun> Ingest::steps_;
ProgramRun* Ingest::first_ = nullptr;
ProgramRun* Ingest::second_ = nullptr;
std::map<std::string, std::string>* Ingest::vectors_before_ = nullptr;
std::map<std::string, std::string>* Ingest::features_before_ = nullptr;

TEST_F(Ingest, NewFilesBecomeTracksWithFeaturesPredictionsAndVectors) {
  EXPECT_EQ(first_->status, 1) << first_->out << first_->err;  // one bad file
  EXPECT_NE(first_->out.find("ingest: 2 added, 0 already in the catalog, 1 failed"), std::string::npos)
      << first_->out;
  const Catalog catalog = Catalog::open(scratch() / "tones.catalog");
  EXPECT_EQ(catalog.track_count(), 17u);
  for (const std::string name : {"new_low", "new_high"}) {
    const auto track = catalog.find_track("new/" + name + ".wav");
    ASSERT_TRUE(track) << name;
    EXPECT_EQ(track->title, name);
    EXPECT_EQ(track->source, "ingest");
    EXPECT_FALSE(track->label);
    EXPECT_FALSE(track->fingerprint.empty());
    EXPECT_NEAR(track->duration, 3.0, 0.01);
    EXPECT_NE(first_->out.find("new/" + name + ".wav as track " + std::to_string(track->id)),
              std::string::npos)
        << first_->out;
    ASSERT_EQ(catalog.feature_configs().size(), 1u);
    const std::string config = catalog.feature_configs().front().id;
    const auto features = catalog.features(track->id, config);
    ASSERT_TRUE(features) << name;
    EXPECT_EQ(features->status, FeatureStatus::Done);
    EXPECT_EQ(features->n_mels, 16u);
    EXPECT_TRUE(fs::exists(catalog.feature_file(track->id, config)));
  }
  // Two vectors per track under the model's key, a prediction for the new ones.
  const auto rows = vector_rows(scratch() / "tones.catalog");
  EXPECT_EQ(rows.size(), 17u * 2);
  const std::string key = rows.begin()->first.substr(
      rows.begin()->first.find(' ') + 1, rows.begin()->first.rfind(' ') - rows.begin()->first.find(' ') - 1);
  const auto low = catalog.find_track(std::string("new/new_low.wav"));
  const auto prediction = catalog.prediction(low->id, key);
  ASSERT_TRUE(prediction);
  EXPECT_EQ(prediction->size(), 3u);
}

// A tagged file keeps its tags: the title, artist, album, year and track number a music player shows.
TEST_F(Ingest, TagsGiveTitleArtistAlbumYearAndTrack) {
  fs::copy_file(testing::data_path("formats/tagged.flac"), scratch() / "data/new/track02.flac");
  const ProgramRun run = ingest(quoted(scratch() / "data/new/track02.flac") + " -k 0", "tags.catalog");
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  const auto track = Catalog::open(scratch() / "tags.catalog").find_track(std::string("new/track02.flac"));
  ASSERT_TRUE(track);
  EXPECT_EQ(track->title, testing::TaggedFixture::title);
  EXPECT_EQ(track->artist, testing::TaggedFixture::artist);
  EXPECT_EQ(track->album, testing::TaggedFixture::album);
  EXPECT_EQ(track->year, testing::TaggedFixture::year);
  EXPECT_EQ(track->track_number, testing::TaggedFixture::track);
}

TEST_F(Ingest, ExistingTracksVectorsAndFeatureFilesAreByteIdentical) {
  const auto after = vector_rows(scratch() / "tones.catalog");
  ASSERT_EQ(vectors_before_->size(), 15u * 2);
  for (const auto& [row, bytes] : *vectors_before_) {
    const auto found = after.find(row);
    ASSERT_NE(found, after.end()) << row;
    EXPECT_EQ(found->second, bytes) << row;
  }
  const auto files = feature_files(scratch() / "tones.catalog");
  ASSERT_EQ(features_before_->size(), 15u);
  for (const auto& [file, bytes] : *features_before_) {
    const auto found = files.find(file);
    ASSERT_NE(found, files.end()) << file;
    EXPECT_EQ(found->second, bytes) << file;
  }
  EXPECT_EQ(files.size(), 17u);  // and one new file per new track
}

TEST_F(Ingest, ABadFileIsNamedOnceAndTheOthersAreIngested) {
  EXPECT_EQ(testing::occurrences(first_->err, "broken.wav"), 1u) << first_->err;
  EXPECT_EQ(testing::occurrences(first_->err, "tunelens ingest: error"), 1u) << first_->err;
  const auto line = first_->err.find("tunelens ingest: error: ");
  ASSERT_NE(line, std::string::npos) << first_->err;
  EXPECT_NE(first_->err.find("broken.wav", line), std::string::npos) << first_->err;
  const Catalog catalog = Catalog::open(scratch() / "tones.catalog");
  EXPECT_FALSE(catalog.find_track(std::string("new/broken.wav")));
  EXPECT_TRUE(catalog.find_track(std::string("new/new_high.wav")));  // the file after the bad one
}

TEST_F(Ingest, AFileAlreadyThereByPathOrContentIsSkipped) {
  ASSERT_EQ(second_->status, 0) << second_->out << second_->err;
  EXPECT_NE(second_->out.find("ingest: 0 added, 3 already in the catalog, 0 failed"), std::string::npos)
      << second_->out;
  EXPECT_NE(second_->out.find("new_low.wav: already in the catalog as track"), std::string::npos)
      << second_->out;
  EXPECT_NE(second_->out.find("copy_of_low1.wav: same content as track"), std::string::npos) << second_->out;
  EXPECT_NE(second_->out.find("(low/low1.wav)"), std::string::npos) << second_->out;
  EXPECT_EQ(Catalog::open(scratch() / "tones.catalog").track_count(), 17u);
}

// Two ingests at once of the same bytes under two names add one track: the content is looked up again under
// the catalog's write lock (before, 4 of 7 such races added both).
TEST_F(Ingest, TwoIngestsRacingWithTheSameContentAddOneTrack) {
  const ScratchDir& s = scratch();
  for (int trial = 0; trial < 4; ++trial) {
    const fs::path catalog = s / ("race" + std::to_string(trial) + ".catalog");
    fs::copy_file(s / "hnsw.catalog", catalog);
    const fs::path a = s / "data/new" / ("race_a" + std::to_string(trial) + ".wav");
    const fs::path b = s / "data/new" / ("race_b" + std::to_string(trial) + ".wav");
    testing::write_noisy_tone(a, 700.0 + trial, 300 + static_cast<unsigned>(trial));
    fs::copy_file(a, b);
    const std::string one = std::string(TUNELENS_BINARY) + " ingest -j 1 -k 0 --catalog " + quoted(catalog) +
                            " --model " + quoted(s / "tones.tlm") + " ";
    const fs::path log_a = s / "race_a.log", log_b = s / "race_b.log";
    const std::string both = "(" + one + quoted(a) + " >" + quoted(log_a) + " 2>&1 & " + one + quoted(b) +
                             " >" + quoted(log_b) + " 2>&1 & wait)";
    ASSERT_EQ(std::system(both.c_str()), 0);
    EXPECT_EQ(Catalog::open(catalog).track_count(), 16u)  // 15 + one
        << "trial " << trial << "\n"
        << testing::read_bytes(log_a) << testing::read_bytes(log_b);
  }
}

TEST_F(Ingest, TheNewTrackListsItsNeighboursAndIsFoundBySimilar) {
  // ingest -k 3 printed the nearest tracks of new_low: low tones.
  const auto start = first_->out.find("new_low.wav as track");
  ASSERT_NE(start, std::string::npos) << first_->out;
  std::istringstream lines(first_->out.substr(start));
  std::string line;
  std::vector<std::string> rows;
  std::getline(lines, line);  // ingested ... as track N: its genres, most probable first
  EXPECT_NE(line.find(": low 0."), std::string::npos) << line;
  std::getline(lines, line);  // similar to ...
  std::getline(lines, line);  // header
  for (int i = 0; i < 3 && std::getline(lines, line); ++i) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3u) << first_->out;
  for (const std::string& row : rows) EXPECT_NE(row.find("low/low"), std::string::npos) << first_->out;

  // similar by the new file's path: the catalog track (its stored vectors), not an outside file.
  const ProgramRun by_path = similar(quoted(scratch() / "data/new/new_low.wav") + " -k 3");
  ASSERT_EQ(by_path.status, 0) << by_path.err;
  const Catalog catalog = Catalog::open(scratch() / "tones.catalog");
  const auto low = catalog.find_track(std::string("new/new_low.wav"));
  EXPECT_NE(by_path.out.find("similar to track " + std::to_string(low->id) + " (new_low)"), std::string::npos)
      << by_path.out;
  EXPECT_NE(by_path.out.find("index of 17 tracks"), std::string::npos) << by_path.out;

  // And the other low tones find it: k 5 covers the 4 other catalog lows and the new one.
  const ProgramRun neighbour = similar("'low tone 0' -k 5");
  ASSERT_EQ(neighbour.status, 0) << neighbour.err;
  EXPECT_NE(neighbour.out.find("new/new_low.wav"), std::string::npos) << neighbour.out;
}

TEST_F(Ingest, SavedHnswIndexIsLoadedUpdatedAndRebuiltWhenStale) {
  const fs::path catalog_file = scratch() / "hnsw.catalog";
  const ProgramRun index = run("index", "hnsw.catalog", "--search hnsw -q");
  ASSERT_EQ(index.status, 0) << index.out << index.err;
  const std::vector<fs::path> files = index_files(catalog_file);
  ASSERT_EQ(files.size(), 2u) << index.out;
  EXPECT_TRUE(files[0].filename().string().ends_with(".embedding.cosine.hnsw")) << files[0];
  EXPECT_TRUE(files[1].filename().string().ends_with(".probs.sqeuclidean.hnsw")) << files[1];
  EXPECT_EQ(testing::occurrences(index.out, "15 vectors (built)"), 2u) << index.out;
  EXPECT_EQ(load_index(files[0])->size(), 15u);

  // similar loads it (auto: a saved file exists) and says so.
  const ProgramRun loaded = similar("'low tone 0' -k 3", "hnsw.catalog");
  ASSERT_EQ(loaded.status, 0) << loaded.err;
  EXPECT_NE(loaded.out.find("hnsw index of 15 tracks"), std::string::npos) << loaded.out;
  EXPECT_TRUE(loaded.err.empty()) << loaded.err;

  ingest_later_into("hnsw.catalog", "hnsw index of 16 tracks", files);

  // A damaged file: one warning line, rebuilt, and the answer is still right.
  std::string bytes = testing::read_bytes(files[0]);
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(files[0], bytes);
  const ProgramRun damaged = similar("'low tone 0' -k 3", "hnsw.catalog");
  ASSERT_EQ(damaged.status, 0) << damaged.err;
  EXPECT_EQ(testing::occurrences(damaged.err, "\n"), 1u) << damaged.err;
  EXPECT_NE(damaged.err.find("rebuilt from the catalog's 16 vectors"), std::string::npos) << damaged.err;
  EXPECT_NE(damaged.out.find("hnsw index of 16 tracks"), std::string::npos) << damaged.out;
  EXPECT_EQ(load_index(files[0])->size(), 16u);

  // A stale file (of the catalog before the ingest: one vector short is mended, so use one with a vector the
  // catalog does not have): rebuilt with a warning.
  {
    const auto stale = load_index(files[0]);
    const std::vector<std::int64_t> ids = {999};
    std::vector<float> vector(stale->dim(), 0.0f);
    vector[0] = 1.0f;
    stale->add(ids, vector);
    stale->save(files[0]);
  }
  const ProgramRun rebuilt = similar("'low tone 0' -k 3", "hnsw.catalog");
  ASSERT_EQ(rebuilt.status, 0) << rebuilt.err;
  EXPECT_NE(rebuilt.err.find("1 of its vectors are not in the catalog"), std::string::npos) << rebuilt.err;
  EXPECT_EQ(testing::occurrences(rebuilt.err, "\n"), 1u) << rebuilt.err;
  EXPECT_FALSE(load_index(files[0])->contains(999));

  // The same tracks as exact search.
  const auto ids = [](const ProgramRun& csv) {
    std::vector<std::string> out;
    std::istringstream lines(csv.out);
    std::string line;
    while (std::getline(lines, line)) out.push_back(line.substr(0, line.find(',', line.find(',') + 1)));
    return out;
  };
  const ProgramRun exact = similar("'low tone 0' -k 3 --search exact --format csv", "hnsw.catalog");
  const ProgramRun approximate = similar("'low tone 0' -k 3 --format csv", "hnsw.catalog");
  EXPECT_EQ(ids(exact), ids(approximate)) << exact.out << approximate.out;
  EXPECT_EQ(ids(exact).size(), 4u) << exact.out;
}

// The FAISS kinds through the commands: index --index builds them beside the catalog, similar loads them
// (auto) with its --nprobe, ingest adds to them, another kind asked for replaces them, a bad kind is refused.
TEST_F(Ingest, SavedFaissIndexIsBuiltSearchedUpdatedAndReplaced) {
  const fs::path catalog_file = scratch() / "faiss.catalog";
  const ProgramRun index = run("index", "faiss.catalog", "--index ivf-flat:2 -q");
  ASSERT_EQ(index.status, 0) << index.out << index.err;
  const std::vector<fs::path> files = index_files(catalog_file, ".faiss");
  ASSERT_EQ(files.size(), 2u) << index.out;
  EXPECT_TRUE(files[0].filename().string().ends_with(".embedding.cosine.faiss")) << files[0];
  EXPECT_EQ(testing::occurrences(index.out, "15 vectors of ivf-flat:2 (built)"), 2u) << index.out;
  EXPECT_EQ(load_index(files[0])->kind(), "ivf-flat:2");

  // Both lists probed: the same tracks and distances as exact search.
  const ProgramRun exact = similar("'low tone 0' -k 4 --index exact --format csv", "faiss.catalog");
  const ProgramRun faiss = similar("'low tone 0' -k 4 --nprobe 2 --format csv", "faiss.catalog");
  ASSERT_EQ(faiss.status, 0) << faiss.err;
  EXPECT_TRUE(faiss.err.empty()) << faiss.err;
  EXPECT_EQ(exact.out, faiss.out);
  const ProgramRun json = similar("'low tone 0' -k 2 --format json", "faiss.catalog");
  EXPECT_NE(json.out.find("\"index\":\"ivf-flat:2\""), std::string::npos) << json.out;
  // --probe-ratio 1 keeps the nearest of the --nprobe lists alone; below 1 it is refused, in one line.
  const ProgramRun ratio = similar("'low tone 0' -k 15 --nprobe 2 --probe-ratio 1 --format csv", "faiss.catalog");
  const ProgramRun nearest = similar("'low tone 0' -k 15 --nprobe 1 --format csv", "faiss.catalog");
  const ProgramRun both = similar("'low tone 0' -k 15 --nprobe 2 --format csv", "faiss.catalog");
  ASSERT_EQ(ratio.status, 0) << ratio.err;
  EXPECT_EQ(ratio.out, nearest.out);
  EXPECT_NE(nearest.out, both.out);  // one list alone holds fewer than the 15 tracks
  const ProgramRun bad_ratio = similar("'low tone 0' --probe-ratio 0.5", "faiss.catalog");
  EXPECT_NE(bad_ratio.status, 0);
  EXPECT_NE(bad_ratio.err.find("--probe-ratio: must be 0 (every list) or a ratio from 1 to 1000000, not 0.5"),
            std::string::npos)
      << bad_ratio.err;

  ingest_later_into("faiss.catalog", "ivf-flat:2 index of 16 tracks", files);

  // Too few vectors to train ivf-pq's codebooks: exact search, said once.
  const ProgramRun few = similar("'low tone 0' -k 2 --index ivf-pq:2:1", "faiss.catalog");
  ASSERT_EQ(few.status, 0) << few.err;
  EXPECT_NE(few.err.find("too few to train ivf-pq:2:1 (it needs 256): searching exactly"), std::string::npos)
      << few.err;
  EXPECT_NE(few.out.find("exact index of 16 tracks"), std::string::npos) << few.out;

  // Another kind asked for replaces the files: one saved index per vectors and metric.
  const ProgramRun graph = run("index", "faiss.catalog", "--index hnsw-faiss:8 -q");
  ASSERT_EQ(graph.status, 0) << graph.out << graph.err;
  EXPECT_EQ(load_index(files[0])->kind(), "hnsw-faiss:8");
  const ProgramRun hnsw = run("index", "faiss.catalog", "--index hnsw -q");
  ASSERT_EQ(hnsw.status, 0) << hnsw.out << hnsw.err;
  EXPECT_TRUE(index_files(catalog_file, ".faiss").empty());
  EXPECT_EQ(index_files(catalog_file).size(), 2u);

  const ProgramRun bad = similar("'low tone 0' --index ivf-pq:2:x", "faiss.catalog");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("bad index kind 'ivf-pq:2:x': code bytes M 'x' is not a whole number"),
            std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace tunelens
