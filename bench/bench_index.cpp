// The vector indexes side by side: exact search (the baseline: every query against every vector, blocked
// matrix products) and HNSW, on the same vectors, queries and threads, in one run.
//
//   bench_index [--n 200000] [--dim 256] [--clusters 1000] [--queries 1000] [--k 10] [--M 24]
//               [--ef-construction 128] [--ef 32] [--sweep 12,16,20,24,32,48,64,96] [--rounds 5] [--seed 42]
//               [--spread 0.5] [--quick]
//
// The vectors are a mixture of Gaussian clusters (printed at the start), the queries fresh draws from the
// same mixture. Ground truth is the exact index's answer. Queries per second are the fastest of `rounds`
// rounds of the whole query batch (one search() call, as a caller with many queries makes it; an HNSW round,
// being short, is the best of three batches), exact and HNSW rounds alternating so that noise from other work
// on the machine hits both alike; for 1 thread and for all the machine's threads. Then the median latency of
// a lone query. HNSW memory per vector is given from hnswlib's structures (HnswIndex::memory_bytes) and as
// the process's resident-memory growth during the build; the cold-start path (new vectors into the built
// graph, save, load) is timed last.
//
// Last, to show that the baseline is a fair one, the exact index's search (matrix product and top-k) is timed
// against OpenBLAS's sgemm computing the same query-by-vector products alone, on one thread, when the
// OpenBLAS run-time library (libopenblas.so.0, which libtorch brings) can be loaded.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mixture.h"
#include "recommend/distance.h"
#include "recommend/exact_index.h"
#include "recommend/hnsw_index.h"

namespace {

using tunelens::ExactIndex;
using tunelens::HnswIndex;
using tunelens::Metric;
using tunelens::SearchResults;
using tunelens::bench::Mixture;
using tunelens::bench::parse_list;
using tunelens::bench::resident_bytes;
using tunelens::bench::timed;
using tunelens::bench::with_commas;

struct Settings : tunelens::bench::MixtureSettings {
  // The library's defaults.
  std::size_t M = tunelens::IndexOptions{}.M, ef_construction = tunelens::IndexOptions{}.ef_construction,
              ef = tunelens::IndexOptions{}.ef_search;
  std::vector<std::size_t> sweep = {12, 16, 20, 24, 32, 48, 64, 96};
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (tunelens::bench::read_mixture_option(s, argc, argv, i, "bench_index")) continue;
    auto value = [&] { return tunelens::bench::option_value(argc, argv, i, "bench_index"); };
    if (arg == "--M")
      s.M = std::stoul(value());
    else if (arg == "--ef-construction")
      s.ef_construction = std::stoul(value());
    else if (arg == "--ef")
      s.ef = std::stoul(value());
    else if (arg == "--sweep")
      s.sweep = parse_list(value());
    else if (arg == "--quick") {
      s.n = 20'000;
      s.clusters = 100;
      s.queries = 200;
      s.rounds = 1;
    } else {
      tunelens::bench::unknown_option("bench_index", argv[i]);
    }
  }
  return s;
}

