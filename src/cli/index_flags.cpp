#include "cli/index_flags.h"

namespace tunelens::cli {

void add_index_flags(CLI::App* command, IndexFlags& flags, const std::string& what, bool searches) {
  command
      ->add_option("--index,--search", flags.index,
                   "exact, hnsw, auto, or a FAISS index: ivf-flat:N (N lists), ivf-pq:N:M (M-byte codes; "
                   "ivf-pq:N:M:R re-ranks R candidates exactly), hnsw-faiss:M (graph degree M); " +
                       what)
      ->capture_default_str();
  if (!searches) return;
  command
      ->add_option("--nprobe", flags.nprobe,
                   "ivf-flat, ivf-pq: lists scanned per query (more: better recall, slower)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 22));
  command
      ->add_option("--ef-search", flags.ef_search,
                   "hnsw, hnsw-faiss: candidates kept while searching (more: better recall, slower)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
}

}  // namespace tunelens::cli
