#include "layers/core/tile_cache.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "layers/core/error.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::layers {

namespace {

using bandoso::testing::TempDir;

constexpr double kVinhLon = 105.68;
constexpr double kVinhLat = 18.67;

TileKey key(const std::string& tileset, const TileId& tile, const std::string& variant = "png") {
  return TileKey{tileset, tile, variant};
}

CachedTile tile_of(const std::string& body, std::int64_t version) {
  return CachedTile{body, fmt::format("\"{}-{}\"", body.size(), version), version};
}

BBox around(double lon, double lat, double half) { return BBox{lon - half, lat - half, lon + half, lat + half}; }

// The expected answer, computed independently of the cache's tile index arithmetic: the tile's
// Web Mercator bounds, grown by `buffer` tile widths, intersect the area (latitude clamped).
bool touches(const TileId& tile, const BBox& area, double buffer) {
  if (area.empty()) return false;
  BBox bounds = tile_bounds_mercator(tile);
  const double grow = buffer * (bounds.east - bounds.west);
  bounds = BBox{bounds.west - grow, bounds.south - grow, bounds.east + grow, bounds.north + grow};
  const auto lat = [](double v) { return std::clamp(v, -85.0511287798066, 85.0511287798066); };
  BBox m;
  double x = 0, y = 0;
  lonlat_to_mercator(std::clamp(area.west, -180.0, 180.0), lat(area.south), x, y);
  m.expand(x, y);
  lonlat_to_mercator(std::clamp(area.east, -180.0, 180.0), lat(area.north), x, y);
  m.expand(x, y);
  return bounds.intersects(m);
}

TileId offset(const TileId& t, int dx, int dy) {
  return TileId{t.z, static_cast<std::uint32_t>(static_cast<int>(t.x) + dx),
                static_cast<std::uint32_t>(static_cast<int>(t.y) + dy)};
}

// Puts the tiles of a (2r+1)² block around the tile holding (lon, lat) at zooms z0..z1; returns their keys.
std::vector<TileKey> fill_block(TileCache& cache, const std::string& tileset, const std::vector<std::string>& variants,
                                int z0, int z1, int r, std::int64_t version) {
  std::vector<TileKey> keys;
  for (int z = z0; z <= z1; ++z) {
    const TileId centre = tile_at(kVinhLon, kVinhLat, z);
    const int n = 1 << z;
    for (int dx = -r; dx <= r; ++dx) {
      for (int dy = -r; dy <= r; ++dy) {
        const int x = static_cast<int>(centre.x) + dx;
        const int y = static_cast<int>(centre.y) + dy;
        if (x < 0 || y < 0 || x >= n || y >= n) continue;
        for (const auto& variant : variants) {
          const TileKey k = key(tileset, offset(centre, dx, dy), variant);
          if (std::find_if(keys.begin(), keys.end(), [&](const TileKey& o) {
                return o.tileset == k.tileset && o.tile == k.tile && o.variant == k.variant;
              }) != keys.end()) {
            continue;
          }
          EXPECT_TRUE(cache.put(k, tile_of("tile " + variant, version)));
          keys.push_back(k);
        }
      }
    }
  }
  return keys;
}

std::vector<TileKey> fill_world(TileCache& cache, const std::string& tileset, int max_zoom, std::int64_t version) {
  std::vector<TileKey> keys;
  for (int z = 0; z <= max_zoom; ++z) {
    for (std::uint32_t x = 0; x < (1u << z); ++x) {
      for (std::uint32_t y = 0; y < (1u << z); ++y) {
        keys.push_back(key(tileset, TileId{z, x, y}));
        EXPECT_TRUE(cache.put(keys.back(), tile_of("w", version)));
      }
    }
  }
  return keys;
}

// Runs SQL on the file behind the cache's back; returns the rows, columns joined by '|', rows by '\n'.
std::string raw_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + file.string());
  }
  std::string rows;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int columns, char** values, char**) {
        auto* text = static_cast<std::string*>(out);
        if (!text->empty()) *text += '\n';
        for (int i = 0; i < columns; ++i) {
          if (i > 0) *text += '|';
          text->append(values[i] != nullptr ? values[i] : "NULL");
        }
        return 0;
      },
      &rows, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error(sql + ": " + message);
  return rows;
}

