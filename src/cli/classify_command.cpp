// tunelens classify: the genres (or tags) of audio files, as a model hears them (the mean over a file's
// windows of the softmax, or of each tag's sigmoid), optionally window by window.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>

#include "audio/audio.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/feature_options.h"
#include "cli/track_vectors.h"
#include "data/csv.h"
#include "data/extract.h"
#include "model/model.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct ClassifyArgs {
  std::string model;
  std::vector<std::string> inputs;
  int top_k = 3;
  bool timeline = false;
  std::string format = "table";
  int threads = 0;
  bool recursive = false;
  std::string tags = "all";  // tag models: only the tags of this kind (genre, instrument, mood, voice, era)
  FeatureSettings reading;   // only repair_samples is used: how damaged files are read
};

struct WindowResult {
  double start = 0.0;  // seconds into the file
  std::size_t genre = 0;
  float probability = 0.0f;
};

struct FileResult {
  std::string file;
  std::string error;  // empty when classified
  std::size_t windows = 0;
  std::vector<float> probabilities;  // mean over the windows, per class
  std::vector<std::size_t> ranking;  // classes, most probable first (ties: the first class)
  std::vector<WindowResult> timeline;
  std::vector<std::string> warnings;  // damage found while decoding, audio too short to judge
};

// Under this much audio a genre is a guess: said with the answer.
constexpr double kShortestJudgedSeconds = 1.0;

// Files named are taken as they are; folders give their audio files (audio/audio.h), in path order.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, bool recursive) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code error;
    if (!fs::is_directory(input, error)) {
      files.push_back(input);
      continue;
    }
    std::vector<std::string> problems;
    for (const fs::path& file : find_audio_files(input, recursive, &problems)) files.push_back(file.string());
    for (const std::string& problem : problems) std::cerr << "tunelens classify: warning: " << problem << "\n";
  }
  return files;
}

void classify_file(const Model& model, const MelSpectrogram& mel, const std::vector<std::size_t>& shown,
                   bool repair_samples, FileResult& result) {
  const FeatureConfig& config = model.features();
  FeatureSettings settings = config.settings;
  settings.repair_samples = repair_samples;
  // (load_audio says why a path is no file it can read: missing, a folder, a pipe, a name too long)
  DecodeResult decoded;
  std::string warning;
  const Spectrogram features = compute_track_features(result.file, settings, mel, &decoded, &warning);
  if (!warning.empty()) result.warnings.push_back(warning);
  const double seconds = decoded.seconds();
  if (seconds < kShortestJudgedSeconds)
    result.warnings.push_back(fmt::format("{}: only {:.3f} s of audio: the genres of so little sound are a guess",
                                          result.file, seconds));
  const WindowPredictions predictions = model.predict(features);
  if (predictions.windows == 0) throw std::runtime_error("no audio to classify");
  result.windows = predictions.windows;
  result.probabilities = predictions.mean_probabilities();
  result.ranking = shown;
  std::stable_sort(result.ranking.begin(), result.ranking.end(), [&](std::size_t a, std::size_t b) {
    return result.probabilities[a] > result.probabilities[b];
  });
  const std::vector<double> starts = window_start_seconds(config, predictions.windows);
  for (std::size_t w = 0; w < predictions.windows; ++w) {
    const float* row = predictions.probabilities.data() + w * predictions.classes;
    const std::size_t best = *std::max_element(shown.begin(), shown.end(),
                                               [&](std::size_t a, std::size_t b) { return row[a] < row[b]; });
    result.timeline.push_back({starts[w], best, row[best]});
  }
}

