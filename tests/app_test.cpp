// The application layer called directly, as every front end calls it: classify_files with plain inputs and a
// result struct (the command line only prints it).
#include "app/classify.h"

#include <gtest/gtest.h>

#include <mutex>
#include <numeric>
#include <set>

#include "app/errors.h"
#include "test_support.h"

namespace tunelens {
namespace {

using testing::ScratchDir;

// A folder of two tones and a file that is not audio, plus a missing file: every input answered, in order, the
// bad ones with their reason and the others classified; on_file hears of each once.
TEST(AppClassify, EveryInputAnsweredInOrderWithTheBadOnesNamed) {
  ScratchDir scratch;
  std::filesystem::create_directories(scratch / "songs");
  testing::write_noisy_tone(scratch / "songs/a.wav", 220.0, 1);
  testing::write_noisy_tone(scratch / "songs/b.wav", 440.0, 2);
  testing::write_bytes(scratch / "songs/notes.wav", "not audio at all");
  app::ClassifyRequest request;
  request.model = "msd-fcn";
  request.inputs = {(scratch / "songs").string(), (scratch / "missing.wav").string()};
  request.tags = "genre";
  request.threads = 2;
  std::multiset<std::string> heard;
  std::mutex mutex;
  const app::ClassifyResult result = app::classify_files(request, [&](const app::FileClassification& file) {
    const std::lock_guard lock(mutex);
    heard.insert(file.file);
  });
  ASSERT_EQ(result.files.size(), 4u);
  EXPECT_EQ(heard.size(), 4u);
  EXPECT_EQ(result.failed(), 2u);
  EXPECT_EQ(std::filesystem::path(result.files[0].file).filename(), "a.wav");
  EXPECT_EQ(std::filesystem::path(result.files[2].file).filename(), "notes.wav");
  EXPECT_NE(result.files[2].error.find("notes.wav: "), std::string::npos) << result.files[2].error;
  EXPECT_NE(result.files[3].error.find("missing.wav: not found"), std::string::npos) << result.files[3].error;
  // Only genre tags are shown, ranked; each window has its best genre.
  ASSERT_FALSE(result.shown.empty());
  EXPECT_LT(result.shown.size(), result.model.classes.size());
  for (const std::size_t i : {std::size_t{0}, std::size_t{1}}) {
    const app::FileClassification& file = result.files[i];
    EXPECT_TRUE(file.error.empty()) << file.error;
    EXPECT_EQ(file.decoder, "ffmpeg");
    EXPECT_GT(file.seconds, 1.0);
    ASSERT_EQ(file.ranking.size(), result.shown.size());
    EXPECT_GE(file.probabilities[file.ranking[0]], file.probabilities[file.ranking[1]]);
    EXPECT_EQ(file.timeline.size(), file.windows);
    for (const app::WindowLabel& window : file.timeline) EXPECT_TRUE(std::count(result.shown.begin(), result.shown.end(), window.label));
  }
}

// A request the model cannot serve is a BadRequest naming the parameter (the command line shows it as --tags,
// the service as a 400), before any file is read.
TEST(AppClassify, ATagKindTheModelLacksIsABadRequest) {
  ScratchDir scratch;
  testing::write_noisy_tone(scratch / "a.wav", 220.0, 1);
  app::ClassifyRequest request;
  request.model = "msd-fcn";
  request.inputs = {(scratch / "a.wav").string()};
  request.tags = "weather";
  try {
    app::classify_files(request);
    FAIL() << "no error";
  } catch (const app::BadRequest& error) {
    EXPECT_EQ(error.parameter(), "tags");
    EXPECT_NE(std::string(error.what()).find("has no weather tags"), std::string::npos) << error.what();
  }
  request.inputs = {(scratch / "empty").string()};
  std::filesystem::create_directories(scratch / "empty");
  EXPECT_THROW(app::classify_files(request), app::BadRequest);
}

}  // namespace
}  // namespace tunelens
