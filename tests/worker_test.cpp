// tunelens worker and status, on both databases: several worker processes share one catalog's extraction and
// indexing of the tone catalog (testing::make_tone_catalog), one of them killed with SIGKILL holding a batch.
// Every track must be done exactly once (once more for the killed worker's batch), by the others for that
// batch, with feature files and vectors byte for byte those of one tunelens extract and index run on SQLite;
// no orphan rows; and status must say so.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog_locations.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ProgramRun;
using testing::quoted;
using testing::ScratchDir;
using testing::tunelens;

// Every feature file and vector of a catalog for one model, by track path: what two catalogs must agree on.
std::map<std::string, std::string> results_by_path(const Catalog& catalog, const std::string& model_key) {
  std::map<std::string, std::string> out;
  const auto configs = catalog.feature_configs();
  for (const Track& track : catalog.tracks()) {
    for (const FeatureConfigInfo& config : configs)
      if (const auto record = catalog.features(track.id, config.id);
          record && record->status == FeatureStatus::Done)
        out[track.path + " features " + config.id] = testing::read_bytes(catalog.feature_file(track.id, config.id));
    for (const char* kind : {"probs", "embedding"})
      if (const auto vector = catalog.vector(track.id, model_key, kind))
        out[track.path + " " + kind] = std::string(reinterpret_cast<const char*>(vector->data()),
                                                   vector->size() * sizeof(float));
  }
  return out;
}

class Worker : public testing::CatalogOnBothDatabases {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const ScratchDir& s = *scratch_;
    steps_ = testing::make_tone_catalog(s);
    // The single-process baseline: tunelens extract (in make_tone_catalog) and index, on SQLite.
    steps_.push_back(tunelens("index -j 1 -q --model " + quoted(s / "tones.tlm") + " --catalog " +
                                  quoted(s / "tones.catalog"),
                              s));
  }
  static void TearDownTestSuite() { delete scratch_; }
  void SetUp() override {
    CatalogOnBothDatabases::SetUp();
    if (IsSkipped()) return;
    for (const ProgramRun& step : steps_) ASSERT_EQ(step.status, 0) << step.out << step.err;
  }

  static const ScratchDir& tones() { return *scratch_; }
  // The tone tracks imported into this test's catalog, nothing computed.
  void import_tracks() {
    const ProgramRun run = tunelens(
        "dataset import csv " + quoted(tones() / "data/tracks.csv") + " -q --catalog " + quoted(fs::path(location())), scratch);
    ASSERT_EQ(run.status, 0) << run.err;
  }
  // Runs a bash script (written to a file: it quotes paths of its own), for at most 5 minutes; returns its exit
  // status.
  int bash(const std::string& script) {
    testing::write_bytes(scratch / "script.sh", script);
    const int raw = std::system(("timeout 300 bash " + quoted(scratch / "script.sh")).c_str());
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  // Runs workers side by side, each with its own arguments and environment; returns their exit statuses.
  std::vector<int> run_workers(const std::vector<std::pair<std::string, std::string>>& workers) {
    std::string script;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      const std::string n = std::to_string(i);
      script += "(" + workers[i].second + " " TUNELENS_BINARY " worker --catalog " + quoted(fs::path(location())) +
                " --model " + quoted(tones() / "tones.tlm") + " " + workers[i].first + " >" +
                quoted(scratch / ("w" + n + ".out")) + " 2>" + quoted(scratch / ("w" + n + ".err")) +
                "; echo $? >" + quoted(scratch / ("w" + n + ".rc")) + ") & ";
    }
    script += "wait";
    EXPECT_EQ(bash(script), 0);
    std::vector<int> statuses;
    for (std::size_t i = 0; i < workers.size(); ++i)
      statuses.push_back(std::stoi(testing::read_bytes(scratch / ("w" + std::to_string(i) + ".rc"))));
    return statuses;
  }
  std::string worker_output(std::size_t i) const {
    return testing::read_bytes(scratch / ("w" + std::to_string(i) + ".out")) +
           testing::read_bytes(scratch / ("w" + std::to_string(i) + ".err"));
  }
  // One number from the catalog's database.
  std::int64_t count(const std::string& query) {
    const std::string text =
        postgres() ? testing::postgres_sql(location(), query) : testing::sqlite_text(location(), query);
    return text.empty() ? -1 : std::stoll(text);
  }

  static ScratchDir* scratch_;
  static std::vector<ProgramRun> steps_;
};
ScratchDir* Worker::scratch_ = nullptr;
std::vector<ProgramRun> Worker::steps_;

