#include "layers/core/plus_code.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>

#include "layers/core/error.hpp"

namespace bandoso::layers {

namespace {

constexpr std::string_view kAlphabet = "23456789CFGHJMPQRVWX";
constexpr char kSeparator = '+';
constexpr char kPadding = '0';
constexpr std::size_t kSeparatorPosition = 8;
constexpr int kPairDigits = 10;  // digits encoded as lat/lon pairs
constexpr int kMaxDigits = 15;
constexpr int kGridRows = 5;     // latitude divisions per grid digit
constexpr int kGridColumns = 4;  // longitude divisions per grid digit

// Integer units per degree at 15 digits: everything is computed in integers so that cell boundaries
// do not depend on floating-point rounding (the specification recommends this).
constexpr std::int64_t kLatUnitsPerDegree = 8000LL * 5 * 5 * 5 * 5 * 5;  // 25,000,000
constexpr std::int64_t kLonUnitsPerDegree = 8000LL * 4 * 4 * 4 * 4 * 4;  // 8,192,000
constexpr std::int64_t kLatSpan = 180 * kLatUnitsPerDegree;
constexpr std::int64_t kLonSpan = 360 * kLonUnitsPerDegree;

int digit_value(char c) {
  const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  const auto pos = kAlphabet.find(upper);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Degrees to integer units; the intermediate rounding to 1e-6 units absorbs products such as
// 18.670625 * 25e6 = 466765624.99999994 that should land exactly on a cell edge.
std::int64_t to_units(double degrees, std::int64_t units_per_degree) {
  const double scaled = degrees * static_cast<double>(units_per_degree);
  return static_cast<std::int64_t>(std::floor(std::round(scaled * 1e6) / 1e6));
}

bool is_valid_code(std::string_view code) {
  if (code.size() < 2) return false;
  const auto separator = code.find(kSeparator);
  if (separator == std::string_view::npos || code.find(kSeparator, separator + 1) != std::string_view::npos)
    return false;
  if (separator > kSeparatorPosition || separator % 2 == 1) return false;
  // One digit after the separator is not a valid refinement.
  if (code.size() - separator - 1 == 1) return false;

  const auto padding = code.find(kPadding);
  if (padding != std::string_view::npos) {
    if (separator < kSeparatorPosition) return false;  // short codes are never padded
    if (padding == 0 || padding % 2 == 1) return false;
    for (std::size_t i = padding; i < separator; ++i) {
      if (code[i] != kPadding) return false;
    }
    if (separator != code.size() - 1) return false;  // nothing may follow padding
  }
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (i == separator) continue;
    if (padding != std::string_view::npos && i >= padding && i < separator) continue;
    if (digit_value(code[i]) < 0) return false;
  }
  return true;
}

}  // namespace

double PlusCodeArea::center_lat() const { return std::min(south + (north - south) / 2.0, 90.0); }
double PlusCodeArea::center_lon() const { return std::min(west + (east - west) / 2.0, 180.0); }

std::string encode_plus_code(double lat, double lon, int code_length) {
  if (code_length < 2 || (code_length < kPairDigits && code_length % 2 == 1)) {
    throw BadRequestError(fmt::format("plus code length {} is not 2, 4, 6, 8, 10 or 11-15", code_length));
  }
  if (!std::isfinite(lat) || !std::isfinite(lon)) throw BadRequestError("plus code of a non-finite coordinate");
  code_length = std::min(code_length, kMaxDigits);

  lat = std::clamp(lat, -90.0, 90.0);
  std::int64_t lat_units = to_units(lat, kLatUnitsPerDegree) + 90 * kLatUnitsPerDegree;
  // The north pole belongs to the topmost cell.
  lat_units = std::clamp<std::int64_t>(lat_units, 0, kLatSpan - 1);
  std::int64_t lon_units = (to_units(lon, kLonUnitsPerDegree) + 180 * kLonUnitsPerDegree) % kLonSpan;
  if (lon_units < 0) lon_units += kLonSpan;

  std::array<char, kMaxDigits> digits{};
  for (int i = kMaxDigits - 1; i >= kPairDigits; --i) {
    const auto row = lat_units % kGridRows;
    const auto column = lon_units % kGridColumns;
    digits[static_cast<std::size_t>(i)] = kAlphabet[static_cast<std::size_t>(row * kGridColumns + column)];
    lat_units /= kGridRows;
    lon_units /= kGridColumns;
  }
  for (int i = kPairDigits - 2; i >= 0; i -= 2) {
    digits[static_cast<std::size_t>(i)] = kAlphabet[static_cast<std::size_t>(lat_units % 20)];
    digits[static_cast<std::size_t>(i + 1)] = kAlphabet[static_cast<std::size_t>(lon_units % 20)];
    lat_units /= 20;
    lon_units /= 20;
  }

  std::string code;
  code.reserve(static_cast<std::size_t>(kMaxDigits) + 1);
  const auto length = static_cast<std::size_t>(code_length);
  for (std::size_t i = 0; i < kSeparatorPosition; ++i) code.push_back(i < length ? digits[i] : kPadding);
  code.push_back(kSeparator);
  for (std::size_t i = kSeparatorPosition; i < length; ++i) code.push_back(digits[i]);
  return code;
}

bool is_full_plus_code(std::string_view code) {
  if (!is_valid_code(code)) return false;
  if (code.find(kSeparator) != kSeparatorPosition) return false;
  // The first pair must stay within 180° of latitude and 360° of longitude.
  return digit_value(code[0]) * 20 < 180 && digit_value(code[1]) * 20 < 360;
}

PlusCodeArea decode_plus_code(std::string_view code) {
  if (!is_full_plus_code(code)) {
    throw BadRequestError(fmt::format("'{}' is not a full plus code", code));
  }
  std::string digits;
  for (char c : code) {
    if (c != kSeparator && c != kPadding) digits.push_back(c);
  }
  if (digits.size() > static_cast<std::size_t>(kMaxDigits)) digits.resize(static_cast<std::size_t>(kMaxDigits));

  std::int64_t lat_units = 0, lon_units = 0;
  std::int64_t lat_place = 20 * kLatUnitsPerDegree, lon_place = 20 * kLonUnitsPerDegree;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const int value = digit_value(digits[i]);
    if (i < static_cast<std::size_t>(kPairDigits)) {
      if (i % 2 == 0) {
        if (i > 0) lat_place /= 20;
        lat_units += value * lat_place;
      } else {
        if (i > 1) lon_place /= 20;
        lon_units += value * lon_place;
      }
    } else {
      lat_place /= kGridRows;
      lon_place /= kGridColumns;
      lat_units += (value / kGridColumns) * lat_place;
      lon_units += (value % kGridColumns) * lon_place;
    }
  }
  // Shift in integers, then one division: each edge is the double nearest the exact value, so a
  // coordinate typed as that decimal lies on the edge, not a rounding error beside it.
  lat_units -= 90 * kLatUnitsPerDegree;
  lon_units -= 180 * kLonUnitsPerDegree;
  PlusCodeArea area;
  area.south = static_cast<double>(lat_units) / kLatUnitsPerDegree;
  area.west = static_cast<double>(lon_units) / kLonUnitsPerDegree;
  area.north = static_cast<double>(lat_units + lat_place) / kLatUnitsPerDegree;
  area.east = static_cast<double>(lon_units + lon_place) / kLonUnitsPerDegree;
  return area;
}

}  // namespace bandoso::layers
