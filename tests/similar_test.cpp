// tunelens index and tunelens similar, end to end: a tiny catalog of synthetic tones (three pitches, one per
// genre, imported from a CSV with titles and artists: testing::make_tone_catalog), a small model trained on
// it, the catalog indexed, and queries by id, title and an audio file outside the catalog, in table, JSON and
// CSV;
// --quality on it, and the quality figures on a hand-made catalog.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "recommend/quality.h"
#include "store/catalog.h"
#include "store/fingerprint.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ProgramRun;
using testing::ScratchDir;
using testing::tunelens;

// The result rows of a `tunelens similar` table (after its summary line and header).
std::vector<std::string> result_rows(const std::string& out) {
  std::vector<std::string> rows;
  std::istringstream lines(out);
  std::string line;
  int skipped = 0;
  while (std::getline(lines, line)) {
    if (skipped < 2) {
      ++skipped;
      continue;
    }
    rows.push_back(line);
  }
  return rows;
}

class Similar : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const ScratchDir& s = *scratch_;
    steps_ = testing::make_tone_catalog(s);
    const std::string catalog = testing::quoted(s / "tones.catalog");
    before_index_ = new ProgramRun(
        tunelens("similar --catalog " + catalog + " --model " + testing::quoted(s / "tones.tlm") + " 1", s));
    first_index_ = new ProgramRun(
        tunelens("index -j 1 -q --model " + testing::quoted(s / "tones.tlm") + " --catalog " + catalog, s));
    second_index_ = new ProgramRun(
        tunelens("index -j 1 -q --model " + testing::quoted(s / "tones.tlm") + " --catalog " + catalog, s));
  }
  static void TearDownTestSuite() {
    delete before_index_;
    delete first_index_;
    delete second_index_;
    delete scratch_;
    scratch_ = nullptr;
  }
  void SetUp() override {
    for (const ProgramRun& step : steps_) ASSERT_EQ(step.status, 0) << step.out << step.err;
    ASSERT_EQ(first_index_->status, 0) << first_index_->out << first_index_->err;
  }

  static const ScratchDir& scratch() { return *scratch_; }
  static ProgramRun similar(const std::string& arguments) {
    return tunelens("similar -j 1 --catalog " + testing::quoted(scratch() / "tones.catalog") + " --model " +
                        testing::quoted(scratch() / "tones.tlm") + " " + arguments,
                    scratch());
  }

  static ScratchDir* scratch_;
  static std::vector<ProgramRun> steps_;
  static ProgramRun *before_index_, *first_index_, *second_index_;
};
ScratchDir* Similar::scratch_ = nullptr;
std::vector<ProgramRun> Similar::steps_;
ProgramRun* Similar::before_index_ = nullptr;
ProgramRun* Similar::first_index_ = nullptr;
ProgramRun* Similar::second_index_ = nullptr;

TEST_F(Similar, IndexAddsEveryTrackOnceAndSimilarNeedsIt) {
  EXPECT_EQ(before_index_->status, 2);
  EXPECT_NE(before_index_->err.find("tunelens index"), std::string::npos) << before_index_->err;
  EXPECT_EQ(std::count(before_index_->err.begin(), before_index_->err.end(), '\n'), 1) << before_index_->err;

  EXPECT_NE(first_index_->out.find("index: 15 tracks added, 0 already indexed"), std::string::npos)
      << first_index_->out;
  ASSERT_EQ(second_index_->status, 0) << second_index_->err;
  EXPECT_NE(second_index_->out.find("index: 0 tracks added, 15 already indexed"), std::string::npos)
      << second_index_->out;
}

TEST_F(Similar, ByIdListsTracksOfTheSameGenreWithoutTheQuery) {
  const Catalog catalog = Catalog::open(scratch() / "tones.catalog");
  const auto query = catalog.find_track(std::string("low/low0.wav"));
  ASSERT_TRUE(query);
  for (const std::string by : {"--by embedding --metric cosine", "--by probs --metric sqeuclidean"}) {
    const ProgramRun run = similar(std::to_string(query->id) + " -k 3 " + by);
    ASSERT_EQ(run.status, 0) << run.out << run.err;
    const std::vector<std::string> rows = result_rows(run.out);
    ASSERT_EQ(rows.size(), 3u) << run.out;
    for (const std::string& row : rows) {
      EXPECT_NE(row.find("low/low"), std::string::npos) << by << "\n" << run.out;
      EXPECT_EQ(row.find("low/low0.wav"), std::string::npos) << by << "\n" << run.out;
    }
    EXPECT_NE(rows[0].find("Artist"), std::string::npos) << run.out;
  }
}

