#include "tileserver/mvt_encoder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <protozero/pbf_reader.hpp>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "layers/core/error.hpp"
#include "support/process.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::tiles {
namespace {

using layers::AttributeType;
using Point = std::array<std::int64_t, 2>;
using Part = std::vector<Point>;

constexpr std::int64_t kExtent = 4096;
constexpr std::int64_t kBuffer = 64;

// --- helpers: positions in tile units, and a decoder of our own for the command-level checks ---

// The lon/lat of a point given in tile units of `tile` (y down), the inverse of the encoder's projection.
std::pair<double, double> lonlat_at(const layers::TileId& tile, double ux, double uy) {
  const layers::BBox m = layers::tile_bounds_mercator(tile);
  const double size = m.east - m.west;
  const double mx = m.west + ux / kExtent * size;
  const double my = m.north - uy / kExtent * size;
  return {mx * 180.0 / layers::kWebMercatorHalfWorld,
          (2 * std::atan(std::exp(my / 6378137.0)) - std::numbers::pi / 2) * 180.0 / std::numbers::pi};
}

// Tile units of a lon/lat position.
std::pair<double, double> units_of(const layers::TileId& tile, double lon, double lat) {
  const layers::BBox m = layers::tile_bounds_mercator(tile);
  double mx = 0, my = 0;
  layers::lonlat_to_mercator(lon, lat, mx, my);
  const double scale = kExtent / (m.east - m.west);
  return {(mx - m.west) * scale, (m.north - my) * scale};
}

// A WKT ring from tile-unit vertices (closed by repeating the first).
std::string ring_wkt(const layers::TileId& tile, const std::vector<std::pair<double, double>>& units) {
  std::string text = "(";
  for (std::size_t i = 0; i <= units.size(); ++i) {
    const auto [lon, lat] = lonlat_at(tile, units[i % units.size()].first, units[i % units.size()].second);
    text += fmt::format("{}{:.12f} {:.12f}", i == 0 ? "" : ",", lon, lat);
  }
  return text + ")";
}

// Twice the area by the spec's surveyor formula, y down: positive for exterior rings.
std::int64_t doubled_area(const Part& ring) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < ring.size(); ++i) {
    const Point& a = ring[i];
    const Point& b = ring[(i + 1) % ring.size()];
    sum += a[0] * b[1] - b[0] * a[1];
  }
  return sum;
}

struct DecodedFeature {
  std::uint32_t type = 0;
  std::vector<std::uint32_t> tags;
  std::vector<std::uint32_t> geometry;
};

struct DecodedLayer {
  std::string name;
  std::uint32_t version = 1;
  std::uint32_t extent = 4096;
  std::vector<std::string> keys;
  std::vector<std::string> values;  // "string:…", "int:…", "sint:…", "double:…", "bool:…"
  std::vector<DecodedFeature> features;
};

std::string describe_value(protozero::pbf_reader value) {
  std::string text;
  while (value.next()) {
    switch (value.tag()) {
      case 1:
        text += "string:" + value.get_string();
        break;
      case 3:
        text += fmt::format("double:{}", value.get_double());
        break;
      case 4:
        text += fmt::format("int:{}", value.get_int64());
        break;
      case 6:
        text += fmt::format("sint:{}", value.get_sint64());
        break;
      case 7:
        text += fmt::format("bool:{}", value.get_bool() ? 1 : 0);
        break;
      default:
        text += fmt::format("unexpected field {}", value.tag());
        value.skip();
    }
  }
  return text;
}

std::vector<DecodedLayer> decode_tile(const std::string& data) {
  std::vector<DecodedLayer> tile_layers;
  protozero::pbf_reader tile(data);
  while (tile.next()) {
    EXPECT_EQ(tile.tag(), 3u) << "a Tile holds only layers";
    if (tile.tag() != 3) {
      tile.skip();
      continue;
    }
    DecodedLayer& layer = tile_layers.emplace_back();
    protozero::pbf_reader l = tile.get_message();
    while (l.next()) {
      switch (l.tag()) {
        case 1:
          layer.name = l.get_string();
          break;
        case 2: {
          DecodedFeature& feature = layer.features.emplace_back();
          protozero::pbf_reader f = l.get_message();
          while (f.next()) {
            if (f.tag() == 2) {
              const auto r = f.get_packed_uint32();
              feature.tags.assign(r.begin(), r.end());
            } else if (f.tag() == 3) {
              feature.type = static_cast<std::uint32_t>(f.get_enum());
            } else if (f.tag() == 4) {
              const auto r = f.get_packed_uint32();
              feature.geometry.assign(r.begin(), r.end());
            } else {
              f.skip();
            }
          }
          break;
        }
        case 3:
          layer.keys.push_back(l.get_string());
          break;
        case 4:
          layer.values.push_back(describe_value(l.get_message()));
          break;
        case 5:
          layer.extent = l.get_uint32();
          break;
        case 15:
          layer.version = l.get_uint32();
          break;
        default:
          ADD_FAILURE() << "unexpected layer field " << l.tag();
          l.skip();
      }
    }
  }
  return tile_layers;
}

