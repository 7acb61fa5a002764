#include "data-import/importer.hpp"

#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "layers/core/catalogue.hpp"
#include "layers/core/crs.hpp"
#include "layers/core/error.hpp"
#include "layers/core/store.hpp"
#include "layers/core/vntext.hpp"
#include "support/shared_data.hpp"

namespace bandoso::data_import {
namespace {

namespace fs = std::filesystem;
using layers::HelmertConvention;

// ---- helpers -----------------------------------------------------------------------------------------

const layers::Catalogue& catalogue() {
  static const layers::Catalogue instance = layers::Catalogue::load_directory(layers::default_layers_directory());
  return instance;
}

fs::path preset(const std::string& name) {
  return fs::path(BANDOSO_SOURCE_DIR) / "data-import" / "presets" / (name + ".yaml");
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("bandoso-import-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Metres between two lon/lat points (equirectangular: enough over a few metres).
double distance_m(double lon1, double lat1, double lon2, double lat2) {
  const double dx = (lon2 - lon1) * std::cos((lat1 + lat2) / 2 * M_PI / 180) * 111320.0;
  const double dy = (lat2 - lat1) * 110574.0;
  return std::hypot(dx, dy);
}

std::unique_ptr<OGRGeometry> from_wkb(const std::string& wkb) {
  OGRGeometry* geometry = nullptr;
  EXPECT_EQ(OGRGeometryFactory::createFromWkb(wkb.data(), nullptr, &geometry, wkb.size()), OGRERR_NONE);
  return std::unique_ptr<OGRGeometry>(geometry);
}

std::vector<layers::Feature> features(const layers::Store& store, const std::string& layer) {
  std::vector<layers::Feature> out;
  store.scan(layer, true, [&](const layers::Feature& f) {
    out.push_back(f);
    return true;
  });
  return out;
}

template <typename T>
T get(const layers::Feature& feature, const layers::LayerDef& def, const std::string& attribute) {
  const auto& value = feature.values.at(def.attribute_index(attribute));
  if (!std::holds_alternative<T>(value)) {
    ADD_FAILURE() << attribute << " has another type";
    return T{};
  }
  return std::get<T>(value);
}

bool is_null(const layers::Feature& feature, const layers::LayerDef& def, const std::string& attribute) {
  return std::holds_alternative<std::monostate>(feature.values.at(def.attribute_index(attribute)));
}

// source_id → reason of every issue with that action.
std::map<std::string, std::string> issues(const ImportReport& report, const std::string& action) {
  std::map<std::string, std::string> out;
  for (const auto& issue : report.records) {
    if (issue.action == action) out[issue.source_id] = issue.reason;
  }
  return out;
}

// WKT1 of an EPSG CRS, as a .prj holds it.
std::string wkt_of(int epsg) {
  OGRSpatialReference srs;
  srs.importFromEPSG(epsg);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  std::string out(wkt);
  CPLFree(wkt);
  return out;
}

// The fixture's .prj: VN-2000 / TM-3 104°45′ with TOWGS84 in the vn-common convention.
constexpr const char* kTm3Prj =
    R"wkt(PROJCS["VN-2000 / TM-3 104-45 (Nghe An)",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563],TOWGS84[-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",104.75],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]])wkt";

struct TestParcel {
  int objectid;
  std::string maxa;
  int sheet;
  std::optional<int> parcel;
  std::string owner;                            // UTF-8; written as TCVN3
  std::vector<std::pair<double, double>> ring;  // lon/lat, closed by the writer; empty: null shape
  double area_factor = 1.0;                     // DIENTICH: the TM-3 area (repaired for a bowtie) × this
  std::string land_use = "ODT";
};

constexpr double kLon = 105.6800, kLat = 18.6700;  // Vinh
constexpr double kStep = 0.0002;                   // ~20 m

std::vector<std::pair<double, double>> square(double lon, double lat) {
  return {{lon, lat}, {lon + kStep, lat}, {lon + kStep, lat + kStep}, {lon, lat + kStep}};
}

std::vector<TestParcel> test_parcels() {
  return {
      {1, "16669", 12, 345, "Nguyễn Văn Đức", square(kLon, kLat)},
      // Bowtie: two vertices swapped.
      {2,
       "16669",
       12,
       346,
       "Hộ bà Lê Thị Hoà",
       {{kLon + 2 * kStep, kLat},
        {kLon + 3 * kStep, kLat + kStep},
        {kLon + 3 * kStep, kLat},
        {kLon + 2 * kStep, kLat + kStep}}},
      {3, "16669", 12, std::nullopt, "Trần Quốc Tuấn", square(kLon + 4 * kStep, kLat)},
      {4, "16669", 12, 345, "Phan Bội Châu", square(kLon + 6 * kStep, kLat)},
      {5, "16669", 12, 347, "Hồ Xuân Hương", {}},
      {6, "16669", 12, 348, "Ngô Thì Nhậm", square(101.0, 21.5)},
  };
}

// A Famis-style Shapefile: TM-3 coordinates (vn-common), TCVN3 (or another legacy encoding) DBF text, no .cpg.
// `crs`: the PROJ definition the coordinates are written in; `prj`: the .prj text.
void write_famis_shapefile(const fs::path& shp, const std::vector<TestParcel>& parcels, bool with_prj = true,
                           layers::vntext::LegacyEncoding encoding = layers::vntext::LegacyEncoding::tcvn3,
                           const std::string& crs = layers::vn2000_tm3_proj(104.75, HelmertConvention::vn_common),
                           const std::string& prj = kTm3Prj) {
  GDALAllRegister();
  auto* driver = GetGDALDriverManager()->GetDriverByName("ESRI Shapefile");
  ASSERT_NE(driver, nullptr);
  GDALDatasetUniquePtr dataset(driver->Create(shp.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  ASSERT_TRUE(dataset);
  const char* options[] = {"ENCODING=", nullptr};  // raw bytes, no .cpg
  auto* layer = dataset->CreateLayer(shp.stem().c_str(), nullptr, wkbPolygon, const_cast<char**>(options));
  ASSERT_NE(layer, nullptr);
  auto add_field = [&](const char* name, OGRFieldType type, int width, int precision = 0) {
    OGRFieldDefn field(name, type);
    field.SetWidth(width);
    field.SetPrecision(precision);
    ASSERT_EQ(layer->CreateField(&field), OGRERR_NONE);
  };
  add_field("OBJECTID", OFTInteger, 9);
  add_field("SHBANDO", OFTInteger, 4);
  add_field("SHTHUA", OFTInteger, 5);
  add_field("DIENTICH", OFTReal, 12, 1);
  add_field("KHLOAIDAT", OFTString, 20);
  add_field("TENCHU", OFTString, 80);
  add_field("DIACHI", OFTString, 160);
  add_field("MAXA", OFTString, 5);
  const layers::Transformer to_tm3("EPSG:4326", crs);
  for (const auto& parcel : parcels) {
    OGRFeature feature(layer->GetLayerDefn());
    feature.SetField("OBJECTID", parcel.objectid);
    feature.SetField("SHBANDO", parcel.sheet);
    if (parcel.parcel) feature.SetField("SHTHUA", *parcel.parcel);
    feature.SetField("KHLOAIDAT", parcel.land_use.c_str());
    feature.SetField("TENCHU", layers::vntext::encode_legacy(parcel.owner, encoding).c_str());
    feature.SetField("DIACHI", layers::vntext::encode_legacy("Số 5 đường Lê Lợi, phường Hưng Bình", encoding).c_str());
    feature.SetField("MAXA", parcel.maxa.c_str());
    feature.SetField("DIENTICH", 400.5);
    if (!parcel.ring.empty()) {
      OGRLinearRing ring;
      for (auto [x, y] : parcel.ring) {
        to_tm3.transform(x, y);
        ring.addPoint(x, y);
      }
      ring.closeRings();
      OGRPolygon polygon;
      polygon.addRing(&ring);
      // The declared area is the planar TM-3 area, of the repaired geometry for a bowtie.
      const std::unique_ptr<OGRGeometry> valid(polygon.MakeValid());
      feature.SetField("DIENTICH",
                       std::round(OGR_G_Area(OGRGeometry::ToHandle(valid.get())) * parcel.area_factor * 10) / 10);
      feature.SetGeometry(&polygon);
    }
    ASSERT_EQ(layer->CreateFeature(&feature), OGRERR_NONE);
  }
  dataset.reset();
  fs::path prj_path = shp;
  prj_path.replace_extension(".prj");
  fs::remove(prj_path);
  if (with_prj) write_text(prj_path, prj);
  // GDAL writes an empty .cpg for ENCODING=""; Famis writes none.
  fs::path cpg = shp;
  fs::remove(cpg.replace_extension(".cpg"));
}

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = layers::open_spatialite_store(dir_ / "t.sqlite", layers::OpenMode::create); }

  ImportReport import(const std::string& layer, std::vector<fs::path> sources,
                      std::optional<fs::path> mapping = std::nullopt,
                      HelmertConvention helmert = HelmertConvention::vn_common, std::string source_crs = {}) {
    ImportOptions options;
    options.layer = layer;
    options.sources = std::move(sources);
    options.mapping = std::move(mapping);
    options.helmert = helmert;
    options.source_crs = std::move(source_crs);
    return run_import(*store_, catalogue().layer(layer), options);
  }

  ImportReport import_with(const std::string& layer, ImportOptions options) {
    options.layer = layer;
    return run_import(*store_, catalogue().layer(layer), options);
  }

  TempDir dir_;
  std::unique_ptr<layers::Store> store_;
};

