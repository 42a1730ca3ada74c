// Feature arrays of a catalog: one .npy file per track and feature configuration, shape [n_mels, frames],
// float16
// ('<f2') or float32 ('<f4'), C order. numpy opens them as they are (np.load(path, mmap_mode='r')); the
// trainer maps them into memory with FeatureArray and reads windows at any frame offset without loading the
// rest of the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tunelens {

enum class FeatureDtype { Float16, Float32 };

// "float16" / "float32", and back (throws std::invalid_argument for anything else).
std::string to_string(FeatureDtype dtype);
FeatureDtype parse_feature_dtype(const std::string& text);
// Bytes per element: 2 or 4.
std::size_t element_size(FeatureDtype dtype);

// IEEE 754 binary16 conversions: round to nearest even, overflow to infinity, subnormals kept, NaN kept.
std::uint16_t float_to_half(float value);
float half_to_float(std::uint16_t half);

// Writes a [rows, frames] row-major float32 matrix as an .npy file of the given element type, under a
// temporary name (path + ".partial") renamed into place, so that a killed run never leaves a half-written
// array under the final name. Throws NpyError naming the file.
void write_feature_array(const std::filesystem::path& path, std::size_t rows, std::size_t frames,
                         const float* values, FeatureDtype dtype);

// A read-only memory map of a 2-D float16 or float32 .npy file. Reading a window touches only the pages of
// that window. Thread-safe for reading; movable, not copyable.
class FeatureArray {
 public:
  // Maps the file. Throws NpyError naming the file when it is not a 2-D little-endian float16/float32 C-order
  // .npy array, or when it is shorter than its header says.
  explicit FeatureArray(const std::filesystem::path& path);
  ~FeatureArray();
  FeatureArray(FeatureArray&& other) noexcept;
  FeatureArray& operator=(FeatureArray&& other) noexcept;
  FeatureArray(const FeatureArray&) = delete;
  FeatureArray& operator=(const FeatureArray&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::size_t rows() const { return rows_; }      // n_mels
  std::size_t frames() const { return frames_; }  // time frames
  FeatureDtype dtype() const { return dtype_; }

  // Copies the window [rows, count) starting at frame `offset` into `out` (rows * count floats, row-major),
  // converting to float32. Throws std::out_of_range when offset + count > frames().
  void read_window(std::size_t offset, std::size_t count, std::span<float> out) const;
  std::vector<float> window(std::size_t offset, std::size_t count) const;
  // The whole array as float32, row-major.
  std::vector<float> read_all() const { return window(0, frames_); }

 private:
  void unmap();

  std::filesystem::path path_;
  const unsigned char* map_ = nullptr;  // the whole file
  std::size_t map_size_ = 0;
  std::size_t data_offset_ = 0;  // where the elements start
  std::size_t rows_ = 0;
  std::size_t frames_ = 0;
  FeatureDtype dtype_ = FeatureDtype::Float32;
};

// Whether a catalog's feature file is still what the catalog recorded: there, a readable feature array of
// `rows` x `frames` (a deleted features folder, a truncated or overwritten file are not).
bool feature_file_intact(const std::filesystem::path& path, std::size_t rows, std::size_t frames);

}  // namespace tunelens
