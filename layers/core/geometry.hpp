#pragma once
// Small geometry value types shared by every component. GEOS does the real geometry work.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace bandoso::layers {

struct BBox {
  double west = std::numeric_limits<double>::infinity();
  double south = std::numeric_limits<double>::infinity();
  double east = -std::numeric_limits<double>::infinity();
  double north = -std::numeric_limits<double>::infinity();

  [[nodiscard]] bool empty() const { return west > east || south > north; }
  void expand(double x, double y) {
    west = std::min(west, x);
    east = std::max(east, x);
    south = std::min(south, y);
    north = std::max(north, y);
  }
  void expand(const BBox& other) {
    if (other.empty()) return;
    expand(other.west, other.south);
    expand(other.east, other.north);
  }
  [[nodiscard]] bool intersects(const BBox& o) const {
    return !empty() && !o.empty() && west <= o.east && o.west <= east && south <= o.north && o.south <= north;
  }
  [[nodiscard]] bool contains(double x, double y) const { return x >= west && x <= east && y >= south && y <= north; }
};

// Nghệ An with a margin: features outside it are refused by the import.
inline constexpr BBox kNgheAnExtent{103.80, 18.50, 106.00, 20.10};

// Great-circle distance in metres between two lon/lat points (haversine, mean Earth radius): metres-
// level accuracy for the distances a geocoder compares.
inline double distance_m(double lon1, double lat1, double lon2, double lat2) {
  constexpr double kRadius = 6371008.8;
  constexpr double kRad = 3.14159265358979323846 / 180;
  const double dlat = (lat2 - lat1) * kRad;
  const double dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kRadius * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace bandoso::layers
