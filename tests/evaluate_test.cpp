// tunelens evaluate and tunelens classify, end to end: a tiny dataset of synthetic tones (three pitches, one
// per genre) imported, split, extracted with 16 mel bands and learnt by a small network in a few epochs.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "audio/audio.h"
#include "eval/metrics.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ProgramRun;
using testing::ScratchDir;
using testing::tunelens;
using testing::write_noisy_tone;

// One dataset and model for every test of the file (training takes a few seconds).
class Evaluate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const ScratchDir& s = *scratch_;
    const std::map<std::string, double> genres = {{"high", 5000.0}, {"low", 150.0}, {"mid", 1200.0}};
    unsigned seed = 1;
    for (const auto& [genre, frequency] : genres) {
      fs::create_directories(s / ("audio/" + genre));
      for (int k = 0; k < 6; ++k)
        write_noisy_tone(s / fmt::format("audio/{}/{}{}.wav", genre, genre, k), frequency * (1.0 + 0.03 * k),
                         seed++);
    }
    const std::string catalog = testing::quoted(s / "tones.catalog");
    steps_.push_back(tunelens(
        "dataset import folders " + testing::quoted(s / "audio") + " --catalog " + catalog + " -q", s));
    steps_.push_back(
        tunelens("dataset split --catalog " + catalog + " --scheme per-class --val 1 --test 2 -q", s));
    steps_.push_back(tunelens("extract --catalog " + catalog + " --n-mels 16 --dtype float32 -q", s));
    steps_.push_back(tunelens("train " + catalog + " --split default --out " +
                                  testing::quoted(s / "tones.tlm") +
                                  " --window 32 --width 4 --depth 10 --epochs 15 --batch-size 4 --lr 0.003"
                                  " --lr-schedule constant --patience 0 --threads 1 --seed 7 -q --report " +
                                  testing::quoted(s / "train.html"),
                              s));
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }
  void SetUp() override {
    for (const ProgramRun& step : steps_) ASSERT_EQ(step.status, 0) << step.out << step.err;
  }

  static const ScratchDir& scratch() { return *scratch_; }
  static fs::path catalog() { return scratch() / "tones.catalog"; }
  static fs::path model() { return scratch() / "tones.tlm"; }

  static ScratchDir* scratch_;
  static std::vector<ProgramRun> steps_;
};
ScratchDir* Evaluate::scratch_ = nullptr;
std::vector<ProgramRun> Evaluate::steps_;

