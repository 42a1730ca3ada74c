#include "app/ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>

#include "audio/probe.h"
#include "app/track_vectors.h"
#include "data/csv.h"
#include "data/extract.h"
#include "data/import.h"
#include "model/model.h"
#include "store/catalog.h"
#include "store/feature_array.h"
#include "store/fingerprint.h"

namespace tunelens::app {
namespace {

namespace fs = std::filesystem;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string or_dash(const std::string& text) {
  return text.empty() ? "-" : text;
}

// One index the run keeps current: the search index and/or a saved HNSW file of the model.
struct OpenIndex {
  IndexedVectors what;
  CatalogIndex index;
  bool search = false;
  bool changed = false;
};

// The ingest of one run: the model, the catalog and the open indexes.
class Ingester {
 public:
  Ingester(const fs::path& catalog_file, const fs::path& model_file, const IngestOptions& options)
      : options_(options),
        model_(Model::load(model_file, ModelLoadOptions{"cpu", options.threads})),
        catalog_(Catalog::open(catalog_file)),
        key_(model_vector_key(model_.info(), model_file.string())),
        mel_(model_.features().settings.mel) {
    const FeatureConfig& config = model_.features();
    if (!config.id.empty() && catalog_.feature_config(config.id)) {
      feature_config_ = config.id;
      feature_dtype_ =
          parse_feature_dtype(nlohmann::json::parse(config.parameters).at("dtype").get<std::string>());
    }
    CatalogIndexOptions index_options;
    index_options.index.threads = static_cast<unsigned>(std::max(0, options.threads));
    index_options.on_warning = [this](const std::string& line) { message("warning: " + line); };
    const double start = now_seconds();
    const IndexedVectors searched{options.by, options.metric};
    for (const IndexedVectors& saved : saved_catalog_indexes(catalog_.file(), key_)) {
      index_options.mode = SearchMode::Hnsw;
      const bool search = options.k > 0 && saved == searched && options.search != SearchMode::Exact;
      indexes_.push_back(
          {saved, open_catalog_index(catalog_, key_, saved.kind, saved.metric, index_options), search});
    }
    if (options.k > 0 &&
        std::none_of(indexes_.begin(), indexes_.end(), [](const OpenIndex& i) { return i.search; })) {
      index_options.mode = options.search;
      indexes_.push_back({searched,
                          open_catalog_index(catalog_, key_, searched.kind, searched.metric, index_options),
                          true});
    }
    index_open_seconds_ = now_seconds() - start;
    const std::size_t tracks = catalog_.track_count();
    const std::size_t with_vectors = catalog_.vector_tracks(key_, options.by).size();
    if (with_vectors < tracks)
      message(fmt::format(
          "warning: {} of the catalog's {} tracks have no vectors of this model yet and cannot be "
          "found; `tunelens index` computes them",
          tracks - with_vectors, tracks));
  }

  IngestedFile ingest(const fs::path& file) {
    IngestedFile result;
    result.file = file;
    std::error_code error;
    if (!fs::is_regular_file(file, error)) {
      result.reason = about_file(file, error && error != std::errc::no_such_file_or_directory
                                           ? "cannot be opened (" + error.message() + ")"
                                       : fs::exists(file, error) ? "not a regular file"
                                                                 : "no such file");
      return result;
    }
    if (const auto track = catalog_.find_track(catalog_.relative_path(fs::absolute(file)))) {
      result.outcome = IngestOutcome::AlreadyThere;
      result.track = track->id;
      result.reason = about_file(file, fmt::format("already in the catalog as track {}", track->id));
      return result;
    }
    std::optional<TrackVectors> vectors;
    try {
      vectors = add_track(file, result);
    } catch (const CatalogError&) {
      throw;                                   // the catalog itself: nothing more can be done
    } catch (const std::exception& failure) {  // the audio, the features, the model on this file
      result.outcome = IngestOutcome::Failed;
      result.reason = about_file(file, failure.what());
      return result;
    }
    if (!vectors) return result;  // already there by content
    const double start = now_seconds();
    for (OpenIndex& open : indexes_) {
      const std::vector<float>& vector = open.what.kind == "probs" ? vectors->probs : vectors->embedding;
      if (!open.index.index) {  // the catalog had no such vectors yet
        const std::string_view kind = open.index.file.empty() ? "exact" : "hnsw";
        IndexOptions index_options;
        index_options.threads = static_cast<unsigned>(std::max(0, options_.threads));
        open.index.index = make_index(kind, vector.size(), open.what.metric, index_options);
      }
      open.index.index->add(std::span(&result.track, 1), vector);
      open.changed = true;
      if (open.search) {
        const SearchResults found = open.index.index->search(vector, options_.k + 1);
        result.neighbours = neighbours_of(catalog_, found, options_.k, result.track);
        result.index_kind = std::string(open.index.index->kind());
        result.indexed = open.index.index->size();
      }
    }
    result.search_seconds = now_seconds() - start;
    return result;
  }

