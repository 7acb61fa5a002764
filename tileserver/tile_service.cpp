#include "tileserver/tile_service.hpp"

#include <fmt/format.h>

#include "layers/core/error.hpp"
#include "tileserver/raster_renderer.hpp"

namespace bandoso::tiles {

TileService::TileService(const layers::Store& store) : store_(store) { init_mapnik(); }

TileService::~TileService() = default;

std::vector<std::string> TileService::tilesets() const {
  std::vector<std::string> names;
  for (const auto& layer : store_.layers()) {
    if (layer.geometry != layers::GeometryType::none) names.push_back(layer.name);
  }
  return names;
}

std::unique_ptr<RasterRenderer> TileService::acquire(const std::string& tileset, std::int64_t data_version) {
  {
    std::lock_guard lock(mutex_);
    if (data_version != pool_version_) {
      // New data: renderers built over the old definitions and extents are dropped.
      idle_.clear();
      pool_version_ = data_version;
    }
    auto& idle = idle_[tileset];
    if (!idle.empty()) {
      auto renderer = std::move(idle.back());
      idle.pop_back();
      return renderer;
    }
  }
  const auto layer = store_.find_layer(tileset);
  if (!layer || layer->geometry == layers::GeometryType::none) {
    throw NotFoundError(fmt::format("unknown tileset '{}'", tileset));
  }
  return std::make_unique<RasterRenderer>(default_style_xml(*layer), store_);
}

void TileService::release(const std::string& tileset, std::int64_t data_version,
                          std::unique_ptr<RasterRenderer> renderer) {
  std::lock_guard lock(mutex_);
  if (data_version == pool_version_) idle_[tileset].push_back(std::move(renderer));
}

Tile TileService::raster_tile(std::string_view tileset, const layers::TileId& tile, std::string_view format) {
  if (format != "png") throw NotFoundError(fmt::format("unknown tile format '{}' (this server has: png)", format));
  layers::check_tile(tile);
  const std::string name(tileset);
  const std::int64_t version = store_.data_version();
  auto renderer = acquire(name, version);
  Tile result;
  result.body = renderer->render_png(tile, 256, 1.0);
  release(name, version, std::move(renderer));
  result.content_type = "image/png";
  result.etag = fmt::format("\"{}-{}-{}-{}-{}\"", name, version, tile.z, tile.x, tile.y);
  return result;
}

}  // namespace bandoso::tiles
