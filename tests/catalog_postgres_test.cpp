// The catalog on PostgreSQL beside SQLite: the same answers on both (orders, text search, schema versions),
// the server's errors, its locks, and tunelens catalog copy between the two losing nothing. The PostgreSQL
// cases skip without a server (catalog_locations.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

#include "app/catalog_copy.h"
#include "catalog_locations.h"
#include "store/catalog.h"
#include "store/fingerprint.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::CatalogOnBothDatabases;
using testing::ScratchDir;

using testing::make_track;

#define SKIP_WITHOUT_POSTGRES()             \
  if (testing::test_postgres_uri().empty()) \
  GTEST_SKIP() << "TUNELENS_TEST_PG is not set: no PostgreSQL server (tests/pg/with_postgres.sh starts one)"

TEST_P(CatalogOnBothDatabases, ReopensWithWhatItHolds) {
  {
    Catalog catalog = create();
    EXPECT_EQ(catalog.schema_version(), Catalog::kSchemaVersion);
    EXPECT_EQ(catalog.backend(), GetParam());
    ASSERT_TRUE(catalog.add_track(make_track("blues/a.au", "blues")));
    EXPECT_THROW(Catalog::create(location(), scratch.path()), CatalogError);
  }
  Catalog catalog = Catalog::open(location());
  EXPECT_EQ(catalog.track_count(), 1u);
  EXPECT_EQ(catalog.dataset_root(), fs::weakly_canonical(scratch.path()));
  EXPECT_EQ(catalog.absolute_path("blues/a.au"), fs::weakly_canonical(scratch.path()) / "blues" / "a.au");
  EXPECT_EQ(Catalog::open_or_create(location(), "/elsewhere").track_count(), 1u);
}

// SQLite's LIKE ignores the case of ASCII letters and of no other: so must PostgreSQL's search.
TEST_P(CatalogOnBothDatabases, TextSearchFoldsOnlyAsciiLetters) {
  Catalog catalog = create();
  for (const char* title : {"Été", "l'été", "ÉTÉ"}) {
    TrackInfo track = make_track(std::string(title) + ".wav", std::nullopt);
    track.title = title;
    catalog.add_track(track);
  }
  TrackQuery query;
  for (const auto& [text, count] : std::vector<std::pair<std::string, std::size_t>>{
           {"été", 1}, {"Été", 1}, {"ÉTÉ", 1}, {"T", 3}, {"L'", 1}, {"\\", 0}}) {
    query.text = text;
    EXPECT_EQ(catalog.track_count(query), count) << text;
  }
}

// Text orders byte by byte on both (PostgreSQL's locale does not enter), unassigned tracks first in a label.
TEST_P(CatalogOnBothDatabases, OrdersAgree) {
  Catalog catalog = create();
  for (const char* label : {"jazz", "Électro", "Rock", "ambient"})
    catalog.add_track(make_track(label, label));
  catalog.add_track(make_track("none", std::nullopt));
  std::vector<std::string> labels;
  for (const LabelCount& count : catalog.labels()) labels.push_back(count.label.value_or("(none)"));
  EXPECT_EQ(labels, (std::vector<std::string>{"Rock", "ambient", "jazz", "Électro", "(none)"}));
  const std::vector<SplitAssignment> assignments = {{1, SplitPart::Test}};
  catalog.set_split("b", "fraction", 1, "{}", assignments);
  catalog.set_split("a", "fraction", 1, "{}", {});
  ASSERT_EQ(catalog.splits().size(), 2u);
  EXPECT_EQ(catalog.splits()[0].name, "a");
  catalog.add_track(make_track("jazz2", "jazz"));
  catalog.set_split("c", "fraction", 1, "{}", assignments);
  const auto counts = catalog.split_counts("c");
  ASSERT_GE(counts.size(), 4u);
  EXPECT_EQ(counts[2].label, "jazz");
  EXPECT_FALSE(counts[2].part.has_value());  // unassigned before assigned
  EXPECT_EQ(counts[3].part, SplitPart::Test);
  EXPECT_EQ(catalog.find_track(1)->duration, 30.0);
}

