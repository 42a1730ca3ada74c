// tunelens dataset: import a dataset into a catalog, split it, and show what the catalog holds.
//
//   tunelens dataset import folders ROOT --catalog DB
//   tunelens dataset import fma --metadata tracks.csv --audio DIR [--subset small|medium|large] --catalog DB
//   tunelens dataset import csv FILE --catalog DB
//   tunelens dataset import albums ROOT [--artist NAME] [--order FILE] --catalog DB
//   tunelens dataset split --catalog DB --scheme per-class|fraction|fma|artist [--val X --test X] [--seed N]
//   tunelens dataset info --catalog DB [--split NAME]
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "data/extract.h"
#include "data/import.h"
#include "data/sources.h"
#include "data/splits.h"
#include "store/catalog.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct ImportArgs {
  std::string catalog;
  std::vector<std::string> labels;
  unsigned threads = 0;
  bool quiet = false;
  // sources
  std::string root;      // folders, albums
  std::string metadata;  // fma
  std::string audio;     // fma
  std::string subset = "large";
  std::string csv;     // csv
  std::string artist;  // albums
  std::string order;   // albums
};

// Scans the source, reports what it skipped, imports the rest, and says how it went.
int run_import(const std::string& kind, const ImportArgs& args) {
  const LabelSet labels(args.labels.begin(), args.labels.end());
  const std::string prefix = "tunelens dataset import " + kind;
  SourceScan scan;
  try {
    if (kind == "folders") {
      scan = scan_label_folders(args.root, labels);
    } else if (kind == "fma") {
      const auto subset = parse_fma_subset(args.subset);
      if (!subset) throw CLI::ValidationError("--subset", "must be small, medium or large");
      scan = scan_fma(args.metadata, args.audio, *subset, labels);
    } else if (kind == "csv") {
      scan = scan_csv(args.csv, labels);
    } else {
      scan = scan_albums(args.root, args.artist.empty() ? std::nullopt : std::optional(args.artist),
                         args.order.empty() ? std::nullopt : std::optional<fs::path>(args.order));
    }
  } catch (const DatasetError& error) {
    std::cerr << prefix << ": error: " << error.what() << "\n";
    return kUsageError;
  }
  for (const auto& note : scan.notes) std::cerr << "note: " << note << "\n";
  for (const auto& problem : scan.problems) std::cerr << "error: " << problem << "\n";

  Catalog catalog = Catalog::open_or_create(args.catalog, scan.root);
  Progress progress("import", scan.candidates.size(), args.quiet);
  ImportOptions options;
  options.threads = args.threads;
  options.on_problem = [&](const std::string& line) { progress.message("error: " + line); };
  options.on_warning = [&](const std::string& line) { progress.message("warning: " + line); };
  options.on_progress = [&](const std::string& item) { progress.advance(item); };
  const ImportSummary summary = import_candidates(catalog, scan.candidates, options);
  progress.finish();

  const std::size_t failed = summary.failed + scan.problems.size();
  std::string line =
      fmt::format("import {}: {} {}: {} added ({:.1f} s of audio), {} already in the catalog, {} failed",
                  kind, scan.rows, kind == "fma" || kind == "csv" ? "rows" : "files", summary.added,
                  summary.seconds, summary.already, failed);
  if (scan.outside_subset > 0)
    line += fmt::format(", {} outside subset {}", scan.outside_subset, args.subset);
  std::cout << line << fmt::format(" -> {} ({} tracks)\n", catalog.name(), catalog.track_count());
  return failed > 0 ? kSomeFailed : kSuccess;
}

