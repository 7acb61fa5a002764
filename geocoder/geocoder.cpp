#include "geocoder/geocoder.hpp"

#include <geos_c.h>

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <set>
#include <unordered_map>

#include "layers/core/error.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::geocoder {

namespace {

struct LabelPoint {
  double lon = 0, lat = 0;
  layers::BBox bbox;
};

// A point inside the polygon (not the centroid, which can fall outside a concave unit) and its bbox.
LabelPoint label_point(const std::string& wkb) {
  LabelPoint result;
  if (wkb.empty()) return result;
  GEOSContextHandle_t ctx = GEOS_init_r();
  GEOSWKBReader* reader = GEOSWKBReader_create_r(ctx);
  GEOSGeometry* geometry =
      GEOSWKBReader_read_r(ctx, reader, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
  if (geometry != nullptr) {
    if (GEOSGeometry* point = GEOSPointOnSurface_r(ctx, geometry)) {
      GEOSGeomGetX_r(ctx, point, &result.lon);
      GEOSGeomGetY_r(ctx, point, &result.lat);
      GEOSGeom_destroy_r(ctx, point);
    }
    double xmin = 0, ymin = 0, xmax = 0, ymax = 0;
    if (GEOSGeom_getXMin_r(ctx, geometry, &xmin) != 0 && GEOSGeom_getYMin_r(ctx, geometry, &ymin) != 0 &&
        GEOSGeom_getXMax_r(ctx, geometry, &xmax) != 0 && GEOSGeom_getYMax_r(ctx, geometry, &ymax) != 0) {
      result.bbox = layers::BBox{xmin, ymin, xmax, ymax};
    }
    GEOSGeom_destroy_r(ctx, geometry);
  }
  GEOSWKBReader_destroy_r(ctx, reader);
  GEOS_finish_r(ctx);
  return result;
}

std::string text_of(const layers::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return {};
}

}  // namespace

struct Geocoder::Index {
  std::int64_t data_version = -1;
  std::vector<Place> units;                                   // 2025 units
  std::unordered_multimap<std::string, std::size_t> by_name;  // folded name → unit, exact match
  std::unordered_multimap<std::string, Place> former;         // folded former name → answer
};

Geocoder::Geocoder(const layers::Store& store) : store_(store) {}
Geocoder::~Geocoder() = default;

std::shared_ptr<const Geocoder::Index> Geocoder::current_index() {
  const std::int64_t version = store_.data_version();
  std::lock_guard lock(mutex_);
  if (index_ && index_->data_version == version) return index_;

  const auto started = std::chrono::steady_clock::now();
  auto index = std::make_shared<Index>();
  index->data_version = version;
  std::unordered_map<std::string, std::size_t> unit_by_code;
  if (const auto communes = store_.find_layer("communes")) {
    const std::size_t code = communes->attribute_index("code"), name = communes->attribute_index("name");
    const std::size_t type = communes->attribute_index("type"), full = communes->attribute_index("full_name");
    store_.scan("communes", true, [&](const layers::Feature& f) {
      Place p;
      p.layer = "communes";
      p.id = text_of(f.values[code]);
      p.name = text_of(f.values[full]);
      p.type = text_of(f.values[type]);
      p.display_name = p.name + ", Nghệ An";
      const LabelPoint label = label_point(f.wkb);
      p.lon = label.lon;
      p.lat = label.lat;
      p.bbox = label.bbox;
      p.match_type = "exact";
      p.confidence = 1.0;
      const std::size_t at = index->units.size();
      unit_by_code[p.id] = at;
      index->by_name.emplace(layers::vntext::fold(p.name), at);
      index->by_name.emplace(layers::vntext::fold(text_of(f.values[name])), at);
      index->units.push_back(std::move(p));
      return true;
    });
  }
  // Former communes come from the old-unit polygons where they were imported, and from the GSO
  // conversion table (which every database has, polygons or not); each (name, unit) once.
  std::set<std::pair<std::string, std::string>> known_former;
  const auto add_former = [&](const std::string& name, const std::string& district, const std::string& new_code) {
    const auto unit = unit_by_code.find(new_code);
    if (unit == unit_by_code.end()) return;
    const std::string folded = layers::vntext::fold(name);
    if (!known_former.emplace(folded, new_code).second) return;
    Place p = index->units[unit->second];
    p.former_name = district.empty() ? name : fmt::format("{}, {}", name, district);
    p.display_name = fmt::format("{}, Nghệ An (trước đây: {})", p.name, p.former_name);
    p.match_type = "old-name";
    p.confidence = 0.95;
    index->former.emplace(folded, p);
    if (!district.empty()) index->former.emplace(folded + " " + layers::vntext::fold(district), std::move(p));
  };
  const auto scan_former = [&](const std::string& layer, const char* name, const char* district, const char* new_code) {
    const auto def = store_.find_layer(layer);
    if (!def) return;
    const std::size_t n = def->attribute_index(name), d = def->attribute_index(district);
    const std::size_t c = def->attribute_index(new_code);
    store_.scan(layer, false, [&](const layers::Feature& f) {
      add_former(text_of(f.values[n]), text_of(f.values[d]), text_of(f.values[c]));
      return true;
    });
  };
  scan_former("old_communes", "full_name", "district_name", "new_code");
  scan_former("commune_mapping", "old_name", "old_district_name", "new_code");
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::clog << fmt::format("geocoder: index of data version {} built in {:.1f} ms ({} units, {} former names)\n",
                           version, elapsed, index->units.size(), index->former.size());
  index_ = std::move(index);
  return index_;
}

std::vector<Place> Geocoder::search(std::string_view query, std::size_t limit) {
  if (query.size() > kMaxQueryBytes) {
    throw BadRequestError(fmt::format("query is {} bytes long; at most {} are accepted", query.size(), kMaxQueryBytes));
  }
  if (!layers::vntext::is_valid_utf8(query)) throw BadRequestError("query is not valid UTF-8");
  std::string folded = layers::vntext::fold(query);
  if (folded.empty()) throw BadRequestError("query is empty");
  // "…, Nghệ An" adds nothing inside one province.
  for (const std::string suffix : {" tinh nghe an", " nghe an"}) {
    if (folded.size() > suffix.size() && folded.ends_with(suffix)) folded.resize(folded.size() - suffix.size());
  }

  const auto index = current_index();
  std::vector<Place> results;
  const auto [first, last] = index->by_name.equal_range(folded);
  for (auto it = first; it != last && results.size() < limit; ++it) {
    const Place& p = index->units[it->second];
    const bool seen = std::any_of(results.begin(), results.end(), [&](const Place& r) { return r.id == p.id; });
    if (!seen) results.push_back(p);
  }
  const auto [old_first, old_last] = index->former.equal_range(folded);
  for (auto it = old_first; it != old_last && results.size() < limit; ++it) results.push_back(it->second);
  return results;
}

}  // namespace bandoso::geocoder
