// The evaluate use case called directly (app/evaluate.h), on the tone catalog and its small model
// (testing::make_tone_catalog): the reports, where each window comes from, the pooling of folds, a tag model
// read zero-shot, and the errors each front end turns into its own form.
#include <gtest/gtest.h>

#include <filesystem>

#include "app/errors.h"
#include "app/evaluate.h"
#include "app/json.h"
#include "model/model.h"
#include "test_support.h"
#include "tunelens_version.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

class AppEvaluate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    steps_ = testing::make_tone_catalog(*scratch_);
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }
  void SetUp() override {
    for (const testing::ProgramRun& step : steps_) ASSERT_EQ(step.status, 0) << step.out << step.err;
  }
  static app::EvaluateRequest request() {
    app::EvaluateRequest request;
    request.catalog = (*scratch_ / "tones.catalog").string();
    request.models = {(*scratch_ / "tones.tlm").string()};
    request.threads = 1;
    return request;
  }

  static ScratchDir* scratch_;
  static std::vector<testing::ProgramRun> steps_;
};
ScratchDir* AppEvaluate::scratch_ = nullptr;
std::vector<testing::ProgramRun> AppEvaluate::steps_;

// The test part (one track per genre) scored by track and by window, every window placed in its track.
TEST_F(AppEvaluate, TracksAndWindowsOfThePartAreScoredAndPlaced) {
  const app::EvaluateResult result = app::evaluate_model(request());
  EXPECT_EQ(result.classes, (std::vector<std::string>{"high", "low", "mid"}));
  EXPECT_FALSE(result.zero_shot);
  EXPECT_TRUE(result.failures.empty());
  EXPECT_EQ(result.skipped(), 0u);
  EXPECT_EQ(result.recomputed, 0u);  // the catalog has the model's features
  ASSERT_EQ(result.tracks.size(), 3u);
  EXPECT_EQ(result.report.examples, 3u);
  for (const Track& track : result.tracks) EXPECT_TRUE(track.label.has_value());
  ASSERT_EQ(result.origins.size(), result.windows.examples);
  EXPECT_GT(result.windows.examples, result.report.examples);  // three seconds: several windows a track
  for (std::size_t w = 0; w < result.origins.size(); ++w) {
    ASSERT_LT(result.origins[w].track, result.tracks.size());
    EXPECT_GE(result.origins[w].start_seconds, 0.0);
    if (w > 0 && result.origins[w].track == result.origins[w - 1].track) {
      EXPECT_GT(result.origins[w].start_seconds, result.origins[w - 1].start_seconds);
    }
  }
  EXPECT_GE(result.report.accuracy, 2.0 / 3.0);  // three clearly different pitches

  const nlohmann::json json = app::to_json(result);
  EXPECT_EQ(json.at("part"), "test");
  // The model file records the version that trained it: the project's, as --version says.
  const nlohmann::json meta = nlohmann::json::parse(read_model_info(request().models[0]).metadata_json);
  EXPECT_EQ(meta.at("provenance").at("tunelens_version"), kVersion);
  EXPECT_EQ(json.at("windows").at("examples"), result.windows.examples);
  EXPECT_EQ(json.at("confident_mistake_tracks").size(), result.report.confident_mistakes.size());
}

// A cross-validation pools the parts of every split, each with its own model file, the first split's tracks
// first; folds must share their classes.
TEST_F(AppEvaluate, FoldsArePooledEachWithItsModel) {
  const fs::path copy = *scratch_ / "copy.tlm";
  fs::copy_file(*scratch_ / "tones.tlm", copy);
  {
    Catalog catalog = Catalog::open(*scratch_ / "tones.catalog");
    std::vector<SplitAssignment> all;
    for (const Track& track : catalog.tracks()) all.push_back({track.id, SplitPart::Test});
    catalog.set_split("everything", "test", 0, "{}", all);
  }
  app::EvaluateRequest pooled = request();
  pooled.splits = {"default", "everything"};
  pooled.models.push_back(copy.string());
  const app::EvaluateResult result = app::evaluate_model(pooled);
  EXPECT_EQ(result.split, "default,everything");
  EXPECT_EQ(result.model, pooled.models[0] + "," + copy.string());
  ASSERT_EQ(result.report.examples, 3u + 15u);
  const app::EvaluateResult alone = app::evaluate_model(request());
  for (std::size_t t = 0; t < alone.tracks.size(); ++t) EXPECT_EQ(result.tracks[t].id, alone.tracks[t].id);

  pooled.models[1] = "msd-fcn";
  EXPECT_THROW(app::evaluate_model(pooled), ModelError);
}

// A tag model (msd-fcn) scores the catalog's labels from the tags of the same name: the tone genres have
// none, so every label is unmapped, and the features are computed from the audio with the network's own front
// end.
TEST_F(AppEvaluate, ATagModelIsReadZeroShot) {
  app::EvaluateRequest zero_shot = request();
  zero_shot.models = {"msd-fcn"};
  const app::EvaluateResult result = app::evaluate_model(zero_shot);
  EXPECT_TRUE(result.zero_shot);
  EXPECT_EQ(result.classes, (std::vector<std::string>{"high", "low", "mid"}));
  ASSERT_EQ(result.label_tags.size(), 3u);
  for (const auto& tag : result.label_tags) EXPECT_FALSE(tag.has_value());
  EXPECT_EQ(result.recomputed, 3u);
  EXPECT_EQ(result.report.examples, 3u);
}

// What cannot be evaluated as asked is refused before any track is read, each error of its kind.
TEST(AppEvaluateRequest, BadRequestsNameTheirParameter) {
  ScratchDir scratch;
  {
    Catalog catalog = Catalog::create(scratch / "c.db", scratch.path());
    catalog.set_split("default", "test", 0, "{}", {});
  }
  app::EvaluateRequest request;
  request.catalog = (scratch / "c.db").string();
  request.models = {(scratch / "none.tlm").string()};
  const auto parameter_of = [](const app::EvaluateRequest& bad) -> std::string {
    try {
      app::evaluate_model(bad);
    } catch (const app::BadRequest& error) {
      return error.parameter();
    }
    return "no BadRequest";
  };
  app::EvaluateRequest bad = request;
  bad.part = "everything";
  EXPECT_EQ(parameter_of(bad), "part");
  bad = request;
  bad.top_k = 0;
  EXPECT_EQ(parameter_of(bad), "top_k");
  bad = request;
  bad.models = {"a.tlm", "b.tlm"};  // two models for one split
  EXPECT_EQ(parameter_of(bad), "model");

  bad = request;
  bad.catalog = (scratch / "none.db").string();
  EXPECT_THROW(app::evaluate_model(bad), CatalogError);
  bad = request;
  bad.splits = {"nosuch"};
  EXPECT_THROW(app::evaluate_model(bad), CatalogError);
  try {
    app::evaluate_model(request);
    FAIL() << "no error";
  } catch (const ModelError& error) {
    EXPECT_NE(std::string(error.what()).find("none.tlm: no such model file or shipped network"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace tunelens
