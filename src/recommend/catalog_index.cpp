#include "recommend/catalog_index.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_set>

#include "recommend/faiss_index.h"
#include "recommend/index_file.h"
#include "store/catalog.h"
#include "store/fingerprint.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

// A file name part: the key itself when it is plain letters, digits, '-' and '_', else its hash.
std::string key_name(const std::string& model_key) {
  const bool plain = !model_key.empty() &&
                     std::all_of(model_key.begin(), model_key.end(),
                                 [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
  return plain ? model_key : hash_hex(content_hash(model_key));
}

// How many vectors of a loaded file to look up in the catalog: enough to catch a file of another catalog.
constexpr std::size_t kSampledVectors = 4;
constexpr float kSameVectorDistance = 1e-4f;
constexpr std::size_t kSampledNearest = 16;

constexpr const char* kHnswExtension = ".hnsw";
constexpr const char* kFaissExtension = ".faiss";

// The kind a saved FAISS file was built as; empty when its start cannot be read.
std::string saved_faiss_kind(const fs::path& file) {
  try {
    recommend_detail::IndexFileReader reader(file);
    if (reader.header().kind != recommend_detail::kFaissKind) return {};
    std::string kind = recommend_detail::read_kind_name(reader);
    return is_faiss_kind(kind) ? kind : std::string();
  } catch (const IndexError&) {
    return {};
  }
}

std::unique_ptr<Index> exact_index_of(const VectorMatrix& matrix, Metric metric,
                                      const IndexOptions& options) {
  auto index = make_index("exact", matrix.dim, metric, options);
  index->add(matrix.ids, matrix.values);
  return index;
}

// Why a loaded file does not match the catalog (empty when it does), after adding the catalog's vectors it
// lacks to it.
std::string reconcile(Index& index, const Catalog& catalog, const std::string& model_key,
                      const std::string& kind, const std::vector<std::int64_t>& catalog_ids,
                      std::size_t& added) {
  std::vector<std::int64_t> missing;
  std::vector<std::int64_t> present;
  for (std::int64_t id : catalog_ids) (index.contains(id) ? present : missing).push_back(id);
  if (index.size() > present.size())
    return std::to_string(index.size() - present.size()) + " of its vectors are not in the catalog";
  // Ids alone do not tell a file of another catalog (ids restart at 1): its vectors must be the catalog's.
  for (std::size_t s = 0; s < std::min(kSampledVectors, present.size()); ++s) {
    const std::int64_t id = present[s * present.size() / std::min(kSampledVectors, present.size())];
    const auto vector = catalog.vector(id, model_key, kind);
    if (!vector || vector->size() != index.dim())
      return "track " + std::to_string(id) + " has a vector of another length in the catalog";
    // An index of true distances finds the vector itself at distance 0; one of estimated distances (ivf-pq
    // codes) among its nearest.
    const SearchResults nearest = index.search(*vector, index.exact_distances() ? 1 : kSampledNearest);
    const auto found = nearest.ids_of(0).first(nearest.found(0));
    if (index.exact_distances() ? nearest.found(0) == 0 || nearest.distances_of(0)[0] > kSameVectorDistance
                                : std::find(found.begin(), found.end(), id) == found.end())
      return "track " + std::to_string(id) + "'s vector differs from the catalog's";
  }
  if (missing.empty()) return {};
  // A few tracks one by one; many (a killed run, an old file) in one read.
  std::vector<float> values;
  if (missing.size() <= 64) {
    for (std::int64_t id : missing) {
      const auto vector = catalog.vector(id, model_key, kind);
      if (!vector || vector->size() != index.dim())
        return "track " + std::to_string(id) + " has a vector of another length in the catalog";
      values.insert(values.end(), vector->begin(), vector->end());
    }
  } else {
    const VectorMatrix all = catalog.vectors(model_key, kind);
    if (all.dim != index.dim()) return "the catalog's vectors have another length";
    const std::unordered_set<std::int64_t> wanted(missing.begin(), missing.end());
    for (std::size_t i = 0; i < all.size(); ++i)
      if (wanted.count(all.ids[i])) values.insert(values.end(), all.row(i).begin(), all.row(i).end());
  }
  index.add(missing, values);
  added = missing.size();
  return {};
}

}  // namespace

std::string_view search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::Exact:
      return "exact";
    case SearchMode::Hnsw:
      return "hnsw";
    case SearchMode::Faiss:
      return "faiss";
    case SearchMode::Auto:
      return "auto";
  }
  return "unknown";
}

