// The feature options shared by the commands that compute features (features, extract): one definition, one
// help text, the same defaults (librosa's).
#pragma once

#include <CLI/CLI.hpp>

#include "features/features.h"

namespace tunelens::cli {

// Adds --sr --n-fft --hop --pad-mode --n-mels --fmin --fmax --mel-scale --mel-norm --power --chunk-samples
// --db --top-db --offset --duration, writing into `settings`; every help text shows the default. `item` names
// what offset, duration and chunks apply to ("file", "track").
void add_feature_options(CLI::App* command, FeatureSettings& settings, const std::string& item);

// The help of --repair-samples (part of add_feature_options; classify has it too).
inline constexpr const char* kRepairSamplesHelp =
    "Read NaN, infinite or huge samples (a damaged float file) as silence, with a warning, instead of failing the "
    "file";

}  // namespace tunelens::cli
