#include "report/run_pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "report/charts.h"

namespace tunelens::report {
namespace {

std::string decimal(double value, int digits = 4) {
  return std::isfinite(value) ? fmt::format("{:.{}f}", value, digits) : std::string("n/a");
}

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// A series of one value per epoch; empty when no epoch has a value (e.g. no validation part).
Series epoch_series(const std::string& name, const std::vector<TrainingEpoch>& epochs,
                    double TrainingEpoch::*member) {
  Series series{name, {}, {}};
  bool any = false;
  for (const auto& e : epochs) {
    series.x.push_back(e.epoch);
    series.y.push_back(e.*member);
    any = any || std::isfinite(e.*member);
  }
  if (!any) series.x.clear(), series.y.clear();
  return series;
}

std::vector<Series> present(std::vector<Series> series) {
  std::erase_if(series, [](const Series& s) { return s.x.empty(); });
  return series;
}

// The charts of one level of an evaluation (tracks or windows).
struct LevelCharts {
  std::string confusion, f1, errors_to, mistaken_for;
};

// parts[class][other]: the shares of a class's errors (or of the examples wrongly taken for it) by the other
// class.
std::vector<std::vector<double>> confusion_shares(const std::vector<std::vector<Confusion>>& lists,
                                                  std::size_t classes) {
  std::vector<std::vector<double>> parts(lists.size(), std::vector<double>(classes, 0.0));
  for (std::size_t c = 0; c < lists.size(); ++c)
    for (const Confusion& e : lists[c])
      if (e.other < classes) parts[c][e.other] = e.share;
  return parts;
}

LevelCharts level_charts(const ClassificationReport& report, const std::string& level) {
  const auto& classes = report.classes;
  std::vector<std::vector<double>> counts;
  for (const auto& row : report.confusion) counts.emplace_back(row.begin(), row.end());
  std::vector<double> f1;
  for (const auto& scores : report.per_class) f1.push_back(scores.f1);
  LevelCharts charts;
  charts.confusion = heatmap(fmt::format("Confusion matrix, {}", level), classes, classes, counts,
                             "true genre", "predicted genre");
  charts.f1 = bar_chart(fmt::format("F1 per genre, {}", level), classes, f1);
  charts.errors_to = stacked_bars(fmt::format("Where each genre's errors go, {}", level), classes, classes,
                                  confusion_shares(report.errors_to, classes.size()));
  charts.mistaken_for = stacked_bars(fmt::format("Which genres are taken for each genre, {}", level), classes,
                                     classes, confusion_shares(report.mistaken_for, classes.size()));
  return charts;
}

std::string confusion_list(const std::vector<Confusion>& list, const std::vector<std::string>& classes) {
  std::string text;
  for (const Confusion& e : list) {
    if (!text.empty()) text += ", ";
    text += fmt::format("{} {} ({:.0f}%)", classes.at(e.other), e.count, 100.0 * e.share);
  }
  return text.empty() ? std::string("none") : text;
}

std::string top_k_text(const ClassificationReport& report) {
  std::string text;
  for (const auto& [k, accuracy] : report.top_k) text += fmt::format(", top-{} {}", k, decimal(accuracy));
  return text;
}

// The classification report, its charts and its error analysis, for one level.
void add_level(HtmlPage& page, const ClassificationReport& report, const std::string& level) {
  const auto& classes = report.classes;
  page.heading(fmt::format("Classification report, {}", level));
  page.paragraph(fmt::format("{} examples: accuracy (top-1) {}{}.", report.examples, decimal(report.accuracy),
                             top_k_text(report)));
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const std::string& name, const ClassScores& s) {
    rows.push_back({name, decimal(s.precision), decimal(s.recall), decimal(s.f1), std::to_string(s.support)});
  };
  for (std::size_t c = 0; c < classes.size(); ++c) row(classes[c], report.per_class[c]);
  row("macro avg", report.macro);
  row("weighted avg", report.weighted);
  page.table({"genre", "precision", "recall", "F1", "support"}, rows);

  const LevelCharts charts = level_charts(report, level);
  page.figure(charts.confusion,
              "Rows: the true genre; columns: the predicted one; colour: the share of the row.");
  page.figure(charts.f1);

