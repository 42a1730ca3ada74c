// The index options shared by the commands that search a catalog (index, similar, ingest): one definition,
// one help text, the same defaults.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

#include "recommend/catalog_index.h"

namespace tunelens::cli {

struct IndexFlags {
  std::string index = "auto";  // --index (also --search): exact, hnsw, auto or a FAISS kind
  std::size_t nprobe = IndexOptions{}.nprobe;
  float probe_ratio = IndexOptions{}.probe_ratio;
  std::size_t ef_search = IndexOptions{}.ef_search;
  // The mode and FAISS kind --index names; throws IndexError (Invalid) for a bad one.
  IndexChoice choice() const { return parse_index_choice(index); }
};

// Adds --index (with --search as its older name) and, for a command that searches, --nprobe and --ef-search,
// writing into `flags`. `what` ends the --index help: what the command does with the kind.
void add_index_flags(CLI::App* command, IndexFlags& flags, const std::string& what, bool searches = true);

}  // namespace tunelens::cli