void expect_schema_mismatch(const std::filesystem::path& file) {
  try {
    (void)open_sqlite_tile_cache(file);
    ADD_FAILURE() << file << " was opened as a tile cache";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), ErrorCode::schema_mismatch) << e.what();
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(TileCache, RoundTripsBinaryBodies) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  EXPECT_EQ(cache->synced_version(), 0);
  EXPECT_EQ(cache->size(), 0);

  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  std::mt19937 random(7);
  std::string large(200000, '\0');
  for (auto& c : large) c = static_cast<char>(random() % 4 == 0 ? 0 : random() & 0xff);
  const TileKey a = key("base", {14, 13001, 7326}, "png");
  const TileKey b = key("base", {14, 13001, 7326}, "mvt");
  const TileKey empty = key("base", {0, 0, 0}, "png");
  ASSERT_TRUE(cache->put(a, CachedTile{png, "\"abc\"", 0}));
  ASSERT_TRUE(cache->put(b, CachedTile{large, "\"def\"", 0}));
  ASSERT_TRUE(cache->put(empty, CachedTile{"", "\"e\"", 0}));

  const auto got = cache->get(a);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, png);
  EXPECT_EQ(got->body.size(), 16u);
  EXPECT_EQ(got->etag, "\"abc\"");
  EXPECT_EQ(got->data_version, 0);
  ASSERT_TRUE(cache->get(b).has_value());
  EXPECT_EQ(cache->get(b)->body, large);
  ASSERT_TRUE(cache->get(empty).has_value());
  EXPECT_EQ(cache->get(empty)->body, "");
  EXPECT_EQ(cache->size(), 3);

  // Other variant, tileset or tile: not there.
  EXPECT_FALSE(cache->get(key("base", {14, 13001, 7326}, "png@2x")).has_value());
  EXPECT_FALSE(cache->get(key("other", {14, 13001, 7326}, "png")).has_value());
  EXPECT_FALSE(cache->get(key("base", {14, 13002, 7326}, "png")).has_value());

  // A second put of the same key replaces the tile.
  ASSERT_TRUE(cache->put(a, CachedTile{"new", "\"n\"", 0}));
  EXPECT_EQ(cache->get(a)->body, "new");
  EXPECT_EQ(cache->get(a)->etag, "\"n\"");
  EXPECT_EQ(cache->size(), 3);
}

TEST(TileCache, RefusesTilesOfAnotherVersion) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  const TileKey k = key("base", {10, 812, 457});
  EXPECT_FALSE(cache->put(k, tile_of("from the future", 1)));
  EXPECT_FALSE(cache->get(k).has_value());
  EXPECT_TRUE(cache->put(k, tile_of("v0", 0)));

  EXPECT_EQ(cache->expire({}, 5), 0);
  EXPECT_EQ(cache->synced_version(), 5);
  EXPECT_EQ(cache->get(k)->body, "v0");  // not in any expired area: kept
  // A render that straddled the import (drawn from 0 or 4) must not land.
  EXPECT_FALSE(cache->put(k, tile_of("stale", 0)));
  EXPECT_FALSE(cache->put(k, tile_of("stale", 4)));
  EXPECT_FALSE(cache->put(k, tile_of("ahead", 6)));
  EXPECT_EQ(cache->get(k)->body, "v0");
  EXPECT_TRUE(cache->put(k, tile_of("v5", 5)));
  EXPECT_EQ(cache->get(k)->body, "v5");
  EXPECT_EQ(cache->get(k)->data_version, 5);
}

