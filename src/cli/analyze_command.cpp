// tunelens analyze: a whole collection through a model (app/analyze.h), written as tables and one HTML report
// (analysis/collection_report.h), with a summary of the albums and the map.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>

#include "analysis/collection_report.h"
#include "app/analyze.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/progress.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct AnalyzeArgs {
  app::AnalyzeRequest request;
  std::string out;
  bool quiet = false;
};

void print_summary(const CollectionAnalysis& analysis, std::size_t problems, double seconds,
                   const fs::path& out) {
  std::cout << fmt::format(
      "analyze: {} albums, {} songs{} in {:.1f} s\n", analysis.albums.size(), analysis.songs.size(),
      problems > 0 ? fmt::format(" ({} inputs left out)", problems) : std::string(), seconds);
  for (const AlbumAnalysis& album : analysis.albums)
    std::cout << fmt::format("  {:>2}. {}: {} songs, {} (variety {:.3f})\n", album.position,
                             album_label(album), album.songs.size(),
                             genre_list(analysis, album.dominant, album.distribution), album.variety);
  if (analysis.songs.size() > 1)
    std::cout << fmt::format(
        "map: {:.1f}% of each song's {} nearest map neighbours are from its own album (a random map: "
        "{:.1f}%, "
        "{:.1f}x)\n",
        100 * analysis.album_neighbour_share, analysis.share_k, 100 * analysis.random_share,
        analysis.random_share > 0 ? analysis.album_neighbour_share / analysis.random_share : 0.0);
  std::cout << fmt::format("report: {} (tables: songs, albums, neighbours, map .csv/.json; map.png)\n",
                           (out / "report.html").string());
}

int run_analyze(const AnalyzeArgs& args) {
  const app::AnalyzeRequest& request = args.request;
  const auto start = std::chrono::steady_clock::now();
  ItemProgress progress("analyze", "analyze: decoding", args.quiet);
  const app::AnalyzeResult result = app::analyze(
      request,
      [&](const Collection& collection) {
        // After the model and the collection are found, before every song is analysed (not after).
        require_writable_folder(args.out);
        for (const std::string& note : collection.notes)
          std::cerr << "tunelens analyze: note: " << note << "\n";
        for (const CollectionProblem& problem : collection.problems)
          std::cerr << fmt::format("tunelens analyze: error: {}: {}\n", problem.file, problem.reason);
      },
      std::ref(progress));
  progress.finish();

  CollectionReportContext context;
  context.collection = request.catalog.empty() ? request.collection : request.catalog;
  context.model = request.model;
  context.problems = result.left_out();
  write_collection_report(result.analysis, context, args.out);
  print_summary(result.analysis, result.left_out(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), args.out);
  return result.left_out() > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* command = app.add_subcommand(
      "analyze",
      "Study a collection of albums: genre profiles per song and album, nearest songs, a map, a report");
  command->add_option("--model,-m", args->request.model, "Model file")->required();
  command->add_option(
      "collection", args->request.collection,
      "Collection folder: one subfolder per album (\"<Artist> - <year> - <Album>\", \"<year> - "
      "<Album>\", \"<NN> <Album>\")");
  command->add_option("--catalog", args->request.catalog,
                      "Analyse a catalog's tracks instead (album, artist, year metadata)");
  command->add_option("--order", args->request.order,
                      "Album release order: a file with one album folder name per line");
  command->add_option("--out,-o", args->out, "Report folder (tables, map.png, report.html)")->required();
  command
      ->add_option("--perplexity", args->request.perplexity,
                   "t-SNE perplexity (lowered to (songs - 1) / 3 for small collections)")
      ->capture_default_str();
  command->add_option("--seed", args->request.seed, "t-SNE seed: the same seed gives the same map")
      ->capture_default_str();
  command->add_option("--iterations", args->request.iterations, "t-SNE gradient steps")->capture_default_str();
  command->add_option("--neighbours,-k", args->request.neighbours, "Nearest songs listed per song")
      ->capture_default_str();
  command->add_option("--top-k", args->request.top_k, "Top genres per song and album")->capture_default_str();
  command->add_option(
      "--tags", args->request.tags,
      "Tag models: profile songs and albums by the tags of one kind only: genre, instrument, mood, voice, era "
      "(default: all)");
  command->add_option("--map-by", args->request.map_by, "What the map is drawn from: embedding or probs")
      ->capture_default_str();
  command->add_option("--threads,-j", args->request.threads, "Songs decoded at once (default: all cores)")->check(thread_count());
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  set_action(command, [args] { return run_analyze(*args); });
}

}  // namespace tunelens::cli