// The parts of a geometry (each MoveTo starts one), strictly per the spec; nullopt when malformed.
std::optional<std::vector<Part>> decode_geometry(const std::vector<std::uint32_t>& g) {
  std::vector<Part> parts;
  std::int64_t x = 0, y = 0;
  for (std::size_t i = 0; i < g.size();) {
    const std::uint32_t id = g[i] & 7u;
    const std::uint32_t count = g[i] >> 3;
    ++i;
    if (id == 7) {
      if (count != 1 || parts.empty()) return std::nullopt;
      continue;
    }
    if ((id != 1 && id != 2) || count == 0 || i + 2 * count > g.size()) return std::nullopt;
    if (id == 2 && parts.empty()) return std::nullopt;
    for (std::uint32_t k = 0; k < count; ++k, i += 2) {
      const auto unzig = [](std::uint32_t n) {
        return std::int64_t{static_cast<std::int32_t>((n >> 1) ^ (~(n & 1) + 1))};
      };
      x += unzig(g[i]);
      y += unzig(g[i + 1]);
      if (id == 1) parts.emplace_back();
      parts.back().push_back({x, y});
    }
  }
  return parts;
}

const DecodedLayer* find_layer(const std::vector<DecodedLayer>& tile_layers, const std::string& name) {
  for (const auto& l : tile_layers)
    if (l.name == name) return &l;
  return nullptr;
}

// The feature's properties as the layer's key → value description.
std::map<std::string, std::string> properties(const DecodedLayer& layer, const DecodedFeature& feature) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < feature.tags.size(); i += 2) {
    out[layer.keys.at(feature.tags[i])] = layer.values.at(feature.tags[i + 1]);
  }
  return out;
}

// --- a store in memory, for the unit tests: it returns every feature it holds and records the scans ---

class FakeStore : public layers::Store {
 public:
  std::map<std::string, std::vector<layers::Feature>> features;
  mutable std::vector<std::pair<std::string, layers::BBox>> scans;

  int schema_version() const override { return layers::kSchemaVersion; }
  std::int64_t data_version() const override { return 1; }
  layers::StoreSummary summary() const override { return {}; }
  std::vector<layers::LayerDef> layers() const override { return {}; }
  std::optional<layers::LayerDef> find_layer(const std::string&) const override { return std::nullopt; }
  std::int64_t count(const std::string& layer) const override {
    const auto it = features.find(layer);
    return it == features.end() ? 0 : static_cast<std::int64_t>(it->second.size());
  }
  layers::BBox extent(const std::string&) const override { return {}; }
  layers::BBox extent_where(const std::string&, const std::string&, const layers::Value&) const override { return {}; }
  void scan(const std::string&, bool, const std::function<bool(const layers::Feature&)>&) const override {
    ADD_FAILURE() << "the encoder must scan by bbox";
  }
  void scan_bbox(const std::string& layer, const layers::BBox& bbox,
                 const std::function<bool(const layers::Feature&)>& visit) const override {
    scans.emplace_back(layer, bbox);
    const auto it = features.find(layer);
    if (it == features.end()) return;
    for (const auto& f : it->second)
      if (!visit(f)) return;
  }
  void select(const std::string&, const layers::FeatureQuery&, bool,
              const std::function<bool(const layers::Feature&)>&) const override {
    ADD_FAILURE() << "the encoder must scan by bbox";
  }
  std::int64_t count_matching(const std::string&, const layers::FeatureQuery&) const override { return 0; }
  std::unique_ptr<layers::LayerWriter> write_layer(const layers::LayerDef&, layers::WriteMode) override {
    throw std::logic_error("read-only fake");
  }
  std::vector<layers::Change> changes_since(std::int64_t) const override { return {}; }
  layers::MapnikDatasourceParams mapnik_datasource(const std::string&) const override { return {}; }
  std::filesystem::path path() const override { return "fake"; }
};

layers::AttributeDef attribute(std::string name, AttributeType type,
                               layers::Access access = layers::Access::public_access) {
  layers::AttributeDef a;
  a.name = std::move(name);
  a.type = type;
  a.access = access;
  return a;
}

