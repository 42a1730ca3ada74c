// Several indexes searched as one: a catalog split over several index files (each built, saved and loaded on
// its own: by the machine that made it, by a range of track ids, ...), whose k nearest are the k nearest of
// all the shards' answers.
//
//   std::vector<std::unique_ptr<tunelens::Index>> shards;
//   shards.push_back(tunelens::load_index("part-0.tli"));
//   shards.push_back(tunelens::load_index("part-1.tli"));
//   tunelens::ShardedIndex all(std::move(shards));
//   all.search(queries, 10);      // each shard's 10 nearest, merged: nearest first, equal distances by id
//
// The shards may be of different kinds (an exact index of the newest tracks beside an ivf-pq one of the
// rest); they must share the dimension and metric. An id should be in one shard only: add() replaces an id in
// the shard that holds it and puts new ids in the last shard. save() writes each shard beside the given path
// (<path>.0, <path>.1, ...) and, at the path, a small index file listing them; load_index() opens it.
#pragma once

#include <memory>
#include <vector>

#include "recommend/index.h"

namespace tunelens {

class ShardedIndex final : public Index {
 public:
  // Throws IndexError (Invalid) for no shards, a null one, or shards of different dimensions or metrics.
  explicit ShardedIndex(std::vector<std::unique_ptr<Index>> shards);

  std::string_view kind() const override { return "sharded"; }
  std::size_t dim() const override { return shards_.front()->dim(); }
  Metric metric() const override { return shards_.front()->metric(); }
  std::size_t size() const override;
  bool contains(std::int64_t id) const override;
  bool exact_distances() const override;

  void add(std::span<const std::int64_t> ids, std::span<const float> vectors) override;
  bool remove(std::int64_t id) override;
  void reserve(std::size_t capacity) override;
  SearchResults search(std::span<const float> queries, std::size_t k) const override;
  void save(const std::filesystem::path& path) const override;
  // Replaces the shards with those listed by a file save() wrote (each opened with load_index()).
  void load(const std::filesystem::path& path) override;
  std::size_t memory_bytes() const override;
  unsigned threads() const override { return shards_.front()->threads(); }
  void set_threads(unsigned threads) override;

  std::size_t shard_count() const { return shards_.size(); }
  Index& shard(std::size_t i) { return *shards_.at(i); }
  const Index& shard(std::size_t i) const { return *shards_.at(i); }

  // Opens a file save() wrote, with `options` for every shard.
  static std::unique_ptr<ShardedIndex> open(const std::filesystem::path& path,
                                            const IndexOptions& options = {});

 private:
  std::vector<std::unique_ptr<Index>> shards_;
};

}  // namespace tunelens
