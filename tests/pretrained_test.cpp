// The shipped pretrained networks (models/): loaded by name from the authors' state dicts, they give the
// outputs the original PyTorch code gives on the same input (tests/data/pretrained, from
// ../shared/pretrained/fixtures: the log-mel before spec_bn, the input of the last linear layer, and the 50
// tag probabilities).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "model/model_file.h"
#include "model/networks.h"
#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

using namespace testing;

const std::vector<std::string> kShipped = {"mtat-fcn", "mtat-crnn",   "mtat-musicnn", "msd-fcn",
                                           "msd-crnn", "jamendo-fcn", "jamendo-crnn", "jamendo-musicnn"};

NpyArray fixture(const std::string& name) {
  return read_npy(data_path("pretrained/" + name));
}

// The reference log-mel as the windows a model takes: [chunks, 96, frames] → one Spectrogram per chunk.
std::vector<Spectrogram> reference_windows(const std::string& architecture) {
  const NpyArray logmel =
      fixture(architecture == "musicnn" ? "jamendo-musicnn.logmel.npy" : "mtat-fcn.logmel.npy");
  std::vector<Spectrogram> windows;
  const std::size_t rows = logmel.shape[1], frames = logmel.shape[2];
  for (std::size_t c = 0; c < logmel.shape[0]; ++c) {
    Spectrogram window(rows, frames);
    std::copy_n(logmel.values.begin() + static_cast<std::ptrdiff_t>(c * rows * frames), rows * frames,
                window.values.begin());
    windows.push_back(std::move(window));
  }
  return windows;
}

double max_difference(const std::vector<float>& ours, const std::vector<float>& reference) {
  EXPECT_EQ(ours.size(), reference.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(ours.size(), reference.size()); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(ours[i]) - reference[i]));
  return worst;
}

TEST(Pretrained, EveryShippedNetworkIsListedWithItsTagsAndFrontEnd) {
  const auto networks = shipped_networks();
  ASSERT_EQ(networks.size(), kShipped.size());
  for (const auto& network : networks) {
    EXPECT_NE(std::find(kShipped.begin(), kShipped.end(), network.name), kShipped.end()) << network.name;
    EXPECT_EQ(network.tags.size(), 50u) << network.name;
    EXPECT_EQ(network.front_end.mel.sample_rate, 16000);
    EXPECT_EQ(network.front_end.mel.n_mels, 96);
    EXPECT_TRUE(std::filesystem::exists(network.weights)) << network.weights;
  }
  EXPECT_TRUE(find_shipped_network("jamendo-musicnn").has_value());
  EXPECT_FALSE(find_shipped_network("jamendo-musicnn.pt").has_value());  // a path, not a name
  EXPECT_FALSE(find_shipped_network("no-such-network").has_value());
  EXPECT_EQ(read_model_info("msd-fcn").shipped, "msd-fcn");
  // Neither a file nor a shipped network: the same one line from reading and from loading.
  const std::string missing =
      "no-such-network: no such model file or shipped network (tunelens model list shows them)";
  for (const auto& open : std::vector<std::function<void()>>{[] { read_model_info("no-such-network"); },
                                                             [] { Model::load("no-such-network"); }}) {
    try {
      open();
      ADD_FAILURE() << "no error";
    } catch (const ModelError& error) {
      EXPECT_EQ(error.what(), missing);
    }
  }
}

// Tag probabilities within 1e-4 and pre-head vectors within 1e-3 of the original code's, for all eight.
TEST(Pretrained, AllEightMatchTheOriginalPyTorchOutputs) {
  for (const std::string& name : kShipped) {
    SCOPED_TRACE(name);
    const Model model = Model::load(name, {"cpu", 2});
    const ModelInfo& info = model.info();
    EXPECT_TRUE(info.multi_label);
    EXPECT_EQ(info.shipped, name);
    EXPECT_EQ(info.classes.size(), 50u);
    const auto windows = reference_windows(info.network.name);
    ASSERT_EQ(windows.front().frames, info.features.window_frames);
    const WindowPredictions predictions = model.predict_windows(windows);
    const NpyArray output = fixture(name + ".output.npy");
    const NpyArray pre_head = fixture(name + ".pre_head.npy");
    const double output_error = max_difference(predictions.probabilities, output.values);
    const double pre_head_error = max_difference(predictions.embeddings, pre_head.values);
    EXPECT_LT(output_error, 1e-4);
    EXPECT_LT(pre_head_error, 1e-3);
    std::printf("%-16s tags max |diff| %.2e, pre-head %.2e\n", name.c_str(), output_error, pre_head_error);
  }
}

