// Features for a catalog: the mel spectrogram of every track that lacks it for a feature configuration,
// written beside the catalog as one .npy per track (store/feature_array.h) and recorded in the catalog.
//
// Layout: <catalog>.features/<config id>/<track id>.npy, shape [n_mels, frames], float16 or float32.
// One file per track (rather than one big array per configuration plus an offsets table) because:
//   - a track is done when its file is renamed into place and its row committed; a run killed at any point
//   leaves
//     whole files and whole rows, and a rerun only redoes the track in flight: no big file to truncate or
//     repair;
//   - threads write independent files with no shared offset to agree on, and re-extracting or dropping one
//   track
//     touches one file;
//   - numpy users np.load(path, mmap_mode='r') a track directly; the trainer maps a track's file
//   (FeatureArray)
//     and copies a window at any frame offset, touching only the pages of that window.
// The cost is one open + mmap per track read, small beside reading a 128 x 1024 window.
//
// A configuration is identified by its parameters: the id is the hash of their canonical JSON (sorted keys,
// fmax resolved to a number), so the same settings always land in the same folder and different ones never
// mix.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "features/features.h"
#include "store/catalog.h"
#include "store/feature_array.h"

namespace tunelens {

// The feature settings as JSON: the one definition that every record of a feature configuration uses (the
// catalog's canonical JSON, a model file's "features", the features command's features.json). Keys:
// sample_rate, n_fft, hop_length, center, power, n_mels, fmin, fmax (resolved to a number), db, top_db (0
// when off), offset, duration (-1: all); then mel_scale, mel_norm, pad_mode and chunk_samples only when they
// differ from their defaults, so that the JSON of every configuration made before they existed, and with it
// its id, stays the same.
nlohmann::json feature_settings_json(const FeatureSettings& settings);

// Reads those keys back (other keys are ignored). A key that is absent or null takes its default, except
// sample_rate, n_fft, hop_length and n_mels, which must be there. Throws FeatureError naming the key that is
// missing or holds a bad value.
FeatureSettings feature_settings_from_json(const nlohmann::json& json);

// The feature settings (fmax <= 0 means sample_rate / 2) and how the values are stored.
struct ExtractionSettings : FeatureSettings {
  FeatureDtype dtype = FeatureDtype::Float16;

  // The canonical parameter JSON (the configuration's identity). Throws std::invalid_argument for a bad db
  // value.
  std::string canonical_json() const;
};

// A configuration's canonical JSON read back (canonical_json's inverse; dtype float16 when absent). Throws
// FeatureError naming what is wrong.
ExtractionSettings extraction_settings_from_json(const std::string& canonical_json);

struct ExtractOptions {
  unsigned threads = 0;  // tracks at once; 0: all cores
  // Called under a lock (one at a time): a line about one track (an error or a warning), and each track
  // finished.
  std::function<void(const std::string&)> on_problem;
  std::function<void(const std::string&)> on_progress;
  // Called (under the same lock) after a track's feature file is in place and before its row is recorded,
  // with the number of files written so far. Tests use it to stop the program at the worst moment.
  std::function<void(std::size_t)> after_file_written;
};

struct ExtractSummary {
  std::string config;       // configuration id
  std::size_t tracks = 0;   // in the catalog
  std::size_t already = 0;  // had features before this run
  std::size_t computed = 0;
  std::size_t failed = 0;
  double audio_seconds = 0.0;  // of the tracks computed
};

// What a run will do: registers the configuration, lists the tracks without finished features (in id order;
// ones that failed before are retried), and removes half-written files a killed run left. Throws
// CatalogError, std::invalid_argument (bad settings) and FeatureError (bad mel options).
struct ExtractionPlan {
  std::string config;
  std::vector<Track> pending;  // without features, or whose feature file is missing or damaged
  std::size_t tracks = 0;      // in the catalog
  std::size_t lost = 0;        // of the pending: recorded as done, but the file is missing or damaged
};
ExtractionPlan plan_extraction(Catalog& catalog, const ExtractionSettings& settings);

// The tracks a configuration records as done whose feature file is missing, or no longer the array recorded.
std::vector<std::int64_t> lost_feature_tracks(const Catalog& catalog, const std::string& config);

// Computes and records the features of every pending track. A track whose audio fails is recorded as failed
// (with the reason, also sent to on_problem) and the run goes on. Throws CatalogError (the catalog itself
// failing).
ExtractSummary run_extraction(Catalog& catalog, const ExtractionSettings& settings,
                              const ExtractionPlan& plan, const ExtractOptions& options = {});

// One track of a run: computes its features and writes its feature file (catalog.feature_file) and returns
// the record to store: done, or failed with the reason (audio that cannot be decoded, a file that cannot be
// written; a stale feature file of the track is then removed). `warning`: damage found while decoding. The
// caller records it (Catalog::record_features).
FeatureRecord extract_track_features(const Catalog& catalog, const Track& track,
                                     const ExtractionSettings& settings, const std::string& config,
                                     const MelSpectrogram& mel, std::string* warning = nullptr);

// Computes one file's features (decode, resample, mel in chunks if the settings say so, dB: signal_features)
// as [n_mels, frames]; `mel` is made from settings.mel. A damaged stream gives the features of what decoded
// and a warning. `decoded` gets what decoding said (seconds, decoder, codec, native format). Throws AudioError.
Spectrogram compute_track_features(const std::filesystem::path& audio_file, const FeatureSettings& settings,
                                   const MelSpectrogram& mel,
                                   DecodeResult* decoded = nullptr, std::string* warning = nullptr);

// The same frames for settings whose frames are final as soon as computed (FeatureSettings::pointwise()),
// handed to `on_frames` in order as each decoded block completes some, and never held together: memory does
// not grow with the file's length. Throws AudioError, and std::logic_error for settings that are not
// pointwise.
void stream_track_features(const std::filesystem::path& audio_file, const FeatureSettings& settings,
                           const MelSpectrogram& mel, const std::function<void(Spectrogram)>& on_frames,
                           DecodeResult* decoded = nullptr, std::string* warning = nullptr);

}  // namespace tunelens
