#include "layers/core/tile_math.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "layers/core/error.hpp"

namespace bandoso::layers {

void check_tile(const TileId& tile) {
  if (tile.z < 0 || tile.z > kMaxZoom) throw BadRequestError(fmt::format("zoom {} is outside 0..{}", tile.z, kMaxZoom));
  const std::uint64_t count = std::uint64_t{1} << tile.z;
  if (tile.x >= count)
    throw BadRequestError(fmt::format("x {} is outside 0..{} at zoom {}", tile.x, count - 1, tile.z));
  if (tile.y >= count)
    throw BadRequestError(fmt::format("y {} is outside 0..{} at zoom {}", tile.y, count - 1, tile.z));
}

std::uint32_t parse_tile_number(std::string_view text, std::string_view what) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.size() > 9 || ec != std::errc{} || ptr != end) {
    throw BadRequestError(fmt::format("{} '{}' is not a tile number", what, text));
  }
  return value;
}

BBox tile_bounds_mercator(const TileId& tile) {
  const double size = 2 * kWebMercatorHalfWorld / static_cast<double>(std::uint64_t{1} << tile.z);
  BBox b;
  b.west = -kWebMercatorHalfWorld + tile.x * size;
  b.east = b.west + size;
  b.north = kWebMercatorHalfWorld - tile.y * size;
  b.south = b.north - size;
  return b;
}

namespace {
double mercator_y_to_lat(double y) {
  return (2 * std::atan(std::exp(y / 6378137.0)) - std::numbers::pi / 2) * 180.0 / std::numbers::pi;
}
}  // namespace

BBox tile_bounds_lonlat(const TileId& tile) {
  const BBox m = tile_bounds_mercator(tile);
  const double to_deg = 180.0 / kWebMercatorHalfWorld;
  return BBox{m.west * to_deg, mercator_y_to_lat(m.south), m.east * to_deg, mercator_y_to_lat(m.north)};
}

void lonlat_to_mercator(double lon, double lat, double& x, double& y) {
  x = lon * kWebMercatorHalfWorld / 180.0;
  y = std::log(std::tan((90.0 + lat) * std::numbers::pi / 360.0)) * 6378137.0;
}

TileId tile_at(double lon, double lat, int z) {
  double x = 0, y = 0;
  lonlat_to_mercator(lon, lat, x, y);
  const double n = static_cast<double>(std::uint64_t{1} << z);
  const auto clamp = [n](double v) { return static_cast<std::uint32_t>(std::clamp(std::floor(v), 0.0, n - 1)); };
  return TileId{z, clamp((x + kWebMercatorHalfWorld) / (2 * kWebMercatorHalfWorld) * n),
                clamp((kWebMercatorHalfWorld - y) / (2 * kWebMercatorHalfWorld) * n)};
}

}  // namespace bandoso::layers
