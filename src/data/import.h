// Importing the files a source scan found into a catalog: each file is probed (its audio must decode), its
// bytes fingerprinted, and its row inserted keyed on its path relative to the dataset root. Idempotent: a
// file already in the catalog is left alone. Rows go in by batches, each one transaction, in the order of the
// scan (so track ids are reproducible); a run killed part-way keeps whole batches only, and a rerun adds the
// rest.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "audio/probe.h"
#include "data/sources.h"
#include "store/catalog.h"

namespace tunelens {

struct ImportOptions {
  unsigned threads = 0;    // files probed at once; 0: all cores
  std::size_t batch = 64;  // rows per transaction
  // Called on the calling thread: once per file that could not be imported (one line naming it and the
  // reason), and once per file handled (its origin), for progress.
  std::function<void(const std::string&)> on_problem;
  // A file imported with a doubt (a header claiming more audio than the file holds), one line naming it.
  std::function<void(const std::string&)> on_warning;
  std::function<void(const std::string&)> on_progress;
};

struct ImportSummary {
  std::size_t added = 0;
  std::size_t already = 0;  // in the catalog before this import
  std::size_t failed = 0;   // unreadable audio, listed twice, ...
  double seconds = 0.0;     // audio added, in seconds
};

// What the dataset source left unsaid (title, artist, album, year, track number), filled from the file's
// tags; what it says stays (a CSV's or FMA's metadata, a title from the file name).
void fill_from_tags(TrackInfo& info, const AudioTags& tags);

ImportSummary import_candidates(Catalog& catalog, const std::vector<ImportCandidate>& candidates,
                                const ImportOptions& options = {});

}  // namespace tunelens
