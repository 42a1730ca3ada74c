// tunelens classify: the genres (or tags) of audio files, as a model hears them (app/classify.h), printed as
// a table, JSON or CSV, optionally window by window.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/classify.h"
#include "app/json.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/feature_options.h"
#include "data/csv.h"
#include "store/json_text.h"

namespace tunelens::cli {
namespace {

struct ClassifyArgs {
  app::ClassifyRequest request;
  int top_k = 3;
  bool timeline = false;
  std::string format = "table";
};

void print_results(const ClassifyArgs& args, const ModelInfo& info, std::size_t shown,
                   const std::vector<app::FileClassification>& results) {
  const std::vector<std::string>& classes = info.classes;
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(args.top_k), shown);
  const char* label = info.multi_label ? "tag" : "genre";
  if (args.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const app::FileClassification& r : results)
      if (r.error.empty()) out.push_back(app::to_json(r, info, k, args.timeline));
    std::cout << json_text(out, 2) << "\n";
  } else if (args.format == "csv") {
    std::cout << "file," << (args.timeline ? "start," : "rank,") << label << ",probability\n";
    for (const app::FileClassification& r : results) {
      if (!r.error.empty()) continue;
      if (args.timeline)
        for (const app::WindowLabel& w : r.timeline)
          std::cout << fmt::format("{},{:.3f},{},{:.6f}\n", csv_field(r.file), w.start,
                                   csv_field(classes[w.label]), w.probability);
      else
        for (std::size_t i = 0; i < k; ++i)
          std::cout << fmt::format("{},{},{},{:.6f}\n", csv_field(r.file), i + 1,
                                   csv_field(classes[r.ranking[i]]), r.probabilities[r.ranking[i]]);
    }
  } else {
    for (const app::FileClassification& r : results) {
      if (!r.error.empty()) continue;
      std::string line = r.file;
      for (std::size_t i = 0; i < k; ++i)
        line += fmt::format("  {} {:.3f}", classes[r.ranking[i]], r.probabilities[r.ranking[i]]);
      std::cout << line << "\n";
      if (args.timeline)
        for (const app::WindowLabel& w : r.timeline)
          std::cout << fmt::format("  {:8.2f} s  {} {:.3f}\n", w.start, classes[w.label], w.probability);
    }
  }
}

int run_classify(const ClassifyArgs& args) {
  if (args.format != "table" && args.format != "json" && args.format != "csv")
    throw CLI::ValidationError("--format", "must be table, json or csv");
  if (args.top_k < 1) throw CLI::ValidationError("--top-k", "must be at least 1");
  const app::ClassifyResult result =
      app::classify_files(args.request, [](const app::FileClassification& file) {
        if (!file.error.empty()) std::cerr << "tunelens classify: error: " << file.error << "\n";
        for (const std::string& warning : file.warnings)
          std::cerr << "tunelens classify: warning: " << warning << "\n";
      });
  for (const std::string& problem : result.problems)
    std::cerr << "tunelens classify: warning: " << problem << "\n";
  print_results(args, result.model, result.shown.size(), result.files);
  return result.failed() > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_classify_command(CLI::App& app) {
  auto args = std::make_shared<ClassifyArgs>();
  CLI::App* command = app.add_subcommand("classify", "Tell the genres of audio files with a model");
  command
      ->add_option("--model,-m", args->request.model,
                   "Model file, or a shipped network's name (tunelens model list)")
      ->required();
  command->add_option("inputs", args->request.inputs, "Audio files or folders of them")->required();
  command->add_option("--top-k", args->top_k, "Genres (or tags) to show per file")->capture_default_str();
  command->add_option(
      "--tags", args->request.tags,
      "Tag models: show only tags of one kind: genre, instrument, mood, voice, era (default: all)");
  command->add_flag("--timeline", args->timeline, "Also the genre of each window (start in seconds)");
  command->add_option("--format", args->format, "table, json or csv")->capture_default_str();
  command->add_option("--threads,-j", args->request.threads, "Threads (default: all cores)")
      ->check(thread_count());
  command->add_flag("--recursive,-r", args->request.recursive, "Look into subfolders too");
  command->add_flag("--repair-samples", args->request.repair_samples, kRepairSamplesHelp);
  set_action(command, [args] { return run_classify(*args); });
}

}  // namespace tunelens::cli
