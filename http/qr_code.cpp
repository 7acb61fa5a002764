#include "http/qr_code.hpp"

#include <fmt/format.h>
#include <png.h>
#include <qrencode.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace bandoso::http {

QrCode encode_qr(std::string_view text) {
  const std::string data(text);  // libqrencode reads a NUL-terminated string
  // Version 0: the smallest that holds the text. 8-bit mode keeps a URL exactly as given (the
  // alphanumeric mode would need upper case).
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString8bit(data.c_str(), 0, QR_ECLEVEL_M),
                                                     &QRcode_free);
  if (!qr) throw std::runtime_error(fmt::format("libqrencode could not encode {} bytes", data.size()));
  QrCode code;
  code.size = qr->width;
  code.dark.resize(static_cast<std::size_t>(qr->width) * static_cast<std::size_t>(qr->width));
  // Each byte of libqrencode's matrix is one module; bit 0 says dark.
  for (std::size_t i = 0; i < code.dark.size(); ++i) code.dark[i] = (qr->data[i] & 1) != 0;
  return code;
}

std::string qr_png(const QrCode& code, int min_pixels) {
  const int modules = code.size + 2 * kQrQuietZone;
  const int scale = std::max(1, (min_pixels + modules - 1) / modules);
  const int side = modules * scale;
  std::vector<png_byte> pixels(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 255);
  for (int y = 0; y < code.size; ++y) {
    for (int x = 0; x < code.size; ++x) {
      if (!code.at(x, y)) continue;
      for (int dy = 0; dy < scale; ++dy) {
        const std::size_t row =
            static_cast<std::size_t>((y + kQrQuietZone) * scale + dy) * static_cast<std::size_t>(side);
        for (int dx = 0; dx < scale; ++dx) pixels[row + static_cast<std::size_t>((x + kQrQuietZone) * scale + dx)] = 0;
      }
    }
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  // The simplified API asks for the size first, then writes into a buffer of that size.
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr) == 0) {
    throw std::runtime_error(fmt::format("libpng: {}", image.message));
  }
  std::string png(size, '\0');
  if (png_image_write_to_memory(&image, png.data(), &size, 0, pixels.data(), 0, nullptr) == 0) {
    throw std::runtime_error(fmt::format("libpng: {}", image.message));
  }
  png.resize(size);
  return png;
}

std::string qr_svg(const QrCode& code) {
  const int side = code.size + 2 * kQrQuietZone;
  // One "M x y h1 v1 h-1 z" square per dark module, horizontal runs merged: a few KB for a URL.
  std::string path;
  for (int y = 0; y < code.size; ++y) {
    for (int x = 0; x < code.size;) {
      if (!code.at(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < code.size && code.at(x + run, y)) ++run;
      path += fmt::format("M{} {}h{}v1h-{}z", x + kQrQuietZone, y + kQrQuietZone, run, run);
      x += run;
    }
  }
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" width=\"{1}\" height=\"{1}\" "
      "shape-rendering=\"crispEdges\">"
      "<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{2}\"/></svg>\n",
      side, side * 8, path);
}

}  // namespace bandoso::http
