// Models: the input pipeline, the networks, the model file, training (reproducible, resumable), transfer learning
// and inference — on tiny catalogs written by the test itself (16 mel bands, windows of 32 frames).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <fmt/format.h>
#include <functional>
#include <nlohmann/json.hpp>

#include "data/extract.h"
#include "model/model.h"
#include "model/fused.h"
#include "model/model_file.h"
#include "model/networks.h"
#include "model/pipeline.h"
#include "model/training.h"
#include "store/catalog.h"
#include "store/feature_array.h"
#include "store/npy.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::data_path;
using testing::ScratchDir;
using testing::ProgramRun;
using testing::tunelens;

// --- a tiny labelled catalog with features

struct TinyCatalog {
  fs::path file;
  std::string config;
  std::size_t rows = 0;
};

// `classes` labels, `per_class` tracks each (the first `val` of each in the val part, one more in test, the rest in
// train). Each label lights up its own band of rows, so the classes can be learnt in an epoch or two. With
// `misleading_val`, the validation tracks look like the next class: the better the model fits, the worse it does.
TinyCatalog make_catalog(const fs::path& folder, std::size_t rows = 16, std::size_t frames = 70,
                         int classes = 3, int per_class = 8, int val = 2, unsigned seed = 1,
                         bool misleading_val = false, const std::string& label_prefix = "genre") {
  fs::create_directories(folder / "audio");
  TinyCatalog tiny;
  tiny.file = folder / "tiny.catalog";
  tiny.rows = rows;
  Catalog catalog = Catalog::create(tiny.file, folder / "audio");
  ExtractionSettings settings;
  settings.mel.n_mels = static_cast<int>(rows);
  settings.dtype = FeatureDtype::Float32;
  tiny.config = catalog.add_feature_config(settings.canonical_json());
  fs::create_directories(catalog.features_folder(tiny.config));
  std::mt19937 random(seed);
  std::normal_distribution<float> noise(0.0f, 6.0f);
  std::vector<SplitAssignment> assignments;
  for (int c = 0; c < classes; ++c) {
    for (int k = 0; k < per_class; ++k) {
      TrackInfo info;
      info.path = fmt::format("c{}/t{}.wav", c, k);
      info.fingerprint = info.path;
      info.source = "test";
      info.label = label_prefix + std::to_string(c);
      const std::int64_t id = *catalog.add_track(info);
      const std::size_t length = frames + static_cast<std::size_t>(k % 3) * 17;
      std::vector<float> values(rows * length);
      const std::size_t band = rows / static_cast<std::size_t>(classes);
      const int looks_like = misleading_val && k < val ? (c + 1) % classes : c;
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t t = 0; t < length; ++t) {
          const bool lit = r / band == static_cast<std::size_t>(looks_like) && (t / 3) % 2 == 0;
          values[r * length + t] = std::clamp(-60.0f + (lit ? 35.0f : 0.0f) + noise(random), -80.0f, 0.0f);
        }
      write_feature_array(catalog.feature_file(id, tiny.config), rows, length, values.data(), FeatureDtype::Float32);
      FeatureRecord record;
      record.track = id;
      record.config = tiny.config;
      record.n_mels = rows;
      record.frames = length;
      record.seconds = static_cast<double>(length) * 512.0 / 22050.0;
      catalog.record_features(record);
      const SplitPart part = k < val ? SplitPart::Val : k == val ? SplitPart::Test : SplitPart::Train;
      assignments.push_back({id, part});
    }
  }
  catalog.set_split("main", "test", 0, "{}", assignments);
  return tiny;
}

TrainOptions tiny_options(const TinyCatalog& tiny, const fs::path& out, const std::string& network = "shortchunk") {
  TrainOptions options;
  options.catalog = tiny.file;
  options.split = "main";
  options.out = out;
  options.network.name = network;
  options.network.width = 4;
  options.network.depth = 10;
  options.window_frames = 32;
  options.epochs = 2;
  options.batch_size = 4;
  options.learning_rate = 0.01;
  options.schedule = LearningRateSchedule::Constant;
  options.patience = 0;
  options.threads = 1;
  options.seed = 7;
  options.network.n_mfcc = 8;
  return options;
}

model::NamedTensors weights_of(const fs::path& model_file) {
  return model::decode_tensors(model::read_model_file(model_file).weights);
}

// --- the input pipeline

TEST(Pipeline, ConsecutiveWindowsCoverEachTrackAndShortTracksGetOne) {
  std::vector<model::TrackExample> tracks(3);
  tracks[0].frames = 100;
  tracks[1].frames = 20;
  tracks[2].frames = 64;
  const auto samples = model::consecutive_windows(tracks, 32);
  ASSERT_EQ(samples.size(), 3u + 1u + 2u);
  EXPECT_EQ(samples[2].offset, 64u);
  EXPECT_EQ(samples[3].track, 1u);
  EXPECT_EQ(samples[3].offset, 0u);
}

TEST(Pipeline, EpochSamplesAreAShuffleDecidedByTheSeed) {
  std::vector<model::TrackExample> tracks(5);
  for (auto& t : tracks) t.frames = 200;
  SplitRandom a(3), b(3), c(4);
  const auto first = model::epoch_samples(tracks, 32, true, a);
  const auto again = model::epoch_samples(tracks, 32, true, b);
  const auto other = model::epoch_samples(tracks, 32, true, c);
  ASSERT_EQ(first.size(), 5u * 6u);
  bool same = true, differs = false;
  for (std::size_t i = 0; i < first.size(); ++i) {
    same = same && first[i].track == again[i].track && first[i].offset == again[i].offset;
    differs = differs || first[i].track != other[i].track || first[i].offset != other[i].offset;
    EXPECT_LE(first[i].offset + 32, 200u);
  }
  EXPECT_TRUE(same);
  EXPECT_TRUE(differs);
}

