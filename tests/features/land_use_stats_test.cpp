// Land-use statistics over the dev fixture nghean-dev, loaded by scripts/load-fixture into a temporary
// database: the service's areas against an independent computation with GDAL/OGR (each parcel, or its
// intersection with a drawn polygon, transformed to VN-2000 TM-3 and measured by OGR), parcel counts
// against a full scan, refusals of bad input, and the JSON and CSV outputs (read back with GDAL's CSV
// driver). BANDOSO_LAND_USE_DB=<a loaded database> skips the load (for quick iterations).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "features/land_use_stats.hpp"
#include "layers/core/error.hpp"
#include "layers/core/store.hpp"
#include "support/csv.hpp"
#include "support/dev_fixture.hpp"
#include "support/process.hpp"
#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::features {
namespace {

namespace fs = std::filesystem;

// VN-2000 / TM-3 104°45′ with the vn-common Helmert parameters, as the fixture's README gives it:
// written out here so that the reference computation does not go through layers/core/crs.
constexpr const char* kTm3 =
    "+proj=tmerc +lat_0=0 +lon_0=104.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    "+towgs84=-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278 "
    "+units=m +no_defs";

// lon/lat → TM-3 with OGR, and OGR's area.
class OgrTm3 {
 public:
  OgrTm3() : wgs84_(OSRNewSpatialReference(nullptr)), tm3_(OSRNewSpatialReference(nullptr)) {
    OSRImportFromEPSG(wgs84_, 4326);
    OSRSetAxisMappingStrategy(wgs84_, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetFromUserInput(tm3_, kTm3);
    OSRSetAxisMappingStrategy(tm3_, OAMS_TRADITIONAL_GIS_ORDER);
    transform_ = OCTNewCoordinateTransformation(wgs84_, tm3_);
  }
  ~OgrTm3() {
    OCTDestroyCoordinateTransformation(transform_);
    OSRDestroySpatialReference(wgs84_);
    OSRDestroySpatialReference(tm3_);
  }
  OgrTm3(const OgrTm3&) = delete;
  OgrTm3& operator=(const OgrTm3&) = delete;
  [[nodiscard]] bool ok() const { return transform_ != nullptr; }

  double area(OGRGeometryH lonlat) const {
    OGRGeometryH copy = OGR_G_Clone(lonlat);
    EXPECT_EQ(OGR_G_Transform(copy, transform_), OGRERR_NONE);
    const double a = OGR_G_Area(copy);
    OGR_G_DestroyGeometry(copy);
    return a;
  }

 private:
  OGRSpatialReferenceH wgs84_, tm3_;
  OGRCoordinateTransformationH transform_ = nullptr;
};

struct OgrDeleter {
  void operator()(void* g) const { OGR_G_DestroyGeometry(static_cast<OGRGeometryH>(g)); }
};
using OgrGeometry = std::unique_ptr<void, OgrDeleter>;  // OGRGeometryH is void* in GDAL's C API

OgrGeometry from_wkb(const std::string& wkb) {
  OGRGeometryH g = nullptr;
  OGR_G_CreateFromWkbEx(wkb.data(), nullptr, &g, wkb.size());
  return OgrGeometry(g);
}

OgrGeometry from_wkt(const std::string& wkt) {
  OGRGeometryH g = nullptr;
  char* text = const_cast<char*>(wkt.c_str());
  OGR_G_CreateFromWkt(&text, nullptr, &g);
  return OgrGeometry(g);
}

std::string text_value(const layers::Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s != nullptr ? *s : std::string();
}

struct Expected {
  double area = 0, legal = 0;
  std::int64_t parcels = 0;
};

// The reference GSO table read straight from the shared set: old commune code → 2025 unit.
std::map<std::string, std::string> old_to_new(const fs::path& shared) {
  std::map<std::string, std::string> out;
  for (const auto& row : testing::read_csv(shared / "reference" / "nghean" / "nghean_mapping_old_to_new_2025.csv"))
    out[row.at("old_code")] = row.at("new_code");
  return out;
}

// Every parcel of the layer (full scan, no spatial index) with its land-use code and its 2025 unit:
// the stored commune_code, else the unit of its old commune in the reference table.
void for_each_parcel(
    const layers::Store& store, const std::map<std::string, std::string>& mapping,
    const std::function<void(const layers::Feature&, const std::string& land_use, const std::string& commune)>& visit) {
  const auto def = store.find_layer("parcels");
  ASSERT_TRUE(def.has_value());
  const std::size_t lu = def->attribute_index("land_use"), cc = def->attribute_index("commune_code"),
                    oc = def->attribute_index("old_commune_code");
  store.scan("parcels", true, [&](const layers::Feature& f) {
    std::string commune = text_value(f.values[cc]);
    if (commune.empty()) {
      const auto it = mapping.find(text_value(f.values[oc]));
      if (it != mapping.end()) commune = it->second;
    }
    visit(f, text_value(f.values[lu]), commune);
    return true;
  });
}

void expect_shares_sum_to_one(const LandUseStats& stats) {
  ASSERT_GT(stats.area_m2, 0);
  double codes = 0, groups = 0;
  for (const auto& c : stats.codes) codes += c.share;
  for (const auto& g : stats.groups) groups += g.share;
  EXPECT_NEAR(codes, 1.0, 1e-9);
  EXPECT_NEAR(groups, 1.0, 1e-9);
}

void expect_within(double got, double want, double relative, const std::string& what) {
  EXPECT_LE(std::abs(got - want), relative * std::abs(want)) << what << ": got " << got << ", want " << want;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

ErrorCode code_of(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no bandoso::Error thrown";
  return ErrorCode::internal;
}

std::string rectangle(double w, double s, double e, double n) {
  return fmt::format(R"({{"type":"Polygon","coordinates":[[[{0},{1}],[{2},{1}],[{2},{3}],[{0},{3}],[{0},{1}]]]}})", w,
                     s, e, n);
}

// A circle-like ring of `vertices` distinct points (plus the closing one) around (105.65, 18.70).
std::string ring_polygon(int vertices) {
  std::string coordinates;
  for (int i = 0; i <= vertices; ++i) {
    const double t = 2 * M_PI * (i % vertices) / vertices;
    coordinates +=
        fmt::format("{}[{:.9f},{:.9f}]", i == 0 ? "" : ",", 105.65 + 0.005 * std::cos(t), 18.70 + 0.005 * std::sin(t));
  }
  return R"({"type":"Polygon","coordinates":[[)" + coordinates + "]]}";
}

// Reads CSV text back with GDAL's CSV driver: header and rows.
struct ParsedCsv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

ParsedCsv parse_csv(const std::string& text) {
  GDALAllRegister();
  static int counter = 0;
  const std::string path = fmt::format("/vsimem/land_use_stats_test_{}.csv", counter++);
  VSILFILE* f = VSIFileFromMemBuffer(path.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(text.data())),
                                     static_cast<vsi_l_offset>(text.size()), FALSE);
  VSIFCloseL(f);
  const char* drivers[] = {"CSV", nullptr};
  const char* options[] = {"HEADERS=YES", "AUTODETECT_TYPE=NO", "KEEP_SOURCE_COLUMNS=NO", nullptr};
  ParsedCsv out;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, drivers, options, nullptr);
  EXPECT_NE(ds, nullptr) << "GDAL cannot read the CSV";
  if (ds != nullptr) {
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i)
      out.header.emplace_back(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
    OGR_L_ResetReading(layer);
    for (OGRFeatureH feature; (feature = OGR_L_GetNextFeature(layer)) != nullptr;) {
      std::map<std::string, std::string> row;
      for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) row[out.header[i]] = OGR_F_GetFieldAsString(feature, i);
      out.rows.push_back(std::move(row));
      OGR_F_Destroy(feature);
    }
    GDALClose(ds);
  }
  VSIUnlink(path.c_str());
  return out;
}

