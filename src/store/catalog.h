// The catalog: the record of every track of a dataset (where it is, what it is, its label), the named splits,
// which features were computed with which configuration, and later the predictions and vectors of models.
// It lives in one SQLite file (the default: any location that is not a URI) or in a PostgreSQL database
// (a location "postgresql://..." or "postgres://...", libpq's URI form), the same tables in both.
//
// Track paths are stored relative to the dataset root. In an SQLite file the root is stored relative to the
// file's folder (when the two share more than the file system's root), so that a dataset and its catalog can
// move together; in PostgreSQL it is stored absolute, as every machine using the database mounts it.
// Every change is a transaction: a run killed at any point leaves the catalog consistent, and a rerun
// resumes. An SQLite file is in WAL mode, so readers do not block the writer.
//
// Files beside the catalog (feature arrays, saved indexes) sit beside the path file() returns: the SQLite
// file itself, or for PostgreSQL <files folder>/<database>[.<schema>], the files folder being recorded in the
// catalog (meta files_folder: relative to the dataset root, or absolute; by default the dataset root itself).
//
// Schema (version 2; SQLite: PRAGMA user_version and application_id 'TLNS'; PostgreSQL: meta schema_version):
//   meta(key, value)                 dataset_root, created_by (PostgreSQL: also schema_version, files_folder)
//   tracks(id, path, fingerprint, size, duration, sample_rate, channels, codec, title, artist, album,
//   album_order,
//          year, track_number, label, source, source_id, source_split, source_subset)
//   splits(id, name, scheme, seed, parameters, created)     split_tracks(split, track, part)
//   feature_configs(id, parameters, created)                features(track, config, status, n_mels, frames,
//                                                                    seconds, error)
//   predictions(track, model, probabilities)                vectors(track, model, kind, vector)
//   work(job, track, state, worker, lease_until, attempts, error, finished)      (version 2)
//   workers(name, host, pid, jobs, started, seen, done, failed, state)           (version 2)
// Probabilities and vectors are BLOBs (PostgreSQL: bytea) of little-endian float32 values.
// Track ids are never reused (AUTOINCREMENT; an identity column in PostgreSQL), so a feature file named after
// a track id never belongs to another.
//
// Work that many processes share (tunelens worker): one `work` row per job and track, pending, claimed (by a
// worker, until its lease runs out), done or failed. Claims take a batch of pending rows (or of claims whose
// lease lapsed) in one statement, with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite's write lock serialises
// them), so no two workers hold one row. Times in work and workers are seconds since 1970 by the database's
// clock, so that the machines' clocks need not agree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tunelens {

enum class CatalogErrorKind {
  NotFound,     // no catalog file at that path (or it cannot be opened; no server, refused, no such database)
  Exists,       // create() over an existing file
  NotACatalog,  // not an SQLite file, or an SQLite file of another program
  NewerSchema,  // written by a newer tunelens than this one
  Locked,       // another process holds the write lock longer than the busy timeout (or a deadlock)
  ReadOnly,     // the file or its folder is not writable
  Corrupt,      // the database found its data damaged
  Invalid,      // a request the catalog cannot satisfy (unknown track, bad value, ...)
  Io,           // disk full, I/O error, a lost connection, other database failures
};

