// Use case: tunelens worker. One of any number of processes, on any number of machines, that share the work
// of one catalog (PostgreSQL, or an SQLite file for the processes of one machine): each claims a batch of
// tracks, computes, stores the results with the end of the claim in one transaction, and claims again, until
// nothing is left (or, following, waits for new tracks). The work table and its leases are the catalog's
// (store/catalog.h); audio and feature files live under the dataset root that every worker mounts.
//
// Jobs, per track, for one model:
//   ingest   new audio files in an inbox folder become tracks (probed, fingerprinted, their tags read, as
//            tunelens dataset import does), which the other jobs then take up. Files changed in the last few
//            seconds are left for the next look (still being copied); a file that cannot be read is named once.
//   extract  its mel spectrogram in the model's feature configuration: the feature file and its record
//   index    its prediction and two vectors (as tunelens index): from its feature file when the catalog has
//            the model's configuration, else from its audio. When the extract job has been queued, a track is
//            indexed only once its extraction is over, so its vectors never depend on which came first.
// A worker that dies (SIGKILL, a lost machine) leaves its claims to lapse: another worker takes them when
// their lease runs out. Results are idempotent (the same track gives the same bytes), so a claim finished
// twice stores the same thing; a worker whose claim was taken over rolls its result back.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "app/progress.h"

namespace tunelens::app {

struct WorkerRequest {
  std::string catalog;  // postgresql://... or an SQLite file
  std::string model;    // model file or shipped network
  std::vector<std::string> jobs = {"extract", "index"};
  std::string inbox;  // the ingest job's folder (its subfolders too), mounted by every worker at this path
  double inbox_settle_seconds = 5.0;  // a file changed more recently than this is left for the next look
  std::string name;                    // unique among the catalog's workers; empty: <host>-<pid>
  std::size_t batch = 16;              // tracks per claim (and per transaction)
  double lease_seconds = 60.0;         // a claim not renewed for this long goes back to the queue
  int max_attempts = 3;                // a track whose claims lapsed this often is marked failed
  bool follow = false;                 // when all is done, wait for new tracks instead of stopping
  double poll_seconds = 5.0;           // how often a waiting worker looks again
  bool retry_failed = false;           // failed tracks of the jobs are queued again first
  int threads = 1;                     // libtorch threads of the model (run one worker per core)
  std::function<bool()> stop_requested;  // polled between tracks: true gives the claims back and stops
  // Called with the number of tracks computed so far, after each, before its batch is stored. Tests use it to
  // kill the worker holding a claimed batch.
  std::function<void(std::size_t)> after_track_computed;
};

struct WorkerJobSummary {
  std::string job;  // as the work table names it: extract:<config id>, index:<model key>; or ingest
  std::size_t done = 0, failed = 0;
  std::size_t lost = 0;  // claims another worker took over (this one was too slow to renew them)
};

struct WorkerSummary {
  std::string name;
  std::vector<WorkerJobSummary> jobs;
  std::size_t batches = 0;
  bool stopped = false;  // asked to stop (its claims given back) rather than out of work
};

// Runs one worker until nothing is pending or claimed (or, following, until asked to stop). `on_track` hears of
// each track finished, its error naming the track. Throws CatalogError (the catalog itself failing), ModelError,
// BadRequest (an unknown job).
WorkerSummary run_worker(const WorkerRequest& request, const OnItemDone& on_track = {});

}  // namespace tunelens::app
