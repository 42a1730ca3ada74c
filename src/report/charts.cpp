#include "report/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <map>

namespace tunelens::report {
namespace {

constexpr int kWidth = 720;
constexpr const char* kFont = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

std::string svg_open(int width, int height, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" "
      "role=\"img\" aria-label=\"{2}\" {3} font-size=\"12\">\n<text x=\"{4}\" y=\"20\" text-anchor=\"middle\" "
      "font-size=\"15\" font-weight=\"600\">{2}</text>\n",
      width, height, escape(title), kFont, width / 2);
}

// "Nice" tick positions covering [low, high].
std::vector<double> ticks(double low, double high, int wanted = 5) {
  if (!(high > low)) high = low + 1.0;
  const double raw = (high - low) / wanted;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) {
      step = m * magnitude;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(low / step) * step; t <= high + step * 1e-9; t += step) out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string number(double v) {
  std::string text = fmt::format("{:.4g}", v);
  return text;
}

// The end of a mark's opening tag with its hover text: data-title for the page's tooltip script, and an SVG
// <title> for the browser's own tooltip (and for an SVG file opened on its own). `text` is not yet escaped.
std::string hover(const std::string& text) {
  const std::string safe = escape(text);
  std::string out = " data-title=\"";
  out += safe;
  out += "\"><title>";
  out += safe;
  out += "</title>";
  return out;
}

// A legend of coloured squares, laid out in rows from (x, y).
std::string legend(const std::vector<std::pair<std::string, std::string>>& entries, int x, int y, int width) {
  std::string out;
  int cx = x, cy = y;
  for (const auto& [label, colour] : entries) {
    const int w = 22 + static_cast<int>(label.size()) * 7;
    if (cx + w > x + width && cx > x) {
      cx = x;
      cy += 18;
    }
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
                       cx, cy - 9, colour, cx + 14, cy, escape(label));
    cx += w;
  }
  return out;
}

int legend_rows(const std::vector<std::string>& labels, int width) {
  int rows = labels.empty() ? 0 : 1, cx = 0;
  for (const auto& label : labels) {
    const int w = 22 + static_cast<int>(label.size()) * 7;
    if (cx + w > width && cx > 0) {
      ++rows;
      cx = 0;
    }
    cx += w;
  }
  return rows;
}

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string category_colour(std::size_t i) {
  static constexpr std::array<const char*, 12> kPalette = {"#4269d0", "#efb118", "#ff725c", "#6cc5b0",
                                                           "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5",
                                                           "#9c6b4e", "#9498a0", "#1b9e77", "#d95f02"};
  return kPalette[i % kPalette.size()];
}

