// The .npy reader and writer: round trips, numpy's header layout, and clear errors for bad files.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tunelens
