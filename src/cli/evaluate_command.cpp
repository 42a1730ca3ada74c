// tunelens evaluate: how well a model tells the genres of a catalog split's tracks (app/evaluate.h), printed
// with the error analysis and the most confident mistakes, and written as JSON, CSV, an HTML report or SVG
// charts.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <iostream>

#include "app/evaluate.h"
#include "app/json.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "report/html.h"
#include "report/run_pages.h"
#include "store/catalog.h"
#include "store/json_text.h"
#include "store/whole_file.h"

namespace tunelens::cli {
namespace {

struct EvaluateArgs {
  app::EvaluateRequest request;
  std::string json, csv;
  std::string report, charts;             // --report FILE.html, --charts DIR (SVG files)
  std::vector<std::string> report_links;  // --report-link: sibling pages for the report's navigation bar
};

std::string share(double value) {
  return fmt::format("{:.1f}%", 100.0 * value);
}

std::string track_name(const Track& track) {
  return track.title ? fmt::format("{} ({})", *track.title, track.path) : track.path;
}

void print_zero_shot_labels(const app::EvaluateResult& result) {
  std::vector<std::string> mapped, unmapped;
  for (std::size_t l = 0; l < result.classes.size(); ++l) {
    if (result.label_tags[l])
      mapped.push_back(result.classes[l] + "=" + *result.label_tags[l]);
    else
      unmapped.push_back(result.classes[l]);
  }
  std::cout << fmt::format(
      "zero-shot: labels read from tags of the same name: {}; no such tag (never "
      "predicted): {}\n",
      mapped.empty() ? "none" : fmt::format("{}", fmt::join(mapped, ", ")),
      unmapped.empty() ? "none" : fmt::format("{}", fmt::join(unmapped, ", ")));
}

void print_report(const app::EvaluateResult& result) {
  const ClassificationReport& report = result.report;
  const ClassificationReport& windows = result.windows;
  const std::vector<std::string>& classes = result.classes;
  std::cout << fmt::format(
      "evaluate: {} on split '{}' ({}): {} tracks, {} windows ({} features recomputed{})\n", result.model,
      result.split, result.request.part, report.examples, windows.examples, result.recomputed,
      result.failures.empty() ? std::string() : fmt::format(", {} failed", result.failures.size()));
  std::cout << "\n" << report.text() << "\n";
  std::cout << fmt::format("window-level accuracy: {:.4f} over {} windows (top-{} {:.4f})\n\n",
                           windows.accuracy, windows.examples, result.request.top_k,
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
  std::cout << "\nmost confident mistakes:\n";
  if (report.confident_mistakes.empty()) std::cout << "  none\n";
  for (const Mistake& m : report.confident_mistakes) {
    const Track& track = result.tracks[m.example];
    std::cout << fmt::format("  {:.4f}  {} -> {}  {}{}\n", m.confidence, classes[m.truth],
                             classes[m.predicted], track.path,
                             track.title ? " (" + *track.title + ")" : std::string());
  }
}

// The HTML report and the charts, from the same summary.
void write_report_pages(const app::EvaluateResult& result, const EvaluateArgs& args) {
  report::EvaluationSummary summary;
  summary.model = result.model;
  summary.catalog = masked_location(result.request.catalog);
  summary.split = result.split;
  summary.part = result.request.part;
  summary.tracks = result.report;
  summary.windows = result.windows;
  for (const Mistake& m : result.report.confident_mistakes)
    summary.mistake_tracks.push_back(track_name(result.tracks[m.example]));
  for (const Mistake& m : result.windows.confident_mistakes) {
    const app::WindowOrigin& origin = result.origins[m.example];
    summary.mistake_windows.push_back({track_name(result.tracks[origin.track]), origin.start_seconds});
  }
  summary.failed_tracks = result.failures.size();
  summary.skipped_tracks = result.skipped();
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

int run_evaluate(const EvaluateArgs& args) {
  const app::EvaluateResult result = app::evaluate_model(args.request, [](const std::string& failure) {
    std::cerr << "tunelens evaluate: error: " << failure << "\n";
  });
  if (result.zero_shot) print_zero_shot_labels(result);
  if (!result.skipped_labels.empty()) {
    std::string list;
    for (const auto& [label, tracks] : result.skipped_labels)
      list += (list.empty() ? "'" : ", '") + label + "'";
    std::cerr << fmt::format(
        "tunelens evaluate: skipped {} tracks labelled {} (not among the model's classes)\n",
        result.skipped(), list);
  }
  print_report(result);
  if (!args.json.empty()) write_whole_file(args.json, json_text(app::to_json(result), 2) + "\n");
  if (!args.csv.empty()) write_whole_file(args.csv, result.report.csv());
  if (!args.report.empty() || !args.charts.empty()) write_report_pages(result, args);
  return result.failures.empty() ? kSuccess : kSomeFailed;
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  CLI::App* command = app.add_subcommand(
      "evaluate", "Evaluate a model on a catalog split's tracks: classification report and errors");
  command
      ->add_option(
          "--model,-m", args->request.models,
          "Model file or shipped network (a tag model is read zero-shot: each label from the tag of its "
          "name); repeat it with --split to pool a cross-validation's folds")
      ->required();
  command->add_option("--catalog", args->request.catalog, "Catalog with the split (and features)")
      ->required();
  command->add_option(
      "--split", args->request.splits,
      "Split of the catalog (default: default); repeatable: the parts of every split pooled, each "
      "with its own --model when there are as many");
  command->add_option("--part", args->request.part, "Part of the split: test, val or train")
      ->capture_default_str();
  command->add_option("--json", args->json, "Write the report (tracks and windows) as JSON to FILE");
  command->add_option("--csv", args->csv, "Write the per-class scores as CSV to FILE");
  command->add_option(
      "--report", args->report,
      "Write an HTML report: classification report, confusion heatmaps, F1, error analysis, mistakes");
  command->add_option("--charts", args->charts, "Write the report's charts as SVG files into DIR");
  command->add_option("--report-link", args->report_links,
                      "A report page to link from this one (repeatable)");
  command->add_option("--top-k", args->request.top_k, "Also report top-k accuracy")->capture_default_str();
  command->add_option("--threads,-j", args->request.threads, "Threads (default: all cores)")
      ->check(thread_count());
  set_action(command, [args] { return run_evaluate(*args); });
}

}  // namespace tunelens::cli