layers::LayerDef layer_def(std::string name, layers::GeometryType geometry,
                           std::vector<layers::AttributeDef> attributes, int min_zoom = 0, int max_zoom = 22) {
  layers::LayerDef def;
  def.name = std::move(name);
  def.title = def.name;
  def.geometry = geometry;
  def.attributes = std::move(attributes);
  def.attributes.front().required = true;  // the key
  def.key = {def.attributes.front().name};
  def.min_zoom = min_zoom;
  def.max_zoom = max_zoom;
  return def;
}

const layers::TileId kVinh14 = layers::tile_at(105.67, 18.67, 14);

// ===================================== unit tests (FakeStore) =====================================

class MvtUnitTest : public ::testing::Test {
 protected:
  FakeStore store;
  layers::LayerDef areas = layer_def("areas", layers::GeometryType::multipolygon,
                                     {attribute("code", AttributeType::text), attribute("name", AttributeType::text)});
  Tileset tileset_of(std::vector<layers::LayerDef> defs) const {
    Tileset t;
    t.name = "test";
    t.layers = std::move(defs);
    return t;
  }
  layers::Feature area(const std::string& code, const std::string& wkt) const {
    return {{code, std::string("Khối Trung Thành")}, bandoso::testing::wkb_from_wkt(wkt)};
  }
};

TEST_F(MvtUnitTest, TileWithoutFeaturesIsEmpty) {
  EXPECT_EQ(encode_mvt(store, tileset_of({areas}), kVinh14), "");
  store.features["areas"].push_back(
      area("far", "MULTIPOLYGON(((104.0 19.0,104.1 19.0,104.1 19.1,104.0 19.1,104.0 19.0)))"));
  EXPECT_EQ(encode_mvt(store, tileset_of({areas}), kVinh14), "")
      << "a feature the index returned but lying outside the buffered tile is dropped";
}

TEST_F(MvtUnitTest, SquareIsOneClockwiseRingOfMoveLineClose) {
  // Counter-clockwise on screen as given (y down): the encoder must turn it round.
  store.features["areas"].push_back(area(
      "sq", "MULTIPOLYGON((" + ring_wkt(kVinh14, {{1024, 1024}, {1024, 3072}, {3072, 3072}, {3072, 1024}}) + "))"));
  const auto tile_layers = decode_tile(encode_mvt(store, tileset_of({areas}), kVinh14));
  ASSERT_EQ(tile_layers.size(), 1u);
  const DecodedLayer& layer = tile_layers[0];
  EXPECT_EQ(layer.name, "areas");
  EXPECT_EQ(layer.version, 2u);
  EXPECT_EQ(layer.extent, 4096u);
  ASSERT_EQ(layer.features.size(), 1u);
  const DecodedFeature& f = layer.features[0];
  EXPECT_EQ(f.type, 3u);
  ASSERT_EQ(f.geometry.size(), 11u) << "MoveTo(1) x y LineTo(3) 6 ints ClosePath(1)";
  EXPECT_EQ(f.geometry[0], 9u);    // MoveTo, count 1
  EXPECT_EQ(f.geometry[3], 26u);   // LineTo, count 3
  EXPECT_EQ(f.geometry[10], 15u);  // ClosePath, count 1
  const auto parts = decode_geometry(f.geometry);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ(std::set<Point>(parts->at(0).begin(), parts->at(0).end()),
            (std::set<Point>{{1024, 1024}, {3072, 1024}, {3072, 3072}, {1024, 3072}}));
  EXPECT_EQ(doubled_area(parts->at(0)), 2 * 2048 * 2048) << "exterior: positive area (clockwise on screen)";
}

TEST_F(MvtUnitTest, HoleIsCounterClockwiseAndCursorCarriesAcrossParts) {
  const std::string outer = ring_wkt(kVinh14, {{100, 100}, {1100, 100}, {1100, 1100}, {100, 1100}});
  const std::string hole = ring_wkt(kVinh14, {{400, 400}, {400, 800}, {800, 800}, {800, 400}});
  const std::string second = ring_wkt(kVinh14, {{2000, 2000}, {2000, 2500}, {2500, 2500}, {2500, 2000}});
  store.features["areas"].push_back(area("holed", "MULTIPOLYGON((" + outer + "," + hole + "),(" + second + "))"));
  const auto tile_layers = decode_tile(encode_mvt(store, tileset_of({areas}), kVinh14));
  ASSERT_EQ(tile_layers.size(), 1u);
  ASSERT_EQ(tile_layers[0].features.size(), 1u) << "a multipolygon is one feature";
  const auto parts = decode_geometry(tile_layers[0].features[0].geometry);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_GT(doubled_area(parts->at(0)), 0);
  EXPECT_LT(doubled_area(parts->at(1)), 0) << "interior ring: negative area";
  EXPECT_GT(doubled_area(parts->at(2)), 0);
  EXPECT_EQ(std::set<Point>(parts->at(2).begin(), parts->at(2).end()),
            (std::set<Point>{{2000, 2000}, {2500, 2000}, {2500, 2500}, {2000, 2500}}))
      << "deltas continue from the previous ring's last point";
}

