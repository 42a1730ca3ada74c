// The analyze use case called directly (app/analyze.h), on the tone catalog and its small model
// (testing::make_tone_catalog): a catalog's tracks and a folder of album folders studied, a bad song named
// once and the others analysed, and what is refused before the collection is read.
#include <gtest/gtest.h>

#include <filesystem>

#include "app/analyze.h"
#include "app/errors.h"
#include "model/model.h"
#include "test_support.h"

namespace tunelens {
namespace {

using testing::ScratchDir;

// The parameter a BadRequest names, or "none" when `call` throws none.
template <typename Call>
std::string bad_parameter(Call call) {
  try {
    call();
  } catch (const app::BadRequest& error) {
    return error.parameter();
  }
  return "none";
}

TEST(AppAnalyze, CatalogsAndFoldersAreStudiedAndBadSongsNamed) {
  ScratchDir scratch;
  for (const testing::ProgramRun& step : testing::make_tone_catalog(scratch))
    ASSERT_EQ(step.status, 0) << step.out << step.err;
  app::AnalyzeRequest request;
  request.model = (scratch / "tones.tlm").string();
  request.catalog = (scratch / "tones.catalog").string();
  request.iterations = 250;
  request.threads = 2;
  std::size_t reads = 0, songs = 0;
  const app::AnalyzeResult by_catalog = app::analyze(
      request, [&](const Collection& collection) { reads += collection.albums.size(); },
      [&](const app::ItemDone& done) {
        EXPECT_EQ(done.total, 15u);
        EXPECT_TRUE(done.error.empty()) << done.error;
        ++songs;
      });
  EXPECT_EQ(reads, 6u);  // two artists' albums of three genres
  EXPECT_EQ(songs, 15u);
  EXPECT_EQ(by_catalog.left_out(), 0u);
  EXPECT_EQ(by_catalog.analysis.classes, (std::vector<std::string>{"high", "low", "mid"}));
  EXPECT_EQ(by_catalog.analysis.albums.size(), 6u);
  ASSERT_EQ(by_catalog.analysis.songs.size(), 15u);
  for (const SongAnalysis& song : by_catalog.analysis.songs) EXPECT_EQ(song.distribution.size(), 3u);

  // The audio folder as a collection: one album per genre folder (tracks.csv beside them is no song), and a
  // file that is no audio named once while the others are analysed.
  testing::write_bytes(scratch / "data/mid/broken.wav", "RIFF\x24\x10\0\0WAVEnot really audio at all");
  request.catalog.clear();
  request.collection = (scratch / "data").string();
  request.map_by = "probs";
  std::vector<std::string> errors;
  const app::AnalyzeResult by_folder = app::analyze(request, {}, [&](const app::ItemDone& done) {
    if (!done.error.empty()) errors.push_back(done.error);
  });
  EXPECT_EQ(by_folder.analysis.albums.size(), 3u);
  EXPECT_EQ(by_folder.analysis.songs.size(), 15u);
  EXPECT_EQ(by_folder.analysis.map_space, MapSpace::Probabilities);
  EXPECT_EQ(by_folder.left_out(), 1u);
  EXPECT_EQ(errors, by_folder.failures);
  std::string named;  // a problem when reading the folder, or a failure when decoding: once either way
  for (const CollectionProblem& problem : by_folder.problems)
    named += problem.file + ": " + problem.reason + "\n";
  for (const std::string& failure : by_folder.failures) named += failure + "\n";
  EXPECT_EQ(testing::occurrences(named, "broken.wav"), 1u) << named;

  // A tag kind the model lacks, and a model that is not there, are said before the collection is read (there
  // is none here).
  request.collection = (scratch / "no-such-folder").string();
  request.tags = "mood";
  EXPECT_EQ(bad_parameter([&] { app::analyze(request); }), "tags");
  request.tags = "all";
  request.model = (scratch / "none.tlm").string();
  EXPECT_THROW(app::analyze(request), ModelError);
}

TEST(AppAnalyzeRequest, EachBadParameterIsNamed) {
  app::AnalyzeRequest good;
  good.model = "m.tlm";
  good.collection = "songs";
  EXPECT_NO_THROW(app::check_analyze_request(good));
  const auto parameter = [&](auto change) {
    app::AnalyzeRequest request = good;
    change(request);
    return bad_parameter([&] { app::check_analyze_request(request); });
  };
  EXPECT_EQ(parameter([](app::AnalyzeRequest& r) { r.catalog = "c.db"; }), "collection");    // both
  EXPECT_EQ(parameter([](app::AnalyzeRequest& r) { r.collection.clear(); }), "collection");  // neither
  EXPECT_EQ(
      parameter([](app::AnalyzeRequest& r) { r.collection.clear(), r.catalog = "c.db", r.order = "o"; }),
      "order");
  EXPECT_EQ(parameter([](app::AnalyzeRequest& r) { r.perplexity = 0; }), "perplexity");
  EXPECT_EQ(parameter([](app::AnalyzeRequest& r) { r.iterations = 0; }), "iterations");
  EXPECT_EQ(parameter([](app::AnalyzeRequest& r) { r.top_k = 0; }), "top_k");
  EXPECT_EQ(parameter([](app::AnalyzeRequest& r) { r.map_by = "colour"; }), "map_by");
}

}  // namespace
}  // namespace tunelens
