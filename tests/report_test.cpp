// Report pages and charts: self-contained, escaped, one mark per point, numbers written where readers look.
#include <gtest/gtest.h>

#include <cmath>

#include "report/charts.h"
#include "report/html.h"
#include "report/run_pages.h"
#include "test_support.h"

namespace tunelens::report {
namespace {

TEST(Charts, ScatterMapHasOneMarkPerPointWithEscapedTitles) {
  std::vector<MapPoint> points;
  for (int i = 0; i < 17; ++i) points.push_back({double(i), double(i % 5), "Song <" + std::to_string(i) + "> & co", "Album " + std::to_string(i % 3), (i % 3) / 2.0});
  const std::string svg = scatter_map("Songs", points);
  EXPECT_EQ(testing::occurrences(svg, "class=\"mark\""), 17u);
  EXPECT_EQ(testing::occurrences(svg, "data-title=\"Song &lt;3&gt; &amp; co\""), 1u);
  EXPECT_EQ(svg.find("<3>"), std::string::npos);  // nothing unescaped
  for (const char* album : {"Album 0", "Album 1", "Album 2"}) EXPECT_NE(svg.find(album), std::string::npos);
}

TEST(Charts, HeatmapWritesEveryCountAndBarsTheirValues) {
  const std::string svg = heatmap("Confusion", {"a", "b"}, {"a", "b"}, {{7, 1}, {2, 9}}, "truth", "predicted");
  for (const char* cell : {">7<", ">1<", ">2<", ">9<"}) EXPECT_NE(svg.find(cell), std::string::npos) << cell;
  const std::string bars = bar_chart("F1", {"rock", "jazz"}, {0.5, 0.25});
  EXPECT_NE(bars.find(">0.500<"), std::string::npos);
  EXPECT_NE(bars.find(">0.250<"), std::string::npos);
}

TEST(Charts, LineStackedAndTimelineChartsDrawTheirData) {
  const std::string lines = line_chart("Loss", "epoch", "loss", {{"train", {1, 2, 3}, {1.0, 0.5, 0.25}}, {"val", {1, 2, 3}, {1.2, 0.9, 0.8}}});
  EXPECT_EQ(testing::occurrences(lines, "<path"), 2u);
  EXPECT_EQ(testing::occurrences(lines, "<circle"), 6u);
  const std::string stacked = stacked_bars("Albums", {"A", "B"}, {"rock", "pop"}, {{0.75, 0.25}, {0.1, 0.9}});
  EXPECT_NE(stacked.find("rock 75%"), std::string::npos);
  const std::string time = timeline("Song", {0, 24, 48}, {"rock", "pop"}, {{1, 0}, {0.5, 0.5}, {0, 1}});
  EXPECT_EQ(testing::occurrences(time, "<rect") - testing::occurrences(time, "width=\"10\" height=\"10\""),
            4u);  // non-zero shares, legend aside
}

TEST(HtmlPage, IsSelfContainedAndWritten) {
  HtmlPage page("Evaluation <test>", "a subtitle");
  page.heading("Scores");
  page.table({"class", "f1"}, {{"rock", "0.5"}});
  page.figure(bar_chart("F1", {"rock"}, {0.5}), "F1 per class");
  const std::string html = page.html();
  EXPECT_NE(html.find("<title>Evaluation &lt;test&gt;</title>"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace, nothing fetched
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.5</td>"), std::string::npos);
  tunelens::testing::ScratchDir dir;
  page.write(dir / "page.html");
  EXPECT_EQ(tunelens::testing::read_bytes(dir / "page.html"), html);
}

TEST(HtmlPage, HasOneTooltipScriptAndElementWhateverItHolds) {
  HtmlPage page("Many charts");
  for (int i = 0; i < 3; ++i) page.figure(bar_chart("F1", {"rock", "jazz"}, {0.5, 0.25}));
  page.figure(scatter_map("Songs", {{0, 0, "a", "A", 0}, {1, 1, "b", "B", 1}}));
  const std::string html = page.html();
  EXPECT_EQ(testing::occurrences(html, "<script"), 1u);
  EXPECT_EQ(testing::occurrences(html, "id=\"tooltip\""), 1u);
  EXPECT_NE(html.find("getElementById('tooltip')"), std::string::npos);
  EXPECT_NE(html.find("closest('[data-title]')"), std::string::npos);  // any mark, not only the map's
  EXPECT_NE(html.find("@media print"), std::string::npos);
}

TEST(Charts, EveryMarkWithAValueCarriesItsHoverText) {
  const std::string bars = bar_chart("F1", {"rock", "jazz"}, {0.5, 0.25});
  EXPECT_EQ(testing::occurrences(bars, "data-title="), 2u);
  EXPECT_NE(bars.find("data-title=\"jazz: 0.25\""), std::string::npos) << bars;
  const std::string lines = line_chart("Loss", "epoch", "loss", {{"val", {1, 2}, {0.5, 0.25}}});
  EXPECT_NE(lines.find("data-title=\"val: epoch 2 = 0.25\""), std::string::npos) << lines;
  // The line is drawn before (under) its dots, and takes no pointer events: the pointer over a dot reaches
  // the dot.
  EXPECT_LT(lines.find("<path"), lines.find("<circle"));
  EXPECT_NE(lines.find("pointer-events=\"none\""), std::string::npos);
}

TEST(Charts, HeatmapHasOneCellPerPairOfClasses) {
  const std::vector<std::string> classes = {"a", "b", "c", "d"};
  std::vector<std::vector<double>> counts(4, std::vector<double>(4, 1.0));
  const std::string svg = heatmap("Confusion", classes, classes, counts, "truth", "predicted");
  EXPECT_EQ(testing::occurrences(svg, "<rect class=\"cell\""), 16u);
  EXPECT_EQ(testing::occurrences(svg, "data-title=\"c → b: 1 (25%)\""), 1u);
}

TEST(HtmlPage, NavigationLinksSiblingPagesAndIndexReadsThemBack) {
  HtmlPage page("Train & <test>", "3 epochs \"quoted\"");
  page.navigation({{"Index", "index.html", ""}, {"Evaluation", "eval/evaluate.html", ""}});
  const std::string html = page.html();
  EXPECT_NE(html.find("<nav class=\"pages\"><a href=\"index.html\">Index</a><a href=\"eval/evaluate.html\">"
                      "Evaluation</a></nav>"),
            std::string::npos)
      << html;
  EXPECT_LT(html.find("<nav"), html.find("<h1>"));
  EXPECT_EQ(page_title(html), "Train & <test>");
  EXPECT_EQ(page_summary(html), "3 epochs \"quoted\"");

  tunelens::testing::ScratchDir dir;
  std::filesystem::create_directories(dir / "runs");
  page.write(dir / "runs/train.html");
  const PageLink link = page_link(dir / "runs/train.html", dir.path());
  EXPECT_EQ(link.href, "runs/train.html");
  EXPECT_EQ(link.title, "Train & <test>");
  EXPECT_EQ(page_link(dir / "missing.html", dir.path()).title, "missing.html");
  write_index(dir / "index.html", "All runs", {link});
  const std::string index = tunelens::testing::read_bytes(dir / "index.html");
  EXPECT_NE(index.find("<a href=\"runs/train.html\">Train &amp; &lt;test&gt;</a>"), std::string::npos)
      << index;
  EXPECT_NE(index.find("3 epochs &quot;quoted&quot;"), std::string::npos);
}

std::vector<TrainingEpoch> epochs(int n, bool validation) {
  std::vector<TrainingEpoch> out;
  for (int e = 1; e <= n; ++e)
    out.push_back({e, 1.0 / e, 0.1 * e, validation ? 1.5 / e : NAN, validation ? 0.08 * e : NAN, 1e-3, 2.0});
  return out;
}

TEST(TrainingReport, LearningCurvesHaveOnePointPerEpochAndSeries) {
  const auto charts = learning_curve_charts(epochs(7, true));
  ASSERT_EQ(charts.size(), 2u);
  for (const auto& chart : charts) {
    EXPECT_EQ(testing::occurrences(chart, "<circle"), 14u);  // train and validation
    EXPECT_EQ(testing::occurrences(chart, "<path"), 2u);
  }
  EXPECT_NE(charts[0].find("validation loss: epoch 7 = 0.2143"), std::string::npos);
  EXPECT_NE(charts[1].find("train accuracy: epoch 3 = 0.3"), std::string::npos);
  // Without a validation part only the training series are drawn.
  for (const auto& chart : learning_curve_charts(epochs(5, false))) {
    EXPECT_EQ(testing::occurrences(chart, "<circle"), 5u);
    EXPECT_EQ(chart.find("validation"), std::string::npos);
  }
  // The standalone file: both charts, one below the other, in one SVG document.
  const std::string svg = learning_curves_svg(epochs(7, true));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(testing::occurrences(svg, "<circle"), 28u);
  EXPECT_EQ(testing::occurrences(svg, "<svg"), 3u);
  EXPECT_EQ(testing::occurrences(svg, "</svg>"), 3u);
  EXPECT_NE(svg.find("<svg x=\"0\" y=\"326\""), std::string::npos) << svg.substr(0, 600);
}

TEST(TrainingReport, PageShowsBestEpochTimesSettingsAndProvenance) {
  TrainingSummary run;
  run.model_file = "runs/genre.tlm";
  run.epochs = epochs(4, true);
  run.epochs[2].seconds = 6.0;
  run.best_epoch = 3;
  run.settings = {{"network.name", "shortchunk"}};
  run.provenance = {{"seed", "42"}};
  const std::string html = training_page(run).html();
  EXPECT_NE(html.find("<title>Training: genre.tlm</title>"), std::string::npos);
  EXPECT_NE(html.find("<td>3 (best)</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<th>time per epoch (mean)</th><td>3.0 s</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>network.name</th><td>shortchunk</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>seed</th><td>42</td>"), std::string::npos);
  EXPECT_NE(html.find("Seconds per epoch"), std::string::npos);
}

class EvaluationReport : public ::testing::Test {
 protected:
  void SetUp() override {
    // Five classes, 40 examples; every class is sometimes mistaken for the next one.
    const std::vector<std::string> classes = {"blues", "classical", "hip-hop & rap", "jazz", "rock"};
    std::vector<std::size_t> truth;
    std::vector<float> probabilities;
    for (std::size_t i = 0; i < 40; ++i) {
      const std::size_t label = i % 5, predicted = i % 4 == 0 ? (label + 1) % 5 : label;
      truth.push_back(label);
      for (std::size_t c = 0; c < 5; ++c) probabilities.push_back(c == predicted ? 0.6f : 0.1f);
    }
    evaluation.model = "m.tlm";
    evaluation.catalog = "c.db";
    evaluation.split = "default";
    evaluation.part = "test";
    evaluation.tracks = classification_report(truth, probabilities, classes);
    evaluation.windows = evaluation.tracks;
    for (std::size_t i = 0; i < evaluation.tracks.confident_mistakes.size(); ++i)
      evaluation.mistake_tracks.push_back("Song number " + std::to_string(i));
    for (std::size_t i = 0; i < evaluation.windows.confident_mistakes.size(); ++i)
      evaluation.mistake_windows.push_back(
          {"Song number " + std::to_string(i), 23.78 * static_cast<double>(i)});
  }
  EvaluationSummary evaluation;
};

TEST_F(EvaluationReport, PageHasEveryClassHeatmapsAndMistakes) {
  const std::string html = evaluation_page(evaluation).html();
  for (const auto& name : {"blues", "classical", "hip-hop &amp; rap", "jazz", "rock"})
    EXPECT_EQ(testing::occurrences(html, std::string("<tr><td>") + name + "</td>"), 4u)
        << name;                                                            // report and errors, per level
  EXPECT_EQ(testing::occurrences(html, "<rect class=\"cell\""), 2u * 25u);  // tracks and windows
  EXPECT_NE(html.find("<td>Song number 0</td>"), std::string::npos);
  EXPECT_NE(html.find("Most confident mistakes (tracks)"), std::string::npos);
  EXPECT_NE(html.find("Most confident mistakes (windows)"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>Song number 1</td><td>23.8 s</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("top-3"), std::string::npos);
  EXPECT_NE(html.find("blues 2 (100%)"), std::string::npos) << html;  // rock's errors all go to blues
  EXPECT_EQ(testing::occurrences(html, "<script"), 1u);
}

TEST_F(EvaluationReport, ChartsAreStandaloneSvgFilesPerLevel) {
  const auto charts = evaluation_charts(evaluation);
  ASSERT_EQ(charts.size(), 8u);
  for (const auto& [name, svg] : charts) {
    EXPECT_TRUE(name.starts_with("tracks-") || name.starts_with("windows-")) << name;
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << name;
  }
  EXPECT_EQ(charts[0].first, "tracks-confusion.svg");
  EXPECT_EQ(testing::occurrences(charts[0].second, "<rect class=\"cell\""), 25u);
  EXPECT_EQ(testing::occurrences(charts[1].second, "data-title="), 5u);  // F1 per class
}

}  // namespace
}  // namespace tunelens::report