// Every CatalogError names the catalog and the reason in what(): "<file or URI>: <reason>" (a URI's password
// masked).
class CatalogError : public std::runtime_error {
 public:
  CatalogError(CatalogErrorKind kind, const std::filesystem::path& path, const std::string& reason);
  CatalogErrorKind kind() const { return kind_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  CatalogErrorKind kind_;
  std::filesystem::path path_;
};

// What an import knows about one track. Empty optionals are stored as NULL.
struct TrackInfo {
  std::string path;         // relative to the dataset root, '/' separators (Catalog::relative_path)
  std::string fingerprint;  // file_fingerprint() of the file's bytes
  std::int64_t size = 0;    // bytes
  double duration = 0.0;    // seconds (as the container declares it)
  int sample_rate = 0;      // the file's own rate, Hz
  int channels = 0;         // the file's own channel count
  std::string codec;
  std::optional<std::string> title, artist, album;
  std::optional<int> album_order;            // 1, 2, ...: release order of the album within the collection
  std::optional<int> year;                   // release year
  std::optional<int> track_number;           // position on the album
  std::optional<std::string> label;          // the class (genre); empty for an unlabelled collection
  std::string source;                        // the importer: folders, fma, csv, albums
  std::optional<std::string> source_id;      // the source's own id (FMA track id)
  std::optional<std::string> source_split;   // the source's own split, normalised to train / val / test
  std::optional<std::string> source_subset;  // FMA subset: small, medium, large
};

struct Track : TrackInfo {
  std::int64_t id = 0;
};

enum class SplitPart { Train, Val, Test };
std::string to_string(SplitPart part);                             // "train", "val", "test"
std::optional<SplitPart> parse_split_part(std::string_view text);  // also accepts training/validation/valid

// Which tracks to list. Unset fields do not filter.
struct TrackQuery {
  std::optional<std::string> label;
  std::optional<std::string> source;
  bool labelled_only = false;
  // With split_name: only tracks assigned to that split (and to split_part, when set).
  std::optional<std::string> split_name;
  std::optional<SplitPart> split_part;
  // Only tracks whose title, artist, album or path holds this text (ASCII letters in any case; % and _ are
  // plain characters).
  std::optional<std::string> text;
  std::size_t offset = 0;  // tracks(): skip this many (in id order)
  std::size_t limit = 0;   // tracks(): at most this many; 0: all
};

struct LabelCount {
  std::optional<std::string> label;  // nullopt: unlabelled tracks
  std::size_t tracks = 0;
};

struct SplitInfo {
  std::int64_t id = 0;
  std::string name;
  std::string scheme;
  std::uint64_t seed = 0;
  std::string parameters;  // JSON text
  std::string created;     // UTC, ISO 8601
};

struct SplitAssignment {
  std::int64_t track = 0;
  SplitPart part = SplitPart::Train;
};

// Tracks per label and part of one split (unassigned tracks have no part).
struct SplitCount {
  std::optional<std::string> label;
  std::optional<SplitPart> part;
  std::size_t tracks = 0;
};

struct FeatureConfigInfo {
  std::string id;          // 16 hex digits: content_hash of the canonical parameters
  std::string parameters;  // canonical JSON text
  std::string created;
  std::size_t done = 0;    // tracks with features
  std::size_t failed = 0;  // tracks whose audio could not be turned into features
};

enum class FeatureStatus { Done, Failed };

struct FeatureRecord {
  std::int64_t track = 0;
  std::string config;
  FeatureStatus status = FeatureStatus::Done;
  std::size_t n_mels = 0;
  std::size_t frames = 0;
  double seconds = 0.0;  // seconds of audio the features cover
  std::string error;     // why it failed
};

// Every vector of one model and kind at once (Catalog::vectors): track ids in increasing order and their
// vectors as one row-major matrix, row i being the vector of ids[i].
struct VectorMatrix {
  std::vector<std::int64_t> ids;
  std::vector<float> values;  // ids.size() × dim
  std::size_t dim = 0;