TEST_F(MvtUnitTest, LargeFeatureIsClippedToTheBuffer) {
  store.features["areas"].push_back(area(
      "big", "MULTIPOLYGON((" + ring_wkt(kVinh14, {{-5000, 2000}, {9000, 2000}, {9000, 9000}, {-5000, 9000}}) + "))"));
  const auto tile_layers = decode_tile(encode_mvt(store, tileset_of({areas}), kVinh14));
  ASSERT_EQ(tile_layers.size(), 1u);
  const auto parts = decode_geometry(tile_layers[0].features.at(0).geometry);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ(std::set<Point>(parts->at(0).begin(), parts->at(0).end()),
            (std::set<Point>{{-kBuffer, 2000},
                             {kExtent + kBuffer, 2000},
                             {kExtent + kBuffer, kExtent + kBuffer},
                             {-kBuffer, kExtent + kBuffer}}));
}

TEST_F(MvtUnitTest, CollapsedAndCorruptGeometriesAreDropped) {
  auto& features = store.features["areas"];
  // Under a tenth of a unit wide: nothing is left once on the grid.
  features.push_back(area(
      "sliver", "MULTIPOLYGON((" + ring_wkt(kVinh14, {{500, 500}, {500.05, 500}, {500.05, 900}, {500, 900}}) + "))"));
  features.push_back({{std::string("bad"), std::string("x")}, std::string("\x01\x06\x00\x00\x00garbage", 12)});
  EXPECT_EQ(encode_mvt(store, tileset_of({areas}), kVinh14), "");
  features.push_back(area("ok", "MULTIPOLYGON((" + ring_wkt(kVinh14, {{10, 10}, {10, 20}, {20, 20}, {20, 10}}) + "))"));
  const auto tile_layers = decode_tile(encode_mvt(store, tileset_of({areas}), kVinh14));
  ASSERT_EQ(tile_layers.size(), 1u);
  ASSERT_EQ(tile_layers[0].features.size(), 1u);
  EXPECT_EQ(properties(tile_layers[0], tile_layers[0].features[0]).at("code"), "string:ok");

  layers::LayerDef lines =
      layer_def("lines", layers::GeometryType::multilinestring, {attribute("id", AttributeType::text)});
  const auto [lon, lat] = lonlat_at(kVinh14, 700, 700);
  const auto [lon2, lat2] = lonlat_at(kVinh14, 700.2, 700.1);
  store.features["lines"].push_back({{std::string("short")},
                                     bandoso::testing::wkb_from_wkt(fmt::format(
                                         "MULTILINESTRING(({:.12f} {:.12f},{:.12f} {:.12f}))", lon, lat, lon2, lat2))});
  EXPECT_EQ(find_layer(decode_tile(encode_mvt(store, tileset_of({lines}), kVinh14)), "lines"), nullptr)
      << "a line shorter than a unit is dropped";
}

TEST_F(MvtUnitTest, LayersOutsideTheirZoomRangeAreLeftOut) {
  store.features["areas"].push_back(
      area("a", "MULTIPOLYGON((" + ring_wkt(kVinh14, {{10, 10}, {10, 900}, {900, 900}, {900, 10}}) + "))"));
  areas.min_zoom = 15;
  EXPECT_EQ(encode_mvt(store, tileset_of({areas}), kVinh14), "");
  areas.min_zoom = 14;
  EXPECT_NE(encode_mvt(store, tileset_of({areas}), kVinh14), "");
  areas.max_zoom = 13;
  EXPECT_EQ(encode_mvt(store, tileset_of({areas}), kVinh14), "");
  EXPECT_EQ(store.scans.size(), 1u) << "a layer out of its zoom range is not even scanned";
}

TEST_F(MvtUnitTest, ScansEachLayerOnceOverTheBufferedTile) {
  const layers::LayerDef other =
      layer_def("other", layers::GeometryType::point, {attribute("id", AttributeType::text)});
  (void)encode_mvt(store, tileset_of({areas, other}), kVinh14);
  ASSERT_EQ(store.scans.size(), 2u);
  EXPECT_EQ(store.scans[0].first, "areas");
  EXPECT_EQ(store.scans[1].first, "other");
  const layers::BBox tile = layers::tile_bounds_lonlat(kVinh14);
  const layers::BBox& box = store.scans[0].second;
  const double margin_lon = (tile.east - tile.west) * kBuffer / kExtent;
  EXPECT_NEAR(box.west, tile.west - margin_lon, 1e-9);
  EXPECT_NEAR(box.east, tile.east + margin_lon, 1e-9);
  EXPECT_NEAR(box.north, lonlat_at(kVinh14, 0, -kBuffer).second, 1e-9);
  EXPECT_NEAR(box.south, lonlat_at(kVinh14, 0, kExtent + kBuffer).second, 1e-9);
}