TEST(LandUseStats, EveryCatalogueCodeHasATopGroup) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_LAND_USE_DB");
  const auto def = store->find_layer("land_use_codes");
  ASSERT_TRUE(def.has_value());
  const std::size_t code_i = def->attribute_index("code");
  std::size_t codes = 0;
  store->scan("land_use_codes", false, [&](const layers::Feature& f) {
    const std::string code = text_value(f.values[code_i]);
    EXPECT_NE(land_use_group(code), "unknown") << code;
    ++codes;
    return true;
  });
  EXPECT_GT(codes, 100U);
  EXPECT_EQ(land_use_group("ODT"), "PNN");
  EXPECT_EQ(land_use_group("ODT+CLN"), "PNN");
  EXPECT_EQ(land_use_group("CLN+ODT"), "NNP");
  EXPECT_EQ(land_use_group("LUC"), "NNP");
  EXPECT_EQ(land_use_group("NCS"), "CSD");
  EXPECT_EQ(land_use_group("MVT"), "MVB");
  EXPECT_EQ(land_use_group("LUX"), "unknown");
  EXPECT_EQ(land_use_group(""), "unknown");
}

TEST(LandUseStats, CommuneAreasMatchAnIndependentComputation) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_LAND_USE_DB");
  const OgrTm3 tm3;
  ASSERT_TRUE(tm3.ok());
  const auto def = store->find_layer("parcels");
  ASSERT_TRUE(def.has_value());
  const std::size_t area_i = def->attribute_index("area_m2");
  std::ifstream expected_file(shared / "fixtures" / "nghean-dev" / "expected.json");
  const auto expected_json = nlohmann::json::parse(expected_file);
  const auto mapping = old_to_new(shared);

  for (const std::string commune : {"16681", "17827"}) {
    SCOPED_TRACE(commune);
    std::map<std::string, Expected> expected;
    Expected total;
    for_each_parcel(*store, mapping,
                    [&](const layers::Feature& f, const std::string& land_use, const std::string& code) {
                      if (code != commune) return;
                      const auto g = from_wkb(f.wkb);
                      ASSERT_NE(g, nullptr);
                      const double a = tm3.area(g.get());
                      const auto* legal = std::get_if<double>(&f.values[area_i]);
                      for (Expected* e : {&expected[land_use], &total}) {
                        e->area += a;
                        e->parcels += 1;
                        e->legal += legal != nullptr ? *legal : 0;
                      }
                    });
    ASSERT_GT(total.parcels, 0);

    const auto started = std::chrono::steady_clock::now();
    const LandUseStats stats = land_use_by_commune(*store, commune);
    std::cout << fmt::format("land_use_by_commune({}): {} parcels, {} codes, {:.1f} ms\n", commune, stats.parcels,
                             stats.codes.size(), ms_since(started));

    ASSERT_TRUE(stats.commune_code.has_value());
    EXPECT_EQ(*stats.commune_code, commune);
    EXPECT_EQ(stats.commune_name, expected_json.at("per_commune").at(commune).at("name").get<std::string>());
    EXPECT_EQ(stats.parcels, total.parcels);
    EXPECT_EQ(stats.parcels, expected_json.at("per_commune").at(commune).at("parcels").get<std::int64_t>());
    expect_within(stats.area_m2, total.area, 1e-3, "total area");
    ASSERT_TRUE(stats.legal_area_m2.has_value());
    expect_within(*stats.legal_area_m2, total.legal, 1e-9, "total legal area");
    ASSERT_EQ(stats.codes.size(), expected.size());
    double summed = 0;
    std::int64_t counted = 0;
    for (const auto& row : stats.codes) {
      SCOPED_TRACE(row.code);
      ASSERT_EQ(expected.count(row.code), 1U);
      const Expected& e = expected.at(row.code);
      EXPECT_EQ(row.parcels, e.parcels);
      expect_within(row.area_m2, e.area, 1e-3, "area of " + row.code);
      ASSERT_TRUE(row.legal_area_m2.has_value());
      expect_within(*row.legal_area_m2, e.legal, 1e-9, "legal area of " + row.code);
      EXPECT_EQ(row.group, land_use_group(row.code));
      if (land_use_group(row.code) != "unknown") {
        EXPECT_FALSE(row.name.empty());
      }
      summed += row.area_m2;
      counted += row.parcels;
    }
    EXPECT_NEAR(summed, stats.area_m2, 1e-6 * stats.area_m2);
    EXPECT_EQ(counted, stats.parcels);
    // Groups: the three always, each the sum of its codes.
    ASSERT_GE(stats.groups.size(), 3U);
    EXPECT_EQ(stats.groups[0].group, "NNP");
    EXPECT_EQ(stats.groups[1].group, "PNN");
    EXPECT_EQ(stats.groups[2].group, "CSD");
    EXPECT_EQ(stats.groups[0].name, "Nhóm đất nông nghiệp");
    for (const auto& g : stats.groups) {
      double area = 0;
      for (const auto& row : stats.codes) area += row.group == g.group ? row.area_m2 : 0;
      EXPECT_NEAR(g.area_m2, area, 1e-6 * stats.area_m2) << g.group;
    }
    expect_shares_sum_to_one(stats);
    if (commune == "16681") {  // holds the Shapefile's parcel with the unknown code 0DT
      const auto unknown = std::find_if(stats.codes.begin(), stats.codes.end(),
                                        [](const LandUseCodeStats& row) { return row.code == "0DT"; });
      ASSERT_NE(unknown, stats.codes.end());
      EXPECT_EQ(unknown->group, "unknown");
      EXPECT_EQ(unknown->name, "");
      EXPECT_EQ(stats.groups.back().group, "unknown");
      EXPECT_EQ(stats.codes.back().code, "0DT");  // the unknown group comes last
    }
  }
}

