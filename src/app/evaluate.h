// Use case: how well a model tells the genres of a catalog split's tracks (tunelens evaluate). Each track is
// scored by its prediction (the mean over its windows) and each window by its own, against the catalog's
// labels, with the error analysis and the most confident mistakes. A tag model is read zero-shot: each label
// from the tag of the same name. A cross-validation pools the same part of every fold's split, each fold with
// its own model.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "store/catalog.h"

namespace tunelens::app {

struct EvaluateRequest {
  std::string catalog;
  std::vector<std::string> models;  // model files or shipped networks: one, or one per split (in order)
  std::vector<std::string> splits = {"default"};
  std::string part = "test";  // train, val or test
  int top_k = 3;              // top-k accuracy too
  int threads = 0;            // 0: all cores
};

// Where a window of the evaluation comes from.
struct WindowOrigin {
  std::size_t track = 0;  // index in EvaluateResult::tracks
  double start_seconds = 0.0;
};

struct EvaluateResult {
  EvaluateRequest request;
  std::string model, split;  // the request's names joined with ',', as they are shown
  // The labels scored: the model's classes, or for a tag model (zero_shot) the catalog's labels.
  std::vector<std::string> classes;
  bool zero_shot = false;
  std::vector<std::optional<std::string>> label_tags;  // zero-shot: the tag each label is read from, if any
  std::map<std::string, std::size_t> skipped_labels;   // tracks left out, by a label the model has not
  std::vector<Track> tracks;          // those evaluated, in the order of the report's examples
  std::vector<WindowOrigin> origins;  // of each window, in the order of the window report's examples
  ClassificationReport report;        // per track
  ClassificationReport windows;       // per window
  std::size_t recomputed = 0;         // tracks whose features were computed from their audio
  std::vector<std::string> failures;  // tracks that could not be evaluated: "track 3 (a.wav): <reason>"

  std::size_t skipped() const;  // tracks left out for their label
};

// Evaluates the request's model(s) on the part of the split(s). `on_failure` hears of each track that cannot
// be evaluated as it happens (the others go on). Throws BadRequest ("part", "top_k", "model"), CatalogError
// (no such catalog or split), ModelError (a model that cannot be loaded, folds of other classes) and
// std::runtime_error when no track at all could be evaluated.
EvaluateResult evaluate_model(const EvaluateRequest& request,
                              const std::function<void(const std::string&)>& on_failure = {});

}  // namespace tunelens::app