TEST_P(Worker, FourWorkersOneKilledDoEveryTrackOnceAsOneProcessWould) {
  import_tracks();
  // The first worker claims a batch of 4 and dies (SIGKILL) with 3 of them computed and nothing stored.
  const std::vector<int> killed = run_workers({{"--name killed --batch 4 --lease 5", "TUNELENS_WORKER_KILL_AFTER=3"}});
  ASSERT_EQ(killed[0], 128 + 9) << worker_output(0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE worker = 'killed' AND state = 'claimed'"), 4);
  // Three more share the rest, and take the dead worker's batch once its lease lapses.
  const std::vector<int> statuses = run_workers({{"--name a --batch 2 --lease 5", ""},
                                                 {"--name b --batch 3 --lease 5", ""},
                                                 {"--name c --batch 2 --lease 5", ""}});
  for (std::size_t i = 0; i < statuses.size(); ++i) EXPECT_EQ(statuses[i], 0) << worker_output(i);

  const Catalog catalog = Catalog::open(location());
  const Catalog baseline = Catalog::open(tones() / "tones.catalog");
  const std::size_t tracks = baseline.track_count();
  ASSERT_EQ(catalog.track_count(), tracks);
  // Byte for byte what one process made on SQLite.
  const std::string model_key = testing::sqlite_text(tones() / "tones.catalog", "SELECT model FROM predictions");
  const auto expected = results_by_path(baseline, model_key), got = results_by_path(catalog, model_key);
  EXPECT_EQ(expected.size(), 3 * tracks);
  EXPECT_EQ(got.size(), expected.size());
  for (const auto& [name, bytes] : expected) EXPECT_TRUE(got.contains(name) && got.at(name) == bytes) << name;

  // Every track done once per job: one claim each, but the dead worker's four (two claims, finished by others).
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state = 'done'"), static_cast<std::int64_t>(2 * tracks));
  EXPECT_EQ(count("SELECT COUNT(*) FROM work"), static_cast<std::int64_t>(2 * tracks));
  // (A machine so loaded that a live worker's renewal came late could add a takeover: at least the four.)
  EXPECT_GE(count("SELECT COUNT(*) FROM work WHERE attempts >= 2"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE attempts NOT BETWEEN 1 AND 3"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE worker = 'killed'"), 0);
  // The rows a catalog check would count, and no orphans.
  EXPECT_EQ(count("SELECT COUNT(*) FROM features WHERE status = 'done'"), static_cast<std::int64_t>(tracks));
  EXPECT_EQ(count("SELECT COUNT(*) FROM predictions"), static_cast<std::int64_t>(tracks));
  EXPECT_EQ(count("SELECT COUNT(*) FROM vectors"), static_cast<std::int64_t>(2 * tracks));
  for (const char* table : {"features", "predictions", "vectors", "work"})
    EXPECT_EQ(count(std::string("SELECT COUNT(*) FROM ") + table +
                    " x WHERE NOT EXISTS (SELECT 1 FROM tracks t WHERE t.id = x.track)"),
              0)
        << table;

  // status: nothing pending or claimed; the four workers, the dead one still "working" as it last said.
  const ProgramRun status = tunelens("status --json --catalog " + quoted(fs::path(location())), scratch);
  ASSERT_EQ(status.status, 0) << status.err;
  const nlohmann::json json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json.at("tracks"), tracks);
  ASSERT_EQ(json.at("jobs").size(), 2u);
  for (const auto& job : json.at("jobs")) {
    EXPECT_EQ(job.at("done"), tracks) << job;
    EXPECT_EQ(job.at("pending"), 0) << job;
    EXPECT_EQ(job.at("claimed"), 0) << job;
  }
  std::map<std::string, std::string> states;
  for (const auto& worker : json.at("workers")) states[worker.at("name")] = worker.at("state");
  EXPECT_EQ(states, (std::map<std::string, std::string>{
                        {"a", "stopped"}, {"b", "stopped"}, {"c", "stopped"}, {"killed", "working"}}));
  const ProgramRun table = tunelens("status --catalog " + quoted(fs::path(location())), scratch);
  EXPECT_NE(table.out.find("killed"), std::string::npos) << table.out;
}

