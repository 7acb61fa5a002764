#include "tileserver/mvt_encoder.hpp"

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include <fmt/format.h>
#include <protozero/pbf_builder.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "layers/core/error.hpp"
#include "layers/core/geos_context.hpp"

namespace bandoso::tiles {

namespace {

// Field numbers of vector_tile.proto, MVT 2.1.
enum class TileField : protozero::pbf_tag_type { layers = 3 };
enum class LayerField : protozero::pbf_tag_type {
  name = 1,
  features = 2,
  keys = 3,
  values = 4,
  extent = 5,
  version = 15
};
enum class FeatureField : protozero::pbf_tag_type { id = 1, tags = 2, type = 3, geometry = 4 };
enum class ValueField : protozero::pbf_tag_type {
  string_value = 1,
  float_value = 2,
  double_value = 3,
  int_value = 4,
  uint_value = 5,
  sint_value = 6,
  bool_value = 7
};
enum class GeomType : std::int32_t { point = 1, linestring = 2, polygon = 3 };

constexpr std::uint32_t kMvtVersion = 2;
constexpr std::uint32_t kMoveTo = 1;
constexpr std::uint32_t kLineTo = 2;
constexpr std::uint32_t kClosePath = 7;
// Douglas-Peucker tolerance in tile units: finer detail is invisible once rounded to the grid.
constexpr double kSimplifyTolerance = 1.0;
constexpr int kSimplifyAbove = 16;  // coordinates

constexpr std::uint32_t command(std::uint32_t id, std::size_t count) {
  return (id & 0x7u) | (static_cast<std::uint32_t>(count) << 3);
}

constexpr std::uint32_t zigzag(std::int32_t n) {
  return (static_cast<std::uint32_t>(n) << 1) ^ static_cast<std::uint32_t>(n >> 31);
}

double mercator_y_to_lat(double y) {
  return (2 * std::atan(std::exp(y / 6378137.0)) - std::numbers::pi / 2) * 180.0 / std::numbers::pi;
}

// --- GEOS ownership ---

using layers::GeosContext;

struct GeometryDeleter {
  GEOSContextHandle_t ctx;
  void operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(ctx, g); }
};
using GeometryPtr = std::unique_ptr<GEOSGeometry, GeometryDeleter>;

struct WkbReaderDeleter {
  GEOSContextHandle_t ctx;
  void operator()(GEOSWKBReader* r) const { GEOSWKBReader_destroy_r(ctx, r); }
};

// Lon/lat → Web Mercator → tile units (origin top-left, y down). Called by GEOS for every vertex.
struct TileTransform {
  double west = 0;
  double north = 0;
  double scale = 0;  // tile units per metre

  static int apply(double* x, double* y, void* self) {
    const auto& t = *static_cast<const TileTransform*>(self);
    double mx = 0, my = 0;
    layers::lonlat_to_mercator(*x, *y, mx, my);
    *x = (mx - t.west) * t.scale;
    *y = (t.north - my) * t.scale;
    return 1;
  }
};

struct TilePoint {
  std::int32_t x = 0;
  std::int32_t y = 0;
  friend bool operator==(const TilePoint&, const TilePoint&) = default;
};

// Twice the ring's area by the surveyor's formula in tile coordinates (y down): positive for the
// clockwise rings MVT wants as exteriors. 64-bit: the products of two coordinates overflow 32 bits.
std::int64_t doubled_area(const std::vector<TilePoint>& ring) {
  std::int64_t sum = 0;
  for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    sum += std::int64_t{ring[j].x} * ring[i].y - std::int64_t{ring[i].x} * ring[j].y;
  }
  return sum;
}

// The command stream of one feature. The cursor carries over between parts, as the spec requires.
class GeometryWriter {
 public:
  explicit GeometryWriter(std::vector<std::uint32_t>& out) : out_(out) {}

  void points(const std::vector<TilePoint>& points) {
    out_.push_back(command(kMoveTo, points.size()));
    for (const TilePoint& p : points) delta(p);
  }

  void line(const std::vector<TilePoint>& line) {
    out_.push_back(command(kMoveTo, 1));
    delta(line.front());
    out_.push_back(command(kLineTo, line.size() - 1));
    for (std::size_t i = 1; i < line.size(); ++i) delta(line[i]);
  }

  // `ring` without its closing point; ClosePath draws the last edge.
  void ring(const std::vector<TilePoint>& ring) {
    line(ring);
    out_.push_back(command(kClosePath, 1));
  }

 private:
  void delta(TilePoint p) {
    out_.push_back(zigzag(p.x - cursor_.x));
    out_.push_back(zigzag(p.y - cursor_.y));
    cursor_ = p;
  }