TEST(TileCache, ANewSourceEmptiesTheCacheAndIsKept) {
  TempDir dir;
  const auto file = dir / "tiles.mbtiles";
  {
    auto cache = open_sqlite_tile_cache(file);
    EXPECT_EQ(cache->source(), 0);
    cache->expire({}, 4);
    ASSERT_TRUE(cache->put(key("base", {0, 0, 0}), tile_of("world", 4)));
    cache->reset_source(1234, 0);
    EXPECT_EQ(cache->size(), 0);
    EXPECT_EQ(cache->synced_version(), 0);
    ASSERT_TRUE(cache->put(key("base", {0, 0, 0}), tile_of("again", 0)));
  }
  auto cache = open_sqlite_tile_cache(file);
  EXPECT_EQ(cache->source(), 1234);
  EXPECT_EQ(cache->get(key("base", {0, 0, 0}))->body, "again");
}

TEST(TileCache, PutAllStoresInOneGoAndKeepsTheVersionRule) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  cache->expire({}, 2);
  const std::vector<std::pair<TileKey, CachedTile>> tiles{{key("base", {1, 0, 0}), tile_of("a", 2)},
                                                          {key("base", {1, 1, 0}), tile_of("b", 2)},
                                                          {key("base", {1, 0, 1}), tile_of("stale", 1)}};
  EXPECT_EQ(cache->put_all(tiles), 2U);
  EXPECT_EQ(cache->get(key("base", {1, 1, 0}))->body, "b");
  EXPECT_FALSE(cache->get(key("base", {1, 0, 1})).has_value());
}

TEST(TileCache, ReopenKeepsTilesAndVersion) {
  TempDir dir;
  const auto file = dir / "tiles.mbtiles";
  const TileKey k = key("base", {14, 13001, 7326}, "png@2x");
  {
    auto cache = open_sqlite_tile_cache(file);
    cache->expire({}, 3);
    ASSERT_TRUE(cache->put(k, CachedTile{std::string("a\0b", 3), "\"x\"", 3}));
    ASSERT_TRUE(cache->put(key("base", {0, 0, 0}), tile_of("world", 3)));
  }
  auto cache = open_sqlite_tile_cache(file);
  EXPECT_EQ(cache->synced_version(), 3);
  EXPECT_EQ(cache->size(), 2);
  ASSERT_TRUE(cache->get(k).has_value());
  EXPECT_EQ(cache->get(k)->body, std::string("a\0b", 3));
  EXPECT_EQ(cache->get(k)->data_version, 3);
  EXPECT_FALSE(cache->put(k, tile_of("old", 0)));
}

TEST(TileCache, FileIsWalWithAnIndexedTileRange) {
  TempDir dir;
  const auto file = dir / "tiles.mbtiles";
  auto cache = open_sqlite_tile_cache(file);
  EXPECT_EQ(raw_sql(file, "PRAGMA journal_mode"), "wal");
  // An expiry's range query must be an index search, not a scan of the tileset (or of the table).
  const std::string plan = raw_sql(file,
                                   "EXPLAIN QUERY PLAN DELETE FROM tiles WHERE tileset = 'a' AND z = 3 "
                                   "AND x BETWEEN 1 AND 2 AND y BETWEEN 1 AND 2");
  EXPECT_NE(plan.find("SEARCH"), std::string::npos) << plan;
  EXPECT_NE(plan.find("x>? AND x<?"), std::string::npos) << plan;
}

