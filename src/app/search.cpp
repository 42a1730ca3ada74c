#include "app/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "data/extract.h"
#include "model/model.h"

namespace tunelens::app {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<std::int64_t> parse_id(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  std::int64_t id = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), id);
  if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) return std::nullopt;  // too long
  return id;
}

}  // namespace

std::vector<Neighbour> neighbours_of(const Catalog& catalog, const SearchResults& results, std::size_t k,
                                     std::optional<std::int64_t> exclude) {
  std::vector<Neighbour> out;
  const auto ids = results.ids_of(0);
  const auto distances = results.distances_of(0);
  for (std::size_t i = 0; i < results.found(0) && out.size() < k; ++i) {
    if (exclude && ids[i] == *exclude) continue;
    const auto track = catalog.find_track(ids[i]);
    if (!track) continue;  // removed since it was indexed
    out.push_back({track->id, distances[i], track->title.value_or(""), track->artist.value_or(""),
                   track->album.value_or(""), track->label.value_or(""), track->path});
  }
  return out;
}

std::string ResolvedQuery::described() const {
  if (track) return fmt::format("track {} ({})", track->id, track->title.value_or(track->path));
  return file.string();
}

AmbiguousQuery::AmbiguousQuery(const std::string& text, std::vector<Track> matches)
    : BadRequest("query", fmt::format("{} tracks match '{}'; name one by id or path", matches.size(), text)),
      matches_(std::move(matches)) {}

ResolvedQuery resolve_query(const Catalog& catalog, const std::string& text) {
  if (const auto id = parse_id(text))
    if (auto track = catalog.find_track(*id)) return {std::move(track), {}};
  if (auto track = catalog.find_track(text)) return {std::move(track), {}};
  std::error_code error;
  if (fs::is_regular_file(text, error)) {
    if (auto track = catalog.find_track(catalog.relative_path(fs::absolute(text))))
      return {std::move(track), {}};
    return {std::nullopt, fs::path(text)};
  }
  const std::string needle = lower(text);
  std::vector<Track> matches;
  if (!needle.empty())
    for (Track& track : catalog.tracks())
      if (track.title && lower(*track.title).find(needle) != std::string::npos)
        matches.push_back(std::move(track));
  if (matches.size() == 1) return {std::move(matches.front()), {}};
  if (matches.empty())
    throw NotFound(fmt::format("'{}' is no track id, catalog path, title or audio file", text));
  throw AmbiguousQuery(text, std::move(matches));
}

void check_similar_request(const SimilarRequest& request) {
  if (request.k < 1) throw BadRequest("k", "must be at least 1");
  if (request.by != "embedding" && request.by != "probs")
    throw BadRequest("by", "must be probs or embedding");
  if (request.metric == Metric::JensenShannon && request.by != "probs")
    throw BadRequest("metric", "js compares probability vectors: use it with probs, not embedding");
}

// ---- CatalogIndexes ----

struct CatalogIndexes::Open {
  IndexedVectors what;
  CatalogIndex index;
  bool changed = false;
};

CatalogIndexes::CatalogIndexes(const Catalog& catalog, std::string model_key, Options options)
    : catalog_(catalog), key_(std::move(model_key)), options_(std::move(options)) {}

CatalogIndexes::~CatalogIndexes() = default;

IndexOptions CatalogIndexes::index_settings() const {
  IndexOptions settings;
  settings.threads = static_cast<unsigned>(std::max(0, options_.threads));
  settings.nprobe = options_.nprobe;
  settings.probe_ratio = options_.probe_ratio;
  settings.ef_search = options_.ef_search;
  return settings;
}

std::shared_lock<std::shared_mutex> CatalogIndexes::read_lock() {
  { const std::lock_guard gate(turnstile_); }
  return std::shared_lock(mutex_);
}

std::unique_lock<std::shared_mutex> CatalogIndexes::write_lock() {
  const std::lock_guard gate(turnstile_);
  return std::unique_lock(mutex_);
}

CatalogIndexes::Open& CatalogIndexes::open_locked(const std::string& kind, Metric metric, SearchMode mode) {
  const IndexedVectors what{kind, metric};
  for (auto& open : open_)
    if (open->what == what) return *open;
  CatalogIndexOptions index_options;
  index_options.mode = mode;
  index_options.faiss_kind = options_.faiss_kind;
  index_options.index = index_settings();
  index_options.on_warning = options_.on_warning;
  auto open = std::make_unique<Open>();
  open->what = what;
  open->index = open_catalog_index(catalog_, key_, kind, metric, index_options);
  open_.push_back(std::move(open));
  return *open_.back();
}

void CatalogIndexes::open_saved() {
  const auto lock = write_lock();
  for (const IndexedVectors& saved : saved_catalog_indexes(catalog_.file(), key_))
    open_locked(saved.kind, saved.metric, SearchMode::Auto);  // Auto opens the saved file, of either kind
}

bool CatalogIndexes::try_open(const std::string& kind, Metric metric) {
  {
    const auto lock = read_lock();
    const IndexedVectors what{kind, metric};
    for (const auto& open : open_)
      if (open->what == what && open->index.index) return true;
  }
  // Not open, or open while the catalog had none of these vectors: read them from the catalog (again).
  const auto lock = write_lock();
  const IndexedVectors what{kind, metric};
  std::erase_if(open_, [&](const auto& open) { return open->what == what && !open->index.index; });
  return open_locked(kind, metric, options_.mode).index.index != nullptr;
}