// The whole path from 16 kHz samples: tunelens's own front end (HTK mels, reflect padding, chunks of the
// network's input) and the network, against the original code fed the same samples.
TEST(Pretrained, FromSamplesThroughTheFrontEndMatchesTheOriginalCode) {
  const NpyArray input = fixture("input16k.npy");
  for (const std::string name : {"msd-fcn", "jamendo-crnn", "jamendo-musicnn"}) {
    SCOPED_TRACE(name);
    const Model model = Model::load(name, {"cpu", 2});
    const FeatureSettings& settings = model.features().settings;
    // Musicnn's reference is the first four 3 s chunks; FCN's and CRNN's one 29 s chunk.
    const std::size_t samples =
        name == "jamendo-musicnn" ? 4 * settings.chunk_samples : settings.chunk_samples;
    const MelSpectrogram mel(settings.mel);
    const Spectrogram features = signal_features(mel, std::span(input.values).first(samples), settings);
    const WindowPredictions predictions = model.predict(features);
    const NpyArray output = fixture(name + ".output.npy");
    ASSERT_EQ(predictions.windows, output.shape[0]);
    const double output_error = max_difference(predictions.probabilities, output.values);
    const double pre_head_error =
        max_difference(predictions.embeddings, fixture(name + ".pre_head.npy").values);
    EXPECT_LT(output_error, 1e-4);
    EXPECT_LT(pre_head_error, 1e-3);
    std::printf("%-16s from samples: tags max |diff| %.2e, pre-head %.2e\n", name.c_str(), output_error,
                pre_head_error);
  }
}

