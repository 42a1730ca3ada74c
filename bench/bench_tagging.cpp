// Tagging whole songs with the shipped pretrained networks (models/): tunelens against the same networks run
// by PyTorch in Python (bench/pytorch_tagging.py) on the same samples and thread counts, side by side with
// the ratio.
//
//   bench_tagging SONG.f32 [--threads 1,2] [--repeats 5] [--networks a,b] [--python /usr/bin/python3]
//                 [--no-pytorch]
//
// SONG.f32 holds 16 kHz mono float32 samples (scripts/bench_tagging.sh decodes one of samples/ with ffmpeg).
// tunelens, per network and thread count: Model::load(name, threads), then, timed, what tagging a song takes
// from its samples: cut into consecutive chunks of the network's input length (the tail shorter than a chunk
// dropped, as the PyTorch side does), each chunk's mel spectrogram and decibels computed with MelSpectrogram
// from model.features().settings (the network's own front end), and Model::predict_windows on all chunks.
// PyTorch: pytorch_tagging.py --serve as a child process (it first checks its outputs against the reference),
// asked for one timed run at a time, so that its runs and tunelens's alternate and whatever else the machine
// does hits both alike. Each figure is the median of `repeats` runs after one warm-up run of each side.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "features/features.h"
#include "model/model.h"

#ifndef TUNELENS_SOURCE_DIR
#define TUNELENS_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
using tunelens::Model;
using tunelens::Spectrogram;

struct Arguments {
  fs::path song;
  std::vector<int> threads = {1, 2};
  int repeats = 5;
  std::vector<std::string> networks;  // empty: every shipped one
  std::string python = "/usr/bin/python3";
  bool pytorch = true;
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
    } else if (flag == "--python" && has_value) {
      arguments.python = argv[++i];
    } else if (flag == "--no-pytorch") {
      arguments.pytorch = false;
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

// One timed run of either side: its wall time and the song's mean tag probabilities.
struct Run {
  double seconds = 0.0;
  std::vector<float> tags;
};

// Tags a song from its samples: the chunks' features (each chunk on its own, as the networks were trained on
// excerpts of this length) and the network on all of them.
Run tag_song(const Model& model, const tunelens::MelSpectrogram& mel, std::span<const float> samples,
             std::size_t chunk_samples) {
  const double start = now_seconds();
  const tunelens::FeatureSettings& settings = model.features().settings;
  std::vector<Spectrogram> windows;
  for (std::size_t begin = 0; begin + chunk_samples <= samples.size(); begin += chunk_samples) {
    Spectrogram window = mel.compute(samples.subspan(begin, chunk_samples));
    if (settings.in_db()) tunelens::power_to_db(window, settings.db_options());
    windows.push_back(std::move(window));
  }
  const tunelens::WindowPredictions predictions = model.predict_windows(windows);
  return {now_seconds() - start, predictions.mean_probabilities()};
}

// pytorch_tagging.py --serve as a child process: each request "NETWORK THREADS" is answered with one JSON
// line
// {"seconds", "windows", "tags"} of one timed run. Unavailable (no python3-torch, or its check against the
// reference failed) when the first line is not {"ready": true}; the script says why on stderr.
class PyTorchSide {
 public:
  PyTorchSide(const std::string& python, const fs::path& song, const std::vector<std::string>& networks) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    std::signal(SIGPIPE, SIG_IGN);  // a child that died makes a failed write, not the end of this program
    const std::string script = std::string(TUNELENS_SOURCE_DIR) + "/bench/pytorch_tagging.py";
    std::vector<std::string> command = {python, script, "--serve", "--samples", song.string()};
    if (!networks.empty()) {
      std::string list;
      for (const auto& name : networks) list += (list.empty() ? "" : ",") + name;
      command.insert(command.end(), {"--networks", list});
    }
    // Everything the child needs is ready before fork: between fork and exec it only calls what is safe
    // there.
    std::vector<char*> args;
    for (auto& word : command) args.push_back(word.data());
    args.push_back(nullptr);
    const std::string failure = "bench_tagging: cannot run " + python + "\n";
    child_ = fork();
    if (child_ == 0) {
      dup2(to_child[0], STDIN_FILENO);
      dup2(from_child[1], STDOUT_FILENO);
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) close(fd);
      execv(args[0], args.data());
      (void)!write(STDERR_FILENO, failure.data(), failure.size());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    requests_ = fdopen(to_child[1], "w");
    answers_ = fdopen(from_child[0], "r");
    const auto ready = read_answer();
    available_ = ready && ready->value("ready", false);
  }
  ~PyTorchSide() {
    if (requests_) std::fclose(requests_);  // end of input: the script exits
    if (answers_) std::fclose(answers_);
    if (child_ > 0) waitpid(child_, nullptr, 0);
  }
  PyTorchSide(const PyTorchSide&) = delete;
  PyTorchSide& operator=(const PyTorchSide&) = delete;

  bool available() const { return available_; }

  std::optional<Run> run(const std::string& network, int threads) {
    if (!available_) return std::nullopt;
    std::fprintf(requests_, "%s %d\n", network.c_str(), threads);
    std::fflush(requests_);
    const auto answer = read_answer();
    if (!answer || !answer->contains("seconds")) {
      available_ = false;
      return std::nullopt;
    }
    return Run{answer->at("seconds").get<double>(), answer->at("tags").get<std::vector<float>>()};
  }

 private:
  std::optional<nlohmann::json> read_answer() {
    if (!answers_) return std::nullopt;
    char* line = nullptr;
    std::size_t capacity = 0;
    const ssize_t length = getline(&line, &capacity, answers_);
    std::optional<nlohmann::json> answer;
    if (length > 0) answer = nlohmann::json::parse(line, line + length, nullptr, false);
    std::free(line);
    if (answer && answer->is_discarded()) answer.reset();
    return answer;
  }

  pid_t child_ = -1;
  std::FILE* requests_ = nullptr;
  std::FILE* answers_ = nullptr;
  bool available_ = false;
};

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

