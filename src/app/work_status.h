// Use case: the shared work of a catalog at a glance (tunelens status): per job, how many tracks are pending,
// claimed (and of those, how many a dead worker left to lapse), done and failed, and the workers heard of.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "store/catalog.h"

namespace tunelens::app {

struct WorkStatusRequest {
  std::string catalog;
  double workers_within_seconds = 3600.0;  // workers heard of in this long (0: all ever recorded)
};

struct WorkStatus {
  std::string catalog;  // as messages name it (a URI's password masked)
  std::size_t tracks = 0;
  std::vector<WorkCounts> jobs;
  std::vector<WorkerRecord> workers;  // most recently seen first
};

// Throws CatalogError (no such catalog, no server).
WorkStatus work_status(const WorkStatusRequest& request);

}  // namespace tunelens::app
