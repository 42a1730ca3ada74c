// Opening a catalog given by anyone (an SQLite file): Catalog::open checks the file, its application id and schema
// version, migrates an older schema and reads the dataset root; then what `tunelens dataset info` and `extract`
// read first (tracks, labels, splits, feature configurations and records, lost feature files). Expected:
// CatalogError naming the file.
#include "data/extract.h"
#include "fuzz_support.h"
#include "store/catalog.h"

namespace tf = tunelens::fuzz;

namespace {

void read_all(const tunelens::Catalog& catalog) {
  catalog.schema_version();
  catalog.dataset_root();
  catalog.track_count();
  catalog.tracks();
  catalog.labels();
  for (const auto& split : catalog.splits()) {
    catalog.split_assignments(split.name);
    catalog.split_counts(split.name);
  }
  for (const auto& config : catalog.feature_configs()) {
    catalog.feature_records(config.id);
    catalog.tracks_without_features(config.id);
    tunelens::lost_feature_tracks(catalog, config.id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tf::clear_scratch();  // no -wal or -shm file of the last input
  const auto path = tf::write_file("catalog.db", data, size);
  tf::expect_only<tunelens::CatalogError>(path, [&] { read_all(tunelens::Catalog::open(path)); });
  return 0;
}
