// The search use case called directly (app/search.h): queries resolved as the command line and the service
// take them, the shared indexes kept current while other threads search, and the errors each front end turns
// into its own form. The catalog's vectors are written by hand (a model is only loaded for an outside file).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "app/errors.h"
#include "app/search.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

constexpr const char* kKey = "hand-made";

// Tracks 1..count on a line: track i's embedding points at angle i degrees, so i's nearest are i±1, i±2, ...
void add_tracks(Catalog& catalog, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    TrackInfo info;
    info.path = "songs/" + std::to_string(i) + ".wav";
    info.fingerprint = "fp" + std::to_string(i);
    info.title = i % 10 == 0 ? "Round " + std::to_string(i) : "Song " + std::to_string(i);
    info.source = "test";
    const std::int64_t id = *catalog.add_track(info);
    const float angle = static_cast<float>(i) * 3.14159265f / 180.0f;
    catalog.set_vector(id, kKey, "embedding", std::vector<float>{std::cos(angle), std::sin(angle)});
  }
}

class AppSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_unique<Catalog>(Catalog::create(scratch_ / "c.db", scratch_.path()));
    add_tracks(*catalog_, 1, 60);
  }
  ScratchDir scratch_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(AppSearch, QueriesResolveByIdPathTitleOrNotAtAll) {
  EXPECT_EQ(app::resolve_query(*catalog_, "7").track->id, 7);
  EXPECT_EQ(app::resolve_query(*catalog_, "songs/12.wav").track->id, 12);
  EXPECT_EQ(app::resolve_query(*catalog_, "round 30").track->id, 30);  // title, any case
  EXPECT_EQ(app::resolve_query(*catalog_, "7").described(), "track 7 (Song 7)");
  try {
    app::resolve_query(*catalog_, "round");
    FAIL() << "no error";
  } catch (const app::AmbiguousQuery& error) {
    EXPECT_EQ(error.matches().size(), 6u);  // Round 10, 20, ..., 60
    EXPECT_EQ(error.parameter(), "query");
  }
  EXPECT_THROW(app::resolve_query(*catalog_, "nothing like it"), app::NotFound);
  EXPECT_THROW(app::resolve_query(*catalog_, "99999999999999999999"), app::NotFound);  // no id, no stoll
  EXPECT_THROW(app::resolve_query(*catalog_, ""), app::NotFound);
}

TEST_F(AppSearch, NeighboursAreRankedAndLeaveTheQueryOut) {
  app::CatalogIndexes indexes(*catalog_, kKey, {});
  app::LazyModel model("no-model-needed.tlm");
  app::Recommender recommender(*catalog_, indexes, model);
  app::SimilarRequest request;
  request.k = 4;
  const app::SimilarResult result = recommender.similar("30", request);
  EXPECT_EQ(result.track, 30);
  EXPECT_EQ(result.index_kind, "exact");
  EXPECT_EQ(result.indexed, 60u);
  ASSERT_EQ(result.neighbours.size(), 4u);
  std::set<std::int64_t> ids;
  for (const app::Neighbour& n : result.neighbours) ids.insert(n.id);
  EXPECT_EQ(ids, (std::set<std::int64_t>{28, 29, 31, 32}));
  EXPECT_LE(result.neighbours[0].distance, result.neighbours[3].distance);
  EXPECT_EQ(result.neighbours[0].path.substr(0, 6), "songs/");

  // Bad requests name their parameter; vectors the catalog lacks are NotIndexed, not an empty answer.
  request.k = 0;
  EXPECT_THROW(recommender.similar("30", request), app::BadRequest);
  request = {};
  request.by = "loudness";
  try {
    recommender.similar("30", request);
    FAIL() << "no error";
  } catch (const app::BadRequest& error) {
    EXPECT_EQ(error.parameter(), "by");
  }
  request = {};
  request.by = "probs";
  request.metric = Metric::SqEuclidean;
  EXPECT_THROW(recommender.similar("songs/5.wav", request), app::NotIndexed);
}

// The service shares one set of indexes between its request threads: searches go on while tracks are added,
// and a track added is found by the next search.
TEST_F(AppSearch, TracksAddedWhileOthersSearchAreFoundAtOnce) {
  Catalog reader = Catalog::open(scratch_ / "c.db");  // the indexes' own connection
  app::CatalogIndexes indexes(reader, kKey, {});
  indexes.open("embedding", Metric::Cosine);
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0};
  std::vector<std::thread> searchers;
  for (int t = 0; t < 3; ++t)
    searchers.emplace_back([&] {
      const std::vector<float> query{1.0f, 0.0f};
      while (!stop) {
        const auto found = indexes.search("embedding", Metric::Cosine, query, 3);
        EXPECT_EQ(found.results.ids_of(0)[0], 1);
        ++searches;
      }
    });
  for (int i = 61; i <= 90; ++i) {
    add_tracks(*catalog_, i, 1);
    const float angle = static_cast<float>(i) * 3.14159265f / 180.0f;
    indexes.add(i, {{}, {std::cos(angle), std::sin(angle)}});
    const std::vector<float> near{std::cos(angle), std::sin(angle)};
    EXPECT_EQ(indexes.search("embedding", Metric::Cosine, near, 1).results.ids_of(0)[0], i);
  }
  stop = true;
  for (auto& thread : searchers) thread.join();
  EXPECT_GT(searches.load(), 0);
  const std::vector<float> wrong_length{1.0f, 0.0f, 0.0f};
  EXPECT_THROW(indexes.search("embedding", Metric::Cosine, wrong_length, 1), app::BadRequest);
}

TEST_F(AppSearch, QualityNeedsASplitAndAPart) {
  app::QualityRequest request;
  request.part = "later";
  EXPECT_THROW(app::compare_recommenders(*catalog_, kKey, request), app::BadRequest);
  request.part = "test";
  request.split = "none-such";
  try {
    app::compare_recommenders(*catalog_, kKey, request);
    FAIL() << "no error";
  } catch (const app::BadRequest& error) {
    EXPECT_EQ(error.parameter(), "split");
  }
}

}  // namespace
}  // namespace tunelens
