// Use case: the catalog tracks that sound most like a query (tunelens similar, ingest's neighbours, the
// service's similar endpoints), and how good the two recommenders are on a split (tunelens similar
// --quality).
//
// A query is a catalog track (by id, path or title) or an audio file outside the catalog, whose vectors are
// computed with the model. The catalog's stored vectors (tunelens index) are searched through one index per
// vector kind and metric, opened on first use and kept (CatalogIndexes): a command opens them once per run,
// the service once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "app/errors.h"
#include "app/track_vectors.h"
#include "recommend/catalog_index.h"
#include "recommend/quality.h"
#include "store/catalog.h"

namespace tunelens::app {

// A ranked neighbour of a query, with what the catalog says about it.
struct Neighbour {
  std::int64_t id = 0;
  float distance = 0.0f;
  std::string title, artist, album, label, path;  // empty when unknown
};

// The k nearest tracks of `results` row 0 in the catalog, leaving out `exclude` (the query itself) and tracks
// removed since they were indexed.
std::vector<Neighbour> neighbours_of(const Catalog& catalog, const SearchResults& results, std::size_t k,
                                     std::optional<std::int64_t> exclude);

// The query as resolved: a catalog track, or an audio file outside the catalog.
struct ResolvedQuery {
  std::optional<Track> track;
  std::filesystem::path file;
  // "track 12 (Title)", or the file as given.
  std::string described() const;
};

// A title that matches several tracks: the request must name one by id or path.
class AmbiguousQuery : public BadRequest {
 public:
  AmbiguousQuery(const std::string& text, std::vector<Track> matches);
  const std::vector<Track>& matches() const { return matches_; }

 private:
  std::vector<Track> matches_;
};

// What `text` names, tried in this order: a track id, a catalog path, an audio file (its track when the
// catalog holds it), a title (case-insensitive substring, one track). Throws NotFound when nothing matches
// and AmbiguousQuery when several titles do.
ResolvedQuery resolve_query(const Catalog& catalog, const std::string& text);

// How to rank: which vectors, under which distance, how many. Checked by check_similar_request: k at least 1,
// by "embedding" or "probs", js only with probs (BadRequest naming "k", "by" or "metric").
struct SimilarRequest {
  std::size_t k = 10;
  std::string by =
      "embedding";  // the network's penultimate layer (L2-normalised), or its class probabilities
  Metric metric = Metric::Cosine;
};
void check_similar_request(const SimilarRequest& request);

struct SimilarResult {
  std::string query;                  // ResolvedQuery::described()
  std::optional<std::int64_t> track;  // the query's track, when it is one (never among the neighbours)
  SimilarRequest request;
  std::string index_kind;             // "exact", "hnsw" or the FAISS kind
  std::size_t indexed = 0;            // vectors the index searched
  std::vector<Neighbour> neighbours;  // nearest first
};

// The indexes over one model's vectors in a catalog, one per (vector kind, metric), opened when first asked
// for and kept current as tracks are added. Safe to share between threads: searches run side by side, an add
// waits for them and they for it (the index's own add is quick; the catalog write happens before, outside
// this lock).
class CatalogIndexes {
 public:
  struct Options {
    SearchMode mode = SearchMode::Auto;  // how a first-used index is opened (exact, hnsw, faiss or auto)
    std::string faiss_kind;              // SearchMode::Faiss: the FAISS kind ("ivf-pq:1024:32")
    int threads = 0;                     // search threads (0: all cores)
    // Search settings of the approximate kinds (recommend/index.h IndexOptions).
    std::size_t nprobe = IndexOptions{}.nprobe, ef_search = IndexOptions{}.ef_search;
    float probe_ratio = IndexOptions{}.probe_ratio;
    // A line for the user (a stale HNSW file rebuilt, a file that cannot be saved).
    std::function<void(const std::string&)> on_warning;
  };
  // `catalog` must outlive this. It is read under this object's lock when an index is opened: in a program
  // whose threads share these indexes, give it a connection of its own (Catalog is not thread-safe).
  CatalogIndexes(const Catalog& catalog, std::string model_key, Options options);
  ~CatalogIndexes();
  CatalogIndexes(const CatalogIndexes&) = delete;
  CatalogIndexes& operator=(const CatalogIndexes&) = delete;

