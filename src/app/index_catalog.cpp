#include "app/index_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "app/track_vectors.h"
#include "data/extract.h"
#include "model/model.h"
#include "store/catalog.h"

namespace tunelens::app {
namespace {

constexpr std::size_t kTracksPerTransaction = 16;

// Brings the model's saved index files up to date with the catalog, and with `mode` hnsw or faiss, or auto
// on a large catalog, builds those of the two recommenders (embedding/cosine, probs/sqeuclidean) that are
// missing (or of another kind).
void keep_saved_indexes_current(const Catalog& catalog, const IndexRequest& request, IndexSummary& summary) {
  const SearchMode mode = request.search;
  const std::vector<IndexedVectors> saved = saved_catalog_indexes(catalog.file(), summary.model_key);
  std::vector<IndexedVectors> wanted = saved;
  const bool build =
      mode == SearchMode::Hnsw || mode == SearchMode::Faiss ||
      (mode == SearchMode::Auto &&
       recommended_index_kind(catalog.vector_tracks(summary.model_key, "embedding").size()) == "hnsw");
  if (build)
    for (const IndexedVectors& pair :
         {IndexedVectors{"embedding", Metric::Cosine}, IndexedVectors{"probs", Metric::SqEuclidean}})
      if (std::find(wanted.begin(), wanted.end(), pair) == wanted.end()) wanted.push_back(pair);
  CatalogIndexOptions options;
  options.faiss_kind = request.faiss_kind;
  options.index.threads = static_cast<unsigned>(std::max(0, request.threads));
  options.on_warning = [&](const std::string& line) { summary.warnings.push_back(line); };
  for (const IndexedVectors& pair : wanted) {
    // A kind asked for is built (or kept); otherwise a saved file stays of its kind and a new one is HNSW.
    const bool is_saved = std::find(saved.begin(), saved.end(), pair) != saved.end();
    options.mode = mode == SearchMode::Hnsw || mode == SearchMode::Faiss ? mode
                   : is_saved                                            ? SearchMode::Auto
                                                                         : SearchMode::Hnsw;
    const CatalogIndex index =
        open_catalog_index(catalog, summary.model_key, pair.kind, pair.metric, options);
    if (index.index && !index.file.empty())
      summary.saved.push_back(
          {index.file, std::string(index.index->kind()), index.index->size(), !index.loaded, index.added});
  }
}

}  // namespace

IndexSummary index_catalog(const IndexRequest& request, const OnItemDone& on_track) {
  if (!catalog_exists(request.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, request.catalog, "no such catalog");
  const Model model = Model::load(request.model, ModelLoadOptions{"cpu", request.threads});
  Catalog catalog = Catalog::open(request.catalog);
  IndexSummary summary;
  summary.model_key = model_vector_key(model.info(), request.model);
  summary.classes = model.classes().size();
  summary.embedding_size = model.info().embedding_size;

  const std::vector<std::int64_t> with_probs = catalog.vector_tracks(summary.model_key, "probs"),
                                  with_embedding = catalog.vector_tracks(summary.model_key, "embedding");
  std::vector<Track> todo;
  for (Track& track : catalog.tracks()) {
    if (std::binary_search(with_probs.begin(), with_probs.end(), track.id) &&
        std::binary_search(with_embedding.begin(), with_embedding.end(), track.id))
      ++summary.already;
    else
      todo.push_back(std::move(track));
  }

  const MelSpectrogram mel(model.features().settings.mel);  // the FFT plan, once
  for (std::size_t begin = 0; begin < todo.size(); begin += kTracksPerTransaction) {
    const std::size_t end = std::min(todo.size(), begin + kTracksPerTransaction);
    std::vector<std::pair<std::int64_t, TrackVectors>> done;
    for (std::size_t i = begin; i < end; ++i) {
      const Track& track = todo[i];
      ItemDone item{todo.size(), track.path, {}, {}};
      try {
        done.emplace_back(
            track.id, track_vectors(model, catalog_track_features(catalog, track, model.features(), mel)));
      } catch (const std::exception& error) {
        item.error = fmt::format("track {} ({}): {}", track.id, track.path, error.what());
        ++summary.failed;
      }
      if (on_track) on_track(item);
    }
    Catalog::Transaction transaction(catalog);
    for (const auto& [id, vectors] : done) store_track_vectors(catalog, summary.model_key, id, vectors);
    transaction.commit();
    summary.added += done.size();
  }
  keep_saved_indexes_current(catalog, request, summary);
  return summary;
}

}  // namespace tunelens::app
