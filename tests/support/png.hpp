#pragma once
// Decodes a PNG in tests (libpng's simplified API) to check size and content.

#include <png.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bandoso::testing {

struct DecodedPng {
  bool ok = false;
  unsigned width = 0, height = 0;
  std::vector<std::uint8_t> rgba;

  // Pixels that are not fully transparent.
  [[nodiscard]] std::size_t painted_pixels() const {
    std::size_t n = 0;
    for (std::size_t i = 3; i < rgba.size(); i += 4) n += rgba[i] != 0 ? 1 : 0;
    return n;
  }
};

inline DecodedPng decode_png(const std::string& bytes) {
  DecodedPng out;
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0) return out;
  image.format = PNG_FORMAT_RGBA;
  out.rgba.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, out.rgba.data(), 0, nullptr) == 0) return out;
  out.ok = true;
  out.width = image.width;
  out.height = image.height;
  return out;
}

}  // namespace bandoso::testing