TEST(LandUseStats, CommuneWithoutParcelsAndUnknownCommune) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_LAND_USE_DB");
  const LandUseStats empty = land_use_by_commune(*store, "16702");  // a ward of the set without parcels
  EXPECT_EQ(empty.parcels, 0);
  EXPECT_EQ(empty.area_m2, 0);
  EXPECT_TRUE(empty.codes.empty());
  ASSERT_EQ(empty.groups.size(), 3U);
  for (const auto& g : empty.groups) EXPECT_EQ(g.share, 0);
  std::string message;
  EXPECT_EQ(code_of([&] { (void)land_use_by_commune(*store, "99999"); }, &message), ErrorCode::not_found);
  EXPECT_NE(message.find("99999"), std::string::npos) << message;
  EXPECT_THROW((void)land_use_by_commune(*store, "99999"), NotFoundError);
  EXPECT_THROW((void)land_use_by_commune(*store, ""), BadRequestError);
}

TEST(LandUseStats, DrawnPolygonMatchesOgrIntersections) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_LAND_USE_DB");
  const OgrTm3 tm3;
  ASSERT_TRUE(tm3.ok());
  // The middle of the parcels of old Phường Quang Trung (16681, now part of Phường Thành Vinh, 16681):
  // cuts through blocks and parcels.
  const layers::BBox cut = store->extent_where("parcels", "old_commune_code", layers::Value(std::string("16681")));
  ASSERT_FALSE(cut.empty());
  const double w = cut.west + 0.35 * (cut.east - cut.west), e = cut.west + 0.65 * (cut.east - cut.west);
  const double s = cut.south + 0.35 * (cut.north - cut.south), n = cut.south + 0.6 * (cut.north - cut.south);
  const auto drawn = from_wkt(fmt::format("POLYGON(({0} {1},{2} {1},{2} {3},{0} {3},{0} {1}))", w, s, e, n));
  ASSERT_NE(drawn, nullptr);

  std::map<std::string, Expected> expected;
  Expected total;
  for_each_parcel(*store, {}, [&](const layers::Feature& f, const std::string& land_use, const std::string&) {
    const auto g = from_wkb(f.wkb);
    ASSERT_NE(g, nullptr);
    if (!OGR_G_Intersects(drawn.get(), g.get())) return;
    const OgrGeometry part(OGR_G_Intersection(drawn.get(), g.get()));
    ASSERT_NE(part, nullptr);
    if (OGR_G_IsEmpty(part.get())) return;
    const double a = tm3.area(part.get());
    if (a <= 0) return;
    for (Expected* x : {&expected[land_use], &total}) {
      x->area += a;
      x->parcels += 1;
    }
  });
  ASSERT_GT(total.parcels, 50);

  const std::string geojson = rectangle(w, s, e, n);
  const auto started = std::chrono::steady_clock::now();
  const LandUseStats stats = land_use_in_polygon(*store, geojson);
  std::cout << fmt::format("land_use_in_polygon: {} parcels, {} codes, {:.1f} ms\n", stats.parcels, stats.codes.size(),
                           ms_since(started));

  EXPECT_FALSE(stats.commune_code.has_value());
  EXPECT_FALSE(stats.legal_area_m2.has_value());
  ASSERT_TRUE(stats.polygon_area_m2.has_value());
  expect_within(*stats.polygon_area_m2, tm3.area(drawn.get()), 1e-3, "polygon area");
  EXPECT_LE(stats.area_m2, *stats.polygon_area_m2 * (1 + 1e-9));  // parcels of one file do not overlap
  EXPECT_EQ(stats.parcels, total.parcels);
  expect_within(stats.area_m2, total.area, 1e-3, "total area");
  ASSERT_EQ(stats.codes.size(), expected.size());
  for (const auto& row : stats.codes) {
    SCOPED_TRACE(row.code);
    ASSERT_EQ(expected.count(row.code), 1U);
    EXPECT_EQ(row.parcels, expected.at(row.code).parcels);
    expect_within(row.area_m2, expected.at(row.code).area, 1e-3, "area of " + row.code);
    EXPECT_FALSE(row.legal_area_m2.has_value());
  }
  expect_shares_sum_to_one(stats);

  // The same polygon as a MultiPolygon inside a Feature answers the same.
  const std::string feature = fmt::format(
      R"({{"type":"Feature","properties":{{"note":"vẽ tay"}},"geometry":{{"type":"MultiPolygon","coordinates":[[[[{0},{1}],[{2},{1}],[{2},{3}],[{0},{3}],[{0},{1}]]]]}}}})",
      w, s, e, n);
  const LandUseStats again = land_use_in_polygon(*store, feature);
  EXPECT_EQ(again.parcels, stats.parcels);
  EXPECT_DOUBLE_EQ(again.area_m2, stats.area_m2);

  // A polygon away from every parcel: nothing, and no shares.
  const LandUseStats nothing = land_use_in_polygon(*store, rectangle(104.5, 19.5, 104.51, 19.51));
  EXPECT_EQ(nothing.parcels, 0);
  EXPECT_TRUE(nothing.codes.empty());
  EXPECT_GT(*nothing.polygon_area_m2, 1e6);
}

