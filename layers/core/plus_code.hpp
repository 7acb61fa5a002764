#pragma once
// Open Location Code ("plus code"), after the public OLC specification: 20-letter alphabet, pairs of
// latitude/longitude digits down to 1/8000° (10 digits), then a 4×5 grid refinement per extra digit.

#include <string>
#include <string_view>

namespace bandoso::layers {

// The cell a code denotes, in degrees (WGS84).
struct PlusCodeArea {
  double south = 0;
  double west = 0;
  double north = 0;
  double east = 0;
  [[nodiscard]] double center_lat() const;
  [[nodiscard]] double center_lon() const;
};

// Encodes (lat, lon) as a full code of `code_length` digits: 2, 4, 6, 8, 10 or 11–15 (longer is cut to 15);
// codes under 8 digits are padded with '0' ("7P000000+"). Throws BadRequestError on other lengths.
// Latitude is clipped to [-90, 90], longitude wrapped to [-180, 180).
std::string encode_plus_code(double lat, double lon, int code_length = 10);

// True for a syntactically valid full code (not a short code such as "MMC5+6M"); case-insensitive.
bool is_full_plus_code(std::string_view code);

// Decodes a full code; throws BadRequestError for invalid or short codes.
PlusCodeArea decode_plus_code(std::string_view code);

}  // namespace bandoso::layers