std::string sequential_colour(double x) {
  // Anchors of a blue → teal → green → yellow ramp, interpolated linearly.
  static constexpr std::array<std::array<double, 3>, 5> kAnchors = {
      {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  x = std::clamp(std::isfinite(x) ? x : 0.0, 0.0, 1.0) * (kAnchors.size() - 1);
  const auto i = std::min<std::size_t>(static_cast<std::size_t>(x), kAnchors.size() - 2);
  const double f = x - static_cast<double>(i);
  std::array<int, 3> c{};
  for (int k = 0; k < 3; ++k) c[k] = static_cast<int>(std::lround(kAnchors[i][k] * (1 - f) + kAnchors[i + 1][k] * f));
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

std::string line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                       const std::vector<Series>& series) {
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.name);
  const int legend_height = 18 * legend_rows(names, kWidth - 80);
  const int left = 60, right = 20, top = 44 + legend_height, bottom = 46, height = 308 + legend_height;
  const int plot_w = kWidth - left - right, plot_h = height - top - bottom;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (y0 > 0 && y0 < 0.5 * y1) y0 = 0;  // start at zero when it costs little room
  auto y_ticks = ticks(y0, y1);
  const auto x_ticks = ticks(x0, x1);
  // Widen the value axis to whole ticks on both ends, so that no point sits on the plot's edge (or under the
  // legend).
  if (y_ticks.size() >= 2) {
    const double step = y_ticks[1] - y_ticks[0];
    if (y_ticks.front() > y0) y_ticks.insert(y_ticks.begin(), y_ticks.front() - step);
    if (y_ticks.back() < y1) y_ticks.push_back(y_ticks.back() + step);
  }
  y0 = std::min(y0, y_ticks.front());
  y1 = std::max(y1, y_ticks.back());
  auto px = [&](double x) { return left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * plot_w; };
  auto py = [&](double y) { return top + plot_h - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * plot_h; };

  std::string out = svg_open(kWidth, height, title);
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t k = 0; k < series.size(); ++k) entries.emplace_back(series[k].name, category_colour(k));
  out += legend(entries, left, 50, kWidth - left - right);
  for (double t : y_ticks)
    out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e3e3e3\"/><text x=\"{}\" y=\"{:.1f}\" "
                       "text-anchor=\"end\">{}</text>\n",
                       left, left + plot_w, py(t), py(t), left - 6, py(t) + 4, number(t));
  for (double t : x_ticks)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(t), top + plot_h + 16, number(t));
  out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#666\"/>\n", left, left + plot_w, top + plot_h);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + plot_w / 2, height - 8, escape(x_label));
  out += fmt::format("<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", top + plot_h / 2,
                     escape(y_label));
  // Each series' line first, then its dots over it, so that the pointer over a dot reaches the dot (its
  // tooltip).
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string path, dots;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", px(s.x[i]), py(s.y[i]));
      dots +=
          fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"{}</circle>\n", px(s.x[i]),
                      py(s.y[i]), category_colour(k),
                      hover(fmt::format("{}: {} {} = {}", s.name, x_label, number(s.x[i]), number(s.y[i]))));
    }
    out += fmt::format(
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" pointer-events=\"none\"/>\n", path,
        category_colour(k));
    out += dots;
  }
  return out + "</svg>\n";
}

std::string heatmap(const std::string& title, const std::vector<std::string>& row_labels,
                    const std::vector<std::string>& column_labels, const std::vector<std::vector<double>>& values,
                    const std::string& row_axis, const std::string& column_axis) {
  std::size_t longest = 4;
  for (const auto& l : row_labels) longest = std::max(longest, l.size());
  for (const auto& l : column_labels) longest = std::max(longest, l.size());
  const int label_w = 16 + static_cast<int>(longest) * 7;
  const int cells = static_cast<int>(std::max(column_labels.size(), std::size_t{1}));
  const int cell = std::clamp((kWidth - label_w - 40) / cells, 18, 56);
  const int left = label_w + 24, top = 40 + label_w;
  const int width = std::max(kWidth, left + cell * cells + 20);
  const int height = top + cell * static_cast<int>(row_labels.size()) + 20;
  std::string out = svg_open(width, height, title);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\n", left + cell * cells / 2,
                     38, escape(column_axis));
  out += fmt::format("<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\n",
                     top + cell * static_cast<int>(row_labels.size()) / 2, escape(row_axis));
  for (std::size_t c = 0; c < column_labels.size(); ++c)
    out += fmt::format("<text transform=\"translate({} {}) rotate(-60)\">{}</text>\n", left + static_cast<int>(c) * cell + cell / 2 + 4,
                       top - 6, escape(column_labels[c]));
  for (std::size_t r = 0; r < row_labels.size(); ++r) {
    const int y = top + static_cast<int>(r) * cell;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 6, y + cell / 2 + 4, escape(row_labels[r]));
    double row_sum = 0.0;
    for (double v : values[r]) row_sum += v;
    for (std::size_t c = 0; c < values[r].size() && c < column_labels.size(); ++c) {
      const double share = row_sum > 0 ? values[r][c] / row_sum : 0.0;
      const int x = left + static_cast<int>(c) * cell;
      out += fmt::format(
          "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
          "stroke=\"#fff\"{}</rect>\n",
          x, y, cell, cell, share > 0 ? sequential_colour(share) : "#f4f4f4",
          hover(fmt::format("{} → {}: {} ({:.0f}%)", row_labels[r], column_labels[c], number(values[r][c]),
                            100 * share)));
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" pointer-events=\"none\">{}</text>\n",
          x + cell / 2, y + cell / 2 + 4, share > 0.55 ? "#000" : (share > 0 ? "#fff" : "#999"),
          number(values[r][c]));
    }
  }
  return out + "</svg>\n";
}