  page.heading(fmt::format("Error analysis, {}", level));
  std::vector<std::vector<std::string>> errors;
  for (std::size_t c = 0; c < classes.size(); ++c)
    errors.push_back({classes[c], confusion_list(report.errors_to[c], classes),
                      confusion_list(report.mistaken_for[c], classes)});
  page.table({"genre", "its errors go to", "taken for it"}, errors);
  page.figure(charts.errors_to,
              "Each bar: one genre's misclassified examples, by the genre predicted for them.");
  page.figure(charts.mistaken_for,
              "Each bar: the examples wrongly predicted as a genre, by their true genre.");
}

}  // namespace

std::vector<std::string> learning_curve_charts(const std::vector<TrainingEpoch>& epochs) {
  return {line_chart("Loss per epoch", "epoch", "loss",
                     present({epoch_series("train loss", epochs, &TrainingEpoch::train_loss),
                              epoch_series("validation loss", epochs, &TrainingEpoch::val_loss)})),
          line_chart("Accuracy per epoch", "epoch", "accuracy",
                     present({epoch_series("train accuracy", epochs, &TrainingEpoch::train_accuracy),
                              epoch_series("validation accuracy", epochs, &TrainingEpoch::val_accuracy)}))};
}

std::string learning_curves_svg(const std::vector<TrainingEpoch>& epochs) {
  return stack_charts(learning_curve_charts(epochs));
}

HtmlPage training_page(const TrainingSummary& run) {
  const TrainingEpoch* best = nullptr;
  double total_seconds = 0.0;
  for (const auto& e : run.epochs) {
    if (e.epoch == run.best_epoch) best = &e;
    total_seconds += e.seconds;
  }
  std::string subtitle =
      fmt::format("{} epochs{} on {} training and {} validation tracks", run.epochs.size(),
                  run.stopped_early ? " (stopped early)" : "", run.train_tracks, run.val_tracks);
  if (best)
    subtitle += fmt::format("; best epoch {}: validation loss {}, accuracy {}", best->epoch,
                            decimal(best->val_loss), decimal(best->val_accuracy, 3));
  HtmlPage page(fmt::format("Training: {}", file_name(run.model_file)), subtitle);
  page.navigation(run.links);

  Facts summary = {{"model file", run.model_file},
                   {"best epoch (kept in the model file)", std::to_string(run.best_epoch)},
                   {"epochs run", std::to_string(run.epochs.size())},
                   {"stopped early", run.stopped_early ? "yes" : "no"},
                   {"training time", fmt::format("{:.1f} s", total_seconds)}};
  if (!run.epochs.empty())
    summary.emplace_back("time per epoch (mean)",
                         fmt::format("{:.1f} s", total_seconds / static_cast<double>(run.epochs.size())));
  page.facts(summary);

  page.heading("Learning curves");
  const auto charts = learning_curve_charts(run.epochs);
  page.figure(charts[0], "Training loss is over the epoch's (augmented) windows; validation loss per track.");
  page.figure(charts[1]);

  page.heading("Epochs");
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> labels;
  std::vector<double> seconds;
  for (const auto& e : run.epochs) {
    rows.push_back({std::to_string(e.epoch) + (e.epoch == run.best_epoch ? " (best)" : ""),
                    decimal(e.train_loss), decimal(e.train_accuracy, 3), decimal(e.val_loss),
                    decimal(e.val_accuracy, 3), fmt::format("{:.3g}", e.learning_rate),
                    fmt::format("{:.1f}", e.seconds)});
    labels.push_back(fmt::format("epoch {}", e.epoch));
    seconds.push_back(e.seconds);
  }
  page.table({"epoch", "train loss", "train acc", "val loss", "val acc", "learning rate", "seconds"}, rows);
  const double slowest = seconds.empty() ? 1.0 : *std::max_element(seconds.begin(), seconds.end());
  page.figure(bar_chart("Seconds per epoch", labels, seconds, slowest > 0 ? slowest : 1.0));

  page.heading("Settings");
  page.facts(run.settings);
  page.heading("Provenance");
  page.facts(run.provenance);
  return page;
}

