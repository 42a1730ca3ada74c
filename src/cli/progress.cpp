#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace tunelens::cli {

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(std::string label, std::size_t total, bool quiet)
    : label_(std::move(label)), total_(total), live_(!quiet && isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(const std::string& item) {
  std::lock_guard lock(mutex_);
  ++done_;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most 10 times a second, and always for the last item.
  if (live_ && (now - last_draw_ > std::chrono::milliseconds(100) || done_ == total_)) {
    last_draw_ = now;
    draw_locked(item);
  }
}

void Progress::draw_locked(const std::string& item) {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double left = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
  std::string name = item.size() > 40 ? "…" + item.substr(item.size() - 39) : item;
  std::fprintf(stderr, "\r\033[K%s %zu/%zu (%.0f%%) %.1f/s, %s left  %s", label_.c_str(), done_, total_,
               total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0, rate,
               clock_text(left).c_str(), name.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::message(const std::string& line) {
  std::lock_guard lock(mutex_);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", line.c_str());
  drawn_ = false;
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

void ItemProgress::operator()(const app::ItemDone& done) {
  if (!progress_) progress_.emplace(label_, done.total, quiet_);
  if (!done.error.empty()) progress_->message("tunelens " + command_ + ": error: " + done.error);
  if (!done.warning.empty()) progress_->message("tunelens " + command_ + ": warning: " + done.warning);
  progress_->advance(done.item);
}

void ItemProgress::finish() {
  if (progress_) progress_->finish();
}

}  // namespace tunelens::cli