TEST_P(CatalogOnBothDatabases, ANewerSchemaIsRefused) {
  create();
  sql(postgres() ? "UPDATE meta SET value = '99' WHERE key = 'schema_version'" : "PRAGMA user_version = 99");
  try {
    Catalog::open(location());
    ADD_FAILURE() << "a schema from the future was opened";
  } catch (const CatalogError& error) {
    EXPECT_EQ(error.kind(), CatalogErrorKind::NewerSchema);
    EXPECT_NE(std::string(error.what()).find("made by a newer tunelens: catalog schema version 99"),
              std::string::npos)
        << error.what();
  }
}

// The work queue of tunelens worker: claims in track order that never overlap, even from many connections at
// once; a lapsed lease taken by another; a claim lost that way cannot be finished; too many lapses fail the
// track; a stopping worker's claims given back; failed ones queued again when asked.
TEST_P(CatalogOnBothDatabases, WorkIsClaimedOnceAndALapsedLeaseIsTakenOver) {
  {
    Catalog catalog = create();
    for (int i = 0; i < 40; ++i) catalog.add_track(make_track(std::to_string(i) + ".wav", "rock"));
  }
  Catalog catalog = Catalog::open(location());
  const WorkJob job{WorkJob::Kind::Index, "model"};
  EXPECT_EQ(catalog.enqueue_work(job), 40u);
  EXPECT_EQ(catalog.enqueue_work(job), 0u);  // once per track
  // Four connections claim batches of 3 at once until nothing is left: every track exactly once.
  std::vector<std::vector<std::int64_t>> claimed(4);
  std::vector<std::thread> claimers;
  for (std::size_t w = 0; w < claimed.size(); ++w)
    claimers.emplace_back([&, w] {
      Catalog mine = Catalog::open(location());
      for (;;) {
        const std::vector<Track> tracks = mine.claim_work(job, std::to_string(w), 3, 60.0, 3);
        if (tracks.empty()) return;
        for (const Track& track : tracks) claimed[w].push_back(track.id);
      }
    });
  for (std::thread& thread : claimers) thread.join();
  std::vector<std::int64_t> all;
  for (const auto& ids : claimed) all.insert(all.end(), ids.begin(), ids.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 40u);
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  EXPECT_EQ(catalog.work_counts().front().claimed, 40u);

  // Given back, then step by step: a claims tracks 1-5, finishes 1; its other leases run out and b takes them.
  for (int w = 0; w < 4; ++w) catalog.release_work(std::to_string(w));
  EXPECT_EQ(catalog.work_counts().front().pending, 40u);
  const auto ids = [](const std::vector<Track>& tracks) {
    std::vector<std::int64_t> out;
    for (const Track& track : tracks) out.push_back(track.id);
    return out;
  };
  using Ids = std::vector<std::int64_t>;
  EXPECT_EQ(ids(catalog.claim_work(job, "a", 5, 60.0, 3)), (Ids{1, 2, 3, 4, 5}));
  EXPECT_TRUE(catalog.finish_work(job, "a", {1, std::nullopt}));
  EXPECT_FALSE(catalog.finish_work(job, "a", {1, std::nullopt}));  // finished already
  EXPECT_EQ(catalog.renew_work("a", -1.0), 4u);                    // its leases run out
  EXPECT_EQ(ids(catalog.claim_work(job, "b", 4, 60.0, 3)), (Ids{2, 3, 4, 5}));  // lapsed ones first
  EXPECT_FALSE(catalog.finish_work(job, "a", {2, std::nullopt}));                // a lost it
  EXPECT_TRUE(catalog.finish_work(job, "b", {2, std::string("bad audio")}));

  // A track whose claims lapse max_attempts times is failed rather than handed out again.
  EXPECT_EQ(catalog.renew_work("b", -1.0), 3u);
  EXPECT_EQ(ids(catalog.claim_work(job, "c", 1, -1.0, 3)), (Ids{3}));  // its 3rd claim, lapsed at once
  EXPECT_EQ(ids(catalog.claim_work(job, "d", 1, 60.0, 3)), (Ids{4}));  // 3 is failed, not claimed
  WorkCounts counts = catalog.work_counts().front();
  EXPECT_EQ(counts.failed, 2u);  // "bad audio" and track 3
  EXPECT_EQ(counts.done, 1u);

  // A stopping worker gives its claims back; failed ones come back when asked.
  EXPECT_EQ(catalog.release_work("d"), 1u);
  EXPECT_EQ(catalog.retry_failed_work(job), 2u);
  counts = catalog.work_counts().front();
  EXPECT_EQ(counts.failed, 0u);
  EXPECT_EQ(counts.pending, 38u);  // 6-40, 4 given back, 2 and 3 retried
  EXPECT_EQ(counts.claimed, 1u);   // 5, b's, lapsed
  EXPECT_EQ(counts.expired, 1u);
  // Workers are recorded and heard of.
  catalog.register_worker({"w0", "host", 42, "index", "working"});
  catalog.update_worker("w0", 5, 1, "waiting");
  const std::vector<WorkerRecord> workers = catalog.workers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers.front().state, "waiting");
  EXPECT_EQ(workers.front().done, 5u);
  EXPECT_LT(workers.front().seen_seconds_ago, 60.0);
}

