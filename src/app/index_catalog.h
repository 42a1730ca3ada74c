// Use case: a model's two vectors for every catalog track that lacks them, stored in the catalog's vectors
// table for similar and ingest (tunelens index):
//   "probs"      the mean softmax over the track's windows (what the original study ranked by)
//   "embedding"  the mean penultimate-layer output over the windows, L2-normalised
// Rows are keyed by the model's weights hash (model_vector_key), so a copied or renamed model file finds its
// vectors again. Tracks are written in transactions of a few tracks; a rerun computes only what is missing.
// Then the saved indexes beside the catalog (recommend/catalog_index.h) are brought up to date, and built
// for a large catalog (HNSW) or when asked for (HNSW or a FAISS kind).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "app/progress.h"
#include "recommend/catalog_index.h"

namespace tunelens::app {

struct IndexRequest {
  std::string model;  // model file or shipped network
  std::string catalog;
  // Hnsw (Faiss): save HNSW (FAISS, of faiss_kind) indexes of both recommenders (embedding/cosine,
  // probs/sqeuclidean) beside the catalog, replacing saved ones of another kind; Auto: HNSW for a large
  // catalog; Exact: none. Saved ones are brought up to date whatever this says.
  SearchMode search = SearchMode::Auto;
  std::string faiss_kind;  // "ivf-pq:1024:32", ... (recommend/faiss_index.h)
  int threads = 0;         // 0: all cores
};

// A saved index file after the run.
struct SavedIndexFile {
  std::filesystem::path file;
  std::string kind;  // "hnsw" or the FAISS kind
  std::size_t vectors = 0;
  bool built = false;     // made from the catalog (rather than loaded)
  std::size_t added = 0;  // vectors a loaded one took
};

struct IndexSummary {
  std::string model_key;
  std::size_t added = 0, already = 0, failed = 0;  // tracks
  std::size_t classes = 0, embedding_size = 0;     // the lengths of the two vectors
  std::vector<SavedIndexFile> saved;
  std::vector<std::string> warnings;  // a stale index file rebuilt, a file that cannot be saved
};

// Indexes the catalog with the model; `on_track` hears of each track computed (its error: "track 3 (a.wav):
// <reason>"), and the others go on. Throws CatalogError (no such catalog) and ModelError.
IndexSummary index_catalog(const IndexRequest& request, const OnItemDone& on_track = {});

}  // namespace tunelens::app
