// The model file container (no torch here): sections of bytes with checksums, written atomically. The layout is
// described in model/model.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace tunelens::model {

constexpr std::uint32_t kModelFormatVersion = 1;

struct ModelFile {
  nlohmann::json metadata;
  std::string weights;      // encoded tensors (model/tensors.h)
  std::string torchscript;  // a TorchScript backbone's archive, or empty
  std::string optimizer;    // checkpoints: the optimizer's state, or empty
};

// Writes under a temporary name and renames into place: a killed run never leaves a half-written model file.
// Throws ModelError naming the file.
void write_model_file(const std::filesystem::path& path, const ModelFile& file);
// Reads and checks every section (a checksum for each, an end marker). With `metadata_only`, the large sections
// are checked but not kept. Throws ModelError naming the file.
ModelFile read_model_file(const std::filesystem::path& path, bool metadata_only = false);

// FNV-1a 64 of bytes, as 16 hex digits (the weights hash model info prints).
std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t hash = 0xcbf29ce484222325ull);
std::string hex64(std::uint64_t value);

// A shipped network (models/) as the model file it stands for: its state dict checked and loaded into the network,
// the metadata saying how to feed it (its front end, one input chunk per window, sigmoid tags). Throws ModelError
// naming the weights file.
ModelFile shipped_model_file(const ShippedNetwork& shipped);
// The features a shipped network takes (no weights read).
FeatureConfig shipped_feature_config(const ShippedNetwork& shipped);

// ModelInfo from a model file's metadata (and its weights section's hash). Throws ModelError naming the file.
ModelInfo model_info(const std::filesystem::path& path, const ModelFile& file);

// The feature configuration as metadata JSON, and back.
nlohmann::json feature_config_json(const FeatureConfig& config);
FeatureConfig feature_config_from_json(const nlohmann::json& json);
nlohmann::json network_settings_json(const NetworkSettings& settings);
NetworkSettings network_settings_from_json(const nlohmann::json& json);

}  // namespace tunelens::model
