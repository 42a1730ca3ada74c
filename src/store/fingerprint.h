// Content fingerprints: a fast 64-bit hash of a file's bytes, so that the catalog can tell whether a file
// changed and which files hold the same audio. Not cryptographic: it finds accidents, not attacks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tunelens {

// 64-bit hash of a block of bytes. Stable across runs, machines and versions of tunelens (it is stored).
std::uint64_t content_hash(std::string_view bytes);

// The hash as 16 lowercase hex digits.
std::string hash_hex(std::uint64_t hash);

// Fingerprint of a file's whole content: 16 hex digits of content_hash over its bytes (read in large blocks,
// about 5 GB/s). Throws std::runtime_error naming the file when it cannot be read.
std::string file_fingerprint(const std::filesystem::path& path);

}  // namespace tunelens
