#include "layers/core/catalogue.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "layers/core/error.hpp"
#include "layers/core/yaml_reader.hpp"

namespace bandoso::layers {

namespace {

template <typename Enum, std::size_t N>
Enum parse_enum(const std::array<std::pair<std::string_view, Enum>, N>& names, const std::string& text,
                const std::string& origin, const std::string& key) {
  for (const auto& [name, value] : names) {
    if (name == text) return value;
  }
  std::string expected;
  for (const auto& [name, value] : names) expected += (expected.empty() ? "" : ", ") + std::string(name);
  throw ConfigError(origin, key, fmt::format("unknown value '{}' (expected one of: {})", text, expected));
}

template <typename Enum, std::size_t N>
std::string_view enum_name(const std::array<std::pair<std::string_view, Enum>, N>& names, Enum value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

constexpr std::array<std::pair<std::string_view, AttributeType>, 5> kAttributeTypes{{
    {"text", AttributeType::text},
    {"integer", AttributeType::integer},
    {"real", AttributeType::real},
    {"date", AttributeType::date},
    {"boolean", AttributeType::boolean},
}};
constexpr std::array<std::pair<std::string_view, GeometryType>, 7> kGeometryTypes{{
    {"none", GeometryType::none},
    {"point", GeometryType::point},
    {"linestring", GeometryType::linestring},
    {"polygon", GeometryType::polygon},
    {"multipoint", GeometryType::multipoint},
    {"multilinestring", GeometryType::multilinestring},
    {"multipolygon", GeometryType::multipolygon},
}};
constexpr std::array<std::pair<std::string_view, Access>, 2> kAccess{{
    {"public", Access::public_access},
    {"restricted", Access::restricted},
}};

// Names that would collide with the store's own tables or with SQLite/Spatialite internals.
bool reserved_name(const std::string& name) {
  static const std::set<std::string> reserved{"meta", "layers", "import_log", "schema_version", "change_log"};
  return reserved.contains(name) || name.starts_with("sqlite_") || name.starts_with("idx_") ||
         name.starts_with("spatial") || name.starts_with("geometry_") || name.starts_with("geom_") ||
         name.starts_with("views_") || name.starts_with("virts_") || name.starts_with("vector_") ||
         name.starts_with("sql_") || name.starts_with("data_licenses");
}

using Reader = YamlReader;

void check_colour(const Reader& r, const std::string& value, const std::string& key) {
  const bool colour =
      value.size() == 7 && value[0] == '#' &&
      std::all_of(value.begin() + 1, value.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
  if (!value.empty() && !colour) {
    throw ConfigError(r.origin(), key, fmt::format("'{}' is not a colour of the form #rrggbb", value));
  }
}

StyleDef parse_style(const Reader& r, const YAML::Node& node) {
  StyleDef style;
  if (!node) return style;
  r.only_keys(node, "style",
              {"fill", "fill_opacity", "stroke", "stroke_width", "point_size", "label", "label_min_zoom"});
  style.fill = r.text(node, "style", "fill", false);
  style.stroke = r.text(node, "style", "stroke", false);
  check_colour(r, style.fill, "style.fill");
  check_colour(r, style.stroke, "style.stroke");
  style.fill_opacity = r.number<double>(node, "style", "fill_opacity", style.fill_opacity);
  style.stroke_width = r.number<double>(node, "style", "stroke_width", style.stroke_width);
  style.point_size = r.number<double>(node, "style", "point_size", style.point_size);
  style.label = r.text(node, "style", "label", false);
  style.label_min_zoom = r.number<int>(node, "style", "label_min_zoom", style.label_min_zoom);
  return style;
}

}  // namespace

bool valid_identifier(std::string_view name) {
  // [a-z][a-z0-9_]{0,62}, checked by hand: GCC 12's <regex> trips -Wmaybe-uninitialized under the sanitizers.
  const auto tail_ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; };
  return !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z' &&
         std::all_of(name.begin() + 1, name.end(), tail_ok);
}

std::string_view to_string(AttributeType type) { return enum_name(kAttributeTypes, type); }
std::string_view to_string(GeometryType type) { return enum_name(kGeometryTypes, type); }
std::string_view to_string(Access access) { return enum_name(kAccess, access); }

const AttributeDef* LayerDef::find_attribute(std::string_view attribute) const {
  const auto it =
      std::find_if(attributes.begin(), attributes.end(), [&](const auto& a) { return a.name == attribute; });
  return it == attributes.end() ? nullptr : &*it;
}

bool LayerDef::has_restricted() const {
  return std::any_of(attributes.begin(), attributes.end(),
                     [](const AttributeDef& a) { return a.access == Access::restricted; });
}

std::size_t LayerDef::attribute_index(std::string_view attribute) const {
  const AttributeDef* found = find_attribute(attribute);
  if (found == nullptr) throw NotFoundError(fmt::format("layer '{}' has no attribute '{}'", name, attribute));
  return static_cast<std::size_t>(found - attributes.data());
}

std::vector<std::string> LayerDef::public_attributes() const {
  std::vector<std::string> names;
  for (const auto& a : attributes) {
    if (a.access == Access::public_access) names.push_back(a.name);
  }
  return names;
}

LayerDef parse_layer_definition(std::string_view yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin, "", fmt::format("not valid YAML (line {}): {}", e.mark.line + 1, e.msg));
  }
  const Reader r(origin);
  r.only_keys(root, "", {"name", "title", "title_en", "description", "geometry", "key", "zoom", "attributes", "style"});

