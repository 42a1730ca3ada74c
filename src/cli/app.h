// The two programs, tunelens and tunelens-torch, and what they share: one way to run a command line.
//
// Commands that need libtorch (training, models) live in tunelens-torch, installed beside tunelens: loading
// libtorch costs about half a second at every start, which the other commands should not pay. tunelens hands such
// a command line over to tunelens-torch unchanged, so users only ever type `tunelens`.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tunelens::cli {

// "tunelens 0.1.0": what --version prints in both programs (tunelens_version.h, from CMake's project()).
std::string version_line();

// The commands tunelens-torch runs, with the one-line description tunelens lists for them.
struct TorchCommand {
  const char* name;
  std::string description;
};
const std::vector<TorchCommand>& torch_commands();

// Parses and runs the command line; returns the exit status (errors reported on stderr as one line).
int run_app(CLI::App& app, int argc, char** argv);

// The check of every --threads/-j option: 0 (all cores) to 1024, and more than 4 per core are not started
// (-j 100000 would start that many threads for nothing).
CLI::Validator thread_count();

// Creates the output folder and checks that a file can be written in it, before the work that fills it: throws
// std::runtime_error "<folder>: cannot create the output folder: <why>" or "...: the output folder is not
// writable".
void require_writable_folder(const std::filesystem::path& folder);

// Makes `run` the command's action. Its return value is the exit status (kSomeFailed when some inputs failed, each
// already named); an exception (a file that cannot be read, a damaged model, ...) becomes one line
// "tunelens <command>: error: <what>" and exit status kUsageError.
void set_action(CLI::App* command, std::function<int()> run);

}  // namespace tunelens::cli
