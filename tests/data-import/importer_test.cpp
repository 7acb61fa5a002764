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

// A Famis-style Shapefile: TM-3 coordinates (vn-common), TCVN3 DBF text, no .cpg.
void write_famis_shapefile(const fs::path& shp, const std::vector<TestParcel>& parcels, bool with_prj = true) {
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
  const layers::Transformer to_tm3("EPSG:4326", layers::vn2000_tm3_proj(104.75, HelmertConvention::vn_common));
  for (const auto& parcel : parcels) {
    OGRFeature feature(layer->GetLayerDefn());
    feature.SetField("OBJECTID", parcel.objectid);
    feature.SetField("SHBANDO", parcel.sheet);
    if (parcel.parcel) feature.SetField("SHTHUA", *parcel.parcel);
    feature.SetField("DIENTICH", 400.5);
    feature.SetField("KHLOAIDAT", "ODT");
    feature.SetField("TENCHU", layers::vntext::encode_tcvn3(parcel.owner).c_str());
    feature.SetField("DIACHI", layers::vntext::encode_tcvn3("Số 5 đường Lê Lợi, phường Hưng Bình").c_str());
    feature.SetField("MAXA", parcel.maxa.c_str());
    if (!parcel.ring.empty()) {
      OGRLinearRing ring;
      for (auto [x, y] : parcel.ring) {
        to_tm3.transform(x, y);
        ring.addPoint(x, y);
      }
      ring.closeRings();
      OGRPolygon polygon;
      polygon.addRing(&ring);
      feature.SetGeometry(&polygon);
    }
    ASSERT_EQ(layer->CreateFeature(&feature), OGRERR_NONE);
  }
  dataset.reset();
  fs::path prj = shp;
  prj.replace_extension(".prj");
  fs::remove(prj);
  if (with_prj) write_text(prj, kTm3Prj);
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
    EXPECT_DOUBLE_EQ(get<double>(feature, def, "area_m2"), 400.5);
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
  std::string owner, address, land_use, area;
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
    // The first record keeps a duplicated key.
    out.try_emplace(
        {feature->GetFieldAsString("MAXA"), std::stol(feature->GetFieldAsString("SHBANDO")), std::stol(shthua)}, row);
  }
  return out;
}

TEST_F(ImporterTest, FixtureFamisShapefile) {
  BANDOSO_REQUIRE_SHARED(shared);
  const fs::path dir = shared / "fixtures" / "nghean-dev";
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

}  // namespace
}  // namespace bandoso::data_import
