#include "recommend/index_file.h"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>
#include <vector>

namespace tunelens::recommend_detail {

static_assert(std::endian::native == std::endian::little,
              "index files are written in the machine's byte order");

namespace {

constexpr std::size_t kCopyChunk = 1 << 20;

std::string unique_suffix() {
  std::random_device seed;
  return std::to_string(::getpid()) + "-" + std::to_string(seed());
}

std::string errno_text() {
  return std::error_code(errno, std::generic_category()).message();
}

}  // namespace

void PayloadChecksum::mix(std::uint64_t word) {
  state_ ^= word * 0x9e3779b97f4a7c15ull;
  state_ = std::rotl(state_, 29) * 0xbf58476d1ce4e5b9ull;
}

void PayloadChecksum::update(const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  length_ += bytes;
  while (bytes > 0 && pending_size_ > 0) {
    pending_[pending_size_++] = *p++;
    --bytes;
    if (pending_size_ == 8) {
      std::uint64_t word;
      std::memcpy(&word, pending_, 8);
      mix(word);
      pending_size_ = 0;
    }
  }
  for (; bytes >= 8; bytes -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    mix(word);
  }
  while (bytes-- > 0) pending_[pending_size_++] = *p++;
}

std::uint64_t PayloadChecksum::value() const {
  PayloadChecksum last = *this;
  std::uint64_t word = 0;
  std::memcpy(&word, pending_, pending_size_);
  last.mix(word ^ (static_cast<std::uint64_t>(pending_size_) << 56));
  last.mix(length_);
  std::uint64_t h = last.state_;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

std::uint32_t metric_code(Metric metric) {
  switch (metric) {
    case Metric::SqEuclidean:
      return 0;
    case Metric::Cosine:
      return 1;
    case Metric::JensenShannon:
      return 2;
  }
  return 0;
}

std::string kind_name(std::uint32_t kind) {
  if (kind == kExactKind) return "exact";
  if (kind == kHnswKind) return "hnsw";
  if (kind == kFaissKind) return "faiss";
  if (kind == kShardedKind) return "sharded";
  return "unknown kind " + std::to_string(kind);
}

IndexFileWriter::IndexFileWriter(const std::filesystem::path& path, const IndexFileHeader& header)
    : path_(path), header_(header) {
  std::memcpy(header_.magic, kIndexMagic, sizeof kIndexMagic);
  header_.version = kIndexFormatVersion;
  partial_ = path;
  partial_ += ".partial-" + unique_suffix();
  out_.open(partial_, std::ios::binary | std::ios::trunc);
  if (!out_) fail("cannot create " + partial_.filename().string() + ": " + errno_text());
  out_.write(reinterpret_cast<const char*>(&header_), sizeof header_);
}

IndexFileWriter::~IndexFileWriter() {
  if (!committed_) {
    out_.close();
    std::error_code ignored;
    std::filesystem::remove(partial_, ignored);
  }
}

void IndexFileWriter::fail(const std::string& reason) {
  out_.close();
  std::error_code ignored;
  std::filesystem::remove(partial_, ignored);
  committed_ = true;  // nothing left to clean up
  throw IndexError(IndexErrorKind::Io, path_, reason);
}

void IndexFileWriter::write_payload(const void* data, std::size_t bytes) {
  checksum_.update(data, bytes);
  header_.payload_bytes += bytes;
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out_) fail("write failed (disk full?)");
}

void IndexFileWriter::append_file(const std::filesystem::path& source) {
  std::ifstream in(source, std::ios::binary);
  if (!in) fail("cannot read back " + source.string());
  std::vector<char> buffer(kCopyChunk);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got > 0) write_payload(buffer.data(), got);
  }
  if (in.bad()) fail("cannot read back " + source.string());
}

void IndexFileWriter::commit() {
  header_.payload_checksum = checksum_.value();
  out_.seekp(0);
  out_.write(reinterpret_cast<const char*>(&header_), sizeof header_);
  out_.close();
  if (!out_) fail("write failed (disk full?)");
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec) fail("cannot rename into place: " + ec.message());
  committed_ = true;
}

