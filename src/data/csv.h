// A CSV reader for dataset metadata (RFC 4180): comma-separated fields, fields in double quotes may hold
// commas, line breaks and doubled quotes (""), CRLF or LF line ends, an optional UTF-8 byte order mark.
// Streams the file, so FMA's 250 MB tracks.csv is read in constant memory.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset_error.h"

namespace tunelens {

// A field for a CSV file written by tunelens: as it is, or in double quotes (inner quotes doubled) when it holds a
// comma, a quote or a line break. Header-only, so that writers need not link tunelens_data.
inline std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out += '"';
}

// A field without the spaces, tabs and line ends around it.
inline std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
}

class CsvReader {
 public:
  // Throws DatasetError naming the file when it cannot be opened.
  explicit CsvReader(const std::filesystem::path& path);

  // Reads the next record into `fields`; false at the end of the file. A blank line is a record of one empty
  // field. Throws DatasetError ("<file>:<line>: ...") for a quoted field that never ends.
  bool next(std::vector<std::string>& fields);
  // The line on which the last record read started (1-based), and the number of records read so far.
  std::size_t line() const { return record_line_; }
  std::size_t records() const { return records_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  int get();
  std::filesystem::path path_;
  std::ifstream in_;
  std::size_t line_ = 1;         // line of the next character
  std::size_t record_line_ = 0;  // line where the last record started
  std::size_t records_ = 0;
};

}  // namespace tunelens