TEST_F(Similar, ByTitleAndByAnOutsideFile) {
  const ProgramRun title = similar("'HIGH TONE 2' -k 3");
  ASSERT_EQ(title.status, 0) << title.out << title.err;
  EXPECT_NE(title.out.find("high tone 2"), std::string::npos) << title.out;
  ASSERT_EQ(result_rows(title.out).size(), 3u) << title.out;
  for (const std::string& row : result_rows(title.out)) {
    EXPECT_NE(row.find("high/high"), std::string::npos) << title.out;
    EXPECT_EQ(row.find("high/high2.wav"), std::string::npos) << title.out;
  }

  const ProgramRun file = similar(testing::quoted(scratch() / "outside/query.wav") + " -k 3");
  ASSERT_EQ(file.status, 0) << file.out << file.err;
  const std::vector<std::string> rows = result_rows(file.out);
  ASSERT_EQ(rows.size(), 3u) << file.out;
  for (const std::string& row : rows) EXPECT_NE(row.find("low/low"), std::string::npos) << file.out;
}

TEST_F(Similar, AmbiguousAndUnknownQueriesAreRefused) {
  const ProgramRun ambiguous = similar("tone");
  EXPECT_EQ(ambiguous.status, 2);
  EXPECT_NE(ambiguous.err.find("15 tracks match 'tone'"), std::string::npos) << ambiguous.err;
  EXPECT_TRUE(ambiguous.out.empty()) << ambiguous.out;

  const ProgramRun unknown = similar("no-such-thing");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("tunelens similar: error: 'no-such-thing'"), std::string::npos) << unknown.err;
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1) << unknown.err;

  // A number too large for an id is no id (it was a raw "stoll").
  const ProgramRun huge = similar("99999999999999999999");
  EXPECT_EQ(huge.status, 2);
  EXPECT_NE(huge.err.find("'99999999999999999999' is no track id"), std::string::npos) << huge.err;

  const ProgramRun js = similar("1 --metric js");
  EXPECT_EQ(js.status, 2);
  EXPECT_NE(js.err.find("--metric: js compares probability vectors: use it with probs"), std::string::npos) << js.err;
}

// -k is capped at the catalog: -k 10^9 lists every other track at once (it grew to 11.7 GB with no output).
TEST_F(Similar, AHugeKListsTheWholeCatalog) {
  const ProgramRun all = similar("1 -k 1000000000 --format csv");
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 15) << all.out;  // a header and 14 others
  const ProgramRun quality = similar("--quality -k 1000000000");
  EXPECT_EQ(quality.status, 0) << quality.err;
}

TEST_F(Similar, JsonAndCsvFormatsParse) {
  const ProgramRun json = similar("'low tone 0' -k 3 --format json");
  ASSERT_EQ(json.status, 0) << json.out << json.err;
  const nlohmann::json document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document.at("by"), "embedding");
  EXPECT_EQ(document.at("metric"), "cosine");
  EXPECT_EQ(document.at("indexed"), 15);
  const auto& results = document.at("results");
  ASSERT_EQ(results.size(), 3u) << json.out;
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].at("rank"), i + 1);
    EXPECT_GT(results[i].at("id").get<std::int64_t>(), 0);
    EXPECT_GE(results[i].at("distance").get<double>(), 0.0);
    EXPECT_EQ(results[i].at("label"), "low");
    EXPECT_EQ(results[i].at("album"), "Album low");
    EXPECT_TRUE(results[i].at("artist") == "Artist 0" || results[i].at("artist") == "Artist 1");
    EXPECT_TRUE(results[i].at("title").get<std::string>().starts_with("low tone"));
    EXPECT_TRUE(results[i].at("path").get<std::string>().starts_with("low/low"));
  }

  const ProgramRun csv = similar("'low tone 0' -k 3 --format csv");
  ASSERT_EQ(csv.status, 0) << csv.out << csv.err;
  const std::vector<std::vector<std::string>> rows = testing::csv_rows(csv.out);
  ASSERT_EQ(rows.size(), 4u) << csv.out;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"rank", "id", "distance", "title", "artist", "album", "label",
                                               "path"}));
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u) << csv.out;
    EXPECT_EQ(rows[i][0], std::to_string(i));
    EXPECT_EQ(rows[i][1], results[i - 1].at("id").dump()) << "the same ranking as the JSON";
    EXPECT_EQ(rows[i][6], "low");
  }

  const ProgramRun bad = similar("1 --format xml");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("xml"), std::string::npos) << bad.err;
}