std::string bar_chart(const std::string& title, const std::vector<std::string>& labels, const std::vector<double>& values,
                      double max_value) {
  std::size_t longest = 4;
  for (const auto& l : labels) longest = std::max(longest, l.size());
  const int left = 16 + static_cast<int>(longest) * 7, right = 60, bar = 22, top = 36;
  const int height = top + bar * static_cast<int>(labels.size()) + 16;
  const double scale = (kWidth - left - right) / (max_value > 0 ? max_value : 1.0);
  std::string out = svg_open(kWidth, height, title);
  for (std::size_t i = 0; i < labels.size() && i < values.size(); ++i) {
    const int y = top + static_cast<int>(i) * bar;
    const double w = std::max(0.0, values[i]) * scale;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 6, y + 15, escape(labels[i]));
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"{}</rect>\n", left,
                       y + 3, w, bar - 6, category_colour(0),
                       hover(fmt::format("{}: {}", labels[i], number(values[i]))));
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.3f}</text>\n", left + w + 4, y + 15, values[i]);
  }
  return out + "</svg>\n";
}

std::string stacked_bars(const std::string& title, const std::vector<std::string>& bar_labels,
                         const std::vector<std::string>& segment_labels, const std::vector<std::vector<double>>& parts) {
  std::size_t longest = 4;
  for (const auto& l : bar_labels) longest = std::max(longest, l.size());
  const int legend_height = 18 * legend_rows(segment_labels, kWidth - 40);
  const int left = 16 + static_cast<int>(std::min<std::size_t>(longest, 40)) * 7, right = 20, bar = 24;
  const int top = 40 + legend_height, height = top + bar * static_cast<int>(bar_labels.size()) + 12;
  const double scale = kWidth - left - right;
  std::string out = svg_open(kWidth, height, title);
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t s = 0; s < segment_labels.size(); ++s) entries.emplace_back(segment_labels[s], category_colour(s));
  out += legend(entries, 20, 50, kWidth - 40);
  for (std::size_t b = 0; b < bar_labels.size() && b < parts.size(); ++b) {
    const int y = top + static_cast<int>(b) * bar;
    std::string label = bar_labels[b].size() > 40 ? bar_labels[b].substr(0, 39) + "…" : bar_labels[b];
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 6, y + 16, escape(label));
    double x = left;
    for (std::size_t s = 0; s < parts[b].size() && s < segment_labels.size(); ++s) {
      const double w = std::max(0.0, parts[b][s]) * scale;
      if (w <= 0) continue;
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"{}</rect>\n", x, y + 3, w,
          bar - 6, category_colour(s),
          hover(fmt::format("{}: {} {:.0f}%", bar_labels[b], segment_labels[s], 100 * parts[b][s])));
      x += w;
    }
  }
  return out + "</svg>\n";
}