TEST(Pipeline, ZoomByOneIsTheIdentityAndZoomKeepsTheRange) {
  Spectrogram window(8, 12);
  for (std::size_t i = 0; i < window.values.size(); ++i) window.values[i] = static_cast<float>(i % 7) / 6.0f;
  Spectrogram same = window;
  model::zoom(same, 1.0, 1.0);
  EXPECT_EQ(same.values, window.values);
  SplitRandom random(1);
  for (int k = 0; k < 20; ++k) {
    Spectrogram zoomed = window;
    model::zoom(zoomed, 0.3, random);
    for (float v : zoomed.values) {
      EXPECT_GE(v, 0.0f);
      EXPECT_LE(v, 1.0f);
    }
  }
  // Zooming in (factor < 1) on a left-to-right ramp keeps it increasing and samples nearer the centre.
  Spectrogram ramp(1, 11);
  for (std::size_t t = 0; t < 11; ++t) ramp.values[t] = static_cast<float>(t);
  model::zoom(ramp, 1.0, 0.5);
  EXPECT_FLOAT_EQ(ramp.values[5], 5.0f);
  EXPECT_FLOAT_EQ(ramp.values[0], 2.5f);
  EXPECT_FLOAT_EQ(ramp.values[10], 7.5f);
  // Zooming out (factor > 1) fills the edges with the nearest value.
  Spectrogram out(1, 11);
  for (std::size_t t = 0; t < 11; ++t) out.values[t] = static_cast<float>(t);
  model::zoom(out, 1.0, 2.0);
  EXPECT_FLOAT_EQ(out.values[0], 0.0f);
  EXPECT_FLOAT_EQ(out.values[1], 0.0f);
  EXPECT_FLOAT_EQ(out.values[10], 10.0f);
}

TEST(Pipeline, MasksFillBandsAndFramesWithTheMean) {
  Spectrogram window(16, 40);
  for (std::size_t i = 0; i < window.values.size(); ++i) window.values[i] = (i % 2) ? 1.0f : 0.0f;
  AugmentOptions options;
  options.freq_masks = 1;
  options.freq_mask_width = 4;
  options.time_masks = 1;
  options.time_mask_width = 5;
  SplitRandom random(9);
  std::size_t filled = 0;
  for (int k = 0; k < 10; ++k) {
    Spectrogram masked = window;
    model::mask(masked, options, random);
    for (float v : masked.values) filled += v == 0.5f;
  }
  EXPECT_GT(filled, 0u);
}

TEST(Pipeline, BetaDrawsLieInTheUnitInterval) {
  SplitRandom random(5);
  double sum = 0.0;
  for (int k = 0; k < 2000; ++k) {
    const double x = model::beta_symmetric(random, 0.2);
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, 1.0);
    sum += x;
  }
  EXPECT_NEAR(sum / 2000.0, 0.5, 0.05);  // symmetric
}

TEST(Pipeline, MfccStatisticsAreMeanAndSpreadOfEachCoefficient) {
  Spectrogram window(16, 10);
  for (std::size_t r = 0; r < 16; ++r)
    for (std::size_t t = 0; t < 10; ++t) window.at(r, t) = -40.0f + static_cast<float>(r + (t % 2) * 3);
  const Spectrogram stats = model::mfcc_statistics(window, 5);
  ASSERT_EQ(stats.rows, 10u);
  ASSERT_EQ(stats.frames, 1u);
  const Spectrogram coefficients = mfcc(window, 5);
  double mean0 = 0.0;
  for (std::size_t t = 0; t < 10; ++t) mean0 += coefficients.at(0, t) / 10.0;
  EXPECT_NEAR(stats.at(0, 0), mean0, 1e-4);
  EXPECT_GT(stats.at(5, 0), 0.0f);  // coefficient 0 varies with the alternating frames
}

TEST(Pipeline, BatchesAreTheSameWhateverTheTimingAndMixupBlendsPairs) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  const model::TrainingData data = model::load_training_data(tiny.file, "main", "");
  EXPECT_EQ(data.classes, (std::vector<std::string>{"genre0", "genre1", "genre2"}));
  EXPECT_EQ(data.train.size(), 3u * 5u);
  EXPECT_EQ(data.val.size(), 3u * 2u);
  model::InputFormat format;
  format.rows = tiny.rows;
  format.window_frames = 32;
  AugmentOptions augment;
  parse_augmentations("zoom,crop,masks,mixup", augment);
  SplitRandom r1(1), r2(1);
  model::BatchStream a(data.train, model::epoch_samples(data.train, 32, true, r1), 4, format, &augment, 11, true, 1);
  model::BatchStream b(data.train, model::epoch_samples(data.train, 32, true, r2), 4, format, &augment, 11, true, 3);
  std::size_t batches = 0;
  while (auto x = a.next()) {
    auto y = b.next();
    ASSERT_TRUE(y.has_value());
    EXPECT_EQ(x->inputs, y->inputs);
    EXPECT_EQ(x->labels, y->labels);
    EXPECT_EQ(x->mixed_labels.size(), x->size);
    EXPECT_GE(x->mix, 0.0f);
    EXPECT_LE(x->mix, 1.0f);
    ++batches;
  }
  EXPECT_FALSE(b.next().has_value());
  EXPECT_EQ(batches, a.batches());
}

TEST(Pipeline, AnUnreadableFeatureFileStopsTheStreamNamingIt) {
  std::vector<model::TrackExample> tracks(1);
  tracks[0].file = "/nonexistent/7.npy";
  tracks[0].frames = 64;
  model::InputFormat format;
  format.rows = 16;
  format.window_frames = 32;
  model::BatchStream stream(tracks, model::consecutive_windows(tracks, 32), 2, format, nullptr, 0, false);
  try {
    stream.next();
    FAIL() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/7.npy"), std::string::npos) << error.what();
  }
}

// --- networks

struct NetworkCase {
  std::string name;
  std::size_t rows, frames;
  std::size_t embedding;
};

void PrintTo(const NetworkCase& c, std::ostream* os) { *os << c.name; }

class Networks : public ::testing::TestWithParam<NetworkCase> {};

