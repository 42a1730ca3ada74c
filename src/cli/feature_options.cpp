#include "cli/feature_options.h"

namespace tunelens::cli {

void add_feature_options(CLI::App* command, FeatureSettings& settings, const std::string& item) {
  MelOptions& mel = settings.mel;
  command->add_option("--sr", mel.sample_rate, "Sample rate to resample to, Hz")->capture_default_str();
  command->add_option("--n-fft", mel.n_fft, "FFT length (and Hann window length)")->capture_default_str();
  command->add_option("--hop", mel.hop_length, "Samples between frames")->capture_default_str();
  command->add_option("--n-mels", mel.n_mels, "Number of mel bands")->capture_default_str();
  command->add_option("--fmin", mel.fmin, "Lowest mel band edge, Hz")->capture_default_str();
  command->add_option("--fmax", mel.fmax, "Highest mel band edge, Hz (default: sr / 2)");
  command->add_option("--power", mel.power, "Exponent of the magnitude (1 magnitude, 2 power)")->capture_default_str();
  command
      ->add_option("--db", settings.db, "Decibel scaling: ref-max (relative to the loudest bin), ref-one, none")
      ->check(CLI::IsMember({"ref-max", "ref-one", "none"}))
      ->capture_default_str();
  command->add_option("--top-db", settings.top_db, "Floor the decibels this far below the peak (0 disables)")
      ->capture_default_str();
  command->add_option("--offset", settings.offset, "Start this many seconds into each " + item)->capture_default_str();
  command->add_option("--duration", settings.duration, "Use at most this many seconds of each " + item + " (default: all)");
}

}  // namespace tunelens::cli
