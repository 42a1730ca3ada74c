// The cold-start path (the must-show 4): a new 30 s upload into a catalog of 10,000 tracks and its 10
// nearest tracks, end to end through the code of `tunelens ingest` (app/ingest.h: ingest_files), against a
// baseline in the same run.
//
//   bench_ingest [--tracks 10000] [--model FILE | --network shortchunk --width 32] [--rounds 11] [--seconds
//   30]
//                [--threads 1] [--keep DIR]
//
// Set-up (not timed): without --model, a small model (--network, --width; shortchunk of width 32 has a
// 128-value embedding) is trained for one epoch on a few generated tones (seconds); a catalog of --tracks
// tracks (no audio: rows, the model's feature configuration, predictions and both vectors inserted through
// the Catalog API, vectors random but shaped like the model's: softmax probabilities and L2-normalised
// embeddings); and the upload, a 30 s 44.1 kHz stereo WAV of a melody of harmonic notes with a little noise.
//
// Each round copies the catalog afresh and times, from opening the model and catalog to the neighbours in
// hand:
//   tunelens  ingest_files(k = 10): probe, decode, resample, features, model, one transaction (track, feature
//             file, prediction, vectors), then the 10 nearest in an exact index built from one bulk read of
//             the catalog's vectors (Catalog::vectors), blocked matrix products;
//   baseline  the same ingest with k = 0, then the neighbours as similar found them before: every track
//   listed,
//             each one's vector read by its own query (Catalog::vector), a distance per track in a plain
//             loop, the 10 best kept.
// One thread by default: a lone file gains little from more, and on a machine busy with other work libtorch's
// intra-op threads then wait on each other (the model's 60 ms became 0.8 s with 2 threads under a load of 7
// on 2 cores). Rounds alternate the two so that noise from other work on the machine hits both, after one
// untimed round of each (page cache, FFT plans); the median and the fastest round are printed, and the two
// paths are checked to return the same 10 tracks.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "bench_catalog.h"
#include "app/ingest.h"
#include "app/track_vectors.h"
#include "data/extract.h"
#include "data/import.h"
#include "model/model.h"
#include "store/catalog.h"
#include "store/fingerprint.h"

