// Report pages and charts: self-contained, escaped, one mark per point, numbers written where readers look.
#include <gtest/gtest.h>

#include "report/charts.h"
#include "report/html.h"
#include "test_support.h"

namespace tunelens::report {
namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(Charts, ScatterMapHasOneMarkPerPointWithEscapedTitles) {
  std::vector<MapPoint> points;
  for (int i = 0; i < 17; ++i) points.push_back({double(i), double(i % 5), "Song <" + std::to_string(i) + "> & co", "Album " + std::to_string(i % 3), (i % 3) / 2.0});
  const std::string svg = scatter_map("Songs", points);
  EXPECT_EQ(count(svg, "class=\"mark\""), 17u);
  EXPECT_EQ(count(svg, "data-title=\"Song &lt;3&gt; &amp; co\""), 1u);
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
  EXPECT_EQ(count(lines, "<path"), 2u);
  EXPECT_EQ(count(lines, "<circle"), 6u);
  const std::string stacked = stacked_bars("Albums", {"A", "B"}, {"rock", "pop"}, {{0.75, 0.25}, {0.1, 0.9}});
  EXPECT_NE(stacked.find("rock 75%"), std::string::npos);
  const std::string time = timeline("Song", {0, 24, 48}, {"rock", "pop"}, {{1, 0}, {0.5, 0.5}, {0, 1}});
  EXPECT_EQ(count(time, "<rect") - count(time, "width=\"10\" height=\"10\""), 4u);  // non-zero shares, legend aside
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

}  // namespace
}  // namespace tunelens::report
