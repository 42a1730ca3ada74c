#include "cli/app.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <iostream>

#include "app/errors.h"
#include "cli/commands.h"
#include "model/network_names.h"
#include "tunelens_version.h"

namespace tunelens::cli {

const std::vector<TorchCommand>& torch_commands() {
  static const std::vector<TorchCommand> commands = {
      {"train", "Train a genre model on a catalog's split (" + trainable_network_list() + ")"},
      {"model", "Inspect model files and list the shipped networks (tunelens model info FILE, model list)"},
      {"evaluate", "Evaluate a model on a catalog split: classification report, errors, confident mistakes"},
      {"classify", "Tell the genres of audio files with a model (top-k, per-window timeline)"},
      {"index", "Compute and store a model's vectors for every catalog track (for tunelens similar)"},
      {"similar", "Find the catalog tracks that sound most like a track or an audio file"},
      {"analyze", "Study a collection of albums: genre profiles per song and album, nearest songs, a map, a report"},
      {"ingest", "Add new audio files to a catalog, recommendable at once, and list their nearest tracks"},
      {"serve", "Serve a catalog over HTTP: a JSON API and a page to search, listen, classify and explore"},
      {"worker", "Share a catalog's work with other processes: claim tracks, extract and index them, repeat"},
  };
  return commands;
}

std::string version_line() {
  return std::string("tunelens ") + kVersion;
}

CLI::Validator thread_count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        long long n = -1;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (error != std::errc() || end != text.data() + text.size() || n < 0 || n > 1024)
          return "must be a whole number from 0 (all cores) to 1024, not " + text;
        const long long most = 4LL * std::max(1u, std::thread::hardware_concurrency());
        if (n > most) text = std::to_string(most);
        return {};
      },
      "0-1024");
}

void require_writable_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error(folder.string() + ": cannot create the output folder: " + ec.message());
  const std::filesystem::path probe = folder / ".tunelens-write-test";
  const bool writable = static_cast<bool>(std::ofstream(probe));
  std::filesystem::remove(probe, ec);
  if (!writable) throw std::runtime_error(folder.string() + ": the output folder is not writable");
}

int run_app(CLI::App& app, int argc, char** argv) {
  // A first word that is no command: named (CLI11 would only say that a command is required).
  const auto names_command = [&](const char* word) {
    const auto commands = app.get_subcommands([&](CLI::App* command) { return command->check_name(word); });
    return !commands.empty();
  };
  if (argc > 1 && argv[1][0] != '-' && !names_command(argv[1])) {
    std::cerr << "tunelens: error: '" << argv[1] << "' is not a command (tunelens --help lists them)\n";
    return kUsageError;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& error) {  // a command finished with failures it has already reported
    return error.get_exit_code();
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);  // prints help, the version, or what was wrong with the arguments
    return status == 0 ? kSuccess : kUsageError;
  } catch (const std::exception& error) {
    std::cerr << "tunelens: error: " << error.what() << "\n";
    return kUsageError;
  }
  return kSuccess;
}

namespace {

// The option of `command` that gives a use case's parameter ("top_k": --top-k, "k": -k), else the parameter's
// own name (a positional argument's).
std::string option_of(const CLI::App& command, std::string parameter) {
  std::replace(parameter.begin(), parameter.end(), '_', '-');
  for (const std::string& option : {"--" + parameter, "-" + parameter})
    if (command.get_option_no_throw(option) != nullptr) return option;
  return parameter;
}

}  // namespace

void set_action(CLI::App* command, std::function<int()> run) {
  command->callback([command, run = std::move(run)] {
    int status = kSuccess;
    try {
      status = run();
    } catch (const CLI::Error&) {
      throw;
    } catch (const app::BadRequest& error) {  // a use case's parameter, as the option (or argument) that gave it
      throw CLI::ValidationError(option_of(*command, error.parameter()), error.what());
    } catch (const std::exception& error) {
      std::string name = command->get_name();
      for (const CLI::App* parent = command->get_parent(); parent && parent->get_parent(); parent = parent->get_parent())
        name = parent->get_name() + " " + name;
      std::cerr << "tunelens " << name << ": error: " << error.what() << "\n";
      status = kUsageError;
    }
    if (status != kSuccess) throw CLI::RuntimeError(status);
  });
}

}  // namespace tunelens::cli
