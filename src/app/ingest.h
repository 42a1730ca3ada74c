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
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recommend/catalog_index.h"

namespace tunelens {
class Catalog;
}

namespace tunelens::app {

// A ranked neighbour of a query, with what the catalog says about it.
struct Neighbour {
  std::int64_t id = 0;
  float distance = 0.0f;
  std::string title, artist, album, label, path;  // empty when unknown
};

// The k nearest tracks of `results` row 0 in the catalog, leaving out `exclude` (the query itself).
std::vector<Neighbour> neighbours_of(const Catalog& catalog, const SearchResults& results, std::size_t k,
                                     std::optional<std::int64_t> exclude);

enum class NeighbourFormat { Table, Json, Csv };
// "table", "json", "csv"; throws std::invalid_argument otherwise.
NeighbourFormat parse_neighbour_format(const std::string& text);
// Table: a header and one aligned row per neighbour. Csv: rank,id,distance,title,artist,album,label,path.
// Json: {"query", "by", "metric", "index", "indexed", "results": [{"rank", "id", "distance", "title",
// "artist", "album", "label", "path"}]} on one line. `indexed`: vectors the index searched.
void write_neighbours(std::ostream& out, NeighbourFormat format, const std::string& query,
                      const std::string& by, Metric metric, std::string_view index_kind, std::size_t indexed,
                      const std::vector<Neighbour>& neighbours);

struct IngestOptions {
  std::size_t k = 10;  // neighbours of each ingested track (0: no search)
  std::string by = "embedding";
  Metric metric = Metric::Cosine;
  SearchMode search = SearchMode::Auto;
  int threads = 0;  // 0: all cores
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
  std::vector<Neighbour> neighbours;
  std::string index_kind;   // of the index that found them: "exact" or "hnsw"
  std::size_t indexed = 0;  // vectors it held
  // Seconds spent on: fingerprint, probe, decode, resample and features; the model; the transaction (track,
  // feature file, prediction, vectors); adding to the indexes and searching.
  double features_seconds = 0.0, model_seconds = 0.0, store_seconds = 0.0, search_seconds = 0.0;
};

struct IngestSummary {
  std::size_t added = 0, already = 0, failed = 0;
  double open_seconds = 0.0;        // loading the model and opening the catalog
  double index_open_seconds = 0.0;  // opening the indexes (reading the catalog's vectors, or an HNSW file)
  std::string index_kind;           // "exact" or "hnsw" (of the search index; empty without a search)
  std::size_t indexed = 0;          // vectors in the search index at the end
};

// Ingests `files` into the catalog with the model, one after another; on_file is called after each. Throws
// ModelError, CatalogError (the model or catalog themselves failing); a bad audio file is an IngestedFile
// with outcome Failed, and the others go on.
IngestSummary ingest_files(const std::filesystem::path& catalog_file, const std::filesystem::path& model_file,
                           const std::vector<std::filesystem::path>& files, const IngestOptions& options,
                           const std::function<void(const IngestedFile&)>& on_file);

}  // namespace tunelens::app