void add_import_kind(CLI::App* import, const std::string& kind, const std::string& description,
                     const std::shared_ptr<ImportArgs>& args) {
  CLI::App* command = import->add_subcommand(kind, description);
  if (kind == "folders") {
    command->add_option("root", args->root, "Dataset folder: one subfolder per label")->required();
  } else if (kind == "fma") {
    command->add_option("--metadata", args->metadata, "FMA's tracks.csv (from fma_metadata.zip)")->required();
    command->add_option("--audio", args->audio, "Folder of the audio: DIR/000/000002.mp3, ...")->required();
    command->add_option("--subset", args->subset, "small, medium or large (each includes the smaller ones)")
        ->capture_default_str();
  } else if (kind == "csv") {
    command->add_option("file", args->csv, "CSV with columns path,label[,artist,album,title,year,split]")
        ->required();
  } else {
    command->add_option("root", args->root, "Collection folder: one subfolder per album")->required();
    command->add_option("--artist", args->artist, "Artist of every track");
    command->add_option("--order", args->order,
                        "File listing the album folders in release order (default: "
                        "ROOT/albums.txt if present, else leading years or numbers)");
  }
  command->add_option("--catalog", args->catalog, "Catalog file (created if missing)")->required();
  if (kind != "albums")
    command
        ->add_option("--labels", args->labels,
                     "Accept only these labels (comma-separated); others are errors")
        ->delimiter(',');
  command->add_option("--threads,-j", args->threads, "Files checked at once (default: all cores)")->check(thread_count());
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  set_action(command, [kind, args] { return run_import(kind, *args); });
}

// --- split

struct SplitArgs {
  std::string catalog;
  std::string scheme;
  double val = std::nan(""), test = std::nan("");  // unset: per-scheme defaults
  std::uint64_t seed = 0;
  std::string name = "default";
  int folds = 5, fold = 0;
  bool quiet = false;
};

std::string label_text(const std::optional<std::string>& label) {
  return label ? *label : "(unlabelled)";
}

// Counts per label and part of a split, as a table.
void print_split_table(const Catalog& catalog, const std::string& name, std::ostream& out) {
  std::map<std::optional<std::string>, std::array<std::size_t, 4>> rows;  // train, val, test, unassigned
  std::array<std::size_t, 4> totals{};
  for (const auto& count : catalog.split_counts(name)) {
    const std::size_t column = count.part ? static_cast<std::size_t>(*count.part) : 3;
    rows[count.label][column] += count.tracks;
    totals[column] += count.tracks;
  }
  std::size_t width = 5;
  for (const auto& [label, counts] : rows) width = std::max(width, label_text(label).size());
  out << fmt::format("  {:<{}}  {:>7}  {:>7}  {:>7}  {:>10}  {:>7}\n", "label", width, "train", "val", "test",
                     "unassigned", "total");
  auto line = [&](const std::string& label, const std::array<std::size_t, 4>& c) {
    out << fmt::format("  {:<{}}  {:>7}  {:>7}  {:>7}  {:>10}  {:>7}\n", label, width, c[0], c[1], c[2], c[3],
                       c[0] + c[1] + c[2] + c[3]);
  };
  // Labelled first, in order, then the unlabelled (std::map puts nullopt first).
  for (const auto& [label, counts] : rows)
    if (label) line(*label, counts);
  if (const auto it = rows.find(std::nullopt); it != rows.end()) line(label_text(std::nullopt), it->second);
  line("total", totals);
}