// ---- small data made here ----------------------------------------------------------------------------

TEST_F(ImporterTest, Tcvn3ShapefileInTm3) {
  const fs::path shp = dir_ / "thua.shp";
  write_famis_shapefile(shp, test_parcels());
  const auto report = import("parcels", {shp}, preset("famis_parcels"));

  EXPECT_EQ(report.detected_encoding, "tcvn3");
  EXPECT_EQ(report.record.read, 6);
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_EQ(report.record.rejected, 4);
  EXPECT_EQ(report.record.repaired, 1);
  EXPECT_EQ(report.record.flagged, 1);
  EXPECT_NE(report.record.source_crs.find("VN-2000"), std::string::npos) << report.record.source_crs;
  EXPECT_EQ(report.record.source_sha256.size(), 64U);
  EXPECT_EQ(report.record.source, shp.string());
  const std::map<std::string, std::string> rejected{{"3", "missing_parcel_number"},
                                                    {"4", "duplicate_parcel_key"},
                                                    {"5", "empty_geometry"},
                                                    {"6", "outside_province"}};
  EXPECT_EQ(issues(report, "rejected"), rejected);
  EXPECT_EQ(issues(report, "repaired"), (std::map<std::string, std::string>{{"2", "self_intersection_repaired"}}));

  const auto& def = catalogue().layer("parcels");
  ASSERT_EQ(store_->count("parcels"), 2);
  const auto stored = features(*store_, "parcels");
  const auto source = test_parcels();
  for (const auto& feature : stored) {
    const auto parcel_no = get<std::int64_t>(feature, def, "parcel_no");
    const auto& expected = parcel_no == 345 ? source[0] : source[1];
    EXPECT_EQ(get<std::string>(feature, def, "owner_name"), expected.owner);
    EXPECT_EQ(get<std::string>(feature, def, "address"), "Số 5 đường Lê Lợi, phường Hưng Bình");
    EXPECT_EQ(get<std::string>(feature, def, "old_commune_code"), "16669");
    EXPECT_EQ(get<std::int64_t>(feature, def, "sheet_no"), 12);
    EXPECT_GT(get<double>(feature, def, "area_m2"), 200.0);
    EXPECT_TRUE(is_null(feature, def, "commune_code"));
    auto geometry = from_wkb(feature.wkb);
    ASSERT_TRUE(geometry);
    EXPECT_EQ(geometry->getGeometryType(), wkbMultiPolygon);
    EXPECT_TRUE(geometry->IsValid());
    if (parcel_no == 345) {
      // Back in WGS84 within a centimetre of where the test put it.
      const auto* ring = geometry->toMultiPolygon()->getGeometryRef(0)->getExteriorRing();
      for (int i = 0; i < ring->getNumPoints(); ++i) {
        double best = 1e9;
        for (auto [x, y] : expected.ring) best = std::min(best, distance_m(ring->getX(i), ring->getY(i), x, y));
        EXPECT_LT(best, 0.01);
      }
    } else {
      EXPECT_EQ(geometry->toMultiPolygon()->getNumGeometries(), 2);  // the bowtie's two triangles
    }
  }

  const auto json = report.to_json();
  EXPECT_EQ(json["layer"], "parcels");
  EXPECT_EQ(json["imported"], 2);
  EXPECT_EQ(json["rejected"], 4);
  EXPECT_EQ(json["records"].size(), 5U);
  EXPECT_EQ(json["records"][0]["source_id"], "2");
  EXPECT_NE(report.summary().find("2 imported"), std::string::npos) << report.summary();
}

TEST_F(ImporterTest, HelmertConventionMovesPointsBySeventyCentimetres) {
  const fs::path shp = dir_ / "thua.shp";
  std::vector<TestParcel> one{test_parcels()[0]};
  write_famis_shapefile(shp, one);
  const auto& def = catalogue().layer("parcels");
  auto first_vertex = [&] {
    const auto stored = features(*store_, "parcels");
    EXPECT_EQ(stored.size(), 1U);
    auto geometry = from_wkb(stored.at(0).wkb);
    const auto* ring = geometry->toMultiPolygon()->getGeometryRef(0)->getExteriorRing();
    (void)def;
    return std::pair{ring->getX(0), ring->getY(0)};
  };
  import("parcels", {shp}, preset("famis_parcels"), HelmertConvention::vn_common);
  const auto common = first_vertex();
  const auto report = import("parcels", {shp}, preset("famis_parcels"), HelmertConvention::epsg);
  EXPECT_NE(report.record.source_crs.find("epsg"), std::string::npos) << report.record.source_crs;
  const auto epsg = first_vertex();
  const double shift = distance_m(common.first, common.second, epsg.first, epsg.second);
  EXPECT_GT(shift, 0.5);
  EXPECT_LT(shift, 1.0);
  EXPECT_LT(distance_m(common.first, common.second, kLon, kLat), 0.01);
}