SearchMode parse_search_mode(std::string_view text) {
  if (text == "exact") return SearchMode::Exact;
  if (text == "hnsw") return SearchMode::Hnsw;
  if (text == "auto") return SearchMode::Auto;
  throw IndexError(IndexErrorKind::Invalid,
                   "unknown search '" + std::string(text) + "' (expected exact, hnsw or auto)");
}

IndexChoice parse_index_choice(std::string_view text) {
  if (is_faiss_kind(text)) return {SearchMode::Faiss, parse_faiss_kind(text).name()};
  if (text == "exact" || text == "hnsw" || text == "auto") return {parse_search_mode(text), {}};
  throw IndexError(IndexErrorKind::Invalid,
                   "unknown index '" + std::string(text) +
                       "' (expected exact, hnsw, auto, ivf-flat:N, ivf-pq:N:M[:R] or "
                       "hnsw-faiss:M)");
}

fs::path catalog_index_folder(const fs::path& catalog_file) {
  fs::path folder = catalog_file;
  folder += ".index";
  return folder;
}

fs::path catalog_index_file(const fs::path& catalog_file, const std::string& model_key,
                            const std::string& kind, Metric metric, SearchMode mode) {
  std::string name = key_name(model_key);
  name += '.';
  name += kind;
  name += '.';
  name += metric_name(metric);
  name += mode == SearchMode::Faiss ? kFaissExtension : kHnswExtension;
  return catalog_index_folder(catalog_file) / name;
}

std::vector<IndexedVectors> saved_catalog_indexes(const fs::path& catalog_file,
                                                  const std::string& model_key) {
  std::vector<IndexedVectors> saved;
  std::string prefix = key_name(model_key);
  prefix += '.';
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(catalog_index_folder(catalog_file), error)) {
    const std::string name = entry.path().filename().string();
    const std::string extension = entry.path().extension().string();
    if (!name.starts_with(prefix) || (extension != kHnswExtension && extension != kFaissExtension)) continue;
    // <kind>.<metric> between the prefix and the extension
    const std::string middle = name.substr(prefix.size(), name.size() - prefix.size() - extension.size());
    const auto dot = middle.rfind('.');
    if (dot == std::string::npos || dot == 0) continue;
    try {
      saved.push_back({middle.substr(0, dot), parse_metric(middle.substr(dot + 1))});
    } catch (const IndexError&) {  // not one of ours
    }
  }
  std::sort(saved.begin(), saved.end(), [](const IndexedVectors& a, const IndexedVectors& b) {
    return std::pair(a.kind, metric_name(a.metric)) < std::pair(b.kind, metric_name(b.metric));
  });
  saved.erase(std::unique(saved.begin(), saved.end()), saved.end());  // an HNSW and a FAISS file of one pair
  return saved;
}

void CatalogIndex::save(const CatalogIndexOptions& options) const {
  if (!index || file.empty()) return;
  try {
    std::error_code ignored;
    fs::create_directories(file.parent_path(), ignored);
    index->save(file);
    // One saved index per vectors and metric: the other kind's file would be stale from now on.
    fs::path other = file;
    other.replace_extension(file.extension() == kFaissExtension ? kHnswExtension : kFaissExtension);
    fs::remove(other, ignored);
  } catch (const IndexError& error) {
    if (options.on_warning)
      options.on_warning(std::string(error.what()) + " (the index stays in memory only)");
  }
}

