// The two .npy readers on any bytes: read_npy (reference arrays, `features` output) and FeatureArray, the memory
// map through which training reads a catalog's feature files (and feature_file_intact, which `dataset info` and
// `extract` ask). Expected: NpyError naming the file, or an array whose values fill its shape.
#include "fuzz_support.h"
#include "store/feature_array.h"
#include "store/npy.h"

namespace tf = tunelens::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = tf::write_file("input.npy", data, size);
  tf::expect_only<tunelens::NpyError>(path, [&] {
    const tunelens::NpyArray array = tunelens::read_npy(path);
    if (array.values.size() != array.size())
      tf::finding("an array whose values do not fill its shape", std::to_string(array.values.size()));
  });
  tf::expect_only<tunelens::NpyError>(path, [&] {
    const tunelens::FeatureArray array(path);
    if (array.read_all().size() != array.rows() * array.frames())
      tf::finding("a feature array whose values do not fill its shape", std::to_string(array.rows()));
  });
  tf::expect_only<>(path, [&] { tunelens::feature_file_intact(path, 2, 3); });
  return 0;
}
