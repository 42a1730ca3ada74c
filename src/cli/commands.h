// The subcommands of the tunelens program; each lives in its own file and registers itself on the app.
#pragma once

#include <CLI/CLI.hpp>

namespace tunelens::cli {

// Exit statuses shared by every command.
enum ExitStatus : int {
  kSuccess = 0,
  kSomeFailed = 1,  // the run finished but some inputs failed (each was named)
  kUsageError = 2,  // bad arguments or nothing to do
};

void add_features_command(CLI::App& app);
void add_dataset_command(CLI::App& app);
void add_extract_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_report_command(CLI::App& app);  // report index
void add_catalog_command(CLI::App& app);  // catalog copy
void add_status_command(CLI::App& app);   // the shared work of a catalog
// In tunelens-torch (cli/app.h):
void add_train_command(CLI::App& app);
void add_model_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_classify_command(CLI::App& app);
void add_index_command(CLI::App& app);
void add_similar_command(CLI::App& app);
void add_analyze_command(CLI::App& app);
void add_ingest_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_worker_command(CLI::App& app);

}  // namespace tunelens::cli
