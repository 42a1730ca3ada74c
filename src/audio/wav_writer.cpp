#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>

#include "audio/audio.h"

namespace tunelens {
namespace {

void put_u32(std::ofstream& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.write(b, 4);
}
void put_u16(std::ofstream& out, uint16_t v) {
  const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b, 2);
}

}  // namespace

void write_wav(const std::filesystem::path& path, std::span<const float> samples, int sample_rate, int channels) {
  if (sample_rate <= 0 || channels <= 0 || samples.size() % static_cast<std::size_t>(channels) != 0)
    throw std::invalid_argument(path.string() + ": cannot write WAV: bad rate, channels or sample count");
  const auto data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot create file");
    out.write("RIFF", 4);
    put_u32(out, 36 + data_bytes);
    out.write("WAVEfmt ", 8);
    put_u32(out, 16);
    put_u16(out, 1);  // PCM
    put_u16(out, static_cast<uint16_t>(channels));
    put_u32(out, static_cast<uint32_t>(sample_rate));
    put_u32(out, static_cast<uint32_t>(sample_rate * channels * 2));
    put_u16(out, static_cast<uint16_t>(channels * 2));
    put_u16(out, 16);
    out.write("data", 4);
    put_u32(out, data_bytes);
    std::vector<int16_t> pcm(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i)
      pcm[i] = static_cast<int16_t>(std::lround(std::clamp(samples[i], -1.0f, 1.0f) * 32767.0f));
    out.write(reinterpret_cast<const char*>(pcm.data()), static_cast<std::streamsize>(data_bytes));
    if (!out.flush()) throw std::runtime_error(path.string() + ": write failed (disk full?)");
  }
  std::filesystem::rename(partial, path);
}

}  // namespace tunelens
