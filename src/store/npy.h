// The .npy array format (NumPy's own), so that numpy users can open what tunelens writes:
// np.load("song.npy") gives a float32 array of shape [n_mels, frames].
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace tunelens {

// A file that is not a readable .npy array, or one that cannot be written.
class NpyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A dense, C-ordered array of float32 values read from or written to an .npy file.
struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<float> values;  // row-major, size = product of shape

  std::size_t size() const;
};

// Reads an .npy file (format 1.0, 2.0 or 3.0, little-endian float32, float64 or int16/int32/int64, C or Fortran
// order). Other element types are converted to float32, and a Fortran-ordered array is reordered to C order.
// Throws NpyError naming the file and the reason.
NpyArray read_npy(const std::filesystem::path& path);

// Writes a float32 array as format 1.0 (2.0 if the header needs it). The file is written under a
// temporary name and renamed into place, so a killed run never leaves a half-written array behind.
void write_npy(const std::filesystem::path& path, const std::vector<std::size_t>& shape, const float* values);

// Writes `bytes` of little-endian elements already in the layout `descr` says ('<f2', '<f4', ...), C order, the
// same way (header padded to 64 bytes, temporary name renamed into place).
void write_npy_raw(const std::filesystem::path& path, const std::string& descr, const std::vector<std::size_t>& shape,
                   const void* data, std::size_t bytes);

}  // namespace tunelens
