#pragma once
// Mapbox Vector Tiles 2.1 straight from the store, encoded with protozero.

#include <cstdint>
#include <string>

#include "layers/core/store.hpp"
#include "layers/core/tile_math.hpp"
#include "tileserver/tileset.hpp"

namespace bandoso::tiles {

struct MvtOptions {
  std::uint32_t extent = 4096;  // tile units per side
  std::uint32_t buffer = 64;    // tile units of geometry kept beyond each edge
};

// One tile with one MVT layer per tileset layer that has features in it (layers outside their
// definition's min/max zoom are left out). Features come from Store::scan_bbox over the tile grown by
// the buffer; geometries are projected to Web Mercator tile units, clipped to the buffered tile,
// simplified by about one tile unit and dropped when they collapse; attributes are the layer's public
// ones only (restricted ones such as owner names never leave the store), null values omitted.
// Returns the uncompressed tile; an empty string when no layer has a feature in the tile.
std::string encode_mvt(const layers::Store& store, const Tileset& tileset, const layers::TileId& tile,
                       const MvtOptions& options = {});

}  // namespace bandoso::tiles