void CatalogIndexes::open(const std::string& kind, Metric metric) {
  if (!try_open(kind, metric))
    throw NotIndexed(fmt::format("{}: no {} vectors of model {} yet", catalog_.name(), kind, key_));
}

CatalogIndexes::Found CatalogIndexes::search(const std::string& kind, Metric metric,
                                             std::span<const float> query, std::size_t k) {
  open(kind, metric);
  const auto lock = read_lock();
  const IndexedVectors what{kind, metric};
  const Index* index = nullptr;
  for (const auto& open : open_)
    if (open->what == what) index = open->index.index.get();
  if (query.size() != index->dim())
    throw BadRequest("query", fmt::format("the query has {} values, the catalog's vectors {}", query.size(),
                                          index->dim()));
  return {index->search(query, k), std::string(index->kind()), index->size()};
}

void CatalogIndexes::add(std::int64_t track, const TrackVectors& vectors) {
  const auto lock = write_lock();
  for (auto& open : open_) {
    const std::vector<float>& vector = open->what.kind == "probs" ? vectors.probs : vectors.embedding;
    if (!open->index.index) {  // the catalog had no such vectors when it was opened
      // An HNSW file grows from one vector; a FAISS one cannot train on so few: exact until `tunelens index`.
      if (open->index.file.extension() != ".hnsw") open->index.file.clear();
      open->index.index = make_index(open->index.file.empty() ? "exact" : "hnsw", vector.size(),
                                     open->what.metric, index_settings());
    }
    open->index.index->add(std::span(&track, 1), vector);
    open->changed = true;
  }
}

void CatalogIndexes::save() {
  const auto lock = write_lock();
  CatalogIndexOptions save;
  save.on_warning = options_.on_warning;
  for (auto& open : open_)
    if (open->changed) {
      open->index.save(save);
      open->changed = false;
    }
}

// ---- Recommender ----

SimilarResult Recommender::similar(const std::string& query, const SimilarRequest& request) {
  check_similar_request(request);
  return similar(resolve_query(catalog_, query), request);
}

SimilarResult Recommender::similar(const ResolvedQuery& query, const SimilarRequest& request) {
  check_similar_request(request);
  SimilarResult result;
  result.query = query.described();
  result.request = request;
  indexes_.open(request.by, request.metric);  // before any vectors are computed: NotIndexed needs no model
  std::vector<float> vector;
  if (query.track) {
    result.track = query.track->id;
    if (auto stored = catalog_.vector(query.track->id, indexes_.model_key(), request.by))
      vector = std::move(*stored);
  }
  if (vector.empty()) {  // an outside file, or a track not indexed yet
    const Model& network = model_.get();
    const MelSpectrogram mel(network.features().settings.mel);
    const Spectrogram features = query.track
                                     ? catalog_track_features(catalog_, *query.track, network.features(), mel)
                                     : compute_track_features(query.file, network.features().settings, mel);
    TrackVectors computed = track_vectors(network, features);
    vector = request.by == "probs" ? std::move(computed.probs) : std::move(computed.embedding);
  }
  // One more than asked: the query itself is among them when it is a catalog track.
  const CatalogIndexes::Found found = indexes_.search(request.by, request.metric, vector, request.k + 1);
  result.index_kind = found.index_kind;
  result.indexed = found.indexed;
  result.neighbours = neighbours_of(catalog_, found.results, request.k, result.track);
  return result;
}

std::string vector_key_of(const std::string& model_file) {
  return model_vector_key(read_model_info(model_file), model_file);
}

// ---- quality ----

QualityResult compare_recommenders(const Catalog& catalog, const std::string& model_key,
                                   const QualityRequest& request) {
  const auto part = parse_split_part(request.part);
  if (!part) throw BadRequest("part", "must be train, val or test");
  if (!catalog.split(request.split))
    throw BadRequest("split", fmt::format("{}: no split '{}' (tunelens dataset split makes one)",
                                          catalog.name(), request.split));
  if (request.k < 1) throw BadRequest("k", "must be at least 1");
  TrackQuery query;
  query.split_name = request.split;
  query.split_part = *part;
  std::vector<std::int64_t> ids;
  for (const Track& track : catalog.tracks(query)) ids.push_back(track.id);

  struct Kind {
    const char* name;
    const char* by;
    Metric metric;
  };
  constexpr Kind kRecommenders[] = {{"original", "probs", Metric::SqEuclidean},
                                    {"embedding", "embedding", Metric::Cosine}};
  QualityResult result;
  const unsigned threads = static_cast<unsigned>(std::max(0, request.threads));
  for (const Kind& kind : kRecommenders) {
    RecommenderQuality quality =
        recommendation_quality(catalog, model_key, kind.by, kind.metric, ids, request.k, threads);
    if (quality.catalog == 0)
      throw NotIndexed(
          fmt::format("{}: no {} vectors of model {} yet", catalog.name(), kind.by, model_key));
    result.recommenders.push_back({kind.name, std::move(quality)});
  }
  if (result.recommenders.front().quality.queries == 0)
    throw NotIndexed(fmt::format("{}: none of the {} {} tracks of split '{}' has vectors",
                                 catalog.name(), ids.size(), request.part, request.split));
  return result;
}

}  // namespace tunelens::app
