// The catalog, feature arrays and fingerprints: the store below the dataset commands. The
// CatalogOnBothDatabases cases run on an SQLite file and on PostgreSQL (skipped without a server:
// catalog_locations.h).
#include "store/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>

#include "catalog_locations.h"
#include "store/feature_array.h"
#include "store/fingerprint.h"
#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

using testing::CatalogOnBothDatabases;
using testing::make_track;
using testing::sqlite_sql;

TEST(Catalog, CreatesWithSchemaAndReopens) {
  ScratchDir scratch;
  fs::create_directories(scratch / "genres");
  const fs::path file = scratch / "cat.db";
  {
    Catalog catalog = Catalog::create(file, scratch / "genres");
    EXPECT_EQ(catalog.schema_version(), Catalog::kSchemaVersion);
    EXPECT_EQ(catalog.stored_dataset_root(), "genres");  // relative to the catalog's folder
    EXPECT_EQ(catalog.track_count(), 0u);
    const auto id = catalog.add_track(make_track("blues/a.au", "blues"));
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(*id, 1);
  }
  EXPECT_FALSE(fs::exists(scratch / "cat.db.creating"));
  Catalog catalog = Catalog::open(file);
  EXPECT_EQ(catalog.track_count(), 1u);
  const auto track = catalog.find_track("blues/a.au");
  ASSERT_TRUE(track);
  EXPECT_EQ(track->label, "blues");
  EXPECT_EQ(track->sample_rate, 44100);
  EXPECT_FALSE(track->artist.has_value());
  EXPECT_EQ(catalog.absolute_path(track->path), fs::weakly_canonical(scratch / "genres") / "blues" / "a.au");
  // The tables later work fills exist, empty.
  for (const char* table : {"predictions", "vectors", "features", "split_tracks", "work", "workers"})
    sqlite_sql(file, std::string("SELECT COUNT(*) FROM ") + table);
  EXPECT_THROW(Catalog::create(file, scratch.path()), CatalogError);
}

TEST_P(CatalogOnBothDatabases, AddTrackIsKeyedOnPathAndLeavesExistingRowsAlone) {
  Catalog catalog = create();
  ASSERT_TRUE(catalog.add_track(make_track("a.mp3", "rock")));
  EXPECT_FALSE(catalog.add_track(make_track("a.mp3", "jazz")).has_value());
  EXPECT_EQ(catalog.track_count(), 1u);
  EXPECT_EQ(catalog.find_track("a.mp3")->label, "rock");
  // Ids are never reused, even after the last track goes.
  sql("DELETE FROM tracks");
  EXPECT_EQ(*catalog.add_track(make_track("b.mp3", "rock")), 2);
  TrackInfo no_path = make_track("", "rock");
  EXPECT_THROW(catalog.add_track(no_path), CatalogError);
  TrackInfo empty_label = make_track("c.mp3", std::string());
  EXPECT_THROW(catalog.add_track(empty_label), CatalogError);
}

TEST_P(CatalogOnBothDatabases, TransactionsAreAllOrNothing) {
  Catalog catalog = create();
  try {
    Catalog::Transaction transaction(catalog);
    catalog.add_track(make_track("a.mp3", "rock"));
    catalog.add_track(make_track("b.mp3", "rock"));
    throw std::runtime_error("the import fails half-way");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(catalog.track_count(), 0u);
  {
    Catalog::Transaction outer(catalog);
    catalog.add_track(make_track("a.mp3", "rock"));
    {
      Catalog::Transaction inner(catalog);  // a savepoint
      catalog.add_track(make_track("b.mp3", "rock"));
    }  // rolled back
    outer.commit();
  }
  EXPECT_EQ(catalog.track_count(), 1u);
  EXPECT_TRUE(catalog.has_track("a.mp3"));
}

TEST_P(CatalogOnBothDatabases, LabelsAndQueries) {
  Catalog catalog = create();
  catalog.add_track(make_track("r1.mp3", "rock"));
  catalog.add_track(make_track("r2.mp3", "rock"));
  catalog.add_track(make_track("j1.mp3", "jazz"));
  catalog.add_track(make_track("u1.mp3", std::nullopt));
  const auto labels = catalog.labels();
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].label, "jazz");
  EXPECT_EQ(labels[1].label, "rock");
  EXPECT_EQ(labels[1].tracks, 2u);
  EXPECT_FALSE(labels[2].label.has_value());
  TrackQuery rock;
  rock.label = "rock";
  EXPECT_EQ(catalog.tracks(rock).size(), 2u);
  TrackQuery labelled;
  labelled.labelled_only = true;
  EXPECT_EQ(catalog.tracks(labelled).size(), 3u);
  catalog.set_label(4, "jazz");
  EXPECT_EQ(catalog.find_track(4)->label, "jazz");
  EXPECT_THROW(catalog.set_label(99, "jazz"), CatalogError);
}

