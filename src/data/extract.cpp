#include "data/extract.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "audio/audio.h"
#include "store/feature_array.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;

// A key's value, or `fallback` when the key is absent or null. Throws FeatureError naming the key when its
// value has another type.
template <typename T>
T value_or(const nlohmann::json& json, const char* key, T fallback) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw FeatureError(std::string("feature settings: '") + key + "' has a bad value: " + it->dump());
  }
}

template <typename T>
T required(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || json.at(key).is_null())
    throw FeatureError(std::string("feature settings: '") + key + "' is missing");
  return value_or<T>(json, key, T{});
}

}  // namespace

nlohmann::json feature_settings_json(const FeatureSettings& settings) {
  const MelOptions& mel = settings.mel;
  // Every number has one type here, so equal settings always print the same text (the catalog hashes it).
  nlohmann::json json = {
      {"sample_rate", mel.sample_rate},
      {"n_fft", mel.n_fft},
      {"hop_length", mel.hop_length},
      {"center", mel.center},
      {"power", static_cast<double>(mel.power)},
      {"n_mels", mel.n_mels},
      {"fmin", static_cast<double>(mel.fmin)},
      {"fmax", mel.fmax > 0 ? mel.fmax : mel.sample_rate / 2.0},
      {"db", settings.db},
      {"top_db", settings.db == "none" ? 0.0 : std::max(0.0, settings.top_db)},
      {"offset", settings.offset},
      {"duration", settings.duration < 0 ? -1.0 : settings.duration},
  };
  const MelOptions defaults;
  if (mel.mel_scale != defaults.mel_scale) json["mel_scale"] = to_string(mel.mel_scale);
  if (mel.mel_norm != defaults.mel_norm) json["mel_norm"] = to_string(mel.mel_norm);
  if (mel.pad_mode != defaults.pad_mode) json["pad_mode"] = to_string(mel.pad_mode);
  if (settings.chunk_samples > 0) json["chunk_samples"] = settings.chunk_samples;
  return json;
}

FeatureSettings feature_settings_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw FeatureError("feature settings are not a JSON object: " + json.dump());
  FeatureSettings settings;
  MelOptions& mel = settings.mel;
  mel.sample_rate = required<int>(json, "sample_rate");
  mel.n_fft = required<int>(json, "n_fft");
  mel.hop_length = required<int>(json, "hop_length");
  mel.n_mels = required<int>(json, "n_mels");
  mel.center = value_or(json, "center", mel.center);
  mel.power = value_or(json, "power", mel.power);
  mel.fmin = value_or(json, "fmin", mel.fmin);
  mel.fmax = value_or(json, "fmax", mel.fmax);
  mel.mel_scale = parse_mel_scale(value_or(json, "mel_scale", to_string(mel.mel_scale)));
  mel.mel_norm = parse_mel_norm(value_or(json, "mel_norm", to_string(mel.mel_norm)));
  mel.pad_mode = parse_pad_mode(value_or(json, "pad_mode", to_string(mel.pad_mode)));
  settings.db = value_or(json, "db", settings.db);
  settings.top_db = value_or(json, "top_db", settings.top_db);
  settings.offset = value_or(json, "offset", settings.offset);
  settings.duration = value_or(json, "duration", settings.duration);
  const auto chunk_samples = value_or<std::int64_t>(json, "chunk_samples", 0);
  if (chunk_samples < 0)
    throw FeatureError("feature settings: 'chunk_samples' must be 0 or more, got " +
                       std::to_string(chunk_samples));
  settings.chunk_samples = static_cast<std::size_t>(chunk_samples);
  settings.db_options();  // checks the db word
  return settings;
}

std::string ExtractionSettings::canonical_json() const {
  db_options();  // validates
  // nlohmann::json objects keep their keys sorted, so the text does not depend on the order of insertion.
  nlohmann::json json = feature_settings_json(*this);
  json["kind"] = "mel";
  json["version"] = 1;
  json["window"] = "hann";
  json["amin"] = 1e-10;
  json["dtype"] = to_string(dtype);
  return json.dump();
}

