// Catalogs on both databases for the tests: an SQLite file in a scratch folder, and a PostgreSQL catalog in a
// schema of its own on the server named by TUNELENS_TEST_PG (tests/pg/with_postgres.sh starts one; make test
// runs the tests under it). Without that variable the PostgreSQL cases skip, saying why.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "store/catalog.h"
#include "store/fingerprint.h"
#include "test_support.h"

namespace tunelens::testing {

// A track as an import would add it (the fingerprint is the path's hash).
inline TrackInfo make_track(const std::string& path, const std::optional<std::string>& label,
                            const std::optional<std::string>& artist = std::nullopt) {
  TrackInfo track;
  track.path = path;
  track.fingerprint = hash_hex(content_hash(path));
  track.size = 1000;
  track.duration = 30.0;
  track.sample_rate = 44100;
  track.channels = 2;
  track.codec = "mp3";
  track.label = label;
  track.artist = artist;
  track.source = "test";
  return track;
}

// The PostgreSQL server of the tests, or "" when there is none.
inline std::string test_postgres_uri() {
  const char* uri = std::getenv("TUNELENS_TEST_PG");
  return uri ? uri : "";
}

// Runs SQL on a PostgreSQL database behind the catalog's back; returns the first value of the first row (""
// when none) and fails the test on an error.
inline std::string postgres_sql(const std::string& uri, const std::string& sql) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> connection(PQconnectdb(uri.c_str()), PQfinish);
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    ADD_FAILURE() << uri << ": " << PQerrorMessage(connection.get());
    return "";
  }
  PQsetNoticeProcessor(
      connection.get(), [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(connection.get(), sql.c_str()), PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result.get());
    return "";
  }
  return PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0) : "";
}

// Runs SQL on an SQLite file behind the catalog's back, as another program would.
inline void sqlite_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(code, SQLITE_OK) << message;
}

// The first value of the first row of a query on an SQLite file ("" when none), read-only.
inline std::string sqlite_text(const std::filesystem::path& file, const std::string& sql) {
  std::string value;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  const int code = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int columns, char** values, char**) {
        if (columns > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
        return 1;  // the first row is enough
      },
      &value, nullptr);
  EXPECT_TRUE(code == SQLITE_OK || code == SQLITE_ABORT) << sqlite3_errmsg(db);
  sqlite3_close(db);
  return value;
}

// A PostgreSQL schema of its own for one test, dropped at the end: the URI of a catalog in it.
class PostgresSchema {
 public:
  PostgresSchema() {
    static std::atomic<int> count{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(count++);
    postgres_sql(test_postgres_uri(), "DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_);
    const std::string base = test_postgres_uri();
    uri_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" + name_;
  }
  ~PostgresSchema() { postgres_sql(test_postgres_uri(), "DROP SCHEMA IF EXISTS " + name_ + " CASCADE"); }
  PostgresSchema(const PostgresSchema&) = delete;
  PostgresSchema& operator=(const PostgresSchema&) = delete;
  const std::string& uri() const { return uri_; }

 private:
  std::string name_, uri_;
};

inline std::string backend_name(const ::testing::TestParamInfo<CatalogBackend>& info) {
  return info.param == CatalogBackend::Sqlite ? "sqlite" : "postgresql";
}

}  // namespace tunelens::testing

namespace tunelens {
// How GoogleTest prints the parameter (in the names CTest lists).
inline void PrintTo(CatalogBackend backend, std::ostream* out) {
  *out << (backend == CatalogBackend::Sqlite ? "sqlite" : "postgresql");
}
}  // namespace tunelens

namespace tunelens::testing {

// The fixture of the tests that run on both databases: location() is a new catalog's place (scratch/cat.db,
// or a fresh schema), sql() runs a statement on it behind the catalog's back.
class CatalogOnBothDatabases : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == CatalogBackend::Postgres) {
      if (test_postgres_uri().empty())
        GTEST_SKIP()
            << "TUNELENS_TEST_PG is not set: no PostgreSQL server (tests/pg/with_postgres.sh starts one)";
      schema_ = std::make_unique<PostgresSchema>();
    }
  }
  bool postgres() const { return GetParam() == CatalogBackend::Postgres; }
  std::string location() const { return postgres() ? schema_->uri() : (scratch / "cat.db").string(); }
  Catalog create() const { return Catalog::create(location(), scratch.path()); }
  void sql(const std::string& statement) const {
    if (postgres())
      postgres_sql(location(), statement);
    else
      sqlite_sql(location(), statement);
  }

  ScratchDir scratch;
  std::unique_ptr<PostgresSchema> schema_;
};

}  // namespace tunelens::testing
