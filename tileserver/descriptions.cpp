#include "tileserver/descriptions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "layers/core/tile_math.hpp"
#include "tileserver/glyphs.hpp"

namespace bandoso::tiles {

namespace {

using layers::GeometryType;
using nlohmann::json;

constexpr int kTileJsonMaxZoom = 30;  // TileJSON 3.0.0: 0 <= minzoom <= maxzoom <= 30
constexpr int kStyleMaxZoom = 24;     // MapLibre style layers: minzoom/maxzoom in 0..24
constexpr int kPreferredCenterZoom = 10;

// Defaults shared with the Mapnik style (raster_renderer.cpp) so that both kinds of tiles look alike.
constexpr const char* kDefaultStroke = "#555555";
constexpr const char* kDefaultPointFill = "#d0453b";
constexpr const char* kDefaultPointStroke = "#ffffff";
constexpr const char* kLabelColour = "#2b2b2b";
constexpr const char* kHaloColour = "#ffffff";
constexpr double kHaloWidth = 1.5;
constexpr double kLabelSize = 11;
constexpr const char* kBackgroundColour = "#f8f6f0";

// Web Mercator GoogleMapsCompatible (OGC WMTS 1.0.0, annex E.4): 256-pixel tiles, 0.28 mm pixels.
constexpr const char* kMatrixSet = "GoogleMapsCompatible";
constexpr double kScaleDenominatorZoom0 = 559082264.0287178;
constexpr const char* kTopLeftCorner = "-20037508.3427892 20037508.3427892";

std::string strip_base(const std::string& base_url) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

struct ZoomRange {
  int min = 0;
  int max = 0;
};

ZoomRange tileset_zooms(const Tileset& tileset) {
  const int min = std::clamp(tileset.min_zoom, 0, layers::kMaxZoom);
  return {min, std::clamp(tileset.max_zoom, min, layers::kMaxZoom)};
}

// The layer's zoom range clamped into the tileset's (TileJSON: a vector layer's minzoom/maxzoom lie within
// the tileset's).
ZoomRange layer_zooms(const layers::LayerDef& layer, const ZoomRange& tileset) {
  const int min = std::clamp(layer.min_zoom, tileset.min, tileset.max);
  return {min, std::clamp(layer.max_zoom, min, tileset.max)};
}

// The data's extent, or Nghệ An's when the layers hold nothing yet.
layers::BBox effective_bounds(const Tileset& tileset) {
  return tileset.bounds.empty() ? layers::kNgheAnExtent : tileset.bounds;
}

int center_zoom(const ZoomRange& zooms) { return std::clamp(kPreferredCenterZoom, zooms.min, zooms.max); }

bool is_area(GeometryType g) { return g == GeometryType::polygon || g == GeometryType::multipolygon; }
bool is_line(GeometryType g) { return g == GeometryType::linestring || g == GeometryType::multilinestring; }
bool is_point(GeometryType g) { return g == GeometryType::point || g == GeometryType::multipoint; }

// The TileJSON "fields" description of an attribute: its Vietnamese title and the MVT value kind.
std::string field_description(const layers::AttributeDef& attribute) {
  std::string_view kind = "String";
  switch (attribute.type) {
    case layers::AttributeType::integer:
    case layers::AttributeType::real:
      kind = "Number";
      break;
    case layers::AttributeType::boolean:
      kind = "Boolean";
      break;
    case layers::AttributeType::date:
      kind = "String (ISO 8601 date)";
      break;
    case layers::AttributeType::text:
      break;
  }
  return attribute.title.empty() ? std::string(kind) : fmt::format("{} ({})", attribute.title, kind);
}

json vector_layer(const layers::LayerDef& layer, const ZoomRange& tileset) {
  json fields = json::object();
  for (const auto& name : layer.public_attributes()) {
    if (const auto* attribute = layer.find_attribute(name)) fields[name] = field_description(*attribute);
  }
  const ZoomRange zooms = layer_zooms(layer, tileset);
  return {{"id", layer.name},
          {"description", layer.title.empty() ? layer.name : layer.title},
          {"minzoom", zooms.min},
          {"maxzoom", zooms.max},
          {"fields", std::move(fields)}};
}

// A MapLibre style layer reading one layer of the tileset's vector source. MapLibre hides a layer at
// zooms >= its maxzoom, while a definition's max_zoom is the last zoom it is drawn at, hence the + 1.
json style_layer(const std::string& id, const std::string& type, const std::string& source,
                 const layers::LayerDef& layer, int min_zoom) {
  return {{"id", id},
          {"type", type},
          {"source", source},
          {"source-layer", layer.name},
          {"minzoom", std::clamp(min_zoom, 0, kStyleMaxZoom)},
          {"maxzoom", std::clamp(layer.max_zoom + 1, 0, kStyleMaxZoom)}};
}

void add_style_layers(json& out, const std::string& source, const layers::LayerDef& layer) {
  const layers::StyleDef& s = layer.style;
  const GeometryType g = layer.geometry;
  if (is_area(g)) {
    if (!s.fill.empty()) {
      json fill = style_layer(layer.name + "-fill", "fill", source, layer, layer.min_zoom);
      fill["paint"] = {{"fill-color", s.fill}, {"fill-opacity", s.fill_opacity}};
      out.push_back(std::move(fill));
    }
    if (!s.stroke.empty() || s.fill.empty()) {
      json outline = style_layer(layer.name + "-outline", "line", source, layer, layer.min_zoom);
      outline["paint"] = {{"line-color", s.stroke.empty() ? kDefaultStroke : s.stroke}, {"line-width", s.stroke_width}};
      out.push_back(std::move(outline));
    }
  } else if (is_line(g)) {
    json line = style_layer(layer.name + "-line", "line", source, layer, layer.min_zoom);
    line["layout"] = {{"line-join", "round"}, {"line-cap", "round"}};
    line["paint"] = {{"line-color", s.stroke.empty() ? kDefaultStroke : s.stroke}, {"line-width", s.stroke_width}};
    out.push_back(std::move(line));
  } else if (is_point(g)) {
    json circle = style_layer(layer.name + "-circle", "circle", source, layer, layer.min_zoom);
    circle["paint"] = {{"circle-radius", s.point_size / 2.0},
                       {"circle-color", s.fill.empty() ? kDefaultPointFill : s.fill},
                       {"circle-stroke-color", s.stroke.empty() ? kDefaultPointStroke : s.stroke},
                       {"circle-stroke-width", s.stroke_width}};
    out.push_back(std::move(circle));
  } else {
    return;  // no geometry: nothing in the tiles to draw
  }

  // Labels only ever name a public attribute: restricted ones are not in the tiles at all (the
  // catalogue already refuses them as labels; this keeps the style honest if that ever changes).
  if (s.label.empty()) return;
  const auto visible = layer.public_attributes();
  if (std::find(visible.begin(), visible.end(), s.label) == visible.end()) return;
  json label = style_layer(layer.name + "-label", "symbol", source, layer, std::max(layer.min_zoom, s.label_min_zoom));
  label["layout"] = {{"text-field", json::array({"get", s.label})},
                     {"text-font", json::array({std::string(kDefaultFont)})},
                     {"text-size", kLabelSize},
                     {"symbol-placement", is_line(g) ? "line" : "point"}};
  if (is_point(g)) {
    label["layout"]["text-anchor"] = "top";
    label["layout"]["text-offset"] = json::array({0, 0.6});
  }
  label["paint"] = {{"text-color", kLabelColour}, {"text-halo-color", kHaloColour}, {"text-halo-width", kHaloWidth}};
  out.push_back(std::move(label));
}

// Text for XML character data and attribute values. Characters XML 1.0 forbids (C0 controls other
// than tab, LF and CR) are dropped.
std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

void append_layer(std::string& xml, const Tileset& tileset, const std::string& base) {
  const layers::BBox b = effective_bounds(tileset);
  const ZoomRange zooms = tileset_zooms(tileset);
  const std::string name = xml_escape(tileset.name);
  xml += "    <Layer>\n";
  xml += fmt::format("      <ows:Title>{}</ows:Title>\n",
                     xml_escape(tileset.title.empty() ? tileset.name : tileset.title));
  if (!tileset.description.empty()) {
    xml += fmt::format("      <ows:Abstract>{}</ows:Abstract>\n", xml_escape(tileset.description));
  }
  xml += fmt::format(
      "      <ows:WGS84BoundingBox>\n"
      "        <ows:LowerCorner>{} {}</ows:LowerCorner>\n"
      "        <ows:UpperCorner>{} {}</ows:UpperCorner>\n"
      "      </ows:WGS84BoundingBox>\n",
      b.west, b.south, b.east, b.north);
  xml += fmt::format("      <ows:Identifier>{}</ows:Identifier>\n", name);
  xml += "      <Style isDefault=\"true\">\n        <ows:Identifier>default</ows:Identifier>\n      </Style>\n";
  xml += "      <Format>image/png</Format>\n";
  // The limits tell clients which tiles hold data: the tileset's zooms, the columns and rows over its
  // extent. Tiles outside them are still served (empty), but clients need not ask.
  xml += fmt::format("      <TileMatrixSetLink>\n        <TileMatrixSet>{}</TileMatrixSet>\n", kMatrixSet);
  xml += "        <TileMatrixSetLimits>\n";
  for (int z = zooms.min; z <= zooms.max; ++z) {
    const layers::TileId top_left = layers::tile_at(b.west, b.north, z);
    const layers::TileId bottom_right = layers::tile_at(b.east, b.south, z);
    xml += fmt::format(
        "          <TileMatrixLimits>\n"
        "            <TileMatrix>{}</TileMatrix>\n"
        "            <MinTileRow>{}</MinTileRow>\n"
        "            <MaxTileRow>{}</MaxTileRow>\n"
        "            <MinTileCol>{}</MinTileCol>\n"
        "            <MaxTileCol>{}</MaxTileCol>\n"
        "          </TileMatrixLimits>\n",
        z, top_left.y, bottom_right.y, top_left.x, bottom_right.x);
  }
  xml += "        </TileMatrixSetLimits>\n      </TileMatrixSetLink>\n";
  xml += fmt::format(
      "      <ResourceURL format=\"image/png\" resourceType=\"tile\" "
      "template=\"{}/tiles/{}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.png\"/>\n",
      xml_escape(base), name);
  xml += "    </Layer>\n";
}

void append_matrix_set(std::string& xml) {
  xml += fmt::format(
      "    <TileMatrixSet>\n"
      "      <ows:Identifier>{}</ows:Identifier>\n"
      "      <ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>\n"
      "      <WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>\n",
      kMatrixSet);
  for (int z = 0; z <= layers::kMaxZoom; ++z) {
    const std::uint64_t tiles = std::uint64_t{1} << z;
    xml += fmt::format(
        "      <TileMatrix>\n"
        "        <ows:Identifier>{}</ows:Identifier>\n"
        "        <ScaleDenominator>{}</ScaleDenominator>\n"
        "        <TopLeftCorner>{}</TopLeftCorner>\n"
        "        <TileWidth>256</TileWidth>\n"
        "        <TileHeight>256</TileHeight>\n"
        "        <MatrixWidth>{}</MatrixWidth>\n"
        "        <MatrixHeight>{}</MatrixHeight>\n"
        "      </TileMatrix>\n",
        z, kScaleDenominatorZoom0 / static_cast<double>(tiles), kTopLeftCorner, tiles, tiles);
  }
  xml += "    </TileMatrixSet>\n";
}

// One RESTful operation of OperationsMetadata (WMTS 1.0.0, 10.2: GetEncoding constraint "RESTful").
std::string rest_operation(std::string_view name, const std::string& href) {
  return fmt::format(
      "    <ows:Operation name=\"{}\">\n"
      "      <ows:DCP>\n"
      "        <ows:HTTP>\n"
      "          <ows:Get xlink:href=\"{}\">\n"
      "            <ows:Constraint name=\"GetEncoding\">\n"
      "              <ows:AllowedValues>\n"
      "                <ows:Value>RESTful</ows:Value>\n"
      "              </ows:AllowedValues>\n"
      "            </ows:Constraint>\n"
      "          </ows:Get>\n"
      "        </ows:HTTP>\n"
      "      </ows:DCP>\n"
      "    </ows:Operation>\n",
      name, xml_escape(href));
}

}  // namespace

json tilejson(const Tileset& tileset, const std::string& base_url, TileFormat format) {
  const std::string base = strip_base(base_url);
  const ZoomRange zooms = tileset_zooms(tileset);
  const layers::BBox b = effective_bounds(tileset);
  const bool vector = format == TileFormat::mvt;
  json out = {
      {"tilejson", "3.0.0"},
      {"tiles",
       json::array({fmt::format("{}/tiles/{}/{{z}}/{{x}}/{{y}}.{}", base, tileset.name, vector ? "mvt" : "png")})},
      {"name", tileset.title.empty() ? tileset.name : tileset.title},
      // Not the data's version (that is in the tiles' ETag): the version of the tile layout, which only
      // changes when layers or attributes are renamed.
      {"version", "1.0.0"},
      {"attribution", tileset.attribution},
      {"scheme", "xyz"},
      {"bounds", json::array({b.west, b.south, b.east, b.north})},
      {"center", json::array({(b.west + b.east) / 2, (b.south + b.north) / 2, center_zoom(zooms)})},
      {"minzoom", std::min(zooms.min, kTileJsonMaxZoom)},
      {"maxzoom", std::min(zooms.max, kTileJsonMaxZoom)},
      // Not in TileJSON 3.0.0 (clients ignore unknown keys) but read by several tools, e.g. as in MBTiles.
      {"format", vector ? "pbf" : "png"},
  };
  if (!tileset.description.empty()) out["description"] = tileset.description;
  // TileJSON 3.0.0's schema requires vector_layers of every document; for raster tiles it names the
  // layers drawn, which tells a client what the picture holds.
  json layers_json = json::array();
  for (const auto& layer : tileset.layers) {
    if (layer.geometry != GeometryType::none) layers_json.push_back(vector_layer(layer, zooms));
  }
  out["vector_layers"] = std::move(layers_json);
  return out;
}

json maplibre_style(const Tileset& tileset, const std::string& base_url) {
  const std::string base = strip_base(base_url);
  const ZoomRange zooms = tileset_zooms(tileset);
  const layers::BBox b = effective_bounds(tileset);
  json style_layers = json::array();
  style_layers.push_back(
      {{"id", "background"}, {"type", "background"}, {"paint", {{"background-color", kBackgroundColour}}}});
  for (const auto& layer : tileset.layers) add_style_layers(style_layers, tileset.name, layer);
  // No "sprite": our layer styles draw no icons or patterns (circles, fills, lines and text only), and
  // a style without icon-image / *-pattern needs none.
  return {
      {"version", 8},
      {"name", tileset.title.empty() ? tileset.name : tileset.title},
      {"center", json::array({(b.west + b.east) / 2, (b.south + b.north) / 2})},
      {"zoom", center_zoom(zooms)},
      {"sources",
       {{tileset.name,
         {{"type", "vector"},
          {"url", fmt::format("{}/tiles/{}.json", base, tileset.name)},
          {"attribution", tileset.attribution}}}}},
      {"glyphs", base + "/fonts/{fontstack}/{range}.pbf"},
      {"layers", std::move(style_layers)},
  };
}

std::string wmts_capabilities(const std::vector<Tileset>& tilesets, const std::string& base_url) {
  const std::string base = strip_base(base_url);
  const std::string capabilities_url = base + "/wmts/1.0.0/WMTSCapabilities.xml";
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" xmlns:ows=\"http://www.opengis.net/ows/1.1\"\n"
      "    xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
      "    xsi:schemaLocation=\"http://www.opengis.net/wmts/1.0 "
      "http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd\"\n"
      "    version=\"1.0.0\">\n";
  xml += fmt::format(
      "  <ows:ServiceIdentification>\n"
      "    <ows:Title>{}</ows:Title>\n"
      "    <ows:Abstract>{}</ows:Abstract>\n"
      "    <ows:ServiceType>OGC WMTS</ows:ServiceType>\n"
      "    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>\n"
      "    <ows:Fees>none</ows:Fees>\n"
      "    <ows:AccessConstraints>none</ows:AccessConstraints>\n"
      "  </ows:ServiceIdentification>\n",
      xml_escape("Bản đồ số tỉnh Nghệ An"),
      xml_escape(
          "Các lớp bản đồ của bandoso dưới dạng ô ảnh PNG 256×256 theo lưới Web Mercator (GoogleMapsCompatible)."));
  xml += "  <ows:OperationsMetadata>\n";
  xml += rest_operation("GetCapabilities", capabilities_url);
  xml += rest_operation("GetTile", base + "/tiles/");
  xml += "  </ows:OperationsMetadata>\n";
  xml += "  <Contents>\n";
  for (const auto& tileset : tilesets) append_layer(xml, tileset, base);
  append_matrix_set(xml);
  xml += "  </Contents>\n";
  xml += fmt::format("  <ServiceMetadataURL xlink:href=\"{}\"/>\n", xml_escape(capabilities_url));
  xml += "</Capabilities>\n";
  return xml;
}

}  // namespace bandoso::tiles
