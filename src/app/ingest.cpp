#include "app/ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "app/track_vectors.h"
#include "audio/probe.h"
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

}  // namespace

Ingester::Ingester(Catalog& catalog, const Model& model, CatalogIndexes& indexes, IngestOptions options)
    : catalog_(catalog),
      model_(model),
      indexes_(indexes),
      options_(std::move(options)),
      mel_(model.features().settings.mel) {
  const FeatureConfig& config = model_.features();
  if (!config.id.empty() && catalog_.feature_config(config.id)) {
    feature_config_ = config.id;
    feature_dtype_ = extraction_settings_from_json(config.parameters).dtype;
  }
}

void Ingester::message(const std::string& line) const {
  if (options_.on_message) options_.on_message(line);
}

IngestedFile Ingester::ingest(const fs::path& file) {
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
  indexes_.add(result.track, *vectors);
  if (options_.k > 0) {
    const std::vector<float>& vector = options_.by == "probs" ? vectors->probs : vectors->embedding;
    const CatalogIndexes::Found found = indexes_.search(options_.by, options_.metric, vector, options_.k + 1);
    result.similar.query = fmt::format("track {}", result.track);
    result.similar.track = result.track;
    result.similar.request = {options_.k, options_.by, options_.metric};
    result.similar.index_kind = found.index_kind;
    result.similar.indexed = found.indexed;
    result.similar.neighbours = neighbours_of(catalog_, found.results, options_.k, result.track);
  }
  result.search_seconds = now_seconds() - start;
  return result;
}

// Computes the file's features and vectors and records them with the new track in one transaction. Returns
// nullopt (and fills `result`) when the catalog already holds the same content.
std::optional<TrackVectors> Ingester::add_track(const fs::path& file, IngestedFile& result) {
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
  const Spectrogram features =
      compute_track_features(file, model_.features().settings, mel_, &decoded, &warning);
  if (!warning.empty()) message("warning: " + warning);
  result.features_seconds = now_seconds() - start;
  start = now_seconds();
  TrackVectors vectors = track_vectors(model_, features);
  for (std::size_t c = 0; c < vectors.probs.size(); ++c)
    result.genres.emplace_back(model_.classes()[c], vectors.probs[c]);
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
    store_track_vectors(catalog_, indexes_.model_key(), *id, vectors);
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

IngestSummary ingest_files(const fs::path& catalog_file, const fs::path& model_file,
                           const std::vector<fs::path>& files, const IngestOptions& options,
                           const std::function<void(const IngestedFile&)>& on_file) {
  if (options.k > 0) check_similar_request({options.k, options.by, options.metric});
  if (!catalog_exists(catalog_file))
    throw CatalogError(CatalogErrorKind::NotFound, catalog_file, "no such catalog");
  const auto message = [&](const std::string& line) {
    if (options.on_message) options.on_message(line);
  };
  double start = now_seconds();
  const Model model = Model::load(model_file, ModelLoadOptions{"cpu", options.threads});
  Catalog catalog = Catalog::open(catalog_file);
  const std::string key = model_vector_key(model.info(), model_file.string());
  IngestSummary summary;
  summary.open_seconds = now_seconds() - start;

  start = now_seconds();
  CatalogIndexes::Options index_options;
  index_options.mode = options.search;
  index_options.faiss_kind = options.faiss_kind;
  index_options.nprobe = options.nprobe;
  index_options.probe_ratio = options.probe_ratio;
  index_options.ef_search = options.ef_search;
  index_options.threads = options.threads;
  index_options.on_warning = [&](const std::string& line) { message("warning: " + line); };
  CatalogIndexes indexes(catalog, key, index_options);
  // Every saved index file of the model takes the new tracks, and the searched index is open before the first
  // add
  // (--search exact searches an exact one even when a file is saved).
  if (options.search != SearchMode::Exact || options.k == 0) indexes.open_saved();
  if (options.k > 0) indexes.try_open(options.by, options.metric);
  summary.index_open_seconds = now_seconds() - start;

  const std::size_t tracks = catalog.track_count();
  const std::size_t with_vectors = catalog.vector_tracks(key, options.by).size();
  if (with_vectors < tracks)
    message(
        fmt::format("warning: {} of the catalog's {} tracks have no vectors of this model yet and cannot be "
                    "found; `tunelens index` computes them",
                    tracks - with_vectors, tracks));

  Ingester ingester(catalog, model, indexes, options);
  for (const fs::path& file : files) {
    const IngestedFile done = ingester.ingest(file);
    switch (done.outcome) {
      case IngestOutcome::Added:
        ++summary.added;
        summary.index_kind = done.similar.index_kind;
        summary.indexed = done.similar.indexed;
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
  indexes.save();
  return summary;
}

}  // namespace tunelens::app
