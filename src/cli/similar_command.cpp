// tunelens similar: the catalog tracks nearest to a query under a model's stored vectors (tunelens index).
//
// The query is a track id, a track's path, a title (case-insensitive substring) or an audio file outside the
// catalog, whose vectors are computed on the fly with the model's feature settings. The defaults (--by
// embedding --metric cosine) rank by the network's penultimate layer; --by probs --metric sqeuclidean is the
// original study's recommender. --quality measures both recommenders on a split (recommend/quality.h)
// instead.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/search.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/index_flags.h"
#include "cli/neighbours_output.h"
#include "store/catalog.h"
#include "store/json_text.h"
#include "store/whole_file.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct SimilarArgs {
  std::string catalog, model, query;
  int k = 10;
  std::string by = "embedding";
  std::string metric = "cosine";
  IndexFlags index;
  std::string format = "table";
  bool quality = false;
  std::string split = "default", part = "test";
  std::string markdown, json;
  int threads = 0;
};

// The command's own words for the app layer's errors: the catalog and model it was given, the command to run.
[[noreturn]] void rethrow_for_user(const SimilarArgs& args) {
  try {
    throw;
  } catch (const app::NotIndexed& error) {
    throw std::runtime_error(fmt::format("{}; run `tunelens index --model {} --catalog {}`", error.what(),
                                         args.model, masked_location(args.catalog)));
  }
}

// --quality: same-artist and same-genre shares of the k nearest tracks of every query track of a split part.
int run_quality(const SimilarArgs& args, const Catalog& catalog, const std::string& key) {
  app::QualityRequest request;
  request.split = args.split;
  request.part = args.part;
  request.k = static_cast<std::size_t>(args.k);
  request.threads = args.threads;
  app::QualityResult result;
  try {
    result = app::compare_recommenders(catalog, key, request);
  } catch (const app::NotIndexed&) {
    rethrow_for_user(args);
  }
  const RecommenderQuality& first = result.recommenders.front().quality;
  const std::string title = fmt::format(
      "recommendation quality: the {} nearest of each of {} {} tracks (split '{}') among {} tracks",
      request.k, first.queries, args.part, args.split, first.catalog);
  struct Line {
    std::string name, artist, genre;
  };
  std::vector<Line> lines;
  for (const app::NamedQuality& named : result.recommenders)
    lines.push_back(
        {fmt::format("{} ({}, {})", named.name, named.quality.kind, metric_name(named.quality.metric)),
         fmt::format("{:.3f}", named.quality.same_artist), fmt::format("{:.3f}", named.quality.same_label)});
  lines.push_back({"random (expected)", fmt::format("{:.3f}", first.random_artist),
                   fmt::format("{:.3f}", first.random_label)});

  std::cout << title << "\n";
  std::size_t width = std::string("recommender").size();
  for (const Line& line : lines) width = std::max(width, line.name.size());
  std::cout << fmt::format("{:<{}}  {:>11}  {:>10}\n", "recommender", width, "same artist", "same genre");
  for (const Line& line : lines)
    std::cout << fmt::format("{:<{}}  {:>11}  {:>10}\n", line.name, width, line.artist, line.genre);

  if (!args.markdown.empty()) {
    std::string markdown = "| recommender | same artist | same genre |\n|---|---|---|\n";
    for (const Line& line : lines)
      markdown += fmt::format("| {} | {} | {} |\n", line.name, line.artist, line.genre);
    markdown += fmt::format("\n{}.\n", title);
    write_whole_file(args.markdown, markdown);
  }
  if (!args.json.empty()) {
    nlohmann::json recommenders = nlohmann::json::array();
    for (const app::NamedQuality& named : result.recommenders)
      recommenders.push_back({{"name", named.name},
                              {"by", named.quality.kind},
                              {"metric", metric_name(named.quality.metric)},
                              {"same_artist", named.quality.same_artist},
                              {"same_genre", named.quality.same_label}});
    const nlohmann::json document = {
        {"split", args.split},
        {"part", args.part},
        {"k", request.k},
        {"queries", first.queries},
        {"catalog_tracks", first.catalog},
        {"recommenders", recommenders},
        {"random", {{"same_artist", first.random_artist}, {"same_genre", first.random_label}}}};
    write_whole_file(args.json, json_text(document, 2) + "\n");
  }
  return kSuccess;
}

