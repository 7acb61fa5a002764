#include "tileserver/tile_service.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <latch>
#include <thread>

#include "layers/core/error.hpp"
#include "support/png.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"
#include "tileserver/compression.hpp"
#include "tileserver/raster_renderer.hpp"

namespace bandoso::tiles {

namespace {

TileRequest png(const std::string& tileset, const layers::TileId& tile) { return {tileset, tile, "png"}; }

// Two wards side by side: west 105.64–105.68, east 105.68–105.72 (support/small_province.hpp).
const layers::TileId kWestZ14 = layers::tile_at(105.65, 18.67, 14);
const layers::TileId kEastZ14 = layers::tile_at(105.69, 18.67, 14);

}  // namespace

class TileServiceTest : public ::testing::Test {
 protected:
  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  TileService service{*store};
};

TEST_F(TileServiceTest, TilesetsAreTheDefinedOnesThenOnePerOtherLayer) {
  std::vector<std::string> names;
  for (const auto& t : service.tilesets()) names.push_back(t.name);
  // cadastral has no parcels here but draws the communes; old_communes gets its own default tileset.
  EXPECT_EQ(names, (std::vector<std::string>{"basemap", "cadastral", "communes", "old_communes"}));
  const Tileset communes = service.tileset("communes");
  ASSERT_EQ(communes.layers.size(), 2U);
  EXPECT_EQ(communes.layers[0].name, "communes");
  EXPECT_NEAR(communes.bounds.west, 105.64, 1e-9);
  EXPECT_NEAR(communes.bounds.east, 105.72, 1e-9);
  EXPECT_THROW((void)service.tileset("roads"), NotFoundError);
}

TEST_F(TileServiceTest, TileOverTheWardsIsA256PngWithPaint) {
  const Tile tile = service.tile(png("communes", layers::tile_at(105.68, 18.67, 13)));
  EXPECT_EQ(tile.content_type, "image/png");
  const auto image = bandoso::testing::decode_png(tile.body);
  ASSERT_TRUE(image.ok);
  EXPECT_EQ(image.width, 256U);
  EXPECT_EQ(image.height, 256U);
  EXPECT_GT(image.painted_pixels(), 256U * 256U / 2) << "the wards fill most of this tile";
}

TEST_F(TileServiceTest, RetinaAnd512TilesAre512PixelsOfTheSameArea) {
  const layers::TileId id = layers::tile_at(105.68, 18.67, 13);
  for (const double scale : {1.0, 2.0}) {
    const Tile tile = service.tile({"communes", id, "png", 512, scale});
    const auto image = bandoso::testing::decode_png(tile.body);
    ASSERT_TRUE(image.ok);
    EXPECT_EQ(image.width, 512U);
    EXPECT_GT(image.painted_pixels(), 512U * 512U / 2);
  }
  EXPECT_THROW(service.tile({"communes", id, "png", 300, 1.0}), BadRequestError);
}

TEST_F(TileServiceTest, TileAwayFromDataIsBlank) {
  const Tile tile = service.tile(png("communes", layers::tile_at(104.5, 19.5, 13)));
  const auto image = bandoso::testing::decode_png(tile.body);
  ASSERT_TRUE(image.ok);
  EXPECT_EQ(image.painted_pixels(), 0U);
}

TEST_F(TileServiceTest, EtagIsADigestOfTheBody) {
  const Tile a = service.tile(png("communes", kWestZ14));
  const Tile b = service.tile(png("communes", kEastZ14));
  const Tile a_again = service.tile(png("communes", kWestZ14));
  EXPECT_NE(a.etag, b.etag);
  EXPECT_EQ(a.etag, a_again.etag);
  EXPECT_EQ(a.etag, etag_of(a.body));
  EXPECT_EQ(a.etag.front(), '"');
}

TEST_F(TileServiceTest, VectorTilesAreGzippedOnlyForClientsThatAcceptIt) {
  const Tile zipped = service.tile({"communes", kEastZ14, "mvt", 256, 1.0, true});
  const Tile plain = service.tile({"communes", kEastZ14, "mvt", 256, 1.0, false});
  EXPECT_EQ(zipped.content_type, "application/vnd.mapbox-vector-tile");
  EXPECT_EQ(zipped.content_encoding, "gzip");
  EXPECT_EQ(plain.content_encoding, "");
  ASSERT_FALSE(plain.body.empty());
  EXPECT_EQ(gunzip(zipped.body), plain.body);
  const Tile empty = service.tile({"communes", layers::tile_at(104.5, 19.5, 14), "mvt", 256, 1.0, true});
  EXPECT_TRUE(empty.body.empty());
}

TEST_F(TileServiceTest, BadRequestsAreTypedErrors) {
  EXPECT_THROW(service.tile(png("roads", {13, 6500, 3662})), NotFoundError);
  EXPECT_THROW(service.tile({"communes", {13, 6500, 3662}, "jpg"}), NotFoundError);
  EXPECT_THROW(service.tile(png("communes", {13, 9000, 3662})), BadRequestError);
}

TEST_F(TileServiceTest, IdenticalConcurrentRequestsShareOneRender) {
  std::latch start(8);
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      start.arrive_and_wait();
      (void)service.tile(png("communes", kWestZ14));
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(service.metatiles_rendered(), 1);
  // Without a cache a metatile's other tiles would be lost: the next tile is drawn on its own.
  (void)service.tile(png("communes", {14, kWestZ14.x + 1, kWestZ14.y}));
  EXPECT_EQ(service.metatiles_rendered(), 2);
}

class CachedTileServiceTest : public TileServiceTest {
 protected:
  TileServiceOptions cached() const {
    TileServiceOptions options;
    options.cache_file = dir / "tiles.cache";
    return options;
  }
};

TEST_F(CachedTileServiceTest, OneRenderServesTheWholeMetatile) {
  TileService cached_service(*store, cached());
  const layers::TileId first{14, kWestZ14.x - kWestZ14.x % 8, kWestZ14.y - kWestZ14.y % 8};
  std::vector<std::thread> clients;
  for (std::uint32_t i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] { (void)cached_service.tile(png("communes", {14, first.x + i, first.y + i})); });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(cached_service.metatiles_rendered(), 1);
  for (std::uint32_t i = 0; i < 8; ++i)
    EXPECT_TRUE(cached_service.tile(png("communes", {14, first.x + i, first.y})).from_cache);
}