// The exact index's search against OpenBLAS's sgemm doing only the products (C = Q·Xᵀ, in blocks of vectors
// so that C stays small), both on one thread, fastest of `rounds`.
void compare_with_openblas(ExactIndex& exact, const std::vector<float>& queries,
                           const std::vector<float>& data, const Settings& s) {
  void* library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::printf("exact kernel vs OpenBLAS: libopenblas.so.0 not found, skipped\n");
    return;
  }
  using Sgemm =
      void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
  const auto sgemm = reinterpret_cast<Sgemm>(dlsym(library, "cblas_sgemm"));
  const auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(library, "openblas_set_num_threads"));
  const auto core = reinterpret_cast<char* (*)()>(dlsym(library, "openblas_get_corename"));
  if (!sgemm || !set_threads) {
    std::printf("exact kernel vs OpenBLAS: cblas_sgemm not in libopenblas.so.0, skipped\n");
    return;
  }
  set_threads(1);
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  constexpr std::size_t kBlock = 8192;
  const int nq = static_cast<int>(s.queries), dim = static_cast<int>(s.dim);
  std::vector<float> products(s.queries * kBlock);
  double blas = 1e300, ours = 1e300;
  exact.set_threads(1);
  for (int r = 0; r < s.rounds; ++r) {
    blas = std::min(blas, timed([&] {
                      for (std::size_t b = 0; b < s.n; b += kBlock) {
                        const int m = static_cast<int>(std::min(kBlock, s.n - b));
                        sgemm(kRowMajor, kNoTrans, kTrans, nq, m, dim, 1.0f, queries.data(), dim,
                              data.data() + b * s.dim, dim, 0.0f, products.data(), m);
                      }
                    }));
    ours = std::min(ours, timed([&] { exact.search(queries, s.k); }));
  }
  const double flops =
      2.0 * static_cast<double>(s.n) * static_cast<double>(s.dim) * static_cast<double>(s.queries);
  std::printf(
      "exact kernel vs OpenBLAS %s, 1 thread: OpenBLAS sgemm (products only) %.2f s, %.0f GFLOP/s; "
      "ExactIndex::search (products + top-%zu) %.2f s, %.0f GFLOP/s\n",
      core ? core() : "", blas, flops / blas / 1e9, s.k, ours, flops / ours / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse(argc, argv);
  const unsigned all = std::max(1u, std::thread::hardware_concurrency());
  const Metric metric = Metric::SqEuclidean;

  std::printf(
      "index benchmark: %s vectors x %zu dimensions, %s queries, k = %zu, sqeuclidean, kernels %s, "
      "%u threads\n",
      with_commas(static_cast<double>(s.n)).c_str(), s.dim,
      with_commas(static_cast<double>(s.queries)).c_str(), s.k,
      std::string(tunelens::recommend_detail::kernel_level()).c_str(), all);
  const Mixture mixture(s.clusters, s.dim, s.spread, s.seed);
  std::vector<float> data, queries;
  const double generate_time = timed([&] {
    data = mixture.draw(s.n, s.seed, 1);
    queries = mixture.draw(s.queries, s.seed, 2);
  });
  std::printf(
      "data: mixture of %zu Gaussian clusters (seed %u), each vector a centre picked uniformly plus\n"
      "      isotropic noise; centres N(0, 1) per dimension, noise sd per cluster uniform in [%.2f, %.2f];\n"
      "      queries are fresh draws from the mixture (%.1f s to generate)\n",
      s.clusters, s.seed, s.spread / 2, s.spread, generate_time);
  std::vector<std::int64_t> ids(s.n);
  for (std::size_t i = 0; i < s.n; ++i) ids[i] = static_cast<std::int64_t>(i);

  // Exact index: the baseline, and the ground truth.
  ExactIndex exact(s.dim, metric, all);
  const double exact_add = timed([&] { exact.add(ids, data); });
  SearchResults truth;
  const double warm = timed([&] { truth = exact.search(queries, s.k); });
  (void)warm;
  {
    // How spread the answers are: distance to the 1st and 10th neighbour against a random vector of the data.
    double first = 0, tenth = 0, random = 0;
    for (std::size_t q = 0; q < s.queries; ++q) {
      first += std::sqrt(truth.distances_of(q)[0]);
      tenth += std::sqrt(truth.distances_of(q)[s.k - 1]);
      random += std::sqrt(tunelens::recommend_detail::sqeuclidean_distance(
          queries.data() + q * s.dim, data.data() + (q * 7919 % s.n) * s.dim, s.dim));
    }
    const double nq = static_cast<double>(s.queries);
    std::printf(
        "      Euclidean distance query -> 1st neighbour %.2f, -> %zuth %.2f, -> a random vector %.2f "
        "(means)\n",
        first / nq, s.k, tenth / nq, random / nq);
  }
  std::printf("exact index: %s vectors added in %.2f s, %.0f bytes/vector\n",
              with_commas(static_cast<double>(s.n)).c_str(), exact_add,
              static_cast<double>(exact.memory_bytes()) / static_cast<double>(s.n));

  // HNSW, built with all threads.
  tunelens::IndexOptions options;
  options.M = s.M;
  options.ef_construction = s.ef_construction;
  options.ef_search = s.ef;
  options.threads = all;
  HnswIndex hnsw(s.dim, metric, options);
  const std::size_t rss_before = resident_bytes();
  const double build = timed([&] {
    hnsw.reserve(s.n);
    hnsw.add(ids, data);
  });
  const std::size_t rss_after = resident_bytes();
  const double n = static_cast<double>(s.n);
  std::printf(
      "hnsw build: M %zu, ef_construction %zu, %u threads: %.1f s (%s vectors/s); memory %.0f bytes/vector "
      "(hnswlib structures; the vector itself is %zu), resident memory +%.0f bytes/vector\n",
      s.M, s.ef_construction, all, build, with_commas(n / build).c_str(),
      static_cast<double>(hnsw.memory_bytes()) / n, s.dim * sizeof(float),
      static_cast<double>(rss_after - rss_before) / n);

  const double nq = static_cast<double>(s.queries);
  // One round: the whole batch in one search() call; seconds. An HNSW round is short, so it is the fastest of
  // three back-to-back batches (the first warms the caches).
  auto exact_round = [&](unsigned threads) {
    exact.set_threads(threads);
    return timed([&] { exact.search(queries, s.k); });
  };
  SearchResults found;
  auto hnsw_round = [&](unsigned threads, std::size_t ef) {
    hnsw.set_threads(threads);
    hnsw.set_ef_search(ef);
    double best = 1e300;
    for (int i = 0; i < 3; ++i) best = std::min(best, timed([&] { found = hnsw.search(queries, s.k); }));
    return best;
  };

  std::printf("\nef sweep (recall@%zu against exact search; queries/s, fastest of %d rounds)\n", s.k,
              s.rounds);
  char threads_heading[32];
  std::snprintf(threads_heading, sizeof threads_heading, "qps %u threads", all);
  std::printf("%8s %12s %16s %16s\n", "ef", "recall", "qps 1 thread", threads_heading);
  for (std::size_t ef : s.sweep) {
    double one = 1e300, many = 1e300;
    for (int r = 0; r < s.rounds; ++r) {
      one = std::min(one, hnsw_round(1, ef));
      if (all > 1) many = std::min(many, hnsw_round(all, ef));
    }
    if (all == 1) many = one;
    std::printf("%8zu %12.4f %16s %16s\n", ef, recall_at(found, truth, s.k), with_commas(nq / one).c_str(),
                with_commas(nq / many).c_str());
  }

  // Side by side at the chosen ef: exact and HNSW rounds alternate, so that noise from other work on the
  // machine hits both alike; fastest round of each.
  double exact_one = 1e300, hnsw_one = 1e300, exact_all = 1e300, hnsw_all = 1e300;
  for (int r = 0; r < s.rounds; ++r) {
    exact_one = std::min(exact_one, exact_round(1));
    hnsw_one = std::min(hnsw_one, hnsw_round(1, s.ef));
    if (all > 1) {
      exact_all = std::min(exact_all, exact_round(all));
      hnsw_all = std::min(hnsw_all, hnsw_round(all, s.ef));
    }
  }
  if (all == 1) {
    exact_all = exact_one;
    hnsw_all = hnsw_one;
  }
  const double recall = recall_at(found, truth, s.k);
  const double e1 = nq / exact_one, h1 = nq / hnsw_one, ea = nq / exact_all, ha = nq / hnsw_all;
  std::printf("\nside by side, ef_search %zu%28s %12s %12s %8s\n", s.ef, "", "exact", "hnsw", "ratio");
  std::printf("  queries/s, 1 thread%35s %12s %12s %7.1fx\n", "", with_commas(e1).c_str(),
              with_commas(h1).c_str(), h1 / e1);
  std::printf("  queries/s, %u threads%34s %12s %12s %7.1fx\n", all, "", with_commas(ea).c_str(),
              with_commas(ha).c_str(), ha / ea);
  std::printf("  recall@%zu%45s %12.4f %12.4f\n", s.k, "", 1.0, recall);
  const bool recall_ok = recall >= 0.95, speed_ok = h1 / e1 >= 10 && ha / ea >= 10;
  std::printf(
      "targets: recall@%zu >= 0.95: %s (%.4f); hnsw >= 10x exact queries/s at 1 and %u threads: %s "
      "(%.1fx, %.1fx)%s\n",
      s.k, recall_ok ? "met" : "MISSED", recall, all, speed_ok ? "met" : "MISSED", h1 / e1, ha / ea,
      s.n < 200'000 ? " [the targets are set for 200,000 vectors: exact search's cost grows with n]" : "");

  // One query at a time, as a user asking "what sounds like this?" makes them: median latency over the first
  // queries, all threads (the exact index splits the vectors between threads for a lone query).
  {
    const std::size_t lone = std::min<std::size_t>(s.queries, 64);
    exact.set_threads(all);
    hnsw.set_threads(all);
    hnsw.set_ef_search(s.ef);
    std::vector<double> exact_times, hnsw_times;
    for (std::size_t q = 0; q < lone; ++q) {
      const std::span<const float> query(queries.data() + q * s.dim, s.dim);
      exact_times.push_back(timed([&] { exact.search(query, s.k); }));
      hnsw_times.push_back(timed([&] { hnsw.search(query, s.k); }));
    }
    std::sort(exact_times.begin(), exact_times.end());
    std::sort(hnsw_times.begin(), hnsw_times.end());
    const double e = exact_times[lone / 2] * 1000, h = hnsw_times[lone / 2] * 1000;
    std::printf("one query at a time (median of %zu, %u threads): exact %.2f ms, hnsw %.3f ms, %.0fx\n", lone,
                all, e, h, e / h);
  }

  // The cold-start path: new tracks into the built graph, saved beside the catalog and opened again.
  {
    const std::size_t fresh = std::min<std::size_t>(1000, s.n / 10);
    const std::vector<float> extra = mixture.draw(fresh, s.seed, 3);
    std::vector<std::int64_t> extra_ids(fresh);
    for (std::size_t i = 0; i < fresh; ++i) extra_ids[i] = static_cast<std::int64_t>(s.n + i);
    hnsw.set_threads(1);
    const double add = timed([&] { hnsw.add(extra_ids, extra); });
    const SearchResults self = hnsw.search(extra, 1);
    std::size_t found = 0;
    for (std::size_t i = 0; i < fresh; ++i) found += self.ids[i] == extra_ids[i];
    char name[64];
    std::snprintf(name, sizeof name, "bench-index-%d.hnsw", static_cast<int>(getpid()));
    const auto path = std::filesystem::temp_directory_path() / name;
    const double save = timed([&] { hnsw.save(path); });
    const auto file_bytes = std::filesystem::file_size(path);
    HnswIndex loaded(s.dim, metric, options);
    const double load = timed([&] { loaded.load(path); });
    std::filesystem::remove(path);
    hnsw.set_threads(all);
    loaded.set_ef_search(s.ef);
    const bool same = loaded.search(queries, s.k).ids == hnsw.search(queries, s.k).ids;
    std::printf(
        "cold start: %zu new vectors added to the built graph in %.3f s on 1 thread (%.2f ms each), %zu of "
        "them found as their own nearest; saved (%.0f MiB) in %.2f s, loaded in %.2f s, same answers after "
        "loading: %s\n",
        fresh, add, 1000 * add / static_cast<double>(fresh), found,
        static_cast<double>(file_bytes) / (1 << 20), save, load, same ? "yes" : "NO");
  }
  compare_with_openblas(exact, queries, data, s);
  return 0;
}