TEST(Pretrained, AStateDictOfAnotherNetworkIsOneErrorNamingTheFirstMismatch) {
  const auto musicnn = find_shipped_network("jamendo-musicnn");
  ASSERT_TRUE(musicnn.has_value());
  ShippedNetwork wrong = *musicnn;
  wrong.architecture = "fcn";  // FCN's tensors asked of Musicnn's file
  wrong.input_samples = 464000;
  try {
    model::shipped_model_file(wrong);
    FAIL() << "loaded Musicnn weights as FCN";
  } catch (const ModelError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("jamendo-musicnn.pt"), std::string::npos) << what;
    EXPECT_NE(what.find("layer1.conv.weight"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  ScratchDir scratch;
  ShippedNetwork damaged = *musicnn;
  damaged.weights = scratch / "damaged.pt";
  std::ofstream(damaged.weights) << "not a zip archive";
  EXPECT_THROW(model::shipped_model_file(damaged), ModelError);
}

// train --backbone NAME on the tones' catalog: the network's features are extracted, its vectors cached once
// (a rerun reuses them), and the model written is the whole network with a new head, which evaluate and
// classify run from audio like any other model, with the head's validation accuracy.
TEST(Backbone, TrainsAHeadOnCachedVectorsAndWritesAWholeNetwork) {
  ScratchDir s;
  for (const ProgramRun& step : make_tone_catalog(s)) ASSERT_EQ(step.status, 0) << step.err;
  const std::string catalog = quoted(s / "tones.catalog");
  // --no-refit: the model is the one validated, so that its val accuracy can be checked against evaluate's.
  const std::string train = "train " + catalog + " --backbone jamendo-musicnn --no-refit --seed 1 -q --out ";
  ProgramRun first = tunelens(train + quoted(s / "head.tlm"), s);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.err.find("computing jamendo-musicnn's vectors for 15 tracks"), std::string::npos)
      << first.err;
  ProgramRun again = tunelens(train + quoted(s / "again.tlm"), s);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("all 15 tracks cached"), std::string::npos) << again.err;
  // Same seed, same vectors: the same weights.
  EXPECT_EQ(read_model_info(s / "head.tlm").weights_hash, read_model_info(s / "again.tlm").weights_hash);

  const ModelInfo info = read_model_info(s / "head.tlm");
  EXPECT_EQ(info.network.name, "musicnn");
  EXPECT_EQ(info.classes, (std::vector<std::string>{"high", "low", "mid"}));
  EXPECT_FALSE(info.multi_label);
  EXPECT_EQ(info.features.window_frames, 188u);
  EXPECT_EQ(info.features.settings.chunk_samples, 48000u);
  const auto metadata = nlohmann::json::parse(info.metadata_json);
  EXPECT_EQ(metadata.at("training").at("backbone"), "jamendo-musicnn");
  // The defaults for a Musicnn backbone: its pooled layer under the head, the L-BFGS path (epoch 1: L2 1).
  EXPECT_EQ(info.network.pre_head, "pooled");
  EXPECT_EQ(info.embedding_size, 1506u);
  EXPECT_EQ(metadata.at("training").at("optimizer"), "L-BFGS (L2 path)");
  EXPECT_EQ(metadata.at("history").at(0).at("l2").get<double>(), 1.0);
  const double val_accuracy = metadata.at("provenance").at("metrics").at("val_accuracy").get<double>();

  // The whole network on the validation tracks' audio agrees with the head trained on their cached vectors.
  ProgramRun evaluated = tunelens("evaluate --model " + quoted(s / "head.tlm") + " --catalog " + catalog +
                                      " --part val --json " + quoted(s / "val.json"),
                                  s);
  ASSERT_EQ(evaluated.status, 0) << evaluated.err;
  const auto report = nlohmann::json::parse(read_bytes(s / "val.json"));
  EXPECT_NEAR(report.at("accuracy").get<double>(), val_accuracy, 1e-9);
  EXPECT_EQ(report.at("recomputed_features").get<int>(),
            0);  // the catalog's features of the network's front end

  ProgramRun classified = tunelens("classify --model " + quoted(s / "head.tlm") + " " +
                                       quoted(s / "data/low/low0.wav") + " --top-k 1 --format csv",
                                   s);
  ASSERT_EQ(classified.status, 0) << classified.err;
  EXPECT_NE(classified.out.find(",genre,"), std::string::npos) << classified.out;
}

// The defaults refit the head on the training and validation tracks; --pre-head dense puts it on the tagger's
// own 200-d layer, whose vectors are cached apart from the pooled ones.
TEST(Backbone, DefaultsRefitTheHeadAndPreHeadDenseUsesTheTaggersLayer) {
  ScratchDir s;
  for (const ProgramRun& step : make_tone_catalog(s)) ASSERT_EQ(step.status, 0) << step.err;
  const std::string train = "train " + quoted(s / "tones.catalog") + " --backbone jamendo-musicnn --seed 1 -q";
  ProgramRun refit = tunelens(train + " --out " + quoted(s / "refit.tlm"), s);
  ASSERT_EQ(refit.status, 0) << refit.err;
  EXPECT_NE(refit.out.find("refit: the model is the network trained again"), std::string::npos) << refit.out;
  const auto refit_meta = nlohmann::json::parse(read_model_info(s / "refit.tlm").metadata_json);
  EXPECT_GE(refit_meta.at("provenance").at("refit").at("epochs").get<int>(), 1);
  EXPECT_GT(refit_meta.at("provenance").at("refit").at("val_tracks_added").get<int>(), 0);

  ProgramRun dense = tunelens(train + " --pre-head dense --out " + quoted(s / "dense.tlm"), s);
  ASSERT_EQ(dense.status, 0) << dense.err;
  EXPECT_NE(dense.err.find("computing jamendo-musicnn's vectors for 15 tracks"), std::string::npos) << dense.err;
  const ModelInfo info = read_model_info(s / "dense.tlm");
  EXPECT_EQ(info.embedding_size, 200u);
  ProgramRun classified =
      tunelens("classify --model " + quoted(s / "dense.tlm") + " " + quoted(s / "data/low/low0.wav"), s);
  ASSERT_EQ(classified.status, 0) << classified.err;

  ProgramRun wrong = tunelens(train + " --pre-head middle --out " + quoted(s / "wrong.tlm"), s);
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.err.find("dense or pooled"), std::string::npos) << wrong.err;
}

