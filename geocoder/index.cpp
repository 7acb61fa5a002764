#include "geocoder/index.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>

#include "geocoder/text.hpp"
#include "layers/core/geos_context.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::geocoder::detail {

namespace {

std::string text_of(const layers::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  return {};
}

std::int64_t int_of(const layers::Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&value)) return std::atoll(s->c_str());
  return 0;
}

double real_of(const layers::Value& value) {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  return 0;
}

// Reads the store's WKB with GEOS while the index is built (one thread): coordinates as compact rings
// for the lock-free containment test, and the answer points GEOS computes (point on surface, centroid,
// half-way along a line).
class GeometryReader {
 public:
  GeometryReader() : reader_(GEOSWKBReader_create_r(context_.get())) {}
  ~GeometryReader() { GEOSWKBReader_destroy_r(context_.get(), reader_); }
  GeometryReader(const GeometryReader&) = delete;
  GeometryReader& operator=(const GeometryReader&) = delete;

  // Every ring of a (multi)polygon, every line of a (multi)line, or the point; empty for a bad WKB.
  std::vector<Ring> rings(const std::string& wkb) const {
    std::vector<Ring> parts;
    with_geometry(wkb, [&](const GEOSGeometry* g) { collect(g, parts); });
    return parts;
  }
  // The first coordinate (an address point), or nothing.
  std::optional<std::pair<double, double>> first_point(const std::string& wkb) const {
    std::optional<std::pair<double, double>> point;
    with_geometry(wkb, [&](const GEOSGeometry* g) {
      std::vector<Ring> parts;
      collect(g, parts);
      if (!parts.empty() && !parts[0].empty()) point = parts[0][0];
    });
    return point;
  }
  // A point inside a commune (its label point).
  std::pair<double, double> point_on_surface(const std::string& wkb) const {
    return derived(wkb, [&](const GEOSGeometry* g) { return GEOSPointOnSurface_r(context_.get(), g); });
  }
  // A parcel's answer point.
  std::pair<double, double> centroid(const std::string& wkb) const {
    return derived(wkb, [&](const GEOSGeometry* g) { return GEOSGetCentroid_r(context_.get(), g); });
  }
  // The point half-way along a street (its parts taken in order).
  std::pair<double, double> midpoint(const std::string& wkb) const {
    return derived(wkb, [&](const GEOSGeometry* g) { return GEOSInterpolateNormalized_r(context_.get(), g, 0.5); });
  }

 private:
  template <typename Visit>
  void with_geometry(const std::string& wkb, Visit&& visit) const {
    if (wkb.empty()) return;
    GEOSGeometry* g =
        GEOSWKBReader_read_r(context_.get(), reader_, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
    if (g == nullptr) return;
    visit(g);
    GEOSGeom_destroy_r(context_.get(), g);
  }

  template <typename Make>
  std::pair<double, double> derived(const std::string& wkb, Make&& make) const {
    std::pair<double, double> result{0, 0};
    with_geometry(wkb, [&](const GEOSGeometry* g) {
      if (GEOSGeometry* point = make(g)) {
        if (GEOSisEmpty_r(context_.get(), point) == 0) {
          GEOSGeomGetX_r(context_.get(), point, &result.first);
          GEOSGeomGetY_r(context_.get(), point, &result.second);
        }
        GEOSGeom_destroy_r(context_.get(), point);
      }
    });
    return result;
  }

  void add_sequence(const GEOSGeometry* line, std::vector<Ring>& parts) const {
    const GEOSCoordSequence* sequence = GEOSGeom_getCoordSeq_r(context_.get(), line);
    unsigned int size = 0;
    if (sequence == nullptr || GEOSCoordSeq_getSize_r(context_.get(), sequence, &size) == 0) return;
    Ring ring(size);
    for (unsigned int i = 0; i < size; ++i)
      GEOSCoordSeq_getXY_r(context_.get(), sequence, i, &ring[i].first, &ring[i].second);
    parts.push_back(std::move(ring));
  }

  void collect(const GEOSGeometry* g, std::vector<Ring>& parts) const {
    switch (GEOSGeomTypeId_r(context_.get(), g)) {
      case GEOS_POINT:
      case GEOS_LINESTRING:
      case GEOS_LINEARRING:
        add_sequence(g, parts);
        break;
      case GEOS_POLYGON: {
        add_sequence(GEOSGetExteriorRing_r(context_.get(), g), parts);
        const int holes = GEOSGetNumInteriorRings_r(context_.get(), g);
        for (int i = 0; i < holes; ++i) add_sequence(GEOSGetInteriorRingN_r(context_.get(), g, i), parts);
        break;
      }
      default: {
        const int n = GEOSGetNumGeometries_r(context_.get(), g);
        for (int i = 0; i < n; ++i) collect(GEOSGetGeometryN_r(context_.get(), g, i), parts);
      }
    }
  }

  layers::GeosContext context_;
  GEOSWKBReader* reader_;
};

layers::BBox bbox_of(const std::vector<Ring>& parts) {
  layers::BBox box;
  for (const Ring& r : parts)
    for (const auto& [x, y] : r) box.expand(x, y);
  return box;
}

// Splits "Phường Hưng Bình" into its folded type ("phuong") and name tokens.
std::pair<std::string, std::vector<std::string>> split_type(const std::string& full_name) {
  static const std::vector<std::vector<std::string>> kTypes = {
      {"thi", "tran"}, {"thi", "xa"}, {"thanh", "pho"}, {"phuong"}, {"xa"}, {"huien"}, {"quan"}};
  std::vector<std::string> tokens = name_tokens(full_name);
  for (const auto& type : kTypes) {
    if (tokens.size() > type.size() && std::equal(type.begin(), type.end(), tokens.begin())) {
      return {join(type),
              std::vector<std::string>(tokens.begin() + static_cast<std::ptrdiff_t>(type.size()), tokens.end())};
    }
  }
  return {"", tokens};
}

// The last `count` words of a name, in lower case ("Phường Hưng Bình", 2 → "hưng bình").
std::string last_words(const std::string& name, std::size_t count) {
  const std::string lower = layers::vntext::to_lower(layers::vntext::to_nfc(name));
  std::size_t at = lower.size();
  for (std::size_t n = 0; n < count && at > 0; ++n) {
    at = lower.rfind(' ', at - 1);
    if (at == std::string::npos) return lower;
  }
  return lower.substr(at == lower.size() ? 0 : at + 1);
}

}  // namespace