TEST_F(MvtUnitTest, AttributesArePublicTypedAndStoredOnce) {
  const layers::LayerDef sites = layer_def(
      "sites", layers::GeometryType::point,
      {attribute("id", AttributeType::text), attribute("floors", AttributeType::integer),
       attribute("depth", AttributeType::integer), attribute("height", AttributeType::real),
       attribute("open", AttributeType::boolean), attribute("keeper", AttributeType::text, layers::Access::restricted),
       attribute("note", AttributeType::text)});
  const auto [lon, lat] = lonlat_at(kVinh14, 1000, 1000);
  const std::string wkb = bandoso::testing::wkb_from_wkt(fmt::format("POINT({:.12f} {:.12f})", lon, lat));
  using V = layers::Value;
  store.features["sites"] = {
      {{V(std::string("Đền Hồng Sơn")), V(std::int64_t{3}), V(std::int64_t{-2}), V(12.5), V(std::int64_t{1}),
        V(std::string("Ông Bí Mật")), V()},
       wkb},
      {{V(std::string("Đền Hồng Sơn")), V(std::int64_t{3}), V(std::int64_t{-2}), V(12.5), V(std::int64_t{1}),
        V(std::string("Ông Bí Mật")), V()},
       wkb},
      {{V(std::string("Chùa Cần Linh")), V(std::int64_t{1}), V(std::int64_t{3}), V(12.5), V(std::int64_t{0}),
        V(std::string("Bà Kín Đáo")), V(std::string("3"))},
       wkb},
  };
  const std::string tile = encode_mvt(store, tileset_of({sites}), kVinh14);
  EXPECT_EQ(tile.find("keeper"), std::string::npos);
  EXPECT_EQ(tile.find("Ông Bí Mật"), std::string::npos);
  EXPECT_EQ(tile.find("Bà Kín Đáo"), std::string::npos);
  const auto tile_layers = decode_tile(tile);
  ASSERT_EQ(tile_layers.size(), 1u);
  const DecodedLayer& layer = tile_layers[0];
  ASSERT_EQ(layer.features.size(), 3u);
  EXPECT_EQ(layer.features[0].type, 1u);
  EXPECT_EQ(layer.features[0].geometry, (std::vector<std::uint32_t>{9, 2000, 2000}));
  EXPECT_EQ(properties(layer, layer.features[0]), (std::map<std::string, std::string>{{"id", "string:Đền Hồng Sơn"},
                                                                                      {"floors", "int:3"},
                                                                                      {"depth", "sint:-2"},
                                                                                      {"height", "double:12.5"},
                                                                                      {"open", "bool:1"}}));
  EXPECT_EQ(properties(layer, layer.features[2]), (std::map<std::string, std::string>{{"id", "string:Chùa Cần Linh"},
                                                                                      {"floors", "int:1"},
                                                                                      {"depth", "int:3"},
                                                                                      {"height", "double:12.5"},
                                                                                      {"open", "bool:0"},
                                                                                      {"note", "string:3"}}));
  EXPECT_EQ(layer.features[0].tags, layer.features[1].tags) << "equal values share their entries";
  EXPECT_EQ(layer.keys, (std::vector<std::string>{"id", "floors", "depth", "height", "open", "note"}));
  EXPECT_EQ(std::set<std::string>(layer.values.begin(), layer.values.end()).size(), layer.values.size())
      << "every value once";
  EXPECT_EQ(layer.values.size(), 9u)
      << "5 of the first feature; the third adds 4 (its 3 and 12.5 are shared, \"3\" is not)";
}

TEST_F(MvtUnitTest, MultipointIsOneMoveToWithEveryPoint) {
  const layers::LayerDef sites =
      layer_def("sites", layers::GeometryType::multipoint, {attribute("id", AttributeType::text)});
  const auto [a_lon, a_lat] = lonlat_at(kVinh14, 10, 20);
  const auto [b_lon, b_lat] = lonlat_at(kVinh14, 30, 5);
  const auto [c_lon, c_lat] = lonlat_at(kVinh14, -500, 5);  // outside the buffer
  store.features["sites"].push_back(
      {{std::string("m")},
       bandoso::testing::wkb_from_wkt(fmt::format("MULTIPOINT(({:.12f} {:.12f}),({:.12f} {:.12f}),({:.12f} {:.12f}))",
                                                  a_lon, a_lat, b_lon, b_lat, c_lon, c_lat))});
  const auto tile_layers = decode_tile(encode_mvt(store, tileset_of({sites}), kVinh14));
  ASSERT_EQ(tile_layers.size(), 1u);
  // MoveTo(2) = 17; (10,20) → zigzag 20,40; then (+20,-15) → 40,29.
  EXPECT_EQ(tile_layers[0].features.at(0).geometry, (std::vector<std::uint32_t>{17, 20, 40, 40, 29}));
}

