// tunelens: genre from raw audio, and tracks that sound alike.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"

namespace {

// Runs tunelens-torch (beside this program) with the same arguments; returns only if it cannot be started.
int hand_over_to_torch_program(char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto program = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / "tunelens-torch";
  argv[0] = const_cast<char*>(program.c_str());
  ::execv(program.c_str(), argv);
  std::cerr << "tunelens: error: the " << argv[1] << " command needs " << program.string()
            << ", which cannot be run: " << std::strerror(errno) << "\n";
  return tunelens::cli::kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tunelens::cli;
  if (argc > 1)
    for (const auto& command : torch_commands())
      if (std::strcmp(argv[1], command.name) == 0) return hand_over_to_torch_program(argv);

  CLI::App app{"tunelens: tell the genre of music from its audio, and find tracks that sound alike"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_line());
  add_features_command(app);
  add_dataset_command(app);
  add_extract_command(app);
  add_synth_command(app);
  add_report_command(app);
  add_catalog_command(app);
  add_status_command(app);
  // Listed in the help; a command line naming one never reaches the parser (see above).
  for (const auto& command : torch_commands()) app.add_subcommand(command.name, command.description);
  return run_app(app, argc, argv);
}