// VN-2000 as Vietnamese files carry it: geographic, UTM 48/49, TM-3 on any provincial meridian.
TEST_F(ImporterTest, Vn2000VariantsLandWhereTheyShould) {
  const auto common = HelmertConvention::vn_common;
  const std::string towgs84 = layers::vn2000_towgs84(common);
  const std::string tm3_105_30 =
      R"(PROJCS["VN-2000 / TM-3 105-30",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563],)"
      "TOWGS84[" +
      towgs84 +
      R"(]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],)"
      R"(PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105.5],PARAMETER["scale_factor",0.9999],)"
      R"(PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]])";
  struct Case {
    std::string name, crs, prj, source_crs;
  };
  const std::vector<Case> cases{
      {"TM-3 105°30′ .prj", layers::vn2000_tm3_proj(105.5, common), tm3_105_30, ""},
      {"UTM 48N .prj", layers::vn2000_utm_proj(48, common), wkt_of(3405), ""},
      {"UTM 49N by --source-crs", layers::vn2000_utm_proj(49, common), "", "EPSG:3406"},
      {"geographic by --source-crs", "+proj=longlat +ellps=WGS84 +towgs84=" + towgs84 + " +no_defs", "", "EPSG:4756"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path shp = dir_ / "thua.shp";
    write_famis_shapefile(shp, {test_parcels()[0]}, !c.prj.empty(), layers::vntext::LegacyEncoding::tcvn3, c.crs,
                          c.prj);
    ImportOptions options;
    options.sources = {shp};
    options.mapping = preset("famis_parcels");
    options.source_crs = c.source_crs;
    const auto report = import_with("parcels", options);
    EXPECT_EQ(report.record.imported, 1);
    EXPECT_NE(report.record.source_crs.find("VN-2000"), std::string::npos) << report.record.source_crs;
    EXPECT_NE(report.record.source_crs.find("vn-common"), std::string::npos) << report.record.source_crs;
    const auto stored = features(*store_, "parcels");
    ASSERT_EQ(stored.size(), 1U);
    const auto geometry = from_wkb(stored[0].wkb);
    const auto* ring = geometry->toMultiPolygon()->getGeometryRef(0)->getExteriorRing();
    EXPECT_LT(distance_m(ring->getX(0), ring->getY(0), kLon, kLat), 0.01);
    EXPECT_EQ(report.records.size(), 0U) << report.to_json().dump();  // the area fits in every projection
  }
}

TEST_F(ImporterTest, ShapefileWithoutPrjNeedsSourceCrs) {
  const fs::path shp = dir_ / "thua.shp";
  std::vector<TestParcel> one{test_parcels()[0]};
  write_famis_shapefile(shp, one, /*with_prj=*/false);
  try {
    import("parcels", {shp}, preset("famis_parcels"));
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--source-crs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(shp.string()), std::string::npos) << e.what();
  }
  // EPSG:9208 is recognised as VN-2000 and rebuilt with our convention (EPSG's own would be 0.7 m off).
  const auto report = import("parcels", {shp}, preset("famis_parcels"), HelmertConvention::vn_common, "EPSG:9208");
  EXPECT_EQ(report.record.imported, 1);
  const auto stored = features(*store_, "parcels");
  auto geometry = from_wkb(stored.at(0).wkb);
  const auto* ring = geometry->toMultiPolygon()->getGeometryRef(0)->getExteriorRing();
  EXPECT_LT(distance_m(ring->getX(0), ring->getY(0), kLon, kLat), 0.01);
}

TEST_F(ImporterTest, GeoJsonStreetsWithoutMapping) {
  const fs::path file = dir_ / "streets.geojson";
  write_text(
      file,
      R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"S1","name":")" +
          std::string("Le\xCC\x82 Lo\xCC\x9B\xCC\xA3i") /* "Lê Lợi" decomposed */ +
          R"(","kind":"street","commune_code":"16681"},"geometry":{"type":"LineString","coordinates":[[105.68,18.67],[105.681,18.671]]}},
{"type":"Feature","properties":{"id":"S2","name":"Ngõ 12","kind":"lane","commune_code":"16681"},"geometry":{"type":"MultiLineString","coordinates":[[[105.68,18.67],[105.682,18.672]]]}},
{"type":"Feature","properties":{"id":"S3","name":"x","kind":"  ","commune_code":"16681"},"geometry":{"type":"LineString","coordinates":[[105.68,18.67],[105.681,18.671]]}},
{"type":"Feature","properties":{"id":"S1","name":"again","kind":"street","commune_code":"16681"},"geometry":{"type":"LineString","coordinates":[[105.68,18.67],[105.681,18.671]]}},
{"type":"Feature","properties":{"id":"S4","name":"far","kind":"street","commune_code":"16681"},"geometry":{"type":"LineString","coordinates":[[2.35,48.85],[2.36,48.86]]}},
{"type":"Feature","properties":{"id":"S5","name":"area","kind":"street","commune_code":"16681"},"geometry":{"type":"Polygon","coordinates":[[[105.68,18.67],[105.681,18.67],[105.681,18.671],[105.68,18.67]]]}}
]})");
  const auto report = import("streets", {file});
  EXPECT_EQ(report.detected_encoding, "utf-8");
  EXPECT_EQ(report.record.source_crs, "EPSG:4326");
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"S3", "missing_kind"},
                                                                            {"S1", "duplicate_street_key"},
                                                                            {"S4", "outside_province"},
                                                                            {"S5", "wrong_geometry_type"}}));
  const auto& def = catalogue().layer("streets");
  for (const auto& feature : features(*store_, "streets")) {
    EXPECT_EQ(from_wkb(feature.wkb)->getGeometryType(), wkbMultiLineString);
    if (get<std::string>(feature, def, "id") == "S1") {
      EXPECT_EQ(get<std::string>(feature, def, "name"), "Lê Lợi");  // stored in NFC
    }
  }
}

constexpr const char* kAddressHeader =
    "id,digital_code,house_number,lane,street,hamlet,commune_code,commune_name,old_commune_code,old_commune_name,"
    "old_district_name,postcode,lon,lat,plus_code\n";

TEST_F(ImporterTest, CsvAddressesWithPreset) {
  const fs::path file = dir_ / "dia_chi.csv";
  write_text(file, std::string(kAddressHeader) +
                       "DA000001,7440515318,1,ngõ 12,Dã Tượng,khối 9,16681,Phường Thành Vinh,16681,Phường Quang "
                       "Trung,Thành phố Vinh,43112,105.6592126,18.6705490,7PC7MMC5+6M\n"
                       "DA000002,6421939165,2,,Dã Tượng,khối 9,16681,Phường Thành Vinh,16681,Phường Quang "
                       "Trung,Thành phố Vinh,43112,105.6592937,18.6705559,7PC7MMC5+6P\n"
                       "DA000003,6421939166,4,,Dã Tượng,khối 9,16681,Phường Thành Vinh,16681,Phường Quang "
                       "Trung,Thành phố Vinh,43112,18.6705559,105.6592937,7PC7MMC5+6P\n");
  const auto report = import("addresses", {file}, preset("address_list"));
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"DA000003", "outside_province"}}));
  const auto& def = catalogue().layer("addresses");
  for (const auto& feature : features(*store_, "addresses")) {
    auto geometry = from_wkb(feature.wkb);
    ASSERT_EQ(geometry->getGeometryType(), wkbPoint);
    if (get<std::string>(feature, def, "id") == "DA000001") {
      EXPECT_DOUBLE_EQ(geometry->toPoint()->getX(), 105.6592126);
      EXPECT_DOUBLE_EQ(geometry->toPoint()->getY(), 18.6705490);
      EXPECT_EQ(get<std::string>(feature, def, "lane"), "ngõ 12");
    } else {
      EXPECT_TRUE(is_null(feature, def, "lane"));  // blank → null
    }
  }
}

