#include "layers/core/tile_math.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"

namespace bandoso::layers {

TEST(TileMath, TileAtVinh) {
  const TileId t = tile_at(105.6813, 18.6796, 12);
  EXPECT_EQ(t, (TileId{12, 3250, 1831}));
  const BBox b = tile_bounds_lonlat(t);
  EXPECT_TRUE(b.contains(105.6813, 18.6796));
}

TEST(TileMath, WorldTileCoversWebMercator) {
  const BBox b = tile_bounds_mercator({0, 0, 0});
  EXPECT_DOUBLE_EQ(b.west, -kWebMercatorHalfWorld);
  EXPECT_DOUBLE_EQ(b.north, kWebMercatorHalfWorld);
  EXPECT_NEAR(tile_bounds_lonlat({0, 0, 0}).north, 85.0511, 1e-4);
}

TEST(TileMath, OutOfRangeTilesAreBadRequests) {
  EXPECT_THROW(check_tile({23, 0, 0}), BadRequestError);
  EXPECT_THROW(check_tile({2, 4, 0}), BadRequestError);
  EXPECT_THROW(check_tile({-1, 0, 0}), BadRequestError);
  EXPECT_NO_THROW(check_tile({2, 3, 3}));
}

TEST(TileMath, ParseTileNumber) {
  EXPECT_EQ(parse_tile_number("3391", "x"), 3391u);
  EXPECT_THROW(parse_tile_number("", "x"), BadRequestError);
  EXPECT_THROW(parse_tile_number("12a", "x"), BadRequestError);
  EXPECT_THROW(parse_tile_number("-1", "y"), BadRequestError);
  EXPECT_THROW(parse_tile_number("99999999999", "y"), BadRequestError);
}

}  // namespace bandoso::layers
