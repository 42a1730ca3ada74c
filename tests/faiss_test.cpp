// The FAISS indexes (recommend/faiss_index.h) and shards (recommend/sharded_index.h): kinds parsed and
// refused, recall against exact search on a small mixture, ids replaced and removed, files saved, loaded and
// refused when damaged, shards merged as one index, and the catalog's saved FAISS files.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "../bench/mixture.h"
#include "recommend/catalog_index.h"
#include "recommend/exact_index.h"
#include "recommend/faiss_index.h"
#include "recommend/sharded_index.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

using tunelens::testing::read_bytes;
using tunelens::testing::ScratchDir;
using tunelens::testing::write_bytes;

constexpr std::size_t kDim = 32;

// A mixture of `clusters` Gaussian clusters (centres N(0, 1), noise sd per cluster in [0.2, 0.4]):
// bench_index's generator, small.
std::vector<float> mixture(std::size_t n, std::size_t clusters, std::uint32_t seed) {
  return bench::Mixture(clusters, kDim, 0.4f, 7).draw(n, seed, 1);
}

std::vector<std::int64_t> ids_from(std::size_t n, std::int64_t first) {
  std::vector<std::int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

// 4,000 vectors of the mixture in 40 clusters, `nq` fresh queries from it, and exact search's 10 nearest of
// each: the ground truth of the recall tests.
struct MixtureWithTruth {
  std::vector<float> data, queries;
  SearchResults truth;
};
MixtureWithTruth mixture_with_truth(std::size_t nq) {
  MixtureWithTruth m{mixture(4000, 40, 4), mixture(nq, 40, 5), {}};
  ExactIndex exact(kDim, Metric::SqEuclidean, 1);
  exact.add(ids_from(4000, 0), m.data);
  m.truth = exact.search(m.queries, 10);
  return m;
}

IndexOptions one_thread() {
  IndexOptions options;
  options.threads = 1;
  return options;
}

IndexErrorKind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const IndexError& error) {
    return error.kind();
  }
  ADD_FAILURE() << "no IndexError";
  return IndexErrorKind::Invalid;
}