TEST_P(Networks, GiveLogitsAndEmbeddingsOfTheRightShape) {
  const NetworkCase& c = GetParam();
  NetworkSettings settings;
  settings.name = c.name;
  settings.width = 4;
  settings.depth = 10;
  auto network = model::make_network(settings, c.rows, c.frames, 5);
  network->set_training(true);
  const torch::Tensor x = torch::rand({3, 1, static_cast<long>(c.rows), static_cast<long>(c.frames)});
  const torch::Tensor logits = network->forward(x);
  EXPECT_EQ(logits.sizes(), (std::vector<std::int64_t>{3, 5}));
  logits.sum().backward();
  network->set_training(false);
  const model::Outputs out = model::infer(*network, x);
  EXPECT_EQ(out.embeddings.size(1), static_cast<std::int64_t>(c.embedding));
  EXPECT_EQ(network->embedding_size(), c.embedding);
  EXPECT_TRUE(torch::allclose(out.probabilities.sum(1), torch::ones({3}), 1e-5, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Model, Networks,
                         ::testing::Values(NetworkCase{"convpool", 128, 128, 1024}, NetworkCase{"convconvpool", 32, 48, 1024},
                                           NetworkCase{"resnet", 16, 32, 32}, NetworkCase{"shortchunk", 16, 32, 16},
                                           NetworkCase{"mfcc-linear", 10, 1, 10}),
                         testing::ParamName(&NetworkCase::name));

TEST(Networks, ConvPoolIsTheOriginalLayerForLayer) {
  NetworkSettings settings;
  settings.name = "convpool";
  auto network = model::make_network(settings, 128, 1024, 8);
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& [name, tensor] : network->trainable()) shapes[name] = tensor.sizes().vec();
  EXPECT_EQ(shapes["block1.conv.weight"], (std::vector<std::int64_t>{32, 1, 4, 4}));
  EXPECT_EQ(shapes["block2.conv.weight"], (std::vector<std::int64_t>{32, 32, 3, 3}));
  EXPECT_EQ(shapes["block3.conv.weight"], (std::vector<std::int64_t>{64, 32, 2, 2}));
  EXPECT_EQ(shapes["block4.conv.weight"], (std::vector<std::int64_t>{128, 64, 2, 2}));
  // 128 x 1024 → 63 x 511 → 31 x 255 → 15 x 127 → 7 x 63 → 6 x 62 → 3 x 31 → 2 x 30 → 1 x 15: 128 * 15 = 1920
  EXPECT_EQ(shapes["dense.linear.weight"], (std::vector<std::int64_t>{1024, 1920}));
  EXPECT_EQ(shapes["head.weight"], (std::vector<std::int64_t>{8, 1024}));
  EXPECT_EQ(model::parameter_count(*network), 2'028'808u);
}

TEST(Networks, ConvConvPoolAndResnetDepths) {
  NetworkSettings settings;
  settings.name = "convconvpool";
  auto network = model::make_network(settings, 128, 1024, 8);
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& [name, tensor] : network->trainable()) shapes[name] = tensor.sizes().vec();
  EXPECT_EQ(shapes["block1.conv1.weight"], (std::vector<std::int64_t>{32, 1, 2, 2}));
  EXPECT_EQ(shapes["block2.conv2.weight"], (std::vector<std::int64_t>{64, 64, 2, 2}));
  // 128 x 1024 → 64 x 512 → 32 x 256 → 16 x 128 → 15 x 127 → 14 x 126 → 7 x 63
  EXPECT_EQ(shapes["dense.linear.weight"], (std::vector<std::int64_t>{1024, 64 * 7 * 63}));
  settings.name = "resnet";
  settings.width = 4;
  for (int depth : {18, 34, 50}) {
    settings.depth = depth;
    auto resnet = model::make_network(settings, 16, 32, 3);
    EXPECT_EQ(resnet->embedding_size(), depth == 50 ? 4u * 8u * 4u : 4u * 8u) << depth;
    std::size_t convs = 0;
    for (const auto& [name, tensor] : resnet->trainable())
      convs += tensor.dim() == 4 && name.find("down_") == std::string::npos;
    EXPECT_EQ(convs + 1, static_cast<std::size_t>(depth)) << depth;  // + the classifier
  }
}

TEST(Networks, BadSettingsAreClearErrors) {
  NetworkSettings settings;
  settings.name = "convpool";
  try {
    model::make_network(settings, 16, 32, 3);
    FAIL();
  } catch (const ModelError& error) {
    EXPECT_NE(std::string(error.what()).find("at least 118 x 118"), std::string::npos) << error.what();
  }
  settings.name = "vgg";
  EXPECT_THROW(model::make_network(settings, 128, 128, 3), ModelError);
  settings.name = "resnet";
  settings.depth = 20;
  EXPECT_THROW(model::make_network(settings, 128, 128, 3), ModelError);
}

