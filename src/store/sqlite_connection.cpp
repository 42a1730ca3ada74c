// The catalog on an SQLite file.
#include <sqlite3.h>

#include <cstdio>
#include <utility>

#include "store/sql_connection.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

CatalogErrorKind kind_of(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return CatalogErrorKind::Locked;
    case SQLITE_NOTADB:
      return CatalogErrorKind::NotACatalog;
    case SQLITE_CORRUPT:
      return CatalogErrorKind::Corrupt;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return CatalogErrorKind::ReadOnly;
    case SQLITE_CANTOPEN:
      return CatalogErrorKind::NotFound;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return CatalogErrorKind::Invalid;
    default:
      return CatalogErrorKind::Io;
  }
}

class SqliteStatement final : public SqlStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& name, const std::string& sql) : db_(db), name_(name) {
    const int code = sqlite3_prepare_v2(db, sql.c_str(), -1, &statement_, nullptr);
    if (code != SQLITE_OK) fail(code, "cannot prepare a query");
  }
  ~SqliteStatement() override { sqlite3_finalize(statement_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bind_null(int index) override { check(sqlite3_bind_null(statement_, index)); }
  void bind_integer(int index, std::int64_t value) override {
    check(sqlite3_bind_int64(statement_, index, value));
  }
  void bind_real(int index, double value) override { check(sqlite3_bind_double(statement_, index, value)); }
  void bind_text(int index, std::string_view value) override {
    check(
        sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  void bind_blob(int index, std::string_view bytes) override {
    check(
        sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  }

  bool step() override {
    const int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    sqlite3_reset(statement_);
    fail(code, "cannot run " + sql_first_words(sqlite3_sql(statement_)));
  }
  void reset() override {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  std::int64_t changed_rows() const override { return sqlite3_changes64(sqlite3_db_handle(statement_)); }

  SqlValueType type(int column) const override {
    switch (sqlite3_column_type(statement_, column)) {
      case SQLITE_NULL:
        return SqlValueType::Null;
      case SQLITE_INTEGER:
        return SqlValueType::Integer;
      case SQLITE_FLOAT:
        return SqlValueType::Real;
      case SQLITE_BLOB:
        return SqlValueType::Blob;
      default:
        return SqlValueType::Text;
    }
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(statement_, column); }
  double real(int column) const override { return sqlite3_column_double(statement_, column); }
  std::string_view bytes(int column) const override {
    // sqlite3_column_blob gives text columns' bytes too, unconverted.
    const void* data = sqlite3_column_blob(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    return data ? std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size))
                : std::string_view();
  }

 private:
  void check(int code) const {
    if (code != SQLITE_OK) fail(code, "cannot bind a value");
  }
  [[noreturn]] void fail(int code, const std::string& doing) const {
    throw_catalog_error(kind_of(code), name_, doing + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  const std::string& name_;
  sqlite3_stmt* statement_ = nullptr;
};

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {}
  ~SqliteConnection() override { sqlite3_close_v2(db_); }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  CatalogBackend backend() const override { return CatalogBackend::Sqlite; }
  std::unique_ptr<SqlStatement> prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(db_, name_, sql);
  }
  void execute(const std::string& sql) override {
    char* message = nullptr;
    const int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (code != SQLITE_OK) {
      const std::string text = message ? message : sqlite3_errstr(code);
      sqlite3_free(message);
      throw_catalog_error(kind_of(code), name_, text);
    }
  }
  bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  void begin() override { execute("BEGIN IMMEDIATE"); }

 private:
  sqlite3* db_;
  std::string name_;
};

}  // namespace

std::unique_ptr<SqlConnection> open_sqlite_connection(const fs::path& file, int flags,
                                                      const CatalogOptions& options,
                                                      const std::string& name) {
  std::string location = file.string();
  if (flags & SQLITE_OPEN_READONLY) {
    location = "file:";
    for (const unsigned char c : fs::absolute(file).string()) {
      if (c == '%' || c == '?' || c == '#' || c < 0x20) {
        char escaped[4];
        std::snprintf(escaped, sizeof escaped, "%%%02X", c);
        location += escaped;
      } else {
        location += static_cast<char>(c);
      }
    }
    location += "?immutable=1";
    flags |= SQLITE_OPEN_URI;
  }
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(location.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    sqlite3_close_v2(db);
    throw_catalog_error(kind_of(code), name, detail);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  return std::make_unique<SqliteConnection>(db, name);
}

}  // namespace tunelens
