// What the catalog needs of a database, and its two implementations: an SQLite file (sqlite_connection.cpp)
// and a PostgreSQL server (postgres_connection.cpp). Internal to the store: the rest of the program sees only
// Catalog. The catalog writes its queries once, with SQLite's '?' and '?N' parameters; the PostgreSQL
// connection numbers them as $1, $2, ... itself. Every failure is a CatalogError naming the catalog.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "store/catalog.h"

namespace tunelens {

enum class SqlValueType { Null, Integer, Real, Text, Blob };

// A query with its parameters bound, then its rows one at a time. Parameters count from 1, columns from 0.
class SqlStatement {
 public:
  virtual ~SqlStatement() = default;
  virtual void bind_null(int index) = 0;
  virtual void bind_integer(int index, std::int64_t value) = 0;
  virtual void bind_real(int index, double value) = 0;
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_blob(int index, std::string_view bytes) = 0;
  // Runs the query on the first call; true while a row is ready.
  virtual bool step() = 0;
  // Ready to run again, with no parameters bound.
  virtual void reset() = 0;
  // The rows an INSERT, UPDATE or DELETE changed, once step() has returned false.
  virtual std::int64_t changed_rows() const = 0;
  virtual SqlValueType type(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;    // 0 for NULL
  virtual double real(int column) const = 0;             // 0 for NULL
  virtual std::string_view bytes(int column) const = 0;  // text or blob; empty for NULL
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual CatalogBackend backend() const = 0;
  virtual std::unique_ptr<SqlStatement> prepare(const std::string& sql) = 0;
  // One or more statements without parameters or rows (schema changes, transaction control).
  virtual void execute(const std::string& sql) = 0;
  // Inside BEGIN ... COMMIT (a new Transaction is then a savepoint).
  virtual bool in_transaction() const = 0;
  // Starts a transaction; SQLite takes the write lock at once, as two writers would otherwise deadlock.
  virtual void begin() = 0;
};

// Opens an SQLite catalog file (flags as sqlite3_open_v2's; SQLITE_OPEN_READONLY opens it immutable). Errors
// name `name` (the file as the user gave it).
std::unique_ptr<SqlConnection> open_sqlite_connection(const std::filesystem::path& file, int flags,
                                                      const CatalogOptions& options, const std::string& name);
// Connects to a PostgreSQL server by a libpq URI; errors name `name` (the URI with its password masked).
std::unique_ptr<SqlConnection> open_postgres_connection(const std::string& uri, const CatalogOptions& options,
                                                        const std::string& name);

// "cannot open the catalog", "locked by another process", ...: the first words of every CatalogError.
std::string catalog_error_text(CatalogErrorKind kind);
// CatalogError(kind, name, "<kind text>: <reason>").
[[noreturn]] void throw_catalog_error(CatalogErrorKind kind, const std::string& name,
                                      const std::string& reason);
// "INSERT INTO tracks", "SELECT t.id, ...": the first three words of a query, for saying what failed.
std::string sql_first_words(std::string_view sql);

}  // namespace tunelens
