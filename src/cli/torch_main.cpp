// tunelens-torch: the commands of tunelens that need libtorch (see cli/app.h). Users run them as `tunelens train`,
// `tunelens model`, ...; tunelens hands the command line over to this program.
#include "cli/app.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace tunelens::cli;
  CLI::App app{"tunelens: tell the genre of music from its audio, and find tracks that sound alike"};
  app.name("tunelens");
  app.require_subcommand(1);
  app.set_version_flag("--version", version_line());
  add_train_command(app);
  add_model_command(app);
  add_evaluate_command(app);
  add_classify_command(app);
  add_index_command(app);
  add_similar_command(app);
  add_analyze_command(app);
  add_ingest_command(app);
  add_serve_command(app);
  add_worker_command(app);
  return run_app(app, argc, argv);
}
