#pragma once
// Renders raster tiles with Mapnik. A mapnik::Map is not thread-safe (its datasources hold state),
// so a RasterRenderer belongs to one thread at a time; TileService keeps a pool of them.

#include <memory>
#include <string>
#include <vector>

#include "layers/core/store.hpp"
#include "layers/core/tile_math.hpp"

namespace bandoso::tiles {

// Registers Mapnik's input plugins and the Noto fonts once per process.
void init_mapnik();

// Mapnik XML for one layer drawn with its definition's default style. The <Layer> carries no
// datasource: the renderer attaches the store's, so the XML never names a file or a database.
std::string default_style_xml(const layers::LayerDef& layer);

class RasterRenderer {
 public:
  // `style_xml` names layers by their store names; each gets the store's datasource. Layers the store
  // does not hold (yet) are left out.
  RasterRenderer(const std::string& style_xml, const layers::Store& store);
  ~RasterRenderer();
  RasterRenderer(const RasterRenderer&) = delete;
  RasterRenderer& operator=(const RasterRenderer&) = delete;

  // The metatile of `span`×`span` tiles whose top-left tile is `first`, drawn as one image (labels and
  // symbols are placed once across it, not cut at the inner tile edges) and cut into PNG tiles of
  // `size` pixels, row by row: result[row * span + column]; `scale` enlarges symbols and labels (2 for
  // @2x). When `wanted` is given (same order), only
  // those tiles are encoded; the others come back empty.
  std::vector<std::string> render_metatile(const layers::TileId& first, int span, int size = 256, double scale = 1.0,
                                           const std::vector<bool>& wanted = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bandoso::tiles