  LayerDef layer;
  layer.origin = origin;
  layer.name = r.text(root, "", "name", true);
  if (!valid_identifier(layer.name)) {
    throw ConfigError(
        origin, "name",
        fmt::format("'{}' must be lower-case letters, digits and _ (starting with a letter)", layer.name));
  }
  if (reserved_name(layer.name))
    throw ConfigError(origin, "name", fmt::format("'{}' is reserved by the store", layer.name));
  layer.title = r.text(root, "", "title", true);
  layer.title_en = r.text(root, "", "title_en", false, layer.title);
  layer.description = r.text(root, "", "description", false);
  layer.geometry = parse_enum(kGeometryTypes, r.text(root, "", "geometry", true), origin, "geometry");

  const YAML::Node attributes = root["attributes"];
  if (!attributes || !attributes.IsSequence() || attributes.size() == 0) {
    throw ConfigError(origin, "attributes", "expected a non-empty list of attributes");
  }
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    const std::string path = fmt::format("attributes[{}]", i);
    const YAML::Node node = attributes[i];
    r.only_keys(node, path, {"name", "type", "required", "access", "title"});
    AttributeDef a;
    a.name = r.text(node, path, "name", true);
    if (!valid_identifier(a.name) || a.name == "geom" || a.name == "fid") {
      throw ConfigError(origin, path + ".name", fmt::format("'{}' is not a usable attribute name", a.name));
    }
    if (layer.find_attribute(a.name) != nullptr) {
      throw ConfigError(origin, path + ".name", fmt::format("attribute '{}' is defined twice", a.name));
    }
    a.type = parse_enum(kAttributeTypes, r.text(node, path, "type", true), origin, path + ".type");
    a.required = r.boolean(node, path, "required", false);
    a.access = parse_enum(kAccess, r.text(node, path, "access", false, "public"), origin, path + ".access");
    a.title = r.text(node, path, "title", false, a.name);
    layer.attributes.push_back(std::move(a));
  }

  const YAML::Node key = root["key"];
  if (!key || !key.IsSequence() || key.size() == 0)
    throw ConfigError(origin, "key", "expected a list of attribute names");
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto name = key[i].as<std::string>();
    const AttributeDef* a = layer.find_attribute(name);
    if (a == nullptr)
      throw ConfigError(origin, fmt::format("key[{}]", i), fmt::format("'{}' is not an attribute", name));
    if (!a->required)
      throw ConfigError(origin, fmt::format("key[{}]", i), fmt::format("key attribute '{}' must be required", name));
    layer.key.push_back(name);
  }

  if (const YAML::Node zoom = root["zoom"]) {
    r.only_keys(zoom, "zoom", {"min", "max"});
    layer.min_zoom = r.number<int>(zoom, "zoom", "min", layer.min_zoom);
    layer.max_zoom = r.number<int>(zoom, "zoom", "max", layer.max_zoom);
    if (layer.min_zoom < 0 || layer.max_zoom > 22 || layer.min_zoom > layer.max_zoom) {
      throw ConfigError(origin, "zoom",
                        fmt::format("need 0 <= min <= max <= 22, got {}..{}", layer.min_zoom, layer.max_zoom));
    }
  }
  layer.style = parse_style(r, root["style"]);
  if (!layer.style.label.empty() && layer.find_attribute(layer.style.label) == nullptr) {
    throw ConfigError(origin, "style.label", fmt::format("'{}' is not an attribute", layer.style.label));
  }
  if (!layer.style.label.empty() && layer.find_attribute(layer.style.label)->access == Access::restricted) {
    throw ConfigError(origin, "style.label", "a restricted attribute cannot be drawn on public maps");
  }
  return layer;
}

