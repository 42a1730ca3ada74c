// tunelens train: learn genre from a catalog's features; writes one model file.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "model/model.h"
#include "model/network_names.h"
#include "report/html.h"
#include "report/run_pages.h"
#include "store/whole_file.h"

namespace tunelens::cli {
namespace {

struct TrainArgs {
  std::string catalog;
  TrainOptions options;
  std::string model = "shortchunk";
  std::string normalise = "minmax";
  std::string augment = "none";
  std::string schedule = "cosine";
  std::string class_weights = "balanced";
  std::string init, backbone;
  std::string report;                     // --report FILE.html
  std::vector<std::string> report_links;  // --report-link: sibling pages for the report's navigation bar
  bool quiet = false;
  std::size_t kill_after_batches = 0;  // hidden, for tests: SIGKILL itself after this many batches
  CLI::Option* epochs = nullptr;
  CLI::Option* patience = nullptr;
  CLI::Option* threads = nullptr;
  CLI::Option* freeze = nullptr;
  CLI::Option* refit = nullptr;
  std::string pre_head;
  std::string solver;  // "": the default for the network
};

// The one-line progress of training on a terminal: epoch, batch, loss, accuracy, rate and time left.
class TrainingLine {
 public:
  explicit TrainingLine(bool quiet) : live_(!quiet && isatty(STDERR_FILENO) != 0) {}
  ~TrainingLine() { clear(); }
  void batch(const BatchProgress& p) {
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100) && p.batch != p.batches) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[Kepoch %d/%d  batch %zu/%zu  loss %.4f  acc %.3f  %.1f windows/s  %s left",
                 p.epoch, p.epochs, p.batch, p.batches, p.loss, p.accuracy, p.samples_per_second,
                 clock_text(p.eta_seconds).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  bool live_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

std::string metric(double value, const char* format = "{:.4f}") {
  return std::isfinite(value) ? fmt::format(fmt::runtime(format), value) : std::string("n/a");
}

// A model file's metadata as name-value rows ("network.depth" = "18"), for the report's settings and
// provenance.
void flatten(const nlohmann::json& value, const std::string& name, report::Facts& out) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      std::string child = name;
      if (!child.empty()) child += ".";
      child += key;
      flatten(item, child, out);
    }
  } else if (value.is_array() && value.size() > 16) {
    out.emplace_back(name, fmt::format("{} values", value.size()));  // e.g. normalisation statistics per band
  } else {
    out.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
  }
}

// The learning curves beside the history files (always), and the HTML report when asked for. The settings and
// provenance come from the model file the run wrote (the checkpoint when no epoch was kept).
void write_training_report(const TrainResult& result, const TrainArgs& args) {
  report::TrainingSummary summary;
  summary.model_file = result.model_file.string();
  summary.best_epoch = result.best_epoch;
  summary.stopped_early = result.stopped_early;
  summary.train_tracks = result.train_tracks;
  summary.val_tracks = result.val_tracks;
  for (const EpochRecord& e : result.history)
    summary.epochs.push_back(
        {e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.learning_rate, e.seconds});
  const std::string curves = result.model_file.string() + ".curves.svg";
  write_whole_file(curves, report::learning_curves_svg(summary.epochs));
  std::cout << "learning curves: " << curves << "\n";
  if (args.report.empty()) return;

  const std::filesystem::path source =
      std::filesystem::exists(result.model_file) ? result.model_file : result.checkpoint_file;
  const nlohmann::json meta = nlohmann::json::parse(read_model_info(source).metadata_json);
  for (const char* section : {"network", "training", "features"})
    if (meta.contains(section)) flatten(meta.at(section), section, summary.settings);
  if (meta.contains("classes")) flatten(meta.at("classes"), "classes", summary.settings);
  if (meta.contains("provenance")) {
    nlohmann::json provenance = meta.at("provenance");
    provenance.erase("metrics");  // the best epoch's numbers: shown in the summary and the epochs table
    flatten(provenance, "", summary.provenance);
  }
  const std::filesystem::path folder = std::filesystem::path(args.report).parent_path();
  for (const std::string& page : args.report_links) summary.links.push_back(report::page_link(page, folder));
  report::training_page(summary).write(args.report);
  std::cout << "report: " << args.report << "\n";
}