INSTANTIATE_TEST_SUITE_P(Databases, CatalogOnBothDatabases,
                         ::testing::Values(CatalogBackend::Sqlite, CatalogBackend::Postgres),
                         testing::backend_name);

// --- PostgreSQL only

CatalogError error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const CatalogError& error) {
    return error;
  }
  return CatalogError(CatalogErrorKind::Io, "", "no error");
}

TEST(CatalogPostgres, ErrorsNameTheUriWithoutItsPassword) {
  EXPECT_EQ(masked_location("postgresql://me:secret@db.example/music?password=other&sslmode=require"),
            "postgresql://me:***@db.example/music?password=***&sslmode=require");
  EXPECT_EQ(masked_location("postgres://me@db.example/music"), "postgres://me@db.example/music");
  EXPECT_EQ(masked_location("/data/cat.db"), "/data/cat.db");
  // Nothing listens on port 1: refused at once.
  const CatalogError refused = error_of([] { Catalog::open("postgresql://me:secret@127.0.0.1:1/music"); });
  EXPECT_EQ(refused.kind(), CatalogErrorKind::NotFound);
  const std::string what = refused.what();
  EXPECT_TRUE(what.starts_with("postgresql://me:***@127.0.0.1:1/music: cannot open the catalog: ")) << what;
  EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;

  SKIP_WITHOUT_POSTGRES();
  // A database that is not there (on the server of with_postgres.sh, whose database is tunelens_test).
  std::string no_database = testing::test_postgres_uri();
  if (const auto at = no_database.find("/tunelens_test"); at != std::string::npos) {
    no_database.replace(at, 14, "/no_such_database");
    const CatalogError missing = error_of([&] { Catalog::open(no_database); });
    EXPECT_EQ(missing.kind(), CatalogErrorKind::NotFound) << missing.what();
    EXPECT_NE(std::string(missing.what()).find("no_such_database"), std::string::npos) << missing.what();
  }
  testing::PostgresSchema schema;
  const CatalogError empty = error_of([&] { Catalog::open(schema.uri()); });
  EXPECT_EQ(empty.kind(), CatalogErrorKind::NotACatalog) << empty.what();
  testing::postgres_sql(schema.uri(), "CREATE TABLE meta(key TEXT, value TEXT)");
  const CatalogError other = error_of([&] { Catalog::open(schema.uri()); });
  EXPECT_EQ(other.kind(), CatalogErrorKind::NotACatalog) << other.what();
  EXPECT_NE(std::string(other.what()).find("of another program"), std::string::npos) << other.what();
}