std::vector<std::pair<std::string, std::string>> evaluation_charts(const EvaluationSummary& evaluation) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [report, level] :
       {std::pair{&evaluation.tracks, "tracks"}, std::pair{&evaluation.windows, "windows"}}) {
    const LevelCharts charts = level_charts(*report, level);
    const std::string prefix = level;
    files.emplace_back(prefix + "-confusion.svg", charts.confusion);
    files.emplace_back(prefix + "-f1.svg", charts.f1);
    files.emplace_back(prefix + "-errors-to.svg", charts.errors_to);
    files.emplace_back(prefix + "-mistaken-for.svg", charts.mistaken_for);
  }
  return files;
}

HtmlPage evaluation_page(const EvaluationSummary& evaluation) {
  const ClassificationReport& tracks = evaluation.tracks;
  HtmlPage page(
      fmt::format("Evaluation: {} on {}", file_name(evaluation.model), file_name(evaluation.catalog)),
      fmt::format("split '{}' ({}): {} tracks, {} windows; track accuracy {}{}", evaluation.split,
                  evaluation.part, tracks.examples, evaluation.windows.examples, decimal(tracks.accuracy),
                  top_k_text(tracks)));
  page.navigation(evaluation.links);
  page.facts(
      {{"model", evaluation.model},
       {"catalog", evaluation.catalog},
       {"split (part)", fmt::format("{} ({})", evaluation.split, evaluation.part)},
       {"tracks evaluated", std::to_string(tracks.examples)},
       {"windows evaluated", std::to_string(evaluation.windows.examples)},
       {"tracks that failed", std::to_string(evaluation.failed_tracks)},
       {"tracks skipped (label not among the model's classes)", std::to_string(evaluation.skipped_tracks)}});

  std::vector<std::vector<std::string>> levels;
  for (const auto& [report, name] :
       {std::pair{&tracks, "tracks (mean over windows)"}, std::pair{&evaluation.windows, "windows"}}) {
    std::vector<std::string> row = {name, std::to_string(report->examples), decimal(report->accuracy)};
    for (const auto& entry : report->top_k) row.push_back(decimal(entry.second));
    levels.push_back(row);
  }
  std::vector<std::string> headers = {"level", "examples", "top-1"};
  for (const auto& entry : tracks.top_k) headers.push_back(fmt::format("top-{}", entry.first));
  page.table(headers, levels);

  add_level(page, tracks, "tracks");
  page.heading("Most confident mistakes (tracks)");
  std::vector<std::vector<std::string>> mistakes;
  for (std::size_t i = 0; i < tracks.confident_mistakes.size(); ++i) {
    const Mistake& m = tracks.confident_mistakes[i];
    mistakes.push_back(
        {i < evaluation.mistake_tracks.size() ? evaluation.mistake_tracks[i] : std::to_string(m.example),
         tracks.classes.at(m.truth), tracks.classes.at(m.predicted), decimal(m.confidence)});
  }
  if (mistakes.empty())
    page.paragraph("No mistakes.");
  else
    page.table({"track", "true genre", "predicted", "probability given"}, mistakes);
  add_level(page, evaluation.windows, "windows");
  page.heading("Most confident mistakes (windows)");
  std::vector<std::vector<std::string>> window_mistakes;
  for (std::size_t i = 0; i < evaluation.windows.confident_mistakes.size(); ++i) {
    const Mistake& m = evaluation.windows.confident_mistakes[i];
    const bool placed = i < evaluation.mistake_windows.size();
    window_mistakes.push_back(
        {placed ? evaluation.mistake_windows[i].track : std::to_string(m.example),
         placed ? fmt::format("{:.1f} s", evaluation.mistake_windows[i].start_seconds) : "",
         evaluation.windows.classes.at(m.truth), evaluation.windows.classes.at(m.predicted),
         decimal(m.confidence)});
  }
  if (window_mistakes.empty())
    page.paragraph("No mistakes.");
  else
    page.table({"track", "window from", "true genre", "predicted", "probability given"}, window_mistakes);
  return page;
}

}  // namespace tunelens::report