IndexFileReader::IndexFileReader(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(IndexErrorKind::NotFound, "no such index file");
  if (std::filesystem::is_directory(path, ec))
    fail(IndexErrorKind::NotFound, "is a folder, not an index file");
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  in_.open(path, std::ios::binary);
  if (!in_ || ec) fail(IndexErrorKind::NotFound, "cannot open: " + errno_text());
  in_.read(reinterpret_cast<char*>(&header_), sizeof header_);
  if (static_cast<std::size_t>(in_.gcount()) < sizeof(kIndexMagic) ||
      std::memcmp(header_.magic, kIndexMagic, sizeof kIndexMagic) != 0)
    fail(IndexErrorKind::NotAnIndex, "not a tunelens index file (no TLVINDEX magic)");
  if (!in_) fail(IndexErrorKind::Corrupt, "truncated header");
  if (header_.version > kIndexFormatVersion)
    fail(IndexErrorKind::NotAnIndex, "index format version " + std::to_string(header_.version) +
                                         " is newer than this tunelens reads (" +
                                         std::to_string(kIndexFormatVersion) + ")");
  if (header_.version == 0) fail(IndexErrorKind::Corrupt, "index format version 0");
  if (header_.kind < kExactKind || header_.kind > kShardedKind)
    fail(IndexErrorKind::Corrupt, "unknown index kind " + std::to_string(header_.kind));
  if (header_.metric > 2)
    fail(IndexErrorKind::Corrupt, "unknown metric code " + std::to_string(header_.metric));
  if (header_.dim == 0) fail(IndexErrorKind::Corrupt, "dimension 0");
  const std::uintmax_t have = file_size - sizeof header_;
  if (have != header_.payload_bytes)
    fail(IndexErrorKind::Corrupt, (have < header_.payload_bytes ? "truncated: " : "trailing bytes: ") +
                                      std::to_string(have) + " payload bytes where the header says " +
                                      std::to_string(header_.payload_bytes));
}

Metric IndexFileReader::metric() const {
  switch (header_.metric) {
    case 1:
      return Metric::Cosine;
    case 2:
      return Metric::JensenShannon;
    default:
      return Metric::SqEuclidean;
  }
}

void IndexFileReader::expect(std::uint32_t kind, std::size_t dim, Metric metric) const {
  if (header_.kind != kind)
    fail(IndexErrorKind::Mismatch,
         "is an " + kind_name(header_.kind) + " index, not an " + kind_name(kind) + " one");
  if (header_.dim != dim)
    fail(IndexErrorKind::Mismatch, "holds vectors of dimension " + std::to_string(header_.dim) +
                                       ", this index is for dimension " + std::to_string(dim));
  if (metric_code(metric) != header_.metric)
    fail(IndexErrorKind::Mismatch, "uses the " + std::string(metric_name(this->metric())) +
                                       " metric, this index " + std::string(metric_name(metric)));
}

void IndexFileReader::read_payload(void* data, std::size_t bytes) {
  if (read_ + bytes > header_.payload_bytes) fail(IndexErrorKind::Corrupt, "contents run past the payload");
  in_.read(static_cast<char*>(data), static_cast<std::streamsize>(bytes));
  if (static_cast<std::size_t>(in_.gcount()) != bytes) fail(IndexErrorKind::Corrupt, "truncated payload");
  checksum_.update(data, bytes);
  read_ += bytes;
}

void IndexFileReader::copy_payload_to(const std::filesystem::path& destination) {
  std::ofstream out(destination, std::ios::binary | std::ios::trunc);
  if (!out) fail(IndexErrorKind::Io, "cannot create a temporary file " + destination.string());
  std::vector<char> buffer(kCopyChunk);
  while (read_ < header_.payload_bytes) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), header_.payload_bytes - read_));
    read_payload(buffer.data(), n);
    out.write(buffer.data(), static_cast<std::streamsize>(n));
    if (!out)
      fail(IndexErrorKind::Io, "cannot write a temporary file " + destination.string() + " (disk full?)");
  }
  out.close();
  if (!out)
    fail(IndexErrorKind::Io, "cannot write a temporary file " + destination.string() + " (disk full?)");
}

void IndexFileReader::verify_checksum() {
  if (read_ != header_.payload_bytes)
    fail(IndexErrorKind::Corrupt, "payload is " + std::to_string(header_.payload_bytes) +
                                      " bytes, its contents " + std::to_string(read_));
  if (checksum_.value() != header_.payload_checksum)
    fail(IndexErrorKind::Corrupt, "checksum mismatch: the file is damaged");
}

void IndexFileReader::fail(IndexErrorKind kind, const std::string& reason) const {
  throw IndexError(kind, path_, reason);
}

std::string read_kind_name(IndexFileReader& file) {
  std::uint32_t length = 0;
  file.read_payload(&length, sizeof length);
  if (length == 0 || length > kMaxKindName) file.fail(IndexErrorKind::Corrupt, "bad index kind name");
  std::string name(length, '\0');
  file.read_payload(name.data(), name.size());
  return name;
}

TemporaryFile::TemporaryFile(const std::filesystem::path& folder, const std::string& stem)
    : path_(folder / (stem + "-" + unique_suffix())) {}

TemporaryFile::~TemporaryFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace tunelens::recommend_detail
