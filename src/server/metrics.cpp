#include "server/metrics.h"

#include <fmt/format.h>

namespace tunelens::server {
namespace {

// Latency bucket bounds in seconds: from a stored-vector search (~1 ms) to classifying a long upload.
constexpr double kBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                              0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
constexpr std::size_t kBucketCount = sizeof(kBounds) / sizeof(kBounds[0]);

// A label value with \, " and newlines escaped, as the format asks.
std::string label_value(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

}  // namespace

void Metrics::record(const std::string& route, int status, double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  Latency& latency = latency_[route];
  if (latency.buckets.empty()) latency.buckets.assign(kBucketCount, 0);
  for (std::size_t b = 0; b < kBucketCount; ++b)
    if (seconds <= kBounds[b]) ++latency.buckets[b];
  latency.sum += seconds;
  ++latency.count;
}

std::string Metrics::text(
    const std::vector<std::pair<std::pair<std::string, std::string>, double>>& gauges) const {
  const std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP tunelens_requests_total Requests answered, by route and status.\n";
  out += "# TYPE tunelens_requests_total counter\n";
  for (const auto& [key, count] : requests_)
    out += fmt::format("tunelens_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", label_value(key.first),
                       key.second, count);
  out += "# HELP tunelens_request_errors_total Requests answered with a server error (5xx), by route.\n";
  out += "# TYPE tunelens_request_errors_total counter\n";
  std::map<std::string, std::size_t> errors;
  for (const auto& [key, count] : requests_)
    if (key.second >= 500) errors[key.first] += count;
  for (const auto& [route, count] : errors)
    out += fmt::format("tunelens_request_errors_total{{route=\"{}\"}} {}\n", label_value(route), count);
  out += "# HELP tunelens_request_seconds Time from a request's arrival to its answer, by route.\n";
  out += "# TYPE tunelens_request_seconds histogram\n";
  for (const auto& [route, latency] : latency_) {
    const std::string name = label_value(route);
    for (std::size_t b = 0; b < kBucketCount; ++b)
      out += fmt::format("tunelens_request_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", name, kBounds[b],
                         latency.buckets[b]);
    out +=
        fmt::format("tunelens_request_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", name, latency.count);
    out += fmt::format("tunelens_request_seconds_sum{{route=\"{}\"}} {}\n", name, latency.sum);
    out += fmt::format("tunelens_request_seconds_count{{route=\"{}\"}} {}\n", name, latency.count);
  }
  for (const auto& [about, value] : gauges) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", about.first, about.second, about.first,
                       about.first, value);
  }
  return out;
}

}  // namespace tunelens::server
