#pragma once
// Small geometry value types shared by every component. GEOS does the real geometry work.

#include <algorithm>
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

}  // namespace bandoso::layers
