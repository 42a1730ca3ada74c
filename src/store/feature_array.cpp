#include "store/feature_array.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "store/npy.h"

namespace tunelens {
namespace {

static_assert(std::endian::native == std::endian::little, "tunelens assumes a little-endian machine");

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& reason) {
  throw NpyError(path.string() + ": " + reason);
}

// The value of `key` in the header's Python dict literal: the text between the colon and the next ',' or '}'
// at the top level (a tuple keeps its commas).
std::string header_value(const std::string& header, const std::string& key) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) return {};
  std::size_t begin = header.find(':', at);
  if (begin == std::string::npos) return {};
  begin = header.find_first_not_of(' ', begin + 1);
  if (begin == std::string::npos) return {};
  // A tuple or a quoted string runs to its closing character (included), anything else to a ',' or '}'.
  const char open = header[begin];
  std::size_t end = open == '('    ? header.find(')', begin)
                    : open == '\'' ? header.find('\'', begin + 1)
                                   : header.find_first_of(",}", begin);
  if (end == std::string::npos) return {};
  if (open == '(' || open == '\'') ++end;
  return header.substr(begin, end - begin);
}

}  // namespace

std::string to_string(FeatureDtype dtype) {
  return dtype == FeatureDtype::Float16 ? "float16" : "float32";
}

FeatureDtype parse_feature_dtype(const std::string& text) {
  if (text == "float16" || text == "f2") return FeatureDtype::Float16;
  if (text == "float32" || text == "f4") return FeatureDtype::Float32;
  throw std::invalid_argument("unknown feature element type '" + text + "' (float16 or float32)");
}

std::size_t element_size(FeatureDtype dtype) {
  return dtype == FeatureDtype::Float16 ? 2 : 4;
}

std::uint16_t float_to_half(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t exponent = (bits >> 23) & 0xffu;
  std::uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff)  // infinity, or NaN (kept a quiet NaN)
    return static_cast<std::uint16_t>(sign | 0x7c00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u));
  const int e = static_cast<int>(exponent) - 127 + 15;               // the exponent rebiased for half
  if (e >= 0x1f) return static_cast<std::uint16_t>(sign | 0x7c00u);  // too large: infinity
  if (e <= 0) {
    // A half subnormal (or zero): shift the mantissa, with its implicit leading 1, right by 14 - e bits.
    if (e < -10) return sign;  // below half the smallest subnormal: rounds to zero
    mantissa |= 0x800000u;
    const int shift = 14 - e;
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u)))
      ++half;  // may carry into the smallest normal: right
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = (static_cast<std::uint32_t>(e) << 10) | (mantissa >> 13);
  const std::uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // a carry may round up to infinity: right
  return static_cast<std::uint16_t>(sign | half);
}

float half_to_float(std::uint16_t half) {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1fu;
  std::uint32_t mantissa = half & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      mantissa <<= 1;
      ++e;
    } while ((mantissa & 0x400u) == 0);
    bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

void write_feature_array(const std::filesystem::path& path, std::size_t rows, std::size_t frames,
                         const float* values, FeatureDtype dtype) {
  if (dtype == FeatureDtype::Float32) {
    write_npy_raw(path, "<f4", {rows, frames}, values, rows * frames * sizeof(float));
    return;
  }
  std::vector<std::uint16_t> halves(rows * frames);
  for (std::size_t i = 0; i < halves.size(); ++i) halves[i] = float_to_half(values[i]);
  write_npy_raw(path, "<f2", {rows, frames}, halves.data(), halves.size() * sizeof(std::uint16_t));
}

