// The application layer called directly, as every front end calls it: classify_files with plain inputs and a
// result struct (the command line only prints it).
#include "app/classify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>
#include <set>

#include "app/errors.h"
#include "app/track_vectors.h"
#include "data/extract.h"
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

// Pointwise features (decibels relative to 1 without a floor, or power) stream: each batch of windows goes to
// the network as soon as its frames exist. Here each file is classified so and, as the whole-spectrogram path
// does, from its features computed whole and then Model::predict; the answers must agree to the bit. Models:
// a small one on whole spectrograms and one on chunks of a window each (trained here on the tone tracks), and
// a shipped network (chunked, as real-genres.tlm). Files: 100 s of changing tones (for the small models two
// batches of 64 windows and part of a third), 0.3 s (shorter than a window: one padded window), and real
// music through libmpg123.
TEST(AppClassify, StreamedFilesGetTheWholeSpectrogramsAnswerToTheBit) {
  ScratchDir scratch;
  testing::write_tone_tracks(scratch);
  std::vector<testing::ProgramRun> steps = testing::train_tone_model(
      scratch, "whole", "--n-mels 16 --db ref-one --top-db 0 --dtype float32", "--epochs 1");
  for (testing::ProgramRun& step : testing::train_tone_model(
           scratch, "chunks", "--n-mels 16 --chunk-samples 15872 --db none --dtype float32", "--epochs 1"))
    steps.push_back(std::move(step));  // 15872 samples: 32 frames at hop 512, a window
  for (const testing::ProgramRun& step : steps) ASSERT_EQ(step.status, 0) << step.err;

  constexpr int kRate = 22050;
  std::mt19937 random(5);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  std::vector<float> samples(100 * kRate);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const double frequency = std::array{150.0, 1200.0, 5000.0}[(i / (kRate * 3 / 2)) % 3];
    samples[i] =
        0.4f * static_cast<float>(std::sin(2.0 * M_PI * frequency * static_cast<double>(i) / kRate)) +
        noise(random);
  }
  write_wav(scratch / "long.wav", samples, kRate);
  write_wav(scratch / "short.wav", std::span(samples).first(kRate * 3 / 10), kRate);
  const std::vector<std::string> files = {(scratch / "long.wav").string(), (scratch / "short.wav").string(),
                                          testing::data_path("librosa/music_44k_stereo.mp3").string()};

  for (const std::string& model_file : {(scratch / "whole.tlm").string(), (scratch / "chunks.tlm").string(),
                                        std::string("jamendo-musicnn")}) {
    const Model model = Model::load(model_file, {.threads = 2});
    const FeatureSettings& settings = model.features().settings;
    ASSERT_TRUE(settings.pointwise()) << model_file;
    const MelSpectrogram mel(settings.mel);
    const std::vector<std::size_t> shown = app::shown_classes(model.info(), "all");
    for (const std::string& file : files) {
      const std::string what = model_file + ", " + std::filesystem::path(file).filename().string();
      const app::FileClassification streamed = app::classify_file(model, mel, shown, file, false);
      ASSERT_TRUE(streamed.error.empty()) << what << ": " << streamed.error;

      DecodeResult decoded;
      std::string warning;
      const Spectrogram features = compute_track_features(file, settings, mel, &decoded, &warning);
      const WindowPredictions whole = model.predict(features);
      if (file == files[0] && model_file != "jamendo-musicnn") {  // (whose 3-s windows are 33)
        EXPECT_GT(whole.windows, 2 * Model::kBatchSize) << what;
      }
      ASSERT_EQ(streamed.windows, whole.windows) << what;
      EXPECT_TRUE(streamed.probabilities == whole.mean_probabilities()) << what;
      std::vector<std::size_t> ranking = shown;
      std::stable_sort(ranking.begin(), ranking.end(), [&](std::size_t a, std::size_t b) {
        return streamed.probabilities[a] > streamed.probabilities[b];
      });
      EXPECT_EQ(streamed.ranking, ranking) << what;
      const std::vector<double> starts = window_start_seconds(model.features(), whole.windows);
      ASSERT_EQ(streamed.timeline.size(), whole.windows) << what;
      for (std::size_t w = 0; w < whole.windows; ++w) {
        const float* row = whole.probabilities.data() + w * whole.classes;
        const std::size_t best = *std::max_element(
            shown.begin(), shown.end(), [&](std::size_t a, std::size_t b) { return row[a] < row[b]; });
        EXPECT_EQ(streamed.timeline[w].start, starts[w]) << what << ", window " << w;
        EXPECT_EQ(streamed.timeline[w].label, best) << what << ", window " << w;
        EXPECT_EQ(streamed.timeline[w].probability, row[best]) << what << ", window " << w;
      }
      EXPECT_EQ(streamed.seconds, decoded.seconds()) << what;
      EXPECT_EQ(streamed.decoder, decoded.decoder) << what;
      EXPECT_EQ(streamed.warnings.size(), (warning.empty() ? 0u : 1u) + (decoded.seconds() < 1.0 ? 1u : 0u))
          << what;
      if (!warning.empty()) {
        EXPECT_EQ(streamed.warnings.at(0), warning) << what;
      }

      // Pieces of any size, not only a decoder block's frames, give predict's windows and batches.
      for (const std::size_t piece : {std::size_t{1}, std::size_t{31}, std::size_t{1000}, features.frames}) {
        WindowPredictions batches;
        WindowStream stream(model, [&](const WindowPredictions& batch) {
          EXPECT_LE(batch.windows, Model::kBatchSize);
          batches.windows += batch.windows;
          batches.probabilities.insert(batches.probabilities.end(), batch.probabilities.begin(),
                                       batch.probabilities.end());
          batches.embeddings.insert(batches.embeddings.end(), batch.embeddings.begin(),
                                    batch.embeddings.end());
        });
        for (std::size_t at = 0; at < features.frames; at += piece) {
          Spectrogram part(features.rows, std::min(piece, features.frames - at));
          for (std::size_t r = 0; r < part.rows; ++r)
            std::copy_n(features.values.begin() + static_cast<std::ptrdiff_t>(r * features.frames + at),
                        part.frames, part.values.begin() + static_cast<std::ptrdiff_t>(r * part.frames));
          stream.push(std::move(part));
        }
        stream.finish();
        EXPECT_EQ(batches.windows, whole.windows) << what << ", pieces of " << piece;
        EXPECT_TRUE(batches.probabilities == whole.probabilities) << what << ", pieces of " << piece;
        EXPECT_TRUE(batches.embeddings == whole.embeddings) << what << ", pieces of " << piece;
      }
    }
  }
}

}  // namespace
}  // namespace tunelens
