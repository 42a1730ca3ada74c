// tunelens evaluate: how well a model tells the genres of a catalog split's tracks (per track: the mean
// softmax over its windows; per window too), with the error analysis and the most confident mistakes.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/track_vectors.h"
#include "data/extract.h"
#include "eval/metrics.h"
#include "model/model.h"
#include "report/html.h"
#include "report/run_pages.h"
#include "store/catalog.h"
#include "store/feature_array.h"
#include "store/whole_file.h"

namespace tunelens::cli {
namespace {

struct EvaluateArgs {
  std::string model, catalog;
  std::string split = "default";
  std::string part = "test";
  std::string json, csv;
  std::string report, charts;             // --report FILE.html, --charts DIR (SVG files)
  std::vector<std::string> report_links;  // --report-link: sibling pages for the report's navigation bar
  int top_k = 3;
  int threads = 0;
};

std::string share(double value) {
  return fmt::format("{:.1f}%", 100.0 * value);
}

int run_evaluate(const EvaluateArgs& args) {
  const auto part = parse_split_part(args.part);
  if (!part) throw CLI::ValidationError("--part", "must be train, val or test");
  if (args.top_k < 1) throw CLI::ValidationError("--top-k", "must be at least 1");
  require_model(args.model);
  if (!std::filesystem::exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  ModelLoadOptions load;
  load.threads = args.threads;
  const Model model = Model::load(args.model, load);
  const Catalog catalog = Catalog::open(args.catalog);
  if (!catalog.split(args.split))
    throw CatalogError(CatalogErrorKind::Invalid, args.catalog,
                       fmt::format("no split named '{}'", args.split));

  const std::vector<std::string>& classes = model.classes();
  std::map<std::string, std::size_t> class_index;
  for (std::size_t c = 0; c < classes.size(); ++c) class_index[classes[c]] = c;
  const FeatureConfig& config = model.features();
  const MelSpectrogram mel(config.settings.mel);

  TrackQuery query;
  query.split_name = args.split;
  query.split_part = *part;
  query.labelled_only = true;
  std::vector<Track> tracks;
  std::map<std::string, std::size_t> unknown_labels;
  for (Track& track : catalog.tracks(query)) {
    if (class_index.count(*track.label) == 0)
      ++unknown_labels[*track.label];
    else
      tracks.push_back(std::move(track));
  }
  if (!unknown_labels.empty()) {
    std::string list;
    std::size_t count = 0;
    for (const auto& [label, n] : unknown_labels) {
      list += (list.empty() ? "'" : ", '") + label + "'";
      count += n;
    }
    std::cerr << fmt::format(
        "tunelens evaluate: skipped {} tracks labelled {} (not among the model's classes)\n", count, list);
  }

  std::vector<std::size_t> truth, window_truth;
  std::vector<float> probabilities, window_probabilities;
  std::vector<const Track*> evaluated;
  std::vector<std::pair<std::size_t, double>> window_origin;  // per window: index into evaluated, start (s)
  std::size_t recomputed_count = 0, failed = 0;
  for (const Track& track : tracks) {
    try {
      bool recomputed = false;
      const Spectrogram features = catalog_track_features(catalog, track, config, mel, &recomputed);
      const WindowPredictions predictions = model.predict(features);
      if (predictions.windows == 0) throw ModelError("no windows");
      const std::vector<float> mean = predictions.mean_probabilities();
      const std::size_t label = class_index.at(*track.label);
      truth.push_back(label);
      probabilities.insert(probabilities.end(), mean.begin(), mean.end());
      window_probabilities.insert(window_probabilities.end(), predictions.probabilities.begin(),
                                  predictions.probabilities.end());
      window_truth.insert(window_truth.end(), predictions.windows, label);
      for (const double start : window_start_seconds(model.features(), predictions.windows))
        window_origin.emplace_back(evaluated.size(), start);
      evaluated.push_back(&track);
      recomputed_count += recomputed ? 1 : 0;
    } catch (const std::exception& error) {
      std::cerr << fmt::format("tunelens evaluate: error: track {} ({}): {}\n", track.id, track.path,
                               error.what());
      ++failed;
    }
  }
  if (evaluated.empty())
    throw std::runtime_error(
        fmt::format("no track of split '{}' part {} could be evaluated", args.split, args.part));

  ReportOptions options;
  options.top_k = {args.top_k};
  options.mistakes = 10;
  const ClassificationReport report = classification_report(truth, probabilities, classes, options);
  const ClassificationReport windows =
      classification_report(window_truth, window_probabilities, classes, options);

  std::cout << fmt::format(
      "evaluate: {} on split '{}' ({}): {} tracks, {} windows ({} features recomputed{})\n", args.model,
      args.split, args.part, report.examples, windows.examples, recomputed_count,
      failed > 0 ? fmt::format(", {} failed", failed) : std::string());
  std::cout << "\n" << report.text() << "\n";
  std::cout << fmt::format("window-level accuracy: {:.4f} over {} windows (top-{} {:.4f})\n\n",
                           windows.accuracy, windows.examples, args.top_k,
                           windows.top_k.empty() ? 0.0 : windows.top_k[0].second);

  std::cout << "errors per genre (where its errors go; which genres are taken for it):\n";
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::string to, from;
    for (const Confusion& e : report.errors_to[c])
      to += fmt::format("{}{} {} ({})", to.empty() ? "" : ", ", classes[e.other], e.count, share(e.share));
    for (const Confusion& e : report.mistaken_for[c])
      from +=
          fmt::format("{}{} {} ({})", from.empty() ? "" : ", ", classes[e.other], e.count, share(e.share));
    std::cout << fmt::format("  {}: errors to: {}; mistaken for it: {}\n", classes[c],
                             to.empty() ? "none" : to, from.empty() ? "none" : from);
  }
  std::size_t unknown = 0;
  for (const auto& entry : unknown_labels) unknown += entry.second;
  auto track_name = [](const Track& track) {
    return track.title ? fmt::format("{} ({})", *track.title, track.path) : track.path;
  };
  nlohmann::json mistakes = nlohmann::json::array();
  std::vector<std::string> mistake_names;
  std::cout << "\nmost confident mistakes:\n";
  if (report.confident_mistakes.empty()) std::cout << "  none\n";
  for (const Mistake& m : report.confident_mistakes) {
    const Track& track = *evaluated[m.example];
    std::cout << fmt::format("  {:.4f}  {} -> {}  {}{}\n", m.confidence, classes[m.truth],
                             classes[m.predicted], track.path,
                             track.title ? " (" + *track.title + ")" : std::string());
    mistake_names.push_back(track_name(track));
    mistakes.push_back({{"track", track.id},
                        {"path", track.path},
                        {"title", track.title ? nlohmann::json(*track.title) : nlohmann::json(nullptr)},
                        {"truth", classes[m.truth]},
                        {"predicted", classes[m.predicted]},
                        {"confidence", m.confidence}});
  }

  // The windows most confidently wrong: which track, and where in it.
  nlohmann::json window_mistakes = nlohmann::json::array();
  std::vector<report::WindowMistakePlace> window_places;
  for (const Mistake& m : windows.confident_mistakes) {
    const auto& [track_index, start] = window_origin.at(m.example);
    const Track& track = *evaluated[track_index];
    window_places.push_back({track_name(track), start});
    window_mistakes.push_back({{"track", track.id},
                               {"path", track.path},
                               {"start_seconds", start},
                               {"truth", classes[m.truth]},
                               {"predicted", classes[m.predicted]},
                               {"confidence", m.confidence}});
  }

  if (!args.json.empty()) {
    nlohmann::json out = nlohmann::json::parse(report.json());
    out["model"] = args.model;
    out["catalog"] = args.catalog;
    out["split"] = args.split;
    out["part"] = args.part;
    out["failed_tracks"] = failed;
    out["skipped_unknown_label_tracks"] = unknown;
    out["recomputed_features"] = recomputed_count;
    out["confident_mistake_tracks"] = mistakes;
    nlohmann::json window = nlohmann::json::parse(windows.json());
    out["windows"] = {{"examples", windows.examples},
                      {"accuracy", windows.accuracy},
                      {"report", window},
                      {"confident_mistake_windows", window_mistakes}};
    write_whole_file(args.json, out.dump(2) + "\n");
  }
  if (!args.csv.empty()) write_whole_file(args.csv, report.csv());
  if (!args.report.empty() || !args.charts.empty()) {
    report::EvaluationSummary summary{args.model,    args.catalog,  args.split, args.part, report, windows,
                                      mistake_names, window_places, failed,     unknown,   {}};
    if (!args.charts.empty()) {
      std::filesystem::create_directories(args.charts);
      const auto charts = report::evaluation_charts(summary);
      for (const auto& [name, svg] : charts) write_whole_file(std::filesystem::path(args.charts) / name, svg);
      std::cout << fmt::format("\ncharts: {} SVG files in {}\n", charts.size(), args.charts);
    }
    if (!args.report.empty()) {
      const std::filesystem::path folder = std::filesystem::path(args.report).parent_path();
      for (const std::string& page : args.report_links)
        summary.links.push_back(report::page_link(page, folder));
      report::evaluation_page(summary).write(args.report);
      std::cout << fmt::format("report: {}\n", args.report);
    }
  }
  return failed > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  CLI::App* command = app.add_subcommand(
      "evaluate", "Evaluate a model on a catalog split's tracks: classification report and errors");
  command->add_option("--model,-m", args->model, "Model file")->required();
  command->add_option("--catalog", args->catalog, "Catalog with the split (and features)")->required();
  command->add_option("--split", args->split, "Split of the catalog")->capture_default_str();
  command->add_option("--part", args->part, "Part of the split: test, val or train")->capture_default_str();
  command->add_option("--json", args->json, "Write the report (tracks and windows) as JSON to FILE");
  command->add_option("--csv", args->csv, "Write the per-class scores as CSV to FILE");
  command->add_option(
      "--report", args->report,
      "Write an HTML report: classification report, confusion heatmaps, F1, error analysis, mistakes");
  command->add_option("--charts", args->charts, "Write the report's charts as SVG files into DIR");
  command->add_option("--report-link", args->report_links,
                      "A report page to link from this one (repeatable)");
  command->add_option("--top-k", args->top_k, "Also report top-k accuracy")->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)");
  set_action(command, [args] { return run_evaluate(*args); });
}

}  // namespace tunelens::cli
