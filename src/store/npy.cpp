#include "store/npy.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

namespace tunelens {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& reason) {
  throw NpyError(path.string() + ": " + reason);
}

// Returns the text of a Python dict entry such as 'descr': '<f4' or 'shape': (128, 517).
std::string dict_value(const std::string& header, const std::string& key) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) return {};
  auto colon = header.find(':', at);
  if (colon == std::string::npos) return {};
  auto begin = header.find_first_not_of(' ', colon + 1);
  if (begin == std::string::npos) return {};
  char open = header[begin];
  std::size_t end;
  if (open == '\'') {
    end = header.find('\'', begin + 1);
    return end == std::string::npos ? std::string{} : header.substr(begin + 1, end - begin - 1);
  }
  if (open == '(') {
    end = header.find(')', begin);
    return end == std::string::npos ? std::string{} : header.substr(begin, end - begin + 1);
  }
  end = header.find_first_of(",}", begin);
  return header.substr(begin, end - begin);
}

// The sizes of a shape tuple such as (128, 517) or (5,); nullopt when an item is not a whole number.
std::optional<std::vector<std::size_t>> parse_shape(const std::string& tuple) {
  std::vector<std::size_t> shape;
  std::string inner = tuple.substr(1, tuple.size() - 2);
  std::stringstream parts(inner);
  std::string item;
  while (std::getline(parts, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    const auto last = item.find_last_not_of(' ');
    std::size_t size = 0;
    const char* end = item.data() + last + 1;
    const auto [at, error] = std::from_chars(item.data() + first, end, size);
    if (error != std::errc() || at != end) return std::nullopt;
    shape.push_back(size);
  }
  return shape;
}

template <typename T>
void convert(const std::vector<char>& raw, std::vector<float>& out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

// Values stored in Fortran order (first index fastest), as numpy writes a transposed array, reordered to C order
// (last index fastest).
std::vector<float> to_c_order(const std::vector<float>& fortran, const std::vector<std::size_t>& shape) {
  std::vector<float> c_order(fortran.size());
  std::vector<std::size_t> index(shape.size(), 0);  // the C-order position's multi-index, counted up as i grows
  for (std::size_t i = 0; i < c_order.size(); ++i) {
    std::size_t at = 0;
    for (std::size_t d = shape.size(); d-- > 0;) at = at * shape[d] + index[d];
    c_order[i] = fortran[at];
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return c_order;
}

}  // namespace

std::size_t NpyArray::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

NpyArray read_npy(const std::filesystem::path& path) {
  static_assert(std::endian::native == std::endian::little, "tunelens assumes a little-endian machine");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open file");
  // Every size the header gives is checked against what the file holds before anything is allocated.
  std::error_code size_error;
  const std::uintmax_t file_size = std::filesystem::file_size(path, size_error);
  if (size_error) fail(path, "cannot open file");
  char magic[kMagicSize];
  unsigned char version[2];
  if (!in.read(magic, kMagicSize) || std::memcmp(magic, kMagic, kMagicSize) != 0) fail(path, "not an .npy file");
  if (!in.read(reinterpret_cast<char*>(version), 2)) fail(path, "truncated header");
  std::size_t header_len = 0;
  if (version[0] == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) fail(path, "truncated header");
    header_len = len[0] | (len[1] << 8);
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) fail(path, "truncated header");
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<std::size_t>(len[3]) << 24);
  } else {
    fail(path, "unsupported .npy version " + std::to_string(version[0]));
  }
  const std::uintmax_t prefix = kMagicSize + 2 + (version[0] == 1 ? 2 : 4);
  if (header_len > file_size - prefix) fail(path, "truncated header");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len))) fail(path, "truncated header");

  const std::string descr = dict_value(header, "descr");
  const std::string order = dict_value(header, "fortran_order");
  const std::string shape_text = dict_value(header, "shape");
  if (descr.empty() || order.empty() || shape_text.empty()) fail(path, "malformed header");
  const bool fortran_order = order.find("True") != std::string::npos;

  NpyArray array;
  auto shape = parse_shape(shape_text);
  if (!shape) fail(path, "malformed shape " + shape_text);
  array.shape = std::move(*shape);
  std::size_t item = 0;
  if (descr == "<f4" || descr == "<i4") item = 4;
  else if (descr == "<f8" || descr == "<i8") item = 8;
  else if (descr == "<i2") item = 2;
  else fail(path, "unsupported element type '" + descr + "'");
  // The data's bytes, counted without overflow: a shape may claim more than any file holds.
  const std::uintmax_t data_size = file_size - prefix - header_len;
  std::uintmax_t bytes = item;
  if (std::find(array.shape.begin(), array.shape.end(), 0) != array.shape.end()) bytes = 0;
  for (const std::size_t size : array.shape) {
    if (bytes > 0 && bytes > data_size / size) fail(path, "truncated data");
    bytes *= size;
  }
  if (bytes > data_size) fail(path, "truncated data");
  array.values.resize(bytes / item);

  std::vector<char> raw(bytes);
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) fail(path, "truncated data");
  if (raw.empty()) return array;
  if (descr == "<f4") std::memcpy(array.values.data(), raw.data(), raw.size());
  else if (descr == "<f8") convert<double>(raw, array.values);
  else if (descr == "<i4") convert<std::int32_t>(raw, array.values);
  else if (descr == "<i8") convert<std::int64_t>(raw, array.values);
  else convert<std::int16_t>(raw, array.values);
  if (fortran_order) array.values = to_c_order(array.values, array.shape);
  return array;
}

void write_npy_raw(const std::filesystem::path& path, const std::string& descr, const std::vector<std::size_t>& shape,
                   const void* data, std::size_t bytes) {
  std::string shape_text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    shape_text += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
  if (shape.size() == 1) shape_text.pop_back();  // numpy writes (n,)
  shape_text += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // The header (with magic, version and length) is padded with spaces to a multiple of 64 bytes, ending in '\n'.
  const bool v2 = header.size() + 11 > 65535;
  const std::size_t prefix = kMagicSize + 2 + (v2 ? 4 : 2);
  const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');

  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot create file");
    out.write(kMagic, kMagicSize);
    const char version[2] = {static_cast<char>(v2 ? 2 : 1), 0};
    out.write(version, 2);
    const std::size_t n = header.size();
    const char len[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                         static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
    out.write(len, v2 ? 4 : 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      fail(path, "write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    std::filesystem::remove(partial, ec);
    fail(path, "cannot rename into place: " + ec.message());
  }
}

void write_npy(const std::filesystem::path& path, const std::vector<std::size_t>& shape, const float* values) {
  const std::size_t count = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  write_npy_raw(path, "<f4", shape, values, count * sizeof(float));
}

}  // namespace tunelens
