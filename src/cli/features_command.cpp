// tunelens features: audio files → mel spectrograms as .npy, the way librosa computes them.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/feature_options.h"
#include "cli/progress.h"
#include "data/extract.h"
#include "features/features.h"
#include "store/npy.h"

namespace tunelens::cli {
namespace {

namespace fs = std::filesystem;

struct FeaturesArgs {
  std::vector<std::string> inputs;
  std::string out;
  FeatureSettings features;
  int mfcc = 0;
  unsigned threads = 0;
  bool recursive = false;
  bool force = false;
  bool quiet = false;
  bool verbose = false;
};

// One file to do: where it is and where its spectrogram goes.
struct Job {
  fs::path input;
  fs::path output;  // .npy of the mel spectrogram
};

// Settings that decide the numbers in the output; a rerun into the same folder must use the same ones.
nlohmann::json settings_json(const FeatureSettings& features, int mfcc) {
  nlohmann::json json = feature_settings_json(features);
  json["mfcc"] = mfcc;
  json["window"] = "hann";
  json["amin"] = 1e-10;
  return json;
}

// The settings a features.json records, in today's form (folders written before fmax and top_db were recorded
// resolved compare equal to the same settings now); null when the file is unreadable.
nlohmann::json recorded_settings(const fs::path& settings_file) {
  try {
    nlohmann::json previous;
    std::ifstream(settings_file) >> previous;
    return settings_json(feature_settings_from_json(previous), previous.value("mfcc", 0));
  } catch (const std::exception&) {  // not JSON, or not feature settings
    return nullptr;
  }
}

// Files given by name are taken as they are; folders are walked for audio files, and their outputs keep the
// folder structure under --out so that equal names in different folders do not collide. Inputs that differ only
// in their extension (song.mp3, song.wav) each keep it: song.mp3.npy, song.wav.npy.
std::vector<Job> plan_jobs(const FeaturesArgs& args, std::vector<std::string>& problems) {
  std::vector<Job> jobs;
  const fs::path out(args.out);
  for (const auto& input : args.inputs) {
    const fs::path path(input);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      const auto files = find_audio_files(path, args.recursive, &problems);
      if (files.empty()) problems.push_back(fmt::format("{}: no audio files in this folder{}", input,
                                                        args.recursive ? "" : " (use --recursive for subfolders)"));
      for (const auto& file : files) {
        // By the path as listed, never through a link's target (fs::relative resolves links: a link to a file
        // elsewhere put its .npy outside --out).
        fs::path relative = file.lexically_relative(path);
        if (relative.empty() || relative.is_absolute() || *relative.begin() == "..") {
          problems.push_back(file.string() + ": not under " + input + ": skipped");
          continue;
        }
        jobs.push_back({file, out / relative.replace_extension(".npy")});
      }
    } else {
      jobs.push_back({path, out / path.filename().replace_extension(".npy")});
    }
  }
  std::map<fs::path, int> uses;
  for (const auto& job : jobs) ++uses[job.output];
  for (auto& job : jobs)
    if (uses[job.output] > 1 && job.input.has_extension()) job.output.replace_filename(job.input.filename().string() + ".npy");
  return jobs;
}

int run_features(const FeaturesArgs& args) {
  const MelSpectrogram mel(args.features.mel);  // validates the options and makes the FFT plan, once for all threads
  if (args.mfcc > args.features.mel.n_mels)
    throw CLI::ValidationError("--mfcc", fmt::format("must be at most the {} mel bands", args.features.mel.n_mels));

  const fs::path out(args.out);
  fs::create_directories(out);
  const fs::path settings_file = out / "features.json";
  const nlohmann::json settings = settings_json(args.features, args.mfcc);
  if (fs::exists(settings_file) && !args.force) {
    if (recorded_settings(settings_file) != settings) {
      std::cerr << fmt::format("tunelens features: error: {} holds features made with other settings ({}); use "
                               "--force to recompute them, or another --out\n",
                               out.string(), settings_file.string());
      return kUsageError;
    }
  }
  std::ofstream(settings_file) << settings.dump(2) << "\n";

  std::vector<std::string> problems;
  std::vector<Job> jobs = plan_jobs(args, problems);
  // A run killed while writing leaves <output>.partial files (renamed into place only when complete): removed
  // now, whether or not this run can write their output again.
  for (const Job& job : jobs) {
    fs::path mfcc_output = job.output;
    mfcc_output.replace_extension(".mfcc.npy");
    std::error_code ignored;
    for (const fs::path& output : {job.output, mfcc_output}) fs::remove(output.string() + ".partial", ignored);
  }
  for (const auto& problem : problems) std::cerr << "tunelens features: " << problem << "\n";
  if (jobs.empty()) {
    std::cerr << "tunelens features: error: nothing to do\n";
    return kUsageError;
  }

  const unsigned threads = std::max(1u, std::min<unsigned>(args.threads ? args.threads : std::thread::hardware_concurrency(),
                                                           static_cast<unsigned>(jobs.size())));
  Progress progress("features", jobs.size(), args.quiet);
  std::map<fs::path, fs::path> first_input_of;  // output → input, to catch two inputs with one output name
  std::vector<bool> duplicate(jobs.size(), false);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto [it, fresh] = first_input_of.emplace(jobs[i].output, jobs[i].input);
    duplicate[i] = !fresh;
  }