TEST(LandUseStats, BadPolygonsAreRefused) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_LAND_USE_DB");
  const auto refused = [&](const std::string& geojson, ErrorCode want, const std::string& mentions) {
    SCOPED_TRACE(geojson.substr(0, 120));
    std::string message;
    EXPECT_EQ(code_of([&] { (void)land_use_in_polygon(*store, geojson); }, &message), want) << message;
    EXPECT_NE(message.find(mentions), std::string::npos) << message;
  };
  refused(R"({"type":"Polygon","coordinates":[[[105.6,18.7],[105.61,18.7],)", ErrorCode::bad_request, "GeoJSON");
  refused("not json at all", ErrorCode::bad_request, "GeoJSON");
  refused("", ErrorCode::bad_request, "no polygon");
  refused(R"({"type":"Point","coordinates":[105.65,18.7]})", ErrorCode::bad_request, "Point");
  refused(
      R"({"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[105.6,18.7],[105.7,18.8]]}})",
      ErrorCode::bad_request, "LineString");
  refused(R"({"type":"FeatureCollection","features":[]})", ErrorCode::bad_request, "Polygon");
  refused(R"({"type":"Polygon","coordinates":[]})", ErrorCode::bad_request, "empty");
  refused(R"({"type":"MultiPolygon","coordinates":[]})", ErrorCode::bad_request, "empty");
  // A bowtie.
  refused(
      R"({"type":"Polygon","coordinates":[[[105.64,18.70],[105.66,18.72],[105.66,18.70],[105.64,18.72],[105.64,18.70]]]})",
      ErrorCode::bad_request, "invalid");
  // TM-3 metres instead of degrees.
  refused(R"({"type":"Polygon","coordinates":[[[590000,2070000],[591000,2070000],[591000,2071000],[590000,2070000]]]})",
          ErrorCode::bad_request, "longitude/latitude");
  refused(ring_polygon(10001), ErrorCode::too_large, "10000");
  EXPECT_EQ(error_info(ErrorCode::too_large).http_status, 413);
  EXPECT_THROW((void)land_use_in_polygon(*store, "{"), BadRequestError);
  // At the limit: 9,999 vertices and the closing one.
  const LandUseStats at_limit = land_use_in_polygon(*store, ring_polygon(kMaxPolygonVertices - 1));
  EXPECT_GT(*at_limit.polygon_area_m2, 0);
}

