// The index over a catalog's stored track vectors (Catalog::vectors), as `tunelens similar`, `index` and
// `ingest` use it: exact search built in memory from the catalog for small catalogs, and for large ones an
// HNSW graph (or a FAISS index, when asked for) saved beside the catalog, loaded instead of rebuilt, and kept
// up to date as tracks arrive.
//
// Layout of the saved files: one per model, vector kind and metric,
//
//   <catalog file>.index/<model key>.<kind>.<metric>.hnsw      e.g.
//   corpus.db.index/3f2a...c1.embedding.cosine.hnsw
//   <catalog file>.index/<model key>.<kind>.<metric>.faiss     a FAISS index (ivf-flat, ivf-pq, hnsw-faiss)
//
// Of the two, one at a time: saving one removes the other of the same vectors and metric.
//
// in the index file format of recommend/index_file.h. The model key is the catalog's vectors key (the model's
// weights hash); a key that is not a plain name (a path) is replaced by its 16-hex-digit content hash.
//
// The catalog is the truth, the file a cache of it: on opening, a file that cannot be read, that holds a
// vector the catalog does not have, or whose sampled vectors differ from the catalog's (another catalog at
// the same path) is rebuilt from the catalog with a one-line warning; tracks the catalog has and the file
// lacks (added by a run killed before it saved the file) are added. So a stale file is never used silently.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "recommend/index.h"

namespace tunelens {

class Catalog;

// How to search: exact (blocked matrix products over vectors read from the catalog), hnsw (the saved graph,
// built when missing), faiss (the saved FAISS index of the kind asked for, built when missing or of another
// kind) or auto: the saved file when one exists (the FAISS one first), else hnsw when the catalog holds
// kExactIndexLimit vectors or more, else exact.
enum class SearchMode { Exact, Hnsw, Faiss, Auto };
std::string_view search_mode_name(SearchMode mode);
// "exact", "hnsw", "auto"; throws IndexError (Invalid) for anything else.
SearchMode parse_search_mode(std::string_view text);

// What `--index` names: a mode, and for a FAISS kind the kind itself.
struct IndexChoice {
  SearchMode mode = SearchMode::Auto;
  std::string faiss_kind;  // canonical ("ivf-pq:1024:32") when mode is Faiss
};
// "exact", "hnsw", "auto", or a FAISS kind: "ivf-flat:N", "ivf-pq:N:M[:R]", "hnsw-faiss:M" (faiss_index.h).
// Throws IndexError (Invalid) for anything else.
IndexChoice parse_index_choice(std::string_view text);

// <catalog file>.index
std::filesystem::path catalog_index_folder(const std::filesystem::path& catalog_file);
// <catalog file>.index/<model key>.<kind>.<metric>.hnsw (.faiss for SearchMode::Faiss)
std::filesystem::path catalog_index_file(const std::filesystem::path& catalog_file,
                                         const std::string& model_key, const std::string& kind, Metric metric,
                                         SearchMode mode = SearchMode::Hnsw);

// Which vectors under which metric: ("embedding", cosine), ("probs", sqeuclidean), ...
struct IndexedVectors {
  std::string kind;
  Metric metric = Metric::Cosine;
  bool operator==(const IndexedVectors&) const = default;
};
// The saved index files (HNSW or FAISS) of a model in the catalog's index folder, in name order, each
// (kind, metric) once.
std::vector<IndexedVectors> saved_catalog_indexes(const std::filesystem::path& catalog_file,
                                                  const std::string& model_key);

struct CatalogIndexOptions {
  SearchMode mode = SearchMode::Auto;
  // SearchMode::Faiss: the kind to use (a saved file of another kind is rebuilt); empty: the saved one.
  std::string faiss_kind;
  IndexOptions index;  // threads, the search settings, and the build settings when one is built
  bool save = true;    // write the file when it was built, rebuilt or had tracks added
  // A line for the user (no prefix, no newline): a stale or damaged file rebuilt, a file that cannot be
  // saved.
  std::function<void(const std::string&)> on_warning;
};

struct CatalogIndex {
  std::unique_ptr<Index> index;  // null when the catalog holds no such vectors
  std::filesystem::path file;    // the HNSW or FAISS file (whether saved or not); empty for an exact index
  bool loaded = false;           // read from the file (rather than built from the catalog)
  std::size_t added = 0;         // catalog vectors added to a loaded file
  // Saves an HNSW or FAISS index to its file (no-op for an exact one), and removes the other kind's file of
  // these vectors; failures go to on_warning.
  void save(const CatalogIndexOptions& options) const;
};

// The index of a model's vectors of one kind under one metric, as options.mode says (see SearchMode). A
// FAISS ivf kind the catalog has too few vectors to train (faiss_index.h) falls back to exact search with a
// warning. Throws CatalogError for a catalog that cannot be read and IndexError for vectors the metric or
// kind refuses.
CatalogIndex open_catalog_index(const Catalog& catalog, const std::string& model_key, const std::string& kind,
                                Metric metric, const CatalogIndexOptions& options = {});

}  // namespace tunelens