TEST_F(CachedTileServiceTest, ASecondRequestComesFromTheCacheAlsoAfterARestart) {
  std::string etag;
  {
    TileService first(*store, cached());
    const Tile drawn = first.tile(png("basemap", kWestZ14));
    EXPECT_FALSE(drawn.from_cache);
    const Tile again = first.tile(png("basemap", kWestZ14));
    EXPECT_TRUE(again.from_cache);
    EXPECT_EQ(again.body, drawn.body);
    etag = drawn.etag;
  }
  TileService second(*store, cached());
  const Tile after_restart = second.tile(png("basemap", kWestZ14));
  EXPECT_TRUE(after_restart.from_cache);
  EXPECT_EQ(after_restart.etag, etag);
  EXPECT_EQ(second.metatiles_rendered(), 0);
}

TEST_F(CachedTileServiceTest, AnImportChangingOneCommuneExpiresItsTilesAndNoOthers) {
  TileService cached_service(*store, cached());
  const std::vector<TileRequest> requests{png("communes", kWestZ14),
                                          png("communes", kEastZ14),
                                          png("basemap", kEastZ14),
                                          png("old_communes", kEastZ14),
                                          png("communes", layers::tile_at(105.65, 18.67, 17)),
                                          png("communes", layers::tile_at(105.69, 18.67, 17)),
                                          {"communes", kEastZ14, "mvt", 256, 1.0, true}};
  std::vector<Tile> before;
  for (const auto& r : requests) before.push_back(cached_service.tile(r));
  for (const auto& r : requests) EXPECT_TRUE(cached_service.tile(r).from_cache);

  // The east ward loses its western half: 105.68–105.72 becomes 105.70–105.72.
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    using S = std::string;
    auto writer = store->write_layer(catalogue.layer("communes"), layers::WriteMode::upsert);
    writer->add({{S("16690"), S("Trường Vinh"), S("Phường"), S("Phường Trường Vinh"), S("40"), S("2025-07-01"), {}},
                 bandoso::testing::wkb_from_wkt(
                     "MULTIPOLYGON(((105.70 18.65,105.72 18.65,105.72 18.69,105.70 18.69,105.70 18.65)))")});
    writer->commit(bandoso::testing::test_record("communes"));
  }

  std::vector<Tile> after;
  for (const auto& r : requests) after.push_back(cached_service.tile(r));
  // Over the west ward, and the former communes' tileset (which does not draw communes): kept.
  EXPECT_TRUE(after[0].from_cache);
  EXPECT_TRUE(after[3].from_cache);
  EXPECT_TRUE(after[4].from_cache);
  // Over the changed ward, in every tileset that draws communes, raster and vector: drawn again.
  for (const std::size_t i : {1, 2, 5, 6}) {
    EXPECT_FALSE(after[i].from_cache) << "request " << i;
    EXPECT_NE(after[i].etag, before[i].etag) << "request " << i;
  }
  const auto old_image = bandoso::testing::decode_png(before[1].body);
  const auto new_image = bandoso::testing::decode_png(after[1].body);
  EXPECT_LT(new_image.painted_pixels(), old_image.painted_pixels()) << "105.68–105.70 is no longer a ward";
}

