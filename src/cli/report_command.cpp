// tunelens report index: one page linking report pages (train, evaluate, analyze), each by its title and
// summary.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/commands.h"
#include "report/html.h"

namespace tunelens::cli {
namespace {

struct ReportIndexArgs {
  std::string out;
  std::string title = "tunelens reports";
  std::vector<std::string> pages;
};

int run_report_index(const ReportIndexArgs& args) {
  const std::filesystem::path out = args.out;
  const std::filesystem::path folder = out.parent_path();
  std::vector<report::PageLink> links;
  std::size_t missing = 0;
  for (const std::string& page : args.pages) {
    if (!std::filesystem::is_regular_file(page)) {
      std::cerr << fmt::format("tunelens report index: error: {}: no such page; left out of the index\n",
                               page);
      ++missing;
      continue;
    }
    links.push_back(report::page_link(page, folder));
  }
  if (!folder.empty()) std::filesystem::create_directories(folder);
  report::write_index(out, args.title, links);
  std::cout << fmt::format("index: {} pages -> {}\n", links.size(), out.string());
  return missing > 0 ? kSomeFailed : kSuccess;
}

}  // namespace

void add_report_command(CLI::App& app) {
  CLI::App* command =
      app.add_subcommand("report", "Report pages: an index linking the pages of several runs");
  command->require_subcommand(1);
  auto args = std::make_shared<ReportIndexArgs>();
  CLI::App* index =
      command->add_subcommand("index", "Write an HTML page linking report pages by title and summary");
  index->add_option("--out,-o", args->out, "The index page to write (links are relative to its folder)")
      ->required();
  index->add_option("--title", args->title, "Title of the index page")->capture_default_str();
  index->add_option("pages", args->pages, "Report pages (HTML) to link, in this order")->required();
  set_action(index, [args] { return run_report_index(*args); });
}

}  // namespace tunelens::cli