// One row of the table: the network on both sides at one thread count, the runs alternating.
void compare(const tunelens::ShippedNetwork& network, std::span<const float> samples, int threads,
             int repeats, PyTorchSide* pytorch) {
  const Model model = Model::load(network.name, {"cpu", threads});
  const tunelens::MelSpectrogram mel(model.features().settings.mel);
  const std::size_t windows = samples.size() / network.input_samples;
  const double audio_seconds =
      static_cast<double>(windows * network.input_samples) / model.features().settings.mel.sample_rate;

  // Warm-up runs (first-call allocations and kernel choices), then the timed ones, alternating.
  const Run ours_first = tag_song(model, mel, samples, network.input_samples);
  std::optional<Run> theirs_first = pytorch ? pytorch->run(network.name, threads) : std::nullopt;
  std::vector<double> ours, theirs;
  for (int r = 0; r < repeats; ++r) {
    if (theirs_first) {
      if (const auto run = pytorch->run(network.name, threads)) theirs.push_back(run->seconds);
    }
    ours.push_back(tag_song(model, mel, samples, network.input_samples).seconds);
  }

  const double our_seconds = median(ours);
  std::printf("| %s | %d | %zu | ", network.name.c_str(), threads, windows);
  if (theirs.empty())
    std::printf("— | — | ");
  else
    std::printf("%.2f | %.1f | ", static_cast<double>(windows) / median(theirs),
                audio_seconds / median(theirs));
  std::printf("%.2f | %.1f | ", static_cast<double>(windows) / our_seconds, audio_seconds / our_seconds);
  if (theirs.empty())
    std::printf("— | — |\n");
  else
    std::printf("%.2f × | %.1e |\n", median(theirs) / our_seconds,
                max_difference(ours_first.tags, theirs_first->tags));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const auto arguments = parse_arguments(argc, argv);
  if (!arguments) {
    std::fprintf(stderr,
                 "usage: bench_tagging SONG.f32 [--threads 1,2] [--repeats 5] [--networks a,b] "
                 "[--python /usr/bin/python3] [--no-pytorch]\n");
    return 2;
  }
  try {
    const std::vector<float> samples = read_samples(arguments->song);
    std::vector<tunelens::ShippedNetwork> networks;
    for (const auto& network : tunelens::shipped_networks())
      if (arguments->networks.empty() ||
          std::ranges::find(arguments->networks, network.name) != arguments->networks.end())
        networks.push_back(network);

    std::optional<PyTorchSide> pytorch;
    if (arguments->pytorch) {
      pytorch.emplace(arguments->python, arguments->song, arguments->networks);
      if (!pytorch->available()) {
        std::printf("(the PyTorch side did not start: only tunelens's columns are filled)\n");
        pytorch.reset();
      }
    }
    std::printf(
        "\nsong: %s, %.1f s at 16 kHz; median of %d runs, the two sides alternating; ratio = tunelens "
        "speed / PyTorch speed\n\n",
        arguments->song.filename().c_str(), static_cast<double>(samples.size()) / 16000.0,
        arguments->repeats);
    std::printf(
        "| network | threads | windows | PyTorch windows/s | PyTorch × realtime | tunelens windows/s | "
        "tunelens × realtime | ratio | max tag difference |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    for (const int threads : arguments->threads)
      for (const auto& network : networks)
        compare(network, samples, threads, arguments->repeats, pytorch ? &*pytorch : nullptr);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_tagging: %s\n", error.what());
    return 1;
  }
  return 0;
}