  const std::string& model_key() const { return key_; }

  // Opens every index file (HNSW or FAISS) saved for the model, so that added tracks reach them all (tunelens
  // ingest).
  void open_saved();
  // Opens the index of these vectors now (else it opens on the first search). Throws NotIndexed when the
  // catalog holds no such vectors of the model.
  void open(const std::string& kind, Metric metric);
  // Opens it, but returns false rather than throwing when there are none (ingest's index to be).
  bool try_open(const std::string& kind, Metric metric);

  struct Found {
    SearchResults results;
    std::string index_kind;
    std::size_t indexed = 0;
  };
  // The k nearest vectors to `query` (one row). Throws NotIndexed when the catalog holds no vectors of that
  // kind for the model, BadRequest ("query") when the query's length is not the vectors'.
  Found search(const std::string& kind, Metric metric, std::span<const float> query, std::size_t k);

  // Adds a track (already committed to the catalog) to every open index, making the index of a kind the
  // catalog had no vectors of yet.
  void add(std::int64_t track, const TrackVectors& vectors);
  // Saves the index files that took tracks since they were opened or last saved.
  void save();

 private:
  struct Open;
  Open& open_locked(const std::string& kind, Metric metric, SearchMode mode);
  IndexOptions index_settings() const;
  std::shared_lock<std::shared_mutex> read_lock();
  std::unique_lock<std::shared_mutex> write_lock();

  const Catalog& catalog_;
  std::string key_;
  Options options_;
  // Searches share mutex_, an add or an open holds it alone. Readers pass through turnstile_ before they take
  // it, and a writer holds the turnstile while it waits, so that a stream of searches cannot starve an ingest
  // (the shared_mutex of glibc prefers readers).
  std::mutex turnstile_;
  std::shared_mutex mutex_;
  std::vector<std::unique_ptr<Open>> open_;
};

// Similar tracks with one model over one catalog: resolves the query, takes its stored vectors (or computes
// them from its audio with the model), searches, names the neighbours. Holds no state of its own: the service
// makes one per request thread, over that thread's catalog connection, sharing the indexes and the model.
class Recommender {
 public:
  // All must outlive this.
  Recommender(const Catalog& catalog, CatalogIndexes& indexes, LazyModel& model)
      : catalog_(catalog), indexes_(indexes), model_(model) {}

  // Throws BadRequest, NotFound (a query matching nothing), AmbiguousQuery, NotIndexed, AudioError and
  // ModelError (an outside file that cannot be read).
  SimilarResult similar(const std::string& query, const SimilarRequest& request);
  SimilarResult similar(const ResolvedQuery& query, const SimilarRequest& request);

 private:
  const Catalog& catalog_;
  CatalogIndexes& indexes_;
  LazyModel& model_;
};

// The vectors key of a model in the catalog (app::model_vector_key), reading only the model's header. Throws
// ModelError ("no such model file or shipped network" included).
std::string vector_key_of(const std::string& model_file);

// --quality: same-artist and same-genre shares of the k nearest tracks of every track of a split part, for
// the original study's recommender (probs, squared Euclidean) and the embedding one (cosine).
struct QualityRequest {
  std::string split = "default";
  std::string part = "test";
  std::size_t k = 10;
  int threads = 0;
};
struct NamedQuality {
  std::string name;  // "original" or "embedding"
  RecommenderQuality quality;
};
// Both recommenders, original first. Each quality's queries, catalog and random figures are the same.
struct QualityResult {
  std::vector<NamedQuality> recommenders;
};
// Throws BadRequest ("part", "split") and NotIndexed.
QualityResult compare_recommenders(const Catalog& catalog, const std::string& model_key,
                                   const QualityRequest& request);

}  // namespace tunelens::app