TEST(TileCache, ExpiresExactlyTheTilesTouchingAnAreaInVinh) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  const std::vector<std::string> variants{"png", "png@2x", "mvt"};
  const auto base = fill_block(*cache, "base", variants, 0, 18, 1, 0);
  const auto other = fill_block(*cache, "other", {"png"}, 0, 18, 1, 0);
  ASSERT_EQ(cache->size(), static_cast<std::int64_t>(base.size() + other.size()));

  const BBox area = around(kVinhLon, kVinhLat, 0.0001);
  const std::int64_t expected =
      std::count_if(base.begin(), base.end(), [&](const TileKey& k) { return touches(k.tile, area, 0); });
  EXPECT_EQ(cache->expire({Expiry{"base", area, 0, kMaxZoom, 0.0}}, 1), expected);
  EXPECT_EQ(cache->synced_version(), 1);
  EXPECT_EQ(cache->size(), static_cast<std::int64_t>(base.size() + other.size()) - expected);

  for (const auto& k : base) {
    EXPECT_EQ(cache->get(k).has_value(), !touches(k.tile, area, 0))
        << k.tile.z << "/" << k.tile.x << "/" << k.tile.y << " " << k.variant;
  }
  // The tile holding the point is gone at every zoom, in every variant.
  for (int z = 5; z <= 18; ++z) {
    for (const auto& variant : variants) {
      EXPECT_FALSE(cache->get(key("base", tile_at(kVinhLon, kVinhLat, z), variant)).has_value()) << z << variant;
    }
  }
  // Its neighbours at z 14 are not touched by so small an area.
  const TileId centre = tile_at(kVinhLon, kVinhLat, 14);
  for (int dx = -1; dx <= 1; ++dx) {
    for (int dy = -1; dy <= 1; ++dy) {
      if (dx == 0 && dy == 0) continue;
      for (const auto& variant : variants) {
        EXPECT_TRUE(cache->get(key("base", offset(centre, dx, dy), variant)).has_value()) << dx << "," << dy;
      }
    }
  }
  // Another tileset is not touched.
  for (const auto& k : other) EXPECT_TRUE(cache->get(k).has_value()) << k.tile.z;
}

TEST(TileCache, BufferExpiresTheNeighbourAcrossANearEdge) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  fill_block(*cache, "base", {"png", "mvt"}, 14, 14, 1, 0);

  // Where the point lies in its z14 tile, in tile widths: the south edge is the near one.
  const TileId centre = tile_at(kVinhLon, kVinhLat, 14);
  const BBox bounds = tile_bounds_mercator(centre);
  const double width = bounds.east - bounds.west;
  double px = 0, py = 0;
  lonlat_to_mercator(kVinhLon, kVinhLat, px, py);
  const double to_south = (py - bounds.south) / width, to_north = (bounds.north - py) / width;
  const double to_west = (px - bounds.west) / width, to_east = (bounds.east - px) / width;
  ASSERT_LT(to_south, 0.18);
  ASSERT_GT(std::min({to_north, to_west, to_east}), 0.3);

  const BBox point{kVinhLon, kVinhLat, kVinhLon, kVinhLat};
  // No buffer: only the centre (two variants).
  EXPECT_EQ(cache->expire({Expiry{"base", point, 14, 14, 0.0}}, 1), 2);
  fill_block(*cache, "base", {"png", "mvt"}, 14, 14, 1, 1);
  // A quarter tile: the centre and its south neighbour.
  EXPECT_EQ(cache->expire({Expiry{"base", point, 14, 14, 0.25}}, 2), 4);
  for (const auto& variant : {"png", "mvt"}) {
    EXPECT_FALSE(cache->get(key("base", centre, variant)).has_value());
    EXPECT_FALSE(cache->get(key("base", offset(centre, 0, 1), variant)).has_value());  // south, across the near edge
    EXPECT_TRUE(cache->get(key("base", offset(centre, 0, -1), variant)).has_value());  // north
    EXPECT_TRUE(cache->get(key("base", offset(centre, -1, 0), variant)).has_value());  // west
    EXPECT_TRUE(cache->get(key("base", offset(centre, 1, 0), variant)).has_value());   // east
    EXPECT_TRUE(cache->get(key("base", offset(centre, 1, 1), variant)).has_value());   // south-east
    EXPECT_TRUE(cache->get(key("base", offset(centre, -1, 1), variant)).has_value());  // south-west
  }
  // A buffer of a whole tile reaches all eight neighbours.
  fill_block(*cache, "base", {"png", "mvt"}, 14, 14, 1, 2);
  EXPECT_EQ(cache->expire({Expiry{"base", point, 14, 14, 1.0}}, 3), 18);
  EXPECT_EQ(cache->size(), 0);
}

