// The shipped pretrained networks: where they are and what models/networks.json says of each (no torch here;
// the weights are read by model/pretrained.cpp).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/extract.h"
#include "model/model.h"

#ifndef TUNELENS_SOURCE_MODELS
#define TUNELENS_SOURCE_MODELS ""
#endif

namespace fs = std::filesystem;

namespace tunelens {
namespace {

constexpr const char* kManifest = "networks.json";

fs::path program_folder() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw ModelError(file.string() + ": cannot read the tag list");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

fs::path shipped_networks_folder() {
  std::error_code ec;
  if (const char* folder = std::getenv("TUNELENS_MODELS"); folder != nullptr && *folder != '\0')
    return folder;
  const fs::path source = TUNELENS_SOURCE_MODELS;
  if (!source.empty() && fs::exists(source / kManifest, ec)) return source;
  return program_folder() / ".." / "share" / "tunelens" / "models";
}

std::vector<ShippedNetwork> shipped_networks() {
  const fs::path folder = shipped_networks_folder();
  const fs::path manifest = folder / kManifest;
  std::ifstream in(manifest);
  if (!in)
    throw ModelError(manifest.string() +
                     ": cannot read the shipped networks' manifest (set TUNELENS_MODELS to the "
                     "folder that holds networks.json)");
  std::vector<ShippedNetwork> networks;
  try {
    const nlohmann::json json = nlohmann::json::parse(in);
    const FeatureSettings front_end = feature_settings_from_json(json.at("front_end"));
    for (const auto& [name, entry] : json.at("networks").items()) {
      ShippedNetwork network;
      network.name = name;
      network.architecture = entry.at("architecture").get<std::string>();
      network.collection = entry.at("collection").get<std::string>();
      network.weights = folder / entry.at("file").get<std::string>();
      const std::string tags = entry.at("tags").get<std::string>();
      network.tags = read_lines(folder / tags);
      network.tag_categories = json.at("tag_categories").at(tags).get<std::vector<std::string>>();
      if (network.tag_categories.size() != network.tags.size())
        throw ModelError(manifest.string() + ": " + tags + " has " + std::to_string(network.tags.size()) +
                         " tags and " + std::to_string(network.tag_categories.size()) + " categories");
      network.input_samples = entry.at("input_samples").get<std::size_t>();
      network.front_end = front_end;
      networks.push_back(std::move(network));
    }
  } catch (const nlohmann::json::exception& error) {
    throw ModelError(manifest.string() + ": damaged manifest: " + error.what());
  } catch (const FeatureError& error) {
    throw ModelError(manifest.string() + ": damaged front end: " + error.what());
  }
  return networks;
}

std::optional<ShippedNetwork> find_shipped_network(const std::string& name) {
  const fs::path path(name);
  if (name.empty() || path.has_parent_path() || path.has_extension()) return std::nullopt;
  for (auto& network : shipped_networks())
    if (network.name == name) return network;
  return std::nullopt;
}

}  // namespace tunelens