// The fused first block of convpool against the plain layers: output, gradients and running statistics, in
// training and in evaluation, with odd sizes (a row and a column left out of the pooling) and negative BatchNorm
// scales (pooling then takes the window's minimum).
TEST(Fused, MatchesThePlainLayersForwardAndBackward) {
  torch::manual_seed(3);
  namespace nn = torch::nn;
  auto make = [] {
    nn::Conv2d conv(nn::Conv2dOptions(1, 6, 4).stride(2));
    nn::BatchNorm2d bn(nn::BatchNormOptions(6).eps(1e-3).momentum(0.01));
    return std::make_pair(conv, bn);
  };
  auto [conv, bn] = make();
  {
    torch::NoGradGuard no_grad;
    bn->weight.copy_(torch::tensor({1.5f, -0.7f, 0.3f, -2.0f, 1.0f, 0.9f}));
    bn->bias.copy_(torch::randn({6}));
    bn->running_var.fill_(2.0);
  }
  auto [conv2, bn2] = make();
  {
    torch::NoGradGuard no_grad;
    conv2->weight.copy_(conv->weight);
    conv2->bias.copy_(conv->bias);
    bn2->weight.copy_(bn->weight);
    bn2->bias.copy_(bn->bias);
    bn2->running_var.copy_(bn->running_var);
  }
  const torch::Tensor x = torch::randn({3, 1, 37, 50});
  ASSERT_TRUE(model::fused_block_applies(x, conv));
  const torch::Tensor fused = model::conv_relu_norm_pool(x, conv, bn, true);
  const torch::Tensor plain = torch::max_pool2d(bn2->forward(torch::relu(conv2->forward(x))), 2);
  ASSERT_EQ(fused.sizes(), plain.sizes());  // 17 x 24 → 8 x 12
  EXPECT_TRUE(torch::allclose(fused, plain, 1e-4, 1e-4)) << (fused - plain).abs().max();
  const torch::Tensor probe = torch::randn(plain.sizes());
  (fused * probe).sum().backward();
  (plain * probe).sum().backward();
  auto close = [](const torch::Tensor& a, const torch::Tensor& b) {
    return torch::allclose(a, b, 1e-3, 1e-4 * b.abs().max().item<double>());
  };
  EXPECT_TRUE(close(conv->weight.grad(), conv2->weight.grad())) << conv->weight.grad() - conv2->weight.grad();
  EXPECT_TRUE(close(conv->bias.grad(), conv2->bias.grad())) << conv->bias.grad() - conv2->bias.grad();
  EXPECT_TRUE(close(bn->weight.grad(), bn2->weight.grad())) << bn->weight.grad() - bn2->weight.grad();
  EXPECT_TRUE(close(bn->bias.grad(), bn2->bias.grad()));
  EXPECT_TRUE(torch::allclose(bn->running_mean, bn2->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(bn->running_var, bn2->running_var, 1e-5, 1e-6));
  EXPECT_EQ(bn->num_batches_tracked.item<std::int64_t>(), 1);

  torch::NoGradGuard no_grad;
  const torch::Tensor eval_fused = model::conv_relu_norm_pool(x, conv, bn, false);
  bn2->eval();
  const torch::Tensor eval_plain = torch::max_pool2d(bn2->forward(torch::relu(conv2->forward(x))), 2);
  EXPECT_TRUE(torch::allclose(eval_fused, eval_plain, 1e-4, 1e-4));
}

// --- the model file

TEST(ModelFile, FeatureConfigKeepsThePretrainedFrontEnd) {
  // The catalog's configuration (canonical JSON) → the model's FeatureConfig → the model file's record →
  // back.
  ExtractionSettings extraction;
  static_cast<FeatureSettings&>(extraction) = testing::pretrained_front_end(48000);
  FeatureConfig config;
  config.id = "abc";
  config.window_frames = 188;
  parse_feature_parameters(extraction.canonical_json(), config);
  EXPECT_EQ(config.settings.mel.mel_scale, MelScale::Htk);
  EXPECT_EQ(config.settings.mel.mel_norm, MelNorm::None);
  EXPECT_EQ(config.settings.mel.pad_mode, PadMode::Reflect);
  EXPECT_EQ(config.settings.chunk_samples, 48000u);

  const nlohmann::json record = model::feature_config_json(config);
  EXPECT_EQ(record.at("mel_scale"), "htk");
  EXPECT_EQ(record.at("mel_norm"), "none");
  EXPECT_EQ(record.at("pad_mode"), "reflect");
  EXPECT_EQ(record.at("chunk_samples"), 48000);
  const FeatureConfig back = model::feature_config_from_json(record);
  EXPECT_EQ(back.settings.mel.mel_scale, MelScale::Htk);
  EXPECT_EQ(back.settings.mel.mel_norm, MelNorm::None);
  EXPECT_EQ(back.settings.mel.pad_mode, PadMode::Reflect);
  EXPECT_EQ(back.settings.chunk_samples, 48000u);
  EXPECT_EQ(back.settings.mel.n_mels, 96);
  EXPECT_EQ(back.window_frames, 188u);
  EXPECT_EQ(back.parameters, extraction.canonical_json());
  EXPECT_EQ(model::feature_config_json(back), record);
  // Windows of one chunk each start a whole chunk (3 s) apart.
  EXPECT_EQ(window_start_seconds(back, 3), (std::vector<double>{0.0, 3.0, 6.0}));

  // A model file written before these settings existed: its record lacks the keys and reads as the defaults.
  nlohmann::json old = record;
  for (const char* key : {"mel_scale", "mel_norm", "pad_mode", "chunk_samples"}) old.erase(key);
  const FeatureConfig defaults = model::feature_config_from_json(old);
  EXPECT_EQ(defaults.settings.mel.mel_scale, MelScale::Slaney);
  EXPECT_EQ(defaults.settings.mel.mel_norm, MelNorm::Slaney);
  EXPECT_EQ(defaults.settings.mel.pad_mode, PadMode::Constant);
  EXPECT_EQ(defaults.settings.chunk_samples, 0u);
  old["pad_mode"] = "edge";
  EXPECT_THROW(model::feature_config_from_json(old), ModelError);
  EXPECT_THROW(parse_feature_parameters(R"({"kind":"mel","sample_rate":16000,"n_fft":512,"hop_length":256,)"
                                        R"("n_mels":96,"mel_scale":"bark"})",
                                        config),
               ModelError);
}

TEST(ModelFile, RoundTripsAndRejectsDamagedFilesNamingThem) {
  ScratchDir scratch;
  model::ModelFile file;
  file.metadata = {{"format", "tunelens model"}, {"format_version", 1}};
  file.weights = model::encode_tensors({{"a", torch::arange(6, torch::kFloat32).reshape({2, 3})},
                                        {"b", torch::tensor(std::vector<std::int64_t>{7})}});
  const fs::path path = scratch / "m.tlm";
  model::write_model_file(path, file);
  const model::ModelFile back = model::read_model_file(path);
  EXPECT_EQ(back.weights, file.weights);
  const auto tensors = model::decode_tensors(back.weights);
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].first, "a");
  EXPECT_TRUE(torch::equal(tensors[0].second, torch::arange(6, torch::kFloat32).reshape({2, 3})));
  EXPECT_EQ(tensors[1].second.item<std::int64_t>(), 7);

  const std::string bytes = testing::read_bytes(path);
  auto expect_error = [&](const std::string& name, const std::string& contents, const std::string& reason) {
    const fs::path bad = scratch / name;
    testing::write_bytes(bad, contents);
    try {
      model::read_model_file(bad);
      ADD_FAILURE() << name << ": no error";
    } catch (const ModelError& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.rfind(bad.string() + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(reason), std::string::npos) << what;
    }
  };
  expect_error("truncated.tlm", bytes.substr(0, bytes.size() - 40), "truncated");
  expect_error("empty.tlm", "", "not a tunelens model file");
  expect_error("text.tlm", "hello, this is not a model at all", "not a tunelens model file");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  expect_error("flipped.tlm", flipped, "checksum");
  std::string newer = bytes;
  newer[8] = 9;
  expect_error("newer.tlm", newer, "newer");
  EXPECT_THROW(model::read_model_file(scratch / "missing.tlm"), ModelError);
}

