#include "app/catalog_copy.h"

#include "app/errors.h"
#include "recommend/catalog_index.h"

namespace tunelens::app {
namespace {

namespace fs = std::filesystem;

fs::path features_root(const Catalog& catalog) {
  fs::path folder = catalog.file();
  folder += ".features";
  return folder;
}

// Copies a folder's files into another, keeping their relative paths; returns how many.
std::size_t copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code missing;
  if (!fs::is_directory(from, missing)) return 0;
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const fs::path target = to / entry.path().lexically_relative(from);
    fs::create_directories(target.parent_path());
    fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing);
    ++files;
  }
  return files;
}

}  // namespace

CatalogCopySummary copy_catalog(const CatalogCopyRequest& request) {
  if (request.source == request.destination)
    throw BadRequest("destination",
                     request.destination + ": the source and the destination are the same catalog");
  const Catalog source = Catalog::open(request.source);
  CatalogOptions options;
  options.files_folder = request.files_folder;
  Catalog destination = Catalog::open_or_create(request.destination, source.dataset_root(), options);
  const fs::path features = features_root(destination), indexes = catalog_index_folder(destination.file());
  std::error_code not_there;
  if (fs::equivalent(features_root(source), features, not_there))
    throw BadRequest("destination", destination.name() + ": its files would be the source's own (" +
                                        features.string() + ")");
  if (request.replace && !destination.empty()) {  // files named after the old rows' ids must not outlive them
    fs::remove_all(features);
    fs::remove_all(indexes);
  }
  CatalogCopySummary summary;
  summary.source = source.name();
  summary.destination = destination.name();
  summary.rows = destination.copy_from(source, request.replace);
  summary.files =
      copy_tree(features_root(source), features) + copy_tree(catalog_index_folder(source.file()), indexes);
  summary.destination_files = destination.file();
  return summary;
}

}  // namespace tunelens::app
