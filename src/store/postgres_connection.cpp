// The catalog on a PostgreSQL server, through libpq (the server's own C client: stable, no wrapper to keep up
// with). Queries go as PQexecParams with text parameters (bytea ones binary) and come back in binary, so a
// vector's bytes arrive as they are stored.
#include <arpa/inet.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "store/sql_connection.h"

namespace tunelens {
namespace {

// Type OIDs of the columns the catalog reads (pg_type.h).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701;

// SQLSTATE classes and codes: https://www.postgresql.org/docs/15/errcodes-appendix.html
CatalogErrorKind kind_of(const std::string& state) {
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014")
    return CatalogErrorKind::Locked;
  if (state == "42501" || state == "25006") return CatalogErrorKind::ReadOnly;
  if (state.starts_with("23") || state.starts_with("22")) return CatalogErrorKind::Invalid;
  if (state.starts_with("XX0")) return CatalogErrorKind::Corrupt;
  if (state == "3D000" || state.starts_with("28")) return CatalogErrorKind::NotFound;
  return CatalogErrorKind::Io;
}

// A serialization failure or deadlock: the server undid the statement, which may simply run again.
bool is_transient(const std::string& state) {
  return state == "40001" || state == "40P01";
}

std::string first_line(const char* text) {
  std::string line = text ? text : "";
  line = line.substr(0, line.find('\n'));
  return line.empty() ? "no reason given" : line;
}

// Big-endian integers of binary results.
std::uint64_t read_be64(const char* bytes) {
  std::uint32_t high = 0, low = 0;
  std::memcpy(&high, bytes, 4);
  std::memcpy(&low, bytes + 4, 4);
  return (static_cast<std::uint64_t>(ntohl(high)) << 32) | ntohl(low);
}

// SQLite's '?' and '?N' parameters as $1, $2, ... in order of first use, with the map from SQLite's numbers
// to PostgreSQL's (a number a query never uses is simply not sent: PostgreSQL could not type it).
struct NumberedSql {
  std::string text;
  std::map<int, int> numbers;
};

NumberedSql number_parameters(const std::string& sql) {
  NumberedSql out;
  char quote = 0;
  int highest = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      std::size_t end = i + 1;
      while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
      const int number = end > i + 1 ? std::stoi(sql.substr(i + 1, end - i - 1)) : highest + 1;
      highest = std::max(highest, number);
      const auto [it, added] = out.numbers.emplace(number, static_cast<int>(out.numbers.size()) + 1);
      out.text += '$' + std::to_string(it->second);
      i = end - 1;
      continue;
    }
    out.text += c;
  }
  return out;
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresConnection;

class PostgresStatement final : public SqlStatement {
 public:
  PostgresStatement(PostgresConnection& connection, const std::string& sql)
      : connection_(connection), sql_(number_parameters(sql)), values_(sql_.numbers.size()) {}

  void bind_null(int index) override { set(index, std::nullopt, false); }
  void bind_integer(int index, std::int64_t value) override { set(index, std::to_string(value), false); }
  void bind_real(int index, double value) override {
    char text[32];
    const auto end =
        std::to_chars(text, text + sizeof text, value).ptr;  // shortest text that reads back exact
    set(index, std::string(text, end), false);
  }
  void bind_text(int index, std::string_view value) override { set(index, std::string(value), false); }
  void bind_blob(int index, std::string_view bytes) override { set(index, std::string(bytes), true); }

  bool step() override;
  std::int64_t changed_rows() const override {
    return result_ ? std::strtoll(PQcmdTuples(result_.get()), nullptr, 10) : 0;
  }
  void reset() override {
    result_.reset();
    row_ = -1;
    std::fill(values_.begin(), values_.end(), Value{});
  }

  SqlValueType type(int column) const override {
    if (PQgetisnull(result_.get(), row_, column)) return SqlValueType::Null;
    switch (PQftype(result_.get(), column)) {
      case kBool:
      case kInt2:
      case kInt4:
      case kInt8:
        return SqlValueType::Integer;
      case kFloat4:
      case kFloat8:
        return SqlValueType::Real;
      case kBytea:
        return SqlValueType::Blob;
      default:
        return SqlValueType::Text;
    }
  }
  std::int64_t integer(int column) const override {
    if (PQgetisnull(result_.get(), row_, column)) return 0;
    const char* bytes = PQgetvalue(result_.get(), row_, column);
    switch (PQftype(result_.get(), column)) {
      case kBool:
        return bytes[0] != 0;
      case kInt2: {
        std::uint16_t value = 0;
        std::memcpy(&value, bytes, 2);
        return static_cast<std::int16_t>(ntohs(value));
      }
      case kInt4: {
        std::uint32_t value = 0;
        std::memcpy(&value, bytes, 4);
        return static_cast<std::int32_t>(ntohl(value));
      }
      case kInt8:
        return static_cast<std::int64_t>(read_be64(bytes));
      default:
        return static_cast<std::int64_t>(real(column));
    }
  }
  double real(int column) const override {
    if (PQgetisnull(result_.get(), row_, column)) return 0.0;
    const char* bytes = PQgetvalue(result_.get(), row_, column);
    switch (PQftype(result_.get(), column)) {
      case kFloat8: {
        const std::uint64_t bits = read_be64(bytes);
        double value = 0.0;
        std::memcpy(&value, &bits, sizeof value);
        return value;
      }
      case kFloat4: {
        std::uint32_t bits = 0;
        std::memcpy(&bits, bytes, 4);
        bits = ntohl(bits);
        float value = 0.0f;
        std::memcpy(&value, &bits, sizeof value);
        return value;
      }
      default:
        return static_cast<double>(integer(column));
    }
  }
  std::string_view bytes(int column) const override {
    if (PQgetisnull(result_.get(), row_, column)) return {};
    return {PQgetvalue(result_.get(), row_, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row_, column))};
  }