int run_split(const SplitArgs& args) {
  const auto scheme = parse_split_scheme(args.scheme);
  if (!scheme)
    throw CLI::ValidationError("--scheme", "must be per-class, fraction, fma (or source), artist or folds");
  SplitOptions options;
  options.scheme = *scheme;
  options.seed = args.seed;
  options.folds = args.folds;
  options.fold = args.fold;
  if (*scheme == SplitScheme::PerClass && (std::isnan(args.val) || std::isnan(args.test))) {
    std::cerr << "tunelens dataset split: error: --scheme per-class needs --val N and --test N (tracks per "
                 "label)\n";
    return kUsageError;
  }
  options.val = std::isnan(args.val) ? 0.1 : args.val;
  options.test = std::isnan(args.test) ? 0.1 : args.test;

  Catalog catalog = Catalog::open(args.catalog);
  SplitResult result;
  try {
    result = make_split(catalog.tracks(), options);
  } catch (const SplitError& error) {
    std::cerr << "tunelens dataset split: error: " << catalog.name() << ": " << error.what() << "\n";
    return kUsageError;
  }
  for (const auto& warning : result.warnings) std::cerr << "warning: " << warning << "\n";
  const bool replaced = catalog.split(args.name).has_value();
  catalog.set_split(args.name, to_string(*scheme), args.seed, split_parameters(options), result.assignments);
  std::size_t parts[3] = {};
  for (const auto& assignment : result.assignments) ++parts[static_cast<int>(assignment.part)];
  std::cout << fmt::format("split '{}'{}: {}, seed {}: {} train, {} val, {} test", args.name,
                           replaced ? " (replaced)" : "", to_string(*scheme), args.seed, parts[0], parts[1],
                           parts[2]);
  if (result.unlabelled) std::cout << fmt::format("; {} unlabelled tracks left out", result.unlabelled);
  if (result.without_source_split)
    std::cout << fmt::format("; {} tracks without a source split left out", result.without_source_split);
  std::cout << " -> " << catalog.name() << "\n";
  if (!args.quiet) print_split_table(catalog, args.name, std::cout);
  return kSuccess;
}

// --- info

struct InfoArgs {
  std::string catalog;
  std::string split;
};

// "sr 22050, n_fft 2048, hop 512, 128 mels 0-11025 Hz, dB ref-max top 80, float16"
std::string describe_config(const std::string& parameters) {
  try {
    const auto json = nlohmann::json::parse(parameters);
    std::string text =
        fmt::format("sr {}, n_fft {}, hop {}, {} mels {:g}-{:g} Hz, ", json.value("sample_rate", 0),
                    json.value("n_fft", 0), json.value("hop_length", 0), json.value("n_mels", 0),
                    json.value("fmin", 0.0), json.value("fmax", 0.0));
    const std::string db = json.value("db", "");
    text += db == "none" ? fmt::format("power {:g}", json.value("power", 2.0))
                         : fmt::format("dB {} top {:g}", db, json.value("top_db", 0.0));
    if (json.value("offset", 0.0) > 0) text += fmt::format(", from {:g} s", json.value("offset", 0.0));
    if (json.value("duration", -1.0) >= 0) text += fmt::format(", {:g} s", json.value("duration", -1.0));
    if (const std::string choices = describe_front_end_choices(feature_settings_from_json(json));
        !choices.empty())
      text += ", " + choices;
    return text + ", " + json.value("dtype", "");
  } catch (const std::exception&) {  // not JSON, or not feature settings: shown as it is
    return parameters;
  }
}

int run_info(const InfoArgs& args) {
  const Catalog catalog = Catalog::open(args.catalog);
  const auto splits = catalog.splits();
  std::cout << fmt::format("catalog {}: {} tracks, dataset root {} (schema {})\n", catalog.name(),
                           catalog.track_count(), catalog.dataset_root().string(), catalog.schema_version());
  std::string split_name = args.split;
  if (split_name.empty() && !splits.empty())
    split_name =
        std::any_of(splits.begin(), splits.end(), [](const SplitInfo& s) { return s.name == "default"; })
            ? "default"
            : splits.front().name;
  if (!split_name.empty()) {
    const auto split = catalog.split(split_name);
    if (!split) {
      std::cerr << "tunelens dataset info: error: " << catalog.name() << ": no split named '" << split_name
                << "'\n";
      return kUsageError;
    }
    std::cout << fmt::format("split '{}': scheme {}, seed {}, {} (made {})\n", split->name, split->scheme,
                             split->seed, split->parameters, split->created);
    print_split_table(catalog, split_name, std::cout);
    for (const auto& other : splits)
      if (other.name != split_name)
        std::cout << fmt::format("other split: '{}' ({})\n", other.name, other.scheme);
  } else {
    std::cout << "no split yet (tunelens dataset split)\n";
    std::size_t width = 5, total = 0;
    const auto labels = catalog.labels();
    for (const auto& count : labels) width = std::max(width, label_text(count.label).size());
    std::cout << fmt::format("  {:<{}}  {:>7}\n", "label", width, "tracks");
    for (const auto& count : labels) {
      std::cout << fmt::format("  {:<{}}  {:>7}\n", label_text(count.label), width, count.tracks);
      total += count.tracks;
    }
    std::cout << fmt::format("  {:<{}}  {:>7}\n", "total", width, total);
  }
  const auto configs = catalog.feature_configs();
  if (configs.empty()) std::cout << "features: none yet (tunelens extract)\n";
  for (const auto& config : configs) {
    // Done counts only files that are still there and whole; the others are said (extract computes them again).
    const std::size_t lost = lost_feature_tracks(catalog, config.id).size();
    std::cout << fmt::format("features {}: {} done, {} failed, {} missing{}; {}\n", config.id, config.done - lost,
                             config.failed, catalog.track_count() - config.done - config.failed + lost,
                             lost > 0 ? fmt::format(" ({} of them files deleted or damaged since: tunelens extract "
                                                    "computes them again)",
                                                    lost)
                                      : "",
                             describe_config(config.parameters));
  }
  return kSuccess;
}

}  // namespace

