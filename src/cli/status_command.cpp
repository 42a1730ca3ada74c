// tunelens status --catalog C: the shared work of a catalog (app/work_status.h), as a table or JSON.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/work_status.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "store/json_text.h"

namespace tunelens::cli {
namespace {

struct StatusArgs {
  app::WorkStatusRequest request;
  bool json = false;
};

nlohmann::json to_json(const app::WorkStatus& status) {
  nlohmann::json out = {{"catalog", status.catalog}, {"tracks", status.tracks}};
  out["jobs"] = nlohmann::json::array();
  for (const WorkCounts& job : status.jobs)
    out["jobs"].push_back({{"job", job.job},
                           {"pending", job.pending},
                           {"claimed", job.claimed},
                           {"expired", job.expired},
                           {"done", job.done},
                           {"failed", job.failed},
                           {"finished_last_minute", job.done_last_minute}});
  out["workers"] = nlohmann::json::array();
  for (const WorkerRecord& worker : status.workers)
    out["workers"].push_back({{"name", worker.name},
                              {"host", worker.host},
                              {"pid", worker.pid},
                              {"jobs", worker.jobs},
                              {"state", worker.state},
                              {"done", worker.done},
                              {"failed", worker.failed},
                              {"seen_seconds_ago", worker.seen_seconds_ago}});
  return out;
}

int run_status(const StatusArgs& args) {
  const app::WorkStatus status = app::work_status(args.request);
  if (args.json) {
    std::cout << json_text(to_json(status), 2) << "\n";
    return kSuccess;
  }
  std::cout << fmt::format("{}: {} tracks\n", status.catalog, status.tracks);
  if (status.jobs.empty()) std::cout << "no work queued (tunelens worker queues it)\n";
  else
    std::cout << fmt::format("\n{:<28} {:>9} {:>9} {:>9} {:>9} {:>12}\n", "job", "pending", "claimed", "done",
                             "failed", "last minute");
  for (const WorkCounts& job : status.jobs) {
    std::cout << fmt::format("{:<28} {:>9} {:>9} {:>9} {:>9} {:>12}\n", job.job, job.pending, job.claimed,
                             job.done, job.failed, job.done_last_minute);
    if (job.expired > 0)
      std::cout << fmt::format("  {} of the claims have a lapsed lease (a worker gone): the next claim takes them\n",
                               job.expired);
  }
  if (!status.workers.empty())
    std::cout << fmt::format("\n{:<28} {:<16} {:>8} {:<14} {:<8} {:>7} {:>7} {:>10}\n", "worker", "host", "pid",
                             "jobs", "state", "done", "failed", "last seen");
  for (const WorkerRecord& worker : status.workers)
    std::cout << fmt::format("{:<28} {:<16} {:>8} {:<14} {:<8} {:>7} {:>7} {:>8.0f} s\n", worker.name, worker.host,
                             worker.pid, worker.jobs, worker.state, worker.done, worker.failed,
                             worker.seen_seconds_ago);
  return kSuccess;
}

}  // namespace

void add_status_command(CLI::App& app) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* command = app.add_subcommand(
      "status", "The shared work of a catalog: pending, claimed, done and failed tracks per job, and its workers");
  command->add_option("--catalog", args->request.catalog, "Catalog: postgresql://user@host/db or a file")
      ->required();
  command
      ->add_option("--workers-within", args->request.workers_within_seconds,
                   "Workers heard of in this many seconds (0: every worker ever recorded)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  command->add_flag("--json", args->json, "JSON instead of the table");
  set_action(command, [args] { return run_status(*args); });
}

}  // namespace tunelens::cli
