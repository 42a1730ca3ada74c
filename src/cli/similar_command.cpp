// tunelens similar: the catalog tracks nearest to a query under a model's stored vectors (tunelens index).
//
// The query is a track id, a track's path, a title (case-insensitive substring) or an audio file outside the
// catalog, whose vectors are computed on the fly with the model's feature settings. The defaults (--by
// embedding --metric cosine) rank by the network's penultimate layer; --by probs --metric sqeuclidean is the
// original study's recommender.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "recommend/index.h"
#include "store/catalog.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct SimilarArgs {
  std::string catalog, model, query;
  int k = 10;
  std::string by = "embedding";
  std::string metric = "cosine";
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

// The query resolved: a catalog track, or an outside audio file.
struct Query {
  std::optional<Track> track;
  fs::path file;
};

// Finds what the query names; prints the candidates and returns nullopt when a title matches several tracks.
std::optional<Query> resolve_query(const Catalog& catalog, const std::vector<Track>& tracks,
                                   const std::string& text) {
  if (all_digits(text)) {
    if (auto track = catalog.find_track(std::stoll(text))) return Query{std::move(track), {}};
  }
  if (auto track = catalog.find_track(text)) return Query{std::move(track), {}};
  std::error_code error;
  if (fs::is_regular_file(text, error)) {
    if (auto track = catalog.find_track(catalog.relative_path(fs::absolute(text))))
      return Query{std::move(track), {}};
    return Query{std::nullopt, fs::path(text)};
  }
  const std::string needle = lower(text);
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

std::string cell(const std::optional<std::string>& value) {
  return value && !value->empty() ? *value : "-";
}

int run_similar(const SimilarArgs& args) {
  if (args.k < 1) throw CLI::ValidationError("-k", "must be at least 1");
  if (args.by != "embedding" && args.by != "probs")
    throw CLI::ValidationError("--by", "must be probs or embedding");
  const Metric metric = parse_metric(args.metric);
  if (metric == Metric::JensenShannon && args.by != "probs")
    throw std::runtime_error("--metric js compares probability vectors: use it with --by probs");
  if (!fs::exists(args.model)) throw ModelError(args.model + ": no such model file");
  if (!fs::exists(args.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, args.catalog, "no such catalog");
  const ModelInfo info = read_model_info(args.model);
  const std::string key = model_vector_key(info, args.model);
  const Catalog catalog = Catalog::open(args.catalog);
  const std::vector<Track> tracks = catalog.tracks();

  std::vector<std::int64_t> ids;
  std::vector<float> vectors;
  std::size_t dim = 0;
  std::vector<float> query_vector;
  for (const Track& track : tracks) {
    auto vector = catalog.vector(track.id, key, args.by);
    if (!vector || vector->empty()) continue;
    if (dim == 0) dim = vector->size();
    if (vector->size() != dim)
      throw std::runtime_error(fmt::format("track {}: its {} vector has {} values, others {}", track.id,
                                           args.by, vector->size(), dim));
    ids.push_back(track.id);
    vectors.insert(vectors.end(), vector->begin(), vector->end());
  }
  if (ids.empty())
    throw std::runtime_error(
        fmt::format("{}: no vectors of model {} yet; run `tunelens index --model {} --catalog {}`",
                    args.catalog, args.model, args.model, args.catalog));

  const std::optional<Query> query = resolve_query(catalog, tracks, args.query);
  if (!query) return kUsageError;

  std::optional<std::int64_t> query_id;
  if (query->track) {
    query_id = query->track->id;
    const auto position = std::find(ids.begin(), ids.end(), *query_id);
    if (position != ids.end()) {
      const std::size_t row = static_cast<std::size_t>(position - ids.begin());
      query_vector.assign(vectors.begin() + static_cast<std::ptrdiff_t>(row * dim),
                          vectors.begin() + static_cast<std::ptrdiff_t>((row + 1) * dim));
    }
  }
  if (query_vector.empty()) {  // an outside file, or a track not indexed yet
    ModelLoadOptions load;
    load.threads = args.threads;
    const Model model = Model::load(args.model, load);
    Spectrogram features;
    const MelSpectrogram mel(model.features().settings.mel);
    if (query->track) {
      features = catalog_track_features(catalog, *query->track, model.features(), mel);
    } else {
      features = compute_track_features(query->file, model.features().settings, mel);
    }
    const TrackVectors computed = track_vectors(model, features);
    query_vector = args.by == "probs" ? computed.probs : computed.embedding;
    if (query_vector.size() != dim)
      throw std::runtime_error(fmt::format("the model gives {} values for the query, the catalog holds {}",
                                           query_vector.size(), dim));
  }

  IndexOptions options;
  options.threads = static_cast<unsigned>(std::max(0, args.threads));
  const std::unique_ptr<Index> index = make_index(recommended_index_kind(ids.size()), dim, metric, options);
  index->add(ids, vectors);
  const std::size_t k = static_cast<std::size_t>(args.k);
  const SearchResults results = index->search(query_vector, k + 1);

  const std::string what = query->track ? fmt::format("track {} ({})", query->track->id,
                                                      query->track->title.value_or(query->track->path))
                                        : query->file.string();
  std::cout << fmt::format("similar to {}: by {}, {} distance, {} index of {} tracks\n", what, args.by,
                           metric_name(metric), index->kind(), ids.size());
  struct Row {
    std::string rank, distance, title, artist, album, label, path;
  };
  std::vector<Row> rows = {{"rank", "distance", "title", "artist", "album", "label", "path"}};
  const auto found_ids = results.ids_of(0);
  const auto distances = results.distances_of(0);
  for (std::size_t i = 0; i < results.found(0) && rows.size() <= k; ++i) {
    if (query_id && found_ids[i] == *query_id) continue;
    const auto track = catalog.find_track(found_ids[i]);
    if (!track) continue;
    rows.push_back({std::to_string(rows.size()), fmt::format("{:.6f}", distances[i]), cell(track->title),
                    cell(track->artist), cell(track->album), cell(track->label), track->path});
  }
  std::size_t widths[6] = {};
  for (const Row& row : rows) {
    const std::string* cells[6] = {&row.rank, &row.distance, &row.title, &row.artist, &row.album, &row.label};
    for (int c = 0; c < 6; ++c) widths[c] = std::max(widths[c], cells[c]->size());
  }
  for (const Row& row : rows)
    std::cout << fmt::format("{:>{}}  {:>{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", row.rank, widths[0],
                             row.distance, widths[1], row.title, widths[2], row.artist, widths[3], row.album,
                             widths[4], row.label, widths[5], row.path);
  return kSuccess;
}

}  // namespace

void add_similar_command(CLI::App& app) {
  auto args = std::make_shared<SimilarArgs>();
  CLI::App* command =
      app.add_subcommand("similar", "Find the catalog tracks that sound most like a track or an audio file");
  command->add_option("--catalog", args->catalog, "Catalog indexed with `tunelens index`")->required();
  command->add_option("--model,-m", args->model, "Model file the catalog was indexed with")->required();
  command->add_option("query", args->query, "Track id, catalog path, title (substring) or audio file")
      ->required();
  command->add_option("-k", args->k, "How many tracks to list")->capture_default_str();
  command->add_option("--by", args->by, "Vectors to compare: embedding or probs")->capture_default_str();
  command->add_option("--metric", args->metric, "Distance: cosine, sqeuclidean or js")->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Threads (default: all cores)");
  set_action(command, [args] { return run_similar(*args); });
}

}  // namespace tunelens::cli