TEST(CatalogPostgres, ALockHeldByAnotherSessionIsReportedAfterTheTimeout) {
  SKIP_WITHOUT_POSTGRES();
  ScratchDir scratch;
  testing::PostgresSchema schema;
  Catalog::create(schema.uri(), scratch.path());
  std::unique_ptr<PGconn, void (*)(PGconn*)> holder(PQconnectdb(schema.uri().c_str()), PQfinish);
  PQclear(PQexec(holder.get(), "BEGIN; LOCK TABLE tracks IN ACCESS EXCLUSIVE MODE"));
  CatalogOptions options;
  options.busy_timeout_ms = 100;
  Catalog catalog = Catalog::open(schema.uri(), options);
  const CatalogError locked = error_of([&] { catalog.add_track(make_track("a.wav", "rock")); });
  EXPECT_EQ(locked.kind(), CatalogErrorKind::Locked) << locked.what();
  EXPECT_TRUE(std::string(locked.what()).starts_with(schema.uri() + ": locked by another process"))
      << locked.what();
  PQclear(PQexec(holder.get(), "ROLLBACK"));
  EXPECT_TRUE(catalog.add_track(make_track("a.wav", "rock")).has_value());
}

// Two ingests of the same bytes under two names at once (tunelens ingest looks the fingerprint up again
// inside its transaction): the second waits for the first and finds its track, rather than adding a
// duplicate.
TEST(CatalogPostgres, TwoAddersOfTheSameBytesSeeEachOther) {
  SKIP_WITHOUT_POSTGRES();
  ScratchDir scratch;
  testing::PostgresSchema schema;
  Catalog first = Catalog::create(schema.uri(), scratch.path());
  Catalog second = Catalog::open(schema.uri());
  const std::string fingerprint = hash_hex(content_hash("the same bytes"));
  std::optional<std::int64_t> added;
  {
    Catalog::Transaction transaction(first);
    ASSERT_FALSE(first.find_track_by_fingerprint(fingerprint));
    TrackInfo track = make_track("one.wav", std::nullopt);
    track.fingerprint = fingerprint;
    added = first.add_track(track);
    std::atomic<bool> looked{false};
    std::optional<Track> seen;
    std::thread other([&] {
      Catalog::Transaction own(second);
      seen = second.find_track_by_fingerprint(fingerprint);
      looked = true;
      if (!seen) {
        TrackInfo copy = make_track("two.wav", std::nullopt);
        copy.fingerprint = fingerprint;
        second.add_track(copy);
      }
      own.commit();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(looked) << "the second look-up did not wait for the first transaction";
    transaction.commit();
    other.join();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->id, *added);
  }
  EXPECT_EQ(first.track_count(), 1u);
}

// Every table's rows through the catalog's own reads, floats as their bytes: two catalogs holding the same
// give the same text.
std::string contents(const Catalog& catalog, const std::vector<std::string>& models) {
  std::ostringstream out;
  out << std::hexfloat;
  const auto bytes = [&](std::span<const float> values) {
    std::string hex;
    const auto* data = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t i = 0; i < values.size() * sizeof(float); ++i) {
      hex += "0123456789abcdef"[data[i] >> 4];
      hex += "0123456789abcdef"[data[i] & 15];
    }
    return hex;
  };
  const auto optional = [](const auto& value) {
    std::ostringstream text;
    if (value)
      text << *value;
    else
      text << "NULL";
    return text.str();
  };
  for (const Track& t : catalog.tracks())
    out << "track " << t.id << '|' << t.path << '|' << t.fingerprint << '|' << t.size << '|' << t.duration
        << '|' << t.sample_rate << '|' << t.channels << '|' << t.codec << '|' << optional(t.title) << '|'
        << optional(t.artist) << '|' << optional(t.album) << '|' << optional(t.album_order) << '|'
        << optional(t.year) << '|' << optional(t.track_number) << '|' << optional(t.label) << '|' << t.source
        << '|' << optional(t.source_id) << '|' << optional(t.source_split) << '|' << optional(t.source_subset)
        << '\n';
  for (const SplitInfo& split : catalog.splits()) {
    out << "split " << split.id << '|' << split.name << '|' << split.scheme << '|' << split.seed << '|'
        << split.parameters << '|' << split.created << '\n';
    for (const SplitAssignment& a : catalog.split_assignments(split.name))
      out << "  " << a.track << ' ' << to_string(a.part) << '\n';
  }
  for (const FeatureConfigInfo& config : catalog.feature_configs()) {
    out << "config " << config.id << '|' << config.parameters << '|' << config.created << '|' << config.done
        << '|' << config.failed << '\n';
    for (const FeatureRecord& r : catalog.feature_records(config.id))
      out << "  " << r.track << '|' << (r.status == FeatureStatus::Done) << '|' << r.n_mels << '|' << r.frames
          << '|' << r.seconds << '|' << r.error << '\n';
  }
  for (const std::string& model : models) {
    for (const Track& t : catalog.tracks())
      if (const auto p = catalog.prediction(t.id, model))
        out << "prediction " << t.id << ' ' << bytes(*p) << '\n';
    for (const char* kind : {"probs", "embedding"}) {
      const VectorMatrix matrix = catalog.vectors(model, kind);
      for (std::size_t i = 0; i < matrix.size(); ++i)
        out << "vector " << model << ' ' << kind << ' ' << matrix.ids[i] << ' ' << bytes(matrix.row(i))
            << '\n';
    }
  }
  return out.str();
}

