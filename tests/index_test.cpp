// The vector indexes: exact search against a plain O(n·d) loop, HNSW recall against exact search, files.
#include "recommend/index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <tuple>
#include <vector>

#include "recommend/catalog_index.h"
#include "recommend/exact_index.h"
#include "recommend/hnsw_index.h"
#include "store/catalog.h"
#include "test_support.h"

namespace tunelens {
namespace {

using tunelens::testing::read_bytes;
using tunelens::testing::ScratchDir;
using tunelens::testing::write_bytes;

const Metric kMetrics[] = {Metric::SqEuclidean, Metric::Cosine, Metric::JensenShannon};

// Random vectors: Gaussian for sqeuclidean and cosine, random probability vectors (exponentials) for js.
std::vector<float> random_vectors(std::size_t n, std::size_t dim, Metric metric, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::exponential_distribution<float> exponential;
  std::vector<float> v(n * dim);
  for (auto& x : v) x = metric == Metric::JensenShannon ? exponential(rng) : normal(rng);
  return v;
}

// Vectors around `clusters` centres, with spread `spread` (probability vectors for js: a softmax of them).
std::vector<float> clustered_vectors(std::size_t n, std::size_t dim, std::size_t clusters, Metric metric,
                                     std::uint32_t seed, float spread = 0.3f) {
  std::mt19937 centre_rng(1234);
  std::normal_distribution<float> normal;
  std::vector<float> centres(clusters * dim);
  for (auto& x : centres) x = normal(centre_rng);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
  std::vector<float> v(n * dim);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = pick(rng);
    double sum = 0.0;
    for (std::size_t k = 0; k < dim; ++k) {
      float x = centres[c * dim + k] + spread * normal(rng);
      if (metric == Metric::JensenShannon) x = std::exp(2.0f * x);
      v[i * dim + k] = x;
      sum += x;
    }
    if (metric == Metric::JensenShannon)
      for (std::size_t k = 0; k < dim; ++k) v[i * dim + k] = static_cast<float>(v[i * dim + k] / sum);
  }
  return v;
}

std::vector<std::int64_t> sequential_ids(std::size_t n, std::int64_t first = 0) {
  std::vector<std::int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

// The definition of each metric, in double precision, on the raw vectors.
double naive_distance(Metric metric, const float* a, const float* b, std::size_t dim) {
  double s = 0.0;
  if (metric == Metric::SqEuclidean) {
    for (std::size_t k = 0; k < dim; ++k)
      s += (static_cast<double>(a[k]) - b[k]) * (static_cast<double>(a[k]) - b[k]);
    return s;
  }
  double na = 0.0, nb = 0.0;
  if (metric == Metric::Cosine) {
    for (std::size_t k = 0; k < dim; ++k) {
      s += static_cast<double>(a[k]) * b[k];
      na += static_cast<double>(a[k]) * a[k];
      nb += static_cast<double>(b[k]) * b[k];
    }
    return 1.0 - s / std::sqrt(na * nb);
  }
  for (std::size_t k = 0; k < dim; ++k) {
    na += a[k];
    nb += b[k];
  }
  for (std::size_t k = 0; k < dim; ++k) {
    const double p = a[k] / na, q = b[k] / nb, m = 0.5 * (p + q);
    if (p > 0) s += 0.5 * p * std::log(p / m);
    if (q > 0) s += 0.5 * q * std::log(q / m);
  }
  return s;
}

struct Naive {
  std::vector<double> distances;   // of every vector, by row
  std::vector<std::size_t> order;  // rows nearest first (ties by id = row)
};

Naive naive_search(Metric metric, const std::vector<float>& data, const float* query, std::size_t dim) {
  const std::size_t n = data.size() / dim;
  Naive r;
  r.distances.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    r.distances[i] = naive_distance(metric, query, data.data() + i * dim, dim);
  r.order.resize(n);
  std::iota(r.order.begin(), r.order.end(), 0);
  std::stable_sort(r.order.begin(), r.order.end(),
                   [&](std::size_t a, std::size_t b) { return r.distances[a] < r.distances[b]; });
  return r;
}

class ExactAgainstNaive : public ::testing::TestWithParam<std::tuple<Metric, int>> {};

// Every metric, dimensions that do and do not fill a vector register, a database not a multiple of the panel
// size, a query count not a multiple of the query block: distances within float rounding of the
// double-precision definition, and every returned neighbour really among the k nearest.
TEST_P(ExactAgainstNaive, MatchesPlainLoop) {
  const Metric metric = std::get<0>(GetParam());
  const auto dim = static_cast<std::size_t>(std::get<1>(GetParam()));
  const std::size_t n = 1013, nq = 137, k = 10;
  const auto data = random_vectors(n, dim, metric, 1);
  const auto queries = random_vectors(nq, dim, metric, 2);
  ExactIndex index(dim, metric, 2);
  index.add(sequential_ids(n), data);
  const SearchResults r = index.search(queries, k);
  ASSERT_EQ(r.queries, nq);
  ASSERT_EQ(r.k, k);
  std::size_t same_ids = 0;
  for (std::size_t q = 0; q < nq; ++q) {
    const Naive truth = naive_search(metric, data, queries.data() + q * dim, dim);
    const double scale = std::max(1e-3, truth.distances[truth.order[k - 1]]);
    const double tolerance = 1e-5 * (metric == Metric::SqEuclidean ? 4.0 * dim : 1.0) * std::max(1.0, scale);
    for (std::size_t j = 0; j < k; ++j) {
      const std::int64_t id = r.ids_of(q)[j];
      ASSERT_GE(id, 0);
      EXPECT_NEAR(r.distances_of(q)[j], truth.distances[truth.order[j]], tolerance)
          << "query " << q << " rank " << j;
      // The neighbour we return is as near as the j-th true neighbour.
      EXPECT_NEAR(truth.distances[static_cast<std::size_t>(id)], truth.distances[truth.order[j]], tolerance);
      same_ids += static_cast<std::size_t>(id) == truth.order[j];
      if (j > 0) {
        EXPECT_LE(r.distances_of(q)[j - 1], r.distances_of(q)[j]);
      }
    }
  }
  EXPECT_GE(same_ids, nq * k * 99 / 100);  // only near-ties may swap
}

// js is for probability vectors (softmax over genres: tens of dimensions), and costs logarithms: no 256
// there.
INSTANTIATE_TEST_SUITE_P(
    Metrics, ExactAgainstNaive,
    ::testing::Values(std::tuple(Metric::SqEuclidean, 8), std::tuple(Metric::SqEuclidean, 37),
                      std::tuple(Metric::SqEuclidean, 256), std::tuple(Metric::Cosine, 8),
                      std::tuple(Metric::Cosine, 37), std::tuple(Metric::Cosine, 256),
                      std::tuple(Metric::JensenShannon, 8), std::tuple(Metric::JensenShannon, 37)),
    [](const auto& info) {
      return std::string(metric_name(std::get<0>(info.param))) + "_" +
             std::to_string(std::get<1>(info.param));
    });

TEST(ExactIndex, SameAnswersWithAnyThreadCount) {
  const std::size_t dim = 24, n = 5000;
  const auto data = random_vectors(n, dim, Metric::SqEuclidean, 3);
  const auto queries = random_vectors(3, dim, Metric::SqEuclidean, 4);
  ExactIndex one(dim, Metric::SqEuclidean, 1), four(dim, Metric::SqEuclidean, 4);
  one.add(sequential_ids(n), data);
  four.add(sequential_ids(n), data);
  for (std::size_t nq : {1, 3}) {  // 1 and 3 queries: vectors split between threads, partial lists merged
    const std::span<const float> q(queries.data(), nq * dim);
    const SearchResults a = one.search(q, 25), b = four.search(q, 25);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.distances, b.distances);
  }
}

TEST(ExactIndex, MoreNeighboursAskedThanHeld) {
  for (Metric metric : kMetrics) {
    ExactIndex index(4, metric);
    index.add(sequential_ids(5, 100), random_vectors(5, 4, metric, 5));
    const auto queries = random_vectors(2, 4, metric, 6);
    // k is capped at the 5 held: no room is made for more (k = 10^12 would not fit in memory).
    for (const std::size_t k : {std::size_t{8}, std::size_t{1'000'000'000'000}}) {
      const SearchResults r = index.search(queries, k);
      EXPECT_EQ(r.k, 5u);
      EXPECT_EQ(r.ids.size(), 10u);
      for (std::size_t q = 0; q < 2; ++q) {
        EXPECT_EQ(r.found(q), 5u);
        std::vector<std::int64_t> got(r.ids_of(q).begin(), r.ids_of(q).end());
        std::sort(got.begin(), got.end());
        EXPECT_EQ(got, sequential_ids(5, 100));
      }
    }
  }
}

// Equal distances come in increasing id order, whatever the order of insertion, also where k cuts the ties.
TEST(Index, TiesAreBrokenById) {
  for (const char* kind : {"exact", "hnsw"}) {
    for (Metric metric : kMetrics) {
      const std::size_t dim = 6;
      auto index = make_index(kind, dim, metric);
      std::vector<float> far = random_vectors(40, dim, metric, 7);
      for (auto& x : far) x = metric == Metric::JensenShannon ? x : x + 5.0f;
      index->add(sequential_ids(40, 1000), far);
      const std::vector<float> same = {0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.1f};
      std::vector<float> copies;
      for (int i = 0; i < 3; ++i) copies.insert(copies.end(), same.begin(), same.end());
      const std::vector<std::int64_t> ids = {30, 10, 20};
      index->add(ids, copies);
      const SearchResults r = index->search(same, 3);
      EXPECT_EQ(std::vector<std::int64_t>(r.ids.begin(), r.ids.end()),
                (std::vector<std::int64_t>{10, 20, 30}))
          << kind << " " << metric_name(metric);
      EXPECT_EQ(r.distances[0], r.distances[1]);
      EXPECT_EQ(r.distances[1], r.distances[2]);
      const SearchResults two = index->search(same, 2);
      EXPECT_EQ(std::vector<std::int64_t>(two.ids.begin(), two.ids.end()),
                (std::vector<std::int64_t>{10, 20}));
    }
  }
}

TEST(Index, AddReplacesRemoveForgets) {
  for (const char* kind : {"exact", "hnsw"}) {
    auto index = make_index(kind, 3, Metric::SqEuclidean);
    index->add(std::vector<std::int64_t>{1, 2, 3}, std::vector<float>{0, 0, 0, 10, 0, 0, 20, 0, 0});
    EXPECT_EQ(index->size(), 3u);
    index->add(std::vector<std::int64_t>{2}, std::vector<float>{30, 0, 0});  // track 2 gets a new vector
    EXPECT_EQ(index->size(), 3u);
    SearchResults r = index->search(std::vector<float>{29, 0, 0}, 1);
    EXPECT_EQ(r.ids[0], 2) << kind;
    EXPECT_FLOAT_EQ(r.distances[0], 1.0f);
    EXPECT_TRUE(index->remove(2));
    EXPECT_FALSE(index->remove(2));
    EXPECT_FALSE(index->contains(2));
    EXPECT_EQ(index->size(), 2u);
    r = index->search(std::vector<float>{29, 0, 0}, 5);
    EXPECT_EQ(r.found(0), 2u);
    EXPECT_EQ(r.ids[0], 3);
    EXPECT_EQ(r.ids[1], 1);
    index->add(std::vector<std::int64_t>{2}, std::vector<float>{12, 0, 0});  // back again
    r = index->search(std::vector<float>{11, 0, 0}, 1);
    EXPECT_EQ(r.ids[0], 2) << kind;
    EXPECT_EQ(index->size(), 3u);
  }
}

TEST(Index, BadArgumentsAreRefusedAndChangeNothing) {
  for (const char* kind : {"exact", "hnsw"}) {
    auto index = make_index(kind, 2, Metric::JensenShannon);
    index->add(std::vector<std::int64_t>{7}, std::vector<float>{0.5f, 0.5f});
    auto invalid = [&](auto&& f, const char* what) {
      try {
        f();
        ADD_FAILURE() << kind << ": no error for " << what;
      } catch (const IndexError& e) {
        EXPECT_EQ(e.kind(), IndexErrorKind::Invalid) << e.what();
      }
    };
    invalid(
        [&] {
          index->add(std::vector<std::int64_t>{1, 2}, std::vector<float>{1, 0, 1});
        },
        "wrong length");
    invalid([&] { index->add(std::vector<std::int64_t>{-3}, std::vector<float>{1, 0}); }, "negative id");
    invalid(
        [&] {
          index->add(std::vector<std::int64_t>{4, 4}, std::vector<float>{1, 0, 0, 1});
        },
        "repeated id");
    invalid([&] { index->add(std::vector<std::int64_t>{4}, std::vector<float>{NAN, 1}); }, "NaN");
    invalid(
        [&] {
          index->add(std::vector<std::int64_t>{4}, std::vector<float>{-0.5f, 1.5f});
        },
        "negative entry");
    invalid(
        [&] {
          index->add(std::vector<std::int64_t>{4}, std::vector<float>{0, 0});
        },
        "zero probability vector");
    invalid([&] { index->search(std::vector<float>{1, 0, 1}, 1); }, "query of the wrong length");
    invalid([&] { index->search(std::vector<float>{INFINITY, 0}, 1); }, "infinite query");
    EXPECT_EQ(index->size(), 1u);
    EXPECT_FALSE(index->contains(4));
  }
  EXPECT_THROW(make_index("annoy", 2, Metric::Cosine), IndexError);
  EXPECT_THROW(make_index("exact", 0, Metric::Cosine), IndexError);
  IndexOptions bad;
  bad.M = 1;
  EXPECT_THROW(make_index("hnsw", 8, Metric::Cosine, bad), IndexError);
  EXPECT_THROW(parse_metric("manhattan"), IndexError);
  EXPECT_EQ(parse_metric("js"), Metric::JensenShannon);
  EXPECT_EQ(recommended_index_kind(1000), "exact");
  EXPECT_EQ(recommended_index_kind(1'000'000), "hnsw");
}

TEST(ExactIndex, CosineOfAZeroVectorIsOne) {
  ExactIndex index(3, Metric::Cosine);
  index.add(std::vector<std::int64_t>{1, 2}, std::vector<float>{0, 0, 0, 2, 0, 0});
  const SearchResults r = index.search(std::vector<float>{5, 0, 0}, 2);
  EXPECT_EQ(r.ids[0], 2);
  EXPECT_NEAR(r.distances[0], 0.0f, 1e-6f);
  EXPECT_EQ(r.ids[1], 1);
  EXPECT_FLOAT_EQ(r.distances[1], 1.0f);
}

class HnswRecall : public ::testing::TestWithParam<Metric> {};

// Clustered data (as track vectors are): the default graph finds at least 95 % of the exact 10 nearest.
TEST_P(HnswRecall, AgainstExactSearch) {
  const Metric metric = GetParam();
  const std::size_t dim = metric == Metric::JensenShannon ? 8 : 32, n = 6000, nq = 300, k = 10;
  const auto data = clustered_vectors(n, dim, 60, metric, 11);
  const auto queries = clustered_vectors(nq, dim, 60, metric, 12);
  ExactIndex exact(dim, metric);
  HnswIndex hnsw(dim, metric);
  exact.add(sequential_ids(n, 500), data);
  hnsw.add(sequential_ids(n, 500), data);
  EXPECT_EQ(hnsw.size(), n);
  const SearchResults truth = exact.search(queries, k), approx = hnsw.search(queries, k);
  const double recall = recall_at(approx, truth, k);
  EXPECT_GE(recall, 0.95) << metric_name(metric);
  // The distances HNSW reports are the exact index's for the same pair.
  for (std::size_t q = 0; q < nq; ++q)
    for (std::size_t j = 0; j < k; ++j)
      if (approx.ids_of(q)[j] == truth.ids_of(q)[j]) {
        EXPECT_NEAR(approx.distances_of(q)[j], truth.distances_of(q)[j],
                    1e-4f * std::max(1.0f, truth.distances_of(q)[j]));
      }
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswRecall, ::testing::ValuesIn(kMetrics),
                         [](const auto& info) { return std::string(metric_name(info.param)); });

TEST(Index, SaveLoadGivesTheSameAnswers) {
  ScratchDir dir;
  for (const char* kind : {"exact", "hnsw"}) {
    for (Metric metric : kMetrics) {
      const std::size_t dim = 16, n = 3000;
      const auto data = clustered_vectors(n, dim, 30, metric, 21);
      const auto queries = clustered_vectors(50, dim, 30, metric, 22);
      IndexOptions options;
      options.ef_search = 40;
      auto index = make_index(kind, dim, metric, options);
      index->add(sequential_ids(n, 7), data);
      index->remove(100);
      const auto path = dir / (std::string(kind) + "-" + std::string(metric_name(metric)) + ".index");
      index->save(path);
      const SearchResults before = index->search(queries, 10);

      auto same_kind = make_index(kind, dim, metric, options);
      same_kind->load(path);
      const auto opened = load_index(path, options);
      for (const Index* loaded : {same_kind.get(), opened.get()}) {
        EXPECT_EQ(loaded->kind(), kind);
        EXPECT_EQ(loaded->dim(), dim);
        EXPECT_EQ(loaded->metric(), metric);
        EXPECT_EQ(loaded->size(), n - 1);
        EXPECT_FALSE(loaded->contains(100));
        const SearchResults after = loaded->search(queries, 10);
        EXPECT_EQ(after.ids, before.ids) << kind << " " << metric_name(metric);
        EXPECT_EQ(after.distances, before.distances);
      }
    }
  }
}

// The cold-start path: a graph saved with the catalog, opened later, takes new tracks (growing past its
// loaded capacity) and finds them at once; saved and opened again, it still does. (Embedding-sized vectors:
// the graph is large enough to be moved to huge pages on loading and on growing.)
TEST(HnswIndex, AddAfterLoadFindsTheNewVectors) {
  ScratchDir dir;
  const std::size_t dim = 256, n = 2000, fresh = 700;
  const auto data = clustered_vectors(n + fresh, dim, 40, Metric::Cosine, 31);
  HnswIndex built(dim, Metric::Cosine);
  built.add(sequential_ids(n), std::span(data.data(), n * dim));
  built.save(dir / "catalog.hnsw");

  HnswIndex index(dim, Metric::Cosine);
  index.load(dir / "catalog.hnsw");
  EXPECT_EQ(index.size(), n);
  EXPECT_LT(index.capacity(), n + fresh);
  index.add(sequential_ids(fresh, 1'000'000), std::span(data.data() + n * dim, fresh * dim));
  EXPECT_EQ(index.size(), n + fresh);
  EXPECT_GE(index.capacity(), n + fresh);
  auto finds_new = [&](const Index& idx) {
    const SearchResults r = idx.search(std::span(data.data() + n * dim, fresh * dim), 1);
    std::size_t found = 0;
    for (std::size_t i = 0; i < fresh; ++i) found += r.ids[i] == static_cast<std::int64_t>(1'000'000 + i);
    return found;
  };
  EXPECT_GE(finds_new(index), fresh * 99 / 100);
  index.save(dir / "catalog.hnsw");
  const auto reopened = load_index(dir / "catalog.hnsw");
  EXPECT_EQ(reopened->size(), n + fresh);
  EXPECT_GE(finds_new(*reopened), fresh * 99 / 100);
}

TEST(Index, FileErrorsNameTheFileAndTheReason) {
  ScratchDir dir;
  const auto data = random_vectors(300, 16, Metric::SqEuclidean, 41);
  auto hnsw = make_index("hnsw", 16, Metric::SqEuclidean);
  hnsw->add(sequential_ids(300), data);
  hnsw->save(dir / "good.hnsw");
  auto exact = make_index("exact", 16, Metric::SqEuclidean);
  exact->add(sequential_ids(300), data);
  exact->save(dir / "good.exact");
  const std::string good = read_bytes(dir / "good.hnsw");

  auto expect_error = [&](const std::string& file, const char* kind, std::size_t dim, Metric metric,
                          IndexErrorKind error, const std::string& reason) {
    auto index = make_index(kind, dim, metric);
    index->add(std::vector<std::int64_t>{1}, std::vector<float>(dim, 0.25f));
    try {
      index->load(dir / file);
      ADD_FAILURE() << "no error loading " << file;
    } catch (const IndexError& e) {
      EXPECT_EQ(e.kind(), error) << e.what();
      EXPECT_NE(std::string(e.what()).find((dir / file).string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
    EXPECT_EQ(index->size(), 1u);  // unchanged
    EXPECT_TRUE(index->contains(1));
  };
  expect_error("missing.hnsw", "hnsw", 16, Metric::SqEuclidean, IndexErrorKind::NotFound,
               "no such index file");
  write_bytes(dir / "text.hnsw", "this is not an index at all, just some text");
  expect_error("text.hnsw", "hnsw", 16, Metric::SqEuclidean, IndexErrorKind::NotAnIndex,
               "not a tunelens index");
  expect_error("good.hnsw", "hnsw", 32, Metric::SqEuclidean, IndexErrorKind::Mismatch, "dimension 16");
  expect_error("good.hnsw", "hnsw", 16, Metric::Cosine, IndexErrorKind::Mismatch, "sqeuclidean");
  expect_error("good.exact", "hnsw", 16, Metric::SqEuclidean, IndexErrorKind::Mismatch, "is an exact index");
  expect_error("good.hnsw", "exact", 16, Metric::SqEuclidean, IndexErrorKind::Mismatch, "is an hnsw index");

  write_bytes(dir / "truncated.hnsw", good.substr(0, good.size() - 100));
  expect_error("truncated.hnsw", "hnsw", 16, Metric::SqEuclidean, IndexErrorKind::Corrupt, "truncated");
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  write_bytes(dir / "flipped.hnsw", flipped);
  expect_error("flipped.hnsw", "hnsw", 16, Metric::SqEuclidean, IndexErrorKind::Corrupt, "checksum");
  std::string exact_flipped = read_bytes(dir / "good.exact");
  exact_flipped[exact_flipped.size() - 7] ^= 0x01;
  write_bytes(dir / "flipped.exact", exact_flipped);
  expect_error("flipped.exact", "exact", 16, Metric::SqEuclidean, IndexErrorKind::Corrupt, "checksum");

  EXPECT_THROW(load_index(dir / "missing.hnsw"), IndexError);
  // A save into a folder that does not exist fails cleanly.
  try {
    hnsw->save(dir / "no-such-folder" / "x.hnsw");
    ADD_FAILURE() << "no error saving into a missing folder";
  } catch (const IndexError& e) {
    EXPECT_EQ(e.kind(), IndexErrorKind::Io) << e.what();
  }
}

// --- the saved index of a catalog's vectors (recommend/catalog_index.h)

// A catalog of n tracks with clustered 16-dimensional "embedding" vectors under model key "m".
std::vector<float> fill_catalog(Catalog& catalog, std::size_t n, std::uint32_t seed) {
  const auto data = clustered_vectors(n, 16, 10, Metric::Cosine, seed);
  Catalog::Transaction transaction(catalog);
  for (std::size_t i = 0; i < n; ++i) {
    TrackInfo track;
    track.path = "t";  // built in steps: GCC 12 warns (falsely) about "t" + std::string
    track.path += std::to_string(catalog.track_count() + 1);
    track.path += ".wav";
    track.fingerprint = track.path;
    track.codec = "pcm_s16le";
    track.source = "test";
    const std::int64_t id = *catalog.add_track(track);
    catalog.set_vector(id, "m", "embedding", std::span(data.data() + i * 16, 16));
  }
  transaction.commit();
  return data;
}

TEST(CatalogIndex, FilesAreNamedAfterModelKindAndMetric) {
  EXPECT_EQ(catalog_index_file("/data/corpus.db", "0123abcd", "embedding", Metric::Cosine),
            std::filesystem::path("/data/corpus.db.index/0123abcd.embedding.cosine.hnsw"));
  // A key that is a path is replaced by its hash: one plain file name.
  const auto file = catalog_index_file("/data/corpus.db", "/models/genre.tlm", "probs", Metric::SqEuclidean);
  EXPECT_EQ(file.parent_path(), std::filesystem::path("/data/corpus.db.index"));
  EXPECT_EQ(file.filename().string().size(), 16 + std::string(".probs.sqeuclidean.hnsw").size()) << file;
  EXPECT_EQ(parse_search_mode("auto"), SearchMode::Auto);
  EXPECT_EQ(parse_search_mode("exact"), SearchMode::Exact);
  EXPECT_EQ(parse_search_mode("hnsw"), SearchMode::Hnsw);
  EXPECT_THROW(parse_search_mode("fast"), IndexError);
}

TEST(CatalogIndex, SmallCatalogsAreSearchedExactlyWithoutAFile) {
  ScratchDir dir;
  Catalog catalog = Catalog::create(dir / "c.db", dir.path());
  EXPECT_FALSE(open_catalog_index(catalog, "m", "embedding", Metric::Cosine).index);  // no vectors yet
  fill_catalog(catalog, 200, 1);
  const CatalogIndex index = open_catalog_index(catalog, "m", "embedding", Metric::Cosine);
  ASSERT_TRUE(index.index);
  EXPECT_EQ(index.index->kind(), "exact");
  EXPECT_EQ(index.index->size(), 200u);
  EXPECT_TRUE(index.file.empty());
  EXPECT_FALSE(std::filesystem::exists(catalog_index_folder(dir / "c.db")));
}

TEST(CatalogIndex, HnswFileIsSavedReloadedMendedAndRebuiltWhenStale) {
  ScratchDir dir;
  Catalog catalog = Catalog::create(dir / "c.db", dir.path());
  const auto data = fill_catalog(catalog, 300, 2);
  std::vector<std::string> warnings;
  CatalogIndexOptions options;
  options.mode = SearchMode::Hnsw;
  options.index.threads = 1;
  options.on_warning = [&](const std::string& line) { warnings.push_back(line); };

  const CatalogIndex built = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  ASSERT_TRUE(built.index);
  EXPECT_EQ(built.index->kind(), "hnsw");
  EXPECT_FALSE(built.loaded);
  EXPECT_EQ(built.file, catalog_index_file(dir / "c.db", "m", "embedding", Metric::Cosine));
  ASSERT_TRUE(std::filesystem::exists(built.file));
  EXPECT_EQ(saved_catalog_indexes(dir / "c.db", "m"),
            (std::vector<IndexedVectors>{{"embedding", Metric::Cosine}}));

  // Auto finds the file and loads it; nothing to add.
  options.mode = SearchMode::Auto;
  const CatalogIndex loaded = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  EXPECT_TRUE(loaded.loaded);
  EXPECT_EQ(loaded.added, 0u);
  EXPECT_EQ(loaded.index->size(), 300u);
  EXPECT_TRUE(warnings.empty());

  // Tracks indexed since the file was saved (a killed run) are added to it, and the file saved again.
  fill_catalog(catalog, 5, 3);
  const CatalogIndex mended = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  EXPECT_TRUE(mended.loaded);
  EXPECT_EQ(mended.added, 5u);
  EXPECT_EQ(mended.index->size(), 305u);
  EXPECT_EQ(load_index(mended.file)->size(), 305u);
  EXPECT_TRUE(warnings.empty());

  // The file of another catalog with the same ids (ids restart at 1): its vectors differ, so it is rebuilt.
  {
    ScratchDir other_dir;
    Catalog other = Catalog::create(other_dir / "c.db", other_dir.path());
    fill_catalog(other, 305, 99);
    CatalogIndexOptions save_only = options;
    save_only.mode = SearchMode::Hnsw;
    const CatalogIndex foreign = open_catalog_index(other, "m", "embedding", Metric::Cosine, save_only);
    std::filesystem::copy_file(foreign.file, mended.file, std::filesystem::copy_options::overwrite_existing);
  }
  const CatalogIndex rebuilt = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  EXPECT_FALSE(rebuilt.loaded);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("differs from the catalog's"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("rebuilt from the catalog's 305 vectors"), std::string::npos) << warnings[0];
  // Now right: every track finds itself.
  const SearchResults self = load_index(rebuilt.file)->search(std::span(data.data(), 16), 1);
  EXPECT_EQ(self.ids[0], 1);

  // A damaged file: rebuilt with one warning naming it.
  std::string bytes = read_bytes(rebuilt.file);
  bytes[bytes.size() / 2] ^= 0x20;
  write_bytes(rebuilt.file, bytes);
  warnings.clear();
  const CatalogIndex repaired = open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(rebuilt.file.string()), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("checksum"), std::string::npos) << warnings[0];
  EXPECT_EQ(repaired.index->size(), 305u);

  // --search exact ignores the file.
  options.mode = SearchMode::Exact;
  EXPECT_EQ(open_catalog_index(catalog, "m", "embedding", Metric::Cosine, options).index->kind(), "exact");
}

}  // namespace
}  // namespace tunelens
