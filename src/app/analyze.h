// Use case: a whole collection through a model, as the original study did with a band's discography (tunelens
// analyze): every song cut into windows and classified, then the study of analysis/collection.h (per-song and
// per-album genre profiles with the albums in release order, each song's nearest songs, a map of all songs).
// The collection is a folder of album folders, or a catalog's tracks grouped into albums by artist and album.
// Writing the tables and the report (analysis/collection_report.h) is the front end's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis/collection.h"
#include "app/progress.h"

namespace tunelens::app {

struct AnalyzeRequest {
  std::string model;                 // model file or shipped network
  std::string collection;            // a collection folder, or
  std::string catalog;               // a catalog whose tracks to analyse
  std::string order;                 // collection: an album order file (one folder name per line)
  std::string tags = "all";          // tag models: profile by the tags of one kind only (genre, mood, ...)
  std::string map_by = "embedding";  // what the map is drawn from: embedding or probs
  std::size_t top_k = 3;             // top genres per song and album
  std::size_t neighbours = 5;        // nearest songs listed per song
  double perplexity = 30.0;          // t-SNE
  int iterations = 1000;             // t-SNE gradient steps
  std::uint64_t seed = 0;            // the same seed gives the same map
  int threads = 0;                   // songs decoded at once (0: all cores)
};

// Checks what needs no file: one of collection and catalog, an order only with a collection, t-SNE settings
// and top_k in range, map_by known. Throws BadRequest ("collection", "order", "perplexity", "iterations",
// "top_k", "map_by").
void check_analyze_request(const AnalyzeRequest& request);

struct AnalyzeResult {
  std::vector<std::string> notes;           // about the collection (folders an order file does not list)
  std::vector<CollectionProblem> problems;  // inputs left out before any song was decoded
  std::vector<std::string> failures;        // songs that could not be analysed: "<file>: <reason>"
  CollectionAnalysis analysis;

  std::size_t left_out() const { return problems.size() + failures.size(); }
};

// Reads the collection and runs every song through the model, songs in parallel; `on_read` hears of the
// collection as read (its notes and problems) before the first song is decoded, and may still stop the run by
// throwing (a front end whose output folder cannot be written); `on_song` hears of each song done (one call
// at a time). A bad song is a failure, and the others go on. Throws BadRequest (as check_analyze_request, and
// "tags" for a tag kind the model lacks) and ModelError before reading the collection; CollectionError,
// CatalogError; std::runtime_error when no song can be analysed.
AnalyzeResult analyze(const AnalyzeRequest& request,
                      const std::function<void(const Collection&)>& on_read = {},
                      const OnItemDone& on_song = {});

}  // namespace tunelens::app
