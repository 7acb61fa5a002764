#include "data-import/demo_province.hpp"

#include <fmt/format.h>
#include <gdal_priv.h>
#include <geos_c.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "layers/core/crs.hpp"
#include "layers/core/digital_code.hpp"
#include "layers/core/error.hpp"
#include "layers/core/geometry.hpp"
#include "layers/core/plus_code.hpp"
#include "layers/core/vntext.hpp"
#include "support/csv.hpp"
#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::data_import {
namespace {

namespace fs = std::filesystem;
using bandoso::testing::TempDir;

constexpr double kScale = 0.1;  // ~3,000 addresses: every check runs in a few seconds
constexpr std::uint64_t kSeed = 7;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Rows of one of the demo's CSVs.
std::vector<std::map<std::string, std::string>> read_rows(const fs::path& path) {
  return bandoso::testing::read_csv(path);
}

struct GdalCloser {
  void operator()(GDALDataset* ds) const { GDALClose(ds); }
};
using Dataset = std::unique_ptr<GDALDataset, GdalCloser>;

Dataset open_vector(const fs::path& path) {
  GDALAllRegister();
  return Dataset(static_cast<GDALDataset*>(
      GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
}

// GEOS with a context handle; geometries come from OGR as WKB.
class Geos {
 public:
  Geos() : h_(GEOS_init_r()) {}
  ~Geos() {
    for (auto* p : prepared_) GEOSPreparedGeom_destroy_r(h_, p);
    for (auto* g : owned_) GEOSGeom_destroy_r(h_, g);
    GEOS_finish_r(h_);
  }
  Geos(const Geos&) = delete;
  Geos& operator=(const Geos&) = delete;
  [[nodiscard]] GEOSContextHandle_t h() const { return h_; }

  GEOSGeometry* from_ogr(const OGRGeometry* g) {
    std::vector<unsigned char> wkb(static_cast<std::size_t>(g->WkbSize()));
    g->exportToWkb(wkbNDR, wkb.data(), wkbVariantIso);
    GEOSWKBReader* reader = GEOSWKBReader_create_r(h_);
    GEOSGeometry* out = GEOSWKBReader_read_r(h_, reader, wkb.data(), wkb.size());
    GEOSWKBReader_destroy_r(h_, reader);
    owned_.push_back(out);
    return out;
  }
  GEOSGeometry* own(GEOSGeometry* g) {
    owned_.push_back(g);
    return g;
  }
  const GEOSPreparedGeometry* prepare(const GEOSGeometry* g) {
    prepared_.push_back(GEOSPrepare_r(h_, g));
    return prepared_.back();
  }
  bool contains(const GEOSPreparedGeometry* p, double x, double y) {
    GEOSGeometry* pt = GEOSGeom_createPointFromXY_r(h_, x, y);
    const bool in = GEOSPreparedContains_r(h_, p, pt) == 1;
    GEOSGeom_destroy_r(h_, pt);
    return in;
  }
  double area(const GEOSGeometry* g) {
    double a = 0;
    GEOSArea_r(h_, g, &a);
    return a;
  }
  double intersection_area(const GEOSGeometry* a, const GEOSGeometry* b) {
    GEOSGeometry* i = GEOSIntersection_r(h_, a, b);
    const double result = area(i);
    GEOSGeom_destroy_r(h_, i);
    return result;
  }

 private:
  GEOSContextHandle_t h_;
  std::vector<GEOSGeometry*> owned_;
  std::vector<const GEOSPreparedGeometry*> prepared_;
};

struct AdminFeature {
  std::map<std::string, std::string> fields;
  GEOSGeometry* geometry = nullptr;
  const GEOSPreparedGeometry* prepared = nullptr;
};

std::vector<AdminFeature> read_admin_layer(Geos& geos, GDALDataset& ds, const char* name) {
  std::vector<AdminFeature> out;
  OGRLayer* layer = ds.GetLayerByName(name);
  if (layer == nullptr) return out;
  for (auto& feature : *layer) {
    AdminFeature f;
    for (int i = 0; i < feature->GetFieldCount(); ++i)
      f.fields[feature->GetFieldDefnRef(i)->GetNameRef()] = feature->GetFieldAsString(i);
    f.geometry = geos.from_ogr(feature->GetGeometryRef());
    f.prepared = geos.prepare(f.geometry);
    out.push_back(std::move(f));
  }
  return out;
}

// Distance in metres from (lon, lat) to a segment, in a local equirectangular frame (ample for a few metres).
double distance_m(double lon, double lat, double lon1, double lat1, double lon2, double lat2) {
  const double kx = 111320.0 * std::cos(lat * std::numbers::pi / 180.0), ky = 110574.0;
  const double px = (lon - lon1) * kx, py = (lat - lat1) * ky;
  const double dx = (lon2 - lon1) * kx, dy = (lat2 - lat1) * ky;
  const double t = std::clamp((px * dx + py * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::hypot(px - t * dx, py - t * dy);
}

class DemoProvince : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    summary_ = new DemoSummary(generate_demo_province({(*dir_) / "a", kSeed, kScale}));
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete dir_;
    summary_ = nullptr;
    dir_ = nullptr;
  }
  static fs::path out() { return (*dir_) / "a"; }
  static const DemoSummary& summary() { return *summary_; }

  static TempDir* dir_;
  static DemoSummary* summary_;
};

TempDir* DemoProvince::dir_ = nullptr;
DemoSummary* DemoProvince::summary_ = nullptr;

TEST_F(DemoProvince, WritesExactlyTheAnnouncedFiles) {
  std::set<std::string> names;
  for (const auto& f : summary().files) {
    EXPECT_TRUE(fs::is_regular_file(f)) << f;
    EXPECT_GT(fs::file_size(f), 0U) << f;
    names.insert(f.filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"hanh_chinh.gpkg", "bang_chuyen_doi_2025.csv", "duong_pho.geojson",
                                          "dia_chi.csv", "thua_dat_tm3.shp", "thua_dat_tm3.shx", "thua_dat_tm3.dbf",
                                          "thua_dat_tm3.prj", "ma_loai_dat.csv"}));
  // Legacy exports carry no code page file.
  EXPECT_FALSE(fs::exists(out() / "thua_dat_tm3.cpg"));
}

TEST_F(DemoProvince, CountsMatchTheFiles) {
  const auto& counts = summary().counts;
  auto ds = open_vector(out() / "hanh_chinh.gpkg");
  ASSERT_TRUE(ds);
  EXPECT_EQ(counts.at("communes"), ds->GetLayerByName("xa_phuong_2025")->GetFeatureCount());
  EXPECT_EQ(counts.at("old_communes"), ds->GetLayerByName("xa_cu")->GetFeatureCount());
  EXPECT_EQ(counts.at("old_districts"), ds->GetLayerByName("huyen_cu")->GetFeatureCount());
  EXPECT_EQ(counts.at("communes"), 19);
  EXPECT_EQ(counts.at("old_communes"), 85);
  EXPECT_EQ(counts.at("old_districts"), 8);

  auto streets = open_vector(out() / "duong_pho.geojson");
  ASSERT_TRUE(streets);
  EXPECT_EQ(counts.at("streets"), streets->GetLayer(0)->GetFeatureCount());
  auto parcels = open_vector(out() / "thua_dat_tm3.shp");
  ASSERT_TRUE(parcels);
  EXPECT_EQ(counts.at("parcels"), parcels->GetLayer(0)->GetFeatureCount());

  EXPECT_EQ(counts.at("addresses"), static_cast<std::int64_t>(read_rows(out() / "dia_chi.csv").size()));
  EXPECT_EQ(counts.at("commune_mapping"),
            static_cast<std::int64_t>(read_rows(out() / "bang_chuyen_doi_2025.csv").size()));
  EXPECT_EQ(counts.at("land_use_codes"), static_cast<std::int64_t>(read_rows(out() / "ma_loai_dat.csv").size()));
  // Scale 0.1 of ~25,000 addresses, ~20,000 parcels.
  EXPECT_GT(counts.at("addresses"), 1500);
  EXPECT_LT(counts.at("addresses"), 5000);
  EXPECT_GT(counts.at("parcels"), 1000);
  EXPECT_GT(counts.at("streets"), 100);
}

TEST_F(DemoProvince, SameSeedSameBytesOtherSeedOtherData) {
  TempDir other;
  generate_demo_province({other / "same", kSeed, kScale});
  for (const char* file : {"dia_chi.csv", "duong_pho.geojson", "bang_chuyen_doi_2025.csv", "ma_loai_dat.csv",
                           "thua_dat_tm3.shp", "thua_dat_tm3.dbf", "thua_dat_tm3.prj"}) {
    EXPECT_EQ(read_bytes(out() / file), read_bytes(other / "same" / file)) << file;
  }
  generate_demo_province({other / "different", kSeed + 1, kScale});
  EXPECT_NE(read_bytes(out() / "dia_chi.csv"), read_bytes(other / "different" / "dia_chi.csv"));

  // Writing again into the same directory overwrites.
  generate_demo_province({other / "same", kSeed + 1, kScale});
  EXPECT_EQ(read_bytes(other / "same" / "dia_chi.csv"), read_bytes(other / "different" / "dia_chi.csv"));
}

TEST_F(DemoProvince, RefusesBadScale) {
  TempDir other;
  EXPECT_THROW(generate_demo_province({other / "x", 1, 0.0}), BadRequestError);
  EXPECT_THROW(generate_demo_province({other / "x", 1, -1.0}), BadRequestError);
  EXPECT_THROW(generate_demo_province({other / "x", 1, 1e4}), BadRequestError);
}

TEST_F(DemoProvince, AdministrativeLayersAreValidDisjointAndNested) {
  Geos geos;
  auto ds = open_vector(out() / "hanh_chinh.gpkg");
  ASSERT_TRUE(ds);
  const auto units = read_admin_layer(geos, *ds, "xa_phuong_2025");
  const auto olds = read_admin_layer(geos, *ds, "xa_cu");
  const auto districts = read_admin_layer(geos, *ds, "huyen_cu");
  ASSERT_EQ(units.size(), 19U);

  std::map<std::string, const AdminFeature*> unit_by_code;
  for (const auto* layer : {&units, &olds, &districts}) {
    for (const auto& f : *layer) {
      EXPECT_EQ(GEOSisValid_r(geos.h(), f.geometry), 1) << f.fields.at("ma");
      EXPECT_EQ(GEOSGeomTypeId_r(geos.h(), f.geometry), GEOS_MULTIPOLYGON) << f.fields.at("ma");
      double minx = 0, miny = 0, maxx = 0, maxy = 0;
      GEOSGeom_getXMin_r(geos.h(), f.geometry, &minx);
      GEOSGeom_getYMin_r(geos.h(), f.geometry, &miny);
      GEOSGeom_getXMax_r(geos.h(), f.geometry, &maxx);
      GEOSGeom_getYMax_r(geos.h(), f.geometry, &maxy);
      EXPECT_TRUE(layers::kNgheAnExtent.contains(minx, miny) && layers::kNgheAnExtent.contains(maxx, maxy))
          << f.fields.at("ma");
      EXPECT_EQ(layers::vntext::to_nfc(f.fields.at("ten_day_du")), f.fields.at("ten_day_du"));
      EXPECT_TRUE(f.fields.at("ten_day_du").ends_with(" " + f.fields.at("ten")));
      EXPECT_TRUE(f.fields.at("ten_day_du").starts_with(f.fields.at("loai") + " "));
    }
    // No two units of one layer overlap (1e-10 deg² ≈ 1 m²).
    for (std::size_t i = 0; i < layer->size(); ++i) {
      for (std::size_t j = i + 1; j < layer->size(); ++j) {
        EXPECT_LT(geos.intersection_area((*layer)[i].geometry, (*layer)[j].geometry), 1e-10)
            << (*layer)[i].fields.at("ma") << " overlaps " << (*layer)[j].fields.at("ma");
      }
    }
  }
  for (const auto& u : units) {
    unit_by_code[u.fields.at("ma")] = &u;
    EXPECT_TRUE(u.fields.at("loai") == "Xã" || u.fields.at("loai") == "Phường");
    // Urban wards ~15–35 km², rural communes larger; 1 deg² ≈ 11,700 km² here.
    EXPECT_GT(geos.area(u.geometry) * 11700.0, 5.0) << u.fields.at("ma");
  }
  EXPECT_EQ(unit_by_code.at("16681")->fields.at("ten_day_du"), "Phường Thành Vinh");

  // Each old commune lies in the unit it became part of; together they cover it.
  std::map<std::string, double> old_area_by_unit;
  for (const auto& o : olds) {
    const auto* unit = unit_by_code.at(o.fields.at("ma_moi"));
    const double area = geos.area(o.geometry);
    EXPECT_GT(geos.intersection_area(o.geometry, unit->geometry), area * 0.9999) << o.fields.at("ma");
    old_area_by_unit[o.fields.at("ma_moi")] += area;
    EXPECT_EQ(o.fields.at("ma_huyen").size(), 3U);
    EXPECT_TRUE(o.fields.at("loai") == "Xã" || o.fields.at("loai") == "Phường" || o.fields.at("loai") == "Thị trấn");
  }
  for (const auto& u : units)
    EXPECT_NEAR(old_area_by_unit[u.fields.at("ma")], geos.area(u.geometry), geos.area(u.geometry) * 1e-6);
  for (const auto& d : districts) {
    EXPECT_TRUE(d.fields.at("loai") == "Huyện" || d.fields.at("loai") == "Thị xã" ||
                d.fields.at("loai") == "Thành phố");
  }
}

TEST_F(DemoProvince, MappingTableMatchesTheOldCommunes) {
  Geos geos;
  auto ds = open_vector(out() / "hanh_chinh.gpkg");
  ASSERT_TRUE(ds);
  std::map<std::string, std::map<std::string, std::string>> olds;
  for (auto& f : read_admin_layer(geos, *ds, "xa_cu")) olds[f.fields.at("ma")] = f.fields;
  const auto rows = read_rows(out() / "bang_chuyen_doi_2025.csv");
  ASSERT_EQ(rows.size(), olds.size());
  for (const auto& r : rows) {
    const auto& o = olds.at(r.at("old_code"));
    EXPECT_EQ(r.at("old_name"), o.at("ten_day_du"));
    EXPECT_EQ(r.at("old_district_code"), o.at("ma_huyen"));
    EXPECT_EQ(r.at("old_district_name"), o.at("ten_huyen"));
    EXPECT_EQ(r.at("new_code"), o.at("ma_moi"));
    EXPECT_TRUE(r.at("note") == "Nhập toàn bộ" || r.at("note") == "Giữ nguyên");
  }
  const auto& hung_binh = olds.at("16672");
  EXPECT_EQ(hung_binh.at("ten_day_du"), "Phường Hưng Bình");
  EXPECT_EQ(hung_binh.at("ten_huyen"), "Thành phố Vinh");
  EXPECT_EQ(hung_binh.at("ma_moi"), "16681");
}

TEST_F(DemoProvince, AddressesAreConsistentWithTheirCodesAndPolygons) {
  Geos geos;
  auto ds = open_vector(out() / "hanh_chinh.gpkg");
  ASSERT_TRUE(ds);
  const auto units = read_admin_layer(geos, *ds, "xa_phuong_2025");
  const auto olds = read_admin_layer(geos, *ds, "xa_cu");
  std::map<std::string, const AdminFeature*> unit_by_code, old_by_code;
  for (const auto& u : units) unit_by_code[u.fields.at("ma")] = &u;
  for (const auto& o : olds) old_by_code[o.fields.at("ma")] = &o;

  const auto rows = read_rows(out() / "dia_chi.csv");
  ASSERT_FALSE(rows.empty());
  std::set<std::string> ids, codes, keys;
  std::set<std::string> hamlet_kinds;
  for (const auto& r : rows) {
    EXPECT_TRUE(r.at("id").starts_with("DA")) << r.at("id");
    EXPECT_TRUE(ids.insert(r.at("id")).second) << r.at("id");
    EXPECT_TRUE(layers::is_valid_digital_code(r.at("digital_code"))) << r.at("digital_code");
    EXPECT_TRUE(codes.insert(r.at("digital_code")).second) << r.at("digital_code");
    EXPECT_TRUE(
        keys.insert(r.at("house_number") + "|" + r.at("lane") + "|" + r.at("street") + "|" + r.at("commune_code"))
            .second)
        << r.at("id");
    EXPECT_TRUE(r.at("lane").empty() || r.at("lane").starts_with("ngõ ")) << r.at("lane");
    hamlet_kinds.insert(r.at("hamlet").substr(0, r.at("hamlet").find(' ')));
    EXPECT_EQ(r.at("postcode").size(), 5U);
    EXPECT_EQ(r.at("lon").size() - r.at("lon").find('.') - 1, 7U);
    EXPECT_EQ(r.at("lat").size() - r.at("lat").find('.') - 1, 7U);
    for (const char* column : {"street", "hamlet", "commune_name", "old_commune_name", "old_district_name"}) {
      EXPECT_EQ(layers::vntext::to_nfc(r.at(column)), r.at(column));
    }

    const double lon = std::strtod(r.at("lon").c_str(), nullptr), lat = std::strtod(r.at("lat").c_str(), nullptr);
    ASSERT_TRUE(layers::kNgheAnExtent.contains(lon, lat)) << r.at("id");
    EXPECT_EQ(layers::encode_plus_code(lat, lon), r.at("plus_code")) << r.at("id");
    const auto cell = layers::decode_plus_code(r.at("plus_code"));
    EXPECT_TRUE(cell.south <= lat && lat < cell.north && cell.west <= lon && lon < cell.east) << r.at("id");

    const auto* unit = unit_by_code.at(r.at("commune_code"));
    const auto* old = old_by_code.at(r.at("old_commune_code"));
    EXPECT_EQ(r.at("commune_name"), unit->fields.at("ten_day_du"));
    EXPECT_EQ(r.at("old_commune_name"), old->fields.at("ten_day_du"));
    EXPECT_EQ(r.at("old_district_name"), old->fields.at("ten_huyen"));
    EXPECT_EQ(old->fields.at("ma_moi"), r.at("commune_code"));
    EXPECT_TRUE(geos.contains(unit->prepared, lon, lat)) << r.at("id") << " outside " << r.at("commune_code");
    EXPECT_TRUE(geos.contains(old->prepared, lon, lat)) << r.at("id") << " outside " << r.at("old_commune_code");
  }
  EXPECT_TRUE(hamlet_kinds.count("khối") && hamlet_kinds.count("xóm") && hamlet_kinds.count("thôn"))
      << hamlet_kinds.size();
}

TEST_F(DemoProvince, StreetsAreNamedOncePerCommuneAndHousesNumberedBySide) {
  Geos geos;
  auto admin = open_vector(out() / "hanh_chinh.gpkg");
  ASSERT_TRUE(admin);
  std::map<std::string, const AdminFeature*> unit_by_code;
  const auto units = read_admin_layer(geos, *admin, "xa_phuong_2025");
  for (const auto& u : units) unit_by_code[u.fields.at("ma")] = &u;

  struct Line {
    double lon1, lat1, lon2, lat2;
  };
  std::map<std::pair<std::string, std::string>, Line> lines;  // (commune, name) → line
  std::set<std::string> ids, kinds;
  auto ds = open_vector(out() / "duong_pho.geojson");
  ASSERT_TRUE(ds);
  for (auto& f : *ds->GetLayer(0)) {
    const std::string id = f->GetFieldAsString("id"), name = f->GetFieldAsString("name"),
                      commune = f->GetFieldAsString("commune_code");
    EXPECT_TRUE(id.starts_with("DS") && ids.insert(id).second) << id;
    kinds.insert(f->GetFieldAsString("kind"));
    const auto* line = f->GetGeometryRef()->toLineString();
    ASSERT_EQ(line->getNumPoints(), 2);
    EXPECT_TRUE(
        lines.emplace(std::make_pair(commune, name), Line{line->getX(0), line->getY(0), line->getX(1), line->getY(1)})
            .second)
        << name << " twice in " << commune;
    // Streets lie inside their commune.
    GEOSGeometry* g = geos.from_ogr(line);
    EXPECT_EQ(GEOSPreparedContains_r(geos.h(), unit_by_code.at(commune)->prepared, g), 1) << id;
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"main_road", "street", "lane", "path"}));

