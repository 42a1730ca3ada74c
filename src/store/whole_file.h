// Writing a whole file so that a killed run never leaves half of it: the bytes go to <path>.partial, which is
// then renamed into place. Header-only, for every writer of reports, tables and histories.
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tunelens {

// Throws std::runtime_error naming `path` when it cannot be written (the partial file is removed).
inline void write_whole_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot create file");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw std::runtime_error(path.string() + ": write failed (disk full?)");
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) {
    std::filesystem::remove(partial, error);
    throw std::runtime_error(path.string() + ": cannot write: " + error.message());
  }
}

}  // namespace tunelens
