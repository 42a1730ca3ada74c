// The index file format (internal to src/recommend).
//
// One file per index: a fixed header of 88 bytes, then the payload.
//
//   offset  size  field
//        0     8  magic "TLVINDEX"
//        8     4  format version (1)
//       12     4  kind: 1 exact, 2 hnsw, 3 faiss, 4 sharded
//       16     4  metric: 0 sqeuclidean, 1 cosine, 2 js
//       20     4  dimension
//       24     8  vectors held
//       32     8  payload bytes (the rest of the file)
//       40     8  checksum of the payload (payload_checksum)
//       48     8  HNSW M               (0 for exact)
//       56     8  HNSW ef_construction (0 for exact)
//       64     8  HNSW ef_search       (0 for exact)
//       72    16  reserved, zero
//
// All integers little-endian. Payload of an exact index: the ids (int64 × n), then the vectors (float32 × n ×
// dim, row-major, as prepared for the metric). Payload of an HNSW index: hnswlib's own saveIndex() stream,
// unchanged. FAISS indexes: faiss_index.cpp; sharded ones: sharded_index.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "recommend/index.h"

namespace tunelens::recommend_detail {

inline constexpr char kIndexMagic[8] = {'T', 'L', 'V', 'I', 'N', 'D', 'E', 'X'};
inline constexpr std::uint32_t kIndexFormatVersion = 1;
inline constexpr std::uint32_t kExactKind = 1;
inline constexpr std::uint32_t kHnswKind = 2;
inline constexpr std::uint32_t kFaissKind = 3;
inline constexpr std::uint32_t kShardedKind = 4;

struct IndexFileHeader {
  char magic[8] = {};
  std::uint32_t version = kIndexFormatVersion;
  std::uint32_t kind = 0;
  std::uint32_t metric = 0;
  std::uint32_t dim = 0;
  std::uint64_t count = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t payload_checksum = 0;
  std::uint64_t hnsw_m = 0;
  std::uint64_t hnsw_ef_construction = 0;
  std::uint64_t hnsw_ef_search = 0;
  std::uint64_t reserved[2] = {};
};
static_assert(sizeof(IndexFileHeader) == 88);

// A 64-bit checksum over a byte stream fed in pieces of any size (not cryptographic: it catches truncation,
// bit rot and overwrites).
class PayloadChecksum {
 public:
  void update(const void* data, std::size_t bytes);
  std::uint64_t value() const;

 private:
  void mix(std::uint64_t word);
  std::uint64_t state_ = 0x243f6a8885a308d3ull;
  std::uint64_t length_ = 0;
  unsigned char pending_[8] = {};
  std::size_t pending_size_ = 0;
};

std::uint32_t metric_code(Metric metric);
std::string kind_name(std::uint32_t kind);

// Writes `path` under a temporary name beside it and renames it into place. The header is written first with
// payload_bytes and payload_checksum left to fill: write_payload() then appends the payload.
class IndexFileWriter {
 public:
  IndexFileWriter(const std::filesystem::path& path, const IndexFileHeader& header);
  ~IndexFileWriter();  // removes the temporary file unless commit() succeeded
  void write_payload(const void* data, std::size_t bytes);
  // Appends the contents of another file (hnswlib's stream) to the payload.
  void append_file(const std::filesystem::path& source);
  void commit();  // rewrites the header with the payload's size and checksum, then renames into place

 private:
  [[noreturn]] void fail(const std::string& reason);
  std::filesystem::path path_, partial_;
  IndexFileHeader header_;
  std::ofstream out_;
  PayloadChecksum checksum_;
  bool committed_ = false;
};

// Opens an index file and checks its header: magic, version, that the payload is all there. Throws IndexError
// (NotFound, NotAnIndex, Corrupt) naming the file. The stream is left at the start of the payload.
class IndexFileReader {
 public:
  explicit IndexFileReader(const std::filesystem::path& path);
  const IndexFileHeader& header() const { return header_; }
  Metric metric() const;
  // Throws IndexError (Mismatch) unless the file is of this kind, dimension and metric.
  void expect(std::uint32_t kind, std::size_t dim, Metric metric) const;
  // Reads payload bytes; the checksum is kept up to date.
  void read_payload(void* data, std::size_t bytes);
  // Copies the whole remaining payload to a file.
  void copy_payload_to(const std::filesystem::path& destination);
  // Throws IndexError (Corrupt) unless all the payload has been read and its checksum matches.
  void verify_checksum();
  [[noreturn]] void fail(IndexErrorKind kind, const std::string& reason) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  IndexFileHeader header_;
  PayloadChecksum checksum_;
  std::uint64_t read_ = 0;
};

// The start of a FAISS or other named-kind payload: a u32 length, then the kind's name (at most
// kMaxKindName bytes). Throws IndexError (Corrupt) naming the file when it is not one.
inline constexpr std::uint32_t kMaxKindName = 64;
std::string read_kind_name(IndexFileReader& file);

// A file in `folder` named after `stem` with a unique suffix, removed when the object goes away.
class TemporaryFile {
 public:
  TemporaryFile(const std::filesystem::path& folder, const std::string& stem);
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace tunelens::recommend_detail
