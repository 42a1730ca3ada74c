// The FAISS indexes beside exact search and hnswlib, on the same vectors, queries and threads, in one run:
//
//   bench_faiss [--n 1000000] [--dim 256] [--clusters 1000] [--spread 0.5] [--queries 500] [--k 10]
//               [--seed 42] [--lists 1024] [--pq-m 32] [--graph-m 24] [--ef-construction 128]
//               [--nprobe 1,2,4,8,16] [--probe-ratio 0,1.2] [--rerank 0,128,256,320,384,512]
//               [--ef 16,32,64,128] [--rounds 3] [--single 100] [--target 0.90] [--no-graphs] [--no-flat]
//               [--quick]
//
// The vectors are bench_index's mixture of Gaussian clusters (mixture.h), the queries fresh draws from it;
// ground truth is the exact index's answer. The ivf kinds are searched at each nprobe and each probe ratio
// (IndexOptions::probe_ratio: 0 scans all nprobe cells). For each kind: its build time (training included,
// all threads), its memory (memory_bytes() per vector; ivf-pq:N:M:R's kept vectors are measured after a save
// and load, when they are read through a mapping of the file and not held), then a sweep of its search
// setting, each point's recall@k and queries per second (the whole batch in one search() call on all threads,
// fastest of `rounds`). A kind's summary row is its fastest setting whose recall reaches --target (its best
// recall when none does). Exact search is timed again after each kind, and its fastest round is the baseline
// of the ratios, so that a busy moment of the machine does not flatter the others. Last, one pass of the
// queries on the re-ranking ivf-pq index right after its file was dropped from the page cache
// (posix_fadvise): the cost of reading the vectors from disk. Each kind's chosen setting is also timed one
// query per search() call (the first --single queries), as similar and the service ask: exact search then
// reads every vector per query.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mixture.h"
#include "recommend/exact_index.h"
#include "recommend/faiss_index.h"
#include "recommend/hnsw_index.h"

namespace {

using tunelens::ExactIndex;
using tunelens::FaissIndex;
using tunelens::HnswIndex;
using tunelens::Metric;
using tunelens::SearchResults;
using tunelens::bench::Mixture;
using tunelens::bench::parse_list;
using tunelens::bench::timed;
using tunelens::bench::with_commas;

struct Settings : tunelens::bench::MixtureSettings {
  Settings() {
    n = 1'000'000;
    queries = 500;
    rounds = 3;
  }
  std::size_t lists = 1024, pq_m = 32, graph_m = 24, ef_construction = 128;
  std::vector<std::size_t> nprobe = {1, 2, 4, 8, 16}, rerank = {0, 128, 256, 320, 384, 512},
                           ef = {16, 32, 64, 128};
  std::vector<float> probe_ratio = {0.0f, 1.2f};
  std::size_t single = 100;  // queries timed one at a time
  double target = 0.90;
  bool graphs = true, flat = true;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (tunelens::bench::read_mixture_option(s, argc, argv, i, "bench_faiss")) continue;
    auto value = [&] { return tunelens::bench::option_value(argc, argv, i, "bench_faiss"); };
    std::size_t* sizes[] = {&s.lists, &s.pq_m, &s.graph_m, &s.ef_construction};
    const char* size_names[] = {"--lists", "--pq-m", "--graph-m", "--ef-construction"};
    std::vector<std::size_t>* lists[] = {&s.nprobe, &s.rerank, &s.ef};
    const char* list_names[] = {"--nprobe", "--rerank", "--ef"};
    const auto size_at = std::find(std::begin(size_names), std::end(size_names), arg);
    const auto list_at = std::find(std::begin(list_names), std::end(list_names), arg);
    if (size_at != std::end(size_names)) {
      *sizes[size_at - std::begin(size_names)] = std::stoul(value());
    } else if (list_at != std::end(list_names)) {
      *lists[list_at - std::begin(list_names)] = parse_list(value());
    } else if (arg == "--single") {
      s.single = std::stoul(value());
    } else if (arg == "--probe-ratio") {
      s.probe_ratio = tunelens::bench::parse_list<float>(value());
    } else if (arg == "--no-flat") {
      s.flat = false;
    } else if (arg == "--target") {
      s.target = std::stod(value());
    } else if (arg == "--no-graphs") {
      s.graphs = false;
    } else if (arg == "--quick") {
      s.n = 50'000;
      s.clusters = 100;
      s.queries = 200;
      s.lists = 128;
      s.rounds = 1;
    } else {
      tunelens::bench::unknown_option("bench_faiss", argv[i]);
    }
  }
  return s;
}

// One search setting of one index.
struct Point {
  std::string setting;
  double recall = 0, qps = 0;
  std::function<void(tunelens::Index&)> apply;  // sets an index of the kind to this setting
};

