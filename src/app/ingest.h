// The cold-start path of tunelens ingest (and bench/bench_ingest.cpp, which times this same code): new audio
// files into a catalog, each made recommendable at once, and their nearest tracks.
//
// For each file: skipped (and reported) when the catalog already holds its path or its content (fingerprint);
// else probed, decoded, turned into the model's own features, run through the model, and in ONE transaction
// added as a track (title, artist, album, year and track number from its tags, else the title from the file
// name; source "ingest", no label) with its feature file (when the
// catalog has the model's feature configuration), its prediction and both vectors. Then its vectors go into
// the open indexes (the search index, and every saved HNSW file of the model, saved again at the end) and its
// k nearest tracks are searched. Existing tracks are only read: nothing of theirs is recomputed or rewritten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/search.h"
#include "model/model.h"
#include "store/feature_array.h"

namespace tunelens::app {

struct IngestOptions {
  std::size_t k = 10;  // neighbours of each ingested track (0: no search)
  std::string by = "embedding";
  Metric metric = Metric::Cosine;
  SearchMode search = SearchMode::Auto;
  std::string faiss_kind;  // SearchMode::Faiss: the FAISS kind
  std::size_t nprobe = IndexOptions{}.nprobe, ef_search = IndexOptions{}.ef_search;  // search settings
  float probe_ratio = IndexOptions{}.probe_ratio;
  int threads = 0;                                                                   // 0: all cores
  // Lines for the user: "warning: ..." (a damaged stream, a stale index rebuilt, tracks without vectors).
  std::function<void(const std::string&)> on_message;
};

enum class IngestOutcome { Added, AlreadyThere, Failed };

struct IngestedFile {
  std::filesystem::path file;
  IngestOutcome outcome = IngestOutcome::Failed;
  std::int64_t track = 0;  // the new track, or the catalog's track with that path or content
  std::string reason;      // AlreadyThere / Failed: why, naming the file
  std::vector<std::pair<std::string, float>> genres;  // Added: the model's genres for it, most probable first
  SimilarResult similar;                              // Added with k > 0: its nearest tracks
  // Seconds spent on: fingerprint, probe, decode, resample and features; the model; the transaction (track,
  // feature file, prediction, vectors); adding to the indexes and searching.
  double features_seconds = 0.0, model_seconds = 0.0, store_seconds = 0.0, search_seconds = 0.0;
};

struct IngestSummary {
  std::size_t added = 0, already = 0, failed = 0;
  double open_seconds = 0.0;        // loading the model and opening the catalog
  double index_open_seconds = 0.0;  // opening the indexes (reading the catalog's vectors, or an HNSW file)
  std::string index_kind;   // "exact", "hnsw" or a FAISS kind (of the search index; empty without a search)
  std::size_t indexed = 0;  // vectors in the search index at the end
};

// One catalog's ingest with one model, kept open for many files (a command's run, the service's life).
class Ingester {
 public:
  // All must outlive this. `indexes` (of the model's key) take each added track; the service shares them with
  // its searches. Reads the catalog's feature configuration for the model.
  Ingester(Catalog& catalog, const Model& model, CatalogIndexes& indexes, IngestOptions options);
  // One file. Ingests of one catalog must not run side by side in one process (the caller keeps one writer);
  // other processes may ingest into the same catalog at the same time.
  IngestedFile ingest(const std::filesystem::path& file);

 private:
  std::optional<TrackVectors> add_track(const std::filesystem::path& file, IngestedFile& result);
  void message(const std::string& line) const;

  Catalog& catalog_;
  const Model& model_;
  CatalogIndexes& indexes_;
  IngestOptions options_;
  MelSpectrogram mel_;
  std::string feature_config_;  // empty: the catalog has not the model's feature configuration
  FeatureDtype feature_dtype_ = FeatureDtype::Float32;
};

// Ingests `files` into the catalog with the model, one after another; on_file is called after each. Throws
// ModelError, CatalogError (the model or catalog themselves failing); a bad audio file is an IngestedFile
// with outcome Failed, and the others go on.
IngestSummary ingest_files(const std::filesystem::path& catalog_file, const std::filesystem::path& model_file,
                           const std::vector<std::filesystem::path>& files, const IngestOptions& options,
                           const std::function<void(const IngestedFile&)>& on_file);

}  // namespace tunelens::app