int run_train(TrainArgs& args) {
  TrainOptions& options = args.options;
  options.catalog = args.catalog;
  options.network.name = args.model;
  options.init = args.init;
  options.backbone = args.backbone;
  // A shipped network as backbone is frozen unless told: only the new head learns, on cached vectors, where
  // an epoch takes milliseconds: more of them, and more patience, than a network on spectrograms needs.
  if (!args.pre_head.empty()) options.network.pre_head = args.pre_head;
  if (const auto shipped = find_shipped_network(args.backbone)) {
    // Musicnn's pooled layer: 0.709 against its dense layer's 0.699 on the real excerpts (docs/real-music.md).
    if (shipped->architecture == "musicnn" && args.pre_head.empty()) options.network.pre_head = "pooled";
    if (args.freeze->count() == 0) options.freeze = 1;
    // The head alone is a convex problem: solved exactly along an L2 path (0.768 for msd-fcn against AdamW's
    // 0.756, both refitted, on the real excerpts), in fewer, longer epochs.
    if (options.freeze == 1 && args.solver.empty()) args.solver = "lbfgs";
    const bool lbfgs = args.solver == "lbfgs";
    if (options.freeze == 1 && args.epochs->count() == 0) options.epochs = lbfgs ? 11 : 100;
    if (options.freeze == 1 && args.patience->count() == 0) options.patience = lbfgs ? 3 : 20;
    // A head refitted on training and validation tracks measured 2-3 points better on 409 real excerpts
    // (docs/real-music.md), and costs seconds.
    if (options.freeze == 1 && args.refit->count() == 0) options.refit = true;
  }
  if (args.solver == "lbfgs")
    options.solver = Solver::Lbfgs;
  else if (args.solver.empty() || args.solver == "adamw")
    options.solver = Solver::AdamW;
  else
    throw CLI::ValidationError("--solver", "must be adamw or lbfgs");
  const auto normalisation = parse_normalisation(args.normalise);
  if (!normalisation) throw CLI::ValidationError("--normalise", "must be minmax, standard or none");
  options.normalisation = *normalisation;
  const auto schedule = parse_learning_rate_schedule(args.schedule);
  if (!schedule) throw CLI::ValidationError("--lr-schedule", "must be constant, cosine or plateau");
  options.schedule = *schedule;
  if (args.class_weights != "balanced" && args.class_weights != "none")
    throw CLI::ValidationError("--class-weights", "must be balanced or none");
  options.class_weights = args.class_weights == "balanced";
  try {
    parse_augmentations(args.augment, options.augment);
  } catch (const ModelError& error) {
    throw CLI::ValidationError("--aug", error.what());
  }
  if (!options.resume && args.catalog.empty())
    throw CLI::ValidationError("train", "needs a catalog (or --resume)");
  if (!options.resume && options.split.empty()) options.split = "default";
  if (options.resume &&
      (args.epochs->count() == 0 || args.patience->count() == 0 || args.threads->count() == 0)) {
    // Go on as the run was started (the thread count too: it decides the order of sums, so the result),
    // unless told to train longer, stop differently or use other threads.
    const nlohmann::json meta =
        nlohmann::json::parse(read_model_info(checkpoint_path(options.out)).metadata_json);
    if (args.epochs->count() == 0) options.epochs = meta.at("training").at("epochs").get<int>();
    if (args.patience->count() == 0) options.patience = meta.at("training").at("patience").get<int>();
    if (args.threads->count() == 0) options.threads = meta.at("provenance").at("threads").get<int>();
  }

  TrainingLine line(args.quiet);
  std::mutex mutex;
  std::size_t batches = 0;
  TrainCallbacks callbacks;
  callbacks.on_message = [&](const std::string& text) {
    line.clear();
    std::cerr << "tunelens train: " << text << "\n";
  };
  callbacks.on_batch = [&](const BatchProgress& progress) {
    line.batch(progress);
    if (args.kill_after_batches > 0 && ++batches >= args.kill_after_batches) std::raise(SIGKILL);
  };
  callbacks.on_epoch = [&](const EpochRecord& e, bool best) {
    line.clear();
    const std::string step = std::isnan(e.l2) ? fmt::format("lr {:.3g}", e.learning_rate)
                                              : fmt::format("l2 {:.3g}", e.l2);
    std::cout << fmt::format("epoch {}: train loss {} acc {} | val loss {} acc {} | {} | {:.1f} s{}\n", e.epoch,
                             metric(e.train_loss), metric(e.train_accuracy, "{:.3f}"), metric(e.val_loss),
                             metric(e.val_accuracy, "{:.3f}"), step, e.seconds, best ? "  (best)" : "");
    std::cout.flush();
  };
  const TrainResult result = train_model(options, callbacks);
  line.clear();
  std::string best;
  for (const auto& e : result.refitted ? result.selection_history : result.history)
    if (e.epoch == result.best_epoch)
      best =
          fmt::format("val loss {}, val accuracy {}", metric(e.val_loss), metric(e.val_accuracy, "{:.3f}"));
  std::cout << fmt::format(
      "train: {} epochs{} on {} training / {} validation tracks; best epoch {} ({}) -> {}\n",
      result.history.size(), result.stopped_early ? " (stopped early)" : "", result.train_tracks,
      result.val_tracks, result.best_epoch, best, result.model_file.string());
  if (result.refitted)
    std::cout << fmt::format("refit: the model is the network trained again for {} epochs on the {} training and "
                             "{} validation tracks together\n",
                             result.best_epoch, result.train_tracks, result.val_tracks);
  std::cout << fmt::format("history: {} and {}; checkpoint: {}\n", result.history_csv.string(),
                           result.history_json.string(), result.checkpoint_file.string());
  write_training_report(result, args);
  return kSuccess;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  TrainOptions& o = args->options;
  CLI::App* command =
      app.add_subcommand("train", "Train a network on a catalog's features and write a model file");
  command->add_option("catalog", args->catalog, "The catalog (with a split and features)");
  command->add_option(
      "--split", o.split,
      "Split of the catalog: train part to learn, val part to stop early (default: default, the name "
      "`tunelens dataset split` gives; with --resume: the checkpoint's)");
  command
      ->add_option("--out,-o", o.out, "Model file to write when the run ends well (also <out>.checkpoint, <out>.history.csv/json, and <out>.best while it runs)")
      ->required();
  command->add_option("--features", o.feature_config,
                      "Feature configuration id (default: the catalog's only one)");
  command
      ->add_option("--model", args->model, "Network: " + trainable_network_list())
      ->check(CLI::IsMember(trainable_networks()))
      ->capture_default_str();
  command->add_option("--depth", o.network.depth, "resnet depth: 10, 18, 34 or 50")->capture_default_str();
  command->add_option("--width", o.network.width, "Base channels (default: resnet 64, shortchunk 128)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--dropout", o.network.dropout, "Dropout before the last layers")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  command->add_option("--n-mfcc", o.network.n_mfcc, "mfcc-linear: MFCCs per frame")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command->add_option("--window", o.window_frames,
                      "Frames per network input (default: shortchunk 128, else 1024)")
      ->check(CLI::Range(0, 16384));
  command
      ->add_option("--normalise", args->normalise,
                   "Window scaling: minmax (per window), standard (dataset), none")
      ->capture_default_str();
  command->add_option("--aug", args->augment, "Augmentations: none, or a list of zoom, crop, masks, mixup")
      ->capture_default_str();
  command->add_option("--zoom-range", o.augment.zoom_range, "zoom: factors in [1 - r, 1 + r]")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  command->add_option("--freq-masks", o.augment.freq_masks, "masks: frequency masks per window")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  command
      ->add_option("--freq-mask-width", o.augment.freq_mask_width,
                   "masks: widest frequency mask (0: rows / 8)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_option("--time-masks", o.augment.time_masks, "masks: time masks per window")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  command
      ->add_option("--time-mask-width", o.augment.time_mask_width, "masks: widest time mask (0: frames / 10)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_option("--mixup-alpha", o.augment.mixup_alpha, "mixup: λ ~ Beta(α, α)")
      ->check(CLI::Range(1e-3, 100.0))
      ->capture_default_str();
  args->epochs = command->add_option("--epochs", o.epochs, "Most epochs to train")
                     ->check(CLI::Range(1, 100000))
                     ->capture_default_str();
  command->add_option("--batch-size", o.batch_size, "Windows per batch")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  command->add_option("--lr", o.learning_rate, "Adam learning rate")
      ->check(CLI::Range(1e-12, 100.0))
      ->capture_default_str();
  command->add_option("--weight-decay", o.weight_decay, "Decoupled weight decay (AdamW)")
      ->capture_default_str();
  command->add_option("--lr-schedule", args->schedule, "constant, cosine or plateau")->capture_default_str();
  command->add_option("--warmup", o.warmup_epochs, "Epochs of linear learning-rate warm-up")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  args->patience = command
                       ->add_option("--patience", o.patience,
                                    "Stop after this many epochs without a better "
                                    "validation loss (0: never)")
                       ->check(CLI::Range(0, 100000))
                       ->capture_default_str();
  command->add_option("--class-weights", args->class_weights, "balanced (inverse class frequency) or none")
      ->capture_default_str();
  command->add_option("--seed", o.seed, "Seed of every random choice")->capture_default_str();
  args->threads = command->add_option("--threads,-j", o.threads, "Threads (default: all cores)")->check(thread_count());
  command->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  command->add_option("--init", args->init,
                      "Start from this model file's weights (layers matching by name and shape)");
  command->add_option("--solver", args->solver,
                      "adamw (minibatches; --lr, --weight-decay, --lr-schedule) or lbfgs (linear heads only: "
                      "each epoch solves the whole set exactly with an L2 penalty 10^(-epoch/2), the validation "
                      "loss picks it). Default: lbfgs for a new head on a frozen shipped network (with --epochs "
                      "11 --patience 3), adamw otherwise");
  command->add_option("--pre-head", args->pre_head,
                      "musicnn: the layer the new head reads: pooled (its pooled front and back end, 1506-d; "
                      "the default for --backbone) or dense (the tagger's own 200-d layer)");
  args->refit = command->add_flag(
      "--refit,!--no-refit", o.refit,
      "After the run, train again from the start on the training and validation tracks together for the best "
      "epoch's number of epochs, and keep that model (default: on for a new head on a frozen shipped network, "
      "off otherwise)");
  args->freeze =
      command->add_option("--freeze", o.freeze,
                          "Train only the last K blocks (0: all; default 0, or 1 (the head) with a shipped "
                          "--backbone; 3 fine-tunes Musicnn's dense layer and last back-end block too)")
          ->check(CLI::Range(0, 1000));
  // (with a frozen shipped backbone, --solver defaults to lbfgs, --epochs to 11, --patience to 3 and --refit
  // on: see run_train)
  command->add_option(
      "--backbone", args->backbone,
      "A new head on a shipped pretrained network (tunelens model list: jamendo-musicnn, ...), frozen "
      "unless --freeze says otherwise; or a TorchScript feature extractor (.pt)");
  command->add_flag("--resume", o.resume, "Continue the run in <out>.checkpoint");
  command->add_option(
      "--report", args->report,
      "Also write an HTML report: learning curves, epochs, settings, provenance (the learning curves "
      "are always written as <out>.curves.svg)");
  command->add_option("--report-link", args->report_links,
                      "A report page to link from this one (repeatable)");
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  command->add_option("--debug-kill-after-batches", args->kill_after_batches)->group("");
  set_action(command, [args] { return run_train(*args); });
}

}  // namespace tunelens::cli