void add_dataset_command(CLI::App& app) {
  CLI::App* dataset =
      app.add_subcommand("dataset", "Import datasets into a catalog, split them, show what it holds");
  dataset->require_subcommand(1);

  CLI::App* import =
      dataset->add_subcommand("import", "Add the tracks of a dataset to a catalog (idempotent)");
  import->require_subcommand(1);
  add_import_kind(import, "folders", "One folder per label (GTZAN: genres/blues/blues.00000.au)",
                  std::make_shared<ImportArgs>());
  add_import_kind(import, "fma", "The Free Music Archive: tracks.csv and the audio folders",
                  std::make_shared<ImportArgs>());
  add_import_kind(import, "csv", "A CSV listing path,label[,artist,album,title,year,split]",
                  std::make_shared<ImportArgs>());
  add_import_kind(import, "albums", "An unlabelled collection, one folder per album",
                  std::make_shared<ImportArgs>());

  auto split_args = std::make_shared<SplitArgs>();
  CLI::App* split = dataset->add_subcommand("split", "Split the labelled tracks into train / val / test");
  split->add_option("--catalog", split_args->catalog, "Catalog file")->required();
  split
      ->add_option(
          "--scheme", split_args->scheme,
          "per-class (N per label), fraction (stratified), fma (the source's own split), artist (no artist "
          "in two parts), folds (k-fold cross-validation: test fold --fold, validation the next)")
      ->required();
  split->add_option("--val", split_args->val,
                    "Validation: tracks per label (per-class) or fraction (default 0.1)");
  split->add_option("--test", split_args->test,
                    "Test: tracks per label (per-class) or fraction (default 0.1)");
  split->add_option("--folds", split_args->folds, "folds: how many (default 5)")->capture_default_str();
  split->add_option("--fold", split_args->fold, "folds: the test fold, 0 .. folds - 1 (default 0)")->capture_default_str();
  split->add_option("--seed", split_args->seed, "Seed of the draw")->capture_default_str();
  split->add_option("--name", split_args->name, "Name of the split (replaces one of that name)")
      ->capture_default_str();
  split->add_flag("--quiet,-q", split_args->quiet, "Only the summary line");
  set_action(split, [split_args] { return run_split(*split_args); });

  auto info_args = std::make_shared<InfoArgs>();
  CLI::App* info =
      dataset->add_subcommand("info", "Tracks per label and split, and the feature configurations");
  info->add_option("--catalog", info_args->catalog, "Catalog file")->required();
  info->add_option("--split", info_args->split, "Split to show (default: 'default', or the only one)");
  set_action(info, [info_args] { return run_info(*info_args); });
}

}  // namespace tunelens::cli
