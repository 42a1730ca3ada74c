#include "app/work_status.h"

namespace tunelens::app {

WorkStatus work_status(const WorkStatusRequest& request) {
  if (!catalog_exists(request.catalog))
    throw CatalogError(CatalogErrorKind::NotFound, request.catalog, "no such catalog");
  const Catalog catalog = Catalog::open(request.catalog);
  WorkStatus status;
  status.catalog = catalog.name();
  status.tracks = catalog.track_count();
  status.jobs = catalog.work_counts();
  status.workers = catalog.workers(request.workers_within_seconds);
  return status;
}

}  // namespace tunelens::app