TEST_F(ImporterTest, CsvWithoutGeometryLayer) {
  const fs::path file = dir_ / "ma_loai_dat.csv";
  write_text(file,
             "code,name_vi,level,era,source\n"
             "ODT,Đất ở tại đô thị,code,TT25/28-2014,x\n"
             "ONT,Đất ở tại nông thôn,code,TT25/28-2014,x\n"
             "XXX,,code,TT25/28-2014,x\n");
  const auto report = import("land_use_codes", {file}, preset("land_use_codes"));
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_TRUE(report.record.source_crs.empty());
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"XXX", "missing_name_vi"}}));
  EXPECT_EQ(store_->count("land_use_codes"), 2);
}

TEST_F(ImporterTest, SeveralSourcesAreOneImport) {
  auto street = [](const std::string& id) {
    return R"({"type":"Feature","properties":{"id":")" + id +
           R"(","name":"n","kind":"lane","commune_code":"16681"},"geometry":{"type":"LineString","coordinates":[[105.68,18.67],[105.681,18.671]]}})";
  };
  write_text(dir_ / "a.geojson",
             R"({"type":"FeatureCollection","features":[)" + street("A1") + "," + street("A2") + "]}");
  write_text(dir_ / "b.geojson",
             R"({"type":"FeatureCollection","features":[)" + street("B1") + "," + street("A2") + "]}");
  const auto report = import("streets", {dir_ / "a.geojson", dir_ / "b.geojson"}, preset("street_list"));
  EXPECT_EQ(report.record.read, 4);
  EXPECT_EQ(report.record.imported, 3);
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"b.geojson:A2", "duplicate_street_key"}}));
  EXPECT_EQ(report.record.source, (dir_ / "a.geojson").string() + ";" + (dir_ / "b.geojson").string());
  EXPECT_EQ(store_->count("streets"), 3);
}

TEST_F(ImporterTest, MissingAndUnreadableFiles) {
  try {
    import("streets", {dir_ / "nothing.geojson"});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::file_not_found);
    EXPECT_EQ(std::string(e.what()), (dir_ / "nothing.geojson").string() + ": no such file");
  }
  write_text(dir_ / "garbage.shp", "this is not a shapefile at all, not even close to one");
  try {
    import("streets", {dir_ / "garbage.shp"});
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.shp"), std::string::npos) << e.what();
  }
  write_text(dir_ / "s.geojson", R"({"type":"FeatureCollection","features":[]})");
  try {
    import("streets", {dir_ / "s.geojson"}, dir_ / "no-mapping.yaml");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::file_not_found);
  }
  EXPECT_THROW(import("streets", {dir_ / "s.geojson"}, preset("famis_parcels")), ConfigError);
}

TEST_F(ImporterTest, MappedFieldMissingFromSource) {
  write_text(dir_ / "s.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"S1","ten":"x","loai":"lane","ma":"16681"},"geometry":{"type":"LineString","coordinates":[[105.68,18.67],[105.681,18.671]]}}]})");
  try {
    import("streets", {dir_ / "s.geojson"}, preset("street_list"));
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'name'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("street_list.yaml"), std::string::npos) << e.what();
  }
}

