// The service's counters, in the Prometheus text format (version 0.0.4): requests by route and status,
// latency histograms by route, and gauges set when the page is scraped.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tunelens::server {

class Metrics {
 public:
  // One request answered: its route pattern ("/api/tracks/{id}"), status and seconds taken.
  void record(const std::string& route, int status, double seconds);
  // The text of GET /metrics; `gauges` are name, help and value (tunelens_catalog_tracks, ...).
  std::string text(const std::vector<std::pair<std::pair<std::string, std::string>, double>>& gauges) const;

 private:
  struct Latency {
    std::vector<std::size_t> buckets;  // counts at or under each bound of kBounds
    double sum = 0.0;
    std::size_t count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::size_t> requests_;
  std::map<std::string, Latency> latency_;
};

}  // namespace tunelens::server
