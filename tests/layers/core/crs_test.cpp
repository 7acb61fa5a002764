#include "layers/core/crs.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "layers/core/error.hpp"
#include "support/shared_data.hpp"

namespace bandoso::layers {

TEST(Crs, ConventionsDifferOnlyInRotationSigns) {
  EXPECT_NE(vn2000_towgs84(HelmertConvention::vn_common), vn2000_towgs84(HelmertConvention::epsg));
  EXPECT_NE(vn2000_towgs84(HelmertConvention::vn_common).find("-0.00928836,0.01975479,-0.00427372"), std::string::npos);
  EXPECT_EQ(parse_helmert_convention("vn-common"), HelmertConvention::vn_common);
  EXPECT_THROW(parse_helmert_convention("wgs"), BadRequestError);
}

TEST(Crs, UnknownCrsIsAnInputError) { EXPECT_THROW(Transformer("EPSG:999999", "EPSG:4326"), InputError); }

// Every reference vector round-trips within 1 mm, in both conventions, TM-3 104°45′ and UTM 48.
TEST(Crs, ReferenceVectorsRoundTrip) {
  BANDOSO_REQUIRE_SHARED(shared);
  std::ifstream in(shared / "reference/nghean/crs/vn2000_test_vectors.csv");
  std::string line;
  std::getline(in, line);
  const Transformer tm3_common("EPSG:4326", vn2000_tm3_proj(kNgheAnCentralMeridian, HelmertConvention::vn_common));
  const Transformer tm3_epsg("EPSG:4326", vn2000_tm3_proj(kNgheAnCentralMeridian, HelmertConvention::epsg));
  const Transformer utm_common("EPSG:4326", vn2000_utm_proj(48, HelmertConvention::vn_common));
  const Transformer utm_epsg("EPSG:4326", vn2000_utm_proj(48, HelmertConvention::epsg));
  int rows = 0;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::vector<std::string> cells;
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 11u) << line;
    const double lon = std::stod(cells[1]), lat = std::stod(cells[2]);
    const auto check = [&](const Transformer& t, int east_column) {
      double x = lon, y = lat;
      t.transform(x, y);
      EXPECT_NEAR(x, std::stod(cells[east_column]), 0.001) << cells[0] << " column " << east_column;
      EXPECT_NEAR(y, std::stod(cells[east_column + 1]), 0.001) << cells[0] << " column " << east_column;
      t.inverse(x, y);
      EXPECT_NEAR(x, lon, 1e-8);
      EXPECT_NEAR(y, lat, 1e-8);
    };
    check(tm3_epsg, 3);
    check(tm3_common, 5);
    check(utm_epsg, 7);
    check(utm_common, 9);
    ++rows;
  }
  EXPECT_EQ(rows, 6);
}

}  // namespace bandoso::layers