  // Saves the HNSW files that took new tracks.
  void finish() {
    CatalogIndexOptions save;
    save.on_warning = [this](const std::string& line) { message("warning: " + line); };
    for (const OpenIndex& open : indexes_)
      if (open.changed) open.index.save(save);
  }

  double index_open_seconds() const { return index_open_seconds_; }

  const Index* search_index() const {
    for (const OpenIndex& open : indexes_)
      if (open.search) return open.index.index.get();
    return nullptr;
  }

 private:
  void message(const std::string& line) const {
    if (options_.on_message) options_.on_message(line);
  }

  // Computes the file's features and vectors and records them with the new track in one transaction. Returns
  // nullopt (and fills `result`) when the catalog already holds the same content.
  std::optional<TrackVectors> add_track(const fs::path& file, IngestedFile& result) {
    double start = now_seconds();
    TrackInfo info;
    info.fingerprint = file_fingerprint(file);
    if (const auto same = catalog_.find_track_by_fingerprint(info.fingerprint)) {
      result.outcome = IngestOutcome::AlreadyThere;
      result.track = same->id;
      result.reason = about_file(file, fmt::format("same content as track {} ({})", same->id, same->path));
      return std::nullopt;
    }
    const AudioInfo audio = probe_audio(file);
    DecodeResult decoded;
    std::string warning;
    const Spectrogram features = compute_track_features(file, model_.features().settings, mel_, &decoded, &warning);
    if (!warning.empty()) message("warning: " + warning);
    result.features_seconds = now_seconds() - start;
    start = now_seconds();
    TrackVectors vectors = track_vectors(model_, features);
    for (std::size_t c = 0; c < vectors.probs.size(); ++c) result.genres.emplace_back(model_.classes()[c], vectors.probs[c]);
    std::stable_sort(result.genres.begin(), result.genres.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    result.model_seconds = now_seconds() - start;
    start = now_seconds();

    info.path = catalog_.relative_path(fs::absolute(file));
    info.size = static_cast<std::int64_t>(fs::file_size(file));
    info.duration = audio.seconds;
    info.sample_rate = audio.sample_rate;
    info.channels = audio.channels;
    info.codec = audio.codec;
    fill_from_tags(info, audio.tags);
    if (!info.title) info.title = file.stem().string();
    info.source = "ingest";

    // Looked up again under the write lock (BEGIN IMMEDIATE): another ingest of the same bytes under another
    // name may have committed since the look-up above, and two such runs at once added both.
    Catalog::Transaction transaction(catalog_);
    if (const auto same = catalog_.find_track_by_fingerprint(info.fingerprint)) {
      result.outcome = IngestOutcome::AlreadyThere;
      result.track = same->id;
      result.reason = about_file(file, fmt::format("same content as track {} ({})", same->id, same->path));
      return std::nullopt;
    }
    const std::optional<std::int64_t> id = catalog_.add_track(info);
    if (!id) {  // another process added the path since the look-up above
      result.outcome = IngestOutcome::AlreadyThere;
      result.reason = about_file(file, "already in the catalog");
      return std::nullopt;
    }
    fs::path feature_file;
    try {
      if (!feature_config_.empty()) {
        feature_file = catalog_.feature_file(*id, feature_config_);
        fs::create_directories(feature_file.parent_path());
        write_feature_array(feature_file, features.rows, features.frames, features.values.data(),
                            feature_dtype_);
        FeatureRecord record;
        record.track = *id;
        record.config = feature_config_;
        record.n_mels = features.rows;
        record.frames = features.frames;
        record.seconds = decoded.seconds();
        catalog_.record_features(record);
      }
      catalog_.set_prediction(*id, key_, vectors.probs);
      catalog_.set_vector(*id, key_, "probs", vectors.probs);
      catalog_.set_vector(*id, key_, "embedding", vectors.embedding);
      transaction.commit();
    } catch (...) {  // the row rolls back: so must the file named after its id
      std::error_code ignored;
      if (!feature_file.empty()) fs::remove(feature_file, ignored);
      throw;
    }
    result.outcome = IngestOutcome::Added;
    result.track = *id;
    result.store_seconds = now_seconds() - start;
    return vectors;
  }

  IngestOptions options_;
  Model model_;
  Catalog catalog_;
  std::string key_;
  MelSpectrogram mel_;
  std::string feature_config_;  // empty: the catalog has not the model's feature configuration
  FeatureDtype feature_dtype_ = FeatureDtype::Float32;
  std::vector<OpenIndex> indexes_;
  double index_open_seconds_ = 0.0;
};

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

NeighbourFormat parse_neighbour_format(const std::string& text) {
  if (text == "table") return NeighbourFormat::Table;
  if (text == "json") return NeighbourFormat::Json;
  if (text == "csv") return NeighbourFormat::Csv;
  throw std::invalid_argument("unknown format '" + text + "' (expected table, json or csv)");
}

void write_neighbours(std::ostream& out, NeighbourFormat format, const std::string& query,
                      const std::string& by, Metric metric, std::string_view index_kind, std::size_t indexed,
                      const std::vector<Neighbour>& neighbours) {
  if (format == NeighbourFormat::Json) {
    nlohmann::json results = nlohmann::json::array();
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
      const Neighbour& n = neighbours[i];
      results.push_back({{"rank", i + 1},
                         {"id", n.id},
                         {"distance", n.distance},
                         {"title", n.title},
                         {"artist", n.artist},
                         {"album", n.album},
                         {"label", n.label},
                         {"path", n.path}});
    }
    const nlohmann::json document = {
        {"query", query},      {"by", by},           {"metric", metric_name(metric)},
        {"index", index_kind}, {"indexed", indexed}, {"results", results}};
    out << document.dump() << "\n";
    return;
  }
  if (format == NeighbourFormat::Csv) {
    out << "rank,id,distance,title,artist,album,label,path\n";
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
      const Neighbour& n = neighbours[i];
      out << fmt::format("{},{},{:.6f},{},{},{},{},{}\n", i + 1, n.id, n.distance, csv_field(n.title),
                         csv_field(n.artist), csv_field(n.album), csv_field(n.label), csv_field(n.path));
    }
    return;
  }
  out << fmt::format("similar to {}: by {}, {} distance, {} index of {} tracks\n", query, by,
                     metric_name(metric), index_kind, indexed);
  std::vector<std::vector<std::string>> rows = {
      {"rank", "distance", "title", "artist", "album", "label", "path"}};
  for (std::size_t i = 0; i < neighbours.size(); ++i) {
    const Neighbour& n = neighbours[i];
    rows.push_back({std::to_string(i + 1), fmt::format("{:.6f}", n.distance), or_dash(n.title),
                    or_dash(n.artist), or_dash(n.album), or_dash(n.label), n.path});
  }
  std::size_t widths[7] = {};
  for (const auto& row : rows)
    for (std::size_t c = 0; c < 7; ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows)
    out << fmt::format("{:>{}}  {:>{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", row[0], widths[0], row[1],
                       widths[1], row[2], widths[2], row[3], widths[3], row[4], widths[4], row[5], widths[5],
                       row[6]);
}

IngestSummary ingest_files(const fs::path& catalog_file, const fs::path& model_file,
                           const std::vector<fs::path>& files, const IngestOptions& options,
                           const std::function<void(const IngestedFile&)>& on_file) {
  if (options.by != "probs" && options.by != "embedding")
    throw std::invalid_argument("--by must be probs or embedding");
  if (options.metric == Metric::JensenShannon && options.by != "probs")
    throw std::invalid_argument("--metric js compares probability vectors: use it with --by probs");
  require_model(model_file);
  if (!fs::exists(catalog_file))
    throw CatalogError(CatalogErrorKind::NotFound, catalog_file, "no such catalog");
  const double start = now_seconds();
  Ingester ingester(catalog_file, model_file, options);
  IngestSummary summary;
  summary.index_open_seconds = ingester.index_open_seconds();
  summary.open_seconds = now_seconds() - start - summary.index_open_seconds;
  for (const fs::path& file : files) {
    const IngestedFile done = ingester.ingest(file);
    switch (done.outcome) {
      case IngestOutcome::Added:
        ++summary.added;
        break;
      case IngestOutcome::AlreadyThere:
        ++summary.already;
        break;
      case IngestOutcome::Failed:
        ++summary.failed;
        break;
    }
    if (on_file) on_file(done);
  }
  ingester.finish();
  if (const Index* index = ingester.search_index()) {
    summary.index_kind = std::string(index->kind());
    summary.indexed = index->size();
  }
  return summary;
}

}  // namespace tunelens::app
