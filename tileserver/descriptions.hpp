#pragma once
// What clients read to find the tiles: TileJSON 3.0.0, a MapLibre style, OGC WMTS 1.0 capabilities.
// Pure functions of the tilesets and the server's public base URL (e.g. "http://127.0.0.1:8080").
//
// URLs: raster   {base}/tiles/{tileset}/{z}/{x}/{y}.png  (also @2x.png)
//       vector   {base}/tiles/{tileset}/{z}/{x}/{y}.mvt
//       TileJSON {base}/tiles/{tileset}.json (vector) and {base}/tiles/{tileset}.json?format=png (raster)
//       style    {base}/styles/{tileset}/style.json
//       glyphs   {base}/fonts/{fontstack}/{range}.pbf
//       WMTS     {base}/wmts/1.0.0/WMTSCapabilities.xml

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tileserver/tileset.hpp"

namespace bandoso::tiles {

enum class TileFormat { png, mvt };

// TileJSON 3.0.0. Vector: "vector_layers" lists each layer with geometry, its public attributes only
// ("fields": title and value kind), its zooms clamped into the tileset's. Raster: no vector_layers.
// Bounds are the tileset's, or Nghệ An's extent while the layers are empty; the center is their middle.
nlohmann::json tilejson(const Tileset& tileset, const std::string& base_url, TileFormat format);

// A MapLibre GL style (version 8) drawing the tileset's vector tiles with each layer's StyleDef: a
// background, then per layer fill + outline, line or circle, and a symbol layer when the style labels
// with a public attribute. Text uses kDefaultFont (tileserver/glyphs.hpp); there is no sprite.
nlohmann::json maplibre_style(const Tileset& tileset, const std::string& base_url);

// One WMTS layer per tileset (PNG, RESTful ResourceURL, TileMatrixSetLimits over its bounds and zooms),
// all in the GoogleMapsCompatible matrix set (zooms 0..22). All text is XML-escaped.
std::string wmts_capabilities(const std::vector<Tileset>& tilesets, const std::string& base_url);

}  // namespace bandoso::tiles
