#include "recommend/catalog_index.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_set>

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
    const SearchResults nearest = index.search(*vector, 1);
    if (nearest.found(0) == 0 || nearest.distances_of(0)[0] > kSameVectorDistance)
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

fs::path catalog_index_folder(const fs::path& catalog_file) {
  fs::path folder = catalog_file;
  folder += ".index";
  return folder;
}

fs::path catalog_index_file(const fs::path& catalog_file, const std::string& model_key,
                            const std::string& kind, Metric metric) {
  std::string name = key_name(model_key);
  name += '.';
  name += kind;
  name += '.';
  name += metric_name(metric);
  name += ".hnsw";
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
    if (!name.starts_with(prefix) || entry.path().extension() != ".hnsw") continue;
    // <kind>.<metric> between the prefix and the extension
    const std::string middle = name.substr(prefix.size(), name.size() - prefix.size() - 5);
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
  return saved;
}

void CatalogIndex::save(const CatalogIndexOptions& options) const {
  if (!index || file.empty()) return;
  try {
    std::error_code ignored;
    fs::create_directories(file.parent_path(), ignored);
    index->save(file);
  } catch (const IndexError& error) {
    if (options.on_warning)
      options.on_warning(std::string(error.what()) + " (the index stays in memory only)");
  }
}

CatalogIndex open_catalog_index(const Catalog& catalog, const std::string& model_key, const std::string& kind,
                                Metric metric, const CatalogIndexOptions& options) {
  CatalogIndex result;
  const fs::path file = catalog_index_file(catalog.file(), model_key, kind, metric);
  std::error_code error;
  const bool file_exists = fs::exists(file, error);
  bool hnsw = options.mode == SearchMode::Hnsw || (options.mode == SearchMode::Auto && file_exists);
  std::optional<VectorMatrix> matrix;
  if (!hnsw) {
    matrix = catalog.vectors(model_key, kind);
    hnsw = options.mode == SearchMode::Auto && recommended_index_kind(matrix->size()) == "hnsw";
  }
  if (!hnsw) {
    if (matrix->size() == 0) return result;
    result.index = make_index("exact", matrix->dim, metric, options.index);
    result.index->add(matrix->ids, matrix->values);
    return result;
  }

  result.file = file;
  std::string stale;
  if (file_exists) {
    try {
      std::unique_ptr<Index> loaded = load_index(file, options.index);
      if (loaded->metric() != metric || loaded->kind() != "hnsw") {
        stale = "an index of another kind or metric";
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
  if (!stale.empty() && options.on_warning)
    options.on_warning(stale + "; rebuilt from the catalog's " + std::to_string(matrix->size()) + " vectors");
  if (matrix->size() == 0) {
    if (file_exists) fs::remove(file, error);  // no vectors left to index: the file can only mislead
    return result;
  }
  result.index = make_index("hnsw", matrix->dim, metric, options.index);
  result.index->add(matrix->ids, matrix->values);
  if (options.save) result.save(options);
  return result;
}

}  // namespace tunelens