// Found by fuzzing (fuzz/regressions/model): a tensor's shape was handed to libtorch before it was checked against
// the bytes that follow, so a damaged size gave libtorch's own error ("Storage size calculation overflowed") or an
// allocation of the size claimed. Now every such tensor is "damaged weights", and an empty tensor still reads.
TEST(ModelFile, TensorShapesAreCheckedBeforeATensorIsMade) {
  const std::string good = model::encode_tensors({{"a", torch::zeros({2, 3})}});
  // count (4), name size (4), "a", type (1), dimensions (4), then the two sizes (8 each) from byte 14.
  auto with_size = [&](int dimension, std::uint64_t size) {
    std::string bytes = good;
    for (int i = 0; i < 8; ++i) bytes[14 + 8 * dimension + i] = static_cast<char>((size >> (8 * i)) & 0xff);
    return bytes;
  };
  for (const std::uint64_t size : {8808515980394090075ull, ~0ull, 1ull << 62, 4ull}) {
    try {
      model::decode_tensors(with_size(1, size));
      ADD_FAILURE() << size << ": no error";
    } catch (const ModelError& error) {
      EXPECT_NE(std::string(error.what()).find("damaged weights: tensor a has 24 bytes for its shape"),
                std::string::npos)
          << error.what();
    }
  }
  const auto empty = model::decode_tensors(model::encode_tensors({{"e", torch::zeros({0, 5})}}));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].second.sizes(), (std::vector<std::int64_t>{0, 5}));
}

// --- training

TEST(Training, LearnsATinyCatalogAndWritesModelHistoryAndCheckpoint) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm");
  options.epochs = 6;
  std::size_t batches = 0, epochs = 0;
  TrainCallbacks callbacks;
  callbacks.on_batch = [&](const BatchProgress& p) {
    ++batches;
    EXPECT_GE(p.samples_per_second, 0.0);
    EXPECT_LE(p.batch, p.batches);
  };
  callbacks.on_epoch = [&](const EpochRecord&, bool) { ++epochs; };
  const TrainResult result = train_model(options, callbacks);
  EXPECT_EQ(epochs, 6u);
  EXPECT_EQ(batches, 6u * 8u);  // 33 windows of 32 frames: 8 batches of 4, the single last window left out
  ASSERT_EQ(result.history.size(), 6u);
  EXPECT_EQ(result.train_tracks, 15u);
  EXPECT_EQ(result.val_tracks, 6u);
  EXPECT_LT(result.history.back().train_loss, result.history.front().train_loss);
  EXPECT_GE(result.history[static_cast<std::size_t>(result.best_epoch - 1)].val_accuracy, 0.5);
  EXPECT_TRUE(fs::exists(result.checkpoint_file));
  const std::string csv = testing::read_bytes(result.history_csv);
  EXPECT_EQ(csv.rfind("epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
  const std::string json = testing::read_bytes(result.history_json);
  EXPECT_NE(json.find("\"best_epoch\""), std::string::npos);

  const ModelInfo info = read_model_info(options.out);
  EXPECT_FALSE(info.checkpoint);
  EXPECT_EQ(info.network.name, "shortchunk");
  EXPECT_EQ(info.classes, (std::vector<std::string>{"genre0", "genre1", "genre2"}));
  EXPECT_EQ(info.features.settings.mel.n_mels, 16);
  EXPECT_EQ(info.features.window_frames, 32u);
  EXPECT_EQ(info.features.id, tiny.config);
  EXPECT_EQ(info.input_rows, 16u);
  EXPECT_EQ(info.weights_hash.size(), 16u);
  const std::string text = describe(info);
  EXPECT_NE(text.find("shortchunk"), std::string::npos);
  EXPECT_NE(text.find("genre0, genre1, genre2"), std::string::npos);
  EXPECT_NE(text.find("split 'main'"), std::string::npos);

  // Inference: a track's windows as trained, softmax per window and embeddings.
  const Model model = Model::load(options.out, {"cpu", 1});
  Spectrogram spectrogram(16, 100);
  spectrogram.values = FeatureArray(Catalog::open(tiny.file).feature_file(1, tiny.config)).window(0, 70);
  spectrogram.frames = 70;
  const WindowPredictions predictions = model.predict(spectrogram);
  EXPECT_EQ(predictions.windows, 2u);  // 70 frames: two windows of 32
  EXPECT_EQ(predictions.classes, 3u);
  EXPECT_EQ(predictions.embedding_size, 16u);
  EXPECT_EQ(predictions.embeddings.size(), 2u * 16u);
  const auto mean = predictions.mean_probabilities();
  EXPECT_NEAR(std::accumulate(mean.begin(), mean.end(), 0.0), 1.0, 1e-5);
  Spectrogram wrong(12, 64);
  EXPECT_THROW(model.predict(wrong), ModelError);
}

// Metadata describing a network no weights could fill (a damaged or hostile file) is a clear error before libtorch
// is asked for the memory: found by replaying fuzz_model's inputs through Model::load (fuzz/regressions/model), where
// a vector head over 4 x 3e9 inputs gave libtorch's "negative dimension" (an int overflow) and a shortchunk 4096
// wide its "can't allocate memory".
TEST(Model, MetadataOfANetworkNoFileHoldsIsAClearError) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm");
  options.epochs = 1;
  train_model(options);
  const model::ModelFile good = model::read_model_file(options.out);
  auto load_error = [&](const std::string& name, const std::function<void(nlohmann::json&)>& damage) {
    model::ModelFile file = good;
    damage(file.metadata);
    model::write_model_file(scratch / name, file);
    try {
      Model::load(scratch / name, {"cpu", 1});
      return std::string("no error");
    } catch (const ModelError& error) {
      return std::string(error.what());
    }
  };
  EXPECT_NE(load_error("wide.tlm", [](nlohmann::json& m) { m["network"]["width"] = 4096; })
                .find("wide.tlm: width 4096 is too large (1024 at most)"),
            std::string::npos);
  EXPECT_NE(load_error("long.tlm",
                       [](nlohmann::json& m) {
                         m["network"]["name"] = "vector-head";
                         m["input"]["frames"] = 3000000000u;
                         m["features"]["window_frames"] = 3000000000u;
                       })
                .find("long.tlm: damaged metadata: a network input of 16 x 3000000000 values"),
            std::string::npos);
}