  std::vector<std::uint32_t>& out_;
  TilePoint cursor_;
};

// Keys and values of one layer, each stored once and referred to by index from the features' tags.
class LayerTags {
 public:
  explicit LayerTags(const layers::LayerDef& def) : def_(def), key_index_(def.attributes.size(), kUnused) {}

  // Appends the (key, value) index pairs of a feature's public, non-null attributes.
  void add(const layers::Feature& feature, std::vector<std::uint32_t>& tags) {
    const std::size_t count = std::min(feature.values.size(), def_.attributes.size());
    for (std::size_t i = 0; i < count; ++i) {
      const layers::AttributeDef& attribute = def_.attributes[i];
      if (attribute.access != layers::Access::public_access) continue;  // restricted never leaves the store
      const layers::Value& value = feature.values[i];
      if (std::holds_alternative<std::monostate>(value)) continue;
      tags.push_back(key(i));
      tags.push_back(value_index(value, attribute.type));
    }
  }

  // The Layer.keys and Layer.values fields, already encoded.
  [[nodiscard]] const std::string& keys_data() const { return keys_data_; }
  [[nodiscard]] const std::string& values_data() const { return values_data_; }

 private:
  static constexpr std::uint32_t kUnused = UINT32_MAX;

  std::uint32_t key(std::size_t attribute) {
    std::uint32_t& index = key_index_[attribute];
    if (index == kUnused) {
      index = key_count_++;
      protozero::pbf_builder<LayerField>{keys_data_}.add_string(LayerField::keys, def_.attributes[attribute].name);
    }
    return index;
  }

  // Values are encoded the first time they are seen, so the dedup maps hold the only other copy.
  std::uint32_t value_index(const layers::Value& value, layers::AttributeType type) {
    const std::uint32_t next = value_count_;
    std::uint32_t index = next;
    if (const auto* text = std::get_if<std::string>(&value)) {
      index = strings_.try_emplace(*text, next).first->second;
    } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
      if (type == layers::AttributeType::boolean) {
        std::uint32_t& slot = bools_[*number != 0 ? 1 : 0];
        if (slot == kUnused) slot = next;
        index = slot;
      } else {
        index = integers_.try_emplace(*number, next).first->second;
      }
    } else if (const auto* real = std::get_if<double>(&value)) {
      index = reals_.try_emplace(*real, next).first->second;
    }
    if (index != next) return index;
    ++value_count_;
    protozero::pbf_builder<LayerField> values{values_data_};
    protozero::pbf_builder<ValueField> v{values, LayerField::values};
    write_value(v, value, type);
    return index;
  }

  static void write_value(protozero::pbf_builder<ValueField>& v, const layers::Value& value,
                          layers::AttributeType type) {
    if (const auto* text = std::get_if<std::string>(&value)) {
      v.add_string(ValueField::string_value, *text);
    } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
      if (type == layers::AttributeType::boolean) {
        v.add_bool(ValueField::bool_value, *number != 0);  // stored as 0/1; MVT has a proper bool
      } else if (*number < 0) {
        v.add_sint64(ValueField::sint_value, *number);  // zigzag: int_value spends ten bytes on negatives
      } else {
        v.add_int64(ValueField::int_value, *number);
      }
    } else if (const auto* real = std::get_if<double>(&value)) {
      v.add_double(ValueField::double_value, *real);
    }
  }

  const layers::LayerDef& def_;
  std::vector<std::uint32_t> key_index_;  // by attribute
  std::uint32_t key_count_ = 0;
  std::uint32_t value_count_ = 0;
  std::unordered_map<std::string, std::uint32_t> strings_;
  std::unordered_map<std::int64_t, std::uint32_t> integers_;
  std::unordered_map<double, std::uint32_t> reals_;
  std::uint32_t bools_[2] = {kUnused, kUnused};
  std::string keys_data_;
  std::string values_data_;
};

// Everything one encode_mvt call shares between layers and features: the GEOS context, the WKB reader,
// the tile's transform and scratch buffers reused for every feature.
class TileEncoder {
 public:
  TileEncoder(const layers::TileId& tile, const MvtOptions& options)
      : options_(options),
        reader_(GEOSWKBReader_create_r(geos_.get()), WkbReaderDeleter{geos_.get()}),
        low_(-static_cast<double>(options.buffer)),
        high_(static_cast<double>(options.extent) + options.buffer) {
    const layers::BBox m = layers::tile_bounds_mercator(tile);
    transform_ = {m.west, m.north, options.extent / (m.east - m.west)};
    // The scan box: the tile grown by the buffer, back in lon/lat (Mercator y is not linear in lat).
    const double margin = (m.east - m.west) * options.buffer / options.extent;
    const double to_degrees = 180.0 / layers::kWebMercatorHalfWorld;
    const double limit = layers::kWebMercatorHalfWorld;
    scan_box_ = {(m.west - margin) * to_degrees, mercator_y_to_lat(std::max(m.south - margin, -limit)),
                 (m.east + margin) * to_degrees, mercator_y_to_lat(std::min(m.north + margin, limit))};
  }