  // Odd numbers on one side, even on the other; points a few metres off the centre line.
  std::map<std::pair<std::string, std::string>, std::map<int, std::set<bool>>> sides;  // street → parity → sides seen
  for (const auto& r : read_rows(out() / "dia_chi.csv")) {
    std::string name = r.at("street");
    if (!r.at("lane").empty()) name = "Ngõ " + r.at("lane").substr(std::string("ngõ ").size()) + " " + name;
    const auto it = lines.find({r.at("commune_code"), name});
    ASSERT_NE(it, lines.end()) << name << " in " << r.at("commune_code");
    const Line& l = it->second;
    const double lon = std::strtod(r.at("lon").c_str(), nullptr), lat = std::strtod(r.at("lat").c_str(), nullptr);
    const double cross = (l.lon2 - l.lon1) * (lat - l.lat1) - (l.lat2 - l.lat1) * (lon - l.lon1);
    sides[it->first][std::stoi(r.at("house_number")) % 2].insert(cross > 0);
    const double d = distance_m(lon, lat, l.lon1, l.lat1, l.lon2, l.lat2);
    EXPECT_GT(d, 3.0) << r.at("id");
    EXPECT_LT(d, 20.0) << r.at("id");
  }
  for (const auto& [street, by_parity] : sides) {
    for (const auto& [parity, seen] : by_parity) {
      EXPECT_EQ(seen.size(), 1U) << street.second << " parity " << parity;
    }
    if (by_parity.size() == 2) {
      EXPECT_NE(*by_parity.at(0).begin(), *by_parity.at(1).begin()) << street.second;
    }
  }
}