TEST_P(Worker, ABadTrackFailsOnceAndTheRestGoOn) {
  import_tracks();
  // Damage one track's audio after the import: extraction fails for it, indexing then fails too.
  const Catalog catalog = Catalog::open(location());
  const Track victim = catalog.tracks().front();
  testing::write_bytes(scratch / "victim.wav", "RIFF not really a wave file at all");
  // (The tone files are shared by the tests: the victim is a copy of the catalog pointing elsewhere.)
  ASSERT_NO_FATAL_FAILURE(sql("UPDATE tracks SET path = " + std::string("'") +
                              catalog.relative_path(scratch / "victim.wav") + "' WHERE id = " +
                              std::to_string(victim.id)));
  const std::vector<int> statuses = run_workers({{"--batch 5", ""}});
  EXPECT_EQ(statuses[0], 1) << worker_output(0);
  EXPECT_NE(worker_output(0).find("victim.wav"), std::string::npos) << worker_output(0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state = 'failed'"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state = 'done'"),
            static_cast<std::int64_t>(2 * (catalog.track_count() - 1)));
  // Failed tracks stay failed unless asked: a second worker has nothing to do; --retry-failed tries again.
  EXPECT_EQ(run_workers({{"", ""}})[0], 0) << worker_output(0);
  EXPECT_EQ(run_workers({{"--retry-failed", ""}})[0], 1) << worker_output(0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state = 'failed' AND attempts = 1"), 2);
}

TEST_P(Worker, AFollowingWorkerTakesNewTracksAndStopsOnSigterm) {
  import_tracks();
  const std::size_t tracks = Catalog::open(location()).track_count();
  // One more track, imported once the worker waits (a copy of a tone under a new name, in a CSV of its own).
  fs::create_directories(scratch / "more");
  fs::copy_file(tones() / "data/mid/mid0.wav", scratch / "more/extra.wav");
  testing::write_bytes(scratch / "more/extra.csv", "path,label\nextra.wav,mid\n");
  const std::string status =
      std::string(TUNELENS_BINARY) + " status --json --catalog " + quoted(fs::path(location()));
  const std::string script =
      "(" TUNELENS_BINARY " worker --follow --poll 0.2 --name f --catalog " + quoted(fs::path(location())) +
      " --model " + quoted(tones() / "tones.tlm") + " >" + quoted(scratch / "f.out") + " 2>&1) & pid=$!\n" +
      "until " + status + " | grep -q '\"state\": \"waiting\"'; do sleep 0.1; done\n" +
      TUNELENS_BINARY " dataset import csv " + quoted(scratch / "more/extra.csv") + " -q --catalog " +
      quoted(fs::path(location())) + "\n" +
      "until [ \"$(" + status + " | grep -c '\"done\": " + std::to_string(tracks + 1) +
      ",')\" = 2 ]; do sleep 0.1; done\n" +
      "kill -TERM $pid; wait $pid; echo $? >" + quoted(scratch / "f.rc") + "\n";
  ASSERT_EQ(bash(script), 0) << testing::read_bytes(scratch / "f.out");
  EXPECT_EQ(testing::read_bytes(scratch / "f.rc"), "0\n") << testing::read_bytes(scratch / "f.out");
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state = 'done'"), static_cast<std::int64_t>(2 * (tracks + 1)));
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state <> 'done'"), 0);
  EXPECT_NE(testing::read_bytes(scratch / "f.out").find("stopped"), std::string::npos);
}

