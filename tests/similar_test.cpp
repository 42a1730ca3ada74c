// tunelens index and tunelens similar, end to end: a tiny catalog of synthetic tones (three pitches, one per
// genre, imported from a CSV with titles and artists), a small model trained on it, the catalog indexed, and
// queries by id, title and an audio file outside the catalog.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <sstream>

#include "audio/audio.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::ProgramRun;
using testing::tunelens;
using testing::write_noisy_tone;

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
    const std::vector<std::pair<std::string, double>> genres = {
        {"high", 5000.0}, {"low", 150.0}, {"mid", 1200.0}};
    std::string csv = "path,label,artist,album,title\n";
    unsigned seed = 1;
    for (const auto& [genre, frequency] : genres) {
      fs::create_directories(s / ("data/" + genre));
      for (int k = 0; k < 5; ++k) {
        write_noisy_tone(s / fmt::format("data/{}/{}{}.wav", genre, genre, k), frequency * (1.0 + 0.03 * k),
                   seed++);
        csv += fmt::format("{}/{}{}.wav,{},Artist {},Album {},{} tone {}\n", genre, genre, k, genre, k % 2,
                           genre, genre, k);
      }
    }
    testing::write_bytes(s / "data/tracks.csv", csv);
    fs::create_directories(s / "outside");
    write_noisy_tone(s / "outside/query.wav", 160.0, 99);

    const std::string catalog = testing::quoted(s / "tones.catalog");
    steps_.push_back(
        tunelens("dataset import csv " + testing::quoted(s / "data/tracks.csv") + " --catalog " + catalog + " -q", s));
    steps_.push_back(
        tunelens("dataset split --catalog " + catalog + " --scheme per-class --val 1 --test 1 -q", s));
    steps_.push_back(tunelens("extract --catalog " + catalog + " --n-mels 16 --dtype float32 -q", s));
    steps_.push_back(tunelens("train " + catalog + " --split default --out " + testing::quoted(s / "tones.tlm") +
                                  " --window 32 --width 4 --depth 10 --epochs 15 --batch-size 4 --lr 0.003"
                                  " --lr-schedule constant --patience 0 --threads 1 --seed 7 -q",
                              s));
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

  const ProgramRun js = similar("1 --metric js");
  EXPECT_EQ(js.status, 2);
  EXPECT_NE(js.err.find("--by probs"), std::string::npos) << js.err;
}

}  // namespace
}  // namespace tunelens