// A kind's summary row.
struct Row {
  std::string kind;
  double build_seconds = 0;
  double bytes = 0, mapped_bytes = 0;  // per vector
  Point point;
  double single_qps = 0;  // one query per search() call
};

class Bench {
 public:
  explicit Bench(const Settings& s) : s_(s), all_(std::max(1u, std::thread::hardware_concurrency())) {}

  void run() {
    std::printf(
        "FAISS benchmark: %s vectors x %zu dimensions, %s queries, k = %zu, sqeuclidean, %u threads\n",
        with_commas(static_cast<double>(s_.n)).c_str(), s_.dim,
        with_commas(static_cast<double>(s_.queries)).c_str(), s_.k, all_);
    const Mixture mixture(s_.clusters, s_.dim, s_.spread, s_.seed);
    const double generate = timed([&] {
      data_ = mixture.draw(s_.n, s_.seed, 1);
      queries_ = mixture.draw(s_.queries, s_.seed, 2);
    });
    ids_.resize(s_.n);
    for (std::size_t i = 0; i < s_.n; ++i) ids_[i] = static_cast<std::int64_t>(i);
    std::printf(
        "data: bench_index's mixture of %zu Gaussian clusters (seed %u, noise sd per cluster in [%.2f, "
        "%.2f]), "
        "queries fresh draws from it (%.1f s to generate)\n",
        s_.clusters, s_.seed, s_.spread / 2, s_.spread, generate);

    exact_ = std::make_unique<ExactIndex>(s_.dim, Metric::SqEuclidean, all_);
    const double exact_build = timed([&] { exact_->add(ids_, data_); });
    truth_ = exact_->search(queries_, s_.k);
    for (int r = 0; r < s_.rounds; ++r) time_exact();
    add_row({"exact", exact_build, per_vector(exact_->memory_bytes()), 0, {"every vector", 1.0, 0, {}}},
            *exact_);

    if (s_.flat) ivf_flat();
    ivf_pq();
    if (s_.graphs) {
      hnswlib();
      hnsw_faiss();
    }
    summary();
  }

 private:
  // Sets an ivf index's cells probed (and, for ivf-pq:N:M:R, its re-ranked candidates).
  static std::function<void(tunelens::Index&)> ivf_setting(std::size_t nprobe, float ratio,
                                                           std::optional<std::size_t> rerank = {}) {
    return [nprobe, ratio, rerank](tunelens::Index& index) {
      auto& faiss = static_cast<FaissIndex&>(index);
      faiss.set_nprobe(nprobe);
      faiss.set_probe_ratio(ratio);
      if (rerank) faiss.set_rerank(*rerank);
    };
  }

  static std::string probe_setting(std::size_t nprobe, float ratio) {
    std::string setting = "nprobe " + std::to_string(nprobe);
    if (ratio > 0) {
      char text[32];
      std::snprintf(text, sizeof text, ", ratio %.2g", static_cast<double>(ratio));
      setting += text;
    }
    return setting;
  }

  double per_vector(std::size_t bytes) const {
    return static_cast<double>(bytes) / static_cast<double>(s_.n);
  }

  void time_exact() {
    exact_seconds_ = std::min(exact_seconds_, timed([&] { exact_->search(queries_, s_.k); }));
  }

  // Applies a setting, then times the whole batch of queries in one search() call.
  Point measure(const std::string& setting, tunelens::Index& index,
                std::function<void(tunelens::Index&)> apply) {
    apply(index);
    SearchResults found;
    double best = 1e300;
    for (int r = 0; r < s_.rounds; ++r)
      best = std::min(best, timed([&] { found = index.search(queries_, s_.k); }));
    const Point point{setting, tunelens::recall_at(found, truth_, s_.k),
                      static_cast<double>(s_.queries) / best, std::move(apply)};
    std::printf("  %-28s recall@%zu %.4f  %12s queries/s\n", setting.c_str(), s_.k, point.recall,
                with_commas(point.qps).c_str());
    return point;
  }

  // Queries per second when each query is a search() call of its own (as similar and serve ask): the first
  // `single` queries, the fastest of two rounds.
  double one_at_a_time(const tunelens::Index& index) const {
    const std::size_t n = std::min(s_.single, s_.queries);
    double best = 1e300;
    for (int r = 0; r < 2; ++r)
      best = std::min(best, timed([&] {
                        for (std::size_t q = 0; q < n; ++q)
                          index.search(std::span(queries_.data() + q * s_.dim, s_.dim), s_.k);
                      }));
    return static_cast<double>(n) / best;
  }

  // A kind's row: its chosen point, and its queries one at a time at that setting.
  void add_row(Row row, tunelens::Index& index) {
    if (row.point.apply) row.point.apply(index);
    row.single_qps = one_at_a_time(index);
    std::printf("  %s, one query at a time: %s queries/s\n", row.point.setting.c_str(),
                with_commas(row.single_qps).c_str());
    rows_.push_back(std::move(row));
  }