TEST_F(MvtUnitTest, BadTileIsABadRequest) {
  EXPECT_THROW((void)encode_mvt(store, tileset_of({areas}), {3, 8, 0}), BadRequestError);
}

// ================================ integration: store + reference decoder ================================

std::string find_node() {
  const char* env = std::getenv("PATH");
  const std::string path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= path.size();) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::filesystem::path candidate = std::filesystem::path(path.substr(start, end - start)) / "node";
    if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

class MvtDecodedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    using S = std::string;
    using V = layers::Value;
    {
      // A parcel with a hole, next to one without; the owner is restricted.
      auto w = store->replace_layer(catalogue.layer("parcels"));
      w->add(
          {{S("16669"), std::int64_t{12}, std::int64_t{345}, 245.5, S("ODT"), S("Nguyễn Văn Bí Mật"),
            S("Số 5 đường Lê Lợi"), S("16681")},
           bandoso::testing::wkb_from_wkt(
               "MULTIPOLYGON(((105.6648 18.6648,105.6648 18.6652,105.6652 18.6652,105.6652 18.6648,105.6648 18.6648),"
               "(105.6649 18.6649,105.6651 18.6649,105.6651 18.6651,105.6649 18.6651,105.6649 18.6649)))")});
      w->add({{S("16669"), std::int64_t{12}, std::int64_t{346}, V(), S("ONT"), V(), V(), S("16681")},
              bandoso::testing::wkb_from_wkt("MULTIPOLYGON(((105.6652 18.6648,105.6656 18.6648,105.6656 "
                                             "18.6652,105.6652 18.6652,105.6652 18.6648)))")});
      w->commit(bandoso::testing::test_record("parcels"));
    }
    {
      auto w = store->replace_layer(catalogue.layer("streets"));
      w->add({{S("s1"), S("Đường Lê Hồng Phong"), S("street"), S("16681")},
              bandoso::testing::wkb_from_wkt("MULTILINESTRING((105.650 18.660,105.690 18.670),"
                                             "(105.6645 18.6645,105.6650 18.6655))")});
      w->commit(bandoso::testing::test_record("streets"));
    }
    {
      auto w = store->replace_layer(landmarks);
      w->add({{S("l1"), S("Quảng trường Hồ Chí Minh"), std::int64_t{3}, 12.5, std::int64_t{1}, S("Ông Giữ Chìa")},
              bandoso::testing::wkb_from_wkt("MULTIPOINT((105.6651 18.6651),(105.6653 18.6649))")});
      w->add({{S("l2"), S("Xa"), V(), V(), V(), V()}, bandoso::testing::wkb_from_wkt("MULTIPOINT((105.70 18.70))")});
      w->commit(bandoso::testing::test_record("landmarks"));
    }
    for (const char* name : {"communes", "old_communes", "parcels", "streets", "landmarks"}) {
      tileset.layers.push_back(*store->find_layer(name));
    }
    tileset.name = "ban_do";
  }

  // Writes the tile to a file and decodes it with @mapbox/vector-tile.
  void decode(const std::string& tile, nlohmann::json& out) {
    const std::filesystem::path js = std::filesystem::path(BANDOSO_SOURCE_DIR) / "tests" / "js";
    ASSERT_TRUE(std::filesystem::is_directory(js / "node_modules" / "@mapbox" / "vector-tile"))
        << js / "node_modules"
        << " is missing: run `npm ci --prefix tests/js` (make test does)";
    const std::string node = find_node();
    ASSERT_FALSE(node.empty()) << "node is not on PATH";
    const std::filesystem::path file = dir / "tile.mvt";
    std::ofstream(file, std::ios::binary) << tile;
    const auto result = bandoso::testing::run_command({node, (js / "decode_mvt.mjs").string(), file.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    out = nlohmann::json::parse(result.out);
    ASSERT_TRUE(out.contains("layers"));
  }

  static std::set<std::string> layer_names(const nlohmann::json& decoded) {
    std::set<std::string> names;
    for (const auto& [name, layer] : decoded["layers"].items()) names.insert(name);
    return names;
  }

  static const nlohmann::json* feature_with(const nlohmann::json& layer, const std::string& key,
                                            const nlohmann::json& value) {
    for (const auto& f : layer["features"])
      if (f["properties"].contains(key) && f["properties"][key] == value) return &f;
    return nullptr;
  }

  // Every vertex of every feature lies inside the buffered tile.
  static void expect_within_buffer(const nlohmann::json& decoded) {
    for (const auto& [name, layer] : decoded["layers"].items()) {
      for (const auto& f : layer["features"])
        for (const auto& part : f["geometry"])
          for (const auto& p : part) {
            EXPECT_GE(p[0].get<std::int64_t>(), -kBuffer) << name;
            EXPECT_LE(p[0].get<std::int64_t>(), kExtent + kBuffer) << name;
            EXPECT_GE(p[1].get<std::int64_t>(), -kBuffer) << name;
            EXPECT_LE(p[1].get<std::int64_t>(), kExtent + kBuffer) << name;
          }
    }
  }

  static Part ring_of(const nlohmann::json& part) {
    Part ring;
    for (const auto& p : part) ring.push_back({p[0].get<std::int64_t>(), p[1].get<std::int64_t>()});
    return ring;
  }

  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  layers::Catalogue catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  layers::LayerDef landmarks = [] {
    auto def = layer_def("landmarks", layers::GeometryType::multipoint,
                         {attribute("id", AttributeType::text), attribute("name", AttributeType::text),
                          attribute("floors", AttributeType::integer), attribute("height", AttributeType::real),
                          attribute("open", AttributeType::boolean),
                          attribute("keeper", AttributeType::text, layers::Access::restricted)},
                         15, 22);
    def.title = "Địa danh";
    return def;
  }();
  Tileset tileset;
};

TEST_F(MvtDecodedTest, WardsTileHasTheBoundaryLayersWithVietnameseNames) {
  const layers::TileId tile = layers::tile_at(105.67, 18.652, 14);
  // The south edge of the wards (18.65) falls inside this tile; they reach beyond its top.
  const auto [edge_x, edge_y] = units_of(tile, 105.68, 18.65);
  ASSERT_GT(edge_y, 0);
  ASSERT_LT(edge_y, kExtent);
  ASSERT_GT(edge_x, 0);
  ASSERT_LT(edge_x, kExtent);

  nlohmann::json decoded;
  ASSERT_NO_FATAL_FAILURE(decode(encode_mvt(*store, tileset, tile), decoded));
  EXPECT_EQ(layer_names(decoded), (std::set<std::string>{"communes", "old_communes", "streets"}))
      << "parcels and landmarks start at zoom 15";
  const auto& communes = decoded["layers"]["communes"];
  EXPECT_EQ(communes["version"], 2);
  EXPECT_EQ(communes["extent"], 4096);
  ASSERT_EQ(communes["features"].size(), 2u);
  EXPECT_EQ(decoded["layers"]["old_communes"]["features"].size(), 2u)
      << "the tile spans 105.6665–105.6885 E: Lê Lợi and Bến Thủy, not Hưng Bình (west of 105.66)";

  const nlohmann::json* west = feature_with(communes, "full_name", "Phường Thành Vinh");
  ASSERT_NE(west, nullptr) << communes.dump();
  EXPECT_NE(feature_with(communes, "full_name", "Phường Trường Vinh"), nullptr);
  EXPECT_EQ((*west)["type"], 3);
  EXPECT_EQ((*west)["properties"], (nlohmann::json{{"code", "16681"},
                                                   {"name", "Thành Vinh"},
                                                   {"type", "Phường"},
                                                   {"full_name", "Phường Thành Vinh"},
                                                   {"province_code", "40"},
                                                   {"valid_from", "2025-07-01"}}))
      << "valid_to is null and left out";
  const nlohmann::json* le_loi = feature_with(decoded["layers"]["old_communes"], "name", "Lê Lợi");
  ASSERT_NE(le_loi, nullptr);
  EXPECT_EQ((*le_loi)["properties"]["district_name"], "Thành phố Vinh");

  // The west ward, projected and clipped: its east edge at 105.68 and south edge at 18.65 where the
  // projection puts them (y down), its top cut at the buffer's edge.
  ASSERT_EQ((*west)["geometry"].size(), 1u);
  const Part ring = ring_of((*west)["geometry"][0]);
  std::int64_t min_y = INT64_MAX, max_x = INT64_MIN, max_y = INT64_MIN;
  for (const Point& p : ring) {
    min_y = std::min(min_y, p[1]);
    max_x = std::max(max_x, p[0]);
    max_y = std::max(max_y, p[1]);
  }
  EXPECT_EQ(min_y, -kBuffer) << "clipped at the buffered top edge";
  EXPECT_NEAR(static_cast<double>(max_x), edge_x, 1.0);
  EXPECT_NEAR(static_cast<double>(max_y), edge_y, 1.0);
  EXPECT_GT(doubled_area(ring), 0) << "exterior ring clockwise on screen";
  expect_within_buffer(decoded);
}

TEST_F(MvtDecodedTest, ParcelsKeepTheirHoleWindingAndNeverTheOwner) {
  const layers::TileId tile = layers::tile_at(105.665, 18.665, 17);
  const std::string data = encode_mvt(*store, tileset, tile);
  EXPECT_EQ(data.find("owner_name"), std::string::npos);
  EXPECT_EQ(data.find("Nguyễn Văn Bí Mật"), std::string::npos);
  nlohmann::json decoded;
  ASSERT_NO_FATAL_FAILURE(decode(data, decoded));
  ASSERT_TRUE(decoded["layers"].contains("parcels")) << decoded.dump();
  const auto& parcels = decoded["layers"]["parcels"];
  ASSERT_EQ(parcels["features"].size(), 2u);
  for (const auto& f : parcels["features"]) EXPECT_FALSE(f["properties"].contains("owner_name"));

  const nlohmann::json* holed = feature_with(parcels, "parcel_no", 345);
  ASSERT_NE(holed, nullptr) << parcels.dump();
  EXPECT_EQ((*holed)["properties"], (nlohmann::json{{"old_commune_code", "16669"},
                                                    {"sheet_no", 12},
                                                    {"parcel_no", 345},
                                                    {"area_m2", 245.5},
                                                    {"land_use", "ODT"},
                                                    {"address", "Số 5 đường Lê Lợi"},
                                                    {"commune_code", "16681"}}));
  ASSERT_EQ((*holed)["geometry"].size(), 2u);
  EXPECT_GT(doubled_area(ring_of((*holed)["geometry"][0])), 0) << "exterior: clockwise on screen";
  EXPECT_LT(doubled_area(ring_of((*holed)["geometry"][1])), 0) << "hole: counter-clockwise on screen";

  const nlohmann::json* plain = feature_with(parcels, "parcel_no", 346);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ((*plain)["properties"].size(), 5u) << "area_m2, address and the owner are null: left out";
  expect_within_buffer(decoded);
}

TEST_F(MvtDecodedTest, PointsAndLinesAtZoom16) {
  const layers::TileId tile = layers::tile_at(105.665, 18.665, 16);
  const std::string data = encode_mvt(*store, tileset, tile);
  EXPECT_EQ(data.find("Ông Giữ Chìa"), std::string::npos);
  nlohmann::json decoded;
  ASSERT_NO_FATAL_FAILURE(decode(data, decoded));
  EXPECT_EQ(layer_names(decoded),
            (std::set<std::string>{"communes", "old_communes", "parcels", "streets", "landmarks"}));

  const auto& landmarks_layer = decoded["layers"]["landmarks"];
  ASSERT_EQ(landmarks_layer["features"].size(), 1u) << "the far landmark is not in this tile";
  const auto& site = landmarks_layer["features"][0];
  EXPECT_EQ(site["type"], 1);
  EXPECT_EQ(site["properties"],
            (nlohmann::json{
                {"id", "l1"}, {"name", "Quảng trường Hồ Chí Minh"}, {"floors", 3}, {"height", 12.5}, {"open", true}}));
  ASSERT_EQ(site["geometry"].size(), 2u) << "one feature, two points";
  const auto [px, py] = units_of(tile, 105.6651, 18.6651);
  EXPECT_NEAR(site["geometry"][0][0][0].get<double>(), px, 0.5);
  EXPECT_NEAR(site["geometry"][0][0][1].get<double>(), py, 0.5);

  const auto& streets = decoded["layers"]["streets"];
  ASSERT_EQ(streets["features"].size(), 1u);
  const auto& street = streets["features"][0];
  EXPECT_EQ(street["type"], 2);
  EXPECT_EQ(street["properties"]["name"], "Đường Lê Hồng Phong");
  ASSERT_EQ(street["geometry"].size(), 2u);
  const auto& crossing = street["geometry"][0];
  ASSERT_GE(crossing.size(), 2u);
  EXPECT_EQ(crossing.front()[0], -kBuffer) << "cut where it enters the buffered tile";
  EXPECT_EQ(crossing.back()[0], kExtent + kBuffer) << "and where it leaves";
  expect_within_buffer(decoded);
}

TEST_F(MvtDecodedTest, TileAwayFromTheDataIsEmpty) {
  EXPECT_EQ(encode_mvt(*store, tileset, layers::tile_at(104.5, 19.5, 14)), "");
}

}  // namespace
}  // namespace bandoso::tiles
