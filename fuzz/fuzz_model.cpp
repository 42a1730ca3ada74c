// The model file reader (.tlm): the container (sections, checksums, end marker), the metadata (model_info,
// describe) and loading (Model::load: the network the metadata names, built with libtorch, and the weights; not in
// the fuzz build, which has no libtorch: see fuzz/CMakeLists.txt). Each
// input is read as it is, and then, when its checksums are wrong or its end is missing, once more with every
// section's checksum recomputed and an end marker added: the raw pass tests the container checks, the second lets
// mutations of the metadata and weights reach the code behind the checksums. Expected: ModelError naming the file.
#include <string_view>

#include "fuzz_support.h"
#include "model/model.h"
#include "model/model_file.h"

namespace tf = tunelens::fuzz;
namespace model = tunelens::model;

namespace {

constexpr std::size_t kPrefix = 12;  // "TLNSMODL" and the format version

std::uint64_t read_le(std::string_view bytes, std::size_t at, int width) {
  std::uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

void append_le(std::string& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>(value >> (8 * i) & 0xff));
}

// The input's sections as far as they can be followed (a section cut short keeps what is there), each with the
// right checksum, ending with an end marker.
std::string with_checksums(std::string_view in) {
  std::string out(in.substr(0, kPrefix));
  std::size_t at = kPrefix;
  bool ended = false;
  while (!ended && at + 4 <= in.size()) {
    const std::uint64_t name_size = read_le(in, at, 4);
    if (name_size > 64 || at + 4 + name_size + 8 > in.size()) break;
    const std::string_view name = in.substr(at + 4, name_size);
    at += 4 + name_size;
    const std::uint64_t declared = read_le(in, at, 8);
    at += 8;
    const std::string_view bytes = in.substr(at, std::min<std::uint64_t>(declared, in.size() - at));
    at += bytes.size() + 8;  // past the checksum the input gives (if any)
    append_le(out, name.size(), 4);
    out += name;
    append_le(out, bytes.size(), 8);
    out += bytes;
    append_le(out, model::fnv1a64(bytes.data(), bytes.size()), 8);
    ended = name == "end";
  }
  if (!ended) {
    append_le(out, 3, 4);
    out += "end";
    append_le(out, 0, 8);
    append_le(out, model::fnv1a64(nullptr, 0), 8);
  }
  return out;
}

void read_every_way(const std::filesystem::path& path) {
  tf::expect_only<tunelens::ModelError>(path, [&] { model::read_model_file(path, true); });
  tf::expect_only<tunelens::ModelError>(path, [&] {
    const tunelens::ModelInfo info = tunelens::read_model_info(path);
    tunelens::describe(info);
  });
#ifndef TUNELENS_FUZZ_NO_TORCH
  tunelens::ModelLoadOptions options;
  options.threads = 1;
  tf::expect_only<tunelens::ModelError>(path, [&] { tunelens::Model::load(path, options); });
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  read_every_way(tf::write_file("input.tlm", input));
  if (input.size() < kPrefix || input.substr(0, 8) != "TLNSMODL") return 0;
  const std::string repaired = with_checksums(input);
  if (repaired != input) read_every_way(tf::write_file("input.tlm", repaired));
  return 0;
}