// analyze with a tag model: --tags genre profiles the songs and albums by the genre tags alone.
// <s>/Band/2001 - First/: one album of two tones (01 - Low, 02 - High), for analyze.
void make_band(const ScratchDir& s) {
  const std::filesystem::path album = s / "Band" / "2001 - First";
  std::filesystem::create_directories(album);
  testing::write_noisy_tone(album / "01 - Low.wav", 150.0, 1);
  testing::write_noisy_tone(album / "02 - High.wav", 3000.0, 2);
}

TEST(Backbone, AnalyzeWithATagModelProfilesByOneKindOfTags) {
  ScratchDir s;
  make_band(s);
  const ProgramRun all = tunelens("analyze --model jamendo-musicnn " + quoted(s / "Band") + " -q --out " +
                                      quoted(s / "all"),
                                  s);
  ASSERT_EQ(all.status, 0) << all.err;
  const ProgramRun genre = tunelens("analyze --model jamendo-musicnn --tags genre " + quoted(s / "Band") +
                                        " -q --out " + quoted(s / "genre"),
                                    s);
  ASSERT_EQ(genre.status, 0) << genre.err;
  const std::string songs = read_bytes(s / "genre" / "songs.csv");
  EXPECT_NE(songs.find("genre---"), std::string::npos) << songs;
  for (const std::string other : {"instrument---", "mood/theme---"})
    EXPECT_EQ(songs.find(other), std::string::npos) << other << "\n" << songs;
  const ProgramRun wrong = tunelens("analyze --model jamendo-musicnn --tags colour " + quoted(s / "Band") +
                                        " -q --out " + quoted(s / "wrong"),
                                    s);
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.err.find("--tags"), std::string::npos) << wrong.err;
}

// An --out that cannot be written is said before any song is analysed (it was said after analysing them all).
TEST(Backbone, AnalyzeChecksItsOutputFolderFirst) {
  ScratchDir s;
  make_band(s);
  testing::write_bytes(s / "a-file", "not a folder");
  const ProgramRun run = tunelens("analyze --model jamendo-musicnn " + quoted(s / "Band") + " --out " +
                                      quoted(s / "a-file" / "report"),
                                  s);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("cannot create the output folder"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("analyze:"), std::string::npos) << run.out;  // no song was analysed
}

// Zero-shot: a tag model evaluated on a catalog reads each label from the tag of its name; and it indexes a
// catalog.
TEST(Backbone, ATagModelIsEvaluatedZeroShotAndIndexesACatalog) {
  ScratchDir s;
  for (const ProgramRun& step : make_tone_catalog(s)) ASSERT_EQ(step.status, 0) << step.err;
  ProgramRun run = tunelens("evaluate --model msd-crnn --catalog " + quoted(s / "tones.catalog"), s);
  ASSERT_EQ(run.status, 0) << run.err;
  // The tones' labels (high, low, mid) are no MSD tags: said, and never predicted.
  EXPECT_NE(run.out.find("no such tag (never predicted): high, low, mid"), std::string::npos) << run.out;

  // A shipped network indexes a catalog (its embedding and its tags as the two vectors) and similar uses
  // them.
  const std::string catalog = quoted(s / "tones.catalog");
  ProgramRun indexed = tunelens("index --model jamendo-musicnn --catalog " + catalog + " -q", s);
  ASSERT_EQ(indexed.status, 0) << indexed.err;
  for (const std::string by : {"embedding", "probs"}) {
    ProgramRun similar =
        tunelens("similar --catalog " + catalog + " --model jamendo-musicnn 'high tone 0' -k 3 --by " + by +
                     " --format csv",
                 s);
    ASSERT_EQ(similar.status, 0) << similar.err;
    EXPECT_EQ(occurrences(similar.out, "\n"), 4u) << similar.out;  // a header and three neighbours
    EXPECT_EQ(similar.out.find("high tone 0,"), std::string::npos) << similar.out;  // not the query itself
  }
}

}  // namespace
}  // namespace tunelens
