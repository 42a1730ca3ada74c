// The CSV importer (`tunelens dataset import csv`): a CSV listing path,label and optional artist, album, title,
// year and split, beside a folder of a few audio files the rows may name (a.wav, b/c.wav, and d.mp3, empty). Expected:
// DatasetError naming the CSV, or a scan whose rows become tracks or problems, and an import that adds them.
#include "data/sources.h"
#include "fuzz_import.h"
#include "fuzz_support.h"

namespace tf = tunelens::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tf::dataset_folder("csv", {"a.wav", "b/c.wav"}, {"d.mp3"});
  const auto csv = tf::write_file("csv/list.csv", data, size);
  tf::expect_only<tunelens::DatasetError>(csv, [&] {
    const tunelens::SourceScan scan = tunelens::scan_csv(csv);
    tf::expect_only<>("", [&] { tf::import_scan(scan); });
  });
  return 0;
}
