#include "layers/core/crs.hpp"

#include <proj.h>

#include <cmath>
#include <fmt/format.h>

#include "layers/core/error.hpp"

namespace bandoso::layers {

namespace {
// Shifts, rotations (arc-seconds) and scale (ppm) of VN-2000 → WGS84, from EPSG:6960.
constexpr double kShiftX = -191.90441429, kShiftY = -39.30318279, kShiftZ = -111.45032835;
constexpr double kRotX = -0.00928836, kRotY = 0.01975479, kRotZ = -0.00427372;
constexpr double kScalePpm = 0.252906278;
}  // namespace

HelmertConvention parse_helmert_convention(std::string_view name) {
  if (name == "vn-common") return HelmertConvention::vn_common;
  if (name == "epsg") return HelmertConvention::epsg;
  throw BadRequestError(fmt::format("unknown Helmert convention '{}' (expected vn-common or epsg)", name));
}

std::string_view to_string(HelmertConvention convention) {
  return convention == HelmertConvention::vn_common ? "vn-common" : "epsg";
}

std::string vn2000_towgs84(HelmertConvention convention) {
  const double sign = convention == HelmertConvention::vn_common ? 1.0 : -1.0;
  return fmt::format("{:.8f},{:.8f},{:.8f},{:.8f},{:.8f},{:.8f},{:.9f}", kShiftX, kShiftY, kShiftZ, sign * kRotX,
                     sign * kRotY, sign * kRotZ, kScalePpm);
}

std::string vn2000_tm3_proj(double central_meridian_deg, HelmertConvention convention) {
  return fmt::format(
      "+proj=tmerc +lat_0=0 +lon_0={} +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +towgs84={} +units=m +no_defs",
      central_meridian_deg, vn2000_towgs84(convention));
}

std::string vn2000_utm_proj(int zone, HelmertConvention convention) {
  if (zone != 48 && zone != 49) throw BadRequestError(fmt::format("VN-2000 UTM zone must be 48 or 49, not {}", zone));
  return fmt::format("+proj=utm +zone={} +ellps=WGS84 +towgs84={} +units=m +no_defs", zone, vn2000_towgs84(convention));
}

struct Transformer::Impl {
  PJ_CONTEXT* context = nullptr;
  PJ* transformation = nullptr;
  ~Impl() {
    if (transformation != nullptr) proj_destroy(transformation);
    if (context != nullptr) proj_context_destroy(context);
  }
};

Transformer::Transformer(std::string_view source_crs, std::string_view target_crs) : impl_(std::make_unique<Impl>()) {
  impl_->context = proj_context_create();
  const std::string source(source_crs), target(target_crs);
  PJ* raw = proj_create_crs_to_crs(impl_->context, source.c_str(), target.c_str(), nullptr);
  if (raw == nullptr) {
    throw InputError(fmt::format("cannot transform from '{}' to '{}': {}", source, target,
                                 proj_context_errno_string(impl_->context, proj_context_errno(impl_->context))));
  }
  // Always x = longitude, whatever axis order the CRS definitions declare.
  impl_->transformation = proj_normalize_for_visualization(impl_->context, raw);
  proj_destroy(raw);
  if (impl_->transformation == nullptr) throw InputError(fmt::format("cannot normalise axis order of '{}'", source));
}

Transformer::~Transformer() = default;
Transformer::Transformer(Transformer&&) noexcept = default;
Transformer& Transformer::operator=(Transformer&&) noexcept = default;

namespace {
void apply(PJ* transformation, PJ_DIRECTION direction, double& x, double& y) {
  PJ_COORD c = proj_coord(x, y, 0, 0);
  c = proj_trans(transformation, direction, c);
  if (!std::isfinite(c.xy.x) || !std::isfinite(c.xy.y) || c.xy.x == HUGE_VAL) {
    throw InputError(fmt::format("coordinate ({}, {}) cannot be transformed", x, y));
  }
  x = c.xy.x;
  y = c.xy.y;
}
}  // namespace

void Transformer::transform(double& x, double& y) const { apply(impl_->transformation, PJ_FWD, x, y); }
void Transformer::inverse(double& x, double& y) const { apply(impl_->transformation, PJ_INV, x, y); }

}  // namespace bandoso::layers
