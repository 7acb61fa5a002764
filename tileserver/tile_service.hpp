#pragma once
// The tile service: which tilesets exist, and their raster and vector tiles, from the tile cache or
// freshly drawn. HTTP handlers and `bandoso seed` call it; it knows neither HTTP nor SQL.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "layers/core/store.hpp"
#include "layers/core/tile_cache.hpp"
#include "layers/core/tile_math.hpp"
#include "tileserver/tileset.hpp"

namespace bandoso::tiles {

class RasterRenderer;

// What a client asks for, as the URL says it: /tiles/{tileset}[/512]/{z}/{x}/{y}[@2x].{png|mvt}.
struct TileRequest {
  std::string tileset;
  layers::TileId tile;
  std::string format;  // "png" or "mvt"
  int size = 256;      // pixels per side of a PNG: 256, or 512 for @2x and /512/
  double scale = 1.0;  // symbol and label scale: 2 for @2x
  bool accept_gzip = false;
};

struct Tile {
  std::string body;
  std::string content_type;
  std::string content_encoding;  // "gzip" or empty
  std::string etag;              // strong, quoted: a digest of the body, so it survives unrelated imports
  std::int64_t data_version = 0;
  bool from_cache = false;
};

struct TileServiceOptions {
  std::filesystem::path cache_file;                 // empty: no persistent cache
  std::filesystem::path styles_directory;           // empty: default_styles_directory()
  std::chrono::milliseconds render_timeout{15000};  // a request waiting longer gets 503
  unsigned render_threads = 0;                      // 0: one per core
  int metatile = 8;                                 // tiles per metatile side for 256-px tiles
  std::size_t memory_cache_bytes = 256U << 20U;     // tiles kept in memory in front of the cache file
};

// A seeding run: every tile of these zooms over the area, rendered into the cache.
struct SeedRequest {
  std::string tileset;
  int min_zoom = 0;
  int max_zoom = 0;
  layers::BBox area;  // lon/lat; empty: the tileset's bounds
  std::string format = "png";
  unsigned threads = 0;  // 0: the render pool's size
};

struct SeedProgress {
  std::int64_t tiles_done = 0;
  std::int64_t tiles_total = 0;
  int zoom = 0;
};

class TileService {
 public:
  explicit TileService(const layers::Store& store, TileServiceOptions options = {});
  ~TileService();
  TileService(const TileService&) = delete;
  TileService& operator=(const TileService&) = delete;

  // The tilesets the store can serve now (see build_tilesets).
  [[nodiscard]] std::vector<Tileset> tilesets();
  // Throws NotFoundError naming the known tilesets.
  [[nodiscard]] Tileset tileset(std::string_view name);

  // Throws NotFoundError (unknown tileset or format), BadRequestError (bad tile address or size),
  // Error(unavailable) when the render does not finish within the time limit.
  Tile tile(const TileRequest& request);

  // Renders every metatile of the request into the cache; returns the number of tiles written.
  std::int64_t seed(const SeedRequest& request, const std::function<void(const SeedProgress&)>& progress = {});

  // Empties the tile caches (persistent and in memory): every tile is drawn again on its next request.
  // Returns the data version the cache now stands at.
  std::int64_t purge();
  // Catches up with the store now (tilesets, expired tiles) instead of at the next request.
  std::int64_t refresh() { return sync(); }

  // Cache-Control max-age for a tile of this zoom: long for the overview, short where data changes.
  static int max_age_seconds(int zoom);

  // Metatiles drawn since start (each one Mapnik render), for tests and monitoring.
  [[nodiscard]] std::int64_t metatiles_rendered() const { return metatiles_rendered_.load(); }

 private:
  struct Metatile;
  struct RenderedTiles;
  std::int64_t sync();
  std::shared_ptr<const std::vector<Tileset>> current_tilesets();
  Tile raster(const Tileset& tileset, const TileRequest& request, std::int64_t version);
  Tile vector(const Tileset& tileset, const TileRequest& request, std::int64_t version);
  static Tile deliver_vector(Tile stored, bool accept_gzip);
  std::shared_future<std::shared_ptr<RenderedTiles>> render_async(const Tileset& tileset, const Metatile& metatile,
                                                                  std::int64_t version);
  std::unique_ptr<RasterRenderer> acquire(const Tileset& tileset, std::int64_t version);
  void release(const std::string& tileset, std::int64_t version, std::unique_ptr<RasterRenderer> renderer);

  const layers::Store& store_;
  TileServiceOptions options_;
  std::vector<TilesetDef> definitions_;
  std::unique_ptr<layers::TileCache> cache_;

  class HotTiles;
  std::unique_ptr<HotTiles> hot_;

  std::mutex mutex_;
  std::atomic<std::int64_t> synced_version_{-1};
  std::shared_ptr<const std::vector<Tileset>> tilesets_;
  // Idle renderers by tileset: a mapnik::Map serves one render at a time, so each worker takes its own.
  std::map<std::string, std::vector<std::unique_ptr<RasterRenderer>>> idle_;
  // Metatiles being drawn, so that concurrent requests for one of them wait for the same render.
  std::map<std::string, std::shared_future<std::shared_ptr<RenderedTiles>>> in_flight_;

  std::atomic<std::int64_t> metatiles_rendered_{0};
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace bandoso::tiles
