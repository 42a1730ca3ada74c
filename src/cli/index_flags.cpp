#include "cli/index_flags.h"

#include <exception>
#include <string>

namespace tunelens::cli {
namespace {

// 0 (every --nprobe list) or a ratio from 1 (the nearest list alone) to 1e6.
const CLI::Validator kProbeRatio(
    [](std::string& text) {
      float value = -1.0f;
      try {
        std::size_t used = 0;
        value = std::stof(text, &used);
        if (used != text.size()) value = -1.0f;
      } catch (const std::exception&) {
      }
      return value == 0.0f || (value >= 1.0f && value <= 1e6f)
                 ? std::string()
                 : "must be 0 (every list) or a ratio from 1 to 1000000, not " + text;
    },
    "");

}  // namespace

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
      ->add_option("--probe-ratio", flags.probe_ratio,
                   "ivf-flat, ivf-pq: of the --nprobe lists, scan only those whose centre is within this "
                   "many times the nearest centre's squared distance (0: all; 1.2 suits well-separated "
                   "clusters)")
      ->capture_default_str()
      ->check(kProbeRatio);
  command
      ->add_option("--ef-search", flags.ef_search,
                   "hnsw, hnsw-faiss: candidates kept while searching (more: better recall, slower)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
}

}  // namespace tunelens::cli
