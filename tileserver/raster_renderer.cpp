#include "tileserver/raster_renderer.hpp"

#include <mapnik/agg_renderer.hpp>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/font_engine_freetype.hpp>
#include <mapnik/image.hpp>
#include <mapnik/image_view.hpp>
#include <mapnik/image_view_any.hpp>
#include <mapnik/image_util.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/load_map.hpp>
#include <mapnik/map.hpp>
#include <mapnik/params.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>

#include "layers/core/error.hpp"

namespace bandoso::tiles {

namespace {
constexpr const char* kPluginDir = "/usr/lib/mapnik/3.1/input";
constexpr const char* kFontDir = "/usr/share/fonts/truetype/noto";
constexpr const char* kFontFace = "Noto Sans Regular";
// 8-bit palette PNG, hextree quantiser: what renderd's png256 writes, a third of the bytes of RGBA.
constexpr const char* kPngFormat = "png8:m=h:z=3";
// Scale denominator of zoom 0 for 256-pixel tiles at 0.28 mm per pixel (OGC).
constexpr double kScaleDenominatorZoom0 = 559082264.028;

double max_scale_denominator_for_zoom(int zoom) { return kScaleDenominatorZoom0 / std::pow(2.0, zoom) * 1.5; }
}  // namespace

void init_mapnik() {
  static std::once_flag once;
  std::call_once(once, [] {
    mapnik::datasource_cache::instance().register_datasources(kPluginDir);
    mapnik::freetype_engine::register_fonts(kFontDir, true);
  });
}

std::string default_style_xml(const layers::LayerDef& layer) {
  using layers::GeometryType;
  const layers::StyleDef& s = layer.style;
  std::string rules;
  const bool area = layer.geometry == GeometryType::polygon || layer.geometry == GeometryType::multipolygon;
  const bool point = layer.geometry == GeometryType::point || layer.geometry == GeometryType::multipoint;
  if (area && !s.fill.empty()) {
    rules += fmt::format(R"(<PolygonSymbolizer fill="{}" fill-opacity="{}"/>)", s.fill, s.fill_opacity);
  }
  if (point) {
    rules += fmt::format(
        R"(<MarkersSymbolizer fill="{}" stroke="{}" stroke-width="{}" width="{}" height="{}" allow-overlap="true"/>)",
        s.fill.empty() ? "#d0453b" : s.fill, s.stroke.empty() ? "#ffffff" : s.stroke, s.stroke_width, s.point_size,
        s.point_size);
  } else if (!s.stroke.empty() || s.fill.empty()) {
    rules += fmt::format(R"(<LineSymbolizer stroke="{}" stroke-width="{}"/>)", s.stroke.empty() ? "#555555" : s.stroke,
                         s.stroke_width);
  }
  std::string label_rule;
  if (!s.label.empty()) {
    const std::string placement = area ? "interior" : (point ? "point" : "line");
    label_rule = fmt::format(
        R"(<Rule><MaxScaleDenominator>{}</MaxScaleDenominator><TextSymbolizer face-name="{}" size="11" fill="#2b2b2b" halo-fill="#ffffff" halo-radius="1.5" placement="{}"{}>[{}]</TextSymbolizer></Rule>)",
        max_scale_denominator_for_zoom(s.label_min_zoom), kFontFace, placement, point ? R"( dy="-7")" : "", s.label);
  }
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?>
<Map srs="epsg:3857" background-color="transparent">
  <Style name="{0}"><Rule>{1}</Rule>{2}</Style>
  <Layer name="{0}" srs="epsg:4326" maximum-scale-denominator="{3}"><StyleName>{0}</StyleName></Layer>
</Map>)",
      layer.name, rules, label_rule, max_scale_denominator_for_zoom(layer.min_zoom));
}