void print_results(const ClassifyArgs& args, const ModelInfo& info, std::size_t shown,
                   const std::vector<FileResult>& results) {
  const std::vector<std::string>& classes = info.classes;
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(args.top_k), shown);
  const char* label = info.multi_label ? "tag" : "genre";
  if (args.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const FileResult& r : results) {
      if (!r.error.empty()) continue;
      nlohmann::json top = nlohmann::json::array(), all = nlohmann::json::object();
      for (std::size_t i = 0; i < k; ++i)
        top.push_back({{label, classes[r.ranking[i]]}, {"probability", r.probabilities[r.ranking[i]]}});
      for (std::size_t c : r.ranking) all[classes[c]] = r.probabilities[c];
      nlohmann::json item = {{"file", r.file}, {"windows", r.windows}, {"top", top}, {"probabilities", all}};
      if (args.timeline) {
        nlohmann::json timeline = nlohmann::json::array();
        for (const WindowResult& w : r.timeline)
          timeline.push_back({{"start", w.start}, {label, classes[w.genre]}, {"probability", w.probability}});
        item["timeline"] = timeline;
      }
      out.push_back(item);
    }
    std::cout << out.dump(2) << "\n";
  } else if (args.format == "csv") {
    std::cout << "file," << (args.timeline ? "start," : "rank,") << label << ",probability\n";
    for (const FileResult& r : results) {
      if (!r.error.empty()) continue;
      if (args.timeline)
        for (const WindowResult& w : r.timeline)
          std::cout << fmt::format("{},{:.3f},{},{:.6f}\n", csv_field(r.file), w.start,
                                   csv_field(classes[w.genre]), w.probability);
      else
        for (std::size_t i = 0; i < k; ++i)
          std::cout << fmt::format("{},{},{},{:.6f}\n", csv_field(r.file), i + 1,
                                   csv_field(classes[r.ranking[i]]), r.probabilities[r.ranking[i]]);
    }
  } else {
    for (const FileResult& r : results) {
      if (!r.error.empty()) continue;
      std::string line = r.file;
      for (std::size_t i = 0; i < k; ++i)
        line += fmt::format("  {} {:.3f}", classes[r.ranking[i]], r.probabilities[r.ranking[i]]);
      std::cout << line << "\n";
      if (args.timeline)
        for (const WindowResult& w : r.timeline)
          std::cout << fmt::format("  {:8.2f} s  {} {:.3f}\n", w.start, classes[w.genre], w.probability);
    }
  }
}

int run_classify(const ClassifyArgs& args) {
  if (args.format != "table" && args.format != "json" && args.format != "csv")
    throw CLI::ValidationError("--format", "must be table, json or csv");
  if (args.top_k < 1) throw CLI::ValidationError("--top-k", "must be at least 1");
  require_model(args.model);
  const std::vector<std::string> files = expand_inputs(args.inputs, args.recursive);
  if (files.empty()) throw std::runtime_error("no audio files to classify");

  // Files in parallel; a single file gets every thread for its prediction instead.
  const ParallelModel loaded = load_parallel_model(args.model, args.threads, files.size());
  const Model& model = loaded.model;
  const MelSpectrogram mel(model.features().settings.mel);
  const std::vector<std::size_t> shown = shown_classes(model.info(), args.tags);

  std::vector<FileResult> results(files.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  auto work = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      FileResult& result = results[i];
      result.file = files[i];
      try {
        classify_file(model, mel, shown, args.reading.repair_samples, result);
      } catch (const std::exception& error) {
        result.error = error.what();
        const std::lock_guard lock(mutex);
        std::cerr << "tunelens classify: error: " << about_file(result.file, result.error) << "\n";
      }
      if (!result.warnings.empty()) {
        const std::lock_guard lock(mutex);
        for (const std::string& warning : result.warnings)
          std::cerr << "tunelens classify: warning: " << warning << "\n";
      }
    }
  };
  run_workers(loaded.workers, work);

  print_results(args, model.info(), shown.size(), results);
  const bool any_failed =
      std::any_of(results.begin(), results.end(), [](const FileResult& r) { return !r.error.empty(); });
  return any_failed ? kSomeFailed : kSuccess;
}

}  // namespace

void add_classify_command(CLI::App& app) {
  auto args = std::make_shared<ClassifyArgs>();
  CLI::App* command = app.add_subcommand("classify", "Tell the genres of audio files with a model");
  command
      ->add_option("--model,-m", args->model, "Model file, or a shipped network's name (tunelens model list)")
      ->required();
  command->add_option("inputs", args->inputs, "Audio files or folders of them")->required();
  command->add_option("--top-k", args->top_k, "Genres (or tags) to show per file")->capture_default_str();
  command->add_option(
      "--tags", args->tags,
      "Tag models: show only tags of one kind: genre, instrument, mood, voice, era (default: all)");
  command->add_flag("--timeline", args->timeline, "Also the genre of each window (start in seconds)");
  command->add_option("--format", args->format, "table, json or csv")->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)")->check(thread_count());
  command->add_flag("--recursive,-r", args->recursive, "Look into subfolders too");
  add_repair_option(command, args->reading);
  set_action(command, [args] { return run_classify(*args); });
}

}  // namespace tunelens::cli
