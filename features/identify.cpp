#include "features/identify.hpp"

#include <fmt/format.h>

#include <cmath>

#include "features/collections.hpp"
#include "layers/core/error.hpp"
#include "layers/core/geometry.hpp"
#include "layers/core/geos_context.hpp"

namespace bandoso::features {

namespace {

// The features of `layer` whose geometry contains the point (GEOS, on the candidates of the index).
std::optional<layers::Feature> containing(const layers::Store& store, const layers::LayerDef& layer, double lon,
                                          double lat) {
  layers::GeosContext geos;
  GEOSContextHandle_t h = geos.get();
  GEOSWKBReader* reader = GEOSWKBReader_create_r(h);
  GEOSGeometry* point = GEOSGeom_createPointFromXY_r(h, lon, lat);
  std::optional<layers::Feature> found;
  layers::FeatureQuery query;
  query.bbox = layers::BBox{lon, lat, lon, lat};
  store.select(layer.name, query, true, [&](const layers::Feature& f) {
    GEOSGeometry* g =
        GEOSWKBReader_read_r(h, reader, reinterpret_cast<const unsigned char*>(f.wkb.data()), f.wkb.size());
    const bool inside = g != nullptr && GEOSCovers_r(h, g, point) == 1;
    if (g != nullptr) GEOSGeom_destroy_r(h, g);
    if (inside) found = f;
    return !inside;
  });
  GEOSGeom_destroy_r(h, point);
  GEOSWKBReader_destroy_r(h, reader);
  return found;
}

std::optional<std::pair<layers::Feature, double>> nearest_point(const layers::Store& store,
                                                                const layers::LayerDef& layer, double lon, double lat,
                                                                double radius_m) {
  // Degrees that hold the radius at this latitude (a box the index can cut by).
  const double dlat = radius_m / 111320.0;
  const double dlon = dlat / std::max(0.01, std::cos(lat * M_PI / 180.0));
  layers::FeatureQuery query;
  query.bbox = layers::BBox{lon - dlon, lat - dlat, lon + dlon, lat + dlat};
  layers::GeosContext geos;
  GEOSContextHandle_t h = geos.get();
  GEOSWKBReader* reader = GEOSWKBReader_create_r(h);
  std::optional<std::pair<layers::Feature, double>> best;
  store.select(layer.name, query, true, [&](const layers::Feature& f) {
    GEOSGeometry* g =
        GEOSWKBReader_read_r(h, reader, reinterpret_cast<const unsigned char*>(f.wkb.data()), f.wkb.size());
    double x = 0, y = 0;
    if (g != nullptr && GEOSGeomGetX_r(h, g, &x) == 1 && GEOSGeomGetY_r(h, g, &y) == 1) {
      const double d = layers::distance_m(lon, lat, x, y);
      if (d <= radius_m && (!best || d < best->second)) best.emplace(f, d);
    }
    if (g != nullptr) GEOSGeom_destroy_r(h, g);
    return true;
  });
  GEOSWKBReader_destroy_r(h, reader);
  return best;
}

std::string text_of(const layers::LayerDef& layer, const layers::Feature& f, const std::string& attribute) {
  const auto& v = f.values[layer.attribute_index(attribute)];
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : std::string();
}

}  // namespace

Identification identify(const layers::Store& store, double lon, double lat, bool restricted, double radius_m) {
  if (!std::isfinite(lon) || !std::isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    throw BadRequestError(fmt::format("({}, {}) is not a longitude and latitude", lon, lat));
  }
  Identification result;
  std::string former_code;
  if (const auto parcels = store.find_layer("parcels")) {
    if (const auto f = containing(store, *parcels, lon, lat)) {
      result.parcel = feature_json(*parcels, *f, restricted);
      former_code = text_of(*parcels, *f, "old_commune_code");
      if (restricted && parcels->has_restricted())
        result.restricted_ids.push_back("parcels:" + feature_id(*parcels, *f));
    }
  }
  if (const auto addresses = store.find_layer("addresses")) {
    if (const auto hit = nearest_point(store, *addresses, lon, lat, radius_m)) {
      nlohmann::json feature = feature_json(*addresses, hit->first, restricted);
      feature["properties"]["distance_m"] = std::round(hit->second * 10) / 10;
      result.address = std::move(feature);
      if (former_code.empty()) former_code = text_of(*addresses, hit->first, "old_commune_code");
      if (restricted && addresses->has_restricted()) {
        result.restricted_ids.push_back("addresses:" + feature_id(*addresses, hit->first));
      }
    }
  }
  if (const auto communes = store.find_layer("communes")) {
    if (const auto f = containing(store, *communes, lon, lat)) {
      nlohmann::json feature = feature_json(*communes, layers::Feature{f->values, {}}, restricted);
      result.commune = std::move(feature);
    }
  }
  // The former commune: its polygon where the old communes were imported with geometry.
  const auto old_communes = store.find_layer("old_communes");
  if (old_communes && old_communes->geometry != layers::GeometryType::none) {
    if (const auto f = containing(store, *old_communes, lon, lat)) {
      result.former_commune = nlohmann::json{{"code", text_of(*old_communes, *f, "code")},
                                             {"name", text_of(*old_communes, *f, "full_name")},
                                             {"district", text_of(*old_communes, *f, "district_name")}};
    }
  }
  if (!result.former_commune && !former_code.empty()) {
    if (const auto mapping = store.find_layer("commune_mapping")) {
      layers::FeatureQuery query;
      query.equals = {{"old_code", layers::Value(former_code)}};
      query.limit = 1;
      store.select(mapping->name, query, false, [&](const layers::Feature& f) {
        result.former_commune = nlohmann::json{{"code", former_code},
                                               {"name", text_of(*mapping, f, "old_name")},
                                               {"district", text_of(*mapping, f, "old_district_name")}};
        return false;
      });
    }
  }
  return result;
}

}  // namespace bandoso::features
