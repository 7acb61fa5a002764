#pragma once
// What is at a point, for a planner clicking the map: the parcel containing it, the nearest address
// within a radius, the 2025 commune containing it and its former commune (from the old communes'
// polygons where imported, else from the parcel's or the address's former commune code).

#include <optional>

#include <nlohmann/json.hpp>

#include "layers/core/store.hpp"

namespace bandoso::features {

struct Identification {
  std::optional<nlohmann::json> parcel;          // GeoJSON Feature
  std::optional<nlohmann::json> address;         // GeoJSON Feature, with "distance_m" among its properties
  std::optional<nlohmann::json> commune;         // GeoJSON Feature without geometry (outlines are large)
  std::optional<nlohmann::json> former_commune;  // {"code", "name", "district"}
  std::vector<std::string> restricted_ids;       // "layer:id" of answers holding restricted attributes
};

// Throws BadRequestError for coordinates that are not a point on Earth. `restricted`: the caller may
// see restricted attributes. Layers the store lacks are skipped.
Identification identify(const layers::Store& store, double lon, double lat, bool restricted, double radius_m = 50);

}  // namespace bandoso::features