TEST(CachedTileServiceReplacedDatabase, TilesOfAReplacedDatabaseAreNotServed) {
  bandoso::testing::TempDir dir;
  TileServiceOptions options;
  options.cache_file = dir / "tiles.cache";
  const auto path = dir / "p.sqlite";
  {
    auto store = bandoso::testing::make_small_province(path);
    TileService service(*store, options);
    (void)service.tile(png("communes", kEastZ14));
    EXPECT_TRUE(service.tile(png("communes", kEastZ14)).from_cache);
  }
  // A rebuilt database moved over the old one: the same data version, another file.
  (void)bandoso::testing::make_small_province(dir / "rebuilt.sqlite");
  std::filesystem::rename(dir / "rebuilt.sqlite", path);
  std::filesystem::remove(dir / "p.sqlite-wal");
  std::filesystem::remove(dir / "p.sqlite-shm");
  auto store = layers::open_spatialite_store(path, layers::OpenMode::read_only);
  TileService service(*store, options);
  EXPECT_FALSE(service.tile(png("communes", kEastZ14)).from_cache);
}

TEST_F(CachedTileServiceTest, TilesDrawnWithAnotherStyleAreNotServed) {
  const auto styles = dir / "styles";
  std::filesystem::create_directories(styles);
  for (const auto& entry : std::filesystem::directory_iterator(default_styles_directory())) {
    std::filesystem::copy_file(entry.path(), styles / entry.path().filename());
  }
  TileServiceOptions options = cached();
  options.styles_directory = styles;
  {
    TileService first(*store, options);
    (void)first.tile(png("communes", kEastZ14));
    EXPECT_TRUE(first.tile(png("communes", kEastZ14)).from_cache);
  }
  {
    TileService same(*store, options);
    EXPECT_TRUE(same.tile(png("communes", kEastZ14)).from_cache) << "nothing changed: the cache stays";
  }
  std::ofstream(styles / "communes.xml", std::ios::app) << "<!-- edited -->\n";
  TileService restyled(*store, options);
  EXPECT_FALSE(restyled.tile(png("communes", kEastZ14)).from_cache);
}

