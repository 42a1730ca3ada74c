// Tagging whole songs with the shipped pretrained networks (models/): tunelens against the same networks run
// by PyTorch in Python (bench/pytorch_tagging.py) on the same samples and thread counts, side by side with
// the ratio.
//
//   bench_tagging SONG.f32 [--threads 1,2] [--repeats 5] [--networks a,b] [--pytorch FIGURES.json]
//
// SONG.f32 holds 16 kHz mono float32 samples (scripts/bench_tagging.sh decodes one of samples/ with ffmpeg).
// For each network and thread count: Model::load(name, threads), then, timed, what tagging a song takes from
// its samples: cut into consecutive chunks of the network's input length (the tail shorter than a chunk
// dropped, as the PyTorch side does), each chunk's mel spectrogram and decibels computed with MelSpectrogram
// from model.features().settings (the network's own front end), and Model::predict_windows on all chunks.
// Each figure is the median of `repeats` runs after one warm-up. FIGURES.json is what pytorch_tagging.py
// --json wrote; without it only tunelens's columns are filled.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "features/features.h"
#include "model/model.h"

namespace {

namespace fs = std::filesystem;
using tunelens::Model;
using tunelens::Spectrogram;

struct Arguments {
  fs::path song;
  std::vector<int> threads = {1, 2};
  int repeats = 5;
  std::vector<std::string> networks;  // empty: every shipped one
  fs::path pytorch;                   // pytorch_tagging.py --json
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream stream(list);
  for (std::string item; std::getline(stream, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

std::optional<Arguments> parse_arguments(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--threads" && has_value) {
      arguments.threads.clear();
      for (const auto& count : split(argv[++i])) arguments.threads.push_back(std::max(1, std::stoi(count)));
    } else if (flag == "--repeats" && has_value) {
      arguments.repeats = std::max(1, std::stoi(argv[++i]));
    } else if (flag == "--networks" && has_value) {
      arguments.networks = split(argv[++i]);
    } else if (flag == "--pytorch" && has_value) {
      arguments.pytorch = argv[++i];
    } else if (!flag.starts_with("--") && arguments.song.empty()) {
      arguments.song = flag;
    } else {
      return std::nullopt;
    }
  }
  if (arguments.song.empty()) return std::nullopt;
  return arguments;
}

std::vector<float> read_samples(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot read");
  const auto bytes = static_cast<std::size_t>(fs::file_size(file));
  std::vector<float> samples(bytes / sizeof(float));
  in.read(reinterpret_cast<char*>(samples.data()),
          static_cast<std::streamsize>(samples.size() * sizeof(float)));
  return samples;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
}

// Tags a song from its samples: the chunks' features (each chunk on its own, as the networks were trained on
// excerpts of this length) and the network on all of them. Returns the song's mean tag probabilities.
std::vector<float> tag_song(const Model& model, const tunelens::MelSpectrogram& mel,
                            std::span<const float> samples, std::size_t chunk_samples) {
  const tunelens::FeatureSettings& settings = model.features().settings;
  std::vector<Spectrogram> windows;
  for (std::size_t start = 0; start + chunk_samples <= samples.size(); start += chunk_samples) {
    Spectrogram window = mel.compute(samples.subspan(start, chunk_samples));
    if (settings.in_db()) tunelens::power_to_db(window, settings.db_options());
    windows.push_back(std::move(window));
  }
  return model.predict_windows(windows).mean_probabilities();
}

struct Figures {
  double seconds = 0.0;  // median wall time of tagging the song
  std::size_t windows = 0;
  double audio_seconds = 0.0;  // what the windows cover
  std::vector<float> tags;     // the song's mean tag probabilities
  double windows_per_second() const { return static_cast<double>(windows) / seconds; }
  double realtime() const { return audio_seconds / seconds; }
};

Figures time_tunelens(const tunelens::ShippedNetwork& network, std::span<const float> samples, int threads,
                      int repeats) {
  const Model model = Model::load(network.name, {"cpu", threads});
  const tunelens::MelSpectrogram mel(model.features().settings.mel);
  Figures figures;
  figures.windows = samples.size() / network.input_samples;
  figures.audio_seconds = static_cast<double>(figures.windows * network.input_samples) /
                          model.features().settings.mel.sample_rate;
  figures.tags = tag_song(model, mel, samples, network.input_samples);  // warm-up
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const double start = now_seconds();
    tag_song(model, mel, samples, network.input_samples);
    seconds.push_back(now_seconds() - start);
  }
  figures.seconds = median(seconds);
  return figures;
}

// pytorch_tagging.py's figures by network and thread count.
std::map<std::pair<std::string, int>, Figures> read_pytorch_figures(const fs::path& file) {
  std::map<std::pair<std::string, int>, Figures> figures;
  std::ifstream in(file);
  if (!in) return figures;
  const nlohmann::json json = nlohmann::json::parse(in);
  for (const auto& result : json.at("results")) {
    Figures f;
    f.seconds = result.at("seconds").get<double>();
    f.windows = result.at("windows").get<std::size_t>();
    f.audio_seconds = result.at("realtime").get<double>() * f.seconds;
    f.tags = result.at("tags").get<std::vector<float>>();
    figures[{result.at("network").get<std::string>(), result.at("threads").get<int>()}] = f;
  }
  return figures;
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  const auto arguments = parse_arguments(argc, argv);
  if (!arguments) {
    std::fprintf(stderr,
                 "usage: bench_tagging SONG.f32 [--threads 1,2] [--repeats 5] [--networks a,b] "
                 "[--pytorch FIGURES.json]\n");
    return 2;
  }
  try {
    const std::vector<float> samples = read_samples(arguments->song);
    const auto pytorch = read_pytorch_figures(arguments->pytorch);
    std::vector<tunelens::ShippedNetwork> networks;
    for (const auto& network : tunelens::shipped_networks())
      if (arguments->networks.empty() ||
          std::ranges::find(arguments->networks, network.name) != arguments->networks.end())
        networks.push_back(network);

    std::printf("song: %s, %.1f s at 16 kHz; median of %d runs; ratio = tunelens speed / PyTorch speed\n\n",
                arguments->song.filename().c_str(), static_cast<double>(samples.size()) / 16000.0,
                arguments->repeats);
    std::printf(
        "| network | threads | windows | PyTorch windows/s | PyTorch × realtime | tunelens windows/s | "
        "tunelens × realtime | ratio | max tag difference |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    for (const int threads : arguments->threads) {
      for (const auto& network : networks) {
        const Figures ours = time_tunelens(network, samples, threads, arguments->repeats);
        std::printf("| %s | %d | %zu | ", network.name.c_str(), threads, ours.windows);
        const auto theirs = pytorch.find({network.name, threads});
        if (theirs == pytorch.end())
          std::printf("— | — | ");
        else
          std::printf("%.2f | %.1f | ", theirs->second.windows_per_second(), theirs->second.realtime());
        std::printf("%.2f | %.1f | ", ours.windows_per_second(), ours.realtime());
        if (theirs == pytorch.end())
          std::printf("— | — |\n");
        else
          std::printf("%.2f × | %.1e |\n", theirs->second.seconds / ours.seconds,
                      max_difference(ours.tags, theirs->second.tags));
        std::fflush(stdout);
      }
    }
    if (pytorch.empty()) std::printf("\n(no PyTorch figures: only tunelens's columns are filled)\n");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_tagging: %s\n", error.what());
    return 1;
  }
  return 0;
}
