#include "store/catalog.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "store/fingerprint.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

constexpr int kApplicationId = 0x544c4e53;  // 'TLNS' in the header of every tunelens catalog

// Migration i takes a catalog from schema version i to i + 1. A new version appends a step; steps never
// change.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the first schema.
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE tracks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  fingerprint TEXT NOT NULL,
  size INTEGER NOT NULL,
  duration REAL NOT NULL,
  sample_rate INTEGER NOT NULL,
  channels INTEGER NOT NULL,
  codec TEXT NOT NULL,
  title TEXT,
  artist TEXT,
  album TEXT,
  album_order INTEGER,
  year INTEGER,
  track_number INTEGER,
  label TEXT CHECK (label <> ''),
  source TEXT NOT NULL,
  source_id TEXT,
  source_split TEXT CHECK (source_split IN ('train', 'val', 'test')),
  source_subset TEXT);
CREATE INDEX tracks_label ON tracks(label);
CREATE INDEX tracks_fingerprint ON tracks(fingerprint);
CREATE TABLE splits(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  scheme TEXT NOT NULL,
  seed INTEGER NOT NULL,
  parameters TEXT NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE split_tracks(
  split INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
  track INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  part TEXT NOT NULL CHECK (part IN ('train', 'val', 'test')),
  PRIMARY KEY (split, track)) WITHOUT ROWID;
CREATE TABLE feature_configs(
  id TEXT PRIMARY KEY,
  parameters TEXT NOT NULL,
  created TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE features(
  track INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  config TEXT NOT NULL REFERENCES feature_configs(id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  n_mels INTEGER NOT NULL DEFAULT 0,
  frames INTEGER NOT NULL DEFAULT 0,
  seconds REAL NOT NULL DEFAULT 0,
  error TEXT,
  PRIMARY KEY (track, config)) WITHOUT ROWID;
CREATE INDEX features_config ON features(config, status);
CREATE TABLE predictions(
  track INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  probabilities BLOB NOT NULL,
  PRIMARY KEY (track, model)) WITHOUT ROWID;
CREATE TABLE vectors(
  track INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  kind TEXT NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (track, model, kind)) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == Catalog::kSchemaVersion, "one migration per schema version");

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

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

std::string kind_text(CatalogErrorKind kind) {
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

// A lexically normal absolute path with symbolic links of its existing part resolved, without a trailing '/'.
fs::path resolved(const fs::path& path) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec) out = fs::absolute(path);
  out = out.lexically_normal();
  if (out.filename().empty() && out.has_parent_path() && out != out.root_path()) out = out.parent_path();
  return out;
}

// Folder and file name resolved separately: a file that is itself a symbolic link keeps its own name and
// place.
fs::path resolved_file(const fs::path& file) {
  const fs::path absolute = fs::absolute(file).lexically_normal();
  return resolved(absolute.parent_path()) / absolute.filename();
}

std::string blob_of(std::span<const float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

}  // namespace

CatalogError::CatalogError(CatalogErrorKind kind, const std::filesystem::path& path,
                           const std::string& reason)
    : std::runtime_error(path.string() + ": " + reason), kind_(kind), path_(path) {}

std::string to_string(SplitPart part) {
  switch (part) {
    case SplitPart::Train:
      return "train";
    case SplitPart::Val:
      return "val";
    case SplitPart::Test:
      return "test";
  }
  return "train";
}

std::optional<SplitPart> parse_split_part(std::string_view text) {
  if (text == "train" || text == "training") return SplitPart::Train;
  if (text == "val" || text == "validation" || text == "valid") return SplitPart::Val;
  if (text == "test") return SplitPart::Test;
  return std::nullopt;
}

// A prepared statement; errors become CatalogError naming the catalog file.
class Catalog::Statement {
 public:
  Statement(const Catalog& catalog, const char* sql) : catalog_(&catalog) {
    const int code = sqlite3_prepare_v2(catalog.db_.get(), sql, -1, &statement_, nullptr);
    if (code != SQLITE_OK) catalog.fail(code, "cannot prepare a query");
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(Statement&& other) noexcept
      : catalog_(other.catalog_), statement_(std::exchange(other.statement_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int index, std::int64_t value) {
    return check(sqlite3_bind_int64(statement_, index, value));
  }
  Statement& bind(int index, int value) { return check(sqlite3_bind_int64(statement_, index, value)); }
  Statement& bind(int index, std::size_t value) {
    return check(sqlite3_bind_int64(statement_, index, static_cast<std::int64_t>(value)));
  }
  Statement& bind(int index, double value) { return check(sqlite3_bind_double(statement_, index, value)); }
  Statement& bind(int index, const std::string& value) {
    return check(
        sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string(value)); }
  Statement& bind_blob(int index, const std::string& bytes) {
    return check(
        sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  }
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    if (!value) return check(sqlite3_bind_null(statement_, index));
    return bind(index, *value);
  }

  // Runs one step: true when a row is ready, false when done.
  bool step() {
    const int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    sqlite3_reset(statement_);
    catalog_->fail(code, "cannot run " + first_words());
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  double real(int column) const { return sqlite3_column_double(statement_, column); }
  std::string text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
                : std::string();
  }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::optional<int> optional_int(int column) const {
    if (is_null(column)) return std::nullopt;
    return static_cast<int>(integer(column));
  }
  std::vector<float> floats(int column) const {
    std::vector<float> values;
    append_floats(column, values);
    return values;
  }
  // Appends a blob column's floats to `out` (no vector per row, for bulk reads); returns how many.
  std::size_t append_floats(int column, std::vector<float>& out) const {
    const void* data = sqlite3_column_blob(statement_, column);
    const std::size_t count =
        static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)) / sizeof(float);
    const std::size_t offset = out.size();
    out.resize(offset + count);
    if (data && count > 0) std::memcpy(out.data() + offset, data, count * sizeof(float));
    return count;
  }

 private:
  Statement& check(int code) {
    if (code != SQLITE_OK) catalog_->fail(code, "cannot bind a value");
    return *this;
  }
  // "INSERT INTO tracks", "SELECT ...": what was being done, for the error message.
  std::string first_words() const {
    std::string sql = sqlite3_sql(statement_);
    const auto start = sql.find_first_not_of(" \n");
    sql = start == std::string::npos ? sql : sql.substr(start);
    std::size_t end = 0;
    for (int words = 0; words < 3 && end != std::string::npos; ++words) end = sql.find(' ', end + 1);
    return sql.substr(0, end);
  }

  const Catalog* catalog_;
  sqlite3_stmt* statement_ = nullptr;
};

void Catalog::Closer::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Catalog::Catalog(std::filesystem::path file, sqlite3* db) : file_(std::move(file)), db_(db) {}
Catalog::~Catalog() = default;
Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;

void Catalog::fail(int code, const std::string& doing) const {
  const CatalogErrorKind kind = kind_of(code);
  const std::string detail = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(code);
  throw CatalogError(kind, file_, kind_text(kind) + ": " + doing + ": " + detail);
}

void Catalog::fail(CatalogErrorKind kind, const std::string& reason) const {
  throw CatalogError(kind, file_, kind_text(kind) + ": " + reason);
}

void Catalog::execute(const char* sql) const {
  char* message = nullptr;
  const int code = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
  if (code != SQLITE_OK) {
    const std::string text = message ? message : sqlite3_errstr(code);
    sqlite3_free(message);
    const CatalogErrorKind kind = kind_of(code);
    throw CatalogError(kind, file_, kind_text(kind) + ": " + text);
  }
}

Catalog::Statement Catalog::prepare(const char* sql) const {
  return Statement(*this, sql);
}

namespace {

// Opens the SQLite connection with the settings every catalog connection uses. SQLITE_OPEN_READONLY opens it
// immutable (a URI): in a folder nobody may write, SQLite could not make the files WAL mode reads through.
sqlite3* open_connection(const fs::path& file, int flags, const CatalogOptions& options) {
  std::string name = file.string();
  if (flags & SQLITE_OPEN_READONLY) {
    name = "file:";
    for (const unsigned char c : fs::absolute(file).string()) {
      if (c == '%' || c == '?' || c == '#' || c < 0x20) {
        char escaped[4];
        std::snprintf(escaped, sizeof escaped, "%%%02X", c);
        name += escaped;
      } else {
        name += static_cast<char>(c);
      }
    }
    name += "?immutable=1";
    flags |= SQLITE_OPEN_URI;
  }
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    sqlite3_close_v2(db);
    const CatalogErrorKind kind = kind_of(code);
    throw CatalogError(kind, file, kind_text(kind) + ": " + detail);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  return db;
}

}  // namespace

Catalog Catalog::create(const std::filesystem::path& file, const std::filesystem::path& dataset_root,
                        const CatalogOptions& options) {
  std::error_code ec;
  if (fs::exists(file, ec))
    throw CatalogError(CatalogErrorKind::Exists, file, kind_text(CatalogErrorKind::Exists));
  if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
  // Built under a temporary name, then renamed: the catalog file appears complete or not at all.
  fs::path building = file;
  building += ".creating";
  for (const char* suffix : {"", "-journal", "-wal", "-shm"})
    fs::remove(fs::path(building.string() + suffix), ec);
  {
    Catalog catalog(building, open_connection(building, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options));
    catalog.file_ = file;  // errors name the file the user asked for; it is in the same folder
    Transaction transaction(catalog);
    catalog.execute(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    for (const char* step : kMigrations) catalog.execute(step);
    catalog.execute(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
    catalog.set_meta("created_by", "tunelens");
    catalog.set_dataset_root(dataset_root);
    transaction.commit();
  }
  fs::rename(building, file, ec);
  if (ec) {
    fs::remove(building, ec);
    throw CatalogError(CatalogErrorKind::Io, file, "cannot move the new catalog into place: " + ec.message());
  }
  return open(file, options);
}

Catalog Catalog::open(const std::filesystem::path& file, const CatalogOptions& options) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) throw CatalogError(CatalogErrorKind::NotFound, file, "no such catalog file");
  if (fs::is_directory(status))
    throw CatalogError(CatalogErrorKind::NotACatalog, file, "not a tunelens catalog: is a folder");
  // No file descriptor of the catalog may be opened here outside SQLite: closing one drops every POSIX lock
  // this process holds on the file, those of its other open connections too (the service keeps several), and
  // another process could then checkpoint and remove the WAL under them. So: stat and access, then SQLite's
  // own reading.
  if (::access(file.c_str(), R_OK) != 0)
    throw CatalogError(CatalogErrorKind::NotFound, file, "cannot open the catalog: permission denied");
  if (fs::file_size(file, ec) == 0 &&
      !ec)  // SQLite takes an empty file for an empty database; a catalog never is
    throw CatalogError(CatalogErrorKind::NotACatalog, file, "not a tunelens catalog: empty file");
  // A catalog in a folder this user cannot write (a read-only mount, a shared collection) is opened
  // read-only: it can be read; a command that writes gets CatalogError(ReadOnly).
  const fs::path folder = fs::absolute(file).parent_path();
  const bool writable = ::access(file.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0;
  Catalog catalog(file,
                  open_connection(file, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, options));
  catalog.execute("PRAGMA foreign_keys = ON");
  catalog.check_schema_and_migrate();
  // WAL: readers (tunelens dataset info, a trainer) do not block the writer, and commits are cheap. NORMAL
  // synchronisation keeps the file consistent after a crash of the program; a power cut may lose the last
  // commits.
  if (writable) {
    catalog.execute("PRAGMA journal_mode = WAL");
    catalog.execute("PRAGMA synchronous = NORMAL");
  }
  const auto root = catalog.meta("dataset_root");
  if (!root) catalog.fail(CatalogErrorKind::Corrupt, "no dataset root recorded");
  const fs::path stored(*root);
  catalog.root_ =
      resolved(stored.is_absolute() ? stored : resolved(fs::absolute(file).parent_path()) / stored);
  return catalog;
}

Catalog Catalog::open_or_create(const std::filesystem::path& file, const std::filesystem::path& dataset_root,
                                const CatalogOptions& options) {
  std::error_code ec;
  return fs::exists(file, ec) ? open(file, options) : create(file, dataset_root, options);
}

void Catalog::check_schema_and_migrate() {
  auto pragma = [&](const char* sql) {
    Statement statement = prepare(sql);
    return statement.step() ? statement.integer(0) : 0;
  };
  std::int64_t application = 0;
  try {  // the first read of the file: where SQLite finds it is no database
    application = pragma("PRAGMA application_id");
  } catch (const CatalogError& error) {
    if (error.kind() != CatalogErrorKind::NotACatalog) throw;
    throw CatalogError(CatalogErrorKind::NotACatalog, file_,
                       "not a tunelens catalog: not an SQLite database");
  }
  const std::int64_t version = pragma("PRAGMA user_version");
  if (application != kApplicationId) {
    const std::int64_t tables = pragma("SELECT COUNT(*) FROM sqlite_master");
    fail(CatalogErrorKind::NotACatalog,
         tables == 0 ? "an empty SQLite database" : "an SQLite database of another program");
  }
  // A negative version is no version tunelens writes (it indexed the migrations from there).
  if (version < 0) fail(CatalogErrorKind::Corrupt, "catalog schema version " + std::to_string(version));
  if (version > kSchemaVersion)
    fail(CatalogErrorKind::NewerSchema, "catalog schema version " + std::to_string(version) +
                                            ", this program knows versions up to " +
                                            std::to_string(kSchemaVersion) + "; upgrade tunelens");
  if (version < kSchemaVersion) {
    Transaction transaction(*this);
    // Read again under the write lock: another process may have migrated in the meantime.
    for (std::int64_t v = std::max<std::int64_t>(0, pragma("PRAGMA user_version")); v < kSchemaVersion; ++v)
      execute(kMigrations[v]);
    execute(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
    transaction.commit();
  }
}

int Catalog::schema_version() const {
  Statement statement = prepare("PRAGMA user_version");
  return statement.step() ? static_cast<int>(statement.integer(0)) : 0;
}

void Catalog::set_meta(const std::string& key, const std::string& value) {
  prepare("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .bind(1, key)
      .bind(2, value)
      .run();
}

std::optional<std::string> Catalog::meta(const std::string& key) const {
  Statement statement = prepare("SELECT value FROM meta WHERE key = ?");
  statement.bind(1, key);
  if (!statement.step()) return std::nullopt;
  return statement.text(0);
}

// --- dataset root and paths

std::filesystem::path Catalog::dataset_root() const {
  return root_;
}

std::string Catalog::stored_dataset_root() const {
  return meta("dataset_root").value_or("");
}

void Catalog::set_dataset_root(const std::filesystem::path& root) {
  const fs::path absolute_root = resolved(root);
  const fs::path folder = resolved(fs::absolute(file_).parent_path());
  // Relative when the two share a folder below the file system's root ("/home/me/..."), so that they move
  // together; absolute when they only share "/" (a catalog in one place about a disk mounted elsewhere).
  auto root_it = absolute_root.begin(), folder_it = folder.begin();
  int shared = 0;
  for (; root_it != absolute_root.end() && folder_it != folder.end() && *root_it == *folder_it;
       ++root_it, ++folder_it)
    ++shared;
  std::string stored = absolute_root.generic_string();
  if (shared >= 2) {
    const fs::path relative = absolute_root.lexically_relative(folder);
    if (!relative.empty()) stored = relative.generic_string();
  }
  set_meta("dataset_root", stored);
  root_ = absolute_root;
}

std::string Catalog::relative_path(const std::filesystem::path& file) const {
  const fs::path relative = resolved_file(file).lexically_relative(root_);
  return (relative.empty() ? resolved_file(file) : relative).generic_string();
}

std::filesystem::path Catalog::absolute_path(const std::string& relative) const {
  const fs::path path(relative);
  return path.is_absolute() ? path : (root_ / path).lexically_normal();
}

// --- transactions

Catalog::Transaction::Transaction(Catalog& catalog)
    : catalog_(&catalog), nested_(sqlite3_get_autocommit(catalog.db_.get()) == 0) {
  catalog_->execute(nested_ ? "SAVEPOINT tunelens" : "BEGIN IMMEDIATE");
}

Catalog::Transaction::~Transaction() {
  if (!open_) return;
  try {
    catalog_->execute(nested_ ? "ROLLBACK TO tunelens; RELEASE tunelens" : "ROLLBACK");
  } catch (const CatalogError&) {  // nothing more can be done; SQLite rolls back on close anyway
  }
}

void Catalog::Transaction::commit() {
  catalog_->execute(nested_ ? "RELEASE tunelens" : "COMMIT");
  open_ = false;
}

// --- tracks

namespace {

constexpr const char* kTrackColumns =
    "t.id, t.path, t.fingerprint, t.size, t.duration, t.sample_rate, t.channels, t.codec, t.title, t.artist, "
    "t.album, "
    "t.album_order, t.year, t.track_number, t.label, t.source, t.source_id, t.source_split, t.source_subset";

}  // namespace

namespace {
template <typename Row>
Track read_track(const Row& row) {
  Track track;
  track.id = row.integer(0);
  track.path = row.text(1);
  track.fingerprint = row.text(2);
  track.size = row.integer(3);
  track.duration = row.real(4);
  track.sample_rate = static_cast<int>(row.integer(5));
  track.channels = static_cast<int>(row.integer(6));
  track.codec = row.text(7);
  track.title = row.optional_text(8);
  track.artist = row.optional_text(9);
  track.album = row.optional_text(10);
  track.album_order = row.optional_int(11);
  track.year = row.optional_int(12);
  track.track_number = row.optional_int(13);
  track.label = row.optional_text(14);
  track.source = row.text(15);
  track.source_id = row.optional_text(16);
  track.source_split = row.optional_text(17);
  track.source_subset = row.optional_text(18);
  return track;
}
}  // namespace

std::optional<std::int64_t> Catalog::add_track(const TrackInfo& track) {
  if (track.path.empty()) fail(CatalogErrorKind::Invalid, "a track needs a path");
  if (track.source.empty()) fail(CatalogErrorKind::Invalid, track.path + ": a track needs a source");
  if (track.label && track.label->empty()) fail(CatalogErrorKind::Invalid, track.path + ": empty label");
  if (track.source_split && !parse_split_part(*track.source_split))
    fail(CatalogErrorKind::Invalid, track.path + ": source split must be train, val or test");
  std::optional<std::string> split;
  if (track.source_split) split = to_string(*parse_split_part(*track.source_split));
  // Looked up first: an INSERT that conflicts would still use up an AUTOINCREMENT id, and ids should depend
  // only on what went in.
  if (has_track(track.path)) return std::nullopt;
  Statement insert = prepare(
      "INSERT INTO tracks(path, fingerprint, size, duration, sample_rate, channels, codec, title, artist, "
      "album, "
      "album_order, year, track_number, label, source, source_id, source_split, source_subset) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO NOTHING");
  insert.bind(1, track.path)
      .bind(2, track.fingerprint)
      .bind(3, track.size)
      .bind(4, track.duration)
      .bind(5, track.sample_rate)
      .bind(6, track.channels)
      .bind(7, track.codec)
      .bind(8, track.title)
      .bind(9, track.artist)
      .bind(10, track.album)
      .bind(11, track.album_order)
      .bind(12, track.year)
      .bind(13, track.track_number)
      .bind(14, track.label)
      .bind(15, track.source)
      .bind(16, track.source_id)
      .bind(17, split)
      .bind(18, track.source_subset)
      .run();
  if (sqlite3_changes(db_.get()) == 0) return std::nullopt;
  return sqlite3_last_insert_rowid(db_.get());
}

std::optional<Track> Catalog::find_track(std::int64_t id) const {
  Statement statement =
      prepare((std::string("SELECT ") + kTrackColumns + " FROM tracks t WHERE t.id = ?").c_str());
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return read_track(statement);
}

std::optional<Track> Catalog::find_track(const std::string& relative_path) const {
  Statement statement =
      prepare((std::string("SELECT ") + kTrackColumns + " FROM tracks t WHERE t.path = ?").c_str());
  statement.bind(1, relative_path);
  if (!statement.step()) return std::nullopt;
  return read_track(statement);
}

bool Catalog::has_track(const std::string& relative_path) const {
  Statement statement = prepare("SELECT 1 FROM tracks WHERE path = ?");
  statement.bind(1, relative_path);
  return statement.step();
}

namespace {

// The FROM and WHERE clauses of a TrackQuery, with its parameters numbered ?1..?5 (bind_track_query binds
// them).
std::string track_query_clauses(const TrackQuery& query) {
  std::string sql = " FROM tracks t";
  if (query.split_name) sql += " JOIN split_tracks s ON s.track = t.id AND s.split = ?1";
  sql += " WHERE 1";
  if (query.label) sql += " AND t.label = ?2";
  if (query.source) sql += " AND t.source = ?3";
  if (query.labelled_only) sql += " AND t.label IS NOT NULL";
  if (query.split_name && query.split_part) sql += " AND s.part = ?4";
  if (query.text)
    sql +=
        " AND (t.title LIKE ?5 ESCAPE '\\' OR t.artist LIKE ?5 ESCAPE '\\' OR t.album LIKE ?5 ESCAPE '\\' "
        "OR t.path LIKE ?5 ESCAPE '\\')";
  return sql;
}

// "%text%" with LIKE's own characters escaped.
std::string like_pattern(const std::string& text) {
  std::string pattern = "%";
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  return pattern + "%";
}

}  // namespace

void Catalog::bind_track_query(Statement& statement, const TrackQuery& query) const {
  if (query.split_name) statement.bind(1, split_id(*query.split_name));
  if (query.label) statement.bind(2, *query.label);
  if (query.source) statement.bind(3, *query.source);
  if (query.split_name && query.split_part) statement.bind(4, to_string(*query.split_part));
  if (query.text) statement.bind(5, like_pattern(*query.text));
}

std::vector<Track> Catalog::tracks(const TrackQuery& query) const {
  std::string sql = std::string("SELECT ") + kTrackColumns + track_query_clauses(query) + " ORDER BY t.id";
  if (query.limit > 0 || query.offset > 0)
    sql += " LIMIT " + (query.limit > 0 ? std::to_string(query.limit) : std::string("-1")) + " OFFSET " +
           std::to_string(query.offset);
  Statement statement = prepare(sql.c_str());
  bind_track_query(statement, query);
  std::vector<Track> out;
  while (statement.step()) out.push_back(read_track(statement));
  return out;
}

std::size_t Catalog::track_count() const {
  Statement statement = prepare("SELECT COUNT(*) FROM tracks");
  return statement.step() ? static_cast<std::size_t>(statement.integer(0)) : 0;
}

std::size_t Catalog::track_count(const TrackQuery& query) const {
  Statement statement = prepare(("SELECT COUNT(*)" + track_query_clauses(query)).c_str());
  bind_track_query(statement, query);
  return statement.step() ? static_cast<std::size_t>(statement.integer(0)) : 0;
}

void Catalog::set_label(std::int64_t track, const std::optional<std::string>& label) {
  if (label && label->empty()) fail(CatalogErrorKind::Invalid, "empty label");
  prepare("UPDATE tracks SET label = ? WHERE id = ?").bind(1, label).bind(2, track).run();
  if (sqlite3_changes(db_.get()) == 0) fail(CatalogErrorKind::Invalid, "no track " + std::to_string(track));
}

std::vector<LabelCount> Catalog::labels() const {
  Statement statement =
      prepare("SELECT label, COUNT(*) FROM tracks GROUP BY label ORDER BY label IS NULL, label");
  std::vector<LabelCount> out;
  while (statement.step())
    out.push_back({statement.optional_text(0), static_cast<std::size_t>(statement.integer(1))});
  return out;
}

// --- splits

std::int64_t Catalog::split_id(const std::string& name) const {
  Statement statement = prepare("SELECT id FROM splits WHERE name = ?");
  statement.bind(1, name);
  if (!statement.step()) fail(CatalogErrorKind::Invalid, "no split named '" + name + "'");
  return statement.integer(0);
}

void Catalog::set_split(const std::string& name, const std::string& scheme, std::uint64_t seed,
                        const std::string& parameters, std::span<const SplitAssignment> assignments) {
  if (name.empty()) fail(CatalogErrorKind::Invalid, "a split needs a name");
  Transaction transaction(*this);
  prepare("DELETE FROM splits WHERE name = ?").bind(1, name).run();
  prepare((std::string("INSERT INTO splits(name, scheme, seed, parameters, created) VALUES (?, ?, ?, ?, ") +
           kNow + ")")
              .c_str())
      .bind(1, name)
      .bind(2, scheme)
      .bind(3, static_cast<std::int64_t>(seed))  // stored as its two's-complement bits
      .bind(4, parameters)
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_.get());
  Statement insert = prepare("INSERT INTO split_tracks(split, track, part) VALUES (?, ?, ?)");
  for (const auto& assignment : assignments) {
    insert.bind(1, id).bind(2, assignment.track).bind(3, to_string(assignment.part)).run();
    insert.reset();
  }
  transaction.commit();
}

namespace {
template <typename Row>
SplitInfo read_split(const Row& row) {
  return {row.integer(0), row.text(1), row.text(2), static_cast<std::uint64_t>(row.integer(3)),
          row.text(4),    row.text(5)};
}
}  // namespace

std::optional<SplitInfo> Catalog::split(const std::string& name) const {
  Statement statement =
      prepare("SELECT id, name, scheme, seed, parameters, created FROM splits WHERE name = ?");
  statement.bind(1, name);
  if (!statement.step()) return std::nullopt;
  return read_split(statement);
}

std::vector<SplitInfo> Catalog::splits() const {
  Statement statement =
      prepare("SELECT id, name, scheme, seed, parameters, created FROM splits ORDER BY name");
  std::vector<SplitInfo> out;
  while (statement.step()) out.push_back(read_split(statement));
  return out;
}

std::vector<SplitAssignment> Catalog::split_assignments(const std::string& name) const {
  Statement statement = prepare("SELECT track, part FROM split_tracks WHERE split = ? ORDER BY track");
  statement.bind(1, split_id(name));
  std::vector<SplitAssignment> out;
  while (statement.step()) out.push_back({statement.integer(0), *parse_split_part(statement.text(1))});
  return out;
}

std::vector<SplitCount> Catalog::split_counts(const std::string& name) const {
  Statement statement = prepare(
      "SELECT t.label, s.part, COUNT(*) FROM tracks t LEFT JOIN split_tracks s ON s.track = t.id AND s.split "
      "= ? "
      "GROUP BY t.label, s.part ORDER BY t.label IS NULL, t.label, s.part");
  statement.bind(1, split_id(name));
  std::vector<SplitCount> out;
  while (statement.step()) {
    SplitCount count;
    count.label = statement.optional_text(0);
    if (!statement.is_null(1)) count.part = parse_split_part(statement.text(1));
    count.tracks = static_cast<std::size_t>(statement.integer(2));
    out.push_back(count);
  }
  return out;
}

bool Catalog::remove_split(const std::string& name) {
  prepare("DELETE FROM splits WHERE name = ?").bind(1, name).run();
  return sqlite3_changes(db_.get()) > 0;
}

// --- features

std::string Catalog::add_feature_config(const std::string& canonical_parameters) {
  std::string id = hash_hex(content_hash(canonical_parameters));
  Transaction transaction(*this);
  Statement existing = prepare("SELECT parameters FROM feature_configs WHERE id = ?");
  existing.bind(1, id);
  if (existing.step()) {
    if (existing.text(0) != canonical_parameters)
      fail(CatalogErrorKind::Invalid, "feature configuration " + id + " is recorded with other parameters");
  } else {
    prepare((std::string("INSERT INTO feature_configs(id, parameters, created) VALUES (?, ?, ") + kNow + ")")
                .c_str())
        .bind(1, id)
        .bind(2, canonical_parameters)
        .run();
  }
  transaction.commit();
  return id;
}

namespace {
constexpr const char* kConfigQuery =
    "SELECT c.id, c.parameters, c.created, COALESCE(SUM(f.status = 'done'), 0), COALESCE(SUM(f.status = "
    "'failed'), 0) "
    "FROM feature_configs c LEFT JOIN features f ON f.config = c.id";

template <typename Row>
FeatureConfigInfo read_config(const Row& row) {
  return {row.text(0), row.text(1), row.text(2), static_cast<std::size_t>(row.integer(3)),
          static_cast<std::size_t>(row.integer(4))};
}
}  // namespace

std::vector<FeatureConfigInfo> Catalog::feature_configs() const {
  Statement statement =
      prepare((std::string(kConfigQuery) + " GROUP BY c.id ORDER BY c.created, c.id").c_str());
  std::vector<FeatureConfigInfo> out;
  while (statement.step()) out.push_back(read_config(statement));
  return out;
}

std::optional<FeatureConfigInfo> Catalog::feature_config(const std::string& id) const {
  Statement statement = prepare((std::string(kConfigQuery) + " WHERE c.id = ? GROUP BY c.id").c_str());
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return read_config(statement);
}

std::filesystem::path Catalog::features_folder(const std::string& config) const {
  fs::path folder = file_;
  folder += ".features";
  return folder / config;
}

std::filesystem::path Catalog::feature_file(std::int64_t track, const std::string& config) const {
  return features_folder(config) / (std::to_string(track) + ".npy");
}

void Catalog::record_features(const FeatureRecord& record) {
  const bool done = record.status == FeatureStatus::Done;
  prepare(
      "INSERT INTO features(track, config, status, n_mels, frames, seconds, error) VALUES (?, ?, ?, ?, ?, ?, "
      "?) "
      "ON CONFLICT(track, config) DO UPDATE SET status = excluded.status, n_mels = excluded.n_mels, "
      "frames = excluded.frames, seconds = excluded.seconds, error = excluded.error")
      .bind(1, record.track)
      .bind(2, record.config)
      .bind(3, done ? "done" : "failed")
      .bind(4, record.n_mels)
      .bind(5, record.frames)
      .bind(6, record.seconds)
      .bind(7, done ? std::nullopt : std::optional<std::string>(record.error))
      .run();
}

namespace {
template <typename Row>
FeatureRecord read_feature_record(const Row& row) {
  FeatureRecord record;
  record.track = row.integer(0);
  record.config = row.text(1);
  record.status = row.text(2) == "done" ? FeatureStatus::Done : FeatureStatus::Failed;
  record.n_mels = static_cast<std::size_t>(row.integer(3));
  record.frames = static_cast<std::size_t>(row.integer(4));
  record.seconds = row.real(5);
  record.error = row.text(6);
  return record;
}
}  // namespace

std::optional<FeatureRecord> Catalog::features(std::int64_t track, const std::string& config) const {
  Statement statement = prepare(
      "SELECT track, config, status, n_mels, frames, seconds, error FROM features WHERE track = ? AND config "
      "= ?");
  statement.bind(1, track).bind(2, config);
  if (!statement.step()) return std::nullopt;
  return read_feature_record(statement);
}

std::vector<FeatureRecord> Catalog::feature_records(const std::string& config) const {
  Statement statement = prepare(
      "SELECT track, config, status, n_mels, frames, seconds, error FROM features WHERE config = ? ORDER BY "
      "track");
  statement.bind(1, config);
  std::vector<FeatureRecord> out;
  while (statement.step()) out.push_back(read_feature_record(statement));
  return out;
}

std::vector<Track> Catalog::tracks_without_features(const std::string& config) const {
  Statement statement =
      prepare((std::string("SELECT ") + kTrackColumns +
               " FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM features f WHERE f.track = t.id AND "
               "f.config = ? AND f.status = 'done') ORDER BY t.id")
                  .c_str());
  statement.bind(1, config);
  std::vector<Track> out;
  while (statement.step()) out.push_back(read_track(statement));
  return out;
}

// --- predictions and vectors

void Catalog::set_prediction(std::int64_t track, const std::string& model,
                             std::span<const float> probabilities) {
  prepare(
      "INSERT INTO predictions(track, model, probabilities) VALUES (?, ?, ?) "
      "ON CONFLICT(track, model) DO UPDATE SET probabilities = excluded.probabilities")
      .bind(1, track)
      .bind(2, model)
      .bind_blob(3, blob_of(probabilities))
      .run();
}

std::optional<std::vector<float>> Catalog::prediction(std::int64_t track, const std::string& model) const {
  Statement statement = prepare("SELECT probabilities FROM predictions WHERE track = ? AND model = ?");
  statement.bind(1, track).bind(2, model);
  if (!statement.step()) return std::nullopt;
  return statement.floats(0);
}

void Catalog::set_vector(std::int64_t track, const std::string& model, const std::string& kind,
                         std::span<const float> vector) {
  prepare(
      "INSERT INTO vectors(track, model, kind, vector) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(track, model, kind) DO UPDATE SET vector = excluded.vector")
      .bind(1, track)
      .bind(2, model)
      .bind(3, kind)
      .bind_blob(4, blob_of(vector))
      .run();
}

std::optional<std::vector<float>> Catalog::vector(std::int64_t track, const std::string& model,
                                                  const std::string& kind) const {
  Statement statement = prepare("SELECT vector FROM vectors WHERE track = ? AND model = ? AND kind = ?");
  statement.bind(1, track).bind(2, model).bind(3, kind);
  if (!statement.step()) return std::nullopt;
  return statement.floats(0);
}

VectorMatrix Catalog::vectors(const std::string& model, const std::string& kind) const {
  // The primary key (track, model, kind) keeps rows in track order, so this is one pass over the table.
  Statement statement =
      prepare("SELECT track, vector FROM vectors WHERE model = ? AND kind = ? ORDER BY track");
  statement.bind(1, model).bind(2, kind);
  VectorMatrix matrix;
  while (statement.step()) {
    const std::size_t dim = statement.append_floats(1, matrix.values);
    if (matrix.ids.empty()) {
      matrix.dim = dim;
    } else if (dim != matrix.dim) {
      fail(CatalogErrorKind::Corrupt, "track " + std::to_string(statement.integer(0)) + ": its " + kind +
                                          " vector has " + std::to_string(dim) + " values, others " +
                                          std::to_string(matrix.dim));
    }
    matrix.ids.push_back(statement.integer(0));
  }
  return matrix;
}

std::vector<std::int64_t> Catalog::vector_tracks(const std::string& model, const std::string& kind) const {
  Statement statement = prepare("SELECT track FROM vectors WHERE model = ? AND kind = ? ORDER BY track");
  statement.bind(1, model).bind(2, kind);
  std::vector<std::int64_t> ids;
  while (statement.step()) ids.push_back(statement.integer(0));
  return ids;
}

std::optional<Track> Catalog::find_track_by_fingerprint(const std::string& fingerprint) const {
  std::string sql = "SELECT ";
  sql += kTrackColumns;
  sql += " FROM tracks t WHERE t.fingerprint = ? ORDER BY t.id LIMIT 1";
  Statement statement = prepare(sql.c_str());
  statement.bind(1, fingerprint);
  if (!statement.step()) return std::nullopt;
  return read_track(statement);
}

}  // namespace tunelens
