#include "eval/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "data/csv.h"
#include "store/json_text.h"

namespace tunelens {
namespace {

ClassScores scores_from_counts(std::size_t true_positive, std::size_t predicted, std::size_t support) {
  ClassScores s;
  s.support = support;
  // scikit-learn's zero_division default: a ratio with a zero denominator counts as 0.
  s.precision = predicted ? static_cast<double>(true_positive) / static_cast<double>(predicted) : 0.0;
  s.recall = support ? static_cast<double>(true_positive) / static_cast<double>(support) : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

// Sorted by count (most first), then by class index.
std::vector<Confusion> ranked(std::vector<Confusion> list) {
  std::stable_sort(list.begin(), list.end(),
                   [](const Confusion& a, const Confusion& b) { return a.count > b.count; });
  return list;
}

}  // namespace

ClassificationReport classification_report(std::span<const std::size_t> truth,
                                           std::span<const float> probabilities,
                                           const std::vector<std::string>& classes,
                                           const ReportOptions& options) {
  const std::size_t n = truth.size(), c = classes.size();
  if (c == 0) throw MetricsError("no classes");
  if (n == 0) throw MetricsError("no examples to evaluate");
  if (probabilities.size() != n * c)
    throw MetricsError(fmt::format("{} scores for {} examples of {} classes", probabilities.size(), n, c));

  ClassificationReport report;
  report.classes = classes;
  report.examples = n;
  report.confusion.assign(c, std::vector<std::size_t>(c, 0));
  std::vector<std::size_t> order(c);
  std::vector<std::size_t> top_hits(options.top_k.size(), 0);
  std::vector<Mistake> mistakes;
  for (std::size_t i = 0; i < n; ++i) {
    if (truth[i] >= c)
      throw MetricsError(fmt::format("example {} has label {} but there are {} classes", i, truth[i], c));
    const float* row = probabilities.data() + i * c;
    const auto predicted = static_cast<std::size_t>(std::max_element(row, row + c) - row);  // first maximum
    ++report.confusion[truth[i]][predicted];
    if (predicted != truth[i]) mistakes.push_back({i, truth[i], predicted, row[predicted]});
    // scikit-learn ranks with a stable ascending argsort reversed: the higher score first, the higher index
    // on ties.
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return row[a] != row[b] ? row[a] > row[b] : a > b; });
    for (std::size_t k = 0; k < options.top_k.size(); ++k) {
      const auto depth = std::min<std::size_t>(c, static_cast<std::size_t>(std::max(options.top_k[k], 0)));
      if (std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(depth), truth[i]) !=
          order.begin() + static_cast<std::ptrdiff_t>(depth))
        ++top_hits[k];
    }
  }

  std::size_t correct = 0;
  for (std::size_t k = 0; k < c; ++k) correct += report.confusion[k][k];
  report.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  for (std::size_t k = 0; k < options.top_k.size(); ++k)
    report.top_k.emplace_back(options.top_k[k], static_cast<double>(top_hits[k]) / static_cast<double>(n));

  report.errors_to.resize(c);
  report.mistaken_for.resize(c);
  for (std::size_t k = 0; k < c; ++k) {
    std::size_t support = 0, predicted = 0;
    for (std::size_t j = 0; j < c; ++j) {
      support += report.confusion[k][j];
      predicted += report.confusion[j][k];
    }
    report.per_class.push_back(scores_from_counts(report.confusion[k][k], predicted, support));
    const std::size_t missed = support - report.confusion[k][k],
                      false_alarms = predicted - report.confusion[k][k];
    for (std::size_t j = 0; j < c; ++j) {
      if (j == k) continue;
      if (report.confusion[k][j])
        report.errors_to[k].push_back(
            {j, report.confusion[k][j], static_cast<double>(report.confusion[k][j]) / missed});
      if (report.confusion[j][k])
        report.mistaken_for[k].push_back(
            {j, report.confusion[j][k], static_cast<double>(report.confusion[j][k]) / false_alarms});
    }
    report.errors_to[k] = ranked(std::move(report.errors_to[k]));
    report.mistaken_for[k] = ranked(std::move(report.mistaken_for[k]));
  }

  report.macro.support = report.weighted.support = n;
  for (const auto& s : report.per_class) {
    const double w = static_cast<double>(s.support) / static_cast<double>(n);
    report.macro.precision += s.precision / static_cast<double>(c);
    report.macro.recall += s.recall / static_cast<double>(c);
    report.macro.f1 += s.f1 / static_cast<double>(c);
    report.weighted.precision += s.precision * w;
    report.weighted.recall += s.recall * w;
    report.weighted.f1 += s.f1 * w;
  }

  std::stable_sort(mistakes.begin(), mistakes.end(),
                   [](const Mistake& a, const Mistake& b) { return a.confidence > b.confidence; });
  if (mistakes.size() > options.mistakes) mistakes.resize(options.mistakes);
  report.confident_mistakes = std::move(mistakes);
  return report;
}

