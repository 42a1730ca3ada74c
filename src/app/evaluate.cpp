#include "app/evaluate.h"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "app/errors.h"
#include "app/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"

namespace tunelens::app {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += ',';
    text += name;
  }
  return text;
}

// A tag model read as a genre classifier with no training (zero-shot): each catalog label takes the
// probability of the tag of the same name (case, spaces, '-' and a "genre---" prefix aside: "Hip-Hop" is
// hiphop); labels without such a tag get 0. `tag_of[label]` is that tag's index, or none.
std::string tag_key(std::string name) {
  if (const auto cut = name.rfind("---"); cut != std::string::npos) name = name.substr(cut + 3);
  std::string key;
  for (const char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::vector<std::optional<std::size_t>> tags_by_name(const ModelInfo& info,
                                                     const std::vector<std::string>& labels) {
  std::vector<std::optional<std::size_t>> tag_of(labels.size());
  for (std::size_t l = 0; l < labels.size(); ++l)
    for (std::size_t t = 0; t < info.classes.size(); ++t)
      if ((info.tag_categories.empty() || info.tag_categories[t] == "genre") &&
          tag_key(info.classes[t]) == tag_key(labels[l]))
        tag_of[l] = t;
  return tag_of;
}

// The probabilities of the catalog's labels from a tag model's tag probabilities (per track or per window).
std::vector<float> label_probabilities(const std::vector<float>& tags, std::size_t tag_count,
                                       const std::vector<std::optional<std::size_t>>& tag_of) {
  const std::size_t rows = tags.size() / tag_count;
  std::vector<float> out(rows * tag_of.size(), 0.0f);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t l = 0; l < tag_of.size(); ++l)
      if (tag_of[l]) out[r * tag_of.size() + l] = tags[r * tag_count + *tag_of[l]];
  return out;
}

// One (model, split) pair of the request: a cross-validation pools every fold's part into one report.
struct Fold {
  std::string model, split;
  std::vector<Track> tracks;
};

// What the tracks and windows add up to, for the two reports.
struct Scores {
  std::vector<std::size_t> truth, window_truth;
  std::vector<float> probabilities, window_probabilities;
};

}  // namespace

std::size_t EvaluateResult::skipped() const {
  std::size_t tracks = 0;
  for (const auto& [label, count] : skipped_labels) tracks += count;
  return tracks;
}

EvaluateResult evaluate_model(const EvaluateRequest& request,
                              const std::function<void(const std::string&)>& on_failure) {
  const auto part = parse_split_part(request.part);
  if (!part) throw BadRequest("part", "must be train, val or test");
  if (request.top_k < 1) throw BadRequest("top_k", "must be at least 1");
  if (request.models.empty() ||
      (request.models.size() != 1 && request.models.size() != request.splits.size()))
    throw BadRequest("model", "give one model, or one per split (in the same order)");
  if (!catalog_exists(request.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, request.catalog, "no such catalog");
  const Catalog catalog = Catalog::open(request.catalog);
  for (const std::string& split : request.splits)
    if (!catalog.split(split))
      throw CatalogError(CatalogErrorKind::Invalid, request.catalog,
                         fmt::format("no split named '{}'", split));

  EvaluateResult result;
  result.request = request;
  result.model = joined(request.models);
  result.split = joined(request.splits);
  std::vector<Fold> folds;
  for (std::size_t s = 0; s < request.splits.size(); ++s)
    folds.push_back(
        {request.models.size() == 1 ? request.models[0] : request.models[s], request.splits[s], {}});

  ModelLoadOptions load;
  load.threads = request.threads;
  const Model first = Model::load(folds.front().model, load);
  // The labels scored: the model's classes, or for a tag model the catalog's labels (zero-shot, by tag name).
  result.zero_shot = first.info().multi_label;
  result.classes = first.classes();
  if (result.zero_shot) {
    std::set<std::string> labels;
    for (const Track& track : catalog.tracks())
      if (track.label) labels.insert(*track.label);
    result.classes.assign(labels.begin(), labels.end());
  }
  std::map<std::string, std::size_t> class_index;
  for (std::size_t c = 0; c < result.classes.size(); ++c) class_index[result.classes[c]] = c;
  const auto tag_of = result.zero_shot ? tags_by_name(first.info(), result.classes)
                                       : std::vector<std::optional<std::size_t>>{};
  for (const std::optional<std::size_t>& tag : tag_of)
    result.label_tags.push_back(tag ? std::optional(first.classes()[*tag]) : std::nullopt);

  for (Fold& fold : folds) {
    TrackQuery query;
    query.split_name = fold.split;
    query.split_part = *part;
    query.labelled_only = true;
    for (Track& track : catalog.tracks(query)) {
      if (class_index.count(*track.label) == 0)
        ++result.skipped_labels[*track.label];
      else
        fold.tracks.push_back(std::move(track));
    }
  }

  Scores scores;
  for (const Fold& fold : folds) {
    // The first model is loaded already; a single model serves every split without loading it again.
    std::optional<Model> other;
    if (fold.model != folds.front().model) other.emplace(Model::load(fold.model, load));
    const Model& model = other ? *other : first;
    if (!result.zero_shot && model.classes() != result.classes)
      throw ModelError(fmt::format("{}: other classes than {}: a pooled evaluation needs the same classes",
                                   fold.model, folds.front().model));
    const FeatureConfig& config = model.features();
    const MelSpectrogram mel(config.settings.mel);
    for (const Track& track : fold.tracks) {
      try {
        bool recomputed = false;
        const Spectrogram features = catalog_track_features(catalog, track, config, mel, &recomputed);
        const WindowPredictions predictions = model.predict(features);
        if (predictions.windows == 0) throw ModelError("no windows");
        std::vector<float> mean = predictions.mean_probabilities();
        std::vector<float> per_window = predictions.probabilities;
        if (result.zero_shot) {
          mean = label_probabilities(mean, predictions.classes, tag_of);
          per_window = label_probabilities(per_window, predictions.classes, tag_of);
        }
        const std::size_t label = class_index.at(*track.label);
        scores.truth.push_back(label);
        scores.probabilities.insert(scores.probabilities.end(), mean.begin(), mean.end());
        scores.window_probabilities.insert(scores.window_probabilities.end(), per_window.begin(),
                                           per_window.end());
        scores.window_truth.insert(scores.window_truth.end(), predictions.windows, label);
        for (const double start : window_start_seconds(config, predictions.windows))
          result.origins.push_back({result.tracks.size(), start});
        result.tracks.push_back(track);
        result.recomputed += recomputed ? 1 : 0;
      } catch (const std::exception& error) {
        result.failures.push_back(fmt::format("track {} ({}): {}", track.id, track.path, error.what()));
        if (on_failure) on_failure(result.failures.back());
      }
    }
  }
  if (result.tracks.empty())
    throw std::runtime_error(
        fmt::format("no track of split '{}' part {} could be evaluated", result.split, request.part));

  ReportOptions options;
  options.top_k = {request.top_k};
  options.mistakes = 10;
  result.report = classification_report(scores.truth, scores.probabilities, result.classes, options);
  result.windows =
      classification_report(scores.window_truth, scores.window_probabilities, result.classes, options);
  return result;
}

}  // namespace tunelens::app
