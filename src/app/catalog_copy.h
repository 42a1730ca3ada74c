// Use case: a catalog moved between SQLite and PostgreSQL, losing nothing (tunelens catalog copy): every row
// of every table with its id (Catalog::copy_from, one transaction), then the files beside the catalog
// (feature arrays and saved indexes) to beside the destination. The destination is created when it is missing
// (a PostgreSQL one in its database, which must exist), and must hold no rows unless `replace` is asked for.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "store/catalog.h"

namespace tunelens::app {

struct CatalogCopyRequest {
  std::string source;       // a catalog file or a postgresql:// URI
  std::string destination;  // likewise
  bool replace = false;     // empty a destination that holds rows first (its feature and index files too)
  // A PostgreSQL destination made by the copy: the folder of its feature and index files (empty: the dataset
  // root).
  std::filesystem::path files_folder;
};

struct CatalogCopySummary {
  std::string source, destination;          // as errors name them (passwords masked)
  std::vector<Catalog::TableRows> rows;     // per table, parents first
  std::size_t files = 0;                    // feature and index files copied
  std::filesystem::path destination_files;  // where they went: <destination file()>.features and .index
};

// Throws BadRequest when source and destination are the same, CatalogError (cannot open, destination not
// empty: Exists), std::filesystem::filesystem_error (a file that cannot be copied; the rows are in by then).
CatalogCopySummary copy_catalog(const CatalogCopyRequest& request);

}  // namespace tunelens::app
