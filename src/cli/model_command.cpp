// tunelens model: what a model file holds.
#include <iostream>

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

}  // namespace

void add_model_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand("model", "Inspect model files");
  command->require_subcommand(1);
  auto args = std::make_shared<ModelInfoArgs>();
  CLI::App* info = command->add_subcommand(
      "info", "Print a model file's network, classes, feature configuration, training and provenance");
  info->add_option("file", args->file, "Model file (or <model>.checkpoint)")->required();
  info->add_flag("--json", args->json, "The whole metadata as JSON");
  set_action(info, [args] { return run_model_info(*args); });
}

}  // namespace tunelens::cli
