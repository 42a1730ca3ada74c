// tunelens evaluate: how well a model tells the genres of a catalog split's tracks (per track: the mean
// softmax over its windows; per window too), with the error analysis and the most confident mistakes.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli/app.h"
#include "cli/commands.h"
#include "app/track_vectors.h"
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
  std::vector<std::string> models;  // one, or one per split (cross-validation: pooled)
  std::vector<std::string> splits = {"default"};
  std::string model, split;  // as printed: the names joined
  std::string catalog;
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

// A tag model read as a genre classifier with no training (zero-shot): each catalog label takes the
// probability of the tag of the same name (case, spaces, '-' and a "genre---" prefix aside: "Hip-Hop" is
// hiphop); labels without such a tag get 0. `tag_of[label]` is that tag's index, or none.
std::string tag_key(std::string name) {
  if (const auto cut = name.rfind("---"); cut != std::string::npos) name = name.substr(cut + 3);
  std::string key;
  for (const char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::vector<std::optional<std::size_t>> tags_by_name(const ModelInfo& info,
                                                     const std::vector<std::string>& labels) {
  std::vector<std::optional<std::size_t>> tag_of(labels.size());
  for (std::size_t l = 0; l < labels.size(); ++l)
    for (std::size_t t = 0; t < info.classes.size(); ++t)
      if ((info.tag_categories.empty() || info.tag_categories[t] == "genre") &&
          tag_key(info.classes[t]) == tag_key(labels[l]))
        tag_of[l] = t;
  return tag_of;
}

// The probabilities of the catalog's labels from a tag model's tag probabilities (per track or per window).
std::vector<float> label_probabilities(const std::vector<float>& tags, std::size_t tag_count,
                                       const std::vector<std::optional<std::size_t>>& tag_of) {
  const std::size_t rows = tags.size() / tag_count;
  std::vector<float> out(rows * tag_of.size(), 0.0f);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t l = 0; l < tag_of.size(); ++l)
      if (tag_of[l]) out[r * tag_of.size() + l] = tags[r * tag_count + *tag_of[l]];
  return out;
}

int run_evaluate(EvaluateArgs& args) {
  const auto part = parse_split_part(args.part);
  if (!part) throw CLI::ValidationError("--part", "must be train, val or test");
  if (args.top_k < 1) throw CLI::ValidationError("--top-k", "must be at least 1");
  if (args.models.size() != 1 && args.models.size() != args.splits.size())
    throw CLI::ValidationError("--model", "give one model, or one per --split (in the same order)");
  for (const auto& name : args.models) require_model(name);
  if (!std::filesystem::exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  auto joined = [](const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
    return text;
  };
  args.model = joined(args.models);
  args.split = joined(args.splits);
  ModelLoadOptions load;
  load.threads = args.threads;
  const Catalog catalog = Catalog::open(args.catalog);
  for (const auto& split : args.splits)
    if (!catalog.split(split))
      throw CatalogError(CatalogErrorKind::Invalid, args.catalog, fmt::format("no split named '{}'", split));

  // Each (model, split) pair's tracks: a cross-validation pools every fold's test part into one report.
  struct Run {
    std::string model, split;
    std::vector<Track> tracks;
  };
  std::vector<Run> runs;
  for (std::size_t s = 0; s < args.splits.size(); ++s)
    runs.push_back({args.models.size() == 1 ? args.models[0] : args.models[s], args.splits[s], {}});

  const Model first = Model::load(runs.front().model, load);
  // The labels evaluated: the model's classes, or for a tag model the catalog's labels (zero-shot, by tag
  // name).
  const bool zero_shot = first.info().multi_label;
  std::vector<std::string> classes = first.classes();
  if (zero_shot) {
    std::set<std::string> labels;
    for (const auto& track : catalog.tracks())
      if (track.label) labels.insert(*track.label);
    classes.assign(labels.begin(), labels.end());
  }
  std::map<std::string, std::size_t> class_index;
  for (std::size_t c = 0; c < classes.size(); ++c) class_index[classes[c]] = c;
  const auto tag_of =
      zero_shot ? tags_by_name(first.info(), classes) : std::vector<std::optional<std::size_t>>{};
  if (zero_shot) {
    std::vector<std::string> mapped, unmapped;
    for (std::size_t l = 0; l < classes.size(); ++l) {
      if (tag_of[l])
        mapped.push_back(classes[l] + "=" + first.classes()[*tag_of[l]]);
      else
        unmapped.push_back(classes[l]);
    }
    std::cout << fmt::format(
        "zero-shot: labels read from tags of the same name: {}; no such tag (never "
        "predicted): {}\n",
        mapped.empty() ? "none" : fmt::format("{}", fmt::join(mapped, ", ")),
        unmapped.empty() ? "none" : fmt::format("{}", fmt::join(unmapped, ", ")));
  }

  std::map<std::string, std::size_t> unknown_labels;
  for (Run& run : runs) {
    TrackQuery query;
    query.split_name = run.split;
    query.split_part = *part;
    query.labelled_only = true;
    for (Track& track : catalog.tracks(query)) {
      if (class_index.count(*track.label) == 0)
        ++unknown_labels[*track.label];
      else
        run.tracks.push_back(std::move(track));
    }
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
  for (const Run& run : runs) {
    // The first model is loaded already; a single model serves every split without loading it again.
    std::optional<Model> other;
    if (run.model != runs.front().model) other.emplace(Model::load(run.model, load));
    const Model& model = other ? *other : first;
    if (!zero_shot && model.classes() != classes)
      throw ModelError(fmt::format("{}: other classes than {}: a pooled evaluation needs the same classes",
                                   run.model, runs.front().model));
    const FeatureConfig& config = model.features();
    const MelSpectrogram mel(config.settings.mel);
    for (const Track& track : run.tracks) {
      try {
        bool recomputed = false;
        const Spectrogram features = app::catalog_track_features(catalog, track, config, mel, &recomputed);
        const WindowPredictions predictions = model.predict(features);
        if (predictions.windows == 0) throw ModelError("no windows");
        std::vector<float> mean = predictions.mean_probabilities();
        std::vector<float> per_window = predictions.probabilities;
        if (zero_shot) {
          mean = label_probabilities(mean, predictions.classes, tag_of);
          per_window = label_probabilities(per_window, predictions.classes, tag_of);
        }
        const std::size_t label = class_index.at(*track.label);
        truth.push_back(label);
        probabilities.insert(probabilities.end(), mean.begin(), mean.end());
        window_probabilities.insert(window_probabilities.end(), per_window.begin(), per_window.end());
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
  command
      ->add_option(
          "--model,-m", args->models,
          "Model file or shipped network (a tag model is read zero-shot: each label from the tag of its "
          "name); repeat it with --split to pool a cross-validation's folds")
      ->required();
  command->add_option("--catalog", args->catalog, "Catalog with the split (and features)")->required();
  command->add_option(
      "--split", args->splits,
      "Split of the catalog (default: default); repeatable: the parts of every split pooled, each "
      "with its own --model when there are as many");
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
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)")->check(thread_count());
  set_action(command, [args] { return run_evaluate(*args); });
}

}  // namespace tunelens::cli