TEST_F(Evaluate, ReportAgreesWithTheMetricsOfClassifyOutput) {
  const fs::path json_file = scratch() / "report.json", csv_file = scratch() / "report.csv";
  const ProgramRun run = tunelens(
      "evaluate --model " + testing::quoted(model()) + " --catalog " + testing::quoted(catalog()) +
          " -j 1 --json " + testing::quoted(json_file) + " --csv " + testing::quoted(csv_file) + " --top-k 2",
      scratch());
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("window-level accuracy:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("errors per genre"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("most confident mistakes:"), std::string::npos) << run.out;
  const nlohmann::json report = nlohmann::json::parse(testing::read_bytes(json_file));
  ASSERT_TRUE(report.contains("windows"));
  // The windows most confidently wrong, each placed in its track: as many as there are wrong windows, at
  // most 10.
  const nlohmann::json& windows = report.at("windows");
  const auto wrong = static_cast<std::size_t>(
      std::lround(windows.at("examples").get<double>() * (1.0 - windows.at("accuracy").get<double>())));
  const nlohmann::json& window_mistakes = windows.at("confident_mistake_windows");
  EXPECT_EQ(window_mistakes.size(), std::min<std::size_t>(wrong, 10));
  EXPECT_NE(testing::read_bytes(csv_file).find("precision"), std::string::npos);

  // The test part's tracks, classified from their audio by `tunelens classify`.
  const Catalog cat = Catalog::open(catalog());
  TrackQuery query;
  query.split_name = "default";
  query.split_part = SplitPart::Test;
  const std::vector<Track> tracks = cat.tracks(query);
  ASSERT_EQ(tracks.size(), 6u);
  std::string files;
  std::map<std::string, std::string> label_of;
  std::set<std::string> test_paths;
  for (const Track& track : tracks) test_paths.insert(track.path);
  for (const auto& mistake : window_mistakes) {
    EXPECT_TRUE(test_paths.contains(mistake.at("path").get<std::string>())) << mistake;
    EXPECT_GE(mistake.at("start_seconds").get<double>(), 0.0) << mistake;
    EXPECT_NE(mistake.at("truth"), mistake.at("predicted")) << mistake;
  }
  for (const Track& track : tracks) {
    const std::string path = cat.absolute_path(track.path).string();
    files += " " + testing::quoted(path);
    label_of[path] = *track.label;
  }
  const ProgramRun classify =
      tunelens("classify -j 1 --model " + testing::quoted(model()) + " --format json" + files, scratch());
  ASSERT_EQ(classify.status, 0) << classify.err;
  const nlohmann::json results = nlohmann::json::parse(classify.out);
  ASSERT_EQ(results.size(), 6u);
  std::vector<std::string> classes;
  for (const auto& [name, value] : results[0].at("probabilities").items()) classes.push_back(name);
  std::vector<std::size_t> truth;
  std::vector<float> probabilities;
  for (const auto& item : results) {
    const std::string label = label_of.at(item.at("file").get<std::string>());
    truth.push_back(
        static_cast<std::size_t>(std::find(classes.begin(), classes.end(), label) - classes.begin()));
    for (const std::string& c : classes) probabilities.push_back(item.at("probabilities").at(c).get<float>());
    EXPECT_EQ(item.at("top").size(), 3u);
  }
  ReportOptions options;
  options.top_k = {2};
  const ClassificationReport ours = classification_report(truth, probabilities, classes, options);

  EXPECT_NEAR(report.at("accuracy").get<double>(), ours.accuracy, 1e-12);
  EXPECT_NEAR(report.at("report").at("macro avg").at("f1-score").get<double>(), ours.macro.f1, 1e-12)
      << report.dump(2);
  EXPECT_NE(run.out.find(fmt::format("{:.4f}", ours.accuracy)), std::string::npos) << run.out;
  std::size_t total = 0;
  for (const auto& row : report.at("confusion_matrix"))
    for (const auto& cell : row) total += cell.get<std::size_t>();
  EXPECT_EQ(total, 6u);
  EXPECT_GE(ours.accuracy, 0.5);  // three clearly different pitches
}

// A file name is any bytes on Linux, JSON is UTF-8: a name that is not UTF-8 comes out with U+FFFD in its
// place (it once ended the run with nlohmann's "invalid UTF-8 byte" and printed nothing).
TEST_F(Evaluate, ClassifyJsonNamesAFileWhoseNameIsNotUtf8) {
  const Catalog cat = Catalog::open(catalog());
  const fs::path named = scratch() / "tone\xff\xfe.wav";
  fs::copy_file(cat.absolute_path(cat.tracks().front().path), named, fs::copy_options::overwrite_existing);
  const ProgramRun classify = tunelens(
      "classify -j 1 --model " + testing::quoted(model()) + " --format json " + testing::quoted(named),
      scratch());
  ASSERT_EQ(classify.status, 0) << classify.err;
  const nlohmann::json results = nlohmann::json::parse(classify.out);
  ASSERT_EQ(results.size(), 1u);
  const std::string file = results[0].at("file");
  EXPECT_NE(file.find("tone\xef\xbf\xbd"), std::string::npos) << file;
  EXPECT_EQ(results[0].at("top").size(), 3u);
}

TEST_F(Evaluate, BadInputsAreOneLineErrors) {
  const std::string m = " -j 1 --model " + testing::quoted(model()),
                    c = " --catalog " + testing::quoted(catalog());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"evaluate --model " + testing::quoted(scratch() / "none.tlm") + c, "none.tlm"},
      {"evaluate" + m + " --catalog " + testing::quoted(scratch() / "none.catalog"), "none.catalog"},
      {"evaluate" + m + c + " --split nosuch", "no split named 'nosuch'"},
  };
  for (const auto& [arguments, expected] : cases) {
    const ProgramRun run = tunelens(arguments, scratch());
    EXPECT_EQ(run.status, 2) << arguments;
    EXPECT_NE(run.err.find("tunelens evaluate: error: "), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(expected), std::string::npos) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  }
}

