// tunelens serve: a catalog and a model as an HTTP service with a page (server/server.h). The command parses
// its options and hands them over; it returns when the service stops (SIGTERM or SIGINT).
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/index_flags.h"
#include "server/server.h"

namespace tunelens::cli {
namespace {

struct ServeArgs {
  server::ServerOptions options;
  double max_upload_mb = 200.0;
  IndexFlags index;
};

int run_serve(ServeArgs& args) {
  if (!(args.max_upload_mb > 0.0) || args.max_upload_mb > 16384.0)
    throw CLI::ValidationError("--max-upload", "must be more than 0 and at most 16384 (MB)");
  args.options.max_upload = static_cast<std::size_t>(args.max_upload_mb * 1024.0 * 1024.0);
  args.options.index = args.index.choice();
  args.options.nprobe = args.index.nprobe;
  args.options.probe_ratio = args.index.probe_ratio;
  args.options.ef_search = args.index.ef_search;
  args.options.on_log = [](const std::string& line) { std::cerr << "tunelens serve: " << line << std::endl; };
  server::serve(args.options);
  return kSuccess;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  server::ServerOptions& o = args->options;
  CLI::App* command = app.add_subcommand(
      "serve", "Serve a catalog over HTTP: a JSON API and a page to search, listen, classify and explore");
  command->add_option("--catalog", o.catalog, "Catalog indexed with the model (tunelens index)")->required();
  command->add_option("--model,-m", o.model, "Model file, or a shipped network's name")->required();
  command->add_option("--host", o.host, "Address to listen on (0.0.0.0: every interface)")
      ->capture_default_str();
  command->add_option("--port", o.port, "Port (0: any free port, printed at start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  command->add_option("--threads,-j", o.threads, "Request threads (default: 8, or the cores if more)")
      ->check(thread_count());
  command
      ->add_option("--token-file", o.token_file,
                   "File whose first line is the token that write requests (POST /api/tracks) present as "
                   "'Authorization: Bearer <token>'; without it, writes are off")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--max-upload", args->max_upload_mb, "Largest request body, in MB (larger: 413, unread)")
      ->capture_default_str();
  command->add_option("--timeout", o.timeout_seconds, "Seconds a silent client is waited for")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  command
      ->add_option("--shutdown-timeout", o.shutdown_seconds,
                   "On SIGTERM: seconds the requests in flight may take to finish")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  command
      ->add_option(
          "--ingest-nice", o.ingest_nice,
          "CPU priority of ingests below reads: a nice value added to the service's (0: the same as reads)")
      ->capture_default_str()
      ->check(CLI::Range(0, 19));
  add_index_flags(command, args->index,
                  "a saved index file of any kind is used; with none, the kind to open (auto: exact or HNSW by size)");
  set_action(command, [args] { return run_serve(*args); });
}

}  // namespace tunelens::cli
