#pragma once
// The store's layers as OGC API - Features collections: their items as GeoJSON features, selected by
// bbox and attribute equality and paged, and one item by its key. Restricted attributes (owner
// names) are left out unless the caller may see them. No HTTP here: the front adds the links.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/core/store.hpp"

namespace bandoso::features {

inline constexpr std::size_t kDefaultLimit = 10;
inline constexpr std::size_t kMaxLimit = 1000;

struct ItemsRequest {
  std::optional<layers::BBox> bbox;                          // EPSG:4326 (CRS84)
  std::vector<std::pair<std::string, std::string>> filters;  // attribute = value, as written in the URL
  std::size_t limit = kDefaultLimit;
  std::size_t offset = 0;
  bool restricted = false;  // the caller may see restricted attributes
};

struct ItemsPage {
  std::vector<nlohmann::json> features;  // GeoJSON Feature objects
  std::vector<std::string> ids;          // their ids, in the same order
  std::int64_t matched = 0;              // all features matching, over every page
  bool holds_restricted = false;         // the features carry restricted attributes (to be traced)
};

// A feature's id: its key values joined with '.', e.g. "16681.21.222" for a parcel.
std::string feature_id(const layers::LayerDef& layer, const layers::Feature& feature);

// A GeoJSON Feature: id, geometry (null without one) and the attributes the caller may see.
nlohmann::json feature_json(const layers::LayerDef& layer, const layers::Feature& feature, bool restricted);

// An attribute's value from its text in a URL, by the attribute's type. Throws BadRequestError.
layers::Value parse_value(const layers::AttributeDef& attribute, std::string_view text);

// The store query for a request on a layer: bbox and typed equality filters (offset and limit not set).
// Throws BadRequestError for an unknown or (for the public) restricted attribute, a bad value, or a
// bbox on a layer without geometry.
layers::FeatureQuery build_query(const layers::LayerDef& layer, const ItemsRequest& request);

class Collections {
 public:
  explicit Collections(const layers::Store& store) : store_(store) {}

  [[nodiscard]] std::vector<layers::LayerDef> list() const;
  // Throws NotFoundError for an unknown collection.
  [[nodiscard]] layers::LayerDef get(const std::string& id) const;
  // Throws NotFoundError (collection) or BadRequestError (unknown or restricted attribute, bad value,
  // limit over kMaxLimit).
  [[nodiscard]] ItemsPage items(const std::string& id, const ItemsRequest& request) const;
  // nullopt when no feature has this id.
  [[nodiscard]] std::optional<nlohmann::json> item(const std::string& id, const std::string& feature_id,
                                                   bool restricted) const;

 private:
  const layers::Store& store_;
};

}  // namespace bandoso::features