namespace {

namespace fs = std::filesystem;
using namespace tunelens;
using namespace tunelens::bench;

struct Settings {
  std::size_t tracks = 10'000;
  std::string model;
  std::string network = "shortchunk";
  int width = 32;
  int rounds = 11;
  double seconds = 30.0;
  int threads = 1;
  std::string keep;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// A fresh copy of the big catalog for one round (the ingest adds a track to it).
fs::path fresh_copy(const fs::path& catalog, const fs::path& folder) {
  const fs::path copy = folder / "round.db";
  for (const char* suffix : {"", ".features", ".index", "-wal", "-shm"}) {
    fs::path path = copy;
    path += suffix;
    fs::remove_all(path);
  }
  fs::copy_file(catalog, copy);
  return copy;
}

// The neighbours as similar found them before Catalog::vectors: one query per track, a plain loop.
std::vector<std::int64_t> naive_nearest(const fs::path& catalog_file, const std::string& key,
                                        std::int64_t query_id, std::size_t k) {
  const Catalog catalog = Catalog::open(catalog_file);
  const std::vector<float> query = *catalog.vector(query_id, key, "embedding");
  std::vector<std::pair<float, std::int64_t>> scored;
  for (const Track& track : catalog.tracks()) {
    if (track.id == query_id) continue;
    const auto vector = catalog.vector(track.id, key, "embedding");
    if (!vector) continue;
    double dot = 0.0, norm = 0.0;
    for (std::size_t d = 0; d < vector->size(); ++d) {
      dot += static_cast<double>(query[d]) * (*vector)[d];
      norm += static_cast<double>((*vector)[d]) * (*vector)[d];
    }
    scored.emplace_back(static_cast<float>(1.0 - dot / std::sqrt(norm)), track.id);
  }
  const std::size_t n = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end());
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(scored[i].second);
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_ingest: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--tracks")
      settings.tracks = std::stoul(value());
    else if (arg == "--model")
      settings.model = value();
    else if (arg == "--network")
      settings.network = value();
    else if (arg == "--width")
      settings.width = std::stoi(value());
    else if (arg == "--rounds")
      settings.rounds = std::stoi(value());
    else if (arg == "--seconds")
      settings.seconds = std::stod(value());
    else if (arg == "--threads")
      settings.threads = std::stoi(value());
    else if (arg == "--keep")
      settings.keep = value();
    else {
      std::fprintf(stderr,
                   "usage: bench_ingest [--tracks N] [--model FILE | --network NAME --width N] [--rounds N] "
                   "[--seconds S] [--threads N] [--keep DIR]\n");
      return 2;
    }
  }
  try {
    const fs::path folder =
        settings.keep.empty()
            ? fs::temp_directory_path() / ("bench-ingest-" + std::to_string(std::random_device{}()))
            : fs::path(settings.keep);
    fs::create_directories(folder);
    double start = now_seconds();
    const fs::path model =
        settings.model.empty() ? train_small_model(folder, settings.network, settings.width, settings.threads) : fs::path(settings.model);
    const double train_seconds = now_seconds() - start;
    start = now_seconds();
    const fs::path catalog = folder / "big.db";
    make_catalog(catalog, model, settings.tracks);
    const double catalog_seconds = now_seconds() - start;
    const fs::path upload = folder / "upload.wav";
    write_wav(upload, melody(settings.seconds, 44100, 2, 3), 44100, 2);
    const ModelInfo info = read_model_info(model);
    const std::string key = app::model_vector_key(info, model.string());
    std::printf(
        "bench_ingest: catalog of %zu tracks (model %s, %zu classes, embedding %zu; %s %.1f s, catalog %.1f "
        "s);"
        " one new %.0f s 44.1 kHz stereo WAV; %d thread%s\n",
        settings.tracks, info.network.name.c_str(), info.classes.size(), info.embedding_size,
        settings.model.empty() ? "trained in" : "given, loaded in", train_seconds, catalog_seconds,
        settings.seconds, settings.threads, settings.threads == 1 ? "" : "s");

    app::IngestOptions options;
    options.k = 10;
    options.threads = settings.threads;
    std::vector<double> ours, baseline, ingest_only, opening, features, inference, storing, searching;
    std::vector<double> our_neighbours, naive_neighbours;  // the neighbour part alone
    std::vector<std::int64_t> our_ids, naive_ids;
    for (int round = -1; round < settings.rounds; ++round) {  // round -1: warm-up, not counted
      // tunelens: ingest and the 10 nearest, as `tunelens ingest -k 10` runs them.
      fs::path copy = fresh_copy(catalog, folder);
      app::IngestedFile added;
      start = now_seconds();
      const app::IngestSummary summary = app::ingest_files(
          copy, model, {upload}, options, [&](const app::IngestedFile& file) { added = file; });
      if (round >= 0) {
        ours.push_back(now_seconds() - start);
        opening.push_back(summary.open_seconds);
        features.push_back(added.features_seconds);
        inference.push_back(added.model_seconds);
        storing.push_back(added.store_seconds);
        searching.push_back(added.search_seconds);
        our_neighbours.push_back(summary.index_open_seconds + added.search_seconds);
      }
      if (added.outcome != app::IngestOutcome::Added)
        throw std::runtime_error("ingest failed: " + added.reason);
      our_ids.clear();
      for (const app::Neighbour& n : added.similar.neighbours) our_ids.push_back(n.id);

      // baseline: the same ingest without search, then the per-track scan.
      copy = fresh_copy(catalog, folder);
      app::IngestOptions no_search = options;
      no_search.k = 0;
      start = now_seconds();
      app::ingest_files(copy, model, {upload}, no_search,
                        [&](const app::IngestedFile& file) { added = file; });
      const double ingested = now_seconds() - start;
      naive_ids = naive_nearest(copy, key, added.track, 10);
      const double total = now_seconds() - start;
      if (round >= 0) {
        baseline.push_back(total);
        naive_neighbours.push_back(total - ingested);
        ingest_only.push_back(ingested);
      }
    }
    std::sort(our_ids.begin(), our_ids.end());  // as sets: float rounding may swap near-ties
    std::sort(naive_ids.begin(), naive_ids.end());
    if (our_ids != naive_ids) {
      std::fprintf(stderr, "bench_ingest: the two paths found different neighbours\n");
      return 1;
    }
    const double ours_median = median(ours), baseline_median = median(baseline);
    std::printf(
        "tunelens ingest + 10 nearest (bulk vector read, exact index):  median %.3f s, fastest %.3f s (%d "
        "rounds)\n",
        ours_median, *std::min_element(ours.begin(), ours.end()), settings.rounds);
    std::printf(
        "  stages (medians): model load + catalog open %.3f s; fingerprint, probe, decode, resample, "
        "features\n"
        "  %.3f s; model %.3f s; transaction %.3f s; index from the catalog %.3f s; add + search %.4f s\n",
        median(opening), median(features), median(inference), median(storing),
        median(our_neighbours) - median(searching), median(searching));
    std::printf("  the same ingest without search (k 0), in the baseline's rounds: median %.3f s\n",
                median(ingest_only));
    std::printf(
        "baseline: same ingest, then one vector query per track + scan:  median %.3f s, fastest %.3f s\n",
        baseline_median, *std::min_element(baseline.begin(), baseline.end()));
    std::printf(
        "ratio (baseline / tunelens, medians): %.2f x; the same 10 neighbours: yes; target < 0.5 s: %s\n",
        baseline_median / ours_median, ours_median < 0.5 ? "met" : "NOT met");
    std::printf(
        "the neighbour part alone: tunelens %.4f s (bulk read, exact index, search), baseline %.4f s "
        "(per-track reads, scan): %.1f x\n",
        median(our_neighbours), median(naive_neighbours), median(naive_neighbours) / median(our_neighbours));
    if (settings.keep.empty()) fs::remove_all(folder);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_ingest: error: %s\n", error.what());
    return 1;
  }
  return 0;
}
