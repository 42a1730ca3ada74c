// Seeds that no test fixture provides, made at run time by the tunelens code itself so that none is committed:
//   make_seeds catalog DIR   small catalogs: a new one, one with tracks, splits, features and vectors, and a file
//                            at schema version 0 (to be migrated)
//   make_seeds model DIR     small model files: shortchunk of width 1, mfcc-linear, a vector head, a checkpoint
//   make_seeds csv DIR       a CSV for `dataset import csv` naming the files fuzz_import_csv puts beside it
// Catalogs are rewritten with 512-byte pages (VACUUM) so that a few kilobytes hold a whole one.
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/model_file.h"
#include "store/catalog.h"
#ifndef TUNELENS_FUZZ_NO_TORCH
#include "model/networks.h"
#endif

namespace {

namespace fs = std::filesystem;
using tunelens::Catalog;

void sql(const fs::path& file, const std::string& statements) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, statements.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    throw std::runtime_error(file.string() + ": " + sqlite3_errmsg(db));
  sqlite3_close(db);
}

void compact(const fs::path& file) {
  sql(file, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;");
}

void catalog_seeds(const fs::path& dir) {
  for (const char* name : {"new.db", "full.db", "version0.db"})
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dir / (std::string(name) + suffix));
  {
    Catalog::create(dir / "new.db", dir);
  }
  {
    Catalog catalog = Catalog::create(dir / "full.db", dir / "music");
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 4; ++i) {
      const std::string n = std::to_string(i), label = "genre" + std::to_string(i % 2);
      const tunelens::TrackInfo info{.path = label + "/track" + n + ".wav", .fingerprint = std::string(16, 'a' + i),
                                     .size = 1000 + i, .duration = 1.5, .sample_rate = 22050, .channels = 1,
                                     .codec = "pcm_s16le", .title = "Track " + n, .artist = "Artist " + label,
                                     .album = "Album", .album_order = 1, .year = 1999, .track_number = i + 1,
                                     .label = label, .source = "csv", .source_id = n, .source_split = "train",
                                     .source_subset = std::nullopt};
      ids.push_back(*catalog.add_track(info));
    }
    const std::vector<tunelens::SplitAssignment> parts = {{ids[0], tunelens::SplitPart::Train},
                                                          {ids[1], tunelens::SplitPart::Val},
                                                          {ids[2], tunelens::SplitPart::Test}};
    catalog.set_split("default", "fraction", 1, R"({"val":0.25})", parts);
    const std::string config = catalog.add_feature_config(R"({"kind":"mel","n_mels":8,"sample_rate":22050})");
    catalog.record_features({ids[0], config, tunelens::FeatureStatus::Done, 8, 40, 1.5, ""});
    catalog.record_features({ids[1], config, tunelens::FeatureStatus::Failed, 0, 0, 0.0, "corrupt audio"});
    const std::vector<float> vector = {0.5f, -0.5f, 1.0f};
    catalog.set_prediction(ids[0], "model", vector);
    catalog.set_vector(ids[0], "model", "embedding", vector);
  }
  fs::copy_file(dir / "new.db", dir / "version0.db");
  sql(dir / "version0.db", "PRAGMA user_version = 0;");
  for (const char* name : {"new.db", "full.db", "version0.db"}) compact(dir / name);
}

struct Weights {
  std::string bytes;  // encoded tensors
  std::size_t embedding_size = 0, parameters = 0;
};

// The network's initial weights; without libtorch (the fuzz build, see fuzz/CMakeLists.txt), no tensors at all:
// the harness built there reads the container and the metadata only.
Weights initial_weights(const tunelens::NetworkSettings& network, std::size_t rows, std::size_t columns,
                        std::size_t classes) {
#ifdef TUNELENS_FUZZ_NO_TORCH
  (void)network;
  return {std::string(4, '\0'), rows, rows * columns * classes};
#else
  namespace model = tunelens::model;
  const auto built = model::make_network(network, rows, columns, classes, "");
  return {model::encode_tensors(built->state()), built->embedding_size(), model::parameter_count(*built)};
#endif
}

// A small network's model file: the metadata a trained one has (model_file.cpp's keys), its initial weights.
void write_model(const fs::path& file, const tunelens::NetworkSettings& network, std::size_t n_mels,
                 std::size_t frames, const std::string& kind) {
  namespace model = tunelens::model;
  tunelens::FeatureConfig features;
  features.settings.mel.n_mels = static_cast<int>(n_mels);
  features.window_frames = frames;
  const bool mfcc = network.name == "mfcc-linear";
  const std::size_t rows = mfcc ? 2 * static_cast<std::size_t>(network.n_mfcc) : n_mels;
  const std::size_t columns = mfcc ? 1 : frames;
  const std::vector<std::string> classes = {"one", "two", "three"};
  const Weights weights = initial_weights(network, rows, columns, classes.size());
  model::ModelFile contents;
  contents.weights = weights.bytes;
  contents.metadata = {{"format", "tunelens model"},
                       {"format_version", model::kModelFormatVersion},
                       {"kind", kind},
                       {"network", model::network_settings_json(network)},
                       {"classes", classes},
                       {"features", model::feature_config_json(features)},
                       {"input", {{"rows", rows}, {"frames", columns}}},
                       {"embedding_size", weights.embedding_size},
                       {"parameters", weights.parameters},
                       {"weights_hash", model::hex64(model::fnv1a64(contents.weights.data(), contents.weights.size()))}};
  model::write_model_file(file, contents);
}

void model_seeds(const fs::path& dir) {
  tunelens::NetworkSettings shortchunk;
  shortchunk.width = 1;
  write_model(dir / "shortchunk.tlm", shortchunk, 16, 32, "model");
  tunelens::NetworkSettings mfcc;
  mfcc.name = "mfcc-linear";
  mfcc.n_mfcc = 3;
  write_model(dir / "mfcc-linear.tlm", mfcc, 16, 32, "model");
  write_model(dir / "mfcc-linear.checkpoint", mfcc, 16, 32, "checkpoint");
  tunelens::NetworkSettings head;
  head.name = "vector-head";
  write_model(dir / "vector-head.tlm", head, 4, 1, "model");
}

void csv_seeds(const fs::path& dir) {
  std::ofstream out(dir / "list.csv", std::ios::binary);
  out << "path,label,artist,album,title,year,split\n"
         "a.wav,rock,An Artist,An Album,\"A title, with a comma\",1999,train\n"
         "b/c.wav,jazz,,,,,validation\n"
         "d.mp3,pop,Another,,,2001,test\n"
         "missing.wav,rock,,,,,\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc == 3 ? argv[1] : "";
  if (kind != "catalog" && kind != "model" && kind != "csv") {
    std::fprintf(stderr, "usage: make_seeds catalog|model|csv DIR\n");
    return 2;
  }
  try {
    const fs::path dir = argv[2];
    fs::create_directories(dir);
    if (kind == "catalog")
      catalog_seeds(dir);
    else if (kind == "model")
      model_seeds(dir);
    else
      csv_seeds(dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "make_seeds: %s\n", error.what());
    return 1;
  }
  return 0;
}
