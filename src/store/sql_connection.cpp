#include "store/sql_connection.h"

namespace tunelens {

std::string catalog_error_text(CatalogErrorKind kind) {
  switch (kind) {
    case CatalogErrorKind::NotFound:
      return "cannot open the catalog";
    case CatalogErrorKind::Exists:
      return "a catalog already exists";
    case CatalogErrorKind::NotACatalog:
      return "not a tunelens catalog";
    case CatalogErrorKind::NewerSchema:
      return "made by a newer tunelens";
    case CatalogErrorKind::Locked:
      return "locked by another process";
    case CatalogErrorKind::ReadOnly:
      return "read-only";
    case CatalogErrorKind::Corrupt:
      return "damaged catalog";
    case CatalogErrorKind::Invalid:
      return "invalid request";
    case CatalogErrorKind::Io:
      return "catalog I/O error";
  }
  return "catalog error";
}

void throw_catalog_error(CatalogErrorKind kind, const std::string& name, const std::string& reason) {
  throw CatalogError(kind, name, catalog_error_text(kind) + ": " + reason);
}

std::string sql_first_words(std::string_view sql) {
  const auto start = sql.find_first_not_of(" \n");
  sql = start == std::string_view::npos ? sql : sql.substr(start);
  std::size_t end = 0;
  for (int words = 0; words < 3 && end != std::string_view::npos; ++words) end = sql.find(' ', end + 1);
  return std::string(sql.substr(0, end));
}

}  // namespace tunelens