  std::size_t size() const { return ids.size(); }
  std::span<const float> row(std::size_t i) const { return {values.data() + i * dim, dim}; }
};

// A job of shared work: what a worker computes for each track.
struct WorkJob {
  enum class Kind { Extract, Index };
  Kind kind = Kind::Extract;
  std::string key;  // Extract: the feature configuration id; Index: the model's vector key
  // "extract:<key>" or "index:<key>": the job as the work table names it.
  std::string name() const;
};

// A job's rows by state. `expired` of the claimed ones have a lease that ran out (a worker that died): the
// next claim takes them.
struct WorkCounts {
  std::string job;
  std::size_t pending = 0, claimed = 0, expired = 0, done = 0, failed = 0;
  std::size_t done_last_minute = 0;  // finished (done or failed) in the last 60 s
};

struct WorkerRecord {
  std::string name;  // unique among the workers of a catalog
  std::string host;
  std::int64_t pid = 0;
  std::string jobs;  // as the worker was asked: "extract,index"
  std::string state = "working";  // working, waiting (--follow, nothing pending), stopped
  double started = 0.0, seen = 0.0;  // seconds since 1970 (the database's clock)
  std::size_t done = 0, failed = 0;  // tracks
  double seen_seconds_ago = 0.0;     // workers(): how long since it was last heard of
};

// One claimed row's outcome.
struct WorkOutcome {
  std::int64_t track = 0;
  std::optional<std::string> error;  // failed, why; nullopt: done
};

struct CatalogOptions {
  int busy_timeout_ms =
      10000;  // how long to wait for another process's write lock before CatalogError(Locked)
  // PostgreSQL, when the catalog is created: the folder of its feature and index files (empty: the dataset
  // root). Recorded in the catalog.
  std::filesystem::path files_folder;
};

enum class CatalogBackend { Sqlite, Postgres };

// True for "postgresql://..." and "postgres://...": a catalog in a PostgreSQL database.
bool is_database_uri(std::string_view location);
// The location with a URI's password (user:PASSWORD@ or password=...) replaced by "***".
std::string masked_location(std::string_view location);
// False only for a catalog file that is not there: a PostgreSQL location is tried when it is opened. For a
// check before long work (loading a model) that would be wasted on a mistyped file name.
bool catalog_exists(const std::filesystem::path& location);
// How a catalog is recorded elsewhere (a model's provenance): a file as its absolute, lexically normal path,
// a URI as it is, its password masked.
std::string catalog_location_key(const std::filesystem::path& location);

class SqlConnection;

// One open catalog. Not thread-safe: share one between threads only under a mutex. Movable, not copyable.
class Catalog {
 public:
  static constexpr int kSchemaVersion = 2;

  // Creates a new catalog file (CatalogError Exists if there is one), with the given dataset root. The file
  // appears complete or not at all (it is built under a temporary name). A PostgreSQL location names a
  // database that exists; the tables are made in it (in one transaction), CatalogError Exists if it has them.
  static Catalog create(const std::filesystem::path& file, const std::filesystem::path& dataset_root,
                        const CatalogOptions& options = {});
  // Opens an existing catalog, migrating an older schema in one transaction (an SQLite file that cannot be
  // written is read at its own version).
  static Catalog open(const std::filesystem::path& file, const CatalogOptions& options = {});
  // open() when the file exists (PostgreSQL: the database has a catalog's tables), else create().
  static Catalog open_or_create(const std::filesystem::path& file, const std::filesystem::path& dataset_root,
                                const CatalogOptions& options = {});

  ~Catalog();
  Catalog(Catalog&&) noexcept;
  Catalog& operator=(Catalog&&) noexcept;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // SQLite: the catalog file. PostgreSQL: <files folder>/<database>[.<schema>], which files beside the
  // catalog are named after (see the top of this file).
  const std::filesystem::path& file() const { return file_; }
  // The catalog as errors and messages name it: the file as given, or the URI with its password masked.
  const std::string& name() const { return name_; }
  CatalogBackend backend() const;
  int schema_version() const;

  // --- dataset root and paths
  // Absolute path of the dataset root.
  std::filesystem::path dataset_root() const;
  // The root as stored: relative to the catalog's folder, or absolute.
  std::string stored_dataset_root() const;
  void set_dataset_root(const std::filesystem::path& root);
  // The path of a file relative to the dataset root, lexically normal, with '/' separators
  // ("blues/b.00001.au"). Files outside the root get a relative path with "..", which still moves with the
  // two.
  std::string relative_path(const std::filesystem::path& file) const;
  std::filesystem::path absolute_path(const std::string& relative) const;

  // --- transactions
  // Groups changes: all or nothing. Nestable (inner ones are savepoints). Destruction without commit() rolls
  // back.
  class Transaction {
   public:
    explicit Transaction(Catalog& catalog);
    ~Transaction();
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    Catalog* catalog_;
    bool nested_;
    bool open_ = true;
  };

