#include "layers/core/plus_code.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "layers/core/error.hpp"
#include "support/csv.hpp"
#include "support/shared_data.hpp"

namespace bandoso::layers {

namespace {

// The first `count` rows of the fixture's addresses (reading all 30,000 rows is needlessly slow).
std::vector<std::map<std::string, std::string>> first_fixture_addresses(const std::filesystem::path& shared,
                                                                        std::size_t count) {
  return bandoso::testing::read_csv(shared / "fixtures/nghean-dev/addresses.csv", count);
}

}  // namespace

TEST(PlusCode, EncodesSpecificationVectors) {
  // Vectors of the Open Location Code test data (encoding.csv).
  EXPECT_EQ(encode_plus_code(20.375, 2.775, 6), "7FG49Q00+");
  EXPECT_EQ(encode_plus_code(20.3700625, 2.7821875, 10), "7FG49QCJ+2V");
  EXPECT_EQ(encode_plus_code(20.3701125, 2.782234375, 11), "7FG49QCJ+2VX");
  EXPECT_EQ(encode_plus_code(20.3701135, 2.78223535156, 13), "7FG49QCJ+2VXGJ");
  EXPECT_EQ(encode_plus_code(47.0000625, 8.0000625, 10), "8FVC2222+22");
  EXPECT_EQ(encode_plus_code(-41.2730625, 174.7859375, 10), "4VCPPQGP+Q9");
  EXPECT_EQ(encode_plus_code(0.5, -179.5, 4), "62G20000+");
  EXPECT_EQ(encode_plus_code(-89.5, -179.5, 4), "22220000+");
  EXPECT_EQ(encode_plus_code(-89.9999375, -179.9999375, 10), "22222222+22");
  EXPECT_EQ(encode_plus_code(1, 1, 11), "6FH32222+222");
}

TEST(PlusCode, ClipsLatitudeAndWrapsLongitude) {
  EXPECT_EQ(encode_plus_code(90, 1, 4), "CFX30000+");
  EXPECT_EQ(encode_plus_code(92, 1, 4), "CFX30000+");
  EXPECT_EQ(encode_plus_code(1, 180, 4), "62H20000+");
  EXPECT_EQ(encode_plus_code(1, 181, 4), "62H30000+");
  EXPECT_EQ(encode_plus_code(18.6705490, 105.6592126 - 360.0), encode_plus_code(18.6705490, 105.6592126));
}

TEST(PlusCode, DefaultIsTenDigitsInVinh) {
  EXPECT_EQ(encode_plus_code(18.6705490, 105.6592126), "7PC7MMC5+6M");
  EXPECT_EQ(encode_plus_code(18.6705490, 105.6592126, 20), encode_plus_code(18.6705490, 105.6592126, 15));
}

TEST(PlusCode, RefusesInvalidLengths) {
  EXPECT_THROW(encode_plus_code(18.67, 105.66, 1), BadRequestError);
  EXPECT_THROW(encode_plus_code(18.67, 105.66, 7), BadRequestError);
  EXPECT_THROW(encode_plus_code(18.67, 105.66, 0), BadRequestError);
}

TEST(PlusCode, DecodesToTheCellOfTheSpecification) {
  const auto area = decode_plus_code("7FG49QCJ+2V");
  EXPECT_NEAR(area.south, 20.37, 1e-10);
  EXPECT_NEAR(area.north, 20.370125, 1e-10);
  EXPECT_NEAR(area.west, 2.782125, 1e-10);
  EXPECT_NEAR(area.east, 2.78225, 1e-10);
  EXPECT_NEAR(area.center_lat(), 20.3700625, 1e-10);
  EXPECT_NEAR(area.center_lon(), 2.7821875, 1e-10);

  const auto padded = decode_plus_code("7P000000+");
  EXPECT_DOUBLE_EQ(padded.south, 10.0);
  EXPECT_DOUBLE_EQ(padded.north, 30.0);
  EXPECT_DOUBLE_EQ(padded.west, 100.0);
  EXPECT_DOUBLE_EQ(padded.east, 120.0);

  const auto grid = decode_plus_code("7FG49QCJ+2VXGJ");
  EXPECT_LE(grid.south, 20.3701135);
  EXPECT_GT(grid.north, 20.3701135);
  EXPECT_LE(grid.west, 2.78223535156);
  EXPECT_GT(grid.east, 2.78223535156);
}

TEST(PlusCode, LowerCaseIsAccepted) {
  EXPECT_TRUE(is_full_plus_code("7pc7mmc5+6m"));
  const auto upper = decode_plus_code("7PC7MMC5+6M");
  const auto lower = decode_plus_code("7pc7mmc5+6m");
  EXPECT_DOUBLE_EQ(upper.south, lower.south);
  EXPECT_DOUBLE_EQ(upper.west, lower.west);
}

TEST(PlusCode, RefusesShortAndInvalidCodes) {
  for (const char* bad : {"MMC5+6M", "C5+6M", "7PC7MMC5+6", "7PC7MMC56M", "7PC7MMC+56M", "7PC7+MMC5+6M", "7PC7MMC5+6I",
                          "7P0000+", "7P00MM00+", "7P000000+6M", "0P000000+", "", "+", "WPC7MMC5+6M", "7YC7MMC5+6M"}) {
    EXPECT_FALSE(is_full_plus_code(bad)) << bad;
    EXPECT_THROW(decode_plus_code(bad), BadRequestError) << bad;
  }
  EXPECT_TRUE(is_full_plus_code("7PC7MMC5+"));
  EXPECT_TRUE(is_full_plus_code("7PC70000+"));
}

TEST(PlusCode, RoundTripsAtEveryLength) {
  const double lat = 18.7250210, lon = 105.6892010;
  for (int length : {2, 4, 6, 8, 10, 11, 12, 13, 14, 15}) {
    const auto code = encode_plus_code(lat, lon, length);
    ASSERT_TRUE(is_full_plus_code(code)) << code;
    const auto area = decode_plus_code(code);
    EXPECT_LE(area.south, lat) << code;
    EXPECT_GT(area.north, lat) << code;
    EXPECT_LE(area.west, lon) << code;
    EXPECT_GT(area.east, lon) << code;
    EXPECT_EQ(encode_plus_code(area.center_lat(), area.center_lon(), length), code);
  }
}

TEST(PlusCode, MatchesTheFixtureAddresses) {
  BANDOSO_REQUIRE_SHARED(shared);
  const auto rows = first_fixture_addresses(shared, 3000);
  ASSERT_GT(rows.size(), 400U);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < rows.size() && checked < 400; i += 7, ++checked) {
    const auto& row = rows[i];
    const double lat = std::strtod(row.at("lat").c_str(), nullptr);
    const double lon = std::strtod(row.at("lon").c_str(), nullptr);
    EXPECT_EQ(encode_plus_code(lat, lon), row.at("plus_code")) << row.at("id");
    const auto area = decode_plus_code(row.at("plus_code"));
    EXPECT_TRUE(area.south <= lat && lat < area.north && area.west <= lon && lon < area.east) << row.at("id");
  }
  EXPECT_EQ(checked, 400U);
}

}  // namespace bandoso::layers
