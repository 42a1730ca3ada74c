#include "store/fingerprint.h"

#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace tunelens {
namespace {

// Odd 64-bit constants with well-mixed bits (from the binary expansions of the golden ratio, sqrt(2) and
// sqrt(3)).
constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ull;
constexpr std::uint64_t kRoot2 = 0x6a09e667f3bcc909ull;
constexpr std::uint64_t kRoot3 = 0xbb67ae8584caa73bull;

// Final avalanche: every input bit affects every output bit.
constexpr std::uint64_t avalanche(std::uint64_t x) {
  x ^= x >> 31;
  x *= kRoot3;
  x ^= x >> 29;
  x *= kGolden;
  x ^= x >> 32;
  return x;
}

// One 64-bit word into one lane.
constexpr std::uint64_t absorb(std::uint64_t lane, std::uint64_t word) {
  return std::rotl(lane ^ (word * kRoot2), 29) * kGolden;
}

std::uint64_t load_word(const unsigned char* bytes) {
  std::uint64_t word;
  std::memcpy(&word, bytes, 8);
  if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
  return word;
}

// Streaming state: four independent lanes over 32-byte blocks (so the multiplications overlap), then the
// tail.
class ContentHasher {
 public:
  void update(const unsigned char* data, std::size_t size) {
    total_ += size;
    if (pending_size_ > 0) {  // complete a block started by the previous call
      const std::size_t take = std::min(size, kBlock - pending_size_);
      std::memcpy(pending_.data() + pending_size_, data, take);
      pending_size_ += take;
      data += take;
      size -= take;
      if (pending_size_ < kBlock) return;
      block(pending_.data());
      pending_size_ = 0;
    }
    for (; size >= kBlock; data += kBlock, size -= kBlock) block(data);
    std::memcpy(pending_.data(), data, size);
    pending_size_ = size;
  }

  std::uint64_t finish() const {
    std::uint64_t h = std::rotl(lanes_[0], 1) + std::rotl(lanes_[1], 17) + std::rotl(lanes_[2], 33) +
                      std::rotl(lanes_[3], 49) + total_ * kRoot3;
    std::size_t at = 0;
    for (; at + 8 <= pending_size_; at += 8) h = absorb(h, load_word(pending_.data() + at));
    std::uint64_t last = 0;
    for (std::size_t i = 0; at + i < pending_size_; ++i)
      last |= static_cast<std::uint64_t>(pending_[at + i]) << (8 * i);
    h = absorb(h, last ^ (pending_size_ - at));
    return avalanche(h);
  }

 private:
  static constexpr std::size_t kBlock = 32;
  void block(const unsigned char* data) {
    for (int i = 0; i < 4; ++i) lanes_[i] = absorb(lanes_[i], load_word(data + static_cast<std::size_t>(8 * i)));
  }

  std::array<std::uint64_t, 4> lanes_{kGolden, kRoot2, kRoot3, kGolden ^ kRoot2};
  std::array<unsigned char, kBlock> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace

std::uint64_t content_hash(std::string_view bytes) {
  ContentHasher hasher;
  hasher.update(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return hasher.finish();
}

std::string hash_hex(std::uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) text[static_cast<std::size_t>(i)] = kDigits[hash & 0xf];
  return text;
}

std::string file_fingerprint(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw std::runtime_error(path.string() + ": cannot read the file: " + std::strerror(errno));
  ContentHasher hasher;
  std::vector<unsigned char> buffer(1 << 20);
  while (true) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    hasher.update(buffer.data(), n);
    if (n < buffer.size()) break;
  }
  if (std::ferror(file.get())) throw std::runtime_error(path.string() + ": read error while fingerprinting");
  return hash_hex(hasher.finish());
}

}  // namespace tunelens
