// What the two importer harnesses share: a dataset folder with a few small audio files (made once per process), and
// importing what a scan found into a new catalog, as `tunelens dataset import` does.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/sources.h"

namespace tunelens::fuzz {

// scratch()/<folder>/<name>: a short WAV for each of `audio`, an empty file for each of `empty`, made on the first
// call. Returns scratch()/<folder>.
std::filesystem::path dataset_folder(const std::string& folder, const std::vector<std::string>& audio,
                                     const std::vector<std::string>& empty);

// Checks what a scan says of each candidate, then imports the candidates whose files are in the scratch folder
// (a listed path may name any file on the machine: only stat'ed, never read) into a new catalog. Expected: no
// exception, every problem reported through the import's summary.
void import_scan(const SourceScan& scan);

}  // namespace tunelens::fuzz