  // The fastest point reaching the target, else the one of best recall.
  Point pick(const std::vector<Point>& points) const {
    const Point* best = nullptr;
    for (const Point& p : points)
      if (p.recall >= s_.target && (!best || p.qps > best->qps)) best = &p;
    if (best) return *best;
    for (const Point& p : points)
      if (!best || p.recall > best->recall || (p.recall == best->recall && p.qps > best->qps)) best = &p;
    return *best;
  }

  tunelens::IndexOptions options() const {
    tunelens::IndexOptions o;
    o.threads = all_;
    o.M = s_.graph_m;
    o.ef_construction = s_.ef_construction;
    return o;
  }

  double build(tunelens::Index& index, const char* what) {
    const double seconds = timed([&] {
      index.reserve(s_.n);
      index.add(ids_, data_);
    });
    std::printf("\n%s: built in %.1f s (training included), %.0f bytes/vector\n", what, seconds,
                per_vector(index.memory_bytes()));
    return seconds;
  }

  void ivf_flat() {
    const std::string kind = "ivf-flat:" + std::to_string(s_.lists);
    FaissIndex index(kind, s_.dim, Metric::SqEuclidean, options());
    const double seconds = build(index, kind.c_str());
    std::vector<Point> points;
    for (float ratio : s_.probe_ratio)
      for (std::size_t nprobe : s_.nprobe)
        points.push_back(measure(probe_setting(nprobe, ratio), index, ivf_setting(nprobe, ratio)));
    add_row({kind, seconds, per_vector(index.memory_bytes()), 0, pick(points)}, index);
    time_exact();
  }

  void ivf_pq() {
    const std::size_t most = *std::max_element(s_.rerank.begin(), s_.rerank.end());
    const std::string codes = "ivf-pq:" + std::to_string(s_.lists) + ":" + std::to_string(s_.pq_m);
    const std::string kind = codes + ":" + std::to_string(std::max<std::size_t>(most, 1));
    double seconds = 0, built_bytes = 0;
    const auto file = std::filesystem::temp_directory_path() /
                      ("bench-faiss-" + std::to_string(static_cast<int>(getpid())) + ".tli");
    double save = 0, load = 0;
    {
      FaissIndex built(kind, s_.dim, Metric::SqEuclidean, options());
      seconds = build(built, kind.c_str());
      built_bytes = per_vector(built.memory_bytes());
      save = timed([&] { built.save(file); });
    }
    auto loaded = std::make_unique<FaissIndex>(kind, s_.dim, Metric::SqEuclidean, options());
    FaissIndex& index = *loaded;
    load = timed([&] { index.load(file); });
    std::printf(
        "  (in memory as built, the kept vectors included: %.0f bytes/vector; saved in %.1f s (%.0f MiB), "
        "loaded "
        "in %.1f s: %.0f bytes/vector in memory, %.0f mapped from the file)\n",
        built_bytes, save, static_cast<double>(std::filesystem::file_size(file)) / (1 << 20), load,
        per_vector(index.memory_bytes()), per_vector(index.mapped_bytes()));
    std::vector<Point> code_points, rerank_points;
    for (std::size_t rerank : s_.rerank)
      for (float ratio : s_.probe_ratio)
        for (std::size_t nprobe : s_.nprobe) {
          Point p = measure(probe_setting(nprobe, ratio) + ", re-rank " + std::to_string(rerank), index,
                            ivf_setting(nprobe, ratio, rerank));
          (rerank == 0 ? code_points : rerank_points).push_back(std::move(p));
        }
    const double bytes = per_vector(index.memory_bytes());
    if (!code_points.empty()) add_row({codes + " (codes only)", seconds, bytes, 0, pick(code_points)}, index);
    if (!rerank_points.empty()) {
      const Point chosen = pick(rerank_points);
      add_row({kind + " (re-ranked)", seconds, bytes, per_vector(index.mapped_bytes()), chosen}, index);
      loaded.reset();  // its mapping would keep the file's pages in memory
      cold_pass(kind, file, chosen);
    }
    std::filesystem::remove(file);
    time_exact();
  }

  // One pass of the queries on a freshly loaded index whose file's pages were dropped from the page cache
  // (loading reads the file for its checksum; nothing maps it yet, so the drop takes).
  void cold_pass(const std::string& kind, const std::filesystem::path& file, const Point& chosen) {
    FaissIndex reloaded(kind, s_.dim, Metric::SqEuclidean, options());
    reloaded.load(file);
    chosen.apply(reloaded);
    // Pages not yet written back cannot be dropped: the file was saved a moment ago.
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0 || ::fdatasync(fd) != 0 || ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
      std::printf("  cold pass: cannot drop the file from the page cache, skipped\n");
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    SearchResults found;
    const double seconds = timed([&] { found = reloaded.search(queries_, s_.k); });
    cold_ = {chosen.setting + ", page cache dropped",
             tunelens::recall_at(found, truth_, s_.k),
             static_cast<double>(s_.queries) / seconds,
             {}};
    std::printf("  cold pass (%s): %s queries/s\n", cold_.setting.c_str(), with_commas(cold_.qps).c_str());
  }

