#include "fuzz_support.h"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <typeinfo>

namespace tunelens::fuzz {
namespace {

namespace fs = std::filesystem;

void remove_scratch();

fs::path make_scratch() {
  std::error_code ec;
  const char* chosen = std::getenv("TUNELENS_FUZZ_SCRATCH");
  const fs::path base = chosen                                  ? fs::path(chosen)
                        : fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm")
                                                                : fs::temp_directory_path();
  std::string pattern = (base / "tunelens-fuzz-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("tunelens fuzz: cannot make a scratch folder");
    std::abort();
  }
  return pattern;
}

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(scratch(), ec);
}

}  // namespace

const fs::path& scratch() {
  static const fs::path folder = make_scratch();
  // Registered once the path exists, so that it runs before the path's destructor.
  [[maybe_unused]] static const int removal = std::atexit(remove_scratch);
  return folder;
}

fs::path write_file(std::string_view name, const std::uint8_t* data, std::size_t size) {
  const fs::path path = scratch() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) finding("the harness cannot write its input", path.string());
  return path;
}

fs::path write_file(std::string_view name, std::string_view text) {
  return write_file(name, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

void clear_scratch() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scratch(), ec)) fs::remove_all(entry.path(), ec);
}

void finding(const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "\n==tunelens fuzz== %s: %s\n", what.c_str(), detail.c_str());
  std::fflush(stderr);
  remove_scratch();
  std::abort();
}

void unexpected(const std::exception& error) {
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(typeid(error).name(), nullptr, nullptr, &status), &std::free);
  finding(std::string("an undocumented exception, ") + (status == 0 ? name.get() : typeid(error).name()),
          error.what());
}

}  // namespace tunelens::fuzz
