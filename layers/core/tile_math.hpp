#pragma once
// XYZ tile maths in the Web Mercator (EPSG:3857) GoogleMapsCompatible tiling.

#include <cstdint>
#include <string_view>

#include "layers/core/geometry.hpp"

namespace bandoso::layers {

inline constexpr int kMaxZoom = 22;
inline constexpr double kWebMercatorHalfWorld = 20037508.342789244;

struct TileId {
  int z = 0;
  std::uint32_t x = 0;
  std::uint32_t y = 0;
  friend bool operator==(const TileId&, const TileId&) = default;
};

// Throws BadRequestError naming the bad part when z is outside 0..kMaxZoom or x/y outside 0..2^z-1.
void check_tile(const TileId& tile);

// Parses "12", "3391" style decimal tile coordinates; throws BadRequestError naming `what`.
std::uint32_t parse_tile_number(std::string_view text, std::string_view what);

BBox tile_bounds_mercator(const TileId& tile);
BBox tile_bounds_lonlat(const TileId& tile);

// The tile at zoom z that contains (lon, lat).
TileId tile_at(double lon, double lat, int z);

void lonlat_to_mercator(double lon, double lat, double& x, double& y);

}  // namespace bandoso::layers
