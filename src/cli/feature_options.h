// The feature options shared by the commands that compute features (features, extract): one definition, one
// help text, the same defaults (librosa's).
#pragma once

#include <CLI/CLI.hpp>

#include "features/features.h"

namespace tunelens::cli {

// Adds --sr --n-fft --hop --n-mels --fmin --fmax --power --db --top-db --offset --duration, writing into
// `settings`. `item` names what offset and duration apply to ("file", "track").
void add_feature_options(CLI::App* command, FeatureSettings& settings, const std::string& item);

}  // namespace tunelens::cli