TEST_F(ImporterTest, DamagedShapefileFailsAndKeepsTheStore) {
  const fs::path good = dir_ / "good.shp";
  write_famis_shapefile(good, test_parcels());
  import("parcels", {good}, preset("famis_parcels"));
  ASSERT_EQ(store_->count("parcels"), 2);

  // The same file with its .shp cut in the middle of the second record.
  const fs::path bad = dir_ / "bad.shp";
  for (const char* ext : {".shp", ".shx", ".dbf", ".prj"}) {
    fs::copy_file(fs::path(good).replace_extension(ext), fs::path(bad).replace_extension(ext));
  }
  fs::resize_file(bad, 100 + 8 + 128 + 8 + 60);
  const std::string before = read_bytes(dir_ / "t.sqlite");
  try {
    import("parcels", {bad}, preset("famis_parcels"));
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.shp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("feature"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store_->count("parcels"), 2);
  EXPECT_EQ(read_bytes(dir_ / "t.sqlite"), before);
}

// ---- the shared fixtures -----------------------------------------------------------------------------

struct ExpectedParcel {
  std::string owner, address, land_use, area, commune_code;
  double lon = 0, lat = 0;
  int objectid = 0;
};

// parcels_tm3_tcvn3.expected_utf8.csv by (MAXA, SHBANDO, SHTHUA), read with GDAL's CSV driver.
std::map<std::tuple<std::string, long, long>, ExpectedParcel> expected_parcels(const fs::path& csv) {
  std::map<std::tuple<std::string, long, long>, ExpectedParcel> out;
  GDALAllRegister();
  GDALDatasetUniquePtr dataset(GDALDataset::Open(csv.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  EXPECT_TRUE(dataset);
  if (!dataset) return out;
  auto* layer = dataset->GetLayer(0);
  for (auto& feature : *layer) {
    const std::string shthua = feature->GetFieldAsString("SHTHUA");
    const std::string lon = feature->GetFieldAsString("centroid_lon");
    if (shthua.empty() || lon.empty()) continue;  // the rejected records
    ExpectedParcel row;
    row.objectid = std::stoi(feature->GetFieldAsString("OBJECTID"));
    row.owner = feature->GetFieldAsString("TENCHU");
    row.address = feature->GetFieldAsString("DIACHI");
    row.land_use = feature->GetFieldAsString("KHLOAIDAT");
    row.lon = std::stod(lon);
    row.lat = std::stod(feature->GetFieldAsString("centroid_lat"));
    row.commune_code = feature->GetFieldAsString("commune_code");
    // The first record keeps a duplicated key.
    out.try_emplace(
        {feature->GetFieldAsString("MAXA"), std::stol(feature->GetFieldAsString("SHBANDO")), std::stol(shthua)}, row);
  }
  return out;
}

TEST_F(ImporterTest, FixtureFamisShapefile) {
  BANDOSO_REQUIRE_SHARED(shared);
  const fs::path dir = shared / "fixtures" / "nghean-dev";
  // The conversion table first: the parcels' 2025 commune comes from their former commune.
  import("commune_mapping", {shared / "reference" / "nghean" / "nghean_mapping_old_to_new_2025.csv"},
         preset("gso_commune_mapping"));
  const auto report = import("parcels", {dir / "parcels_tm3_tcvn3.shp"}, preset("famis_parcels"));
  EXPECT_EQ(report.record.read, 9934);
  EXPECT_EQ(report.record.imported, 9931);
  EXPECT_EQ(report.record.rejected, 3);
  EXPECT_EQ(report.record.repaired, 2);
  EXPECT_EQ(report.detected_encoding, "tcvn3");
  EXPECT_EQ(store_->count("parcels"), 9931);

  // Reasons as bad_records.json gives them.
  const auto bad = nlohmann::json::parse(read_bytes(dir / "bad_records.json"));
  std::map<std::string, std::string> want_rejected, want_repaired;
  for (const auto& record : bad["records"]) {
    if (record["file"] != "parcels_tm3_tcvn3.shp") continue;
    const std::string id = record["id"].get<std::string>().substr(std::string("OBJECTID=").size());
    if (record["expected_status"] == "rejected") want_rejected[id] = record["reason_code"];
    if (record["reason_code"] == "self_intersection_repaired") want_repaired[id] = record["reason_code"];
  }
  EXPECT_EQ(want_rejected.size(), 3U);
  EXPECT_EQ(issues(report, "rejected"), want_rejected);
  EXPECT_EQ(issues(report, "repaired"), want_repaired);

  // Text and centroids of a sample (every 37th parcel and the repaired ones) against the expected CSV.
  const auto expected = expected_parcels(dir / "parcels_tm3_tcvn3.expected_utf8.csv");
  ASSERT_EQ(expected.size(), 9931U);  // 9934 minus the blank parcel number, the duplicate, the null shape
  const auto& def = catalogue().layer("parcels");
  std::map<int, std::pair<double, double>> centroids;  // objectid → lon/lat, for the Helmert check below
  int checked = 0;
  store_->scan("parcels", true, [&](const layers::Feature& feature) {
    const auto it =
        expected.find({get<std::string>(feature, def, "old_commune_code"), get<std::int64_t>(feature, def, "sheet_no"),
                       get<std::int64_t>(feature, def, "parcel_no")});
    EXPECT_NE(it, expected.end());
    if (it == expected.end()) return true;
    const auto& row = it->second;
    if (row.objectid % 37 != 0 && row.objectid != 1188 && row.objectid != 3154) return true;
    EXPECT_EQ(get<std::string>(feature, def, "owner_name"), row.owner) << row.objectid;
    EXPECT_EQ(get<std::string>(feature, def, "address"), row.address) << row.objectid;
    EXPECT_EQ(get<std::string>(feature, def, "land_use"), row.land_use) << row.objectid;
    EXPECT_EQ(get<std::string>(feature, def, "commune_code"), row.commune_code) << row.objectid;
    auto geometry = from_wkb(feature.wkb);
    OGRPoint centroid;
    EXPECT_EQ(geometry->Centroid(&centroid), OGRERR_NONE);
    EXPECT_LT(distance_m(centroid.getX(), centroid.getY(), row.lon, row.lat), 0.1) << row.objectid;
    centroids[row.objectid] = {centroid.getX(), centroid.getY()};
    ++checked;
    return true;
  });
  EXPECT_GT(checked, 250);

  // With EPSG's rotation signs the same parcels move by ~0.7 m: the two conventions are told apart.
  import("parcels", {dir / "parcels_tm3_tcvn3.shp"}, preset("famis_parcels"), HelmertConvention::epsg);
  int moved = 0;
  store_->scan("parcels", true, [&](const layers::Feature& feature) {
    const auto it =
        expected.find({get<std::string>(feature, def, "old_commune_code"), get<std::int64_t>(feature, def, "sheet_no"),
                       get<std::int64_t>(feature, def, "parcel_no")});
    if (it == expected.end() || !centroids.contains(it->second.objectid)) return true;
    auto geometry = from_wkb(feature.wkb);
    OGRPoint centroid;
    geometry->Centroid(&centroid);
    const auto [lon, lat] = centroids[it->second.objectid];
    const double shift = distance_m(centroid.getX(), centroid.getY(), lon, lat);
    EXPECT_GT(shift, 0.5) << it->second.objectid;
    EXPECT_LT(shift, 1.0) << it->second.objectid;
    EXPECT_GT(distance_m(centroid.getX(), centroid.getY(), it->second.lon, it->second.lat), 0.5);
    ++moved;
    return true;
  });
  EXPECT_EQ(moved, checked);
}

TEST_F(ImporterTest, FixtureTruncatedShapefileLeavesTheStoreIntact) {
  BANDOSO_REQUIRE_SHARED(shared);
  const fs::path dir = shared / "fixtures" / "nghean-dev";
  import("parcels", {dir / "parcels_tm3_tcvn3.shp"}, preset("famis_parcels"));
  ASSERT_EQ(store_->count("parcels"), 9931);
  const auto version = store_->data_version();
  const std::string before = read_bytes(dir_ / "t.sqlite");
  const fs::path truncated = dir / "corrupt" / "parcels_truncated.shp";
  try {
    import("parcels", {truncated}, preset("famis_parcels"));
    FAIL() << "the truncated file was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(truncated.string()), std::string::npos) << message;
    EXPECT_NE(message.find("feature"), std::string::npos) << message;
    EXPECT_NE(message.find("fread"), std::string::npos) << message;
  }
  EXPECT_EQ(store_->count("parcels"), 9931);
  EXPECT_EQ(store_->data_version(), version);
  EXPECT_EQ(read_bytes(dir_ / "t.sqlite"), before);
}

TEST_F(ImporterTest, FixtureGeoPackage) {
  BANDOSO_REQUIRE_SHARED(shared);
  const auto report = import("parcels", {shared / "fixtures/nghean-dev/parcels_utf8.gpkg"}, preset("gpkg_parcels"));
  EXPECT_EQ(report.detected_encoding, "utf-8");
  EXPECT_EQ(report.record.source_crs, "EPSG:4326");
  EXPECT_EQ(report.record.read, 9735);
  EXPECT_EQ(report.record.imported, 9732);
  EXPECT_EQ(issues(report, "rejected"),
            (std::map<std::string, std::string>{
                {"3497", "missing_parcel_number"}, {"5178", "duplicate_parcel_key"}, {"5193", "empty_geometry"}}));
  EXPECT_EQ(issues(report, "repaired"), (std::map<std::string, std::string>{{"941", "self_intersection_repaired"},
                                                                            {"5373", "self_intersection_repaired"}}));
}

TEST_F(ImporterTest, FixtureAddressesAndStreets) {
  BANDOSO_REQUIRE_SHARED(shared);
  const fs::path dir = shared / "fixtures" / "nghean-dev";
  auto report = import("addresses", {dir / "addresses.csv"}, preset("address_list"));
  EXPECT_EQ(report.record.imported, 30823);
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"DA006863", "outside_province"}}));
  // The same rows as GeoJSON points: the preset's csv columns do not matter there.
  report = import("addresses", {dir / "addresses.geojson"}, preset("address_list"));
  EXPECT_EQ(report.record.imported, 30823);
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"DA006863", "outside_province"}}));
  report = import("streets", {dir / "streets.geojson"}, preset("street_list"));
  EXPECT_EQ(report.record.imported, 802);
  EXPECT_EQ(report.record.rejected, 0);
}

// ---- encodings, checks and mapping rules -------------------------------------------------------------

