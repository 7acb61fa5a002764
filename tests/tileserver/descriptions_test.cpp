// TileJSON, MapLibre style and WMTS capabilities built from the real layer definitions, checked by the
// tools that read them: a JSON Schema validator (ajv) and the MapLibre style-spec validator through node
// (tests/js-schema, installed by `npm ci --prefix tests/js-schema`), and GDAL's WMTS driver.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/core/catalogue.hpp"
#include "layers/core/geometry.hpp"
#include "layers/core/tile_math.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "tileserver/descriptions.hpp"
#include "tileserver/glyphs.hpp"

namespace bandoso::tiles {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kBase = "http://127.0.0.1:8080";

const layers::Catalogue& catalogue() {
  static const auto instance = layers::Catalogue::load_directory(layers::default_layers_directory());
  return instance;
}

Tileset make_tileset(const std::string& name, const std::vector<std::string>& layer_names, int min_zoom = 6,
                     int max_zoom = 22) {
  Tileset tileset;
  tileset.name = name;
  tileset.title = "Bản đồ địa chính Nghệ An";
  tileset.description = "Xã phường, thửa đất, đường và địa chỉ số.";
  for (const auto& layer : layer_names) tileset.layers.push_back(catalogue().layer(layer));
  tileset.min_zoom = min_zoom;
  tileset.max_zoom = max_zoom;
  return tileset;
}

Tileset cadastre() { return make_tileset("cadastre", {"communes", "parcels", "streets", "addresses"}); }

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << file;
}

const fs::path kValidators = fs::path(BANDOSO_SOURCE_DIR) / "tests" / "js-schema";

// Runs tests/js-schema/validate.mjs; the output lists the errors.
testing::CommandResult run_validator(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"/usr/bin/env", "node", (kValidators / "validate.mjs").string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return testing::run_command(argv);
}

#define REQUIRE_VALIDATORS()                                                                               \
  if (!fs::exists(kValidators / "node_modules" / "ajv" / "package.json") ||                                \
      !fs::exists(kValidators / "node_modules" / "@maplibre" / "maplibre-gl-style-spec" / "package.json")) \
  FAIL() << "the validators are not installed: run `npm ci --prefix tests/js-schema` (needs node and npm)"

