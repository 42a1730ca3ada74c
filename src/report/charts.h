// Charts as SVG text, for the self-contained HTML reports: no scripts or fonts from outside, readable on a
// laptop screen and in print. Every function returns one <svg> element. Every mark with a value (point, bar,
// cell) carries its text in a data-title attribute, which the page's tooltip shows on hover, and in an SVG
// <title>.
#pragma once

#include <string>
#include <vector>

namespace tunelens::report {

// Text made safe for HTML and SVG (& < > " ').
std::string escape(const std::string& text);

// The i-th colour of a categorical palette (distinct hues, repeats after 12), as "#rrggbb".
std::string category_colour(std::size_t i);
// A sequential colour for x in [0, 1] (dark blue through teal to yellow), e.g. along an album release order.
std::string sequential_colour(double x);

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

// Lines with dots, shared axes, a legend: learning curves (loss and accuracy per epoch).
std::string line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                       const std::vector<Series>& series);

// A matrix of counts as coloured cells with the counts written in; rows normalised for the colour (so each row reads
// as "where this class went"). Confusion matrices: rows are the truth, columns the prediction.
std::string heatmap(const std::string& title, const std::vector<std::string>& row_labels,
                    const std::vector<std::string>& column_labels, const std::vector<std::vector<double>>& values,
                    const std::string& row_axis, const std::string& column_axis);

// Horizontal bars with their values written at the end, e.g. F1 per class; values in [0, max_value].
std::string bar_chart(const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<double>& values, double max_value = 1.0);

// Bars divided into coloured parts that sum to (at most) 1, e.g. an album's genre profile. parts[bar][segment].
std::string stacked_bars(const std::string& title, const std::vector<std::string>& bar_labels,
                         const std::vector<std::string>& segment_labels,
                         const std::vector<std::vector<double>>& parts);

// One song's genre probabilities through time: a stacked area, one colour per genre. shares[window][genre].
std::string timeline(const std::string& title, const std::vector<double>& times_seconds,
                     const std::vector<std::string>& segment_labels, const std::vector<std::vector<double>>& shares);

struct MapPoint {
  double x = 0.0;
  double y = 0.0;
  std::string title;   // shown on hover: e.g. "Song — Album (1971)"
  std::string group;   // legend entry: e.g. the album
  double order = 0.0;  // position of the group along a sequence in [0, 1] (release order), for its colour
};

// A scatter map (e.g. t-SNE of all songs): one circle per point, coloured by group along `order`, with the title on
// hover (an SVG <title>, and data-title for the page's own tooltip). The legend lists groups in order.
std::string scatter_map(const std::string& title, const std::vector<MapPoint>& points);

// Several charts one above the other as one standalone SVG document (e.g. a file of learning curves), each
// chart nested at its own height as it was drawn.
std::string stack_charts(const std::vector<std::string>& charts);

}  // namespace tunelens::report
