// The real VN-2000 / UTM 48 shapefile of the 130 communes, imported with each Helmert convention and
// compared vertex by vertex with the WGS84 reference polygons of the same communes.
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <cmath>
#include <numbers>
#include <unordered_map>

#include "data-import/importer.hpp"
#include "layers/core/catalogue.hpp"
#include "layers/core/store.hpp"
#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::data_import {

namespace {

struct Point {
  double lon, lat;
};

void collect_vertices(const OGRGeometry* geometry, std::vector<Point>& out) {
  if (geometry == nullptr) return;
  if (const auto* collection = dynamic_cast<const OGRGeometryCollection*>(geometry)) {
    for (const auto* part : collection) collect_vertices(part, out);
  } else if (const auto* polygon = dynamic_cast<const OGRPolygon*>(geometry)) {
    for (const auto* ring : polygon) collect_vertices(ring, out);
  } else if (const auto* line = dynamic_cast<const OGRSimpleCurve*>(geometry)) {
    for (int i = 0; i < line->getNumPoints(); ++i) out.push_back({line->getX(i), line->getY(i)});
  }
}

// Nearest-vertex distances through a grid of ~11 m cells (only near neighbours matter here).
class VertexIndex {
 public:
  explicit VertexIndex(std::vector<Point> points) : points_(std::move(points)) {
    for (std::size_t i = 0; i < points_.size(); ++i)
      cells_[key(cell(points_[i].lon), cell(points_[i].lat))].push_back(i);
  }
  // Metres to the nearest vertex, or infinity when none lies within about one cell.
  [[nodiscard]] double nearest_m(const Point& p) const {
    double best = std::numeric_limits<double>::infinity();
    const long cx = cell(p.lon), cy = cell(p.lat);
    const double metres_per_degree_lat = 110574.0;
    const double metres_per_degree_lon = 111320.0 * std::cos(p.lat * std::numbers::pi / 180);
    for (long dx = -1; dx <= 1; ++dx) {
      for (long dy = -1; dy <= 1; ++dy) {
        const auto it = cells_.find(key(cx + dx, cy + dy));
        if (it == cells_.end()) continue;
        for (std::size_t i : it->second) {
          const double ex = (points_[i].lon - p.lon) * metres_per_degree_lon;
          const double ey = (points_[i].lat - p.lat) * metres_per_degree_lat;
          best = std::min(best, std::hypot(ex, ey));
        }
      }
    }
    return best;
  }

 private:
  static long cell(double degrees) { return static_cast<long>(std::floor(degrees / 1e-4)); }
  static std::int64_t key(long x, long y) { return (static_cast<std::int64_t>(x) << 32) ^ (y & 0xffffffff); }
  std::vector<Point> points_;
  std::unordered_map<std::int64_t, std::vector<std::size_t>> cells_;
};

std::vector<Point> reference_vertices(const std::filesystem::path& wards, const std::string& code) {
  for (const auto& entry : std::filesystem::directory_iterator(wards)) {
    if (!entry.path().filename().string().starts_with(code + "_")) continue;
    GDALDatasetUniquePtr ds(GDALDataset::Open(entry.path().c_str(), GDAL_OF_VECTOR));
    std::vector<Point> points;
    for (auto& feature : ds->GetLayer(0)) collect_vertices(feature->GetGeometryRef(), points);
    return points;
  }
  return {};
}

struct Accuracy {
  double median_m = 0;
  double share_within_10cm = 0;
  std::size_t vertices = 0;
  std::size_t communes = 0;
};

Accuracy import_and_compare(const std::filesystem::path& shared, layers::HelmertConvention helmert) {
  testing::TempDir dir;
  const layers::LayerDef layer = layers::parse_layer_definition(R"(
name: xa_na
title: Xã, phường (VN-2000 / UTM 48)
geometry: multipolygon
key: [gid]
attributes:
  - {name: gid, type: text, required: true}
  - {name: ten, type: text}
)",
                                                                "xa_na.yaml");
  std::ofstream(dir / "mapping.yaml") << "layer: xa_na\nfields: {gid: GID, ten: ten_xa}\n";
  auto store = layers::open_spatialite_store(dir / "r.sqlite", layers::OpenMode::create);
  ImportOptions options;
  options.layer = "xa_na";
  options.sources = {shared / "reference/nghean/geo/robinwood92_xa_na_vn2000_utm48/Xa_NA_chuan.shp"};
  options.mapping = dir / "mapping.yaml";
  options.helmert = helmert;
  const ImportReport report = run_import(*store, layer, options);
  EXPECT_EQ(report.record.imported, 130);

  // Two GIDs carry a predecessor's code (MANIFEST): map them to the official one.
  const std::map<std::string, std::string> gid_fixes{{"16994", "17011"}, {"17152", "17170"}};
  const auto wards = shared / "reference/nghean/geo/thanglequoc_2025_nghean/wards";
  std::vector<double> distances;
  Accuracy result;
  store->scan("xa_na", true, [&](const layers::Feature& f) {
    std::string code = std::get<std::string>(f.values[0]);
    if (const auto fix = gid_fixes.find(code); fix != gid_fixes.end()) code = fix->second;
    const VertexIndex index(reference_vertices(wards, code));
    OGRGeometry* geometry = nullptr;
    OGRGeometryFactory::createFromWkb(f.wkb.data(), nullptr, &geometry, f.wkb.size());
    std::vector<Point> imported;
    collect_vertices(geometry, imported);
    OGRGeometryFactory::destroyGeometry(geometry);
    for (const Point& p : imported) distances.push_back(index.nearest_m(p));
    ++result.communes;
    return true;
  });
  std::sort(distances.begin(), distances.end());
  result.vertices = distances.size();
  result.median_m = distances[distances.size() / 2];
  const auto within = std::upper_bound(distances.begin(), distances.end(), 0.1) - distances.begin();
  result.share_within_10cm = static_cast<double>(within) / static_cast<double>(distances.size());
  return result;
}

}  // namespace

TEST(ReferenceImport, Utm48CommunesMatchTheWgs84ReferenceWithTheVietnameseConvention) {
  BANDOSO_REQUIRE_SHARED(shared);
  GDALAllRegister();
  const Accuracy common = import_and_compare(shared, layers::HelmertConvention::vn_common);
  const Accuracy epsg = import_and_compare(shared, layers::HelmertConvention::epsg);
  std::cout << fmt::format("vn-common: {} communes, {} vertices, median {:.3f} m, {:.1f} % within 0.1 m\n",
                           common.communes, common.vertices, common.median_m, 100 * common.share_within_10cm);
  std::cout << fmt::format("epsg:      median {:.3f} m, {:.1f} % within 0.1 m\n", epsg.median_m,
                           100 * epsg.share_within_10cm);
  EXPECT_EQ(common.communes, 130u);
  EXPECT_LE(common.median_m, 0.05);
  EXPECT_GE(common.share_within_10cm, 0.98);
  // The other convention is ~0.7 m off: the test tells the two apart.
  EXPECT_GT(epsg.median_m, 0.5);
  EXPECT_LT(epsg.share_within_10cm, 0.5);
}

}  // namespace bandoso::data_import
