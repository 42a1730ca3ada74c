// tunelens catalog: a catalog as a whole.
//
//   tunelens catalog copy SRC DST [--replace] [--files DIR]
//
// SRC and DST are catalog files or postgresql:// URIs (app/catalog_copy.h does the work).
#include <fmt/format.h>

#include <iostream>

#include "app/catalog_copy.h"
#include "cli/app.h"
#include "cli/commands.h"

namespace tunelens::cli {
namespace {

int run_copy(const app::CatalogCopyRequest& request) {
  const app::CatalogCopySummary summary = app::copy_catalog(request);
  std::cout << fmt::format("copied {} to {}\n", summary.source, summary.destination);
  for (const Catalog::TableRows& table : summary.rows)
    std::cout << fmt::format("  {:<16} {:>9} rows\n", table.table, table.rows);
  std::cout << fmt::format("  {:<16} {:>9} (feature arrays and saved indexes, beside {})\n", "files",
                           summary.files, summary.destination_files.string());
  return kSuccess;
}

}  // namespace

void add_catalog_command(CLI::App& app) {
  CLI::App* catalog =
      app.add_subcommand("catalog", "A catalog as a whole: copy it between SQLite and PostgreSQL");
  catalog->require_subcommand(1);
  auto request = std::make_shared<app::CatalogCopyRequest>();
  CLI::App* copy = catalog->add_subcommand(
      "copy",
      "Copy every track, split, feature record, prediction and vector (ids kept) and the files beside them");
  copy->add_option("source", request->source, "Catalog to copy: a file or postgresql://user@host/db")
      ->required();
  copy->add_option("destination", request->destination,
                   "Where to: a file or a PostgreSQL URI (created when missing; must hold no rows)")
      ->required();
  copy->add_flag("--replace", request->replace, "Empty a destination that holds rows first (its files too)");
  copy->add_option(
      "--files", request->files_folder,
      "A PostgreSQL destination made by the copy: folder of its feature and index files (default: "
      "the dataset root)");
  set_action(copy, [request] { return run_copy(*request); });
}

}  // namespace tunelens::cli