// Row by row with memcmp: several times faster than a pixel-by-pixel comparison.
bool is_one_colour(const mapnik::image_view_rgba8& view) {
  const std::uint32_t* first = view.get_row(0);
  const std::size_t width = view.width();
  for (std::size_t x = 1; x < width; ++x) {
    if (first[x] != first[0]) return false;
  }
  for (std::size_t y = 1; y < view.height(); ++y) {
    if (std::memcmp(view.get_row(y), first, width * sizeof(std::uint32_t)) != 0) return false;
  }
  return true;
}

struct RasterRenderer::Impl {
  mapnik::Map map;
  // PNGs of one-colour tiles by colour and size. Most tiles of a zoomed-in metatile are a single fill
  // (inside a commune, outside the parcels, open sea): each is encoded once, not once per tile.
  std::map<std::uint64_t, std::string> solid_pngs;

  std::string encode(const mapnik::image_view_rgba8& view) {
    if (!is_one_colour(view)) return mapnik::save_to_string(view, kPngFormat);
    const std::uint64_t key = (static_cast<std::uint64_t>(view.width()) << 32U) | view(0, 0);
    auto [it, inserted] = solid_pngs.try_emplace(key);
    if (inserted) it->second = mapnik::save_to_string(view, kPngFormat);
    return it->second;
  }
};

RasterRenderer::RasterRenderer(const std::string& style_xml, const layers::Store& store)
    : impl_(std::make_unique<Impl>()) {
  init_mapnik();
  try {
    mapnik::load_map_string(impl_->map, style_xml, true);
    auto& map_layers = impl_->map.layers();
    map_layers.erase(std::remove_if(map_layers.begin(), map_layers.end(),
                                    [&](const mapnik::layer& layer) { return !store.find_layer(layer.name()); }),
                     map_layers.end());
    for (mapnik::layer& layer : map_layers) {
      mapnik::parameters params;
      for (const auto& [key, value] : store.mapnik_datasource(layer.name())) params[key] = value;
      layer.set_datasource(mapnik::datasource_cache::instance().create(params));
    }
  } catch (const bandoso::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::render_failure, fmt::format("cannot build the Mapnik map: {}", e.what()));
  }
  // Room for labels and symbols that straddle the tile edge, unless the style sets its own.
  if (impl_->map.buffer_size() == 0) impl_->map.set_buffer_size(64);
}

RasterRenderer::~RasterRenderer() = default;

std::vector<std::string> RasterRenderer::render_metatile(const layers::TileId& first, int span, int size, double scale,
                                                         const std::vector<bool>& wanted) {
  const layers::BBox top_left = layers::tile_bounds_mercator(first);
  const layers::BBox bottom_right = layers::tile_bounds_mercator(
      {first.z, first.x + static_cast<std::uint32_t>(span) - 1, first.y + static_cast<std::uint32_t>(span) - 1});
  const int pixels = span * size;
  try {
    impl_->map.resize(static_cast<unsigned>(pixels), static_cast<unsigned>(pixels));
    impl_->map.zoom_to_box(mapnik::box2d<double>(top_left.west, bottom_right.south, bottom_right.east, top_left.north));
    mapnik::image_rgba8 image(pixels, pixels);
    mapnik::agg_renderer<mapnik::image_rgba8> renderer(impl_->map, image, scale);
    renderer.apply();
    std::vector<std::string> tiles;
    tiles.reserve(static_cast<std::size_t>(span) * span);
    for (int row = 0; row < span; ++row) {
      for (int column = 0; column < span; ++column) {
        if (!wanted.empty() && !wanted[static_cast<std::size_t>(row * span + column)]) {
          tiles.emplace_back();  // not asked for: not encoded
          continue;
        }
        const mapnik::image_view_rgba8 view(column * size, row * size, size, size, image);
        tiles.push_back(impl_->encode(view));
      }
    }
    return tiles;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::render_failure, fmt::format("metatile {}/{}/{} ({}×{}) could not be rendered: {}", first.z,
                                                       first.x, first.y, span, span, e.what()));
  }
}

}  // namespace bandoso::tiles
