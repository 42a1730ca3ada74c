// The index use case called directly (app/index_catalog.h), on the tone catalog and its small model
// (testing::make_tone_catalog): every track's vectors stored once, a track that cannot be read named and the
// others indexed, and the saved HNSW files built, then kept.
#include <gtest/gtest.h>

#include <filesystem>

#include "app/index_catalog.h"
#include "app/search.h"
#include "model/model.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

using testing::ScratchDir;

TEST(AppIndex, EveryTrackIsIndexedOnceAndSavedIndexesAreKept) {
  ScratchDir scratch;
  for (const testing::ProgramRun& step : testing::make_tone_catalog(scratch))
    ASSERT_EQ(step.status, 0) << step.out << step.err;
  const std::filesystem::path catalog_file = scratch / "tones.catalog";
  {
    Catalog catalog = Catalog::open(catalog_file);
    TrackInfo gone;
    gone.path = "data/gone.wav";
    gone.fingerprint = "gone";
    gone.source = "test";
    catalog.add_track(gone);
  }
  app::IndexRequest request;
  request.model = (scratch / "tones.tlm").string();
  request.catalog = catalog_file.string();
  request.search = SearchMode::Exact;
  request.threads = 1;
  std::vector<app::ItemDone> heard;
  const app::IndexSummary first =
      app::index_catalog(request, [&](const app::ItemDone& done) { heard.push_back(done); });
  EXPECT_EQ(first.added, 15u);
  EXPECT_EQ(first.already, 0u);
  EXPECT_EQ(first.failed, 1u);
  EXPECT_EQ(first.classes, 3u);
  EXPECT_GT(first.embedding_size, 0u);
  EXPECT_EQ(first.model_key, app::vector_key_of(request.model));
  EXPECT_TRUE(first.saved.empty());  // exact: no HNSW file
  ASSERT_EQ(heard.size(), 16u);
  std::size_t errors = 0;
  for (const app::ItemDone& done : heard) {
    EXPECT_EQ(done.total, 16u);
    if (done.error.empty()) continue;
    ++errors;
    EXPECT_EQ(done.item, "data/gone.wav");
    EXPECT_NE(done.error.find("(data/gone.wav): "), std::string::npos) << done.error;
  }
  EXPECT_EQ(errors, 1u);
  {
    const Catalog catalog = Catalog::open(catalog_file);
    EXPECT_EQ(catalog.vector_tracks(first.model_key, "embedding").size(), 15u);
    EXPECT_EQ(catalog.vector_tracks(first.model_key, "probs").size(), 15u);
  }

  // Again with HNSW: nothing computed but the missing track, both recommenders' files built.
  request.search = SearchMode::Hnsw;
  const app::IndexSummary second = app::index_catalog(request);
  EXPECT_EQ(second.added, 0u);
  EXPECT_EQ(second.already, 15u);
  EXPECT_EQ(second.failed, 1u);
  ASSERT_EQ(second.saved.size(), 2u);
  for (const app::SavedIndexFile& saved : second.saved) {
    EXPECT_TRUE(saved.built);
    EXPECT_EQ(saved.vectors, 15u);
    EXPECT_TRUE(std::filesystem::exists(saved.file)) << saved.file;
  }
  // And with exact search asked: the saved files are still kept current (loaded, nothing to add).
  request.search = SearchMode::Exact;
  const app::IndexSummary third = app::index_catalog(request);
  ASSERT_EQ(third.saved.size(), 2u);
  for (const app::SavedIndexFile& saved : third.saved) {
    EXPECT_FALSE(saved.built);
    EXPECT_EQ(saved.added, 0u);
  }

  request.catalog = (scratch / "none.catalog").string();
  EXPECT_THROW(app::index_catalog(request), CatalogError);
  request.catalog = catalog_file.string();
  request.model = (scratch / "none.tlm").string();
  EXPECT_THROW(app::index_catalog(request), ModelError);
}

}  // namespace
}  // namespace tunelens