FeatureArray::FeatureArray(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open file: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size < 16) {
    ::close(fd);
    fail(path, "not an .npy file (too short)");
  }
  map_size_ = static_cast<std::size_t>(info.st_size);
  void* map = ::mmap(nullptr, map_size_, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file open
  if (map == MAP_FAILED) fail(path, std::string("cannot map file: ") + std::strerror(errno));
  map_ = static_cast<const unsigned char*>(map);

  try {
    if (std::memcmp(map_, "\x93NUMPY", 6) != 0) fail(path, "not an .npy file");
    std::size_t header_size = 0;
    std::size_t prefix = 0;
    if (map_[6] == 1) {
      header_size = map_[8] | (static_cast<std::size_t>(map_[9]) << 8);
      prefix = 10;
    } else if (map_[6] == 2 || map_[6] == 3) {
      header_size = map_[8] | (static_cast<std::size_t>(map_[9]) << 8) |
                    (static_cast<std::size_t>(map_[10]) << 16) | (static_cast<std::size_t>(map_[11]) << 24);
      prefix = 12;
    } else {
      fail(path, "unsupported .npy version " + std::to_string(map_[6]));
    }
    if (prefix + header_size > map_size_) fail(path, "truncated header");
    const std::string header(reinterpret_cast<const char*>(map_ + prefix), header_size);
    const std::string descr = header_value(header, "descr");
    if (descr == "'<f2'")
      dtype_ = FeatureDtype::Float16;
    else if (descr == "'<f4'")
      dtype_ = FeatureDtype::Float32;
    else
      fail(path, "unsupported element type " + descr + " (feature arrays are '<f2' or '<f4')");
    if (header_value(header, "fortran_order") != "False") fail(path, "not a C-ordered array");
    const std::string shape = header_value(header, "shape");
    std::size_t parsed[2];
    if (std::sscanf(shape.c_str(), "(%zu, %zu)", &parsed[0], &parsed[1]) != 2 &&
        std::sscanf(shape.c_str(), "(%zu,%zu)", &parsed[0], &parsed[1]) != 2)
      fail(path, "not a 2-D array (shape " + shape + ")");
    rows_ = parsed[0];
    frames_ = parsed[1];
    data_offset_ = prefix + header_size;
    // rows × frames elements must fit in what follows the header, counted without overflow (a header may claim
    // any shape).
    const std::size_t room = (map_size_ - data_offset_) / element_size(dtype_);
    if (rows_ != 0 && frames_ > room / rows_) fail(path, "truncated data (shorter than its shape says)");
  } catch (...) {
    unmap();
    throw;
  }
}

FeatureArray::~FeatureArray() {
  unmap();
}

FeatureArray::FeatureArray(FeatureArray&& other) noexcept {
  *this = std::move(other);
}

FeatureArray& FeatureArray::operator=(FeatureArray&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    data_offset_ = other.data_offset_;
    rows_ = other.rows_;
    frames_ = other.frames_;
    dtype_ = other.dtype_;
  }
  return *this;
}

void FeatureArray::unmap() {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), map_size_);
  map_ = nullptr;
  map_size_ = 0;
}

void FeatureArray::read_window(std::size_t offset, std::size_t count, std::span<float> out) const {
  if (offset > frames_ || count > frames_ - offset)
    throw std::out_of_range(path_.string() + ": window [" + std::to_string(offset) + ", " +
                            std::to_string(offset + count) + ") is outside the " + std::to_string(frames_) +
                            " frames");
  if (out.size() < rows_ * count)
    throw std::invalid_argument("read_window: output holds fewer than rows * count floats");
  if (count == 0) return;  // an empty window (of an array without frames, say): nothing to copy
  const std::size_t item = element_size(dtype_);
  for (std::size_t r = 0; r < rows_; ++r) {
    const unsigned char* row = map_ + data_offset_ + (r * frames_ + offset) * item;
    float* dst = out.data() + r * count;
    if (dtype_ == FeatureDtype::Float32) {
      std::memcpy(dst, row, count * sizeof(float));
    } else {
      for (std::size_t t = 0; t < count; ++t) {
        std::uint16_t half;
        std::memcpy(&half, row + 2 * t, 2);
        dst[t] = half_to_float(half);
      }
    }
  }
}

std::vector<float> FeatureArray::window(std::size_t offset, std::size_t count) const {
  std::vector<float> out(rows_ * count);
  read_window(offset, count, out);
  return out;
}

bool feature_file_intact(const std::filesystem::path& path, std::size_t rows, std::size_t frames) {
  try {
    const FeatureArray array(path);
    return array.rows() == rows && array.frames() == frames;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace tunelens