bool rings_contain(const std::vector<Ring>& rings, double lon, double lat) {
  bool inside = false;
  for (const Ring& r : rings) {
    for (std::size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
      const double xi = r[i].first, yi = r[i].second, xj = r[j].first, yj = r[j].second;
      if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

void Grid::add(const layers::BBox& box, std::uint32_t item) {
  if (box.empty()) return;
  for (std::int64_t x = cell_of(box.west); x <= cell_of(box.east); ++x)
    for (std::int64_t y = cell_of(box.south); y <= cell_of(box.north); ++y) cells[key(x, y)].push_back(item);
}

std::uint32_t IndexData::intern(const std::string& s) {
  const auto [it, added] = string_ids.emplace(s, static_cast<std::uint32_t>(strings.size()));
  if (added) strings.push_back(s);
  return it->second;
}

std::size_t IndexData::approximate_bytes() const {
  std::size_t bytes = strings.size() * 48 + units.size() * 256 + old_units.size() * 128 + streets.size() * 160;
  for (const Unit& u : units)
    for (const Ring& r : u.rings) bytes += r.size() * 16;
  bytes += addresses.size() * (sizeof(Address) + 3 * 48);  // the struct and three hash entries
  for (const Parcel& p : parcels) {
    bytes += sizeof(Parcel) + 48;
    for (const Ring& r : p.rings) bytes += r.size() * 16 + 24;
  }
  for (const auto& [k, v] : address_grid.cells) bytes += 32 + v.size() * 4;
  for (const auto& [k, v] : parcel_grid.cells) bytes += 32 + v.size() * 4;
  return bytes;
}

std::uint64_t address_key(std::uint32_t unit, std::string_view street, std::string_view lane, std::string_view house) {
  // FNV-1a over the parts; a collision only costs a failed verification.
  std::uint64_t h = 1469598103934665603ull;
  const auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  mix(std::string_view(reinterpret_cast<const char*>(&unit), sizeof unit));
  mix(street);
  mix(lane);
  mix(house);
  return h;
}

void build_index(const layers::Store& store, IndexData& ix) {
  const GeometryReader geometry;
  const auto started = std::chrono::steady_clock::now();
  ix.data_version = store.data_version();
  ix.intern("");

  if (const auto def = store.find_layer("communes")) {
    const std::size_t code = def->attribute_index("code"), name = def->attribute_index("name"),
                      type = def->attribute_index("type"), full = def->attribute_index("full_name");
    store.scan("communes", true, [&](const layers::Feature& f) {
      Unit u;
      u.code = text_of(f.values[code]);
      u.name = text_of(f.values[name]);
      u.type = text_of(f.values[type]);
      u.full_name = text_of(f.values[full]);
      if (u.full_name.empty()) u.full_name = u.type + " " + u.name;
      u.name_tokens = name_tokens(u.name);
      u.full_tokens = name_tokens(u.full_name);
      u.rings = geometry.rings(f.wkb);
      u.bbox = bbox_of(u.rings);
      std::tie(u.lon, u.lat) = geometry.point_on_surface(f.wkb);
      ix.unit_by_code.emplace(u.code, static_cast<std::uint32_t>(ix.units.size()));
      ix.units.push_back(std::move(u));
      return true;
    });
  }
  for (std::uint32_t i = 0; i < ix.units.size(); ++i) {
    ix.admin.push_back({AdminKind::unit, i, ix.units[i].name_tokens, join(name_tokens(ix.units[i].type)), UINT32_MAX,
                        layers::vntext::to_lower(ix.units[i].name)});
  }

  // Former communes: the conversion table, and old_communes polygons where imported.
  std::unordered_map<std::string, std::uint32_t> district_by_key;
  const auto add_old = [&](const std::string& code, const std::string& full_name, const std::string& district,
                           const std::string& new_code) {
    if (code.empty()) return;
    auto [it, added] = ix.old_by_code.emplace(code, static_cast<std::uint32_t>(ix.old_units.size()));
    if (added) {
      OldUnit old;
      old.code = code;
      old.full_name = full_name;
      old.district = district;
      old.full_tokens = name_tokens(full_name);
      ix.old_units.push_back(std::move(old));
    }
    OldUnit& old = ix.old_units[it->second];
    if (old.district.empty()) old.district = district;
    if (const auto unit = ix.unit_by_code.find(new_code); unit != ix.unit_by_code.end()) {
      if (std::find(old.units.begin(), old.units.end(), unit->second) == old.units.end())
        old.units.push_back(unit->second);
    }
  };
  if (const auto def = store.find_layer("commune_mapping")) {
    const std::size_t c = def->attribute_index("old_code"), n = def->attribute_index("old_name"),
                      d = def->attribute_index("old_district_name"), nc = def->attribute_index("new_code");
    store.scan("commune_mapping", false, [&](const layers::Feature& f) {
      add_old(text_of(f.values[c]), text_of(f.values[n]), text_of(f.values[d]), text_of(f.values[nc]));
      return true;
    });
  }
  if (const auto def = store.find_layer("old_communes")) {
    const std::size_t c = def->attribute_index("code"), n = def->attribute_index("full_name"),
                      d = def->attribute_index("district_name"), nc = def->attribute_index("new_code");
    store.scan("old_communes", true, [&](const layers::Feature& f) {
      const std::string code = text_of(f.values[c]);
      add_old(code, text_of(f.values[n]), text_of(f.values[d]), text_of(f.values[nc]));
      if (const auto o = ix.old_by_code.find(code);
          o != ix.old_by_code.end() && ix.old_units[o->second].rings.empty()) {
        ix.old_units[o->second].rings = geometry.rings(f.wkb);
        ix.old_units[o->second].bbox = bbox_of(ix.old_units[o->second].rings);
      }
      return true;
    });
  }
  if (const auto def = store.find_layer("old_districts")) {
    const std::size_t n = def->attribute_index("full_name");
    store.scan("old_districts", false, [&](const layers::Feature& f) {
      const std::string full = text_of(f.values[n]);
      const auto [type, name] = split_type(full);
      const auto [it, added] = district_by_key.emplace(join(name), static_cast<std::uint32_t>(ix.districts.size()));
      if (added) {
        ix.districts.push_back({full, {}});
        ix.admin.push_back({AdminKind::district, it->second, name, type, UINT32_MAX, last_words(full, name.size())});
      }
      return true;
    });
  }

  // Addresses (before the old-unit entries: an old commune also leads to the units its addresses lie in).
  std::vector<std::set<std::uint32_t>> unit_street_keys, unit_hamlet_keys;
  unit_street_keys.resize(ix.units.size());
  unit_hamlet_keys.resize(ix.units.size());
  if (const auto def = store.find_layer("addresses")) {
    const std::size_t id = def->attribute_index("id"), dc = def->attribute_index("digital_code"),
                      hn = def->attribute_index("house_number"), ln = def->attribute_index("lane"),
                      st = def->attribute_index("street"), hm = def->attribute_index("hamlet"),
                      cc = def->attribute_index("commune_code"), oc = def->attribute_index("old_commune_code"),
                      pc = def->attribute_index("postcode");
    ix.addresses.reserve(static_cast<std::size_t>(store.count("addresses")));
    store.scan("addresses", true, [&](const layers::Feature& f) {
      Address a;
      a.id = text_of(f.values[id]);
      a.house = text_of(f.values[hn]);
      a.lane = ix.intern(text_of(f.values[ln]));
      a.street = ix.intern(text_of(f.values[st]));
      a.hamlet = ix.intern(text_of(f.values[hm]));
      a.postcode = ix.intern(text_of(f.values[pc]));
      const std::string code = text_of(f.values[dc]);
      if (!code.empty()) a.digital_code = std::strtoull(code.c_str(), nullptr, 10);
      if (const auto u = ix.unit_by_code.find(text_of(f.values[cc])); u != ix.unit_by_code.end()) a.unit = u->second;
      if (const auto o = ix.old_by_code.find(text_of(f.values[oc])); o != ix.old_by_code.end()) a.old_unit = o->second;
      const auto point = geometry.first_point(f.wkb);
      if (!point) return true;
      std::tie(a.lon, a.lat) = *point;
      const auto at = static_cast<std::uint32_t>(ix.addresses.size());
      if (a.unit != UINT32_MAX) {
        unit_street_keys[a.unit].insert(a.street);
        if (a.hamlet != 0) unit_hamlet_keys[a.unit].insert(a.hamlet);
        ix.address_by_key.emplace(
            address_key(a.unit, join(name_tokens(ix.str(a.street))), key_of(ix.str(a.lane)), key_of(a.house)), at);
        if (a.old_unit != UINT32_MAX) {
          auto& units = ix.old_units[a.old_unit].units;
          if (std::find(units.begin(), units.end(), a.unit) == units.end()) units.push_back(a.unit);
        }
      }
      if (a.postcode != 0 && a.old_unit != UINT32_MAX) {
        const auto [pc_it, pc_added] = ix.old_unit_by_postcode.emplace(ix.str(a.postcode), a.old_unit);
        if (!pc_added && pc_it->second != a.old_unit) pc_it->second = UINT32_MAX;
      }
      ix.address_by_id.emplace(a.id, at);
      if (a.digital_code != 0) ix.address_by_code.emplace(a.digital_code, at);
      layers::BBox box;
      box.expand(a.lon, a.lat);
      ix.address_grid.add(box, at);
      ix.addresses.push_back(std::move(a));
      return true;
    });
  }

  for (std::uint32_t i = 0; i < ix.old_units.size(); ++i) {
    OldUnit& old = ix.old_units[i];
    for (std::uint32_t u : old.units) ix.units[u].old_units.push_back(i);
    std::uint32_t district = UINT32_MAX;
    if (!old.district.empty()) {
      const auto [dtype, dname] = split_type(old.district);
      const auto [it, added] = district_by_key.emplace(join(dname), static_cast<std::uint32_t>(ix.districts.size()));
      if (added) {
        ix.districts.push_back({old.district, {}});
        ix.admin.push_back(
            {AdminKind::district, it->second, dname, dtype, UINT32_MAX, last_words(old.district, dname.size())});
      }
      district = it->second;
      for (std::uint32_t u : old.units) {
        auto& units = ix.districts[district].units;
        if (std::find(units.begin(), units.end(), u) == units.end()) units.push_back(u);
      }
    }
    const auto [type, name] = split_type(old.full_name);
    ix.admin.push_back({AdminKind::old_unit, i, name, type, district, last_words(old.full_name, name.size())});
  }

  if (const auto def = store.find_layer("streets")) {
    const std::size_t id = def->attribute_index("id"), n = def->attribute_index("name"),
                      k = def->attribute_index("kind"), cc = def->attribute_index("commune_code");
    store.scan("streets", true, [&](const layers::Feature& f) {
      Street s;
      s.id = text_of(f.values[id]);
      s.name = text_of(f.values[n]);
      s.kind = text_of(f.values[k]);
      s.tokens = query_tokens(s.name);
      if (const auto u = ix.unit_by_code.find(text_of(f.values[cc])); u != ix.unit_by_code.end()) s.unit = u->second;
      s.bbox = bbox_of(geometry.rings(f.wkb));
      std::tie(s.lon, s.lat) = geometry.midpoint(f.wkb);
      const auto at = static_cast<std::uint32_t>(ix.streets.size());
      ix.street_by_id.emplace(s.id, at);
      if (s.unit != UINT32_MAX && !s.name.empty()) {
        ix.street_by_key.emplace(fmt::format("{}|{}", s.unit, key_of(s.name)), at);
        if (s.kind != "lane" && s.kind != "ngach" && s.kind != "alley")
          unit_street_keys[s.unit].insert(ix.intern(s.name));
      }
      ix.streets.push_back(std::move(s));
      return true;
    });
  }
  ix.unit_streets.resize(ix.units.size());
  ix.unit_hamlets.resize(ix.units.size());
  for (std::size_t u = 0; u < ix.units.size(); ++u) {
    for (std::uint32_t s : unit_street_keys[u]) {
      // Matched against query tokens, so expanded like them ("Lý Thường Kiệt" → ... "ngo": kiệt is a
      // synonym of ngõ); the address key stays the plain folded name.
      std::string key = join(name_tokens(ix.str(s)));
      auto tokens = query_tokens(ix.str(s));
      if (tokens.empty()) continue;
      // Hamlet roads ("Đường xóm 3", "Đường bản Na") are also written without "đường".
      if (tokens.size() >= 3 && tokens[0] == "duong" &&
          (tokens[1] == "xom" || tokens[1] == "thon" || tokens[1] == "ban" || tokens[1] == "khoi")) {
        ix.unit_streets[u].push_back({std::vector<std::string>(tokens.begin() + 1, tokens.end()), key, true});
      }
      ix.unit_streets[u].push_back({std::move(tokens), std::move(key), false});
    }
    for (std::uint32_t s : unit_hamlet_keys[u]) {
      auto tokens = query_tokens(ix.str(s));
      if (!tokens.empty()) ix.unit_hamlets[u].push_back({tokens, join(tokens), false});
    }
  }

  if (const auto def = store.find_layer("parcels")) {
    const std::size_t oc = def->attribute_index("old_commune_code"), sh = def->attribute_index("sheet_no"),
                      pn = def->attribute_index("parcel_no"), ar = def->attribute_index("area_m2"),
                      lu = def->attribute_index("land_use"), cc = def->attribute_index("commune_code");
    store.scan("parcels", true, [&](const layers::Feature& f) {
      Parcel p;  // owner_name is personal data: never read into the index
      p.old_code = text_of(f.values[oc]);
      p.sheet = int_of(f.values[sh]);
      p.number = int_of(f.values[pn]);
      p.area = real_of(f.values[ar]);
      p.land_use = text_of(f.values[lu]);
      if (const auto o = ix.old_by_code.find(p.old_code); o != ix.old_by_code.end()) {
        p.old_unit = o->second;
        if (!ix.old_units[o->second].units.empty()) p.unit = ix.old_units[o->second].units[0];
      }
      if (const auto u = ix.unit_by_code.find(text_of(f.values[cc])); u != ix.unit_by_code.end()) p.unit = u->second;
      p.rings = geometry.rings(f.wkb);
      p.bbox = bbox_of(p.rings);
      std::tie(p.lon, p.lat) = geometry.centroid(f.wkb);
      const auto at = static_cast<std::uint32_t>(ix.parcels.size());
      ix.parcel_by_key.emplace(fmt::format("{}/{}/{}", p.old_code, p.sheet, p.number), at);
      ix.parcel_grid.add(p.bbox, at);
      ix.parcels.push_back(std::move(p));
      return true;
    });
  }
  // A parcel without a 2025 code gets the unit containing it.
  for (Parcel& p : ix.parcels) {
    if (p.unit != UINT32_MAX) continue;
    for (std::uint32_t u = 0; u < ix.units.size(); ++u) {
      if (ix.units[u].bbox.contains(p.lon, p.lat) && rings_contain(ix.units[u].rings, p.lon, p.lat)) {
        p.unit = u;
        break;
      }
    }
  }

  const auto words_of = [&](const std::vector<std::string>& tokens) {
    std::vector<std::uint32_t> ids;
    ids.reserve(tokens.size());
    for (const std::string& t : tokens) {
      const auto [it, added] = ix.vocabulary_ids.emplace(t, static_cast<std::uint32_t>(ix.vocabulary.size()));
      if (added) ix.vocabulary.push_back(t);
      ids.push_back(it->second);
    }
    return ids;
  };
  for (Unit& u : ix.units) u.full_words = words_of(u.full_tokens);
  for (OldUnit& o : ix.old_units) o.full_words = words_of(o.full_tokens);
  for (Street& st : ix.streets) st.words = words_of(st.tokens);

  ix.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::clog << fmt::format(
      "geocoder: index of data version {} built in {:.2f} s: {} units, {} former communes, {} streets, {} addresses, "
      "{} parcels, ~{:.1f} MB\n",
      ix.data_version, ix.build_seconds, ix.units.size(), ix.old_units.size(), ix.streets.size(), ix.addresses.size(),
      ix.parcels.size(), static_cast<double>(ix.approximate_bytes()) / 1e6);
}

}  // namespace bandoso::geocoder::detail
