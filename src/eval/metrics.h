// Metrics of a classifier on labelled examples, computed as scikit-learn does: accuracy, top-k accuracy,
// precision / recall / F1 / support per class with macro and weighted averages (classification_report), the
// confusion matrix, and the original study's error analysis.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace tunelens {

// Inconsistent inputs: sizes that do not match, a label outside the classes, no examples.
class MetricsError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct ClassScores {
  double precision = 0.0;  // of the examples predicted as this class, the share that are (0 when none predicted)
  double recall = 0.0;     // of the examples of this class, the share predicted as it (0 when none)
  double f1 = 0.0;         // harmonic mean of the two (0 when both are 0)
  std::size_t support = 0;  // examples of this class
};

// Where one class's errors go, or which classes are taken for it.
struct Confusion {
  std::size_t other = 0;  // the other class
  std::size_t count = 0;  // examples
  double share = 0.0;     // of this class's errors (or of the examples wrongly predicted as this class)
};

struct Mistake {
  std::size_t example = 0;  // index into the inputs
  std::size_t truth = 0;
  std::size_t predicted = 0;
  double confidence = 0.0;  // probability given to the wrong prediction
};

struct ClassificationReport {
  std::vector<std::string> classes;
  std::size_t examples = 0;
  double accuracy = 0.0;
  std::vector<std::pair<int, double>> top_k;    // (k, accuracy) for each k asked
  std::vector<ClassScores> per_class;           // in the order of `classes`
  ClassScores macro;                            // unweighted mean over classes (support = examples)
  ClassScores weighted;                         // mean weighted by support
  std::vector<std::vector<std::size_t>> confusion;  // [truth][predicted]
  std::vector<std::vector<Confusion>> errors_to;    // per class: where its errors go, most first
  std::vector<std::vector<Confusion>> mistaken_for; // per class: which classes are predicted as it, most first
  std::vector<Mistake> confident_mistakes;          // the most confident wrong predictions, most confident first

  // The text of sklearn.metrics.classification_report(digits=digits), then top-k lines.
  std::string text(int digits = 4) const;
  // The whole report as JSON (per class keyed by class name, as sklearn's output_dict=True, plus the rest).
  std::string json() const;
  // Per-class rows as CSV: class,precision,recall,f1,support (then the averages).
  std::string csv() const;
  // The confusion matrix as CSV with class names on both axes.
  std::string confusion_csv() const;
};

struct ReportOptions {
  std::vector<int> top_k = {3};  // top-k accuracies to report besides top-1
  std::size_t mistakes = 10;     // how many confident mistakes to keep
};

// `probabilities` holds one row of class scores per example (examples × classes, row-major); the prediction is the
// highest score (the first on ties, as numpy.argmax). Top-k breaks ties as scikit-learn's top_k_accuracy_score.
ClassificationReport classification_report(std::span<const std::size_t> truth, std::span<const float> probabilities,
                                           const std::vector<std::string>& classes, const ReportOptions& options = {});

}  // namespace tunelens