TEST_P(Worker, TheIngestJobTakesSettledInboxFilesOnceAndTheOthersIndexThem) {
  import_tracks();
  const fs::path inbox = scratch / "inbox";
  fs::create_directories(inbox / "day2");
  testing::write_noisy_tone(inbox / "a.wav", 300.0, 71);
  testing::write_noisy_tone(inbox / "day2/b.wav", 3000.0, 72);
  testing::write_noisy_tone(inbox / "day2/c.wav", 800.0, 73);
  testing::write_bytes(inbox / "broken.wav", "RIFF not really a wave file at all");
  testing::write_noisy_tone(inbox / ".hidden.wav", 500.0, 74);
  const auto minute_ago = fs::file_time_type::clock::now() - std::chrono::minutes(1);
  for (const char* name : {"a.wav", "day2/b.wav", "day2/c.wav", "broken.wav", ".hidden.wav"})
    fs::last_write_time(inbox / name, minute_ago);
  testing::write_noisy_tone(inbox / "fresh.wav", 600.0, 75);  // still being copied, as far as anyone knows
  const std::string arguments = "--jobs ingest,extract,index --inbox " + quoted(inbox) + " --inbox-settle 30";
  const std::vector<int> statuses = run_workers({{arguments + " --name x", ""}, {arguments + " --name y", ""}});
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_TRUE(statuses[i] == 0 || statuses[i] == 1) << worker_output(i);
    EXPECT_EQ(statuses[i] == 1, worker_output(i).find("broken.wav") != std::string::npos) << worker_output(i);
  }
  EXPECT_TRUE(statuses[0] == 1 || statuses[1] == 1);
  EXPECT_NE(worker_output(0).find(": extract:"), std::string::npos) << worker_output(0);  // its summary
  EXPECT_NE(worker_output(0).find(": index:"), std::string::npos) << worker_output(0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tracks WHERE source = 'inbox'"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tracks WHERE path LIKE '%fresh%' OR path LIKE '%hidden%'"), 0);
  const std::int64_t tracks = count("SELECT COUNT(*) FROM tracks");
  EXPECT_EQ(count("SELECT COUNT(*) FROM work WHERE state = 'done'"), 2 * tracks);
  EXPECT_EQ(count("SELECT COUNT(*) FROM vectors"), 2 * tracks);
}

TEST_P(Worker, BadJobsAndCatalogsAreOneLine) {
  import_tracks();
  std::vector<int> statuses = run_workers({{"--jobs extract,bogus", ""}});
  EXPECT_EQ(statuses[0], 2) << worker_output(0);
  EXPECT_NE(worker_output(0).find("'bogus' is no job"), std::string::npos) << worker_output(0);
  statuses = run_workers({{"--jobs ingest", ""}, {"--jobs index --inbox " + quoted(scratch.path()), ""}});
  EXPECT_EQ(statuses, (std::vector<int>{2, 2}));
  EXPECT_NE(worker_output(0).find("needs --inbox"), std::string::npos) << worker_output(0);
  EXPECT_NE(worker_output(1).find("add it to --jobs"), std::string::npos) << worker_output(1);
  const ProgramRun missing = tunelens("status --catalog " + quoted(scratch / "nothing.db"), scratch);
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("nothing.db"), std::string::npos) << missing.err;
}

INSTANTIATE_TEST_SUITE_P(OnBothDatabases, Worker,
                         ::testing::Values(CatalogBackend::Sqlite, CatalogBackend::Postgres),
                         testing::backend_name);

}  // namespace
}  // namespace tunelens