// The service's track search: text in title, artist, album or path, any case, LIKE's own characters taken as
// plain; a page of results by offset and limit, and the count of all matches.
TEST_P(CatalogOnBothDatabases, TextSearchPagesAndCounts) {
  Catalog catalog = create();
  for (int i = 1; i <= 12; ++i) {
    TrackInfo track = make_track("songs/" + std::to_string(i) + ".mp3", i % 2 ? "rock" : "jazz");
    track.title = i == 5 ? "100% Blue_Moon" : "Song " + std::to_string(i);
    track.artist = i <= 3 ? "The Walrus" : "Someone";
    catalog.add_track(track);
  }
  TrackQuery query;
  query.text = "walrus";
  EXPECT_EQ(catalog.track_count(query), 3u);
  query.text = "100%";
  ASSERT_EQ(catalog.tracks(query).size(), 1u);
  query.text = "0%";  // not "anything ending in 0"
  EXPECT_EQ(catalog.track_count(query), 1u);
  query.text = "e_m";  // _ is no wildcard: "Blue_Moon" only
  EXPECT_EQ(catalog.track_count(query), 1u);
  query.text = "bLUE_mOON";  // ASCII letters in any case
  EXPECT_EQ(catalog.track_count(query), 1u);
  query.text = "songs/1";  // the path: 1, 10, 11, 12
  EXPECT_EQ(catalog.track_count(query), 4u);
  query.label = "jazz";
  EXPECT_EQ(catalog.track_count(query), 2u);  // 10, 12
  TrackQuery page;
  page.offset = 4;
  page.limit = 5;
  const std::vector<Track> tracks = catalog.tracks(page);
  ASSERT_EQ(tracks.size(), 5u);
  EXPECT_EQ(tracks.front().id, 5);
  EXPECT_EQ(catalog.track_count(page), 12u);
  page.offset = 10;
  page.limit = 0;
  EXPECT_EQ(catalog.tracks(page).size(), 2u);
}

TEST_P(CatalogOnBothDatabases, SplitsAreRecordedAndReplaced) {
  Catalog catalog = create();
  for (int i = 0; i < 4; ++i) catalog.add_track(make_track("t" + std::to_string(i) + ".mp3", "rock"));
  const std::vector<SplitAssignment> first = {
      {1, SplitPart::Train}, {2, SplitPart::Train}, {3, SplitPart::Val}, {4, SplitPart::Test}};
  catalog.set_split("default", "per-class", 7, R"({"val":1})", first);
  const auto info = catalog.split("default");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->scheme, "per-class");
  EXPECT_EQ(info->seed, 7u);
  EXPECT_EQ(catalog.split_assignments("default").size(), 4u);
  TrackQuery val;
  val.split_name = "default";
  val.split_part = SplitPart::Val;
  ASSERT_EQ(catalog.tracks(val).size(), 1u);
  EXPECT_EQ(catalog.tracks(val)[0].id, 3);

  const std::vector<SplitAssignment> second = {{1, SplitPart::Test}};
  catalog.set_split("default", "fraction", 1, "{}", second);
  EXPECT_EQ(catalog.split_assignments("default").size(), 1u);
  const auto counts = catalog.split_counts("default");
  std::size_t unassigned = 0;
  for (const auto& count : counts)
    if (!count.part) unassigned += count.tracks;
  EXPECT_EQ(unassigned, 3u);
  // A split naming a track that does not exist goes in not at all.
  const std::vector<SplitAssignment> bad = {{1, SplitPart::Train}, {42, SplitPart::Val}};
  EXPECT_THROW(catalog.set_split("other", "fraction", 1, "{}", bad), CatalogError);
  EXPECT_FALSE(catalog.split("other").has_value());
  EXPECT_THROW(catalog.split_assignments("other"), CatalogError);
  EXPECT_TRUE(catalog.remove_split("default"));
  EXPECT_TRUE(catalog.splits().empty());
}

