// tunelens model: what a model file holds, and the pretrained networks shipped with tunelens.
#include <fmt/format.h>

#include <iostream>
#include <map>

#include "cli/app.h"
#include "cli/commands.h"
#include "model/model.h"

namespace tunelens::cli {
namespace {

struct ModelInfoArgs {
  std::string file;
  bool json = false;
};

int run_model_info(const ModelInfoArgs& args) {
  try {
    const ModelInfo info = read_model_info(args.file);
    std::cout << (args.json ? info.metadata_json + "\n" : describe(info));
    return kSuccess;
  } catch (const ModelError& error) {  // what() names the file and the reason
    std::cerr << "tunelens model info: error: " << error.what() << "\n";
    return kUsageError;
  }
}

// Each shipped network: what it learnt from, its input, its tags by kind, and the front end they share.
int run_model_list() {
  const std::vector<ShippedNetwork> networks = shipped_networks();
  std::cout << fmt::format("shipped networks in {}\n\n", shipped_networks_folder().string());
  for (const ShippedNetwork& network : networks) {
    const FeatureSettings& front = network.front_end;
    std::cout << fmt::format("{:<16} {} trained on {}; input {:g} s; {} tags (sigmoid)\n", network.name,
                             network.architecture, network.collection,
                             static_cast<double>(network.input_samples) / front.mel.sample_rate,
                             network.tags.size());
    std::map<std::string, std::vector<std::string>> by_kind;
    for (std::size_t t = 0; t < network.tags.size(); ++t)
      by_kind[t < network.tag_categories.size() ? network.tag_categories[t] : "tag"].push_back(
          network.tags[t]);
    for (const auto& [kind, tags] : by_kind) {
      std::string line;
      for (const auto& tag : tags) line += (line.empty() ? "" : ", ") + tag;
      std::cout << fmt::format("  {:<11}{}\n", kind, line);
    }
  }
  if (!networks.empty()) {
    const MelOptions& mel = networks.front().front_end.mel;
    std::cout << fmt::format("\nfront end: {} Hz mono, n_fft {}, hop {}, {} mels {:g}-{:g} Hz, dB {}\n",
                             mel.sample_rate, mel.n_fft, mel.hop_length, mel.n_mels, mel.fmin, mel.fmax,
                             networks.front().front_end.db);
    std::cout << "use: tunelens classify --model NAME song.mp3 [--tags genre]; tunelens model info NAME\n";
  }
  return kSuccess;
}

}  // namespace

void add_model_command(CLI::App& app) {
  CLI::App* command =
      app.add_subcommand("model", "Inspect model files and list the shipped pretrained networks");
  command->require_subcommand(1);
  auto args = std::make_shared<ModelInfoArgs>();
  CLI::App* info = command->add_subcommand(
      "info", "Print a model file's network, classes, feature configuration, training and provenance");
  info->add_option("file", args->file, "Model file (or <model>.checkpoint), or a shipped network's name")
      ->required();
  info->add_flag("--json", args->json, "The whole metadata as JSON");
  set_action(info, [args] { return run_model_info(*args); });
  CLI::App* list = command->add_subcommand(
      "list", "List the pretrained networks shipped with tunelens: tags, input, front end");
  set_action(list, [] { return run_model_list(); });
}

}  // namespace tunelens::cli
