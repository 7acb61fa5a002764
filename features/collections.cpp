#include "features/collections.hpp"

#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "layers/core/error.hpp"
#include "layers/core/geos_context.hpp"

namespace bandoso::features {

namespace {

// WKB to a GeoJSON geometry through GEOS' reader and writer.
nlohmann::json geometry_json(const std::string& wkb) {
  if (wkb.empty()) return nullptr;
  thread_local layers::GeosContext geos;
  GEOSContextHandle_t h = geos.get();
  thread_local std::unique_ptr<GEOSWKBReader, void (*)(GEOSWKBReader*)> reader(
      GEOSWKBReader_create_r(h), [](GEOSWKBReader* r) { GEOSWKBReader_destroy_r(geos.get(), r); });
  thread_local std::unique_ptr<GEOSGeoJSONWriter, void (*)(GEOSGeoJSONWriter*)> writer(
      GEOSGeoJSONWriter_create_r(h), [](GEOSGeoJSONWriter* w) { GEOSGeoJSONWriter_destroy_r(geos.get(), w); });
  GEOSGeometry* g =
      GEOSWKBReader_read_r(h, reader.get(), reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
  if (g == nullptr) throw Error(ErrorCode::storage_failure, "a stored geometry cannot be read");
  char* text = GEOSGeoJSONWriter_writeGeometry_r(h, writer.get(), g, -1);
  GEOSGeom_destroy_r(h, g);
  if (text == nullptr) throw Error(ErrorCode::internal, "a geometry cannot be written as GeoJSON");
  nlohmann::json json = nlohmann::json::parse(text);
  GEOSFree_r(h, text);
  return json;
}

nlohmann::json value_json(const layers::Value& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else {
          return v;
        }
      },
      value);
}

std::string value_text(const layers::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return "";
}

}  // namespace

std::string feature_id(const layers::LayerDef& layer, const layers::Feature& feature) {
  std::string id;
  for (const auto& key : layer.key) {
    if (!id.empty()) id += '.';
    id += value_text(feature.values[layer.attribute_index(key)]);
  }
  return id;
}

nlohmann::json feature_json(const layers::LayerDef& layer, const layers::Feature& feature, bool restricted) {
  nlohmann::json properties = nlohmann::json::object();
  for (std::size_t i = 0; i < layer.attributes.size(); ++i) {
    const auto& attribute = layer.attributes[i];
    if (attribute.access == layers::Access::restricted && !restricted) continue;
    properties[attribute.name] = value_json(feature.values[i]);
  }
  return {{"type", "Feature"},
          {"id", feature_id(layer, feature)},
          {"geometry", geometry_json(feature.wkb)},
          {"properties", std::move(properties)}};
}

layers::Value parse_value(const layers::AttributeDef& attribute, std::string_view text) {
  const auto fail = [&] {
    return BadRequestError(fmt::format("'{}' is not a valid {} for attribute '{}'", text,
                                       layers::to_string(attribute.type), attribute.name));
  };
  switch (attribute.type) {
    case layers::AttributeType::integer:
    case layers::AttributeType::boolean: {
      std::int64_t n = 0;
      if (attribute.type == layers::AttributeType::boolean && (text == "true" || text == "false")) {
        return std::int64_t{text == "true" ? 1 : 0};
      }
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (error != std::errc() || end != text.data() + text.size()) throw fail();
      return n;
    }
    case layers::AttributeType::real: {
      double d = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (error != std::errc() || end != text.data() + text.size()) throw fail();
      return d;
    }
    case layers::AttributeType::text:
    case layers::AttributeType::date:
      return std::string(text);
  }
  throw fail();
}

layers::FeatureQuery build_query(const layers::LayerDef& def, const ItemsRequest& request) {
  layers::FeatureQuery query;
  query.bbox = request.bbox;
  if (query.bbox && def.geometry == layers::GeometryType::none) {
    throw BadRequestError(fmt::format("collection '{}' has no geometry: bbox does not apply", def.name));
  }
  for (const auto& [name, text] : request.filters) {
    const auto at = std::find_if(def.attributes.begin(), def.attributes.end(),
                                 [&](const layers::AttributeDef& a) { return a.name == name; });
    if (at == def.attributes.end() || (at->access == layers::Access::restricted && !request.restricted)) {
      throw BadRequestError(fmt::format("collection '{}' has no attribute '{}' to filter on", def.name, name));
    }
    query.equals.emplace_back(name, parse_value(*at, text));
  }
  return query;
}

std::vector<layers::LayerDef> Collections::list() const { return store_.layers(); }

layers::LayerDef Collections::get(const std::string& id) const {
  auto def = store_.find_layer(id);
  if (!def) throw NotFoundError(fmt::format("no collection '{}'", id));
  return *def;
}

ItemsPage Collections::items(const std::string& id, const ItemsRequest& request) const {
  const layers::LayerDef def = get(id);
  if (request.limit > kMaxLimit) {
    throw BadRequestError(fmt::format("limit {} is over the most a page holds, {}", request.limit, kMaxLimit));
  }
  layers::FeatureQuery query = build_query(def, request);
  ItemsPage page;
  page.holds_restricted = request.restricted && def.has_restricted();
  page.matched = store_.count_matching(id, query);
  query.offset = static_cast<std::int64_t>(request.offset);
  query.limit = static_cast<std::int64_t>(request.limit);
  store_.select(id, query, def.geometry != layers::GeometryType::none, [&](const layers::Feature& f) {
    page.features.push_back(feature_json(def, f, request.restricted));
    page.ids.push_back(page.features.back()["id"]);
    return true;
  });
  return page;
}

std::optional<nlohmann::json> Collections::item(const std::string& id, const std::string& wanted,
                                                bool restricted) const {
  const layers::LayerDef def = get(id);
  // The id is the key's values joined with '.': as many parts as the key has attributes.
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dot = def.key.size() == 1 ? std::string::npos : wanted.find('.', start);
    parts.push_back(wanted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() != def.key.size()) return std::nullopt;
  layers::FeatureQuery query;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& attribute = def.attributes[def.attribute_index(def.key[i])];
    try {
      query.equals.emplace_back(attribute.name, parse_value(attribute, parts[i]));
    } catch (const BadRequestError&) {
      return std::nullopt;  // no feature can have this id
    }
  }
  query.limit = 1;
  std::optional<nlohmann::json> found;
  store_.select(id, query, def.geometry != layers::GeometryType::none, [&](const layers::Feature& f) {
    found = feature_json(def, f, restricted);
    return false;
  });
  return found;
}

}  // namespace bandoso::features