std::string timeline(const std::string& title, const std::vector<double>& times_seconds,
                     const std::vector<std::string>& segment_labels, const std::vector<std::vector<double>>& shares) {
  const int legend_height = 18 * legend_rows(segment_labels, kWidth - 40);
  const int left = 50, right = 20, top = 40 + legend_height, plot_h = 140, height = top + plot_h + 40;
  const int plot_w = kWidth - left - right;
  std::string out = svg_open(kWidth, height, title);
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::size_t s = 0; s < segment_labels.size(); ++s) entries.emplace_back(segment_labels[s], category_colour(s));
  out += legend(entries, 20, 50, kWidth - 40);
  const std::size_t n = std::min(times_seconds.size(), shares.size());
  if (n > 0) {
    const double t0 = times_seconds.front(), t1 = n > 1 ? times_seconds[n - 1] : t0 + 1;
    auto px = [&](std::size_t i) { return left + (n > 1 ? (times_seconds[i] - t0) / (t1 - t0) : 0.5) * plot_w; };
    // Each window is a column split into its genres' shares, drawn as one rectangle per genre and window.
    const double column = n > 1 ? static_cast<double>(plot_w) / static_cast<double>(n - 1) : plot_w;
    for (std::size_t i = 0; i < n; ++i) {
      double y = top;
      for (std::size_t s = 0; s < shares[i].size() && s < segment_labels.size(); ++s) {
        const double h = std::max(0.0, shares[i][s]) * plot_h;
        if (h <= 0) continue;
        out += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"{}</rect>\n",
            px(i) - column / 2, y, column, h, category_colour(s),
            hover(fmt::format("{:.0f} s: {} {:.0f}%", times_seconds[i], segment_labels[s],
                              100 * shares[i][s])));
        y += h;
      }
    }
    for (double t : ticks(t0, t1))
      out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                         left + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * plot_w, top + plot_h + 16, number(t));
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time in the song (s)</text>\n", left + plot_w / 2, height - 6);
  return out + "</svg>\n";
}

std::string scatter_map(const std::string& title, const std::vector<MapPoint>& points) {
  // Groups in order, each with the colour of its place along the sequence.
  std::map<std::pair<double, std::string>, std::size_t> groups;
  for (const auto& p : points) groups.emplace(std::pair{p.order, p.group}, 0);
  std::vector<std::string> names;
  for (const auto& [key, unused] : groups) names.push_back(key.second);
  const int legend_height = 18 * legend_rows(names, kWidth - 40);
  const int size = 560, left = (kWidth - size) / 2, top = 40 + legend_height, height = top + size + 16;
  std::string out = svg_open(kWidth, height, title);
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [key, unused] : groups) entries.emplace_back(key.second, sequential_colour(key.first));
  out += legend(entries, 20, 50, kWidth - 40);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& p : points) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  const double span = std::max({x1 - x0, y1 - y0, 1e-12});
  const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ddd\"/>\n", left, top, size, size);
  out += "<g class=\"marks\">\n";
  for (const auto& p : points) {
    const double x = left + size / 2.0 + (p.x - cx) / span * (size - 24);
    const double y = top + size / 2.0 - (p.y - cy) / span * (size - 24);
    out += fmt::format(
        "<circle class=\"mark\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\" stroke=\"#333\" "
        "stroke-width=\"0.6\" "
        "fill-opacity=\"0.85\"{}</circle>\n",
        x, y, sequential_colour(p.order), hover(p.title));
  }
  return out + "</g>\n</svg>\n";
}

std::string stack_charts(const std::vector<std::string>& charts) {
  // Each chart's size is read back from its opening tag (width="..." height="..."), as svg_open writes it.
  auto attribute = [](const std::string& svg, const std::string& name) {
    std::string key = " ";
    key += name;
    key += "=\"";
    const auto at = svg.find(key);
    return at == std::string::npos ? 0 : std::atoi(svg.c_str() + at + key.size());
  };
  int width = 0, height = 0;
  std::string body;
  for (const auto& chart : charts) {
    const auto open_end = chart.find("<svg");
    if (open_end == std::string::npos) continue;
    std::string nested = chart.substr(open_end);
    nested.replace(0, 4, fmt::format("<svg x=\"0\" y=\"{}\"", height));
    body += nested;
    width = std::max(width, attribute(chart, "width"));
    height += attribute(chart, "height");
  }
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
      "viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"#fff\"/>\n",
      width, height);
  out += body;
  out += "</svg>\n";
  return out;
}

}  // namespace tunelens::report
