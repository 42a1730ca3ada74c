#include "data/csv.h"

namespace tunelens {

CsvReader::CsvReader(const std::filesystem::path& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_) throw DatasetError(path.string() + ": cannot open the file");
  // Skip a UTF-8 byte order mark.
  char bom[3] = {};
  in_.read(bom, 3);
  if (!(in_.gcount() == 3 && bom[0] == '\xef' && bom[1] == '\xbb' && bom[2] == '\xbf')) {
    in_.clear();
    in_.seekg(0);
  }
}

int CsvReader::get() {
  const int c = in_.get();
  if (c == '\n') ++line_;
  return c;
}

bool CsvReader::next(std::vector<std::string>& fields) {
  fields.clear();
  int c = get();
  if (c == std::char_traits<char>::eof()) return false;
  record_line_ = line_ - (c == '\n' ? 1 : 0);
  ++records_;
  std::string field;
  bool quoted = false;      // inside a quoted part of the field
  bool was_quoted = false;  // the field started with a quote
  for (;; c = get()) {
    if (c == std::char_traits<char>::eof()) {
      if (quoted)
        throw DatasetError(path_.string() + ":" + std::to_string(record_line_) +
                           ": a quoted field is not closed before the end of the file");
      fields.push_back(std::move(field));
      return true;
    }
    if (quoted) {
      if (c == '"') {
        if (in_.peek() == '"') {  // a doubled quote is one quote character
          get();
          field.push_back('"');
        } else {
          quoted = false;
        }
      } else {
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      fields.push_back(std::move(field));
      return true;
    } else if (c == '\r' && in_.peek() == '\n') {
      // CRLF: the '\n' ends the record on the next turn
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else {
      field.push_back(
          static_cast<char>(c));  // text after a closing quote, or a quote inside a bare field: kept
    }
  }
}

}  // namespace tunelens