TEST_P(CatalogOnBothDatabases, FeatureConfigsRecordsPredictionsAndVectors) {
  Catalog catalog = create();
  catalog.add_track(make_track("a.mp3", "rock"));
  catalog.add_track(make_track("b.mp3", "rock"));
  const std::string config = catalog.add_feature_config(R"({"n_mels":128})");
  EXPECT_EQ(config, hash_hex(content_hash(R"({"n_mels":128})")));
  EXPECT_EQ(catalog.add_feature_config(R"({"n_mels":128})"), config);  // idempotent
  EXPECT_EQ(catalog.feature_file(2, config),
            fs::path(catalog.file().string() + ".features") / config / "2.npy");
  if (!postgres()) {
    EXPECT_EQ(catalog.file(), scratch / "cat.db");
  }
  EXPECT_EQ(catalog.tracks_without_features(config).size(), 2u);
  catalog.record_features({1, config, FeatureStatus::Done, 128, 44, 1.0, ""});
  catalog.record_features({2, config, FeatureStatus::Failed, 0, 0, 0.0, "b.mp3: corrupt audio"});
  ASSERT_EQ(catalog.tracks_without_features(config).size(), 1u);  // the failed one is retried
  EXPECT_EQ(catalog.features(2, config)->error, "b.mp3: corrupt audio");
  const auto configs = catalog.feature_configs();
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0].done, 1u);
  EXPECT_EQ(configs[0].failed, 1u);
  EXPECT_THROW(catalog.record_features({7, config, FeatureStatus::Done, 1, 1, 1.0, ""}), CatalogError);

  const std::vector<float> probabilities = {0.25f, 0.75f};
  catalog.set_prediction(1, "convpool", probabilities);
  EXPECT_EQ(catalog.prediction(1, "convpool"), probabilities);
  EXPECT_FALSE(catalog.prediction(2, "convpool").has_value());
  const std::vector<float> embedding = {1.0f, -2.0f, 3.5f};
  catalog.set_vector(1, "convpool", "embedding", embedding);
  EXPECT_EQ(catalog.vector(1, "convpool", "embedding"), embedding);
}

