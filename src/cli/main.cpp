// tunelens: genre from raw audio, and tracks that sound alike.
#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tunelens: tell the genre of music from its audio, and find tracks that sound alike"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tunelens 0.1.0");
  tunelens::cli::add_features_command(app);
  tunelens::cli::add_dataset_command(app);
  tunelens::cli::add_extract_command(app);
  tunelens::cli::add_synth_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& error) {  // a command finished with failures it has already reported
    return error.get_exit_code();
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);  // prints help, the version, or what was wrong with the arguments
    return status == 0 ? tunelens::cli::kSuccess : tunelens::cli::kUsageError;
  } catch (const std::exception& error) {
    std::cerr << "tunelens: error: " << error.what() << "\n";
    return tunelens::cli::kUsageError;
  }
  return tunelens::cli::kSuccess;
}