TEST_F(ImporterTest, LegacyEncodingsAreDetectedAndOverridable) {
  using layers::vntext::LegacyEncoding;
  const std::vector<TestParcel> parcels{test_parcels()[0], test_parcels()[1]};
  for (const auto& [encoding, name] : std::vector<std::pair<LegacyEncoding, std::string>>{
           {LegacyEncoding::tcvn3, "tcvn3"}, {LegacyEncoding::vni, "vni"}, {LegacyEncoding::cp1258, "cp1258"}}) {
    SCOPED_TRACE(name);
    const fs::path shp = dir_ / ("thua_" + name + ".shp");
    write_famis_shapefile(shp, parcels, true, encoding);
    const auto report = import("parcels", {shp}, preset("famis_parcels"));
    EXPECT_EQ(report.detected_encoding, name);
    EXPECT_EQ(report.record.encoding, name);
    EXPECT_EQ(report.record.imported, 2);
    const auto& def = catalogue().layer("parcels");
    std::set<std::string> owners;
    for (const auto& feature : features(*store_, "parcels")) {
      owners.insert(get<std::string>(feature, def, "owner_name"));
      EXPECT_EQ(get<std::string>(feature, def, "address"), "Số 5 đường Lê Lợi, phường Hưng Bình");
    }
    EXPECT_EQ(owners, (std::set<std::string>{"Nguyễn Văn Đức", "Hộ bà Lê Thị Hoà"}));
  }
  // --encoding overrides detection: VNI bytes read as TCVN3 give other letters.
  ImportOptions options;
  options.sources = {dir_ / "thua_vni.shp"};
  options.mapping = preset("famis_parcels");
  options.encoding = "tcvn3";
  const auto report = import_with("parcels", options);
  EXPECT_EQ(report.detected_encoding, "tcvn3");
  for (const auto& feature : features(*store_, "parcels")) {
    EXPECT_NE(get<std::string>(feature, catalogue().layer("parcels"), "owner_name"), "Nguyễn Văn Đức");
  }
}

TEST_F(ImporterTest, DeclaredAreaFarFromTheGeometryIsFlagged) {
  std::vector<TestParcel> parcels;
  const double factors[] = {1.0, 1.04, 1.10, 0.90};
  for (int i = 0; i < 4; ++i) {
    TestParcel parcel = test_parcels()[0];
    parcel.objectid = i + 1;
    parcel.parcel = 100 + i;
    parcel.ring = square(kLon + 2 * i * kStep, kLat);
    parcel.area_factor = factors[i];
    parcels.push_back(parcel);
  }
  parcels.push_back(test_parcels()[1]);  // the bowtie: its declared area is the repaired one's
  parcels.back().objectid = 5;
  const fs::path shp = dir_ / "thua.shp";
  write_famis_shapefile(shp, parcels);
  const auto report = import("parcels", {shp}, preset("famis_parcels"));
  EXPECT_EQ(report.record.imported, 5);
  EXPECT_EQ(report.record.flagged, 3);  // two areas and the repaired bowtie
  EXPECT_EQ(issues(report, "flagged"),
            (std::map<std::string, std::string>{{"3", "area_mismatch"}, {"4", "area_mismatch"}}));
  EXPECT_EQ(issues(report, "repaired"), (std::map<std::string, std::string>{{"5", "self_intersection_repaired"}}));
}

TEST_F(ImporterTest, LandUseCodesAreCheckedAgainstTheCatalogue) {
  std::vector<TestParcel> parcels;
  const char* codes[] = {"ODT", "ONT+CLN", "0DT", "ONT+LUX"};
  for (int i = 0; i < 4; ++i) {
    TestParcel parcel = test_parcels()[0];
    parcel.objectid = i + 1;
    parcel.parcel = 100 + i;
    parcel.ring = square(kLon + 2 * i * kStep, kLat);
    parcel.land_use = codes[i];
    parcels.push_back(parcel);
  }
  const fs::path shp = dir_ / "thua.shp";
  write_famis_shapefile(shp, parcels);
  // No catalogue in the store yet: nothing is flagged, and the report says why.
  auto report = import("parcels", {shp}, preset("famis_parcels"));
  EXPECT_EQ(report.record.flagged, 0);
  ASSERT_EQ(report.notes.size(), 1U);
  EXPECT_NE(report.notes[0].find("land_use_codes"), std::string::npos) << report.notes[0];

  write_text(dir_ / "codes.csv",
             "code,name_vi,level,era\nODT,Đất ở tại đô thị,code,x\nONT,Đất ở tại nông thôn,code,x\n"
             "CLN,Đất trồng cây lâu năm,code,x\n");
  import("land_use_codes", {dir_ / "codes.csv"}, preset("land_use_codes"));
  report = import("parcels", {shp}, preset("famis_parcels"));
  EXPECT_EQ(report.record.imported, 4);
  EXPECT_EQ(report.record.flagged, 2);
  EXPECT_TRUE(report.notes.empty());
  EXPECT_EQ(issues(report, "flagged"),
            (std::map<std::string, std::string>{{"3", "unknown_land_use_code"}, {"4", "unknown_land_use_code"}}));
}

TEST_F(ImporterTest, CommuneMappingNeedsExistingNewUnits) {
  write_text(dir_ / "map.csv",
             "old_code,old_name,old_district_code,old_district_name,new_code,new_name,note\n"
             "16669,Phường Lê Lợi,412,Thành phố Vinh,16681,Phường Thành Vinh,Nhập toàn bộ\n"
             "16693,Phường Bến Thủy,412,Thành phố Vinh,16690,Phường Trường Vinh,Nhập toàn bộ\n"
             "16700,Xã Nowhere,412,Thành phố Vinh,99999,Xã Nowhere,Nhập toàn bộ\n");
  // Without communes the codes cannot be checked.
  auto report = import("commune_mapping", {dir_ / "map.csv"}, preset("gso_commune_mapping"));
  EXPECT_EQ(report.record.imported, 3);
  EXPECT_EQ(report.notes.size(), 1U);

  write_text(dir_ / "communes.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"16681","name":"Thành Vinh","type":"Phường","full_name":"Phường Thành Vinh"},"geometry":{"type":"Polygon","coordinates":[[[105.64,18.65],[105.68,18.65],[105.68,18.69],[105.64,18.65]]]}},
{"type":"Feature","properties":{"code":"16690","name":"Trường Vinh","type":"Phường","full_name":"Phường Trường Vinh"},"geometry":{"type":"Polygon","coordinates":[[[105.68,18.65],[105.72,18.65],[105.72,18.69],[105.68,18.65]]]}}]})");
  import("communes", {dir_ / "communes.geojson"});
  report = import("commune_mapping", {dir_ / "map.csv"}, preset("gso_commune_mapping"));
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"16700", "unknown_new_unit"}}));
  EXPECT_EQ(store_->count("commune_mapping"), 2);
}

TEST_F(ImporterTest, MappingTextRulesFiltersAndWktCsv) {
  write_text(dir_ / "streets.csv",
             "id,name,kind,status,geom\n"
             "S1,\"  lê   lợi \",LANE,active,\"LINESTRING (105.68 18.67,105.681 18.671)\"\n"
             "S2,ngõ 12 hồng bàng,,active,\"LINESTRING (105.682 18.67,105.683 18.671)\"\n"
             "S3,phan bội châu,street,deleted,\"LINESTRING (105.684 18.67,105.685 18.671)\"\n"
             "X9,test,street,active,\"LINESTRING (105.686 18.67,105.687 18.671)\"\n");
  write_text(dir_ / "streets.yaml", R"(layer: streets
source_id: id
source_crs: EPSG:4326
csv: {wkt: geom}
fields:
  id: id
  name: {field: name, trim: true, case: title}
  kind: {field: kind, case: lower, default: street}
  commune_code: {value: "16681"}
filters:
  - {field: status, not_in: [deleted, old]}
  - {field: id, not_equals: X9}
)");
  const auto report = import("streets", {dir_ / "streets.csv"}, dir_ / "streets.yaml");
  EXPECT_EQ(report.record.read, 4);
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_EQ(report.record.rejected, 0);
  EXPECT_EQ(report.filtered, 2);
  EXPECT_EQ(report.to_json()["filtered"], 2);
  const auto& def = catalogue().layer("streets");
  std::map<std::string, std::pair<std::string, std::string>> stored;
  for (const auto& feature : features(*store_, "streets")) {
    stored[get<std::string>(feature, def, "id")] = {get<std::string>(feature, def, "name"),
                                                    get<std::string>(feature, def, "kind")};
    EXPECT_EQ(get<std::string>(feature, def, "commune_code"), "16681");
    EXPECT_EQ(from_wkb(feature.wkb)->getGeometryType(), wkbMultiLineString);
  }
  EXPECT_EQ(stored, (std::map<std::string, std::pair<std::string, std::string>>{
                        {"S1", {"Lê Lợi", "lane"}}, {"S2", {"Ngõ 12 Hồng Bàng", "street"}}}));
}

