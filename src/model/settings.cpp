// The model's settings as text: names of normalisations, schedules and augmentations, and the catalog's feature
// configuration JSON (no torch here).
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/extract.h"
#include "model/model.h"
#include "tunelens_version.h"

namespace tunelens {

std::string tunelens_version() { return kVersion; }

std::string to_string(Normalisation normalisation) {
  switch (normalisation) {
    case Normalisation::MinMax: return "minmax";
    case Normalisation::Standard: return "standard";
    case Normalisation::None: return "none";
  }
  return "minmax";
}

std::optional<Normalisation> parse_normalisation(const std::string& text) {
  if (text == "minmax") return Normalisation::MinMax;
  if (text == "standard") return Normalisation::Standard;
  if (text == "none") return Normalisation::None;
  return std::nullopt;
}

std::string to_string(LearningRateSchedule schedule) {
  switch (schedule) {
    case LearningRateSchedule::Constant: return "constant";
    case LearningRateSchedule::Cosine: return "cosine";
    case LearningRateSchedule::Plateau: return "plateau";
  }
  return "constant";
}

std::optional<LearningRateSchedule> parse_learning_rate_schedule(const std::string& text) {
  if (text == "constant") return LearningRateSchedule::Constant;
  if (text == "cosine") return LearningRateSchedule::Cosine;
  if (text == "plateau") return LearningRateSchedule::Plateau;
  return std::nullopt;
}

void parse_augmentations(const std::string& list, AugmentOptions& options) {
  options.zoom = options.crop = options.masks = options.mixup = false;
  if (list.empty() || list == "none") return;
  std::stringstream words(list);
  std::string word;
  while (std::getline(words, word, ',')) {
    if (word == "zoom") options.zoom = true;
    else if (word == "crop" || word == "shift") options.crop = true;
    else if (word == "masks" || word == "specaugment") options.masks = true;
    else if (word == "mixup") options.mixup = true;
    else if (word != "none" && !word.empty())
      throw ModelError("unknown augmentation '" + word + "' (known: none, zoom, crop, masks, mixup)");
  }
}

std::string describe_augmentations(const AugmentOptions& options) {
  std::string text;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!text.empty()) text += ",";
    text += name;
  };
  add(options.zoom, "zoom");
  add(options.crop, "crop");
  add(options.masks, "masks");
  add(options.mixup, "mixup");
  return text.empty() ? "none" : text;
}

std::vector<double> window_start_seconds(const FeatureConfig& config, std::size_t windows) {
  const std::size_t hop = config.window_hop > 0 ? config.window_hop : config.window_frames;
  std::vector<double> starts(windows);
  for (std::size_t w = 0; w < windows; ++w) starts[w] = frame_start_seconds(config.settings, w * hop);
  return starts;
}

void parse_feature_parameters(const std::string& parameters_json, FeatureConfig& config) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(parameters_json);
  } catch (const nlohmann::json::exception& error) {
    throw ModelError(std::string("feature configuration is not JSON: ") + error.what());
  }
  const std::string kind = json.is_object() ? json.value("kind", std::string("mel")) : "";
  if (kind != "mel" && kind != "backbone")
    throw ModelError("feature configuration is not a mel spectrogram: " + parameters_json);
  try {
    if (kind == "backbone") {
      // A shipped network's vectors of each window of a mel configuration (train --backbone caches them): each
      // feature file is [vector size, windows], so its rows are the vector's values.
      config.settings = feature_settings_from_json(json.at("source"));
      config.settings.mel.n_mels = json.at("size").get<int>();
      config.parameters = parameters_json;
      return;
    }
    config.settings = feature_settings_from_json(json);
    config.parameters = parameters_json;
  } catch (const FeatureError& error) {
    throw ModelError(std::string("feature configuration: ") + error.what());
  } catch (const nlohmann::json::exception& error) {
    throw ModelError(std::string("feature configuration lacks a setting: ") + error.what());
  }
}

}  // namespace tunelens