// A track's embedding: the mean of its windows' embeddings, scaled to unit length.
TEST(Model, MeanEmbeddingIsTheUnitMeanOfTheWindows) {
  WindowPredictions predictions;
  predictions.windows = 3;
  predictions.embedding_size = 2;
  predictions.embeddings = {3, 4, 0, 0, 0, 8};  // three windows of two
  const std::vector<float> unit = predictions.mean_embedding();
  ASSERT_EQ(unit.size(), 2u);
  EXPECT_NEAR(unit[0], 1.0 / std::sqrt(17.0), 1e-6);
  EXPECT_NEAR(unit[1], 4.0 / std::sqrt(17.0), 1e-6);
  EXPECT_TRUE(WindowPredictions{}.mean_embedding().empty());
}

TEST(Training, SameSeedOneThreadGivesIdenticalWeights) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  for (const std::string network : {"shortchunk", "resnet"}) {
    TrainOptions options = tiny_options(tiny, scratch / "a.tlm", network);
    options.epochs = 1;
    options.augment.crop = options.augment.masks = options.augment.mixup = options.augment.zoom = true;
    train_model(options);
    options.out = scratch / "b.tlm";
    train_model(options);
    options.out = scratch / "c.tlm";
    options.seed = 8;
    train_model(options);
    const std::string a = read_model_info(scratch / "a.tlm").weights_hash;
    EXPECT_EQ(a, read_model_info(scratch / "b.tlm").weights_hash) << network;
    EXPECT_NE(a, read_model_info(scratch / "c.tlm").weights_hash) << network;
    const auto wa = weights_of(scratch / "a.tlm"), wb = weights_of(scratch / "b.tlm");
    ASSERT_EQ(wa.size(), wb.size());
    for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i].second, wb[i].second)) << wa[i].first;
  }
}

TEST(Training, ConvPoolOnItsOwnWindowsIsReproducibleToo) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path(), 128, 140, 2, 4, 1);
  TrainOptions options = tiny_options(tiny, scratch / "a.tlm", "convpool");
  options.window_frames = 128;
  options.epochs = 1;
  options.augment.zoom = true;
  train_model(options);
  options.out = scratch / "b.tlm";
  train_model(options);
  EXPECT_EQ(read_model_info(scratch / "a.tlm").weights_hash, read_model_info(scratch / "b.tlm").weights_hash);
  const Model model = Model::load(options.out);
  EXPECT_EQ(model.predict(Spectrogram(128, 300)).windows, 2u);
}

TEST(Training, KilledAndResumedEndsAsAnUninterruptedRun) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  const std::string common = "train '" + tiny.file.string() +
                             "' --split main --model shortchunk --width 4 --window 32 --epochs 3 --batch-size 4 "
                             "--lr 0.003 --threads 1 --seed 5 --aug crop,masks -q --out ";
  const ProgramRun whole = tunelens(common + "'" + (scratch / "whole.tlm").string() + "'", scratch);
  ASSERT_EQ(whole.status, 0) << whole.err;
  // 15 training tracks of 70, 87 or 104 frames: 33 windows of 32, 8 batches of 4 an epoch (the last single window
  // is left out); killed in the middle of the second epoch.
  const ProgramRun killed =
      tunelens(common + "'" + (scratch / "resumed.tlm").string() + "' --debug-kill-after-batches 13", scratch);
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.err;
  EXPECT_EQ(read_model_info(scratch / "resumed.tlm.checkpoint").metadata_json.find("\"epochs_run\": 1") != std::string::npos, true);
  // The best epoch so far waits in <out>.best: <out> appears only when a run ends well.
  EXPECT_TRUE(std::filesystem::exists(scratch / "resumed.tlm.best"));
  EXPECT_FALSE(std::filesystem::exists(scratch / "resumed.tlm"));
  const ProgramRun resumed = tunelens("train --resume -q --out '" + (scratch / "resumed.tlm").string() + "'", scratch);
  // (the thread count, like every setting, is the checkpoint's unless given: it decides the order of sums)
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming after epoch 1 of 3"), std::string::npos) << resumed.err;
  EXPECT_EQ(read_model_info(scratch / "whole.tlm").weights_hash, read_model_info(scratch / "resumed.tlm").weights_hash);
  EXPECT_FALSE(std::filesystem::exists(scratch / "resumed.tlm.best"));
  // A killed run never replaces a good model already at --out.
  std::filesystem::copy_file(scratch / "whole.tlm", scratch / "kept.tlm");
  const ProgramRun over = tunelens(common + "'" + (scratch / "kept.tlm").string() + "' --debug-kill-after-batches 13", scratch);
  ASSERT_EQ(over.status, 128 + SIGKILL) << over.err;
  EXPECT_EQ(testing::read_bytes(scratch / "kept.tlm"), testing::read_bytes(scratch / "whole.tlm"));
  // The same history, but for the times.
  auto without_seconds = [](const std::string& csv) {
    std::string out;
    std::istringstream lines(csv);
    for (std::string line; std::getline(lines, line);) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };
  EXPECT_EQ(without_seconds(testing::read_bytes(scratch / "whole.tlm.history.csv")),
            without_seconds(testing::read_bytes(scratch / "resumed.tlm.history.csv")));
}

TEST(Training, EarlyStoppingKeepsTheBestEpoch) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path(), 16, 70, 3, 8, 2, 1, true);
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm", "mfcc-linear");
  options.epochs = 40;
  options.patience = 2;
  options.learning_rate = 0.05;
  options.network.n_mfcc = 8;
  const TrainResult result = train_model(options);
  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.history.size(), static_cast<std::size_t>(result.best_epoch + 2));
  const ModelInfo info = read_model_info(options.out);
  EXPECT_EQ(info.features.normalisation, Normalisation::Standard);
  EXPECT_EQ(info.features.mean.size(), 16u);
  EXPECT_NE(info.metadata_json.find(fmt::format("\"best_epoch\": {}", result.best_epoch)), std::string::npos);
}