TEST(TileCache, ExpiryRespectsTheZoomRange) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  fill_block(*cache, "base", {"png", "mvt"}, 8, 14, 0, 0);
  EXPECT_EQ(cache->expire({Expiry{"base", around(kVinhLon, kVinhLat, 0.0001), 10, 12, 0.0}}, 1), 6);
  for (int z = 8; z <= 14; ++z) {
    const bool expired = z >= 10 && z <= 12;
    EXPECT_EQ(cache->get(key("base", tile_at(kVinhLon, kVinhLat, z), "mvt")).has_value(), !expired) << z;
    EXPECT_EQ(cache->get(key("base", tile_at(kVinhLon, kVinhLat, z), "png")).has_value(), !expired) << z;
  }
  // Out-of-range zooms are ignored rather than failing.
  EXPECT_EQ(cache->expire({Expiry{"base", around(kVinhLon, kVinhLat, 0.0001), 13, 40, 0.0}}, 2), 4);
  EXPECT_EQ(cache->expire({Expiry{"base", around(kVinhLon, kVinhLat, 0.0001), -3, 8, 0.0}}, 3), 2);
  EXPECT_EQ(cache->size(), 2);  // z 9
  EXPECT_EQ(cache->expire({Expiry{"base", around(kVinhLon, kVinhLat, 0.0001), 9, 8, 0.0}}, 4), 0);
}

TEST(TileCache, EmptyAreaExpiresNothing) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  const auto keys = fill_world(*cache, "base", 3, 0);
  EXPECT_EQ(cache->expire({Expiry{"base", BBox{}, 0, kMaxZoom, 1.0}, Expiry{"base", BBox{106, 18, 105, 19}}}, 9), 0);
  EXPECT_EQ(cache->size(), static_cast<std::int64_t>(keys.size()));
  EXPECT_EQ(cache->synced_version(), 9);
}

TEST(TileCache, ClearDropsEveryTile) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  fill_block(*cache, "base", {"png"}, 0, 14, 1, 0);
  fill_block(*cache, "other", {"mvt"}, 0, 14, 1, 0);
  ASSERT_GT(cache->size(), 0);
  cache->clear(7);
  EXPECT_EQ(cache->size(), 0);
  EXPECT_EQ(cache->synced_version(), 7);
  EXPECT_FALSE(cache->get(key("base", tile_at(kVinhLon, kVinhLat, 14))).has_value());
  EXPECT_FALSE(cache->put(key("base", {0, 0, 0}), tile_of("old", 0)));
  EXPECT_TRUE(cache->put(key("base", {0, 0, 0}), tile_of("new", 7)));
  EXPECT_EQ(cache->size(), 1);
}

TEST(TileCache, AreasAcrossTileBoundariesAtLowZooms) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  struct Case {
    BBox area;
    double buffer;
  };
  const std::vector<Case> cases{
      {BBox{100, 10, 115, 25}, 0.0},          // across x 12|13 and y 6|7 at z 4, and more at z 5
      {kNgheAnExtent, 0.0},                   // the province
      {kNgheAnExtent, 0.5},                   // with a half-tile buffer
      {BBox{-180, -90, 180, 90}, 0.0},        // the world, latitude beyond Web Mercator
      {BBox{179.99, -0.01, 200, 0.01}, 0.0},  // at the east edge and the equator
      {BBox{-1e-7, 10, 1e-7, 10}, 0.0},       // a sliver across the meridian, a tile edge at every zoom
      {BBox{-10, 60, 10, 89}, 0.1},
  };
  std::int64_t version = 0;
  for (const auto& c : cases) {
    cache->clear(version);
    const auto keys = fill_world(*cache, "base", 5, version);
    fill_block(*cache, "other", {"png"}, 0, 5, 1, version);
    std::map<int, int> per_zoom;
    std::int64_t expected = 0;
    for (const auto& k : keys) {
      if (touches(k.tile, c.area, c.buffer)) {
        ++expected;
        ++per_zoom[k.tile.z];
      }
    }
    const std::int64_t other = cache->size() - static_cast<std::int64_t>(keys.size());
    EXPECT_EQ(cache->expire({Expiry{"base", c.area, 0, 5, c.buffer}}, ++version), expected);
    EXPECT_EQ(cache->size(), static_cast<std::int64_t>(keys.size()) - expected + other);
    for (const auto& k : keys) {
      EXPECT_EQ(cache->get(k).has_value(), !touches(k.tile, c.area, c.buffer))
          << k.tile.z << "/" << k.tile.x << "/" << k.tile.y << " area " << c.area.west << "," << c.area.south << ","
          << c.area.east << "," << c.area.north << " buffer " << c.buffer;
    }
    if (c.area.west == 100) {
      EXPECT_EQ(per_zoom[4], 4);  // x 12..13, y 6..7
      EXPECT_GT(per_zoom[5], 4);
    }
    if (c.area.south == -90) {
      EXPECT_EQ(expected, static_cast<std::int64_t>(keys.size()));
    }
    if (c.area.west == -1e-7) {
      EXPECT_EQ(per_zoom[3], 2);
    }
  }
}

