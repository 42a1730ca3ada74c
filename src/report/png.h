// Pictures without dependencies beyond zlib: an RGB image with a tiny built-in bitmap font, a perceptual colour
// map for spectrograms, and a PNG (8-bit RGB) writer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace tunelens {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

class RgbImage {
 public:
  RgbImage(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  // Pixels outside the image are ignored by set() and read as black by get().
  void set(int x, int y, Rgb colour);
  Rgb get(int x, int y) const;
  void fill(int x, int y, int w, int h, Rgb colour);
  // Text in a 5 x 7 pixel font (A-Z, 0-9 and - . _ : / ( ) , ' & + #; lower case drawn as upper case, other
  // characters as a small box), each pixel drawn as a scale x scale square, top-left corner at (x, y).
  void draw_text(int x, int y, std::string_view text, Rgb colour, int scale = 1);
  static int text_width(std::string_view text, int scale = 1);
  static int text_height(int scale = 1) { return 7 * scale; }

  // Row-major RGB bytes, 3 per pixel.
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  int width_;
  int height_;
  std::vector<std::uint8_t> bytes_;
};

// A perceptually ordered colour map from near black (0) through purple and orange to pale yellow (1), in the
// manner of matplotlib's magma; values outside [0, 1] are clamped.
Rgb magma(double x);

// The bytes of a PNG file (8-bit RGB, non-interlaced, adaptive row filters, zlib-compressed).
std::vector<std::uint8_t> encode_png(const RgbImage& image);
// Writes a PNG under a temporary name renamed into place. Throws std::runtime_error naming the file.
void write_png(const std::filesystem::path& path, const RgbImage& image);

}  // namespace tunelens