void expect_valid_tilejson(const json& document) {
  testing::TempDir dir;
  write_file(dir / "tilejson.json", document.dump(2));
  const auto result = run_validator(
      {"tilejson", (fs::path(BANDOSO_SOURCE_DIR) / "tests" / "tileserver" / "tilejson-3.0.0.schema.json").string(),
       (dir / "tilejson.json").string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << document.dump(2);
}

// ---------------------------------------------------------------------------------------------- TileJSON

TEST(TileJson, VectorTilesetIsValidTileJson300) {
  REQUIRE_VALIDATORS();
  expect_valid_tilejson(tilejson(cadastre(), kBase, TileFormat::mvt));
}

TEST(TileJson, RasterTilesetIsValidTileJson300) {
  REQUIRE_VALIDATORS();
  expect_valid_tilejson(tilejson(cadastre(), kBase, TileFormat::png));
}

TEST(TileJson, TheSchemaCheckCatchesMistakes) {
  REQUIRE_VALIDATORS();
  json bad = tilejson(cadastre(), kBase, TileFormat::mvt);
  bad["vector_layers"][0]["fields"]["code"] = 1;  // descriptions must be strings
  bad.erase("tilejson");
  testing::TempDir dir;
  write_file(dir / "bad.json", bad.dump());
  const auto result = run_validator(
      {"tilejson", (fs::path(BANDOSO_SOURCE_DIR) / "tests" / "tileserver" / "tilejson-3.0.0.schema.json").string(),
       (dir / "bad.json").string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("tilejson"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/vector_layers/0/fields/code"), std::string::npos) << result.out;
}

TEST(TileJson, VectorDescribesThePublicAttributesOfEveryLayer) {
  const json t = tilejson(cadastre(), kBase, TileFormat::mvt);
  EXPECT_EQ(t["tilejson"], "3.0.0");
  EXPECT_EQ(t["tiles"], json::array({"http://127.0.0.1:8080/tiles/cadastre/{z}/{x}/{y}.mvt"}));
  EXPECT_EQ(t["name"], "Bản đồ địa chính Nghệ An");
  EXPECT_EQ(t["scheme"], "xyz");
  EXPECT_EQ(t["minzoom"], 6);
  EXPECT_EQ(t["maxzoom"], 22);
  EXPECT_EQ(t["attribution"], "© Sở Nông nghiệp và Môi trường Nghệ An");

  const json& layers = t["vector_layers"];
  ASSERT_EQ(layers.size(), 4u);
  std::vector<std::string> ids;
  for (const auto& layer : layers) ids.push_back(layer["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"communes", "parcels", "streets", "addresses"}));

  const json& parcels = layers[1];
  EXPECT_EQ(parcels["description"], "Thửa đất");
  EXPECT_EQ(parcels["minzoom"], 15);
  EXPECT_EQ(parcels["maxzoom"], 22);
  const auto& definition = catalogue().layer("parcels");
  const auto visible = definition.public_attributes();
  EXPECT_EQ(parcels["fields"].size(), visible.size());
  for (const auto& name : visible) EXPECT_TRUE(parcels["fields"].contains(name)) << name;
  EXPECT_FALSE(parcels["fields"].contains("owner_name")) << "a restricted attribute is described";
  EXPECT_EQ(parcels["fields"]["sheet_no"], "Số tờ bản đồ (Number)");
  EXPECT_EQ(parcels["fields"]["address"], "Địa chỉ thửa đất (String)");
  EXPECT_EQ(t.dump().find("owner_name"), std::string::npos);
  EXPECT_EQ(t.dump().find("Chủ sử dụng"), std::string::npos);
}

TEST(TileJson, LayerZoomsAreClampedToTheTileset) {
  const json t = tilejson(make_tileset("mid", {"communes", "parcels", "streets"}, 8, 16), kBase, TileFormat::mvt);
  EXPECT_EQ(t["minzoom"], 8);
  EXPECT_EQ(t["maxzoom"], 16);
  for (const auto& layer : t["vector_layers"]) {
    EXPECT_GE(layer["minzoom"].get<int>(), 8) << layer["id"];
    EXPECT_LE(layer["maxzoom"].get<int>(), 16) << layer["id"];
    EXPECT_LE(layer["minzoom"].get<int>(), layer["maxzoom"].get<int>()) << layer["id"];
  }
  EXPECT_EQ(t["vector_layers"][0]["minzoom"], 8);   // communes: 6..22
  EXPECT_EQ(t["vector_layers"][1]["minzoom"], 15);  // parcels: 15..22
  EXPECT_EQ(t["vector_layers"][1]["maxzoom"], 16);
  EXPECT_EQ(t["vector_layers"][2]["minzoom"], 12);  // streets: 12..22
  EXPECT_EQ(t["center"][2], 10);
}

TEST(TileJson, BoundsFallBackToNgheAnAndTheCenterLiesInside) {
  const json t = tilejson(cadastre(), kBase, TileFormat::mvt);
  const auto& e = layers::kNgheAnExtent;
  EXPECT_EQ(t["bounds"], json::array({e.west, e.south, e.east, e.north}));
  EXPECT_DOUBLE_EQ(t["center"][0].get<double>(), (e.west + e.east) / 2);
  EXPECT_DOUBLE_EQ(t["center"][1].get<double>(), (e.south + e.north) / 2);
  EXPECT_EQ(t["center"][2], 10);

  Tileset vinh = cadastre();
  vinh.bounds.expand(105.64, 18.65);
  vinh.bounds.expand(105.72, 18.69);
  vinh.min_zoom = 12;
  const json v = tilejson(vinh, kBase, TileFormat::png);
  EXPECT_EQ(v["bounds"], json::array({105.64, 18.65, 105.72, 18.69}));
  EXPECT_DOUBLE_EQ(v["center"][0].get<double>(), 105.68);
  EXPECT_DOUBLE_EQ(v["center"][1].get<double>(), 18.67);
  EXPECT_EQ(v["center"][2], 12);  // the preferred 10 is below the tileset's minzoom
}

TEST(TileJson, RasterHasPngTilesAndNamesTheLayersItDraws) {
  const json t = tilejson(cadastre(), kBase + "/", TileFormat::png);  // a trailing slash is dropped
  EXPECT_EQ(t["tiles"], json::array({"http://127.0.0.1:8080/tiles/cadastre/{z}/{x}/{y}.png"}));
  ASSERT_TRUE(t.contains("vector_layers")) << "TileJSON 3.0.0 requires it of every document";
  EXPECT_EQ(t["vector_layers"].size(), 4U);
}

// ---------------------------------------------------------------------------------------------- style

const json* find_layer(const json& style, const std::string& id) {
  for (const auto& layer : style["layers"])
    if (layer["id"] == id) return &layer;
  return nullptr;
}

TEST(MapLibreStyle, IsValidForTheStyleSpec) {
  REQUIRE_VALIDATORS();
  testing::TempDir dir;
  write_file(dir / "style.json", maplibre_style(cadastre(), kBase).dump(2));
  const auto result = run_validator({"style", (dir / "style.json").string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

TEST(MapLibreStyle, NamesTheTileJsonAndTheGlyphs) {
  const json style = maplibre_style(cadastre(), kBase);
  EXPECT_EQ(style["version"], 8);
  EXPECT_EQ(style["sources"], (json{{"cadastre",
                                     {{"type", "vector"},
                                      {"url", "http://127.0.0.1:8080/tiles/cadastre.json"},
                                      {"attribution", "© Sở Nông nghiệp và Môi trường Nghệ An"}}}}));
  EXPECT_EQ(style["glyphs"], "http://127.0.0.1:8080/fonts/{fontstack}/{range}.pbf");
  EXPECT_FALSE(style.contains("sprite"));
  EXPECT_EQ(style["layers"][0]["type"], "background");
}

TEST(MapLibreStyle, DrawsCommunesAsFilledAndLabelledPolygons) {
  const json style = maplibre_style(cadastre(), kBase);
  const json* fill = find_layer(style, "communes-fill");
  ASSERT_NE(fill, nullptr) << style.dump(2);
  EXPECT_EQ((*fill)["type"], "fill");
  EXPECT_EQ((*fill)["source"], "cadastre");
  EXPECT_EQ((*fill)["source-layer"], "communes");
  EXPECT_EQ((*fill)["paint"]["fill-color"], "#f4efe1");
  EXPECT_DOUBLE_EQ((*fill)["paint"]["fill-opacity"].get<double>(), 0.6);
  EXPECT_EQ((*fill)["minzoom"], 6);
  EXPECT_EQ((*fill)["maxzoom"], 23);  // drawn up to and including 22

  const json* outline = find_layer(style, "communes-outline");
  ASSERT_NE(outline, nullptr);
  EXPECT_EQ((*outline)["type"], "line");
  EXPECT_EQ((*outline)["paint"]["line-color"], "#8a5a9c");
  EXPECT_DOUBLE_EQ((*outline)["paint"]["line-width"].get<double>(), 1.5);

  const json* label = find_layer(style, "communes-label");
  ASSERT_NE(label, nullptr);
  EXPECT_EQ((*label)["type"], "symbol");
  EXPECT_EQ((*label)["source-layer"], "communes");
  EXPECT_EQ((*label)["minzoom"], 9);
  EXPECT_EQ((*label)["layout"]["text-field"], json::array({"get", "full_name"}));
  EXPECT_EQ((*label)["layout"]["text-font"], json::array({std::string(kDefaultFont)}));
  EXPECT_EQ((*label)["paint"]["text-halo-color"], "#ffffff");
  EXPECT_GT((*label)["paint"]["text-halo-width"].get<double>(), 0);
}

TEST(MapLibreStyle, DrawsLinesAndPoints) {
  const json style = maplibre_style(cadastre(), kBase);
  const json* streets = find_layer(style, "streets-line");
  ASSERT_NE(streets, nullptr);
  EXPECT_EQ((*streets)["type"], "line");
  EXPECT_EQ((*streets)["paint"]["line-color"], "#c8a45a");
  EXPECT_EQ((*streets)["minzoom"], 12);
  const json* street_names = find_layer(style, "streets-label");
  ASSERT_NE(street_names, nullptr);
  EXPECT_EQ((*street_names)["layout"]["symbol-placement"], "line");
  EXPECT_EQ((*street_names)["minzoom"], 15);

  const json* addresses = find_layer(style, "addresses-circle");
  ASSERT_NE(addresses, nullptr);
  EXPECT_EQ((*addresses)["type"], "circle");
  EXPECT_DOUBLE_EQ((*addresses)["paint"]["circle-radius"].get<double>(), 2.5);
  EXPECT_EQ((*addresses)["paint"]["circle-color"], "#d0453b");
  EXPECT_EQ((*addresses)["paint"]["circle-stroke-color"], "#ffffff");
}

TEST(MapLibreStyle, ReadsOnlyTheTilesetsLayersAndPublicAttributes) {
  const Tileset tileset = cadastre();
  const json style = maplibre_style(tileset, kBase);
  EXPECT_EQ(style.dump().find("owner_name"), std::string::npos);
  std::set<std::string> names;
  for (const auto& layer : tileset.layers) names.insert(layer.name);
  std::set<std::string> ids;
  for (const auto& layer : style["layers"]) {
    EXPECT_TRUE(ids.insert(layer["id"].get<std::string>()).second) << "duplicate id " << layer["id"];
    if (layer["type"] == "background") continue;
    EXPECT_EQ(layer["source"], "cadastre");
    EXPECT_TRUE(names.count(layer["source-layer"].get<std::string>())) << layer["source-layer"];
    if (layer["type"] != "symbol") continue;
    const auto& definition = catalogue().layer(layer["source-layer"].get<std::string>());
    const auto visible = definition.public_attributes();
    const std::string attribute = layer["layout"]["text-field"][1];
    EXPECT_NE(std::find(visible.begin(), visible.end(), attribute), visible.end()) << attribute;
  }
}

TEST(MapLibreStyle, NeverLabelsWithARestrictedAttribute) {
  Tileset tileset = make_tileset("p", {"parcels"});
  tileset.layers[0].style.label = "owner_name";  // the catalogue refuses this; the style must too
  const json style = maplibre_style(tileset, kBase);
  EXPECT_EQ(find_layer(style, "parcels-label"), nullptr);
  EXPECT_EQ(style.dump().find("owner_name"), std::string::npos);
  EXPECT_NE(find_layer(style, "parcels-fill"), nullptr);
}

// ---------------------------------------------------------------------------------------------- WMTS

struct Gdal {
  std::string out;  // stdout and stderr
  int exit_code;
};

// GDAL's command-line tools, with network fetches cut short (nothing listens on kBase).
Gdal gdal(std::vector<std::string> argv) {
  // The WMTS driver keeps a tile cache in the working directory unless told where: the temp dir.
  const std::string cache =
      "GDAL_DEFAULT_WMS_CACHE_PATH=" + (fs::temp_directory_path() / "bandoso-test-gdalwmscache").string();
  argv.insert(argv.begin(), {"/usr/bin/env", "GDAL_HTTP_TIMEOUT=2", "GDAL_HTTP_MAX_RETRY=0", "CPL_DEBUG=OFF", cache});
  const auto result = testing::run_command(argv);
  return {result.out + result.err, result.exit_code};
}

Tileset vinh_tileset() {
  Tileset vinh = make_tileset("vinh_streets", {"streets", "addresses"}, 12, 20);
  vinh.title = "Đường & địa chỉ <Vinh>";
  vinh.description = "Có \"ngoặc kép\", 'nháy đơn', & và <ký tự đặc biệt>";
  vinh.bounds.expand(105.64, 18.65);
  vinh.bounds.expand(105.72, 18.69);
  return vinh;
}

std::vector<Tileset> wmts_tilesets() {
  Tileset communes = make_tileset("communes", {"communes"}, 6, 14);
  communes.title = "Xã, phường";
  return {cadastre(), communes, vinh_tileset()};
}

fs::path write_capabilities(const testing::TempDir& dir, const std::vector<Tileset>& tilesets,
                            const std::string& base = kBase) {
  const fs::path file = dir / "WMTSCapabilities.xml";
  write_file(file, wmts_capabilities(tilesets, base));
  return file;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

TEST(Wmts, GdalListsEveryTilesetAsASubdataset) {
  testing::TempDir dir;
  const auto tilesets = wmts_tilesets();
  const fs::path file = write_capabilities(dir, tilesets);
  const Gdal info = gdal({"gdalinfo", "WMTS:" + file.string()});
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_EQ(count(info.out, "_NAME=WMTS:"), static_cast<int>(tilesets.size())) << info.out;
  for (std::size_t i = 0; i < tilesets.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    EXPECT_NE(info.out.find("SUBDATASET_" + n + "_NAME=WMTS:" + file.string() + ",layer=" + tilesets[i].name + "\n"),
              std::string::npos)
        << info.out;
    EXPECT_NE(info.out.find("SUBDATASET_" + n + "_DESC=Layer " + tilesets[i].title + "\n"), std::string::npos)
        << info.out;
  }
  EXPECT_EQ(info.out.find("Warning"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("ERROR"), std::string::npos) << info.out;
}

// The size of `bounds` in pixels of zoom 22, the finest matrix, as GDAL computes it.
std::pair<double, double> size_at_zoom_22(const layers::BBox& bounds) {
  double west = 0, south = 0, east = 0, north = 0;
  layers::lonlat_to_mercator(bounds.west, bounds.south, west, south);
  layers::lonlat_to_mercator(bounds.east, bounds.north, east, north);
  const double resolution = 2 * layers::kWebMercatorHalfWorld / 256 / static_cast<double>(1 << 22);
  return {(east - west) / resolution, (north - south) / resolution};
}

TEST(Wmts, GdalOpensALayerInWebMercatorOverItsBounds) {
  testing::TempDir dir;
  const fs::path file = write_capabilities(dir, wmts_tilesets());
  for (const auto& [layer, bounds] : std::vector<std::pair<std::string, layers::BBox>>{
           {"cadastre", layers::kNgheAnExtent}, {"vinh_streets", vinh_tileset().bounds}}) {
    const Gdal info = gdal({"gdalinfo", "WMTS:" + file.string() + ",layer=" + layer});
    ASSERT_EQ(info.exit_code, 0) << info.out;
    EXPECT_NE(info.out.find("ID[\"EPSG\",3857]]\n"), std::string::npos) << info.out;
    const auto at = info.out.find("Size is ");
    ASSERT_NE(at, std::string::npos) << info.out;
    long width = 0, height = 0;
    ASSERT_EQ(std::sscanf(info.out.c_str() + at, "Size is %ld, %ld", &width, &height), 2) << info.out;
    const auto [expected_width, expected_height] = size_at_zoom_22(bounds);
    EXPECT_NEAR(static_cast<double>(width), expected_width, 2) << layer;
    EXPECT_NEAR(static_cast<double>(height), expected_height, 2) << layer;
    EXPECT_NE(info.out.find("Band 4 Block"), std::string::npos) << "PNG tiles are RGBA\n" << info.out;
  }
}

TEST(Wmts, TextIsEscapedAndReadBackIntact) {
  const Tileset vinh = vinh_tileset();
  const std::string xml = wmts_capabilities({vinh}, kBase);
  EXPECT_NE(xml.find("<ows:Title>Đường &amp; địa chỉ &lt;Vinh&gt;</ows:Title>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("&quot;ngoặc kép&quot;, &apos;nháy đơn&apos;, &amp; và &lt;ký tự đặc biệt&gt;"), std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("<Vinh>"), std::string::npos);
  EXPECT_EQ(xml.find("& "), std::string::npos);
  EXPECT_NE(xml.find("<ows:Title>Bản đồ số tỉnh Nghệ An</ows:Title>"), std::string::npos);

  testing::TempDir dir;
  const fs::path file = write_capabilities(dir, {vinh});
  const Gdal info = gdal({"gdalinfo", "WMTS:" + file.string() + ",layer=vinh_streets"});
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_NE(info.out.find("  TITLE=" + vinh.title + "\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("  ABSTRACT=" + vinh.description + "\n"), std::string::npos) << info.out;
}

TEST(Wmts, DescribesTheGoogleMapsCompatibleMatrixSetAndRestfulTiles) {
  const std::string xml = wmts_capabilities(wmts_tilesets(), kBase + "/");
  EXPECT_EQ(count(xml, "<TileMatrixSet>\n"), 1);  // the definition; each layer links to it
  EXPECT_EQ(count(xml, "<TileMatrixSet>GoogleMapsCompatible</TileMatrixSet>"), 3);
  EXPECT_EQ(count(xml, "<TileMatrix>\n"), 23);
  EXPECT_NE(xml.find("<ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>"), std::string::npos);
  EXPECT_NE(xml.find("<WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>"),
            std::string::npos);
  EXPECT_NE(xml.find("<ScaleDenominator>559082264.0287178</ScaleDenominator>"), std::string::npos);
  EXPECT_NE(xml.find("<ows:Identifier>22</ows:Identifier>\n        <ScaleDenominator>133.29559899"), std::string::npos)
      << xml.substr(xml.rfind("<TileMatrix>"));
  EXPECT_NE(xml.find("<MatrixWidth>4194304</MatrixWidth>"), std::string::npos);
  EXPECT_EQ(count(xml, "<TopLeftCorner>-20037508.3427892 20037508.3427892</TopLeftCorner>"), 23);
  EXPECT_NE(xml.find("<ResourceURL format=\"image/png\" resourceType=\"tile\" "
                     "template=\"http://127.0.0.1:8080/tiles/communes/{TileMatrix}/{TileCol}/{TileRow}.png\"/>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(count(xml, "<Style isDefault=\"true\">\n        <ows:Identifier>default</ows:Identifier>"), 3);
}

// GDAL fetches the tile the template names: with a file:// base URL, a tile written at
// tiles/{name}/{z}/{x}/{y}.png is what GDAL draws over that tile's extent.
TEST(Wmts, GdalFetchesTilesThroughTheTemplate) {
  testing::TempDir dir;
  const Tileset vinh = vinh_tileset();
  const fs::path file = write_capabilities(dir, {vinh}, "file://" + dir.path().string());
  const layers::TileId tile = layers::tile_at(105.68, 18.67, 14);
  ASSERT_NE(tile.x, tile.y);  // a swapped column and row would miss
  const fs::path png =
      dir.path() / "tiles" / "vinh_streets" / "14" / std::to_string(tile.x) / (std::to_string(tile.y) + ".png");
  fs::create_directories(png.parent_path());
  Gdal made = gdal({"gdal_create", "-of", "PNG", "-outsize", "256", "256", "-bands", "4", "-burn", "200", "-burn", "30",
                    "-burn", "40", "-burn", "255", png.string()});
  ASSERT_EQ(made.exit_code, 0) << made.out;

  const layers::BBox box = layers::tile_bounds_mercator(tile);
  const double margin = (box.east - box.west) / 4;
  const fs::path out = dir / "out.tif";
  const Gdal translated =
      gdal({"gdal_translate", "-oo", "ZOOM_LEVEL=14", "-projwin", std::to_string(box.west + margin),
            std::to_string(box.north - margin), std::to_string(box.east - margin), std::to_string(box.south + margin),
            "WMTS:" + file.string() + ",layer=vinh_streets", out.string()});
  ASSERT_EQ(translated.exit_code, 0) << translated.out;
  const Gdal pixel = gdal({"gdallocationinfo", "-valonly", out.string(), "10", "10"});
  ASSERT_EQ(pixel.exit_code, 0) << pixel.out;
  EXPECT_EQ(pixel.out, "200\n30\n40\n255\n");
}

}  // namespace
}  // namespace bandoso::tiles
