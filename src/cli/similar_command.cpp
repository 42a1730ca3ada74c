// tunelens similar: the catalog tracks nearest to a query under a model's stored vectors (tunelens index).
//
// The query is a track id, a track's path, a title (case-insensitive substring) or an audio file outside the
// catalog, whose vectors are computed on the fly with the model's feature settings. The defaults (--by
// embedding --metric cosine) rank by the network's penultimate layer; --by probs --metric sqeuclidean is the
// original study's recommender. --quality measures both recommenders on a split (recommend/quality.h)
// instead.
#include <charconv>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "app/ingest.h"
#include "app/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "recommend/catalog_index.h"
#include "recommend/quality.h"
#include "store/catalog.h"
#include "store/whole_file.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct SimilarArgs {
  std::string catalog, model, query;
  int k = 10;
  std::string by = "embedding";
  std::string metric = "cosine";
  std::string search = "auto";
  std::string format = "table";
  bool quality = false;
  std::string split = "default", part = "test";
  std::string markdown, json;
  int threads = 0;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::runtime_error no_vectors(const SimilarArgs& args) {
  return std::runtime_error(
      fmt::format("{}: no vectors of model {} yet; run `tunelens index --model {} --catalog {}`",
                  args.catalog, args.model, args.model, args.catalog));
}

// The query resolved: a catalog track, or an outside audio file.
struct Query {
  std::optional<Track> track;
  fs::path file;
};

// Finds what the query names; prints the candidates and returns nullopt when a title matches several tracks.
std::optional<Query> resolve_query(const Catalog& catalog, const std::string& text) {
  std::int64_t id = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), id);
  if (all_digits(text) && parsed.ec == std::errc() && parsed.ptr == text.data() + text.size()) {  // (too long: no id)
    if (auto track = catalog.find_track(id)) return Query{std::move(track), {}};
  }
  if (auto track = catalog.find_track(text)) return Query{std::move(track), {}};
  std::error_code error;
  if (fs::is_regular_file(text, error)) {
    if (auto track = catalog.find_track(catalog.relative_path(fs::absolute(text))))
      return Query{std::move(track), {}};
    return Query{std::nullopt, fs::path(text)};
  }
  const std::string needle = lower(text);
  const std::vector<Track> tracks = catalog.tracks();
  std::vector<const Track*> matches;
  for (const Track& track : tracks)
    if (track.title && lower(*track.title).find(needle) != std::string::npos) matches.push_back(&track);
  if (matches.size() == 1) return Query{*matches.front(), {}};
  if (matches.empty())
    throw std::runtime_error(fmt::format("'{}' is no track id, catalog path, title or audio file", text));
  std::cerr << fmt::format("tunelens similar: {} tracks match '{}'; name one by id or path:\n",
                           matches.size(), text);
  for (const Track* track : matches)
    std::cerr << fmt::format("  {}  {}  {}\n", track->id, track->title.value_or(""), track->path);
  return std::nullopt;
}

// The original study's recommender and the embedding one, as the issue compares them.
struct Recommender {
  const char* name;
  const char* kind;
  Metric metric;
};
constexpr Recommender kRecommenders[] = {{"original", "probs", Metric::SqEuclidean},
                                         {"embedding", "embedding", Metric::Cosine}};