nlohmann::json to_json(const LayerDef& layer) {
  nlohmann::json attributes = nlohmann::json::array();
  for (const auto& a : layer.attributes) {
    attributes.push_back({{"name", a.name},
                          {"type", to_string(a.type)},
                          {"required", a.required},
                          {"access", to_string(a.access)},
                          {"title", a.title}});
  }
  const StyleDef& s = layer.style;
  nlohmann::json style{{"fill_opacity", s.fill_opacity},
                       {"stroke_width", s.stroke_width},
                       {"point_size", s.point_size},
                       {"label_min_zoom", s.label_min_zoom}};
  if (!s.fill.empty()) style["fill"] = s.fill;
  if (!s.stroke.empty()) style["stroke"] = s.stroke;
  if (!s.label.empty()) style["label"] = s.label;
  return {{"name", layer.name},
          {"title", layer.title},
          {"title_en", layer.title_en},
          {"description", layer.description},
          {"geometry", to_string(layer.geometry)},
          {"key", layer.key},
          {"zoom", {{"min", layer.min_zoom}, {"max", layer.max_zoom}}},
          {"attributes", attributes},
          {"style", style}};
}

LayerDef layer_from_json(const nlohmann::json& json, const std::string& origin) {
  // JSON is a subset of YAML: one parser and one set of checks for both.
  return parse_layer_definition(json.dump(), origin);
}

Catalogue::Catalogue(std::vector<LayerDef> layers) : layers_(std::move(layers)) {
  std::set<std::string> seen;
  for (const auto& layer : layers_) {
    if (!seen.insert(layer.name).second) {
      throw ConfigError(layer.origin, "name", fmt::format("layer '{}' is defined more than once", layer.name));
    }
  }
}

Catalogue Catalogue::load_directory(const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory)) {
    throw Error(ErrorCode::file_not_found, fmt::format("{}: layer definition directory not found", directory.string()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<LayerDef> layers;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    LayerDef layer = parse_layer_definition(text.str(), file.string());
    if (layer.name != file.stem().string()) {
      throw ConfigError(file.string(), "name",
                        fmt::format("'{}' must match the file name '{}'", layer.name, file.stem().string()));
    }
    layers.push_back(std::move(layer));
  }
  return Catalogue(std::move(layers));
}

const LayerDef* Catalogue::find(std::string_view name) const {
  const auto it = std::find_if(layers_.begin(), layers_.end(), [&](const auto& l) { return l.name == name; });
  return it == layers_.end() ? nullptr : &*it;
}

const LayerDef& Catalogue::layer(std::string_view name) const {
  if (const LayerDef* found = find(name)) return *found;
  std::string known;
  for (const auto& l : layers_) known += (known.empty() ? "" : ", ") + l.name;
  throw NotFoundError(fmt::format("unknown layer '{}' (known: {})", name, known));
}

std::filesystem::path default_layers_directory() {
  if (const char* env = std::getenv("BANDOSO_LAYERS_DIR"); env != nullptr && *env != '\0') return env;
  return std::filesystem::path(BANDOSO_SOURCE_DIR) / "layers";
}

}  // namespace bandoso::layers
