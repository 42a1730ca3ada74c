// Progress of a long batch on a terminal: count, rate and time left on one line that redraws itself. Quiet when
// stderr is not a terminal (a pipe, a log file) or when asked. Messages about single items go above the line.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "app/progress.h"

namespace tunelens::cli {

// "m:ss" or "h:mm:ss".
std::string clock_text(double seconds);

class Progress {
 public:
  Progress(std::string label, std::size_t total, bool quiet);
  ~Progress();

  // One item finished (thread-safe).
  void advance(const std::string& item);
  // A line about one item (an error or a warning), printed above the progress line; always shown.
  void message(const std::string& line);
  // Clears the progress line (also done by the destructor).
  void finish();
  double elapsed_seconds() const;

 private:
  void draw_locked(const std::string& item);

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  bool live_;  // drawing on a terminal
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mutex_;
};

// A use case's items (app/progress.h) as they are done: the progress line, started when the first tells how
// many there are, and each item's error or warning above it ("tunelens <command>: error: <what>").
class ItemProgress {
 public:
  ItemProgress(std::string command, std::string label, bool quiet)
      : command_(std::move(command)), label_(std::move(label)), quiet_(quiet) {}
  void operator()(const app::ItemDone& done);
  void finish();

 private:
  std::string command_, label_;
  bool quiet_;
  std::optional<Progress> progress_;
};

}  // namespace tunelens::cli
