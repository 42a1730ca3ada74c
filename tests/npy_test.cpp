// The .npy reader and writer: round trips, numpy's header layout, and clear errors for bad files.
#include <gtest/gtest.h>

#include "store/feature_array.h"
#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

using testing::ScratchDir;

TEST(Npy, RoundTripKeepsShapeAndValues) {
  ScratchDir dir;
  const std::vector<float> values = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
  write_npy(dir / "a.npy", {2, 3}, values.data());
  const NpyArray array = read_npy(dir / "a.npy");
  EXPECT_EQ(array.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(array.values, values);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.npy.partial"));
}

TEST(Npy, HeaderIsWhatNumpyWrites) {
  ScratchDir dir;
  const float value = 1.0f;
  write_npy(dir / "one.npy", {1}, &value);
  const std::string bytes = testing::read_bytes(dir / "one.npy");
  ASSERT_GE(bytes.size(), 64u + 4u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);
  // Data starts at a multiple of 64 bytes; the header ends with a newline; 1-D shapes are written as (n,).
  const std::size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes[9 + header_len], '\n');
  EXPECT_NE(bytes.find("'shape': (1,)"), std::string::npos);
  EXPECT_EQ(bytes.size(), 10 + header_len + 4);
}

TEST(Npy, FortranOrderIsReorderedToCOrder) {
  // A [2, 3, 4] array of 0..23 in C order, and the same array as numpy writes it in Fortran order (first index
  // fastest; np.asfortranarray, or a transposed tensor's .numpy()).
  ScratchDir dir;
  const std::vector<std::size_t> shape = {2, 3, 4};
  std::vector<float> values(24), fortran(24);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) {
        values[(i * 3 + j) * 4 + k] = static_cast<float>((i * 3 + j) * 4 + k);
        fortran[(k * 3 + j) * 2 + i] = values[(i * 3 + j) * 4 + k];
      }
  write_npy(dir / "f.npy", shape, fortran.data());
  std::string bytes = testing::read_bytes(dir / "f.npy");
  const auto flag = bytes.find("'fortran_order': False");
  ASSERT_NE(flag, std::string::npos);
  bytes.replace(flag, 22, "'fortran_order': True ");  // same length: the header size stays as it was
  testing::write_bytes(dir / "f.npy", bytes);
  const NpyArray array = read_npy(dir / "f.npy");
  EXPECT_EQ(array.shape, shape);
  EXPECT_EQ(array.values, values);
}

TEST(Npy, ReadsLibrosaFixturesOfOtherTypes) {
  const NpyArray filters = read_npy(testing::data_path("librosa/mel_filters_sr22050_nfft2048_n128.npy"));
  EXPECT_EQ(filters.shape, (std::vector<std::size_t>{128, 1025}));
  EXPECT_EQ(filters.values.size(), 128u * 1025u);
}

TEST(Npy, BadFilesGetErrorsNamingTheFile) {
  ScratchDir dir;
  testing::write_bytes(dir / "text.npy", "hello");
  EXPECT_THROW(read_npy(dir / "missing.npy"), NpyError);
  try {
    read_npy(dir / "text.npy");
    FAIL();
  } catch (const NpyError& error) {
    EXPECT_NE(std::string(error.what()).find("text.npy: not an .npy file"), std::string::npos) << error.what();
  }
  const std::vector<float> values(100, 1.0f);
  write_npy(dir / "whole.npy", {100}, values.data());
  testing::write_bytes(dir / "cut.npy", testing::read_bytes(dir / "whole.npy").substr(0, 200));
  try {
    read_npy(dir / "cut.npy");
    FAIL();
  } catch (const NpyError& error) {
    EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
  }
}

// An .npy file (format 1.0) with this header dict and these data bytes, written as they are.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  const std::string header = dict + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() & 0xff) +
         static_cast<char>(header.size() >> 8) + header + data;
}

// The message read_npy gives for a file, or "" when it reads it.
std::string npy_error(const std::filesystem::path& path) {
  try {
    read_npy(path);
    return "";
  } catch (const NpyError& error) {
    return error.what();
  }
}

// Found by fuzzing (fuzz/regressions/npy): a shape larger than the file was allocated before the data was read
// (2^62 x 2^62 elements wrapped around to a small count), a negative or non-numeric size was a raw std::stoull
// error, and an empty array was copied from a null pointer.
TEST(Npy, ShapesAndLengthsAreCheckedAgainstTheFile) {
  ScratchDir dir;
  auto error_of = [&](const std::string& name, const std::string& bytes) {
    testing::write_bytes(dir / name, bytes);
    return npy_error(dir / name);
  };
  const std::string four_floats(16, '\0');
  EXPECT_NE(error_of("huge.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                           "(4611686018427387904, 4611686018427387904), }",
                                           four_floats))
                .find("huge.npy: truncated data"),
            std::string::npos);
  EXPECT_NE(error_of("long.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000), }",
                                           four_floats))
                .find("long.npy: truncated data"),
            std::string::npos);
  EXPECT_NE(error_of("negative.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", ""))
                .find("negative.npy: malformed shape (-1,)"),
            std::string::npos);
  EXPECT_NE(error_of("word.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (two,), }", ""))
                .find("word.npy: malformed shape"),
            std::string::npos);
  std::string claims_more = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "");
  claims_more[9] = '\x7f';  // a header of 32,512 bytes in a file of 70
  EXPECT_NE(error_of("header.npy", claims_more).find("header.npy: truncated header"), std::string::npos);

  testing::write_bytes(dir / "empty.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 0), }", ""));
  const NpyArray empty = read_npy(dir / "empty.npy");
  EXPECT_EQ(empty.shape, (std::vector<std::size_t>{3, 0}));
  EXPECT_TRUE(empty.values.empty());
}

// The memory-mapped reader of feature files, the same way: a shape whose element count overflows is refused, and
// an array without frames gives empty windows.
TEST(FeatureArray, ShapesAreCheckedAgainstTheFile) {
  ScratchDir dir;
  testing::write_bytes(dir / "huge.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                                   "(4611686018427387904, 4611686018427387904), }",
                                                   std::string(16, '\0')));
  EXPECT_THROW(FeatureArray(dir / "huge.npy"), NpyError);
  EXPECT_FALSE(feature_file_intact(dir / "huge.npy", 4611686018427387904u, 4611686018427387904u));
  testing::write_bytes(dir / "none.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 0), }", ""));
  const FeatureArray none(dir / "none.npy");
  EXPECT_EQ(none.rows(), 1u);
  EXPECT_EQ(none.frames(), 0u);
  EXPECT_TRUE(none.read_all().empty());
}

}  // namespace
}  // namespace tunelens
