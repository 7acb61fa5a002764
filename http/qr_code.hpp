#pragma once
// QR codes of short texts (the citizen page's URL) as PNG and SVG: libqrencode makes the modules, libpng
// writes the image. Nothing here knows HTTP.

#include <string>
#include <string_view>
#include <vector>

namespace bandoso::http {

// The modules of one QR code, row by row; true is dark. No quiet zone.
struct QrCode {
  int size = 0;  // modules per side
  std::vector<bool> dark;

  [[nodiscard]] bool at(int x, int y) const { return dark[static_cast<std::size_t>(y * size + x)]; }
};

// Byte mode, error correction level M (readable with a little damage or glare on a printed card).
// Throws std::runtime_error when libqrencode fails (the text is too long for any version).
QrCode encode_qr(std::string_view text);

// The quiet zone the QR specification asks for around the symbol, in modules.
inline constexpr int kQrQuietZone = 4;

// A grayscale PNG at the smallest whole number of pixels per module that makes it at least `min_pixels`
// wide, quiet zone included.
std::string qr_png(const QrCode& code, int min_pixels = 200);

// An SVG with one <path> of the dark modules on a white background, one user unit per module; it scales
// to any size without blurring.
std::string qr_svg(const QrCode& code);

}  // namespace bandoso::http