TEST_F(ImporterTest, ListValuesAreSplitTidiedAndRejoined) {
  write_text(dir_ / "parcels.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"fid":1,"ma":"16669","to":1,"thua":1,"loai":" ont ; cln ;"},"geometry":{"type":"Polygon","coordinates":[[[105.68,18.67],[105.6802,18.67],[105.6802,18.6702],[105.68,18.67]]]}}]})");
  write_text(dir_ / "parcels.yaml", R"(layer: parcels
fields:
  old_commune_code: ma
  sheet_no: to
  parcel_no: thua
  land_use: {field: loai, case: upper, split: ";", join: "+"}
)");
  const auto report = import("parcels", {dir_ / "parcels.geojson"}, dir_ / "parcels.yaml");
  EXPECT_EQ(report.record.imported, 1);
  const auto stored = features(*store_, "parcels");
  ASSERT_EQ(stored.size(), 1U);
  EXPECT_EQ(get<std::string>(stored[0], catalogue().layer("parcels"), "land_use"), "ONT+CLN");
}

// ---- CRS and a file outside the province -------------------------------------------------------------

TEST_F(ImporterTest, SourceCrsOverridesAWrongPrj) {
  const fs::path shp = dir_ / "thua.shp";
  write_famis_shapefile(shp, {test_parcels()[0], test_parcels()[1]});
  write_text(fs::path(shp).replace_extension(".prj"), wkt_of(3406));  // UTM 49N: 6° east of the truth
  try {
    import("parcels", {shp}, preset("famis_parcels"));
    FAIL() << "a file read in the wrong zone was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(shp.string()), std::string::npos) << message;
    EXPECT_NE(message.find("2 of 2 features lie outside Nghệ An"), std::string::npos) << message;
    EXPECT_NE(message.find("TM-3 104°45′"), std::string::npos) << message;
    EXPECT_NE(message.find("--source-crs"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(store_->find_layer("parcels").has_value());
  ImportOptions options;
  options.sources = {shp};
  options.mapping = preset("famis_parcels");
  options.source_crs = "EPSG:9208";
  const auto report = import_with("parcels", options);
  EXPECT_EQ(report.record.imported, 2);
  EXPECT_NE(report.record.source_crs.find("TM-3 104.75"), std::string::npos) << report.record.source_crs;
}

TEST_F(ImporterTest, FileOutsideTheProvinceIsRefusedAsAWhole) {
  const std::string header =
      "id,digital_code,house_number,lane,street,hamlet,commune_code,old_commune_code,postcode,plus_code,lon,lat\n";
  const std::string row = ",1,,,,,16681,,,,";
  write_text(dir_ / "good.csv", header + "DA1" + row + "105.68,18.67\nDA2" + row + "105.69,18.67\n");
  import("addresses", {dir_ / "good.csv"}, preset("address_list"));
  const std::string before = read_bytes(dir_ / "t.sqlite");

  // Every row with latitude and longitude exchanged.
  write_text(dir_ / "swapped.csv",
             header + "DA1" + row + "18.67,105.68\nDA2" + row + "18.67,105.69\nDA3" + row + "18.68,105.70\n");
  try {
    import("addresses", {dir_ / "swapped.csv"}, preset("address_list"));
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("3 of 3 features lie outside"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("swapped"), std::string::npos) << e.what();
  }
  // One stray row of three is a record rejection, as the fixture's DA006863.
  write_text(dir_ / "stray.csv",
             header + "DA1" + row + "105.68,18.67\nDA2" + row + "18.67,105.69\nDA3" + row + "105.70,18.68\n");
  auto report = import("addresses", {dir_ / "stray.csv"}, preset("address_list"));
  EXPECT_EQ(issues(report, "rejected"), (std::map<std::string, std::string>{{"DA2", "outside_province"}}));
  import("addresses", {dir_ / "good.csv"}, preset("address_list"));

  // TM-3 metres read as degrees (a missing .prj stood in for by a wrong CRS).
  const fs::path shp = dir_ / "thua.shp";
  write_famis_shapefile(shp, {test_parcels()[0], test_parcels()[1]}, /*with_prj=*/false);
  write_text(dir_ / "famis_4326.yaml",
             "layer: parcels\nsource_id: OBJECTID\nsource_crs: EPSG:4326\nfields:\n"
             "  old_commune_code: MAXA\n  sheet_no: SHBANDO\n  parcel_no: SHTHUA\n");
  try {
    import("parcels", {shp}, dir_ / "famis_4326.yaml");
    FAIL() << "accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("look like metres"), std::string::npos) << message;
    EXPECT_NE(message.find("TM-3 104°45′"), std::string::npos) << message;
    EXPECT_NE(message.find("no .prj"), std::string::npos) << message;
  }
  EXPECT_EQ(store_->count("addresses"), 2);
  EXPECT_FALSE(store_->find_layer("parcels").has_value());
  (void)before;
}

// ---- formats GDAL opens ------------------------------------------------------------------------------

// Two streets written with a GDAL driver (DGN keeps only the geometry).
void write_streets(const fs::path& path, const char* driver_name) {
  auto* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
  ASSERT_NE(driver, nullptr) << driver_name;
  GDALDatasetUniquePtr dataset(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  ASSERT_TRUE(dataset) << driver_name;
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const bool dgn = std::string_view(driver_name) == "DGN";
  const char* utf8[] = {"ENCODING=UTF-8", nullptr};  // a Shapefile with a .cpg
  auto* layer =
      dataset->CreateLayer("streets", dgn ? nullptr : &wgs84, wkbLineString,
                           std::string_view(driver_name) == "ESRI Shapefile" ? const_cast<char**>(utf8) : nullptr);
  ASSERT_NE(layer, nullptr);
  if (!dgn) {
    for (const char* name : {"id", "name", "kind", "commune_code"}) {
      OGRFieldDefn field(name, OFTString);
      ASSERT_EQ(layer->CreateField(&field), OGRERR_NONE);
    }
  }
  for (int i = 0; i < 2; ++i) {
    OGRFeature feature(layer->GetLayerDefn());
    if (!dgn) {
      // A Shapefile shortens commune_code to commune_co.
      const auto set = [&](const std::string& name, const std::string& value) {
        int index = feature.GetFieldIndex(name.c_str());
        if (index < 0) index = feature.GetFieldIndex(name.substr(0, 10).c_str());
        feature.SetField(index, value.c_str());
      };
      set("id", fmt::format("S{}", i + 1));
      set("name", i == 0 ? "Lê Lợi" : "Ngõ 12 Lê Lợi");
      set("kind", i == 0 ? "street" : "lane");
      set("commune_code", "16681");
    }
    OGRLineString line;
    for (auto [x, y] : {std::pair{105.68 + 0.002 * i, 18.67}, std::pair{105.681 + 0.002 * i, 18.671}}) {
      // DGN files come in VN-2000 TM-3 metres (and keep only centimetres at the default resolution).
      if (dgn)
        layers::Transformer("EPSG:4326", layers::vn2000_tm3_proj(104.75, HelmertConvention::vn_common)).transform(x, y);
      line.addPoint(x, y);
    }
    feature.SetGeometry(&line);
    ASSERT_EQ(layer->CreateFeature(&feature), OGRERR_NONE);
  }
}

// Copies files into a new zip archive through GDAL's /vsizip/ writer.
void zip_files(const fs::path& archive, const std::vector<fs::path>& files) {
  for (const auto& file : files) {
    const std::string bytes = read_bytes(file);
    const std::string target = "/vsizip/" + archive.string() + "/" + file.filename().string();
    VSILFILE* out = VSIFOpenL(target.c_str(), "wb");
    ASSERT_NE(out, nullptr) << target;
    ASSERT_EQ(VSIFWriteL(bytes.data(), 1, bytes.size(), out), bytes.size());
    VSIFCloseL(out);
  }
}

TEST_F(ImporterTest, FormatsGdalOpensIncludingZipArchives) {
  GDALAllRegister();
  write_streets(dir_ / "s.gdb", "OpenFileGDB");
  write_streets(dir_ / "s.kml", "KML");
  write_streets(dir_ / "s.gpkg", "GPKG");
  write_streets(dir_ / "s.dgn", "DGN");
  fs::create_directories(dir_ / "shape");
  write_streets(dir_ / "shape" / "s.shp", "ESRI Shapefile");
  write_streets(dir_ / "s.geojson", "GeoJSON");
  zip_files(dir_ / "shape.zip", {dir_ / "shape/s.shp", dir_ / "shape/s.shx", dir_ / "shape/s.dbf", dir_ / "shape/s.prj",
                                 dir_ / "shape/s.cpg"});
  zip_files(dir_ / "geojson.zip", {dir_ / "s.geojson"});
  zip_files(dir_ / "two.zip", {dir_ / "s.geojson", dir_ / "s.kml"});
  // Shapefile field names have 10 characters at most.
  write_text(dir_ / "shp.yaml", "layer: streets\nfields: {id: id, name: name, kind: kind, commune_code: commune_co}\n");
  for (const std::string name : {"s.gdb", "s.kml", "s.gpkg", "shape.zip", "geojson.zip", "two.zip/s.kml"}) {
    SCOPED_TRACE(name);
    const auto report =
        import("streets", {dir_ / name}, name == "shape.zip" ? dir_ / "shp.yaml" : preset("street_list"));
    EXPECT_EQ(report.record.imported, 2);
    EXPECT_EQ(report.record.rejected, 0);
    EXPECT_EQ(report.record.source_sha256.size(), 64U);
    const auto& def = catalogue().layer("streets");
    std::set<std::string> names;
    for (const auto& feature : features(*store_, "streets")) names.insert(get<std::string>(feature, def, "name"));
    EXPECT_EQ(names, (std::set<std::string>{"Lê Lợi", "Ngõ 12 Lê Lợi"}));
  }
  // DGN v7 carries geometry and element attributes only: ids from the feature id, the rest constant.
  write_text(dir_ / "dgn.yaml",
             "layer: streets\nsource_id: $fid\nsource_crs: EPSG:9208\nfields:\n  id: $fid\n"
             "constants: {kind: street, commune_code: \"16681\"}\nfilters:\n  - {field: Type, equals: \"4\"}\n");
  const auto report = import("streets", {dir_ / "s.dgn"}, dir_ / "dgn.yaml");
  EXPECT_EQ(report.record.imported, 2) << report.to_json().dump();
  EXPECT_NE(report.record.source_crs.find("TM-3 104.75 (helmert vn-common)"), std::string::npos);
  EXPECT_EQ(store_->count("streets"), 2);

  try {
    import("streets", {dir_ / "two.zip"}, preset("street_list"));
    FAIL() << "an archive of two datasets was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("several datasets"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("two.zip/s.geojson"), std::string::npos) << e.what();
  }
  try {
    import("streets", {dir_ / "two.zip/nothing.shp"}, preset("street_list"));
    FAIL() << "a missing member was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::file_not_found) << e.what();
  }
}

// ---- modes, progress and the report ------------------------------------------------------------------

TEST_F(ImporterTest, UpsertReplacesByKeyAndKeepsTheRest) {
  auto street = [](const std::string& id, const std::string& name) {
    return R"({"type":"Feature","properties":{"id":")" + id + R"(","name":")" + name +
           R"(","kind":"lane","commune_code":"16681"},"geometry":{"type":"LineString","coordinates":[[105.68,18.67],[105.681,18.671]]}})";
  };
  write_text(dir_ / "a.geojson",
             R"({"type":"FeatureCollection","features":[)" + street("A1", "one") + "," + street("A2", "two") + "]}");
  write_text(dir_ / "b.geojson", R"({"type":"FeatureCollection","features":[)" + street("A2", "two again") + "," +
                                     street("B1", "three") + "]}");
  import("streets", {dir_ / "a.geojson"}, preset("street_list"));
  ImportOptions options;
  options.sources = {dir_ / "b.geojson"};
  options.mapping = preset("street_list");
  options.mode = layers::WriteMode::upsert;
  const auto report = import_with("streets", options);
  EXPECT_EQ(report.record.mode, layers::WriteMode::upsert);
  EXPECT_EQ(report.to_json()["mode"], "upsert");
  EXPECT_EQ(report.record.imported, 2);
  const auto& def = catalogue().layer("streets");
  std::map<std::string, std::string> names;
  for (const auto& feature : features(*store_, "streets")) {
    names[get<std::string>(feature, def, "id")] = get<std::string>(feature, def, "name");
  }
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"A1", "one"}, {"A2", "two again"}, {"B1", "three"}}));
}