  // The encoded Layer message, or an empty string when no feature of the layer is in the tile.
  std::string encode_layer(const layers::Store& store, const layers::LayerDef& def) {
    std::string data;
    LayerTags tags(def);
    bool any = false;
    {
      protozero::pbf_builder<LayerField> layer{data};
      layer.add_uint32(LayerField::version, kMvtVersion);
      layer.add_string(LayerField::name, def.name);
      layer.add_uint32(LayerField::extent, options_.extent);
      store.scan_bbox(def.name, scan_box_, [&](const layers::Feature& feature) {
        geometry_.clear();
        const GeomType type = encode_geometry(feature.wkb);
        if (geometry_.empty()) return true;  // outside the tile, collapsed or unreadable
        tags_.clear();
        tags.add(feature, tags_);
        protozero::pbf_builder<FeatureField> f{layer, LayerField::features};
        if (!tags_.empty()) f.add_packed_uint32(FeatureField::tags, tags_.begin(), tags_.end());
        f.add_enum(FeatureField::type, static_cast<std::int32_t>(type));
        f.add_packed_uint32(FeatureField::geometry, geometry_.begin(), geometry_.end());
        any = true;
        return true;
      });
    }
    if (!any) return {};
    // A message's encoding is the concatenation of its fields', so the keys and values built on the
    // side can simply follow the features.
    data += tags.keys_data();
    data += tags.values_data();
    return data;
  }

 private:
  GEOSContextHandle_t ctx() const { return geos_.get(); }
  GeometryPtr own(GEOSGeometry* g) const { return GeometryPtr(g, GeometryDeleter{ctx()}); }

  // Fills geometry_ with the feature's commands (left empty when nothing drawable remains).
  GeomType encode_geometry(const std::string& wkb) {
    GeometryPtr geometry =
        own(GEOSWKBReader_read_r(ctx(), reader_.get(), reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size()));
    if (!geometry) return GeomType::point;  // corrupt WKB: the feature is skipped, the tile still served
    const int dimension = GEOSGeom_getDimensions_r(ctx(), geometry.get());
    geometry = own(GEOSGeom_transformXY_r(ctx(), geometry.get(), &TileTransform::apply, &transform_));
    if (!geometry || GEOSisEmpty_r(ctx(), geometry.get()) != 0) return GeomType::point;

    // Clip only what crosses the buffered tile: most features at high zoom lie wholly inside.
    double xmin = 0, ymin = 0, xmax = 0, ymax = 0;
    GEOSGeom_getExtent_r(ctx(), geometry.get(), &xmin, &ymin, &xmax, &ymax);
    if (xmax < low_ || ymax < low_ || xmin > high_ || ymin > high_) return GeomType::point;
    if (xmin < low_ || ymin < low_ || xmax > high_ || ymax > high_) {
      geometry = own(GEOSClipByRect_r(ctx(), geometry.get(), low_, low_, high_, high_));
      if (!geometry || GEOSisEmpty_r(ctx(), geometry.get()) != 0) return GeomType::point;
    }
    if (dimension > 0 && GEOSGetNumCoordinates_r(ctx(), geometry.get()) > kSimplifyAbove) {
      // Topology-preserving, so that simplified rings neither cross nor swallow their holes. Small
      // shapes (a parcel's five corners) have nothing to lose at a one-unit tolerance: skipped.
      if (GeometryPtr simple = own(GEOSTopologyPreserveSimplify_r(ctx(), geometry.get(), kSimplifyTolerance))) {
        geometry = std::move(simple);
      }
    }

    GeometryWriter writer(geometry_);
    if (dimension == 0) {
      points_.clear();
      for_each_part(geometry.get(), GEOS_POINT, [&](const GEOSGeometry* point) {
        double x = 0, y = 0;
        if (GEOSisEmpty_r(ctx(), point) == 0 && GEOSGeomGetX_r(ctx(), point, &x) == 1 &&
            GEOSGeomGetY_r(ctx(), point, &y) == 1) {
          points_.push_back(round(x, y));
        }
      });
      if (!points_.empty()) writer.points(points_);
      return GeomType::point;
    }
    if (dimension == 1) {
      for_each_part(geometry.get(), GEOS_LINESTRING, [&](const GEOSGeometry* line) {
        if (load_rounded(line) >= 2) writer.line(points_);
      });
      return GeomType::linestring;
    }
    for_each_part(geometry.get(), GEOS_POLYGON, [&](const GEOSGeometry* polygon) {
      if (!load_ring(GEOSGetExteriorRing_r(ctx(), polygon), true)) return;  // collapsed: holes go too
      writer.ring(points_);
      const int holes = GEOSGetNumInteriorRings_r(ctx(), polygon);
      for (int i = 0; i < holes; ++i) {
        if (load_ring(GEOSGetInteriorRingN_r(ctx(), polygon, i), false)) writer.ring(points_);
      }
    });
    return GeomType::polygon;
  }