TEST(TileCache, ATileSharingOnlyAnEdgeWithTheAreaIsExpired) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  // The area starts exactly on the meridian, the west edge of tile x = 2^(z-1) at every zoom: the
  // tile west of it touches the area and goes too (expiring one tile too many is the safe side).
  const BBox area{0, 10, 0.001, 10.001};
  for (int z = 2; z <= 12; ++z) {
    const TileId east = tile_at(0.0005, 10.0005, z);
    ASSERT_EQ(east.x, 1u << (z - 1));
    ASSERT_TRUE(cache->put(key("base", east), tile_of("e", 0)));
    ASSERT_TRUE(cache->put(key("base", offset(east, -1, 0)), tile_of("w", 0)));
    ASSERT_TRUE(cache->put(key("base", offset(east, -2, 0)), tile_of("ww", 0)));
  }
  EXPECT_EQ(cache->expire({Expiry{"base", area, 2, 12}}, 1), 22);
  for (int z = 2; z <= 12; ++z) {
    const TileId east = tile_at(0.0005, 10.0005, z);
    EXPECT_FALSE(cache->get(key("base", east)).has_value()) << z;
    EXPECT_FALSE(cache->get(key("base", offset(east, -1, 0))).has_value()) << z;
    EXPECT_TRUE(cache->get(key("base", offset(east, -2, 0))).has_value()) << z;
  }
}

TEST(TileCache, ManySmallExpiriesStayFast) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  const auto keys = fill_block(*cache, "base", {"png"}, 12, 12, 12, 0);  // 625 tiles around Vinh
  std::mt19937 random(42);
  std::uniform_real_distribution<double> lon(kNgheAnExtent.west, kNgheAnExtent.east);
  std::uniform_real_distribution<double> lat(kNgheAnExtent.south, kNgheAnExtent.north);
  std::vector<Expiry> expiries;
  for (int i = 0; i < 10000; ++i) expiries.push_back(Expiry{"base", around(lon(random), lat(random), 0.0005), 0, 19});
  std::int64_t expected = 0;
  for (const auto& k : keys) {
    expected +=
        std::any_of(expiries.begin(), expiries.end(), [&](const Expiry& e) { return touches(k.tile, e.area, 0); });
  }
  ASSERT_GT(expected, 0);
  ASSERT_LT(expected, static_cast<std::int64_t>(keys.size()));

  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(cache->expire(expiries, 1), expected);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Generous (a shared, slow machine, a Debug build): ~200,000 ranges take well under a second.
  EXPECT_LT(seconds, 10.0);
  RecordProperty("expire_seconds", std::to_string(seconds));
  EXPECT_EQ(cache->size(), static_cast<std::int64_t>(keys.size()) - expected);
}