TEST_F(ImporterTest, ProgressAndReportShape) {
  const fs::path shp = dir_ / "thua.shp";
  write_famis_shapefile(shp, test_parcels());
  std::vector<ImportProgress> calls;
  ImportOptions options;
  options.sources = {shp};
  options.mapping = preset("famis_parcels");
  options.progress = [&](const ImportProgress& p) { calls.push_back(p); };
  const auto report = import_with("parcels", options);
  ASSERT_FALSE(calls.empty());
  EXPECT_TRUE(calls.back().source_done);
  EXPECT_EQ(calls.back().done, 6);
  EXPECT_EQ(calls.back().total, 6);
  EXPECT_EQ(calls.back().source, shp.string());

  const auto json = report.to_json();
  std::set<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.insert(key);
  // The counts and records, then provenance.
  EXPECT_EQ(keys, (std::set<std::string>{"layer", "read", "imported", "repaired", "flagged", "rejected", "records",
                                         "mode", "filtered", "source", "source_sha256", "source_crs", "encoding",
                                         "mapping", "notes"}));
  for (const auto& record : json["records"]) {
    EXPECT_EQ(record.size(), 3U);
    EXPECT_TRUE(record.contains("source_id") && record.contains("action") && record.contains("reason"));
  }
  EXPECT_EQ(json["read"], 6);
  EXPECT_EQ(json["mode"], "replace");
}

}  // namespace
}  // namespace bandoso::data_import