TEST_P(CatalogOnBothDatabases, VectorsOfAModelAndKindComeInOneMatrix) {
  Catalog catalog = create();
  for (const char* path : {"a.mp3", "b.mp3", "c.mp3", "d.mp3"}) catalog.add_track(make_track(path, "rock"));
  // Written out of id order, one track without a vector, other models and kinds beside.
  catalog.set_vector(3, "m", "embedding", std::vector<float>{3.0f, 3.5f});
  catalog.set_vector(1, "m", "embedding", std::vector<float>{1.0f, 1.5f});
  catalog.set_vector(4, "m", "embedding", std::vector<float>{4.0f, 4.5f});
  catalog.set_vector(2, "m", "probs", std::vector<float>{0.5f, 0.25f, 0.25f});
  catalog.set_vector(2, "other", "embedding", std::vector<float>{9.0f, 9.0f});

  const VectorMatrix matrix = catalog.vectors("m", "embedding");
  EXPECT_EQ(matrix.ids, (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_EQ(matrix.dim, 2u);
  EXPECT_EQ(matrix.values, (std::vector<float>{1.0f, 1.5f, 3.0f, 3.5f, 4.0f, 4.5f}));
  for (std::size_t i = 0; i < matrix.size(); ++i) {  // row i is the track's own vector
    const auto own = *catalog.vector(matrix.ids[i], "m", "embedding");
    EXPECT_TRUE(std::equal(own.begin(), own.end(), matrix.row(i).begin(), matrix.row(i).end()));
  }
  EXPECT_EQ(catalog.vector_tracks("m", "embedding"), (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_EQ(catalog.vectors("m", "probs").dim, 3u);

  const VectorMatrix none = catalog.vectors("unknown", "embedding");
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.dim, 0u);
  EXPECT_TRUE(catalog.vector_tracks("unknown", "embedding").empty());

  catalog.set_vector(2, "m", "embedding", std::vector<float>{1.0f, 2.0f, 3.0f});  // another length
  try {
    catalog.vectors("m", "embedding");
    ADD_FAILURE() << "vectors of two lengths were accepted";
  } catch (const CatalogError& error) {
    EXPECT_EQ(error.kind(), CatalogErrorKind::Corrupt);
    EXPECT_NE(std::string(error.what()).find("track 2"), std::string::npos) << error.what();
  }
}

TEST_P(CatalogOnBothDatabases, FindsATrackByFingerprint) {
  Catalog catalog = create();
  catalog.add_track(make_track("a.mp3", "rock"));
  TrackInfo copy = make_track("copy/a.mp3", "rock");
  copy.fingerprint = make_track("a.mp3", "rock").fingerprint;  // the same bytes at another path
  catalog.add_track(copy);
  const auto found = catalog.find_track_by_fingerprint(copy.fingerprint);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 1);  // the first of the two
  EXPECT_EQ(found->path, "a.mp3");
  EXPECT_FALSE(catalog.find_track_by_fingerprint("0123456789abcdef"));
}

// A catalog written at schema version 1 (tests/data/catalogs) opens migrated to the current version: every
// row kept, the work tables there and usable.
TEST(Catalog, ASchemaOneCatalogIsMigratedKeepingEveryRow) {
  ScratchDir scratch;
  const fs::path file = scratch / "old.catalog";
  fs::copy_file(testing::data_path("catalogs/schema1.catalog"), file);
  {
    Catalog catalog = Catalog::open(file);
    EXPECT_EQ(catalog.schema_version(), Catalog::kSchemaVersion);
    EXPECT_EQ(catalog.track_count(), 6u);
    ASSERT_EQ(catalog.feature_configs().size(), 1u);
    const FeatureConfigInfo config = catalog.feature_configs().front();
    EXPECT_EQ(config.done, 6u);
    const WorkJob job{WorkJob::Kind::Extract, config.id};
    EXPECT_EQ(catalog.enqueue_work(job), 6u);  // all six done already
    ASSERT_EQ(catalog.work_counts().size(), 1u);
    EXPECT_EQ(catalog.work_counts().front().done, 6u);
  }
  Catalog again = Catalog::open(file);  // opened again: nothing more to migrate
  EXPECT_EQ(again.schema_version(), Catalog::kSchemaVersion);
  EXPECT_EQ(again.work_counts().front().done, 6u);
}

TEST(Catalog, ErrorsNameTheFileAndTheReason) {
  ScratchDir scratch;
  auto error_of = [](const std::function<void()>& action) -> std::pair<CatalogErrorKind, std::string> {
    try {
      action();
    } catch (const CatalogError& error) {
      return {error.kind(), error.what()};
    }
    return {CatalogErrorKind::Io, "no error"};
  };
  const fs::path missing = scratch / "missing.db";
  auto [kind, what] = error_of([&] { Catalog::open(missing); });
  EXPECT_EQ(kind, CatalogErrorKind::NotFound);
  EXPECT_EQ(what, missing.string() + ": no such catalog file");

  const fs::path text = scratch / "notes.db";
  testing::write_bytes(text, "these are not the tables you are looking for\n");
  std::tie(kind, what) = error_of([&] { Catalog::open(text); });
  EXPECT_EQ(kind, CatalogErrorKind::NotACatalog);
  EXPECT_EQ(what, text.string() + ": not a tunelens catalog: not an SQLite database");

  const fs::path other = scratch / "other.db";
  sqlite_sql(other, "CREATE TABLE songs(name TEXT)");
  std::tie(kind, what) = error_of([&] { Catalog::open(other); });
  EXPECT_EQ(kind, CatalogErrorKind::NotACatalog);
  EXPECT_NE(what.find("of another program"), std::string::npos) << what;

  const fs::path newer = scratch / "newer.db";
  Catalog::create(newer, scratch.path());
  sqlite_sql(newer, "PRAGMA user_version = 99");
  std::tie(kind, what) = error_of([&] { Catalog::open(newer); });
  EXPECT_EQ(kind, CatalogErrorKind::NewerSchema);
  EXPECT_NE(what.find(newer.string() + ": made by a newer tunelens: catalog schema version 99"),
            std::string::npos)
      << what;

  // Found by fuzzing (fuzz/regressions/catalog): a negative schema version indexed the migrations before
  // their start.
  const fs::path negative = scratch / "negative.db";
  Catalog::create(negative, scratch.path());
  sqlite_sql(negative, "PRAGMA user_version = -589823");
  std::tie(kind, what) = error_of([&] { Catalog::open(negative); });
  EXPECT_EQ(kind, CatalogErrorKind::Corrupt);
  EXPECT_NE(what.find(negative.string() + ": damaged catalog: catalog schema version -589823"),
            std::string::npos)
      << what;
}

TEST(Catalog, ALockHeldByAnotherProcessIsReportedAfterTheTimeout) {
  ScratchDir scratch;
  const fs::path file = scratch / "cat.db";
  Catalog::create(file, scratch.path());
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  CatalogOptions options;
  options.busy_timeout_ms = 100;
  try {
    Catalog catalog = Catalog::open(file, options);
    catalog.add_track(make_track("a.mp3", "rock"));
    ADD_FAILURE() << "no error while another connection holds the lock";
  } catch (const CatalogError& error) {
    EXPECT_EQ(error.kind(), CatalogErrorKind::Locked) << error.what();
    EXPECT_TRUE(std::string(error.what()).starts_with(file.string() + ": locked by another process"))
        << error.what();
  }
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  Catalog catalog = Catalog::open(file, options);
  EXPECT_TRUE(catalog.add_track(make_track("a.mp3", "rock")).has_value());
}

TEST(Catalog, ADatasetMovedWithItsCatalogStillResolves) {
  ScratchDir scratch;
  const fs::path before = scratch / "before";
  fs::create_directories(before / "music" / "rock");
  testing::write_bytes(before / "music" / "rock" / "a.mp3", "x");
  {
    Catalog catalog = Catalog::create(before / "catalogs" / "cat.db", before / "music");
    EXPECT_EQ(catalog.stored_dataset_root(), "../music");
    EXPECT_EQ(catalog.relative_path(before / "music" / "rock" / "a.mp3"), "rock/a.mp3");
    EXPECT_EQ(catalog.relative_path(before / "music" / "." / "rock" / ".." / "rock" / "a.mp3"), "rock/a.mp3");
    catalog.add_track(make_track("rock/a.mp3", "rock"));
  }
  fs::rename(before, scratch / "after");
  Catalog catalog = Catalog::open(scratch / "after" / "catalogs" / "cat.db");
  const fs::path file = catalog.absolute_path(catalog.find_track(1)->path);
  EXPECT_TRUE(fs::exists(file)) << file;
  EXPECT_EQ(file, fs::weakly_canonical(scratch / "after" / "music" / "rock" / "a.mp3"));
}

TEST(Catalog, RootSharingOnlyTheFileSystemRootIsStoredAbsolute) {
  ScratchDir scratch;
  Catalog catalog = Catalog::create(scratch / "cat.db", "/usr");
  EXPECT_EQ(catalog.stored_dataset_root(), "/usr");
}

// --- fingerprints

// A catalog in a folder this user may not write (a shared collection, a read-only mount) can be read; a
// command that writes says the catalog is read-only (it was "attempt to write a readonly database" on every
// read). Run as an unprivileged user (setpriv, when the tests run as root: root may write anywhere).
TEST(Catalog, OneInAFolderNobodyMayWriteCanBeRead) {
  ScratchDir s;
  fs::create_directories(s / "music" / "jazz");
  fs::copy_file(testing::data_path("formats/wav_s16.wav"), s / "music" / "jazz" / "a.wav");
  const std::string catalog = testing::quoted(s / "ro" / "c.db");
  ASSERT_EQ(testing::tunelens(
                "dataset import folders " + testing::quoted(s / "music") + " --catalog " + catalog + " -q", s)
                .status,
            0);
  fs::permissions(s / "ro" / "c.db", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(s / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups" : "";
  const testing::ProgramRun info = testing::tunelens("dataset info --catalog " + catalog, s, as_user);
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("1 tracks"), std::string::npos) << info.out;
  const testing::ProgramRun split =
      testing::tunelens("dataset split --catalog " + catalog + " --scheme fraction -q", s, as_user);
  EXPECT_EQ(split.status, 2);
  EXPECT_NE(split.err.find("read-only"), std::string::npos) << split.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(s / "ro"), fs::directory_iterator()), 1);  // no -wal, -shm
  fs::permissions(s / "ro", fs::perms::owner_all);

  // A catalog of an older schema there is read at its own version (it cannot be migrated): status says there
  // is no work rather than failing on the missing work table.
  fs::copy_file(testing::data_path("catalogs/schema1.catalog"), s / "ro" / "old.db");
  fs::permissions(s / "ro" / "old.db", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(s / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const std::string old_catalog = testing::quoted(s / "ro" / "old.db");
  const testing::ProgramRun old_info = testing::tunelens("dataset info --catalog " + old_catalog, s, as_user);
  EXPECT_EQ(old_info.status, 0) << old_info.err;
  EXPECT_NE(old_info.out.find("6 tracks"), std::string::npos) << old_info.out;
  EXPECT_NE(old_info.out.find("(schema 1)"), std::string::npos) << old_info.out;
  const testing::ProgramRun old_status = testing::tunelens("status --catalog " + old_catalog, s, as_user);
  EXPECT_EQ(old_status.status, 0) << old_status.err;
  EXPECT_NE(old_status.out.find("no work queued"), std::string::npos) << old_status.out;
  fs::permissions(s / "ro", fs::perms::owner_all);
}

TEST(Fingerprint, StableAndSensitiveToEveryByte) {
  EXPECT_EQ(hash_hex(content_hash("")), hash_hex(content_hash("")));
  EXPECT_EQ(hash_hex(0x0123456789abcdefull), "0123456789abcdef");
  // Fixed values: fingerprints and configuration ids are stored, so the function must never change.
  EXPECT_EQ(hash_hex(content_hash("")), "0d261312a62c0542");
  EXPECT_EQ(hash_hex(content_hash("tunelens")), "c103e3a1ca56c65f");
  EXPECT_EQ(hash_hex(content_hash(std::string(100, 'x'))), "a160eb29593354d6");
  std::string bytes(1000, 'a');
  const auto base = content_hash(bytes);
  for (std::size_t at : {0u, 7u, 31u, 32u, 500u, 999u}) {
    std::string changed = bytes;
    changed[at] = 'b';
    EXPECT_NE(content_hash(changed), base) << at;
  }
  EXPECT_NE(content_hash(std::string(32, '\0')), content_hash(std::string(33, '\0')));

  ScratchDir scratch;
  // Across block boundaries, the streaming file hash equals the hash of the whole string.
  std::string big(3 * (1 << 20) + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  testing::write_bytes(scratch / "big.bin", big);
  EXPECT_EQ(file_fingerprint(scratch / "big.bin"), hash_hex(content_hash(big)));
  EXPECT_THROW(file_fingerprint(scratch / "missing.bin"), std::runtime_error);
}

// --- feature arrays

TEST(FeatureArray, HalfConversionRoundsToNearestEven) {
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // halfway: to even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // halfway: to even (up)
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
  // Every finite half survives a round trip through float.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    if ((half & 0x7c00) == 0x7c00) continue;
    ASSERT_EQ(float_to_half(half_to_float(half)), half) << h;
  }
  // dB values keep about 0.03 dB of precision.
  for (float db = -80.0f; db <= 0.0f; db += 0.37f) EXPECT_NEAR(half_to_float(float_to_half(db)), db, 0.032f);
}

TEST(FeatureArray, WritesNumpyFilesAndReadsWindowsAtAnyOffset) {
  ScratchDir scratch;
  const std::size_t rows = 5, frames = 300;
  std::vector<float> values(rows * frames);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t t = 0; t < frames; ++t)
      values[r * frames + t] = -80.0f + static_cast<float>(r * 10 + t % 50) * 0.5f;
  for (const FeatureDtype dtype : {FeatureDtype::Float16, FeatureDtype::Float32}) {
    const fs::path file = scratch / (to_string(dtype) + ".npy");
    write_feature_array(file, rows, frames, values.data(), dtype);
    EXPECT_FALSE(fs::exists(file.string() + ".partial"));
    const std::string bytes = testing::read_bytes(file);
    EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
    EXPECT_NE(bytes.find(dtype == FeatureDtype::Float16 ? "'descr': '<f2'" : "'descr': '<f4'"),
              std::string::npos);
    EXPECT_NE(bytes.find("'shape': (5, 300)"), std::string::npos);
    EXPECT_EQ((bytes.size() - 128), rows * frames * element_size(dtype));  // 128-byte header, then the data

    const FeatureArray array(file);
    EXPECT_EQ(array.rows(), rows);
    EXPECT_EQ(array.frames(), frames);
    EXPECT_EQ(array.dtype(), dtype);
    for (const std::size_t offset : {0u, 1u, 123u, 200u}) {
      const std::vector<float> window = array.window(offset, 100);
      ASSERT_EQ(window.size(), rows * 100);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t t = 0; t < 100; ++t)
          ASSERT_EQ(window[r * 100 + t], values[r * frames + offset + t])
              << to_string(dtype) << " " << r << " " << t;
    }
    EXPECT_THROW(array.window(201, 100), std::out_of_range);
    EXPECT_EQ(array.read_all(), values);
  }
  // read_npy (float32 only) reads the float32 file as numpy would.
  const NpyArray plain = read_npy(scratch / "float32.npy");
  EXPECT_EQ(plain.shape, (std::vector<std::size_t>{rows, frames}));
  EXPECT_EQ(plain.values, values);
  // A float32 .npy written by write_npy maps too.
  write_npy(scratch / "other.npy", {rows, frames}, values.data());
  EXPECT_EQ(FeatureArray(scratch / "other.npy").window(10, 5),
            FeatureArray(scratch / "float32.npy").window(10, 5));
}

TEST(FeatureArray, RejectsFilesThatAreNotFeatureArrays) {
  ScratchDir scratch;
  testing::write_bytes(scratch / "text.npy", "not an array, only some text that is long enough");
  EXPECT_THROW(FeatureArray(scratch / "text.npy"), NpyError);
  EXPECT_THROW(FeatureArray(scratch / "missing.npy"), NpyError);
  const std::vector<float> values(64, 1.0f);
  write_feature_array(scratch / "whole.npy", 8, 8, values.data(), FeatureDtype::Float32);
  const std::string bytes = testing::read_bytes(scratch / "whole.npy");
  testing::write_bytes(scratch / "cut.npy", bytes.substr(0, bytes.size() - 10));
  try {
    FeatureArray array(scratch / "cut.npy");
    ADD_FAILURE() << "a truncated file opened";
  } catch (const NpyError& error) {
    EXPECT_NE(std::string(error.what()).find("cut.npy: truncated data"), std::string::npos) << error.what();
  }
  write_npy(scratch / "vector.npy", {64}, values.data());
  EXPECT_THROW(FeatureArray(scratch / "vector.npy"), NpyError);
}

}  // namespace
}  // namespace tunelens
