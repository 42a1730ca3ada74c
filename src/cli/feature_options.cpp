#include "cli/feature_options.h"

namespace tunelens::cli {
namespace {

// An option that takes one of a few words and stores what `parse` makes of it; the help shows the words and
// the default, and any other word is rejected with a line naming the option.
template <typename Setting, typename Parse>
void add_word_option(CLI::App* command, const std::string& name, Setting& setting, Parse parse,
                     const std::vector<std::string>& words, const std::string& help) {
  command
      ->add_option_function<std::string>(
          name, [&setting, parse](const std::string& word) { setting = parse(word); }, help)
      ->check(CLI::IsMember(words))
      ->default_str(to_string(setting));
}

// CLI11 converts "-1" to an unsigned option by wrapping it around to a huge number; this refuses it first.
const CLI::Validator kNotNegative(
    [](std::string& text) {
      return text.starts_with('-') ? "must be 0 or more, not " + text : std::string();
    },
    "");

}  // namespace

void add_feature_options(CLI::App* command, FeatureSettings& settings, const std::string& item) {
  MelOptions& mel = settings.mel;
  command->add_option("--sr", mel.sample_rate, "Sample rate to resample to, Hz")
      ->check(CLI::Range(kLimits.min_sample_rate, kLimits.max_sample_rate))
      ->capture_default_str();
  command->add_option("--n-fft", mel.n_fft, "FFT length (and Hann window length)")
      ->check(CLI::Range(2, kLimits.max_n_fft))
      ->capture_default_str();
  command->add_option("--hop", mel.hop_length, "Samples between frames")
      ->check(CLI::Range(1, kLimits.max_hop_length))
      ->capture_default_str();
  add_word_option(
      command, "--pad-mode", mel.pad_mode, parse_pad_mode, {"constant", "reflect"},
      "Padding of the signal's ends for centred frames: constant (zeros) or reflect (mirrored without "
      "repeating the edge, as numpy.pad)");
  command->add_option("--n-mels", mel.n_mels, "Number of mel bands")
      ->check(CLI::Range(1, kLimits.max_n_mels))
      ->capture_default_str();
  command->add_option("--fmin", mel.fmin, "Lowest mel band edge, Hz")->capture_default_str();
  command->add_option("--fmax", mel.fmax, "Highest mel band edge, Hz (default: sr / 2)");
  add_word_option(
      command, "--mel-scale", mel.mel_scale, parse_mel_scale, {"slaney", "htk"},
      "Mel scale: slaney (Slaney's Auditory Toolbox, librosa's htk=False) or htk (2595 log10(1 + f/700))");
  add_word_option(
      command, "--mel-norm", mel.mel_norm, parse_mel_norm, {"slaney", "none"},
      "Mel filter scaling: slaney (each band divided by its width in Hz, equal areas) or none (peak 1)");
  command->add_option("--power", mel.power, "Exponent of the magnitude (1 magnitude, 2 power)")
      ->check(CLI::Range(0.01, 8.0))
      ->capture_default_str();
  const std::string chunk_help =
      "Compute the mel spectrogram of each chunk of this many samples on its own and join their frames (the "
      "tail shorter than a chunk is dropped, a shorter " +
      item + " looped to fill one); 0: the whole " + item;
  command->add_option("--chunk-samples", settings.chunk_samples, chunk_help)
      ->check(kNotNegative)
      ->capture_default_str();
  command
      ->add_option("--db", settings.db, "Decibel scaling: ref-max (relative to the loudest bin), ref-one, none")
      ->check(CLI::IsMember({"ref-max", "ref-one", "none"}))
      ->capture_default_str();
  command->add_option("--top-db", settings.top_db, "Floor the decibels this far below the peak (0 disables)")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  command->add_option("--offset", settings.offset, "Start this many seconds into each " + item)
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      ->add_option("--duration", settings.duration,
                   "Use at most this many seconds of each " + item + " (default: all)")
      ->check(CLI::PositiveNumber);
  command->add_flag("--repair-samples", settings.repair_samples, kRepairSamplesHelp);
}

}  // namespace tunelens::cli