TEST_F(DemoProvince, ParcelsAreATcvn3Vn2000ExportWithoutCodePage) {
  // DBF header: language driver byte 0, as legacy exports.
  const std::string dbf = read_bytes(out() / "thua_dat_tm3.dbf");
  ASSERT_GT(dbf.size(), 32U);
  EXPECT_EQ(dbf[29], 0);

  auto ds = open_vector(out() / "thua_dat_tm3.shp");
  ASSERT_TRUE(ds);
  OGRLayer* layer = ds->GetLayer(0);
  EXPECT_EQ(wkbFlatten(layer->GetGeomType()), wkbPolygon);
  const OGRSpatialReference* srs = layer->GetSpatialRef();
  ASSERT_NE(srs, nullptr);
  double towgs84[7] = {};
  ASSERT_EQ(srs->GetTOWGS84(towgs84, 7), OGRERR_NONE);
  EXPECT_NEAR(towgs84[0], -191.90441429, 1e-8);
  EXPECT_NEAR(towgs84[3], -0.00928836, 1e-9);  // vn-common signs, not EPSG's
  EXPECT_NEAR(towgs84[4], 0.01975479, 1e-9);
  EXPECT_NEAR(towgs84[5], -0.00427372, 1e-9);
  EXPECT_NEAR(srs->GetProjParm(SRS_PP_CENTRAL_MERIDIAN), 104.75, 1e-12);
  EXPECT_NEAR(srs->GetProjParm(SRS_PP_SCALE_FACTOR), 0.9999, 1e-12);

  OGRFeatureDefn* defn = layer->GetLayerDefn();
  const std::vector<std::tuple<const char*, OGRFieldType, int, int>> expected{
      {"OBJECTID", OFTInteger, 9, 0}, {"SHBANDO", OFTInteger, 4, 0},   {"SHTHUA", OFTInteger, 5, 0},
      {"DIENTICH", OFTReal, 12, 1},   {"KHLOAIDAT", OFTString, 20, 0}, {"TENCHU", OFTString, 80, 0},
      {"DIACHI", OFTString, 160, 0},  {"MAXA", OFTString, 5, 0}};
  ASSERT_EQ(defn->GetFieldCount(), static_cast<int>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto* f = defn->GetFieldDefn(static_cast<int>(i));
    EXPECT_STREQ(f->GetNameRef(), std::get<0>(expected[i]));
    EXPECT_EQ(f->GetType(), std::get<1>(expected[i]));
    EXPECT_EQ(f->GetWidth(), std::get<2>(expected[i]));
    EXPECT_EQ(f->GetPrecision(), std::get<3>(expected[i]));
  }

  std::set<std::string> land_use_codes;
  for (const auto& r : read_rows(out() / "ma_loai_dat.csv")) land_use_codes.insert(r.at("code"));

  Geos geos;
  auto admin = open_vector(out() / "hanh_chinh.gpkg");
  ASSERT_TRUE(admin);
  std::map<std::string, const AdminFeature*> old_by_code;
  const auto olds = read_admin_layer(geos, *admin, "xa_cu");
  for (const auto& o : olds) old_by_code[o.fields.at("ma")] = &o;
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_wgs84(OGRCreateCoordinateTransformation(srs, &wgs84));
  ASSERT_TRUE(to_wgs84);

  std::set<std::string> keys;
  int objectid = 0, with_diacritics = 0, not_utf8 = 0;
  for (auto& f : *layer) {
    EXPECT_EQ(f->GetFieldAsInteger("OBJECTID"), ++objectid);
    const std::string maxa = f->GetFieldAsString("MAXA");
    EXPECT_TRUE(
        keys.insert(fmt::format("{}/{}/{}", maxa, f->GetFieldAsInteger("SHBANDO"), f->GetFieldAsInteger("SHTHUA")))
            .second);
    EXPECT_GT(f->GetFieldAsInteger("SHBANDO"), 0);
    EXPECT_GT(f->GetFieldAsInteger("SHTHUA"), 0);
    std::stringstream codes(f->GetFieldAsString("KHLOAIDAT"));
    for (std::string code; std::getline(codes, code, '+');) EXPECT_TRUE(land_use_codes.count(code)) << code;

    for (const char* field : {"TENCHU", "DIACHI"}) {
      const std::string raw = f->GetFieldAsString(field);
      ASSERT_FALSE(raw.empty());
      for (unsigned char c : raw) EXPECT_GE(c, 0x20) << field;  // VN3 only: no VN1 capitals in the C0 range
      const std::string text = layers::vntext::decode_legacy(raw, layers::vntext::LegacyEncoding::tcvn3);
      EXPECT_EQ(layers::vntext::encode_tcvn3(text), raw);
      if (text != raw) {
        ++with_diacritics;
        if (!layers::vntext::is_valid_utf8(raw)) ++not_utf8;  // TCVN3 bytes, not UTF-8
      }
    }
    const std::string address =
        layers::vntext::decode_legacy(f->GetFieldAsString("DIACHI"), layers::vntext::LegacyEncoding::tcvn3);
    const auto& old = old_by_code.at(maxa)->fields;
    // Pre-2025 form: the old commune and district, in lower-case type words.
    EXPECT_NE(address.find(old.at("ten")), std::string::npos) << address;
    EXPECT_TRUE(address.ends_with(old.at("ten_huyen").substr(old.at("ten_huyen").find(' ')))) << address;

    const OGRPolygon* polygon = f->GetGeometryRef()->toPolygon();
    EXPECT_NEAR(f->GetFieldAsDouble("DIENTICH"), polygon->get_Area(), 0.051);
    const OGRLinearRing* ring = polygon->getExteriorRing();
    for (int i = 0; i < ring->getNumPoints(); ++i) {
      // TM-3 104°45′ metres over Nghệ An.
      EXPECT_TRUE(ring->getX(i) > 400000 && ring->getX(i) < 750000) << ring->getX(i);
      EXPECT_TRUE(ring->getY(i) > 2040000 && ring->getY(i) < 2230000) << ring->getY(i);
    }
    OGRPoint centroid;
    ASSERT_EQ(polygon->Centroid(&centroid), OGRERR_NONE);
    double x = centroid.getX(), y = centroid.getY();
    ASSERT_TRUE(to_wgs84->Transform(1, &x, &y));
    EXPECT_TRUE(layers::kNgheAnExtent.contains(x, y));
    EXPECT_TRUE(geos.contains(old_by_code.at(maxa)->prepared, x, y)) << "parcel " << objectid << " outside " << maxa;
  }
  EXPECT_GT(with_diacritics, objectid / 2);
  EXPECT_GT(not_utf8, with_diacritics * 9 / 10);
}

