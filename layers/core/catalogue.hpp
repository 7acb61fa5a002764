#pragma once
// The layer catalogue: one YAML definition per layer (layers/*.yaml). Built-in layers and the layers
// departments publish are defined the same way, so a new layer needs a file and an import, no code.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bandoso::layers {

enum class AttributeType { text, integer, real, date, boolean };
enum class Access { public_access, restricted };
enum class GeometryType { none, point, linestring, polygon, multipoint, multilinestring, multipolygon };

std::string_view to_string(AttributeType type);
// A name layers, attributes and tilesets may have: [a-z][a-z0-9_]{0,62}.
bool valid_identifier(std::string_view name);
std::string_view to_string(GeometryType type);
std::string_view to_string(Access access);

struct AttributeDef {
  std::string name;
  AttributeType type = AttributeType::text;
  bool required = false;
  Access access = Access::public_access;
  std::string title;
};

// How a layer is drawn when no hand-written Mapnik style names it.
struct StyleDef {
  std::string fill;  // "#rrggbb" or empty
  double fill_opacity = 0.5;
  std::string stroke;  // "#rrggbb" or empty
  double stroke_width = 1.0;
  double point_size = 6.0;
  std::string label;  // attribute to label with, or empty
  int label_min_zoom = 0;
};

struct LayerDef {
  std::string name;   // [a-z][a-z0-9_]*; also the store's table name
  std::string title;  // Vietnamese
  std::string title_en;
  std::string description;
  GeometryType geometry = GeometryType::none;
  std::vector<std::string> key;  // attribute names forming the unique key
  std::vector<AttributeDef> attributes;
  int min_zoom = 0;
  int max_zoom = 22;
  StyleDef style;
  std::string origin;  // the file it came from, for messages

  [[nodiscard]] const AttributeDef* find_attribute(std::string_view attribute) const;
  [[nodiscard]] std::size_t attribute_index(std::string_view attribute) const;  // throws NotFoundError
  // Whether any attribute is restricted (personal data): answers holding them are traced.
  [[nodiscard]] bool has_restricted() const;
  [[nodiscard]] std::vector<std::string> public_attributes() const;
};

// Parses one definition; `origin` names the file in error messages. Unknown keys and type mistakes
// throw ConfigError naming the file and the key path.
LayerDef parse_layer_definition(std::string_view yaml_text, const std::string& origin);

nlohmann::json to_json(const LayerDef& layer);
LayerDef layer_from_json(const nlohmann::json& json, const std::string& origin);

class Catalogue {
 public:
  Catalogue() = default;
  explicit Catalogue(std::vector<LayerDef> layers);  // throws ConfigError on duplicate names

  // Reads every *.yaml of a directory (sorted by name).
  static Catalogue load_directory(const std::filesystem::path& directory);

  [[nodiscard]] const LayerDef& layer(std::string_view name) const;  // throws NotFoundError
  [[nodiscard]] const LayerDef* find(std::string_view name) const;
  [[nodiscard]] const std::vector<LayerDef>& layers() const { return layers_; }

 private:
  std::vector<LayerDef> layers_;
};

// The directory of the built-in definitions: $BANDOSO_LAYERS_DIR, else the source tree's layers/.
std::filesystem::path default_layers_directory();

}  // namespace bandoso::layers