TEST_F(Similar, QualityCommandWritesTheTableMarkdownAndJson) {
  const ProgramRun run = similar("--quality -k 3 --markdown " + testing::quoted(scratch() / "quality.md") +
                                 " --json " + testing::quoted(scratch() / "quality.json"));
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("original (probs, sqeuclidean)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("embedding (embedding, cosine)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("random (expected)"), std::string::npos) << run.out;
  const nlohmann::json document = nlohmann::json::parse(testing::read_bytes(scratch() / "quality.json"));
  EXPECT_EQ(document.at("queries"), 3);  // one test track per genre
  EXPECT_EQ(document.at("catalog_tracks"), 15);
  ASSERT_EQ(document.at("recommenders").size(), 2u);
  // Each genre's 5 tracks: 4 others out of 14 share the query's genre.
  EXPECT_NEAR(document.at("random").at("same_genre").get<double>(), 4.0 / 14.0, 1e-9);
  const std::string markdown = testing::read_bytes(scratch() / "quality.md");
  EXPECT_NE(markdown.find("| recommender | same artist | same genre |"), std::string::npos) << markdown;

  const ProgramRun missing = similar("--quality --split nope");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
}

// Six tracks on a line (sqeuclidean on 2-D vectors (x, 0)), two of them queries, k = 2; the shares worked out
// by hand.
TEST(RecommendationQuality, HandMadeCatalogGivesTheExpectedShares) {
  ScratchDir scratch;
  Catalog catalog = Catalog::create(scratch / "hand.db", scratch.path());
  struct Row {
    const char* artist;
    const char* label;
    float x;
  };
  const Row rows[] = {{"A", "x", 0},  {"A", "y", 1},  {"B", "x", 3},
                      {"B", "y", 10}, {"C", "x", 11}, {"C", "y", 13}};
  std::vector<std::int64_t> ids;
  for (const Row& row : rows) {
    TrackInfo track;
    track.path = fmt::format("t{}.wav", ids.size() + 1);
    track.fingerprint = hash_hex(content_hash(track.path));
    track.codec = "pcm_s16le";
    track.artist = row.artist;
    track.label = row.label;
    track.source = "test";
    ids.push_back(*catalog.add_track(track));
    const float vector[] = {row.x, 0.0f};
    catalog.set_vector(ids.back(), "hand", "probs", vector);
  }
  // Query t1 at 0: nearest t2 (A, y) at 1 and t3 (B, x) at 9: artist 1/2, label 1/2.
  // Query t4 at 10: nearest t5 (C, x) at 1 and t6 (C, y) at 9: artist 0, label 1/2.
  const RecommenderQuality quality =
      recommendation_quality(catalog, "hand", "probs", Metric::SqEuclidean, {ids[0], ids[3]}, 2, 1);
  EXPECT_EQ(quality.queries, 2u);
  EXPECT_EQ(quality.catalog, 6u);
  EXPECT_DOUBLE_EQ(quality.same_artist, 0.25);
  EXPECT_DOUBLE_EQ(quality.same_label, 0.5);
  // At random: t1 has 1 other track by A and 2 others labelled x among 5; t4 1 by B and 2 labelled y.
  EXPECT_DOUBLE_EQ(quality.random_artist, 0.2);
  EXPECT_DOUBLE_EQ(quality.random_label, 0.4);

  const RecommenderQuality none =
      recommendation_quality(catalog, "other model", "probs", Metric::SqEuclidean, ids, 2);
  EXPECT_EQ(none.catalog, 0u);
  EXPECT_EQ(none.queries, 0u);
}

}  // namespace
}  // namespace tunelens
