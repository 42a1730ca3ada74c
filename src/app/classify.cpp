#include "app/classify.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

#include "app/errors.h"
#include "app/track_vectors.h"
#include "audio/audio.h"
#include "data/extract.h"

namespace tunelens::app {
namespace {

namespace fs = std::filesystem;

// Files named are taken as they are; folders give their audio files (audio/audio.h), in path order.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs, bool recursive,
                                       std::vector<std::string>& problems) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code error;
    if (!fs::is_directory(input, error)) {
      files.push_back(input);
      continue;
    }
    for (const fs::path& file : find_audio_files(input, recursive, &problems)) files.push_back(file.string());
  }
  return files;
}

// The model's answer, gathered as its windows' predictions come (a batch at a time when a long file streams):
// the mean over the windows, the shown classes ranked, each window's best.
class Verdict {
 public:
  Verdict(const Model& model, const std::vector<std::size_t>& shown, FileClassification& result)
      : model_(model), shown_(shown), result_(result) {}

  void add(const WindowPredictions& batch) {
    mean_.add(batch);
    for (std::size_t w = 0; w < batch.windows; ++w) {
      const float* row = batch.probabilities.data() + w * batch.classes;
      const std::size_t best = *std::max_element(
          shown_.begin(), shown_.end(), [&](std::size_t a, std::size_t b) { return row[a] < row[b]; });
      result_.timeline.push_back({0.0, best, row[best]});  // its start once the windows are counted
    }
  }

  void finish() {
    if (mean_.windows() == 0) throw std::runtime_error("no audio to classify");
    result_.windows = mean_.windows();
    result_.probabilities = mean_.mean();
    result_.ranking = shown_;
    std::stable_sort(result_.ranking.begin(), result_.ranking.end(), [&](std::size_t a, std::size_t b) {
      return result_.probabilities[a] > result_.probabilities[b];
    });
    const std::vector<double> starts = window_start_seconds(model_.features(), result_.windows);
    for (std::size_t w = 0; w < result_.windows; ++w) result_.timeline[w].start = starts[w];
  }

 private:
  const Model& model_;
  const std::vector<std::size_t>& shown_;
  FileClassification& result_;
  MeanProbabilities mean_;
};

}  // namespace

std::size_t ClassifyResult::failed() const {
  return static_cast<std::size_t>(std::count_if(
      files.begin(), files.end(), [](const FileClassification& f) { return !f.error.empty(); }));
}

FileClassification classify_file(const Model& model, const MelSpectrogram& mel,
                                 const std::vector<std::size_t>& shown, const std::string& file,
                                 bool repair_samples) {
  FileClassification result;
  result.file = file;
  FeatureSettings settings = model.features().settings;
  settings.repair_samples = repair_samples;
  // (decoding says why a path is no file it can read: missing, a folder, a pipe, a name too long)
  DecodeResult decoded;
  std::string warning;
  Verdict verdict(model, shown, result);
  if (settings.pointwise()) {
    // Frames are final as they are computed: each batch of windows goes to the network as soon as its frames
    // exist, and a long file's spectrogram is never held whole.
    WindowStream windows(model, [&](const WindowPredictions& batch) { verdict.add(batch); });
    stream_track_features(
        file, settings, mel, [&](Spectrogram frames) { windows.push(std::move(frames)); }, &decoded,
        &warning);
    windows.finish();
  } else {
    // Decibels against the loudest bin, or floored below it: no frame is final before the last is computed.
    verdict.add(model.predict(compute_track_features(file, settings, mel, &decoded, &warning)));
  }
  if (!warning.empty()) result.warnings.push_back(warning);
  result.seconds = decoded.seconds();
  result.decoder = decoded.decoder;
  if (result.seconds < kShortestJudgedSeconds)
    result.warnings.push_back(fmt::format(
        "{}: only {:.3f} s of audio: the genres of so little sound are a guess", file, result.seconds));
  verdict.finish();
  return result;
}

FileClassification classify_track(const Model& model, const MelSpectrogram& mel,
                                  const std::vector<std::size_t>& shown, const Catalog& catalog,
                                  const Track& track) {
  FileClassification result;
  result.file = track.path;
  result.seconds = track.duration;
  Verdict verdict(model, shown, result);
  verdict.add(model.predict(catalog_track_features(catalog, track, model.features(), mel)));
  verdict.finish();
  return result;
}

ClassifyResult classify_files(const ClassifyRequest& request,
                              const std::function<void(const FileClassification&)>& on_file) {
  ClassifyResult result;
  const std::vector<std::string> files = expand_inputs(request.inputs, request.recursive, result.problems);
  if (files.empty()) throw BadRequest("inputs", "no audio files to classify");

  // Files in parallel; a single file gets every thread for its prediction instead.
  const ParallelModel loaded = load_parallel_model(request.model, request.threads, files.size());
  const Model& model = loaded.model;
  result.model = model.info();
  result.shown = shown_classes(model.info(), request.tags);
  const MelSpectrogram mel(model.features().settings.mel);

  result.files.resize(files.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  run_workers(loaded.workers, [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      FileClassification& done = result.files[i];
      try {
        done = classify_file(model, mel, result.shown, files[i], request.repair_samples);
      } catch (const std::exception& error) {  // AudioError, ModelError: the file's error; the others go on
        done.file = files[i];
        done.error = about_file(files[i], error.what());
      }
      if (on_file) {
        const std::lock_guard lock(mutex);
        on_file(done);
      }
    }
  });
  return result;
}

}  // namespace tunelens::app