TEST_F(DemoProvince, ParcelTextUsesOnlyTcvn3Bytes) {
  // TCVN3 (ABC) is the 8-bit VN3 subset of TCVN 5712: the reference byte table marks the VN1-only bytes
  // (capitals with tone marks), which legacy fonts and tools do not have.
  BANDOSO_REQUIRE_SHARED(shared);
  std::set<unsigned char> vn1_only;
  for (const auto& r : read_rows(shared / "reference/nghean/encoding/tcvn5712_vn1_vn3_byte_table.csv")) {
    if (r.at("usage").starts_with("VN1 only"))
      vn1_only.insert(static_cast<unsigned char>(std::stoi(r.at("byte_hex"), nullptr, 16)));
  }
  ASSERT_GT(vn1_only.size(), 30U);
  auto ds = open_vector(out() / "thua_dat_tm3.shp");
  ASSERT_TRUE(ds);
  for (auto& f : *ds->GetLayer(0)) {
    for (const char* field : {"TENCHU", "DIACHI", "KHLOAIDAT"}) {
      for (unsigned char c : std::string(f->GetFieldAsString(field))) {
        EXPECT_FALSE(vn1_only.count(c)) << field << " of " << f->GetFID() << " has VN1-only byte "
                                        << static_cast<int>(c);
      }
    }
  }
}

