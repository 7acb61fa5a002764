#pragma once
// A persistent tile cache (one SQLite file, MBTiles-like), part of the storage module: only
// layers/core/*store*/cache code knows SQL. Tiles are kept with the data version they were drawn from;
// an import's change log expires exactly the tiles that touch changed areas, at every zoom.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layers/core/geometry.hpp"
#include "layers/core/tile_math.hpp"

namespace bandoso::layers {

struct TileKey {
  std::string tileset;
  TileId tile;
  std::string variant;  // format and size, e.g. "png", "png@2x", "png512", "mvt"
};

struct CachedTile {
  std::string body;               // as served (an MVT is stored gzip-compressed)
  std::string etag;               // strong, quoted
  std::int64_t data_version = 0;  // the store version the tile was drawn from
};

// The tiles of one tileset (all its variants) to drop: those at zooms min_zoom..max_zoom whose bounds,
// grown on every side by `buffer` of a tile's width, intersect `area` (lon/lat; a tile sharing only an
// edge counts; latitudes beyond Web Mercator's ±85.0511 are clamped). An empty area drops nothing.
struct Expiry {
  std::string tileset;
  BBox area;
  int min_zoom = 0;
  int max_zoom = kMaxZoom;
  double buffer = 0.0;
};

// Safe to use from many threads at once; get() does not wait for a running expire() (it sees the
// tiles as they were until that commits).
class TileCache {
 public:
  virtual ~TileCache() = default;

  [[nodiscard]] virtual std::optional<CachedTile> get(const TileKey& key) const = 0;
  // Stores a tile drawn from `tile.data_version`; ignored (returns false) when that is not the
  // version the cache is synced to, so that a render that straddled an import never lands.
  virtual bool put(const TileKey& key, const CachedTile& tile) = 0;
  // put() of several tiles in one transaction (a metatile's); returns how many were stored.
  virtual std::size_t put_all(const std::vector<std::pair<TileKey, CachedTile>>& tiles) = 0;

  // The store version whose changes have been applied; 0 for a new cache.
  [[nodiscard]] virtual std::int64_t synced_version() const = 0;
  // In one transaction: deletes the tiles of every expiry and records `new_version` as synced.
  // Returns the number of tiles deleted.
  virtual std::int64_t expire(const std::vector<Expiry>& expiries, std::int64_t new_version) = 0;
  // Drops every tile (e.g. when the change log cannot say what changed) and records `new_version`.
  virtual void clear(std::int64_t new_version) = 0;

  // What the tiles were drawn from, as the caller identifies it (the tile service: the database file's
  // inode and the styles' fingerprints): 0 for a new cache. Other sources must not find the old tiles.
  [[nodiscard]] virtual std::int64_t source() const = 0;
  // Drops every tile and records a new source and version.
  virtual void reset_source(std::int64_t source, std::int64_t new_version) = 0;

  [[nodiscard]] virtual std::int64_t size() const = 0;  // tiles held
};

// Opens or creates the cache file. Throws StoreError when it cannot.
std::unique_ptr<TileCache> open_sqlite_tile_cache(const std::filesystem::path& file);

}  // namespace bandoso::layers