  // --- tracks
  // Inserts a track keyed on its path. Returns its id, or nullopt when a track with this path is already
  // there (which is left as it is). Throws CatalogError(Invalid) for an empty path or source.
  std::optional<std::int64_t> add_track(const TrackInfo& track);
  std::optional<Track> find_track(std::int64_t id) const;
  std::optional<Track> find_track(const std::string& relative_path) const;
  bool has_track(const std::string& relative_path) const;
  // Tracks in id order.
  std::vector<Track> tracks(const TrackQuery& query = {}) const;
  std::size_t track_count() const;
  std::size_t track_count(const TrackQuery& query) const;  // offset and limit aside
  // Changes a track's label (nullopt: unlabelled). Throws CatalogError(Invalid) for an unknown track.
  void set_label(std::int64_t track, const std::optional<std::string>& label);
  // Tracks per label, labels in order (unlabelled last).
  std::vector<LabelCount> labels() const;

  // --- splits
  // Records a split under `name` with every assignment, replacing a split of that name, in one transaction.
  void set_split(const std::string& name, const std::string& scheme, std::uint64_t seed,
                 const std::string& parameters, std::span<const SplitAssignment> assignments);
  std::optional<SplitInfo> split(const std::string& name) const;
  std::vector<SplitInfo> splits() const;
  // Assignments in track id order. Throws CatalogError(Invalid) for an unknown split.
  std::vector<SplitAssignment> split_assignments(const std::string& name) const;
  // Track counts per label and part of a split, covering every track (unassigned ones with no part).
  std::vector<SplitCount> split_counts(const std::string& name) const;
  bool remove_split(const std::string& name);

  // --- features
  // Registers a configuration by its canonical parameter JSON; returns its id (hash of the text). Idempotent.
  std::string add_feature_config(const std::string& canonical_parameters);
  std::vector<FeatureConfigInfo> feature_configs() const;
  std::optional<FeatureConfigInfo> feature_config(const std::string& id) const;
  // Folder of a configuration's feature files: <catalog file>.features/<config id>.
  std::filesystem::path features_folder(const std::string& config) const;
  // The feature file of one track: <features_folder(config)>/<track id>.npy.
  std::filesystem::path feature_file(std::int64_t track, const std::string& config) const;
  // Records the outcome for one track (replacing an earlier one).
  void record_features(const FeatureRecord& record);
  std::optional<FeatureRecord> features(std::int64_t track, const std::string& config) const;
  std::vector<FeatureRecord> feature_records(const std::string& config) const;
  // Tracks in id order without finished features for the configuration (failed ones included: they are
  // retried).
  std::vector<Track> tracks_without_features(const std::string& config) const;

  // --- predictions and vectors (filled by models)
  void set_prediction(std::int64_t track, const std::string& model, std::span<const float> probabilities);
  std::optional<std::vector<float>> prediction(std::int64_t track, const std::string& model) const;
  void set_vector(std::int64_t track, const std::string& model, const std::string& kind,
                  std::span<const float> vector);
  std::optional<std::vector<float>> vector(std::int64_t track, const std::string& model,
                                           const std::string& kind) const;
  // Every stored vector of a model and kind, in one query (an empty matrix when there are none). Throws
  // CatalogError(Corrupt) when two of them differ in length.
  VectorMatrix vectors(const std::string& model, const std::string& kind) const;
  // The tracks that have a vector of this model and kind, in id order (no vector read).
  std::vector<std::int64_t> vector_tracks(const std::string& model, const std::string& kind) const;

  // The first track (lowest id) whose file has this fingerprint, if any. In PostgreSQL, inside a transaction,
  // it first waits for any other transaction that looked the same fingerprint up to finish, so two processes
  // adding the same bytes at once see each other's track, as SQLite's write lock makes them.
  std::optional<Track> find_track_by_fingerprint(const std::string& fingerprint) const;

