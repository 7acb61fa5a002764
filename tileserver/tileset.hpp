#pragma once
// A tileset: named layers drawn together, served as raster (Mapnik XML) and vector (MVT) tiles. Both
// come from the same layer definitions: the raster style names the layers, the vector tiles carry
// their public attributes.

#include <cstdint>
#include <string>
#include <vector>

#include "layers/core/catalogue.hpp"
#include "layers/core/geometry.hpp"
#include "layers/core/store.hpp"

namespace bandoso::tiles {

struct Tileset {
  std::string name;                      // [a-z][a-z0-9_]*, the URL segment
  std::string title;                     // Vietnamese
  std::string description;               // Vietnamese or English, one sentence
  std::vector<layers::LayerDef> layers;  // drawing order, bottom first; as stored (imported) definitions
  std::string style_xml;                 // Mapnik XML naming the layers by store name (no datasources)
  int min_zoom = 0;
  int max_zoom = 22;
  layers::BBox bounds;  // lon/lat extent of the data; empty when the layers hold nothing
  std::string attribution = "© Sở Nông nghiệp và Môi trường Nghệ An";
};

}  // namespace bandoso::tiles

#include <filesystem>

namespace bandoso::tiles {

// A tileset as written in styles/*.yaml: its layers by store name and its Mapnik XML file.
struct TilesetDef {
  std::string name;
  std::string title;
  std::string description;
  std::vector<std::string> layers;
  std::filesystem::path style_file;  // absolute
  int min_zoom = 0;
  int max_zoom = 22;
  std::string origin;  // the YAML file, for messages
  // A digest of the definition and its Mapnik XML as read: tiles drawn under another one are stale.
  std::uint64_t fingerprint = 0;
};

// Parses one definition; errors are ConfigErrors naming the file and the key.
TilesetDef parse_tileset_definition(const std::string& yaml_text, const std::filesystem::path& origin);
// Every *.yaml of a directory, sorted by file name.
std::vector<TilesetDef> load_tileset_definitions(const std::filesystem::path& directory);
// $BANDOSO_STYLES_DIR, else the source tree's styles/.
std::filesystem::path default_styles_directory();

// What a store can serve now: each defined tileset with the layers the store holds (a tileset none of
// whose layers is in the store is left out), then one tileset per other layer with geometry, drawn
// with the default style of its definition. Bounds are the union of the layers' extents.
std::vector<Tileset> build_tilesets(const std::vector<TilesetDef>& definitions, const layers::Store& store);

}  // namespace bandoso::tiles