TEST(TileCache, ConcurrentGetAndPutWhileExpiring) {
  TempDir dir;
  auto cache = open_sqlite_tile_cache(dir / "tiles.mbtiles");
  // Workers draw tiles inside `area`, and every expiry covers all of it: so whatever tile is left
  // at the end must have been put at the final version (a put not atomic with expire would leave
  // an older one behind).
  const BBox area = around(kVinhLon, kVinhLat, 0.05);
  std::atomic<bool> expiring_done{false};
  std::atomic<int> failures{0}, stored{0}, hits{0};
  std::mutex message_mutex;
  std::string first_failure;
  const auto record = [&](const std::string& what) {
    ++failures;
    std::lock_guard lock(message_mutex);
    if (first_failure.empty()) first_failure = what;
  };

  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 random(static_cast<unsigned>(w));
      std::uniform_real_distribution<double> lon(area.west, area.east), lat(area.south, area.north);
      std::uniform_int_distribution<int> zoom(10, 16);
      try {
        for (int i = 0; i < 300 || !expiring_done; ++i) {
          const TileKey k = key("base", tile_at(lon(random), lat(random), zoom(random)), i % 3 == 0 ? "mvt" : "png");
          if (i % 2 == 0) {
            const std::int64_t version = cache->synced_version();
            stored += cache->put(k, tile_of(std::string(1000 + i, static_cast<char>(i)), version)) ? 1 : 0;
          } else if (const auto t = cache->get(k)) {
            ++hits;
            if (t->data_version > cache->synced_version()) record("a tile ahead of the synced version");
          }
        }
      } catch (const std::exception& e) {
        record(e.what());
      }
    });
  }
  std::int64_t version = 0;
  try {
    std::mt19937 random(99);
    std::uniform_real_distribution<double> lon(kNgheAnExtent.west, kNgheAnExtent.east);
    std::uniform_real_distribution<double> lat(kNgheAnExtent.south, kNgheAnExtent.north);
    for (int round = 0; round < 15; ++round) {
      std::vector<Expiry> expiries{Expiry{"base", area, 0, kMaxZoom}};
      for (int i = 0; i < 500; ++i) expiries.push_back(Expiry{"base", around(lon(random), lat(random), 0.001)});
      cache->expire(expiries, ++version);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  } catch (const std::exception& e) {
    record(e.what());
  }
  expiring_done = true;
  for (auto& t : workers) t.join();

  EXPECT_EQ(failures, 0) << first_failure;
  EXPECT_GT(stored, 0);
  EXPECT_EQ(cache->synced_version(), version);
  // Every tile left was drawn from the final version.
  const std::string left =
      raw_sql(dir / "tiles.mbtiles", "SELECT count(*) FROM tiles WHERE data_version <> " + std::to_string(version));
  EXPECT_EQ(left, "0");
}

TEST(TileCache, RefusesFilesOfAnotherSchema) {
  TempDir dir;
  {
    // A cache of another schema version.
    const auto file = dir / "old.mbtiles";
    open_sqlite_tile_cache(file).reset();
    raw_sql(file, "UPDATE meta SET value = 2 WHERE key = 'schema_version'");
    expect_schema_mismatch(file);
    raw_sql(file, "DELETE FROM meta WHERE key = 'schema_version'");
    expect_schema_mismatch(file);
  }
  {
    // Some other SQLite database (e.g. the Spatialite store): refused, and left as it was.
    const auto file = dir / "store.sqlite";
    raw_sql(file, "CREATE TABLE layers (name TEXT); CREATE TABLE meta (key TEXT, value TEXT)");
    expect_schema_mismatch(file);
    EXPECT_EQ(raw_sql(file, "PRAGMA journal_mode"), "delete");
    const auto other = dir / "other.sqlite";
    raw_sql(other, "CREATE TABLE things (id INTEGER)");
    expect_schema_mismatch(other);
    const auto odd_meta = dir / "odd_meta.sqlite";
    raw_sql(odd_meta, "CREATE TABLE meta (name TEXT, value TEXT)");
    expect_schema_mismatch(odd_meta);
  }
  {
    const auto file = dir / "text.mbtiles";
    std::ofstream(file) << std::string(2000, 'x');
    expect_schema_mismatch(file);
  }
  {
    const auto file = dir / "missing" / "tiles.mbtiles";
    try {
      (void)open_sqlite_tile_cache(file);
      ADD_FAILURE() << "opened a file in a missing directory";
    } catch (const StoreError& e) {
      EXPECT_EQ(e.code(), ErrorCode::storage_failure) << e.what();
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace bandoso::layers
