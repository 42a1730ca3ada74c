#include "data/import.h"

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <thread>

#include "audio/probe.h"
#include "store/fingerprint.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

// What probing one file gave: the filled-in row, or why it cannot go in.
struct Probed {
  bool skip = false;  // already in the catalog, or a duplicate (reported already)
  std::string error;
  std::string warning;  // imported, with a doubt
  TrackInfo info;
};

// "origin: reason", without repeating the file name when the error message starts with it.
std::string problem_line(const ImportCandidate& candidate, const std::string& what) {
  const std::string file = candidate.file.string();
  if (candidate.origin == file) return what.starts_with(file) ? what : file + ": " + what;
  return candidate.origin + ": " + what;
}

}  // namespace

void fill_from_tags(TrackInfo& info, const AudioTags& tags) {
  auto fill = [](auto& field, const auto& tag) {
    if (!field && tag) field = tag;
  };
  fill(info.title, tags.title);
  fill(info.artist, tags.artist);
  fill(info.album, tags.album);
  fill(info.year, tags.year);
  fill(info.track_number, tags.track_number);
}

ImportSummary import_candidates(Catalog& catalog, const std::vector<ImportCandidate>& candidates,
                                const ImportOptions& options) {
  const unsigned threads =
      std::max(1u, options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency()));
  const std::size_t batch = std::max<std::size_t>(options.batch, 1);
  auto problem = [&](const std::string& line) {
    if (options.on_problem) options.on_problem(line);
  };
  auto progress = [&](const std::string& item) {
    if (options.on_progress) options.on_progress(item);
  };

  ImportSummary summary;
  std::map<std::string, std::string>
      first_origin;  // relative path → where it was first listed in this import
  for (std::size_t start = 0; start < candidates.size(); start += batch) {
    const std::size_t end = std::min(candidates.size(), start + batch);
    std::vector<Probed> probed(end - start);
    // On this thread: paths, duplicates, and what the catalog already has.
    for (std::size_t i = start; i < end; ++i) {
      Probed& out = probed[i - start];
      out.info = candidates[i].info;
      out.info.path = catalog.relative_path(candidates[i].file);
      const auto [it, fresh] = first_origin.emplace(out.info.path, candidates[i].origin);
      if (!fresh) {
        out.error = "listed twice (also " + it->second + ")";
      } else if (catalog.has_track(out.info.path)) {
        out.skip = true;
        ++summary.already;
      }
    }
    // In parallel: decode a little of each new file, read its duration, hash its bytes.
    std::atomic<std::size_t> next{start};
    auto work = [&] {
      for (std::size_t i = next++; i < end; i = next++) {
        Probed& out = probed[i - start];
        if (out.skip || !out.error.empty()) continue;
        try {
          const AudioInfo audio = probe_audio(candidates[i].file);
          out.info.duration = audio.seconds;
          if (audio.claimed_seconds > 0.0)
            out.warning = fmt::format("its header claims {:.1f} s of audio, the file holds {:.1f} s (truncated?)",
                                      audio.claimed_seconds, audio.seconds);
          out.info.sample_rate = audio.sample_rate;
          out.info.channels = audio.channels;
          out.info.codec = audio.codec;
          fill_from_tags(out.info, audio.tags);
          out.info.size = static_cast<std::int64_t>(fs::file_size(candidates[i].file));
          out.info.fingerprint = file_fingerprint(candidates[i].file);
        } catch (const std::exception& error) {  // AudioError, filesystem errors: name the file, go on
          out.error = error.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::min<std::size_t>(threads, end - start); ++t) pool.emplace_back(work);
    work();
    for (auto& thread : pool) thread.join();

    // One transaction per batch, rows in scan order.
    Catalog::Transaction transaction(catalog);
    for (std::size_t i = start; i < end; ++i) {
      const Probed& out = probed[i - start];
      if (!out.error.empty()) {
        problem(problem_line(candidates[i], out.error));
        ++summary.failed;
      } else if (!out.skip) {
        if (!out.warning.empty() && options.on_warning) options.on_warning(problem_line(candidates[i], out.warning));
        if (catalog.add_track(out.info)) {
          ++summary.added;
          summary.seconds += out.info.duration;
        } else {
          ++summary.already;
        }
      }
      progress(candidates[i].origin);
    }
    transaction.commit();
  }
  return summary;
}

}  // namespace tunelens