// A catalog with something in every column: optional fields set and not, text beyond ASCII, a seed above
// 2^63, a failed feature record, vectors of two models, and a track 7 to remove (ids go on after it, in the
// copies too).
void fill(Catalog& catalog) {
  for (int i = 1; i <= 6; ++i) {
    TrackInfo track = make_track("genre/" + std::to_string(i) + ".wav",
                                 i % 3 ? std::optional<std::string>("jazz") : std::nullopt);
    track.duration = i / 3.0;
    if (i % 2) {
      track.title = "Été n°" + std::to_string(i);
      track.artist = "Ünïcode 'quoted' \"too\"";
      track.album = "100% _x_";
      track.album_order = i;
      track.year = 1990 + i;
      track.track_number = i * 2;
      track.source_id = std::to_string(1000 + i);
      track.source_split = i == 1 ? "val" : "train";
      track.source_subset = "small";
    }
    catalog.add_track(track);
  }
  catalog.add_track(make_track("gone.wav", "rock"));  // track 7, removed by the caller
  const std::vector<SplitAssignment> parts = {
      {1, SplitPart::Train}, {2, SplitPart::Val}, {5, SplitPart::Test}};
  catalog.set_split("default", "fraction", 18446744073709551557ull, R"({"val":0.1})", parts);
  catalog.set_split("other", "artist", 3, "{}", std::vector<SplitAssignment>{{4, SplitPart::Val}});
  const std::string config = catalog.add_feature_config(R"({"n_mels":128,"sr":22050})");
  catalog.record_features({1, config, FeatureStatus::Done, 128, 1292, 29.98, ""});
  catalog.record_features({2, config, FeatureStatus::Failed, 0, 0, 0.0, "2.wav: no audio stream"});
  for (std::int64_t id = 1; id <= 6; ++id) {
    const float f = static_cast<float>(id);
    const std::vector<float> probs = {f / 7.0f, 1.0f - f / 7.0f, 1e-38f};
    catalog.set_prediction(id, "m1", probs);
    catalog.set_vector(id, "m1", "probs", probs);
    catalog.set_vector(id, "m1", "embedding", std::vector<float>{-f, f * 0.1f, 3.4e38f, -0.0f});
    if (id % 2 == 0) catalog.set_vector(id, "m2", "embedding", std::vector<float>{f});
  }
}

