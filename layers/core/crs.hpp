#pragma once
// VN-2000 coordinate systems and coordinate transformation (PROJ).
//
// Two sign conventions of the VN-2000 → WGS84 Helmert rotations are in use and differ by ~0.7 m in
// Nghệ An. Vietnamese data is mostly produced with `vn_common` (rotations -0.00928836, 0.01975479,
// -0.00427372); EPSG:6960 (and so PROJ's EPSG:9208) carries the flipped signs (`epsg`).

#include <memory>
#include <string>
#include <string_view>

namespace bandoso::layers {

enum class HelmertConvention { vn_common, epsg };

HelmertConvention parse_helmert_convention(std::string_view name);  // "vn-common" | "epsg"
std::string_view to_string(HelmertConvention convention);

// Nghệ An's cadastral zone: TM-3, central meridian 104°45′.
inline constexpr double kNgheAnCentralMeridian = 104.75;

// "+towgs84=..." parameters (7 values) of VN-2000 in the given convention.
std::string vn2000_towgs84(HelmertConvention convention);

// PROJ string of VN-2000 / TM-3 with the given central meridian (k=0.9999, x0=500000).
std::string vn2000_tm3_proj(double central_meridian_deg, HelmertConvention convention);

// PROJ string of VN-2000 / UTM zone 48 or 49 (k=0.9996).
std::string vn2000_utm_proj(int zone, HelmertConvention convention);

// Transforms x/y between two CRSs given as anything PROJ understands ("EPSG:4326", a PROJ string,
// WKT). Longitude/latitude order is always x = longitude. Not thread-safe: one per thread.
class Transformer {
 public:
  Transformer(std::string_view source_crs, std::string_view target_crs);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;
  Transformer(Transformer&&) noexcept;
  Transformer& operator=(Transformer&&) noexcept;

  // Transforms in place; throws InputError when the point cannot be transformed.
  void transform(double& x, double& y) const;
  void inverse(double& x, double& y) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bandoso::layers
