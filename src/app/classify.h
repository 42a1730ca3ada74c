// Use case: the genres (or tags) of audio files as a model hears them: the mean over a file's windows of the
// softmax (or of each tag's sigmoid), and the best class of each window. Front ends (tunelens classify, the
// service) parse their input, call classify_files, and present the result.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "store/catalog.h"

namespace tunelens::app {

// Under this much audio a genre is a guess: said with the answer.
inline constexpr double kShortestJudgedSeconds = 1.0;

struct WindowLabel {
  double start = 0.0;  // seconds into the file
  std::size_t label = 0;
  float probability = 0.0f;
};

// One file's answer, or why there is none.
struct FileClassification {
  std::string file;
  std::string error;  // empty when classified; else "<file>: <reason>"
  double seconds = 0.0;
  std::string decoder;  // the library that read it: ffmpeg, libmpg123 or libsndfile
  std::size_t windows = 0;
  std::vector<float> probabilities;   // mean over the windows, per class
  std::vector<std::size_t> ranking;   // the shown classes, most probable first (ties: the first class)
  std::vector<WindowLabel> timeline;  // the best shown class of each window
  std::vector<std::string> warnings;  // damage found while decoding, audio too short to judge
};

struct ClassifyRequest {
  std::string model;                // model file, or a shipped network's name
  std::vector<std::string> inputs;  // audio files, or folders of them
  bool recursive = false;           // folders: their subfolders too
  std::string tags = "all";     // tag models: only tags of this kind (genre, instrument, mood, voice, era)
  bool repair_samples = false;  // NaN, infinite or huge samples read as silence, with a warning
  int threads = 0;              // 0: all cores
};

struct ClassifyResult {
  ModelInfo model;
  std::vector<std::size_t> shown;         // the classes asked for (all, or one kind of tag)
  std::vector<FileClassification> files;  // in the order of the inputs (folders: in path order)
  std::vector<std::string> problems;      // folders that could not be read, named
  std::size_t failed() const;
};

// One file with a loaded model; `mel` is made from model.features().settings.mel. Throws AudioError and
// ModelError (the caller records them as the file's error).
FileClassification classify_file(const Model& model, const MelSpectrogram& mel,
                                 const std::vector<std::size_t>& shown, const std::string& file,
                                 bool repair_samples);

// A catalog track, from its feature file when the catalog has one for the model (else from its audio). Its
// seconds are as the catalog records them; no decoder is named. Throws as classify_file.
FileClassification classify_track(const Model& model, const MelSpectrogram& mel,
                                  const std::vector<std::size_t>& shown, const Catalog& catalog,
                                  const Track& track);

// Every file of the request, in parallel (a single file gets every thread for its prediction). `on_file` is
// called as each file is done (from worker threads, one at a time), so a front end can report as it goes.
// Throws BadRequest (no files, a tag kind the model lacks) and ModelError (the model itself); a bad audio
// file is a FileClassification with its error, and the others go on.
ClassifyResult classify_files(const ClassifyRequest& request,
                              const std::function<void(const FileClassification&)>& on_file = {});

}  // namespace tunelens::app