CatalogIndex open_catalog_index(const Catalog& catalog, const std::string& model_key, const std::string& kind,
                                Metric metric, const CatalogIndexOptions& options) {
  CatalogIndex result;
  const fs::path hnsw_file = catalog_index_file(catalog.file(), model_key, kind, metric, SearchMode::Hnsw);
  const fs::path faiss_file = catalog_index_file(catalog.file(), model_key, kind, metric, SearchMode::Faiss);
  std::error_code error;
  const bool hnsw_exists = fs::exists(hnsw_file, error), faiss_exists = fs::exists(faiss_file, error);
  auto warn = [&](const std::string& line) {
    if (options.on_warning) options.on_warning(line);
  };
  SearchMode mode = options.mode;
  if (mode == SearchMode::Auto)
    mode = faiss_exists ? SearchMode::Faiss : hnsw_exists ? SearchMode::Hnsw : mode;
  std::optional<VectorMatrix> matrix;
  if (mode == SearchMode::Auto) {
    matrix = catalog.vectors(model_key, kind);
    mode = recommended_index_kind(matrix->size()) == "hnsw" ? SearchMode::Hnsw : SearchMode::Exact;
  }
  // The kind of index wanted: hnsw, or a FAISS kind (the one asked for, else the saved file's).
  std::string wanted = "hnsw";
  if (mode == SearchMode::Faiss) {
    wanted = options.faiss_kind.empty() ? saved_faiss_kind(faiss_file)
                                        : parse_faiss_kind(options.faiss_kind).name();
    if (wanted.empty()) {
      warn(faiss_file.string() +
           ": cannot tell which FAISS index it is; searching exactly (`tunelens index "
           "--index KIND` rebuilds it)");
      mode = SearchMode::Exact;
    }
  }
  if (mode == SearchMode::Exact) {
    if (!matrix) matrix = catalog.vectors(model_key, kind);
    if (matrix->size() > 0) result.index = exact_index_of(*matrix, metric, options.index);
    return result;
  }

  const bool faiss = mode == SearchMode::Faiss;
  if (faiss) {  // a kind that cannot train on the catalog's vectors yet: exact search, the file left alone
    const std::size_t minimum = parse_faiss_kind(wanted).training_minimum();
    const std::size_t count = matrix ? matrix->size() : catalog.vector_tracks(model_key, kind).size();
    if (count > 0 && count < minimum) {
      warn(std::to_string(count) + " " + kind + " vectors are too few to train " + wanted + " (it needs " +
           std::to_string(minimum) + "): searching exactly");
      if (!matrix) matrix = catalog.vectors(model_key, kind);
      result.index = exact_index_of(*matrix, metric, options.index);
      return result;
    }
  }
  const fs::path& file = faiss ? faiss_file : hnsw_file;
  const bool file_exists = faiss ? faiss_exists : hnsw_exists;
  result.file = file;
  std::string stale;
  if (file_exists) {
    try {
      std::unique_ptr<Index> loaded = load_index(file, options.index);
      if (loaded->metric() != metric || loaded->kind() != wanted) {
        stale = "an index of another kind or metric (" + std::string(loaded->kind()) + ", " +
                std::string(metric_name(loaded->metric())) + ")";
      } else {
        const std::vector<std::int64_t> ids = matrix ? matrix->ids : catalog.vector_tracks(model_key, kind);
        stale = reconcile(*loaded, catalog, model_key, kind, ids, result.added);
      }
      if (stale.empty()) {
        result.index = std::move(loaded);
        result.loaded = true;
        if (result.added > 0 && options.save) result.save(options);
        return result;
      }
      stale = file.string() + ": " + stale;
    } catch (const IndexError& failure) {  // unreadable, damaged, foreign, or vectors the metric refuses
      stale = failure.what();
    }
  }
  if (!matrix) matrix = catalog.vectors(model_key, kind);
  if (!stale.empty())
    warn(stale + "; rebuilt from the catalog's " + std::to_string(matrix->size()) + " vectors");
  if (matrix->size() == 0) {
    if (file_exists) fs::remove(file, error);  // no vectors left to index: the file can only mislead
    return result;
  }
  result.index = make_index(wanted, matrix->dim, metric, options.index);
  result.index->add(matrix->ids, matrix->values);
  if (options.save) result.save(options);
  return result;
}

}  // namespace tunelens
