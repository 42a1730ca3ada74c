// What the fuzz harnesses share: a private scratch folder for the files they hand to tunelens, and the rule that
// an input may only end in the error type the function documents (with the file named in its message). Anything
// else (another exception, a signal, a sanitizer report) is a finding: the harness aborts so that libFuzzer, or the
// replay driver, records the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

namespace tunelens::fuzz {

// This process's scratch folder, made on first use under $TUNELENS_FUZZ_SCRATCH, else /dev/shm (memory) when there
// is one, and removed at exit. Every harness writes its input there, so nothing touches the disk or another
// process's files. (A sanitizer's report ends the process without exit handlers: fuzz/run.sh removes what is
// left.)
const std::filesystem::path& scratch();

// Writes `size` bytes to scratch()/name (replacing what was there) and returns the path.
std::filesystem::path write_file(std::string_view name, const std::uint8_t* data, std::size_t size);
std::filesystem::path write_file(std::string_view name, std::string_view text);

// Removes everything in the scratch folder (between runs whose files must not meet).
void clear_scratch();

// Prints what was found and aborts (libFuzzer then saves the input).
[[noreturn]] void finding(const std::string& what, const std::string& detail);
[[noreturn]] void unexpected(const std::exception& error);

namespace detail {

template <typename Body>
void run(Body& body, const std::string&) {
  body();
}

template <typename First, typename... Rest, typename Body>
void run(Body& body, const std::string& name) {
  try {
    run<Rest...>(body, name);
  } catch (const First& error) {
    // Every error of tunelens names the file it is about; an empty name skips the check.
    if (!name.empty() && std::string_view(error.what()).find(name) == std::string_view::npos)
      finding("an error that does not name its file", error.what());
  }
}

}  // namespace detail

// Runs `body`, accepting only the exception types Expected... (each naming `file` in what(), unless `file` is
// empty); any other exception is a finding.
template <typename... Expected, typename Body>
void expect_only(const std::filesystem::path& file, Body&& body) {
  try {
    detail::run<Expected...>(body, file.string());
  } catch (const std::exception& error) {
    unexpected(error);
  } catch (...) {
    finding("an exception that is not a std::exception", "");
  }
}

}  // namespace tunelens::fuzz