// The layout of sklearn.metrics.classification_report.
std::string ClassificationReport::text(int digits) const {
  std::size_t width = std::string("weighted avg").size();
  for (const auto& name : classes) width = std::max(width, name.size());
  width = std::max(width, static_cast<std::size_t>(digits));
  std::string out = fmt::format("{:>{}} ", "", width);
  for (const char* header : {"precision", "recall", "f1-score", "support"})
    out += fmt::format(" {:>9}", header);
  out += "\n\n";
  auto row = [&](const std::string& name, const ClassScores& s) {
    return fmt::format("{:>{}}  {:>9.{}f} {:>9.{}f} {:>9.{}f} {:>9}\n", name, width, s.precision, digits,
                       s.recall, digits, s.f1, digits, s.support);
  };
  for (std::size_t k = 0; k < classes.size(); ++k) out += row(classes[k], per_class[k]);
  out += "\n";
  out += fmt::format("{:>{}}  {:>9} {:>9} {:>9.{}f} {:>9}\n", "accuracy", width, "", "", accuracy, digits,
                     examples);
  out += row("macro avg", macro);
  out += row("weighted avg", weighted);
  for (const auto& [k, value] : top_k)
    out += fmt::format("{:>{}}  {:>9} {:>9} {:>9.{}f} {:>9}\n", fmt::format("top-{} acc", k), width, "", "",
                       value, digits, examples);
  return out;
}

std::string ClassificationReport::json() const {
  auto scores = [](const ClassScores& s) {
    return nlohmann::json{
        {"precision", s.precision}, {"recall", s.recall}, {"f1-score", s.f1}, {"support", s.support}};
  };
  nlohmann::json report_json = nlohmann::json::object();
  for (std::size_t k = 0; k < classes.size(); ++k) report_json[classes[k]] = scores(per_class[k]);
  report_json["accuracy"] = accuracy;
  report_json["macro avg"] = scores(macro);
  report_json["weighted avg"] = scores(weighted);
  nlohmann::json top = nlohmann::json::object();
  for (const auto& [k, value] : top_k) top[std::to_string(k)] = value;
  auto confusions = [&](const std::vector<std::vector<Confusion>>& lists) {
    nlohmann::json out = nlohmann::json::object();
    for (std::size_t k = 0; k < classes.size(); ++k) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : lists[k])
        list.push_back({{"class", classes[e.other]}, {"count", e.count}, {"share", e.share}});
      out[classes[k]] = list;
    }
    return out;
  };
  nlohmann::json mistakes = nlohmann::json::array();
  for (const auto& m : confident_mistakes)
    mistakes.push_back({{"example", m.example},
                        {"truth", classes[m.truth]},
                        {"predicted", classes[m.predicted]},
                        {"confidence", m.confidence}});
  return json_text(nlohmann::json{{"classes", classes},
                                  {"examples", examples},
                                  {"accuracy", accuracy},
                                  {"top_k_accuracy", top},
                                  {"report", report_json},
                                  {"confusion_matrix", confusion},
                                  {"errors_to", confusions(errors_to)},
                                  {"mistaken_for", confusions(mistaken_for)},
                                  {"confident_mistakes", mistakes}},
                   2);
}

std::string ClassificationReport::csv() const {
  std::string out = "class,precision,recall,f1,support\n";
  auto row = [&](const std::string& name, const ClassScores& s) {
    return fmt::format("{},{:.6f},{:.6f},{:.6f},{}\n", csv_field(name), s.precision, s.recall, s.f1,
                       s.support);
  };
  for (std::size_t k = 0; k < classes.size(); ++k) out += row(classes[k], per_class[k]);
  out += row("macro avg", macro);
  out += row("weighted avg", weighted);
  return out;
}

std::string ClassificationReport::confusion_csv() const {
  std::string out = "truth\\predicted";
  for (const auto& name : classes) {
    out += ',';
    out += csv_field(name);
  }
  out += "\n";
  for (std::size_t k = 0; k < classes.size(); ++k) {
    out += csv_field(classes[k]);
    for (std::size_t count : confusion[k]) {
      out += ',';
      out += std::to_string(count);
    }
    out += "\n";
  }
  return out;
}

}  // namespace tunelens