ExtractionSettings extraction_settings_from_json(const std::string& canonical_json) {
  const nlohmann::json json = nlohmann::json::parse(canonical_json, nullptr, false);
  if (!json.is_object()) throw FeatureError("feature configuration is not a JSON object: " + canonical_json);
  ExtractionSettings settings;
  static_cast<FeatureSettings&>(settings) = feature_settings_from_json(json);
  const auto dtype = json.find("dtype");
  try {
    if (dtype != json.end()) settings.dtype = parse_feature_dtype(dtype->get<std::string>());
  } catch (const std::exception&) {
    throw FeatureError("feature configuration: dtype " + dtype->dump() + " is not float16 or float32");
  }
  return settings;
}

namespace {

// Decodes a file's blocks straight into `stream`: the signal is never held whole (a 6-hour file is 476
// million samples). With `on_frames`, the frames each block completes go to it; without, they stay in the
// stream for its finish(), whose spectrogram is reserved once from the length the file declares.
void decode_into(const std::filesystem::path& audio_file, const FeatureSettings& settings,
                 FeatureStream& stream, const std::function<void(Spectrogram)>& on_frames,
                 DecodeResult* decoded, std::string* warning) {
  class ToFeatures : public AudioSink {
   public:
    ToFeatures(FeatureStream& stream, const std::function<void(Spectrogram)>& on_frames)
        : stream_(stream), on_frames_(on_frames) {}
    void start(const DecodeResult&, std::size_t expected_frames) override {
      if (!on_frames_) stream_.expect(expected_frames);
    }
    void write(std::span<const float> samples) override {
      stream_.push(samples);
      if (!on_frames_) return;
      Spectrogram frames = stream_.take();
      if (frames.frames > 0) on_frames_(std::move(frames));
    }

   private:
    FeatureStream& stream_;
    const std::function<void(Spectrogram)>& on_frames_;
  };
  LoadOptions load;
  load.sample_rate = settings.mel.sample_rate;
  load.offset = settings.offset;
  load.duration = settings.duration;
  load.repair = settings.repair_samples;
  ToFeatures sink(stream, on_frames);
  const DecodeResult audio = decode_audio(audio_file, load, sink);
  if (warning && audio.damaged())
    *warning =
        fmt::format("{}: damaged stream: {:.2f} s of audio lost, {} bad packets; features cover what decoded",
                    audio_file.string(), audio.lost_seconds, audio.bad_packets);
  if (warning && !audio.fallback_reason.empty())
    *warning += (warning->empty() ? "" : "; ") +
                fmt::format("{}: decoded by {} (FFmpeg could not: {})", audio_file.string(), audio.decoder,
                            audio.fallback_reason);
  if (warning && audio.repaired_samples > 0)
    *warning += (warning->empty() ? "" : "; ") +
                fmt::format("{}: {} NaN, infinite or huge samples read as silence", audio_file.string(),
                            audio.repaired_samples);
  if (decoded) *decoded = audio;
}

}  // namespace

Spectrogram compute_track_features(const std::filesystem::path& audio_file, const FeatureSettings& settings,
                                   const MelSpectrogram& mel, DecodeResult* decoded, std::string* warning) {
  FeatureStream stream(mel, settings);
  decode_into(audio_file, settings, stream, {}, decoded, warning);
  return stream.finish();
}

void stream_track_features(const std::filesystem::path& audio_file, const FeatureSettings& settings,
                           const MelSpectrogram& mel, const std::function<void(Spectrogram)>& on_frames,
                           DecodeResult* decoded, std::string* warning) {
  FeatureStream stream(mel, settings);
  decode_into(audio_file, settings, stream, on_frames, decoded, warning);
  Spectrogram rest = stream.finish();
  if (rest.frames > 0) on_frames(std::move(rest));
}