 private:
  struct Value {
    std::optional<std::string> bytes;
    bool binary = false;
  };
  void set(int index, std::optional<std::string> bytes, bool binary) {
    const auto it = sql_.numbers.find(index);
    if (it != sql_.numbers.end())
      values_[static_cast<std::size_t>(it->second - 1)] = {std::move(bytes), binary};
  }

  PostgresConnection& connection_;
  NumberedSql sql_;
  std::vector<Value> values_;
  Result result_;
  int row_ = -1;
};

class PostgresConnection final : public SqlConnection {
 public:
  PostgresConnection(PGconn* connection, std::string name)
      : connection_(connection), name_(std::move(name)) {}
  ~PostgresConnection() override { PQfinish(connection_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  CatalogBackend backend() const override { return CatalogBackend::Postgres; }
  std::unique_ptr<SqlStatement> prepare(const std::string& sql) override {
    return std::make_unique<PostgresStatement>(*this, sql);
  }
  void execute(const std::string& sql) override {
    run([&] { return Result(PQexec(connection_, sql.c_str())); }, sql);
  }
  bool in_transaction() const override {
    const PGTransactionStatusType status = PQtransactionStatus(connection_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }
  void begin() override { execute("BEGIN"); }

  // Runs `send` (once more after a serialization failure or deadlock outside a transaction: the statement
  // alone was undone); returns its result, or throws a CatalogError with the server's one-line message.
  template <typename Send>
  Result run(Send send, std::string_view sql) {
    constexpr int kTries = 3;
    for (int attempt = 1;; ++attempt) {
      const bool alone = !in_transaction();
      Result result = send();
      const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
      const char* code = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
      const std::string state = code ? code : "";
      if (alone && is_transient(state) && attempt < kTries) continue;
      const char* primary = result ? PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
      const std::string reason = first_line(primary ? primary : PQerrorMessage(connection_));
      const CatalogErrorKind kind =
          PQstatus(connection_) == CONNECTION_BAD ? CatalogErrorKind::Io : kind_of(state);
      throw_catalog_error(kind, name_, "cannot run " + sql_first_words(sql) + ": " + reason);
    }
  }

  PGconn* handle() const { return connection_; }

 private:
  PGconn* connection_;
  std::string name_;
};

bool PostgresStatement::step() {
  if (!result_) {
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const Value& value : values_) {
      values.push_back(value.bytes ? value.bytes->data() : nullptr);
      lengths.push_back(value.bytes ? static_cast<int>(value.bytes->size()) : 0);
      formats.push_back(value.binary ? 1 : 0);
    }
    result_ = connection_.run(
        [&] {
          return Result(PQexecParams(connection_.handle(), sql_.text.c_str(), static_cast<int>(values.size()),
                                     nullptr, values.data(), lengths.data(), formats.data(), 1));
        },
        sql_.text);
  }
  ++row_;
  return row_ < PQntuples(result_.get());
}

void ignore_notice(void*, const char*) {}

}  // namespace

std::unique_ptr<SqlConnection> open_postgres_connection(const std::string& uri, const CatalogOptions& options,
                                                        const std::string& name) {
  PGconn* handle = PQconnectdb(uri.c_str());
  if (!handle) throw_catalog_error(CatalogErrorKind::Io, name, "out of memory");
  if (PQstatus(handle) != CONNECTION_OK) {
    // "connection to server ... failed: Connection refused", "... password authentication failed ...".
    std::string reason = first_line(PQerrorMessage(handle));
    PQfinish(handle);
    throw_catalog_error(CatalogErrorKind::NotFound, name, reason);
  }
  PQsetNoticeProcessor(handle, ignore_notice, nullptr);
  auto connection = std::make_unique<PostgresConnection>(handle, name);
  // A lock held by another session longer than this fails as SQLite's busy timeout does (Locked); text
  // compares byte by byte, as in SQLite, whatever the database's locale (the columns say COLLATE "C" too).
  connection->execute("SET lock_timeout = " + std::to_string(std::max(1, options.busy_timeout_ms)) +
                      "; SET client_encoding = 'UTF8'");
  return connection;
}

}  // namespace tunelens
