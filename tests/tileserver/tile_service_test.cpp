#include "tileserver/tile_service.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"
#include "support/png.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"
#include "tileserver/raster_renderer.hpp"

namespace bandoso::tiles {

class TileServiceTest : public ::testing::Test {
 protected:
  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  TileService service{*store};
};

TEST_F(TileServiceTest, TilesetsAreTheLayersWithGeometry) {
  EXPECT_EQ(service.tilesets(), (std::vector<std::string>{"communes", "old_communes"}));
}

TEST_F(TileServiceTest, TileOverTheWardsIsA256PngWithPaint) {
  const Tile tile = service.raster_tile("communes", layers::tile_at(105.68, 18.67, 13), "png");
  EXPECT_EQ(tile.content_type, "image/png");
  const auto png = bandoso::testing::decode_png(tile.body);
  ASSERT_TRUE(png.ok);
  EXPECT_EQ(png.width, 256u);
  EXPECT_EQ(png.height, 256u);
  EXPECT_GT(png.painted_pixels(), 256u * 256u / 2) << "the wards fill most of this tile";
}

TEST_F(TileServiceTest, TileAwayFromDataIsBlank) {
  const Tile tile = service.raster_tile("communes", layers::tile_at(104.5, 19.5, 13), "png");
  const auto png = bandoso::testing::decode_png(tile.body);
  ASSERT_TRUE(png.ok);
  EXPECT_EQ(png.painted_pixels(), 0u);
}

TEST_F(TileServiceTest, EtagChangesWithTheTileAndIsQuoted) {
  const Tile a = service.raster_tile("communes", {13, 6500, 3662}, "png");
  const Tile b = service.raster_tile("communes", {13, 6501, 3662}, "png");
  EXPECT_NE(a.etag, b.etag);
  EXPECT_EQ(a.etag.front(), '"');
}

TEST_F(TileServiceTest, BadRequestsAreTypedErrors) {
  EXPECT_THROW(service.raster_tile("roads", {13, 6500, 3662}, "png"), NotFoundError);
  EXPECT_THROW(service.raster_tile("communes", {13, 6500, 3662}, "jpg"), NotFoundError);
  EXPECT_THROW(service.raster_tile("communes", {13, 9000, 3662}, "png"), BadRequestError);
}

TEST(DefaultStyle, DrawsTheDefinitionsColoursAndLabel) {
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  const std::string xml = default_style_xml(catalogue.layer("communes"));
  EXPECT_NE(xml.find(R"(<PolygonSymbolizer fill="#f4efe1")"), std::string::npos);
  EXPECT_NE(xml.find("[full_name]"), std::string::npos);
  EXPECT_EQ(xml.find("Datasource"), std::string::npos) << "the store attaches the datasource";
}

}  // namespace bandoso::tiles