TEST(FaissKind, ParsedToTheirCanonicalNamesOrRefused) {
  EXPECT_EQ(parse_faiss_kind("ivf-flat:64").name(), "ivf-flat:64");
  const FaissKind pq = parse_faiss_kind("ivf-pq:0256:16:100");
  EXPECT_EQ(pq.family, FaissKind::Family::IvfPq);
  EXPECT_EQ(pq.lists, 256u);
  EXPECT_EQ(pq.m, 16u);
  EXPECT_EQ(pq.rerank, 100u);
  EXPECT_EQ(pq.name(), "ivf-pq:256:16:100");
  EXPECT_EQ(pq.training_minimum(), 256u);
  EXPECT_EQ(parse_faiss_kind("ivf-pq:8:4:0").name(), "ivf-pq:8:4");
  EXPECT_EQ(parse_faiss_kind("hnsw-faiss:32").training_minimum(), 0u);
  EXPECT_TRUE(is_faiss_kind("hnsw-faiss"));
  EXPECT_FALSE(is_faiss_kind("hnsw"));
  for (const char* bad :
       {"ivf-flat", "ivf-flat:0", "ivf-flat:-3", "ivf-flat:12x", "ivf-flat:4:4", "ivf-pq:16", "ivf-pq:16:0",
        "ivf-pq:16:4:1:1", "hnsw-faiss:1", "hnsw-faiss:", "ivf-sq:4", "ivf-flat:99999999999999999999999"}) {
    try {
      parse_faiss_kind(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const IndexError& error) {
      EXPECT_EQ(error.kind(), IndexErrorKind::Invalid) << bad;
      EXPECT_NE(std::string(error.what()).find(std::string("bad index kind '") + bad + "'"),
                std::string::npos)
          << error.what();
    }
  }
  EXPECT_EQ(make_index("ivf-pq:4:8", kDim, Metric::Cosine)->kind(), "ivf-pq:4:8");
  // The code bytes must divide the dimension; no FAISS index searches by a divergence.
  EXPECT_EQ(error_kind([] { FaissIndex("ivf-pq:4:5", kDim, Metric::SqEuclidean); }), IndexErrorKind::Invalid);
  EXPECT_EQ(error_kind([] { FaissIndex("ivf-flat:4", kDim, Metric::JensenShannon); }),
            IndexErrorKind::Invalid);
  EXPECT_EQ(error_kind([] { make_index("ivf", kDim, Metric::Cosine); }), IndexErrorKind::Invalid);
}

TEST(FaissIndex, UntrainedRefusesSearchAndTooFewVectorsToTrain) {
  FaissIndex index("ivf-flat:16", kDim, Metric::SqEuclidean, one_thread());
  EXPECT_FALSE(index.trained());
  const std::vector<float> query(kDim, 0.5f);
  try {
    index.search(query, 1);
    FAIL() << "an untrained index searched";
  } catch (const IndexError& error) {
    EXPECT_EQ(error.kind(), IndexErrorKind::Invalid);
    EXPECT_NE(std::string(error.what()).find("ivf-flat:16 is not trained yet"), std::string::npos)
        << error.what();
  }
  const auto few = mixture(10, 2, 1);
  try {
    index.add(ids_from(10, 0), few);
    FAIL() << "trained on 10 vectors";
  } catch (const IndexError& error) {
    EXPECT_NE(std::string(error.what()).find("needs at least 16 vectors to train on, got 10"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(index.size(), 0u);
  // The graph needs no training.
  FaissIndex graph("hnsw-faiss:8", kDim, Metric::SqEuclidean, one_thread());
  graph.add(ids_from(10, 0), few);
  EXPECT_EQ(graph.search(std::span(few.data(), kDim), 1).ids[0], 0);
}

// Every list probed, ivf-flat is exact search: the same ids and distances as ExactIndex, both metrics.
TEST(FaissIndex, IvfFlatProbingEveryListIsExactSearch) {
  const auto data = mixture(2000, 20, 2), queries = mixture(50, 20, 3);
  for (Metric metric : {Metric::SqEuclidean, Metric::Cosine}) {
    IndexOptions options = one_thread();
    options.nprobe = 16;
    FaissIndex index("ivf-flat:16", kDim, metric, options);
    ExactIndex exact(kDim, metric, 1);
    index.add(ids_from(2000, 100), data);
    exact.add(ids_from(2000, 100), data);
    const SearchResults a = index.search(queries, 10), b = exact.search(queries, 10);
    EXPECT_EQ(a.ids, b.ids) << metric_name(metric);
    for (std::size_t i = 0; i < a.distances.size(); ++i) EXPECT_NEAR(a.distances[i], b.distances[i], 1e-3);
  }
}

TEST(FaissIndex, RecallAgainstExactOnAMixture) {
  const auto [data, queries, truth] = mixture_with_truth(100);
  struct Case {
    const char* kind;
    double floor;
  };
  for (const Case& c :
       {Case{"ivf-flat:64", 0.95}, Case{"ivf-pq:64:8:64", 0.90}, Case{"hnsw-faiss:16", 0.95}}) {
    FaissIndex index(c.kind, kDim, Metric::SqEuclidean, one_thread());
    index.add(ids_from(4000, 0), data);
    EXPECT_GE(recall_at(index.search(queries, 10), truth, 10), c.floor) << c.kind;
    EXPECT_TRUE(index.exact_distances()) << c.kind;
  }
  // Codes alone estimate distances: worse, and said so.
  FaissIndex codes("ivf-pq:64:8", kDim, Metric::SqEuclidean, one_thread());
  codes.add(ids_from(4000, 0), data);
  EXPECT_FALSE(codes.exact_distances());
  const double recall = recall_at(codes.search(queries, 10), truth, 10);
  EXPECT_GT(recall, 0.3);
  // A training sample picked with the seed: the same index twice.
  FaissIndex again("ivf-pq:64:8", kDim, Metric::SqEuclidean, one_thread());
  again.add(ids_from(4000, 0), data);
  EXPECT_EQ(again.search(queries, 10).ids, codes.search(queries, 10).ids);
}

// Probing by distance ratio: cells much farther than the nearest add nothing on separated clusters, so a
// ratio keeps nprobe's recall; ratio 1 keeps the nearest cell alone; a ratio below 1 is refused.
TEST(FaissIndex, ProbeRatioScansTheCellsAsNearAsTheNearest) {
  const auto [data, queries, truth] = mixture_with_truth(100);
  for (const char* kind : {"ivf-flat:128", "ivf-pq:128:8:64"}) {
    IndexOptions options = one_thread();
    options.nprobe = 8;
    FaissIndex index(kind, kDim, Metric::SqEuclidean, options);
    index.add(ids_from(4000, 0), data);
    const SearchResults all = index.search(queries, 10);
    index.set_probe_ratio(1.0f);
    const SearchResults nearest_only = index.search(queries, 10);
    index.set_probe_ratio(0.0f);
    index.set_nprobe(1);
    EXPECT_EQ(nearest_only.ids, index.search(queries, 10).ids) << kind;
    index.set_nprobe(8);
    index.set_probe_ratio(1.5f);
    const double by_ratio = recall_at(index.search(queries, 10), truth, 10);
    EXPECT_GE(by_ratio, recall_at(all, truth, 10) - 0.01) << kind;
    EXPECT_GT(by_ratio, recall_at(nearest_only, truth, 10)) << kind;
    index.set_probe_ratio(1e6f);
    EXPECT_EQ(index.search(queries, 10).ids, all.ids) << kind;
    for (float bad : {0.5f, -1.0f, std::numeric_limits<float>::quiet_NaN()})
      EXPECT_EQ(error_kind([&] { index.set_probe_ratio(bad); }), IndexErrorKind::Invalid) << bad;
  }
}

// ivf-pq:N:M:R picks its candidates by an estimate with each vector's true distance to its cell centre:
// better than the codes' own estimate (the same codebooks: the same training sample), and the same once
// saved and loaded (the distances then come from the mapped vectors).
TEST(FaissIndex, KeptVectorsSharpenTheCodesEstimate) {
  ScratchDir dir;
  const auto [data, queries, truth] = mixture_with_truth(200);
  FaissIndex codes("ivf-pq:64:8", kDim, Metric::SqEuclidean, one_thread());
  codes.add(ids_from(4000, 0), data);
  FaissIndex kept("ivf-pq:64:8:64", kDim, Metric::SqEuclidean, one_thread());
  kept.add(ids_from(4000, 0), data);
  kept.set_rerank(0);  // the estimates alone
  const SearchResults estimated = kept.search(queries, 10);
  EXPECT_GT(recall_at(estimated, truth, 10), recall_at(codes.search(queries, 10), truth, 10) + 0.01);
  kept.save(dir / "pq.tli");
  FaissIndex loaded("ivf-pq:64:8:64", kDim, Metric::SqEuclidean, one_thread());
  loaded.load(dir / "pq.tli");
  loaded.set_rerank(0);
  EXPECT_EQ(loaded.search(queries, 10).ids, estimated.ids);
}

// hnsw-faiss's ef_search counts, changed on a built index or given to a loaded one: FAISS 1.7.3 sized the
// search by the ef the index was made with (8 here) whatever was asked after.
TEST(FaissIndex, GraphEfSearchSetLaterIsTheOneSearchedWith) {
  ScratchDir dir;
  const auto [data, queries, truth] = mixture_with_truth(100);
  IndexOptions options = one_thread();
  options.ef_search = 8;
  FaissIndex graph("hnsw-faiss:4", kDim, Metric::SqEuclidean, options);
  graph.add(ids_from(4000, 0), data);
  const double narrow = recall_at(graph.search(queries, 10), truth, 10);
  graph.set_ef_search(256);
  const double wide = recall_at(graph.search(queries, 10), truth, 10);
  EXPECT_GT(wide, narrow + 0.05);
  EXPECT_GE(wide, 0.97);
  graph.save(dir / "graph.tli");
  options.ef_search = 256;
  FaissIndex loaded("hnsw-faiss:4", kDim, Metric::SqEuclidean, options);
  loaded.load(dir / "graph.tli");
  EXPECT_EQ(loaded.search(queries, 10).ids, graph.search(queries, 10).ids);
}

TEST(FaissIndex, AddReplacesAndRemoveForgetsInEveryKind) {
  const auto data = mixture(600, 6, 6);
  for (const char* kind : {"ivf-flat:8", "ivf-pq:8:8:32", "hnsw-faiss:8"}) {
    IndexOptions options = one_thread();
    options.nprobe = 8;
    FaissIndex index(kind, kDim, Metric::SqEuclidean, options);
    const auto ids = ids_from(600, 1000);
    index.add(ids, data);
    EXPECT_EQ(index.size(), 600u) << kind;
    EXPECT_TRUE(index.contains(1005));
    EXPECT_FALSE(index.contains(5));
    // Track 1005 gets the vector of track 1300: both are now at distance 0 of it, 1005 first by id.
    const std::span<const float> moved(data.data() + 300 * kDim, kDim);
    const std::int64_t replaced = 1005;
    index.add(std::span(&replaced, 1), moved);
    EXPECT_EQ(index.size(), 600u) << kind;
    const SearchResults r = index.search(moved, 2);
    EXPECT_EQ(std::vector<std::int64_t>(r.ids.begin(), r.ids.end()), (std::vector<std::int64_t>{1005, 1300}))
        << kind;
    // Removed: never returned again.
    EXPECT_TRUE(index.remove(1300)) << kind;
    EXPECT_FALSE(index.remove(1300)) << kind;
    EXPECT_FALSE(index.contains(1300));
    EXPECT_EQ(index.size(), 599u);
    const SearchResults after = index.search(moved, 599);
    EXPECT_EQ(after.ids[0], 1005) << kind;
    EXPECT_EQ(std::count(after.ids.begin(), after.ids.end(), 1300), 0) << kind;
    // Bad arguments change nothing.
    const std::vector<std::int64_t> twice = {1, 1};
    EXPECT_THROW(index.add(twice, std::vector<float>(2 * kDim, 0.0f)), IndexError);
    EXPECT_THROW(index.add(std::vector<std::int64_t>{-1}, std::vector<float>(kDim, 0.0f)), IndexError);
    EXPECT_EQ(index.size(), 599u);
  }
}

TEST(FaissIndex, SaveLoadGivesTheSameAnswersAndTakesMoreVectors) {
  ScratchDir dir;
  const auto data = mixture(1500, 12, 8), extra = mixture(20, 12, 9), queries = mixture(40, 12, 10);
  for (const char* kind : {"ivf-flat:16", "ivf-pq:16:8", "ivf-pq:16:8:40", "hnsw-faiss:12"}) {
    for (Metric metric : {Metric::SqEuclidean, Metric::Cosine}) {
      FaissIndex built(kind, kDim, metric, one_thread());
      built.add(ids_from(1500, 1), data);
      built.remove(7);
      const auto file = dir / "index.tli";
      built.save(file);
      const std::unique_ptr<Index> loaded = load_index(file, one_thread());
      EXPECT_EQ(loaded->kind(), kind);
      EXPECT_EQ(loaded->metric(), metric);
      EXPECT_EQ(loaded->size(), 1499u);
      EXPECT_FALSE(loaded->contains(7));
      const SearchResults a = built.search(queries, 10), b = loaded->search(queries, 10);
      EXPECT_EQ(a.ids, b.ids) << kind;
      EXPECT_EQ(a.distances, b.distances) << kind;
      // New vectors after loading (beside the mapped ones), saved and loaded again.
      loaded->add(ids_from(20, 5000), extra);
      EXPECT_EQ(loaded->search(std::span(extra.data() + 3 * kDim, kDim), 1).ids[0], 5003) << kind;
      loaded->save(file);
      const std::unique_ptr<Index> again = load_index(file, one_thread());
      EXPECT_EQ(again->size(), 1519u);
      EXPECT_EQ(again->search(queries, 10).ids, loaded->search(queries, 10).ids) << kind;
    }
  }
  // The kept vectors of ivf-pq:N:M:R are read through the file mapping once loaded, not held.
  FaissIndex pq("ivf-pq:16:8:40", kDim, Metric::SqEuclidean, one_thread());
  pq.add(ids_from(1500, 1), data);
  const std::size_t in_memory = pq.memory_bytes();
  pq.save(dir / "pq.tli");
  FaissIndex mapped("ivf-pq:16:8:40", kDim, Metric::SqEuclidean, one_thread());
  mapped.load(dir / "pq.tli");
  EXPECT_EQ(mapped.mapped_bytes(), 1500 * kDim * sizeof(float));
  EXPECT_LT(mapped.memory_bytes() + 1500 * kDim * sizeof(float) / 2, in_memory);
}

TEST(FaissIndex, FileErrorsNameTheFileAndTheReason) {
  ScratchDir dir;
  const auto data = mixture(500, 5, 11);
  FaissIndex index("ivf-pq:8:8:16", kDim, Metric::Cosine, one_thread());
  index.add(ids_from(500, 0), data);
  const auto file = dir / "good.tli";
  index.save(file);
  FaissIndex target("ivf-pq:8:8:16", kDim, Metric::Cosine, one_thread());
  auto kind_of_loading = [&](const std::filesystem::path& path) {
    return error_kind([&] { target.load(path); });
  };
  EXPECT_EQ(kind_of_loading(dir / "missing.tli"), IndexErrorKind::NotFound);
  write_bytes(dir / "text.tli", "not an index at all, just some text");
  EXPECT_EQ(kind_of_loading(dir / "text.tli"), IndexErrorKind::NotAnIndex);
  const std::string bytes = read_bytes(file);
  for (std::size_t at : {std::size_t{200}, bytes.size() / 2, bytes.size() - 3}) {
    std::string damaged = bytes;
    damaged[at] ^= 0x10;
    write_bytes(dir / "damaged.tli", damaged);
    EXPECT_EQ(kind_of_loading(dir / "damaged.tli"), IndexErrorKind::Corrupt) << at;
  }
  write_bytes(dir / "short.tli", bytes.substr(0, bytes.size() - 100));
  try {
    target.load(dir / "short.tli");
    FAIL() << "a truncated file loaded";
  } catch (const IndexError& error) {
    EXPECT_EQ(error.kind(), IndexErrorKind::Corrupt);
    EXPECT_NE(std::string(error.what()).find((dir / "short.tli").string() + ": truncated"), std::string::npos)
        << error.what();
  }
  FaissIndex other_kind("ivf-flat:8", kDim, Metric::Cosine);
  EXPECT_EQ(error_kind([&] { other_kind.load(file); }), IndexErrorKind::Mismatch);
  FaissIndex other_metric("ivf-pq:8:8:16", kDim, Metric::SqEuclidean);
  EXPECT_EQ(error_kind([&] { other_metric.load(file); }), IndexErrorKind::Mismatch);
  EXPECT_EQ(error_kind([&] { index.save(dir / "no-such-folder" / "x.tli"); }), IndexErrorKind::Io);
  // The index that failed to load is unchanged.
  target.add(ids_from(500, 0), data);
  EXPECT_EQ(target.size(), 500u);
  EXPECT_EQ(kind_of_loading(dir / "short.tli"), IndexErrorKind::Corrupt);
  EXPECT_EQ(target.size(), 500u);
}

// A catalog split over shards of any kinds answers as one index over all of it.
TEST(ShardedIndex, MergedTopKEqualsOneIndexOverAll) {
  ScratchDir dir;
  const auto data = mixture(1800, 18, 12), queries = mixture(60, 18, 13);
  ExactIndex whole(kDim, Metric::SqEuclidean, 1);
  whole.add(ids_from(1800, 0), data);
  std::vector<std::unique_ptr<Index>> shards;
  for (std::size_t s = 0; s < 3; ++s) {
    IndexOptions options = one_thread();
    options.nprobe = 8;
    shards.push_back(make_index(s == 0 ? "exact" : "ivf-flat:8", kDim, Metric::SqEuclidean, options));
    shards.back()->add(ids_from(600, static_cast<std::int64_t>(s * 600)),
                       std::span(data.data() + s * 600 * kDim, 600 * kDim));
  }
  ShardedIndex sharded(std::move(shards));
  EXPECT_EQ(sharded.size(), 1800u);
  EXPECT_TRUE(sharded.contains(1799));
  const SearchResults a = sharded.search(queries, 10), b = whole.search(queries, 10);
  EXPECT_EQ(a.ids, b.ids);
  for (std::size_t i = 0; i < a.distances.size(); ++i) EXPECT_NEAR(a.distances[i], b.distances[i], 1e-3);
  // Asked for more than it holds: all of it, in order.
  EXPECT_EQ(sharded.search(std::span(queries.data(), kDim), 5000).k, 1800u);

  // Saved as its shards' files and a list of them; load_index() opens it.
  sharded.save(dir / "all.tli");
  EXPECT_TRUE(std::filesystem::exists(dir / "all.tli.2"));
  const std::unique_ptr<Index> loaded = load_index(dir / "all.tli", one_thread());
  EXPECT_EQ(loaded->kind(), "sharded");
  EXPECT_EQ(loaded->search(queries, 10).ids, b.ids);

  // An id held by a shard is replaced there; a new one goes to the last shard; remove finds its shard.
  const std::int64_t moved = 10;
  sharded.add(std::span(&moved, 1), std::span(data.data() + 1000 * kDim, kDim));
  EXPECT_EQ(sharded.shard(0).size(), 600u);
  const std::int64_t fresh = 9000;
  sharded.add(std::span(&fresh, 1), std::span(data.data() + 5 * kDim, kDim));
  EXPECT_TRUE(sharded.shard(2).contains(9000));
  EXPECT_TRUE(sharded.remove(1000));
  EXPECT_FALSE(sharded.contains(1000));
  EXPECT_EQ(sharded.size(), 1800u);

  std::vector<std::unique_ptr<Index>> mixed;
  mixed.push_back(make_index("exact", kDim, Metric::SqEuclidean));
  mixed.push_back(make_index("exact", kDim + 1, Metric::SqEuclidean));
  EXPECT_THROW(ShardedIndex{std::move(mixed)}, IndexError);
}

std::vector<float> fill_catalog(Catalog& catalog, std::size_t n, std::uint32_t seed) {
  const auto data = mixture(n, 8, seed);
  Catalog::Transaction transaction(catalog);
  for (std::size_t i = 0; i < n; ++i) {
    TrackInfo track;
    track.path = "t";
    track.path += std::to_string(catalog.track_count() + 1);
    track.path += ".wav";
    track.fingerprint = track.path;
    track.source = "test";
    const std::int64_t id = *catalog.add_track(track);
    catalog.set_vector(id, "m", "embedding", std::span(data.data() + i * kDim, kDim));
  }
  transaction.commit();
  return data;
}

TEST(CatalogIndex, FaissFileIsSavedReloadedMendedAndReplacesTheHnswOne) {
  ScratchDir dir;
  Catalog catalog = Catalog::create(dir / "c.db", dir.path());
  fill_catalog(catalog, 400, 14);
  std::vector<std::string> warnings;
  CatalogIndexOptions options;
  options.index.threads = 1;
  options.on_warning = [&](const std::string& line) { warnings.push_back(line); };
  options.mode = SearchMode::Hnsw;
  const CatalogIndex graph = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  ASSERT_TRUE(std::filesystem::exists(graph.file));

  const IndexChoice choice = parse_index_choice("ivf-pq:8:8:32");
  EXPECT_EQ(choice.mode, SearchMode::Faiss);
  options.mode = choice.mode;
  options.faiss_kind = choice.faiss_kind;
  const CatalogIndex built = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  ASSERT_TRUE(built.index);
  EXPECT_EQ(built.index->kind(), "ivf-pq:8:8:32");
  EXPECT_EQ(built.file,
            catalog_index_file(dir / "c.db", "m", "embedding", Metric::Cosine, SearchMode::Faiss));
  EXPECT_TRUE(std::filesystem::exists(built.file));
  EXPECT_FALSE(std::filesystem::exists(graph.file));  // one saved index per vectors and metric
  EXPECT_EQ(saved_catalog_indexes(dir / "c.db", "m"),
            (std::vector<IndexedVectors>{{"embedding", Metric::Cosine}}));

  // Auto opens the saved FAISS file; tracks indexed since are added to it.
  fill_catalog(catalog, 3, 15);
  CatalogIndexOptions automatic;
  automatic.index.threads = 1;
  const CatalogIndex mended = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, automatic);
  EXPECT_TRUE(mended.loaded);
  EXPECT_EQ(mended.added, 3u);
  EXPECT_EQ(load_index(mended.file)->size(), 403u);
  EXPECT_TRUE(warnings.empty()) << warnings.front();

  // Too few vectors for the kind asked for: exact search with a warning, the file left alone.
  options.faiss_kind = "ivf-flat:1000";
  const CatalogIndex few = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  EXPECT_EQ(few.index->kind(), "exact");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("403 embedding vectors are too few to train ivf-flat:1000 (it needs 1000)"),
            std::string::npos)
      << warnings[0];
  EXPECT_EQ(load_index(mended.file)->kind(), "ivf-pq:8:8:32");
  EXPECT_THROW(parse_index_choice("ivf-pq:8"), IndexError);
  EXPECT_EQ(parse_index_choice("hnsw").mode, SearchMode::Hnsw);
}

}  // namespace
}  // namespace tunelens