TEST(Training, MfccLinearBaselineLearnsTheEasyClasses) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm", "mfcc-linear");
  options.epochs = 15;
  options.learning_rate = 0.05;
  const TrainResult result = train_model(options);
  EXPECT_GE(result.history[static_cast<std::size_t>(result.best_epoch - 1)].val_accuracy, 0.99);
}

// --solver lbfgs: epoch e solves the whole training set with L2 10^(-e/2); the penalty shrinks epoch by epoch,
// so the training loss falls; the validation loss picks the epoch; the same run twice gives the same weights.
TEST(Training, LbfgsWalksTheL2PathAndValidationPicksThePenalty) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm", "mfcc-linear");
  options.solver = Solver::Lbfgs;
  options.epochs = 8;
  options.patience = 0;
  const TrainResult result = train_model(options);
  ASSERT_EQ(result.history.size(), 8u);
  std::size_t lowest = 0;
  for (std::size_t e = 0; e < result.history.size(); ++e) {
    EXPECT_NEAR(result.history[e].l2, std::pow(10.0, -0.5 * static_cast<double>(e)), 1e-12);
    if (e > 0) {
      EXPECT_LT(result.history[e].train_loss, result.history[e - 1].train_loss);
    }
    if (result.history[e].val_loss < result.history[lowest].val_loss) lowest = e;
  }
  EXPECT_EQ(result.best_epoch, static_cast<int>(lowest) + 1);
  EXPECT_GE(result.history[lowest].val_accuracy, 0.99);
  const std::string first = read_model_info(options.out).weights_hash;
  options.out = scratch / "again.tlm";
  train_model(options);
  EXPECT_EQ(read_model_info(options.out).weights_hash, first);
  EXPECT_NE(read_model_info(options.out).metadata_json.find("L-BFGS"), std::string::npos);

  // Only linear heads: a convolutional network over every window at once is not what it is for.
  options = tiny_options(tiny, scratch / "c.tlm", "shortchunk");
  options.solver = Solver::Lbfgs;
  EXPECT_THROW(train_model(options), ModelError);
}

// --refit: a second run from the start on the training and validation tracks together, for the first run's
// best epoch; the model written is that run's, and says so.
TEST(Training, RefitTrainsAgainOnTrainingAndValidationTracksForTheBestEpoch) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path(), 16, 70, 3, 8, 2, 1, true);
  TrainOptions options = tiny_options(tiny, scratch / "plain.tlm", "mfcc-linear");
  options.solver = Solver::Lbfgs;
  options.epochs = 8;
  options.patience = 2;
  options.network.n_mfcc = 8;
  const TrainResult plain = train_model(options);
  ASSERT_GT(plain.val_tracks, 0u);
  EXPECT_FALSE(plain.refitted);

  options.out = scratch / "refit.tlm";
  options.refit = true;
  const TrainResult refit = train_model(options);
  EXPECT_TRUE(refit.refitted);
  EXPECT_EQ(refit.best_epoch, plain.best_epoch);
  EXPECT_EQ(refit.selection_history.size(), plain.history.size());
  ASSERT_EQ(refit.history.size(), static_cast<std::size_t>(plain.best_epoch));  // the refit run's epochs
  EXPECT_TRUE(std::isnan(refit.history.back().val_loss));                       // no tracks left to validate on
  const ModelInfo info = read_model_info(options.out);
  EXPECT_NE(info.weights_hash, read_model_info(scratch / "plain.tlm").weights_hash);
  const auto provenance = nlohmann::json::parse(info.metadata_json).at("provenance");
  EXPECT_EQ(provenance.at("refit").at("epochs").get<int>(), plain.best_epoch);
  EXPECT_EQ(provenance.at("refit").at("val_tracks_added").get<std::size_t>(), plain.val_tracks);
  // The standardisation learnt from the training and validation tracks together: not the first run's.
  EXPECT_NE(info.features.mean, read_model_info(scratch / "plain.tlm").features.mean);
}

TEST(Training, StandardNormalisationIsStoredWithTheModel) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm", "resnet");
  options.epochs = 1;
  options.normalisation = Normalisation::Standard;
  train_model(options);
  const ModelInfo info = read_model_info(options.out);
  ASSERT_EQ(info.features.mean.size(), 16u);
  EXPECT_LT(info.features.mean[0], -30.0f);  // decibels
  EXPECT_GT(info.features.std[0], 1.0f);
}

TEST(Training, BadOptionsAndCatalogsAreClearErrors) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm");
  options.split = "nope";
  try {
    train_model(options);
    FAIL();
  } catch (const ModelError& error) {
    EXPECT_NE(std::string(error.what()).find("no split named 'nope' (splits: main)"), std::string::npos) << error.what();
  }
  options = tiny_options(tiny, scratch / "m.tlm");
  options.resume = true;
  EXPECT_THROW(train_model(options), ModelError);  // no checkpoint
  options = tiny_options(tiny, scratch / "m.tlm", "convpool");
  EXPECT_THROW(train_model(options), ModelError);  // 16 x 32 is too small for convpool
}

// --- transfer learning

TEST(Transfer, TorchScriptFixtureReproducesItsOutput) {
  const std::string archive = testing::read_bytes(data_path("torchscript/backbone_resnet_tiny.pt"));
  const NpyArray input = read_npy(data_path("torchscript/backbone_input.npy"));
  const NpyArray expected = read_npy(data_path("torchscript/backbone_output.npy"));
  ASSERT_EQ(input.shape.size(), 4u);
  NetworkSettings settings;
  settings.name = "torchscript";
  auto network = model::make_network(settings, input.shape[2], input.shape[3], 4, archive);
  EXPECT_EQ(network->embedding_size(), 256u);
  network->set_training(false);
  std::vector<std::int64_t> shape(input.shape.begin(), input.shape.end());
  const torch::Tensor x = torch::from_blob(const_cast<float*>(input.values.data()), shape, torch::kFloat32);
  const torch::Tensor out = model::infer(*network, x).embeddings.contiguous();
  ASSERT_EQ(static_cast<std::size_t>(out.numel()), expected.values.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < expected.values.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(out.data_ptr<float>()[i]) - expected.values[i]));
  EXPECT_LE(worst, 1e-5);
}