// --quality: same-artist and same-genre shares of the k nearest tracks of every query track of a split part.
int run_quality(const SimilarArgs& args, const Catalog& catalog, const std::string& key) {
  const auto part = parse_split_part(args.part);
  if (!part) throw CLI::ValidationError("--part", "must be train, val or test");
  if (!catalog.split(args.split))
    throw std::runtime_error(
        fmt::format("{}: no split '{}' (tunelens dataset split makes one)", args.catalog, args.split));
  TrackQuery query;
  query.split_name = args.split;
  query.split_part = *part;
  std::vector<std::int64_t> ids;
  for (const Track& track : catalog.tracks(query)) ids.push_back(track.id);
  const std::size_t k = static_cast<std::size_t>(args.k);
  const unsigned threads = static_cast<unsigned>(std::max(0, args.threads));
  std::vector<RecommenderQuality> results;
  for (const Recommender& recommender : kRecommenders) {
    results.push_back(
        recommendation_quality(catalog, key, recommender.kind, recommender.metric, ids, k, threads));
    if (results.back().catalog == 0) throw no_vectors(args);
  }
  if (results.front().queries == 0)
    throw std::runtime_error(
        fmt::format("{}: none of the {} {} tracks of split '{}' has vectors; run `tunelens index`",
                    args.catalog, ids.size(), args.part, args.split));

  const RecommenderQuality& first = results.front();
  const std::string title = fmt::format(
      "recommendation quality: the {} nearest of each of {} {} tracks (split '{}') among {} tracks", k,
      first.queries, args.part, args.split, first.catalog);
  struct Line {
    std::string name, artist, genre;
  };
  std::vector<Line> lines;
  for (std::size_t i = 0; i < results.size(); ++i)
    lines.push_back({fmt::format("{} ({}, {})", kRecommenders[i].name, kRecommenders[i].kind,
                                 metric_name(kRecommenders[i].metric)),
                     fmt::format("{:.3f}", results[i].same_artist),
                     fmt::format("{:.3f}", results[i].same_label)});
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
    for (std::size_t i = 0; i < results.size(); ++i)
      recommenders.push_back({{"name", kRecommenders[i].name},
                              {"by", results[i].kind},
                              {"metric", metric_name(results[i].metric)},
                              {"same_artist", results[i].same_artist},
                              {"same_genre", results[i].same_label}});
    const nlohmann::json document = {
        {"split", args.split},
        {"part", args.part},
        {"k", k},
        {"queries", first.queries},
        {"catalog_tracks", first.catalog},
        {"recommenders", recommenders},
        {"random", {{"same_artist", first.random_artist}, {"same_genre", first.random_label}}}};
    write_whole_file(args.json, document.dump(2) + "\n");
  }
  return kSuccess;
}

int run_similar(const SimilarArgs& args) {
  if (args.k < 1) throw CLI::ValidationError("-k", "must be at least 1");
  if (args.by != "embedding" && args.by != "probs")
    throw CLI::ValidationError("--by", "must be probs or embedding");
  const Metric metric = parse_metric(args.metric);
  if (metric == Metric::JensenShannon && args.by != "probs")
    throw std::runtime_error("--metric js compares probability vectors: use it with --by probs");
  const app::NeighbourFormat format = app::parse_neighbour_format(args.format);
  require_model(args.model);
  if (!fs::exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  const ModelInfo info = read_model_info(args.model);
  const std::string key = app::model_vector_key(info, args.model);
  const Catalog catalog = Catalog::open(args.catalog);
  if (args.quality) return run_quality(args, catalog, key);
  if (args.query.empty()) throw CLI::ValidationError("query", "a query is needed (or --quality)");

  CatalogIndexOptions index_options;
  index_options.mode = parse_search_mode(args.search);
  index_options.index.threads = static_cast<unsigned>(std::max(0, args.threads));
  index_options.on_warning = [](const std::string& line) {
    std::cerr << "tunelens similar: warning: " << line << "\n";
  };
  const CatalogIndex found = open_catalog_index(catalog, key, args.by, metric, index_options);
  if (!found.index) throw no_vectors(args);
  const Index& index = *found.index;

  const std::optional<Query> query = resolve_query(catalog, args.query);
  if (!query) return kUsageError;

  std::optional<std::int64_t> query_id;
  std::vector<float> query_vector;
  if (query->track) {
    query_id = query->track->id;
    if (auto stored = catalog.vector(*query_id, key, args.by)) query_vector = std::move(*stored);
  }
  if (query_vector.empty()) {  // an outside file, or a track not indexed yet
    ModelLoadOptions load;
    load.threads = args.threads;
    const Model model = Model::load(args.model, load);
    Spectrogram features;
    const MelSpectrogram mel(model.features().settings.mel);
    if (query->track) {
      features = app::catalog_track_features(catalog, *query->track, model.features(), mel);
    } else {
      features = compute_track_features(query->file, model.features().settings, mel);
    }
    const app::TrackVectors computed = app::track_vectors(model, features);
    query_vector = args.by == "probs" ? computed.probs : computed.embedding;
  }
  if (query_vector.size() != index.dim())
    throw std::runtime_error(
        fmt::format("the query has {} values, the catalog's vectors {}", query_vector.size(), index.dim()));

  const std::size_t k = static_cast<std::size_t>(args.k);
  const SearchResults results = index.search(query_vector, k + 1);
  const std::string what = query->track ? fmt::format("track {} ({})", query->track->id,
                                                      query->track->title.value_or(query->track->path))
                                        : query->file.string();
  app::write_neighbours(std::cout, format, what, args.by, metric, index.kind(), index.size(),
                   app::neighbours_of(catalog, results, k, query_id));
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
  command
      ->add_option("--search", args->search,
                   "exact, hnsw or auto (hnsw with a saved file or for a large catalog; see README)")
      ->capture_default_str();
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