TEST_F(Evaluate, ClassifyNamesBadFilesAndGoesOn) {
  const fs::path folder = scratch() / "mixed";
  fs::create_directories(folder);
  fs::copy_file(scratch() / "audio/low/low0.wav", folder / "good.wav");
  testing::write_bytes(folder / "bad.wav", "this is not audio at all, only words");
  const ProgramRun run =
      tunelens("classify -j 2 --model " + testing::quoted(model()) + " --timeline " + testing::quoted(folder),
               scratch());
  EXPECT_EQ(run.status, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("good.wav"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("bad.wav"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(" s  "), std::string::npos) << run.out;  // the timeline
  EXPECT_NE(run.err.find("bad.wav"), std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;

  const ProgramRun csv = tunelens("classify -j 1 --model " + testing::quoted(model()) +
                                      " --format csv --top-k 1 " + testing::quoted(folder / "good.wav"),
                                  scratch());
  EXPECT_EQ(csv.status, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("file,rank,genre,probability\n", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 2) << csv.out;
}

TEST_F(Evaluate, TrainingWroteLearningCurvesAndItsReport) {
  // 15 epochs, four series (train and validation, loss and accuracy): one point each.
  const std::string curves = testing::read_bytes(fs::path(model().string() + ".curves.svg"));
  EXPECT_EQ(testing::occurrences(curves, "<circle"), 60u) << curves.substr(0, 400);
  EXPECT_NE(curves.find("validation accuracy: epoch 15 = "), std::string::npos);
  const std::string html = testing::read_bytes(scratch() / "train.html");
  EXPECT_NE(html.find("<title>Training: tones.tlm</title>"), std::string::npos);
  EXPECT_EQ(testing::occurrences(html, " (best)</td>"), 1u);
  EXPECT_NE(html.find("<th>network.name</th><td>shortchunk</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<th>seed</th><td>7</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>classes</th><td>[&quot;high&quot;,&quot;low&quot;,&quot;mid&quot;]</td>"),
            std::string::npos);
}

TEST_F(Evaluate, ReportChartsAndIndexShowEveryGenre) {
  const fs::path page = scratch() / "pages/evaluate.html", charts = scratch() / "charts";
  fs::create_directories(page.parent_path());
  const ProgramRun run =
      tunelens("evaluate -j 1 --model " + testing::quoted(model()) + " --catalog " +
                   testing::quoted(catalog()) + " --report " + testing::quoted(page) + " --charts " +
                   testing::quoted(charts) + " --report-link " + testing::quoted(scratch() / "train.html"),
               scratch());
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  const std::string html = testing::read_bytes(page);
  for (const char* genre : {"high", "low", "mid"})
    EXPECT_EQ(testing::occurrences(html, std::string("<tr><td>") + genre + "</td>"), 4u)
        << genre;                                                      // report, errors; 2 levels
  EXPECT_EQ(testing::occurrences(html, "<rect class=\"cell\""), 18u);  // 3 x 3 per level
  EXPECT_NE(html.find("<a href=\"../train.html\">Training: tones.tlm</a>"), std::string::npos);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(charts)) {
    EXPECT_EQ(entry.path().extension(), ".svg");
    ++files;
  }
  EXPECT_EQ(files, 8u);
  EXPECT_EQ(
      testing::occurrences(testing::read_bytes(charts / "windows-confusion.svg"), "<rect class=\"cell\""),
      9u);

  const ProgramRun index =
      tunelens("report index --out " + testing::quoted(scratch() / "index.html") + " " +
                   testing::quoted(scratch() / "train.html") + " " + testing::quoted(page),
               scratch());
  ASSERT_EQ(index.status, 0) << index.out << index.err;
  const std::string links = testing::read_bytes(scratch() / "index.html");
  EXPECT_NE(links.find("<a href=\"train.html\">Training: tones.tlm</a>"), std::string::npos) << links;
  EXPECT_NE(links.find("<a href=\"pages/evaluate.html\">Evaluation: tones.tlm on tones.catalog</a>"),
            std::string::npos)
      << links;
  EXPECT_NE(links.find("split &#39;default&#39; (test): 6 tracks"), std::string::npos) << links;

  const ProgramRun missing = tunelens("report index --out " + testing::quoted(scratch() / "index2.html") +
                                          " " + testing::quoted(scratch() / "no.html"),
                                      scratch());
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("no.html: no such page"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace tunelens