TEST(LandUseStats, JsonAndCsvCarryTheFiguresAndNoOwnerNames) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_LAND_USE_DB");
  const LandUseStats stats = land_use_by_commune(*store, "16681");
  ASSERT_FALSE(stats.codes.empty());

  const nlohmann::json json = to_json(stats);
  for (const char* key : {"commune_code", "commune_name", "area_m2", "legal_area_m2", "parcels", "groups", "codes"})
    EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_FALSE(json.contains("polygon_area_m2"));
  EXPECT_EQ(json.at("commune_code"), "16681");
  EXPECT_EQ(json.at("parcels").get<std::int64_t>(), stats.parcels);
  ASSERT_EQ(json.at("codes").size(), stats.codes.size());
  for (const auto& row : json.at("codes")) {
    for (const char* key : {"code", "name", "group", "area_m2", "legal_area_m2", "parcels", "share"})
      EXPECT_TRUE(row.contains(key)) << key;
  }
  ASSERT_EQ(json.at("groups").size(), stats.groups.size());
  for (const auto& row : json.at("groups")) {
    for (const char* key : {"group", "name", "area_m2", "parcels", "share"}) EXPECT_TRUE(row.contains(key)) << key;
  }

  const std::string csv = to_csv(stats);
  const ParsedCsv parsed = parse_csv(csv);
  const std::vector<std::string> header{"code",          "name",    "group", "group_name",    "area_m2",
                                        "legal_area_m2", "parcels", "share", "group_area_m2", "group_share"};
  EXPECT_EQ(parsed.header, header);
  ASSERT_EQ(parsed.rows.size(), stats.codes.size());
  bool saw_comma = false;
  for (std::size_t i = 0; i < stats.codes.size(); ++i) {
    const auto& row = parsed.rows[i];
    const auto& want = stats.codes[i];
    EXPECT_EQ(row.at("code"), want.code);
    EXPECT_EQ(row.at("name"), want.name);
    EXPECT_EQ(row.at("group"), want.group);
    EXPECT_NEAR(std::stod(row.at("area_m2")), want.area_m2, 0.01);
    EXPECT_EQ(std::stoll(row.at("parcels")), want.parcels);
    EXPECT_DOUBLE_EQ(std::stod(row.at("share")), want.share);
    saw_comma = saw_comma || want.name.find(',') != std::string::npos;
  }
  EXPECT_TRUE(saw_comma) << "16681 holds TMD, 'Đất thương mại, dịch vụ': a name with a comma";

  // Quoting: a name with a comma, a quote and a line break; an empty code; no legal area.
  LandUseStats made;
  made.area_m2 = 10;
  made.parcels = 2;
  made.codes.push_back({"X+Y", "Đất \"thử\", có dấu phẩy\nvà dòng mới", "unknown", 7.5, std::nullopt, 1, 0.75});
  made.codes.push_back({"", "", "unknown", 2.5, std::nullopt, 1, 0.25});
  made.groups.push_back({"unknown", "Mã, không có", 10, 2, 1.0});
  const ParsedCsv back = parse_csv(to_csv(made));
  ASSERT_EQ(back.rows.size(), 2U);
  EXPECT_EQ(back.rows[0].at("code"), "X+Y");
  EXPECT_EQ(back.rows[0].at("name"), "Đất \"thử\", có dấu phẩy\nvà dòng mới");
  EXPECT_EQ(back.rows[0].at("group_name"), "Mã, không có");
  EXPECT_EQ(back.rows[0].at("legal_area_m2"), "");
  EXPECT_EQ(back.rows[1].at("code"), "");
  EXPECT_EQ(back.rows[1].at("share"), "0.25");

  // Owner names: none of the commune's appears in either output.
  const auto def = store->find_layer("parcels");
  const std::size_t owner_i = def->attribute_index("owner_name");
  std::set<std::string> owners;
  for_each_parcel(*store, old_to_new(shared),
                  [&](const layers::Feature& f, const std::string&, const std::string& code) {
                    if (code == "16681" && !text_value(f.values[owner_i]).empty())
                      owners.insert(text_value(f.values[owner_i]));
                  });
  ASSERT_GT(owners.size(), 100U);
  const std::string json_text = json.dump();
  const LandUseStats polygon_stats =
      land_use_in_polygon(*store, rectangle(105.60, 18.60, 105.75, 18.80));  // the Vinh area
  const std::string texts[] = {json_text, csv, to_json(polygon_stats).dump(), to_csv(polygon_stats)};
  for (const std::string& text : texts) {
    EXPECT_EQ(text.find("owner"), std::string::npos);
    for (const std::string& owner : owners) ASSERT_EQ(text.find(owner), std::string::npos) << owner;
  }
  const nlohmann::json polygon_json = to_json(polygon_stats);
  EXPECT_TRUE(polygon_json.contains("polygon_area_m2"));
  EXPECT_FALSE(polygon_json.contains("commune_code"));
  EXPECT_FALSE(polygon_json.contains("legal_area_m2"));
}

}  // namespace
}  // namespace bandoso::features
