// The report pages of a training run (learning curves, settings, provenance) and of an evaluation
// (classification report, confusion heatmaps, per-class F1, error analysis, most confident mistakes), and
// their charts as SVG files. Built from plain data so that they need no libtorch: the commands fill these
// structures.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "eval/metrics.h"
#include "report/html.h"

namespace tunelens::report {

using Facts = std::vector<std::pair<std::string, std::string>>;

// One epoch of a training history; NaN where a value is missing (no validation part).
struct TrainingEpoch {
  int epoch = 0;
  double train_loss = 0.0, train_accuracy = 0.0;
  double val_loss = 0.0, val_accuracy = 0.0;
  double learning_rate = 0.0;
  double seconds = 0.0;
};

struct TrainingSummary {
  std::string model_file;
  std::vector<TrainingEpoch> epochs;
  int best_epoch = 0;
  bool stopped_early = false;
  std::size_t train_tracks = 0, val_tracks = 0;
  Facts settings;               // network and training options
  Facts provenance;             // catalog, split, seed, versions, ...
  std::vector<PageLink> links;  // sibling pages for the navigation bar
};

// The learning curves: loss per epoch (train and validation), then accuracy per epoch; one point per epoch
// and series with a value.
std::vector<std::string> learning_curve_charts(const std::vector<TrainingEpoch>& epochs);
// The same charts stacked as one standalone SVG document (<model>.curves.svg).
std::string learning_curves_svg(const std::vector<TrainingEpoch>& epochs);
HtmlPage training_page(const TrainingSummary& run);

// Where a window of the window-level mistakes table comes from.
struct WindowMistakePlace {
  std::string track;     // the track's name
  double start_seconds;  // where the window starts in it
};

struct EvaluationSummary {
  std::string model, catalog, split, part;
  ClassificationReport tracks;              // per track: mean softmax over its windows
  ClassificationReport windows;             // per window
  std::vector<std::string> mistake_tracks;  // name of the track of each tracks.confident_mistakes entry
  std::vector<WindowMistakePlace> mistake_windows;  // the place of each windows.confident_mistakes entry
  std::size_t failed_tracks = 0, skipped_tracks = 0;
  std::vector<PageLink> links;
};

// The evaluation's charts as (file name, SVG): per level the confusion heatmap, per-class F1, where each
// genre's errors go and which genres are taken for it.
std::vector<std::pair<std::string, std::string>> evaluation_charts(const EvaluationSummary& evaluation);
HtmlPage evaluation_page(const EvaluationSummary& evaluation);

}  // namespace tunelens::report