TEST(CatalogPostgres, CopiesSqliteToPostgresAndBackLosingNothing) {
  SKIP_WITHOUT_POSTGRES();
  ScratchDir scratch;
  testing::PostgresSchema schema;
  const std::vector<std::string> models = {"m1", "m2"};
  {
    Catalog original = Catalog::create(scratch / "original.db", scratch.path());
    fill(original);
    Catalog::Transaction transaction(original);  // and enough rows for whole batches of the copy's inserts
    for (int i = 0; i < 600; ++i)
      original.add_track(make_track("bulk/" + std::to_string(i) + ".wav", "rock"));
    transaction.commit();
  }
  testing::sqlite_sql(scratch / "original.db", "DELETE FROM tracks WHERE id = 7");
  const Catalog original = Catalog::open(scratch / "original.db");
  const std::string expected = contents(original, models);
  ASSERT_NE(expected.find("vector m2 embedding 6"), std::string::npos) << expected;

  Catalog server = Catalog::create(schema.uri(), scratch.path());
  const auto rows = server.copy_from(original);
  ASSERT_EQ(rows.front().table, "tracks");
  EXPECT_EQ(rows.front().rows, 606u);
  EXPECT_EQ(contents(server, models), expected);
  EXPECT_THROW(server.copy_from(original), CatalogError);  // not empty: refused
  EXPECT_EQ(contents(server, models), expected);
  server.copy_from(original, true);  // unless asked
  EXPECT_EQ(contents(server, models), expected);

  Catalog back = Catalog::create(scratch / "back.db", "/");
  back.copy_from(server);
  EXPECT_EQ(contents(back, models), expected);
  EXPECT_EQ(back.stored_dataset_root(), original.stored_dataset_root());
  // The id counters came along: the removed track's id is used by none of them.
  Catalog reopened = Catalog::open(scratch / "original.db");
  for (Catalog* catalog : {&reopened, &server, &back})
    EXPECT_EQ(catalog->add_track(make_track("new.wav", "rock")), 608) << catalog->name();
}

// tunelens catalog copy, the command: rows and the feature files beside the catalog, both ways.
TEST(CatalogPostgres, TheCopyCommandTakesTheFilesAlong) {
  SKIP_WITHOUT_POSTGRES();
  ScratchDir scratch;
  testing::PostgresSchema schema;
  {
    Catalog original = Catalog::create(scratch / "a.db", scratch.path());
    fill(original);
  }
  testing::sqlite_sql(scratch / "a.db", "DELETE FROM tracks WHERE id = 7");
  const fs::path feature = scratch / "a.db.features" / "0123456789abcdef" / "1.npy";
  fs::create_directories(feature.parent_path());
  testing::write_bytes(feature, "not really an array");
  const std::string to_server =
      "catalog copy " + testing::quoted(scratch / "a.db") + " '" + schema.uri() + "'";
  testing::ProgramRun run =
      testing::tunelens(to_server + " --files " + testing::quoted(scratch / "files"), scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("tracks"), std::string::npos) << run.out;
  const Catalog server = Catalog::open(schema.uri());
  EXPECT_EQ(server.track_count(), 6u);
  EXPECT_EQ(server.file().parent_path(), fs::weakly_canonical(scratch / "files"));
  EXPECT_TRUE(fs::exists(server.feature_file(1, "0123456789abcdef")))
      << server.feature_file(1, "0123456789abcdef");

  run = testing::tunelens(to_server, scratch);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("replacing them must be asked for"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << run.err;

  run =
      testing::tunelens("catalog copy '" + schema.uri() + "' " + testing::quoted(scratch / "b.db"), scratch);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::exists(scratch / "b.db.features" / "0123456789abcdef" / "1.npy"));
  EXPECT_EQ(Catalog::open(scratch / "b.db").track_count(), 6u);
}

}  // namespace
}  // namespace tunelens