  void hnswlib() {
    HnswIndex index(s_.dim, Metric::SqEuclidean, options());
    graph("hnsw (hnswlib, M " + std::to_string(s_.graph_m) + ")", index,
          [](tunelens::Index& i, std::size_t ef) { static_cast<HnswIndex&>(i).set_ef_search(ef); });
  }

  void hnsw_faiss() {
    FaissIndex index("hnsw-faiss:" + std::to_string(s_.graph_m), s_.dim, Metric::SqEuclidean, options());
    graph(std::string(index.kind()), index,
          [](tunelens::Index& i, std::size_t ef) { static_cast<FaissIndex&>(i).set_ef_search(ef); });
  }

  // A graph index: built, then searched at each ef_search.
  void graph(const std::string& kind, tunelens::Index& index,
             const std::function<void(tunelens::Index&, std::size_t)>& set_ef) {
    const double seconds = build(index, kind.c_str());
    std::vector<Point> points;
    for (std::size_t ef : s_.ef)
      points.push_back(measure("ef_search " + std::to_string(ef), index,
                               [set_ef, ef](tunelens::Index& i) { set_ef(i, ef); }));
    add_row({kind, seconds, per_vector(index.memory_bytes()), 0, pick(points)}, index);
    time_exact();
  }

  void summary() {
    const double exact_qps = static_cast<double>(s_.queries) / exact_seconds_;
    rows_.front().point.qps = exact_qps;
    const double exact_bytes = rows_.front().bytes, exact_single = rows_.front().single_qps;
    std::printf(
        "\nsummary (each kind at its fastest setting with recall@%zu >= %.2f, else its best recall; %u "
        "threads; "
        "batch: the %zu queries in one search() call, exact's the fastest of all its rounds; one at a time: "
        "the first %zu queries, a search() call each)\n\n",
        s_.k, s_.target, all_, s_.queries, std::min(s_.single, s_.queries));
    std::printf(
        "| index | setting | build | memory / vector | memory vs exact | batch queries/s | vs exact | one at "
        "a "
        "time | vs exact | recall@%zu |\n",
        s_.k);
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (const Row& r : rows_) {
      std::string memory = with_commas(r.bytes) + " B";
      if (r.mapped_bytes > 0) memory += " (+" + with_commas(r.mapped_bytes) + " B mapped)";
      std::printf("| %s | %s | %.1f s | %s | 1/%.1f | %s | %.1f x | %s | %.1f x | %.4f |\n", r.kind.c_str(),
                  r.point.setting.c_str(), r.build_seconds, memory.c_str(), exact_bytes / r.bytes,
                  with_commas(r.point.qps).c_str(), r.point.qps / exact_qps,
                  with_commas(r.single_qps).c_str(), r.single_qps / exact_single, r.point.recall);
    }
    if (cold_.qps > 0)
      std::printf(
          "| ... first pass, file dropped from the page cache | %s | | | | %s | %.1f x | | | %.4f |\n",
          cold_.setting.c_str(), with_commas(cold_.qps).c_str(), cold_.qps / exact_qps, cold_.recall);
    for (const Row& r : rows_) {
      if (r.kind.find("re-ranked") == std::string::npos) continue;
      const double batch = r.point.qps / exact_qps, single = r.single_qps / exact_single;
      const bool recall = r.point.recall >= 0.90, memory = r.bytes * 16 <= exact_bytes;
      std::printf(
          "\ntarget (issue 15): IVF-PQ recall@10 >= 0.90: %s (%.4f); >= 50x exact queries/s: batch %s "
          "(%.1fx), "
          "one at a time %s (%.1fx); <= 1/16 of exact memory: %s (1/%.1f, the kept vectors read from the "
          "file's "
          "mapping)\n",
          recall ? "met" : "MISSED", r.point.recall, batch >= 50 ? "met" : "MISSED", batch,
          single >= 50 ? "met" : "MISSED", single, memory ? "met" : "MISSED", exact_bytes / r.bytes);
    }
  }

  const Settings& s_;
  unsigned all_;
  std::vector<float> data_, queries_;
  std::vector<std::int64_t> ids_;
  std::unique_ptr<ExactIndex> exact_;
  SearchResults truth_;
  double exact_seconds_ = 1e300;
  std::vector<Row> rows_;
  Point cold_;
};

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  Bench(settings).run();
  return 0;
}