TEST_F(DemoProvince, ParcelsDoNotOverlapAndHoldTheirAddressPoints) {
  auto ds = open_vector(out() / "thua_dat_tm3.shp");
  ASSERT_TRUE(ds);
  Geos geos;
  std::vector<GEOSGeometry*> parcels;
  std::vector<std::string> maxa;
  GEOSSTRtree* tree = GEOSSTRtree_create_r(geos.h(), 10);
  for (auto& f : *ds->GetLayer(0)) {
    parcels.push_back(geos.from_ogr(f->GetGeometryRef()));
    maxa.push_back(f->GetFieldAsString("MAXA"));
  }
  for (std::size_t i = 0; i < parcels.size(); ++i)
    GEOSSTRtree_insert_r(geos.h(), tree, parcels[i], reinterpret_cast<void*>(i + 1));

  struct Query {
    std::size_t self;
    std::vector<std::size_t> hits;
  };
  auto callback = [](void* item, void* data) {
    auto* q = static_cast<Query*>(data);
    const auto i = reinterpret_cast<std::size_t>(item) - 1;
    if (i != q->self) q->hits.push_back(i);
  };
  int overlaps = 0;
  for (std::size_t i = 0; i < parcels.size(); ++i) {
    Query q{i, {}};
    GEOSSTRtree_query_r(geos.h(), tree, parcels[i], callback, &q);
    for (const auto j : q.hits) {
      if (j > i && geos.intersection_area(parcels[i], parcels[j]) > 0.01) ++overlaps;
    }
  }
  EXPECT_EQ(overlaps, 0);

  // Every address point of a surveyed commune lies in exactly one parcel, with the right MAXA.
  const layers::Transformer to_tm3(
      "EPSG:4326", layers::vn2000_tm3_proj(layers::kNgheAnCentralMeridian, layers::HelmertConvention::vn_common));
  std::set<std::string> parcel_communes(maxa.begin(), maxa.end());
  int checked = 0;
  for (const auto& r : read_rows(out() / "dia_chi.csv")) {
    if (!parcel_communes.count(r.at("old_commune_code"))) continue;
    double x = std::strtod(r.at("lon").c_str(), nullptr), y = std::strtod(r.at("lat").c_str(), nullptr);
    to_tm3.transform(x, y);
    GEOSGeometry* point = geos.own(GEOSGeom_createPointFromXY_r(geos.h(), x, y));
    Query q{parcels.size(), {}};
    GEOSSTRtree_query_r(geos.h(), tree, point, callback, &q);
    int inside = 0;
    for (const auto j : q.hits) {
      if (GEOSContains_r(geos.h(), parcels[j], point) == 1) {
        ++inside;
        EXPECT_EQ(maxa[j], r.at("old_commune_code")) << r.at("id");
      }
    }
    EXPECT_EQ(inside, 1) << r.at("id");
    ++checked;
  }
  EXPECT_GT(checked, 500);
  GEOSSTRtree_destroy_r(geos.h(), tree);
}

TEST_F(DemoProvince, LandUseCodeListIsTheCatalogue) {
  const auto rows = read_rows(out() / "ma_loai_dat.csv");
  std::set<std::string> codes;
  for (const auto& r : rows) {
    codes.insert(r.at("code"));
    EXPECT_EQ(r.at("level"), "code");
    EXPECT_EQ(r.at("era"), "TT25/28-2014");
    EXPECT_TRUE(r.at("name_vi").starts_with("Đất")) << r.at("name_vi");
  }
  for (const char* code : {"ODT", "ONT", "CLN", "LUC", "BHK", "TMD", "SKC", "NTS", "DGT"})
    EXPECT_TRUE(codes.count(code)) << code;
  EXPECT_EQ(codes.size(), rows.size());
}

}  // namespace
}  // namespace bandoso::data_import
