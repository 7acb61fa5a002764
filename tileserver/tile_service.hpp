#pragma once
// The tile service: which tilesets exist and their tiles. HTTP handlers and `bandoso seed` call it.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "layers/core/store.hpp"
#include "layers/core/tile_math.hpp"

namespace bandoso::tiles {

class RasterRenderer;

struct Tile {
  std::string body;
  std::string content_type;
  std::string etag;  // strong: changes with the data version
};

class TileService {
 public:
  explicit TileService(const layers::Store& store);
  ~TileService();
  TileService(const TileService&) = delete;
  TileService& operator=(const TileService&) = delete;

  // Every store layer with geometry is a tileset drawn with its definition's style.
  [[nodiscard]] std::vector<std::string> tilesets() const;

  // Throws NotFoundError for an unknown tileset or format, BadRequestError for a bad tile address.
  Tile raster_tile(std::string_view tileset, const layers::TileId& tile, std::string_view format);

 private:
  class RendererLease;
  std::unique_ptr<RasterRenderer> acquire(const std::string& tileset, std::int64_t data_version);
  void release(const std::string& tileset, std::int64_t data_version, std::unique_ptr<RasterRenderer> renderer);

  const layers::Store& store_;
  std::mutex mutex_;
  std::int64_t pool_version_ = -1;
  // Idle renderers by tileset: a Map serves one request at a time, so each thread takes its own.
  std::map<std::string, std::vector<std::unique_ptr<RasterRenderer>>> idle_;
};

}  // namespace bandoso::tiles
