#include "tileserver/tileset.hpp"

#include <xxhash.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "layers/core/error.hpp"
#include "tileserver/raster_renderer.hpp"

namespace bandoso::tiles {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& file, const std::string& origin, const std::string& key) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(origin, key, fmt::format("cannot read '{}'", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string scalar(const YAML::Node& root, const std::string& origin, const std::string& key, bool required) {
  const YAML::Node node = root[key];
  if (!node) {
    if (required) throw ConfigError(origin, key, "missing required key");
    return {};
  }
  if (!node.IsScalar()) throw ConfigError(origin, key, "expected a text value");
  return node.as<std::string>();
}

int zoom_value(const YAML::Node& zoom, const std::string& origin, const std::string& key, int fallback) {
  const YAML::Node node = zoom[key];
  if (!node) return fallback;
  try {
    const int value = node.as<int>();
    if (value < 0 || value > layers::kMaxZoom) throw YAML::BadConversion(node.Mark());
    return value;
  } catch (const YAML::BadConversion&) {
    throw ConfigError(origin, "zoom." + key, fmt::format("expected a whole number from 0 to {}", layers::kMaxZoom));
  }
}

}  // namespace

TilesetDef parse_tileset_definition(const std::string& yaml_text, const fs::path& origin_path) {
  const std::string origin = origin_path.string();
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin, "", fmt::format("not valid YAML (line {}): {}", e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw ConfigError(origin, "(top level)", "expected a mapping");
  static const std::set<std::string> kKeys{"name", "title", "description", "layers", "style", "zoom"};
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    if (!kKeys.contains(key)) {
      throw ConfigError(origin, key, "unknown key (allowed: name, title, description, layers, style, zoom)");
    }
  }
  TilesetDef def;
  def.origin = origin;
  def.name = scalar(root, origin, "name", true);
  if (!layers::valid_identifier(def.name)) {
    throw ConfigError(origin, "name", fmt::format("'{}' must be lower-case letters, digits and _", def.name));
  }
  def.title = scalar(root, origin, "title", true);
  def.description = scalar(root, origin, "description", false);
  const YAML::Node layer_list = root["layers"];
  if (!layer_list || !layer_list.IsSequence() || layer_list.size() == 0) {
    throw ConfigError(origin, "layers", "expected a non-empty list of layer names");
  }
  for (const auto& layer : layer_list) {
    if (!layer.IsScalar()) throw ConfigError(origin, "layers", "expected layer names");
    def.layers.push_back(layer.as<std::string>());
  }
  const std::string style = scalar(root, origin, "style", true);
  def.style_file = origin_path.parent_path() / style;
  if (!fs::is_regular_file(def.style_file)) {
    throw ConfigError(origin, "style", fmt::format("no style file '{}'", def.style_file.string()));
  }
  if (const YAML::Node zoom = root["zoom"]) {
    if (!zoom.IsMap()) throw ConfigError(origin, "zoom", "expected {min: N, max: N}");
    def.min_zoom = zoom_value(zoom, origin, "min", def.min_zoom);
    def.max_zoom = zoom_value(zoom, origin, "max", def.max_zoom);
    if (def.min_zoom > def.max_zoom) throw ConfigError(origin, "zoom", "min is above max");
  }
  return def;
}

std::vector<TilesetDef> load_tileset_definitions(const fs::path& directory) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  if (ec) throw ConfigError(directory.string(), "", "cannot list the styles directory: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<TilesetDef> definitions;
  std::set<std::string> names;
  for (const auto& file : files) {
    const std::string yaml = read_file(file, file.string(), "");
    TilesetDef def = parse_tileset_definition(yaml, file);
    const std::string contents = yaml + '\0' + read_file(def.style_file, def.origin, "style");
    def.fingerprint = XXH3_64bits(contents.data(), contents.size());
    if (!names.insert(def.name).second) {
      throw ConfigError(file.string(), "name", fmt::format("tileset '{}' is defined twice", def.name));
    }
    definitions.push_back(std::move(def));
  }
  return definitions;
}

fs::path default_styles_directory() {
  if (const char* env = std::getenv("BANDOSO_STYLES_DIR"); env != nullptr && *env != '\0') return env;
  return fs::path(BANDOSO_SOURCE_DIR) / "styles";
}

std::vector<Tileset> build_tilesets(const std::vector<TilesetDef>& definitions, const layers::Store& store) {
  std::vector<Tileset> tilesets;
  std::set<std::string> names;
  auto bounds_of = [&](const std::vector<layers::LayerDef>& layer_defs) {
    layers::BBox bounds;
    for (const auto& layer : layer_defs) {
      const layers::BBox extent = store.extent(layer.name);
      if (extent.empty()) continue;
      bounds.expand(extent.west, extent.south);
      bounds.expand(extent.east, extent.north);
    }
    return bounds;
  };
  for (const auto& def : definitions) {
    Tileset tileset{def.name, def.title, def.description, {}, {}, def.min_zoom, def.max_zoom, {}};
    for (const auto& name : def.layers) {
      if (auto layer = store.find_layer(name); layer && layer->geometry != layers::GeometryType::none) {
        tileset.layers.push_back(std::move(*layer));
      }
    }
    if (tileset.layers.empty()) continue;
    tileset.style_xml = read_file(def.style_file, def.origin, "style");
    tileset.bounds = bounds_of(tileset.layers);
    names.insert(def.name);
    tilesets.push_back(std::move(tileset));
  }
  for (auto& layer : store.layers()) {
    if (layer.geometry == layers::GeometryType::none || names.contains(layer.name)) continue;
    Tileset tileset{layer.name,     layer.title, layer.title_en, {}, default_style_xml(layer), layer.min_zoom,
                    layer.max_zoom, {}};
    tileset.layers.push_back(std::move(layer));
    tileset.bounds = bounds_of(tileset.layers);
    tilesets.push_back(std::move(tileset));
  }
  return tilesets;
}

}  // namespace bandoso::tiles