TEST(Transfer, TrainsANewHeadOnTheTorchScriptBackbone) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm");
  options.backbone = data_path("torchscript/backbone_resnet_tiny.pt");
  options.freeze = 1;  // the head only
  options.epochs = 2;
  options.learning_rate = 0.01;
  const TrainResult result = train_model(options);
  ASSERT_EQ(result.history.size(), 2u);
  const ModelInfo info = read_model_info(options.out);
  EXPECT_EQ(info.network.name, "torchscript");
  EXPECT_EQ(info.embedding_size, 256u);
  // The frozen backbone is the fixture's, weights and BatchNorm statistics alike; the head learnt.
  const torch::jit::Module fixture = torch::jit::load(data_path("torchscript/backbone_resnet_tiny.pt").string());
  std::map<std::string, torch::Tensor> original;
  for (const auto& p : fixture.named_parameters(true)) original["backbone." + p.name] = p.value;
  for (const auto& b : fixture.named_buffers(true)) original["backbone." + b.name] = b.value;
  std::size_t compared = 0;
  for (const auto& [name, tensor] : weights_of(options.out))
    if (original.count(name)) {
      EXPECT_TRUE(torch::equal(tensor, original[name])) << name;
      ++compared;
    }
  EXPECT_EQ(compared, original.size());
  // The model file carries the backbone: it loads and classifies on its own.
  const Model model = Model::load(options.out);
  const WindowPredictions p = model.predict(Spectrogram(16, 64));
  EXPECT_EQ(p.windows, 2u);
  EXPECT_EQ(p.embedding_size, 256u);
}

TEST(Transfer, InitCopiesMatchingLayersAndFreezeTrainsOnlyTheLastBlocks) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions first = tiny_options(tiny, scratch / "first.tlm");
  first.epochs = 1;
  train_model(first);
  // Another catalog with four classes: the head has another shape, the rest matches.
  const TinyCatalog other = make_catalog(scratch / "other", 16, 70, 4, 6, 2, 9);
  TrainOptions second = tiny_options(other, scratch / "second.tlm");
  second.epochs = 1;
  second.init = first.out;
  second.freeze = 2;  // dense and head
  std::vector<std::string> messages;
  TrainCallbacks callbacks;
  callbacks.on_message = [&](const std::string& line) { messages.push_back(line); };
  train_model(second, callbacks);
  bool said = false;
  for (const auto& m : messages) said = said || m.find("init: ") == 0;
  EXPECT_TRUE(said);
  std::map<std::string, torch::Tensor> before;
  for (auto& [name, tensor] : weights_of(first.out)) before[name] = tensor;
  for (const auto& [name, tensor] : weights_of(second.out)) {
    const bool learnt = name.starts_with("head.") || name.starts_with("dense.");
    if (name.starts_with("head.")) {
      EXPECT_NE(before[name].sizes(), tensor.sizes());
    } else if (learnt) {
      if (name.ends_with("num_batches_tracked")) continue;
      EXPECT_FALSE(torch::equal(before[name], tensor)) << name;
    } else {
      EXPECT_TRUE(torch::equal(before[name], tensor)) << name;
    }
  }

  // Other classes of the same number (five new genres after five old ones): everything but the head comes
  // over; the head is a new one, not the old classes' answers. The same classes keep the head too.
  auto init_message = [&](const TinyCatalog& catalog, const std::string& name) {
    TrainOptions options = tiny_options(catalog, scratch / name);
    options.epochs = 1;
    options.init = first.out;
    std::string said;
    TrainCallbacks callbacks;
    callbacks.on_message = [&](const std::string& line) { (said += line) += '\n'; };
    train_model(options, callbacks);
    return said;
  };
  const std::size_t tensors = weights_of(first.out).size();
  const TinyCatalog renamed = make_catalog(scratch / "renamed", 16, 70, 3, 8, 2, 5, false, "style");
  const std::string new_head = init_message(renamed, "renamed.tlm");
  EXPECT_NE(new_head.find(fmt::format("init: {} of {} tensors", tensors - 2, tensors)), std::string::npos)
      << new_head;
  EXPECT_NE(new_head.find("a new head"), std::string::npos) << new_head;
  const std::string same = init_message(tiny, "same.tlm");
  EXPECT_NE(same.find(fmt::format("init: {} of {} tensors", tensors, tensors)), std::string::npos) << same;
  EXPECT_EQ(same.find("new head"), std::string::npos) << same;
  EXPECT_EQ(same.find("other features"), std::string::npos) << same;
  // Features of another configuration (24 mel bands, not 16): copied, with a warning.
  const TinyCatalog wider = make_catalog(scratch / "wider", 24, 70, 3, 8, 2, 5);
  const std::string other_features = init_message(wider, "wider.tlm");
  EXPECT_NE(other_features.find("was trained on other features"), std::string::npos) << other_features;
}

// --- the program

TEST(Program, ModelInfoDescribesAModelAndNamesABadFile) {
  ScratchDir scratch;
  const TinyCatalog tiny = make_catalog(scratch.path());
  TrainOptions options = tiny_options(tiny, scratch / "m.tlm", "mfcc-linear");
  options.epochs = 1;
  train_model(options);
  const ProgramRun info = tunelens("model info '" + options.out.string() + "'", scratch);
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("mfcc-linear"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("normalisation standard"), std::string::npos) << info.out;
  const ProgramRun json = tunelens("model info --json '" + options.out.string() + "'", scratch);
  ASSERT_EQ(json.status, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out).at("classes").size(), 3u);

  const fs::path bad = scratch / "bad.tlm";
  testing::write_bytes(bad, "definitely not a model");
  const ProgramRun error = tunelens("model info '" + bad.string() + "'", scratch);
  EXPECT_EQ(error.status, 2);
  EXPECT_EQ(error.err, "tunelens model info: error: " + bad.string() + ": not a tunelens model file\n");
  const ProgramRun train_error = tunelens("train '" + tiny.file.string() + "' --split main --out '" +
                                              (scratch / "x.tlm").string() + "' --model convpool --window 32 -q",
                                          scratch);
  EXPECT_EQ(train_error.status, 2);
  EXPECT_NE(train_error.err.find("tunelens train: error: convpool needs inputs of at least"), std::string::npos)
      << train_error.err;
}

}  // namespace
}  // namespace tunelens