  std::atomic<std::size_t> next{0}, written{0}, skipped{0}, failed{0};
  std::atomic<long long> audio_microseconds{0};
  auto work = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      const Job& job = jobs[i];
      if (duplicate[i]) {
        progress.message(fmt::format("error: {}: skipped: its output {} is also the output of {}", job.input.string(),
                                     job.output.string(), first_input_of[job.output].string()));
        ++failed;
      } else if (std::error_code unusable; !args.force && fs::exists(job.output, unusable)) {
        ++skipped;  // done by an earlier run
      } else {
        try {
          DecodeResult decoded;
          std::string warning;
          const Spectrogram spectrogram = compute_track_features(job.input, args.features, mel, &decoded, &warning);
          if (!warning.empty()) progress.message("warning: " + warning);
          if (args.verbose)
            progress.message(fmt::format("{}: {:.2f} s, {} Hz, {} channels, {}, decoded by {}", job.input.string(),
                                         decoded.seconds(), decoded.native_sample_rate, decoded.native_channels,
                                         decoded.codec, decoded.decoder));
          fs::create_directories(job.output.parent_path());
          if (args.mfcc > 0) {
            const Spectrogram coefficients = mfcc(spectrogram, args.mfcc);
            fs::path mfcc_path = job.output;
            mfcc_path.replace_extension(".mfcc.npy");
            write_npy(mfcc_path, {coefficients.rows, coefficients.frames}, coefficients.values.data());
          }
          // The mel file is written last: its presence marks the file as done for a rerun.
          write_npy(job.output, {spectrogram.rows, spectrogram.frames}, spectrogram.values.data());
          audio_microseconds += static_cast<long long>(decoded.seconds() * 1e6);
          ++written;
        } catch (const std::exception& error) {  // AudioError, NpyError, filesystem errors: name the file, go on
          const std::string what = error.what();
          progress.message("error: " + (what.starts_with(job.input.string()) ? what : job.input.string() + ": " + what));
          ++failed;
        }
      }
      progress.advance(job.input.filename().string());
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  progress.finish();

  const double seconds = progress.elapsed_seconds();
  const double audio_seconds = static_cast<double>(audio_microseconds.load()) / 1e6;
  std::cout << fmt::format("features: {} files: {} written, {} skipped (already done), {} failed; {:.1f} s of audio in "
                           "{:.2f} s ({:.0f}x realtime, {} threads) -> {}\n",
                           jobs.size(), written.load(), skipped.load(), failed.load(), audio_seconds, seconds,
                           seconds > 0 ? audio_seconds / seconds : 0.0, threads, out.string());
  return failed > 0 || !problems.empty() ? kSomeFailed : kSuccess;
}

}  // namespace

void add_features_command(CLI::App& app) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* command = app.add_subcommand(
      "features", "Compute mel spectrograms (as librosa does) of audio files and write them as .npy [n_mels, frames]");
  command->add_option("inputs", args->inputs, "Audio files and folders of audio files")->required();
  command->add_option("--out,-o", args->out, "Folder for the .npy files (one per input, folder structure kept)")
      ->required();
  add_feature_options(command, args->features, "file");
  command->add_option("--mfcc", args->mfcc, "Also write N MFCCs per frame as <name>.mfcc.npy (0: off)")
      ->check(CLI::Range(0, kLimits.max_n_mels))
      ->capture_default_str();
  command->add_option("--threads,-j", args->threads, "Files processed at once (default: all cores)")->check(thread_count());
  command->add_flag("--recursive,-r", args->recursive, "Walk subfolders of folder inputs");
  command->add_flag("--force", args->force, "Recompute files that already have output");
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  command->add_flag("--verbose,-v", args->verbose,
                    "A line per file: its length, native rate and channels, codec, and the decoder that read it");
  set_action(command, [args] { return run_features(*args); });
}

}  // namespace tunelens::cli