  // Calls visit for every simple part of type `type`, through multi-geometries and collections
  // (clipping may turn a polygon into a multipolygon or a collection).
  template <typename Visit>
  void for_each_part(const GEOSGeometry* g, int type, const Visit& visit) {
    const int id = GEOSGeomTypeId_r(ctx(), g);
    if (id == type) {
      visit(g);
    } else if (id == GEOS_MULTIPOINT || id == GEOS_MULTILINESTRING || id == GEOS_MULTIPOLYGON ||
               id == GEOS_GEOMETRYCOLLECTION) {
      const int n = GEOSGetNumGeometries_r(ctx(), g);
      for (int i = 0; i < n; ++i) for_each_part(GEOSGetGeometryN_r(ctx(), g, i), type, visit);
    }
  }

  TilePoint round(double x, double y) const {
    return {static_cast<std::int32_t>(std::lround(x)), static_cast<std::int32_t>(std::lround(y))};
  }

  // points_ = the line's vertices on the tile grid, without consecutive repeats; returns their number.
  std::size_t load_rounded(const GEOSGeometry* line) {
    points_.clear();
    const GEOSCoordSequence* sequence = line != nullptr ? GEOSGeom_getCoordSeq_r(ctx(), line) : nullptr;
    unsigned int size = 0;
    if (sequence == nullptr || GEOSCoordSeq_getSize_r(ctx(), sequence, &size) != 1 || size == 0) return 0;
    coordinates_.resize(std::size_t{size} * 2);
    if (GEOSCoordSeq_copyToBuffer_r(ctx(), sequence, coordinates_.data(), 0, 0) != 1) return 0;
    for (std::size_t i = 0; i < coordinates_.size(); i += 2) {
      const TilePoint p = round(coordinates_[i], coordinates_[i + 1]);
      if (points_.empty() || !(points_.back() == p)) points_.push_back(p);
    }
    return points_.size();
  }

  // points_ = the ring on the grid, open (no closing vertex), wound as MVT wants: clockwise on screen
  // (positive area) for exteriors, counter-clockwise for holes. False when it collapsed.
  bool load_ring(const GEOSGeometry* ring, bool exterior) {
    load_rounded(ring);
    if (points_.size() > 1 && points_.front() == points_.back()) points_.pop_back();
    if (points_.size() < 3) return false;
    const std::int64_t area = doubled_area(points_);
    if (area == 0) return false;
    if ((area > 0) != exterior) std::reverse(points_.begin(), points_.end());
    return true;
  }

  MvtOptions options_;
  GeosContext geos_;
  std::unique_ptr<GEOSWKBReader, WkbReaderDeleter> reader_;
  TileTransform transform_;
  double low_;  // the buffered tile, in tile units
  double high_;
  layers::BBox scan_box_;
  std::vector<std::uint32_t> geometry_;
  std::vector<std::uint32_t> tags_;
  std::vector<TilePoint> points_;
  std::vector<double> coordinates_;
};

}  // namespace

std::string encode_mvt(const layers::Store& store, const Tileset& tileset, const layers::TileId& tile,
                       const MvtOptions& options) {
  layers::check_tile(tile);
  if (options.extent == 0) throw BadRequestError("vector tile extent must be positive");
  TileEncoder encoder(tile, options);
  std::string data;
  protozero::pbf_builder<TileField> out{data};
  for (const layers::LayerDef& def : tileset.layers) {
    if (tile.z < def.min_zoom || tile.z > def.max_zoom || def.geometry == layers::GeometryType::none) continue;
    const std::string layer = encoder.encode_layer(store, def);
    if (!layer.empty()) out.add_message(TileField::layers, layer);
  }
  return data;
}

}  // namespace bandoso::tiles
