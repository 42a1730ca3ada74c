// The FMA importer (`tunelens dataset import fma`): a tracks.csv (three header rows, 55 columns in the real one)
// beside an audio folder holding tracks 2, 5 and 1000 (DIR/000/000002.mp3, ...; 1000's is an empty file). Expected:
// DatasetError naming the file, or a scan whose rows become tracks or problems, and an import that adds them.
#include "data/sources.h"
#include "fuzz_import.h"
#include "fuzz_support.h"

namespace tf = tunelens::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto audio = tf::dataset_folder("fma", {"000/000002.mp3", "000/000005.mp3"}, {"001/001000.mp3"});
  const auto tracks = tf::write_file("tracks.csv", data, size);
  tf::expect_only<tunelens::DatasetError>(tracks, [&] {
    const tunelens::SourceScan scan = tunelens::scan_fma(tracks, audio);
    tf::expect_only<>("", [&] { tf::import_scan(scan); });
  });
  return 0;
}