ExtractionPlan plan_extraction(Catalog& catalog, const ExtractionSettings& settings) {
  MelSpectrogram check(settings.mel);  // throws FeatureError for bad options before anything is recorded
  ExtractionPlan plan;
  plan.config = catalog.add_feature_config(settings.canonical_json());
  plan.pending = catalog.tracks_without_features(plan.config);
  plan.tracks = catalog.track_count();
  // Done in the catalog is only true while the file is there and whole (a deleted features folder left
  // "501 done" that nothing would recompute).
  for (const std::int64_t id : lost_feature_tracks(catalog, plan.config))
    if (auto track = catalog.find_track(id)) {
      plan.pending.push_back(std::move(*track));
      ++plan.lost;
    }
  const fs::path folder = catalog.features_folder(plan.config);
  fs::create_directories(folder);
  // A run killed while writing leaves <id>.npy.partial files: never valid, and rewritten when their track is
  // done.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.path().extension() == ".partial") fs::remove(entry.path(), ec);
  return plan;
}

std::vector<std::int64_t> lost_feature_tracks(const Catalog& catalog, const std::string& config) {
  std::vector<std::int64_t> lost;
  for (const FeatureRecord& record : catalog.feature_records(config))
    if (record.status == FeatureStatus::Done &&
        !feature_file_intact(catalog.feature_file(record.track, config), record.n_mels, record.frames))
      lost.push_back(record.track);
  return lost;
}

FeatureRecord extract_track_features(const Catalog& catalog, const Track& track,
                                     const ExtractionSettings& settings, const std::string& config,
                                     const MelSpectrogram& mel, std::string* warning) {
  const fs::path out = catalog.feature_file(track.id, config);
  FeatureRecord record;
  record.track = track.id;
  record.config = config;
  try {
    DecodeResult decoded;
    const Spectrogram features =
        compute_track_features(catalog.absolute_path(track.path), settings, mel, &decoded, warning);
    record.seconds = decoded.seconds();
    write_feature_array(out, features.rows, features.frames, features.values.data(), settings.dtype);
    record.n_mels = features.rows;
    record.frames = features.frames;
  } catch (const std::exception& error) {  // AudioError, NpyError: recorded as failed, the run goes on
    record.status = FeatureStatus::Failed;
    record.error = error.what();
    record.seconds = 0.0;
    std::error_code ignored;
    fs::remove(out, ignored);  // features of an earlier version of the file are no longer right
  }
  return record;
}

ExtractSummary run_extraction(Catalog& catalog, const ExtractionSettings& settings,
                              const ExtractionPlan& plan, const ExtractOptions& options) {
  const MelSpectrogram mel(settings.mel);  // the FFT plan, made once and shared by every thread
  ExtractSummary summary;
  summary.config = plan.config;
  summary.tracks = plan.tracks;
  summary.already = plan.tracks - plan.pending.size();
  const unsigned threads =
      std::max(1u, std::min<unsigned>(options.threads ? options.threads : std::thread::hardware_concurrency(),
                                      static_cast<unsigned>(std::max<std::size_t>(1, plan.pending.size()))));
  std::mutex lock;  // guards the catalog, the summary and the callbacks
  std::size_t written = 0;
  std::exception_ptr catalog_failure;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};

  auto work = [&] {
    for (std::size_t i = next++; i < plan.pending.size() && !stop; i = next++) {
      const Track& track = plan.pending[i];
      const fs::path audio_file = catalog.absolute_path(track.path);
      std::string warning;
      const FeatureRecord record = extract_track_features(catalog, track, settings, plan.config, mel, &warning);
      std::lock_guard guard(lock);
      try {
        if (record.status == FeatureStatus::Done) {
          ++written;
          if (options.after_file_written) options.after_file_written(written);
        }
        catalog.record_features(record);
      } catch (...) {  // the catalog itself fails (disk full, locked): stop every thread and report it once
        if (!catalog_failure) catalog_failure = std::current_exception();
        stop = true;
        return;
      }
      if (!warning.empty() && options.on_problem) options.on_problem("warning: " + warning);
      if (record.status == FeatureStatus::Done) {
        ++summary.computed;
        summary.audio_seconds += record.seconds;
      } else {
        ++summary.failed;
        if (options.on_problem) {
          const std::string file = audio_file.string();
          options.on_problem("error: " +
                             (record.error.starts_with(file) ? record.error : file + ": " + record.error));
        }
      }
      if (options.on_progress) options.on_progress(track.path);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (catalog_failure) std::rethrow_exception(catalog_failure);
  return summary;
}

}  // namespace tunelens