  // --- shared work (tunelens worker; the top of this file)
  // Adds a row for every track that has none for the job: done when the catalog holds the job's result
  // already (features recorded as done; both vectors of the model), else pending. Tracks with ids below
  // `from_track` are not looked at (a caller that polls for new tracks). Returns the rows added.
  std::size_t enqueue_work(const WorkJob& job, std::int64_t from_track = 0);
  // Whether any row of the job exists (someone queued it); unfinished_only: any pending or claimed one.
  bool has_work(const WorkJob& job, bool unfinished_only = false) const;
  // The highest track id with a row for the job (0: none).
  std::int64_t last_work_track(const WorkJob& job) const;
  // Claims up to `batch` rows of the job for `worker`, in track order: pending ones and claims whose lease ran
  // out; the lease lasts `lease_seconds`. A lapsed claim already taken `max_attempts` times is marked failed
  // instead (a track that kills its workers). With `after`, only tracks whose row of that job is done or
  // failed (index after extract). Returns the tracks, in one transaction of its own.
  std::vector<Track> claim_work(const WorkJob& job, const std::string& worker, std::size_t batch,
                                double lease_seconds, int max_attempts,
                                const std::optional<WorkJob>& after = std::nullopt);
  // Records the outcome of a claimed row, in the caller's transaction. False when the worker no longer holds
  // the claim (its lease ran out and another took it): the caller rolls its results back.
  bool finish_work(const WorkJob& job, const std::string& worker, const WorkOutcome& outcome);
  // Extends the lease of every row the worker holds; returns how many.
  std::size_t renew_work(const std::string& worker, double lease_seconds);
  // Gives the worker's claims back (pending again, the attempt not counted): a worker told to stop.
  std::size_t release_work(const std::string& worker);
  // Failed rows of the job become pending again; returns how many.
  std::size_t retry_failed_work(const WorkJob& job);
  // Every job's counts, by job name.
  std::vector<WorkCounts> work_counts() const;
  // Records a worker starting (replacing a record of that name), then what it has done and its state.
  void register_worker(const WorkerRecord& worker);
  void update_worker(const std::string& name, std::size_t done, std::size_t failed, const std::string& state);
  // Workers heard of within `within_seconds`, most recently seen first (0: all of them).
  std::vector<WorkerRecord> workers(double within_seconds = 0.0) const;

  // --- copying
  // Copies every row of `source` (tracks, splits, features, predictions, vectors, meta but the dataset root)
  // with its id, and the id counters, in one transaction; the dataset root becomes the source's. Throws
  // CatalogError(Exists) when this catalog holds any row, unless `replace`, which first removes them.
  // Feature and index files are not copied here (app/catalog_copy.h does).
  struct TableRows {
    std::string table;
    std::size_t rows = 0;
  };
  // Returns the rows copied per table, parents first.
  std::vector<TableRows> copy_from(const Catalog& source, bool replace = false);
  // No tracks, splits, feature configurations, predictions or vectors.
  bool empty() const;

 private:
  class Statement;
  Catalog(std::filesystem::path file, std::string name, std::unique_ptr<SqlConnection> db);
  static Catalog open_postgres(const std::string& uri, const CatalogOptions& options);
  static Catalog create_postgres(const std::string& uri, const std::filesystem::path& dataset_root,
                                 const CatalogOptions& options);
  [[noreturn]] void fail(CatalogErrorKind kind, const std::string& reason) const;
  void execute(const std::string& sql) const;
  Statement prepare(const std::string& sql) const;
  bool has_schema() const;
  void check_schema_and_migrate(bool writable = true);
  void resolve_paths();
  std::int64_t last_id(const char* table) const;
  void set_last_id(const char* table, std::int64_t id);
  std::int64_t split_id(const std::string& name) const;
  void bind_track_query(Statement& statement, const TrackQuery& query) const;
  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;

  std::filesystem::path file_;
  std::string name_;
  std::filesystem::path root_;  // absolute dataset root, symbolic links resolved
  std::unique_ptr<SqlConnection> db_;
};

}  // namespace tunelens