int run_similar(const SimilarArgs& args) {
  if (args.k < 1) throw CLI::ValidationError("-k", "must be at least 1");
  app::SimilarRequest request;
  request.k = static_cast<std::size_t>(args.k);
  request.by = args.by;
  request.metric = parse_metric(args.metric);
  app::check_similar_request(request);
  const NeighbourFormat format = parse_neighbour_format(args.format);
  const std::string key = app::vector_key_of(args.model);
  if (!catalog_exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  const Catalog catalog = Catalog::open(args.catalog);
  if (args.quality) return run_quality(args, catalog, key);
  if (args.query.empty()) throw CLI::ValidationError("query", "a query is needed (or --quality)");

  app::CatalogIndexes::Options index_options;
  const IndexChoice choice = args.index.choice();
  index_options.mode = choice.mode;
  index_options.faiss_kind = choice.faiss_kind;
  index_options.nprobe = args.index.nprobe;
  index_options.probe_ratio = args.index.probe_ratio;
  index_options.ef_search = args.index.ef_search;
  index_options.threads = args.threads;
  index_options.on_warning = [](const std::string& line) {
    std::cerr << "tunelens similar: warning: " << line << "\n";
  };
  app::CatalogIndexes indexes(catalog, key, index_options);
  app::LazyModel model(args.model, args.threads);
  app::Recommender recommender(catalog, indexes, model);
  app::SimilarResult result;
  try {
    result = recommender.similar(args.query, request);
  } catch (const app::AmbiguousQuery& ambiguous) {
    std::cerr << "tunelens similar: " << ambiguous.what() << ":\n";
    for (const Track& track : ambiguous.matches())
      std::cerr << fmt::format("  {}  {}  {}\n", track.id, track.title.value_or(""), track.path);
    return kUsageError;
  } catch (const app::NotIndexed&) {
    rethrow_for_user(args);
  }
  write_neighbours(std::cout, format, result);
  return kSuccess;
}

}  // namespace

void add_similar_command(CLI::App& app) {
  auto args = std::make_shared<SimilarArgs>();
  CLI::App* command =
      app.add_subcommand("similar", "Find the catalog tracks that sound most like a track or an audio file");
  command->add_option("--catalog", args->catalog, "Catalog indexed with `tunelens index`")->required();
  command->add_option("--model,-m", args->model, "Model file the catalog was indexed with")->required();
  command->add_option("query", args->query, "Track id, catalog path, title (substring) or audio file");
  command->add_option("-k", args->k, "How many tracks to list")->capture_default_str();
  command->add_option("--by", args->by, "Vectors to compare: embedding or probs")->capture_default_str();
  command->add_option("--metric", args->metric, "Distance: cosine, sqeuclidean or js")->capture_default_str();
  add_index_flags(command, args->index,
                  "auto: the saved index file, else hnsw for a large catalog, else exact (see README)");
  command->add_option("--format", args->format, "table, json or csv")->capture_default_str();
  command->add_flag(
      "--quality", args->quality,
      "Instead of a query: same-artist and same-genre shares of the k nearest tracks of every track "
      "of --part, for the original (probs, sqeuclidean) and embedding (cosine) recommenders");
  command->add_option("--split", args->split, "--quality: split of the catalog")->capture_default_str();
  command->add_option("--part", args->part, "--quality: part of the split (test, val or train)")
      ->capture_default_str();
  command->add_option("--markdown", args->markdown, "--quality: also write the table as Markdown to FILE");
  command->add_option("--json", args->json, "--quality: also write the figures as JSON to FILE");
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)")->check(thread_count());
  set_action(command, [args] { return run_similar(*args); });
}

}  // namespace tunelens::cli
