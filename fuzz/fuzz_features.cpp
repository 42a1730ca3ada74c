// The streamed front end against the whole-signal one: FeatureStream (and so MelStream) fed a signal in
// pieces of fuzzed sizes must give exactly signal_features of the whole signal, whatever the settings. The
// first 8 bytes pick the settings (n_fft, hop, n_mels, centring and padding, chunks, dB) and the pieces'
// sizes; the rest are 16-bit samples. A FeatureError (settings the front end refuses) is allowed, from both
// sides alike; a difference, another exception or a sanitizer report is a finding. The hop may exceed n_fft,
// as the bug this harness was written after needed (a hop over twice n_fft).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "features/features.h"
#include "fuzz_support.h"

namespace tf = tunelens::fuzz;

namespace {

tunelens::FeatureSettings settings_from(const std::uint8_t* b) {
  tunelens::FeatureSettings s;
  constexpr int kFfts[] = {2, 16, 64, 256, 512, 1000, 2048, 4096};
  s.mel.n_fft = kFfts[b[0] & 7];
  constexpr int kHops[] = {1, 7, 64, 128, 512, 1000, 3000, 9000};
  s.mel.hop_length = kHops[(b[0] >> 3) & 7];
  s.mel.center = (b[0] & 0x40) != 0;
  s.mel.pad_mode = (b[0] & 0x80) != 0 ? tunelens::PadMode::Reflect : tunelens::PadMode::Constant;
  s.mel.n_mels = 1 + b[1] % 160;
  s.mel.sample_rate = (b[2] & 1) != 0 ? 16000 : 22050;
  s.mel.mel_scale = (b[2] & 2) != 0 ? tunelens::MelScale::Htk : tunelens::MelScale::Slaney;
  s.mel.mel_norm = (b[2] & 4) != 0 ? tunelens::MelNorm::None : tunelens::MelNorm::Slaney;
  s.mel.power = (b[2] & 8) != 0 ? 1.0 : 2.0;
  constexpr const char* kDb[] = {"ref-max", "ref-one", "none", "ref-max"};
  s.db = kDb[(b[2] >> 4) & 3];
  constexpr std::size_t kChunks[] = {0, 0, 3000, 48000};
  s.chunk_samples = kChunks[(b[2] >> 6) & 3];
  return s;
}

// The features of `signal` by `compute`, or nullopt when the settings are refused (FeatureError).
template <typename Compute>
std::optional<tunelens::Spectrogram> features_or_refusal(const Compute& compute) {
  try {
    return compute();
  } catch (const tunelens::FeatureError&) {
    return std::nullopt;
  } catch (const std::exception& error) {
    tf::unexpected(error);
  }
}

bool same(const tunelens::Spectrogram& a, const tunelens::Spectrogram& b) {
  if (a.rows != b.rows || a.frames != b.frames) return false;
  // The same code computes each frame both ways: equal bits (or both NaN, which dB of silence never gives).
  return a.values.empty() ||
         std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const tunelens::FeatureSettings settings = settings_from(data);
  std::vector<float> signal((size - 8) / 2);
  for (std::size_t i = 0; i < signal.size(); ++i) {
    std::int16_t sample = 0;
    std::memcpy(&sample, data + 8 + 2 * i, 2);
    signal[i] = static_cast<float>(sample) / 32768.0f;
  }
  // About the FFT work of both sides: past a few million points an input only slows the campaign down.
  // (A signal shorter than a chunk is repeated to fill one.)
  const std::size_t samples = std::max(signal.size(), settings.chunk_samples);
  const std::size_t frames = 1 + samples / static_cast<std::size_t>(settings.mel.hop_length);
  if (frames * static_cast<std::size_t>(settings.mel.n_fft) > (1u << 21)) return 0;
  std::optional<tunelens::MelSpectrogram> mel;
  try {
    mel.emplace(settings.mel);
  } catch (const tunelens::FeatureError&) {
    return 0;  // settings the front end refuses, before any signal
  }
  const auto whole = features_or_refusal([&] { return tunelens::signal_features(*mel, signal, settings); });
  const auto streamed = features_or_refusal([&] {
    tunelens::FeatureStream stream(*mel, settings);
    if ((data[3] & 1) != 0) stream.expect(signal.size());
    // Pieces of sizes drawn from bytes 4..7 in turn: 0 (an empty push), 1 sample, up to a few hops; when
    // all four are 0, one empty push and then the rest at once.
    const bool stalls = std::all_of(data + 4, data + 8, [](std::uint8_t byte) { return byte == 0; });
    std::size_t at = 0;
    for (std::size_t turn = 0; at < signal.size() && !stalls; ++turn) {
      const std::uint8_t byte = data[4 + turn % 4];
      const std::size_t piece = byte < 16 ? byte : static_cast<std::size_t>(byte) * 37;
      const std::size_t take = std::min(piece, signal.size() - at);
      stream.push(std::span<const float>(signal).subspan(at, take));
      at += take;
    }
    if (stalls) stream.push({});
    if (at < signal.size()) stream.push(std::span<const float>(signal).subspan(at));
    return stream.finish();
  });
  if (whole.has_value() != streamed.has_value())
    tf::finding("the stream and the whole signal disagree on refusing the settings",
                whole ? "the stream refused" : "the whole signal was refused");
  if (whole && !same(*whole, *streamed))
    tf::finding("streamed features differ from the whole signal's",
                std::to_string(whole->rows) + "x" + std::to_string(whole->frames) + " vs " +
                    std::to_string(streamed->rows) + "x" + std::to_string(streamed->frames));
  return 0;
}