TEST_F(CachedTileServiceTest, ARenderOverItsTimeLimitIs503AndLandsInTheCacheForTheRetry) {
  TileServiceOptions options = cached();
  options.render_timeout = std::chrono::milliseconds(1);
  TileService impatient(*store, options);
  try {
    (void)impatient.tile(png("basemap", kEastZ14));
    FAIL() << "an 8×8 metatile cannot be drawn in a millisecond";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
  }
  bool served = false;
  for (int attempt = 0; attempt < 200 && !served; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    try {
      served = impatient.tile(png("basemap", kEastZ14)).from_cache;
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::unavailable);
    }
  }
  EXPECT_TRUE(served);
  EXPECT_EQ(impatient.metatiles_rendered(), 1);
}

TEST_F(CachedTileServiceTest, SeedFillsTheCacheForTheArea) {
  TileService seeder(*store, cached());
  std::int64_t last_total = 0;
  const std::int64_t seeded = seeder.seed({"communes", 12, 14, {105.64, 18.65, 105.72, 18.69}},
                                          [&](const SeedProgress& p) { last_total = p.tiles_total; });
  std::int64_t expected = 0;
  for (int z = 12; z <= 14; ++z) {
    const auto a = layers::tile_at(105.64, 18.69, z);
    const auto b = layers::tile_at(105.72, 18.65, z);
    expected += static_cast<std::int64_t>(b.x - a.x + 1) * (b.y - a.y + 1);
  }
  EXPECT_EQ(seeded, expected);
  EXPECT_EQ(last_total, expected);
  EXPECT_TRUE(seeder.tile(png("communes", kWestZ14)).from_cache);
  EXPECT_TRUE(seeder.tile(png("communes", layers::tile_at(105.71, 18.66, 12))).from_cache);
  EXPECT_THROW(seeder.seed({"communes", 14, 12, {}}), BadRequestError);
  EXPECT_THROW(service.seed({"communes", 12, 12, {}}), BadRequestError) << "no cache, nothing to seed";
}

TEST(DefaultStyle, DrawsTheDefinitionsColoursAndLabelFromItsMinimumZoom) {
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  const std::string xml = default_style_xml(catalogue.layer("communes"));
  EXPECT_NE(xml.find(R"(<PolygonSymbolizer fill="#f4efe1")"), std::string::npos);
  EXPECT_NE(xml.find("[full_name]"), std::string::npos);
  EXPECT_NE(xml.find("maximum-scale-denominator"), std::string::npos);
  EXPECT_EQ(xml.find("Datasource"), std::string::npos) << "the store attaches the datasource";
}

TEST(TilesetDefinition, ErrorsNameTheFileAndTheKey) {
  bandoso::testing::TempDir dir;
  const auto file = dir / "t.yaml";
  auto message = [&](const std::string& yaml) {
    try {
      (void)parse_tileset_definition(yaml, file);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("name: x\ntitle: X\nlayers: [communes]\nstyle: none.xml\n").find("style"), std::string::npos);
  EXPECT_NE(message("name: X!\ntitle: X\n").find("name"), std::string::npos);
  EXPECT_NE(message("name: x\ntitle: X\nlayers: []\n").find("layers"), std::string::npos);
  EXPECT_NE(message("name: x\ntitle: X\ncolour: red\n").find("colour"), std::string::npos);
  std::ofstream(dir / "s.xml") << "<Map/>";
  EXPECT_NE(message("name: x\ntitle: X\nlayers: [a]\nstyle: s.xml\nzoom: {min: 9, max: 3}\n").find("zoom"),
            std::string::npos);
  const TilesetDef ok = parse_tileset_definition("name: x\ntitle: X\nlayers: [a, b]\nstyle: s.xml\n", file);
  EXPECT_EQ(ok.layers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ok.style_file, dir / "s.xml");
}

TEST(TilesetDefinition, TheShippedStylesLoad) {
  const auto definitions = load_tileset_definitions(default_styles_directory());
  ASSERT_EQ(definitions.size(), 3U);
  EXPECT_EQ(definitions[0].name, "basemap");
  EXPECT_EQ(definitions[1].name, "cadastral");
  EXPECT_EQ(definitions[2].name, "communes");
}

}  // namespace bandoso::tiles
