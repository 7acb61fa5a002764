#include "features/land_use_stats.hpp"

// geos_context.hpp first: it selects GEOS's reentrant API before geos_c.h is read.
#include "layers/core/geos_context.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "layers/core/crs.hpp"
#include "layers/core/error.hpp"

namespace bandoso::features {

namespace {

// The top groups and their member codes. The catalogue (land_use_codes) marks rows as `group` or
// `leaf` in the TT 25/28-2014 era only and names no parent, and the 2024+ and legacy eras carry no
// level at all, so membership is this table, from the structure of TT 28/2014 Phụ lục 01 (2014 set),
// Land Law 2024 art. 9 / TT 08/2024 (2024 set) and TT 08/2007 (legacy). Codes shared by several eras
// (LUC, DGT, TON, …) belong to the same group in each. MVB and its members are the coastal water
// surface, an observation indicator that TT 28/2014 keeps outside the three groups.
struct TopGroup {
  std::string_view code;
  std::string_view name;     // used when the catalogue lacks the group's own row
  std::string_view members;  // space-separated
  bool always_listed;        // in the output even without parcels
};
constexpr std::array<TopGroup, 4> kTopGroups{{
    {"NNP", "Nhóm đất nông nghiệp",
     "NNP SXN CHN LUA LUC LUK LUN HNK BHK NHK CLN LNP RSX RPH RDD NTS LMU NKH "     // 2014
     "CNT "                                                                         // 2024
     "LNC LNQ LNK COC RSN RST RSK RSM RPN RPT RPK RPM RDN RDT RDK RDM TSL TSN 2L",  // legacy
     true},
    {"PNN", "Nhóm đất phi nông nghiệp",
     "PNN OCT ONT ODT CDG TSC CQP CAN DSN DTS DVH DXH DYT DGD DTT DKH DNG DSK CSK SKK SKN SKT TMD SKC SKS SKX "
     "CCC DGT DTL DDT DDL DSH DKV DNL DBV DCH DRA DCK TON TIN NTD SON MNC PNK "  // 2014
     "OTC DCT DPC DDD DKT DMT CNC SCC SCT CQA CTS TSK KĐD "                      // 2024
     "TTN SMN TVC T",                                                            // legacy
     true},
    {"CSD", "Nhóm đất chưa sử dụng", "CSD BCS DCS NCS MCS CGT", true},
    {"MVB", "Đất có mặt nước ven biển", "MVB MVT MVR MVK", false},
}};
constexpr std::string_view kUnknownGroup = "unknown";
constexpr std::string_view kUnknownGroupName = "Mã không có trong danh mục";

const std::map<std::string, std::string_view, std::less<>>& group_table() {
  static const auto table = [] {
    std::map<std::string, std::string_view, std::less<>> t;
    for (const TopGroup& group : kTopGroups) {
      std::string_view rest = group.members;
      while (!rest.empty()) {
        const std::size_t space = rest.find(' ');
        const std::string_view member = rest.substr(0, space);
        if (!member.empty()) t.emplace(std::string(member), group.code);
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      }
    }
    return t;
  }();
  return table;
}

// 0..3 for the table's groups, 4 for unknown: the order of the output.
std::size_t group_rank(std::string_view group) {
  for (std::size_t i = 0; i < kTopGroups.size(); ++i) {
    if (kTopGroups[i].code == group) return i;
  }
  return kTopGroups.size();
}

const std::string* text_of(const layers::Value& value) { return std::get_if<std::string>(&value); }

std::optional<double> number_of(const layers::Value& value) {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  return std::nullopt;
}

// Code → name from the land_use_codes layer. A code is unique only within its era; names are taken
// from the TT 25/28-2014 era first (the set the province's cadastral maps use), then 2024+, then legacy.
std::map<std::string, std::string, std::less<>> catalogue_names(const layers::Store& store) {
  std::map<std::string, std::string, std::less<>> names;
  const auto def = store.find_layer("land_use_codes");
  if (!def) return names;
  const std::size_t code_i = def->attribute_index("code");
  const std::size_t name_i = def->attribute_index("name_vi");
  const std::size_t era_i = def->attribute_index("era");
  const auto era_rank = [](const std::string* era) {
    const std::string_view e = era != nullptr ? std::string_view(*era) : std::string_view();
    if (e.rfind("TT25", 0) == 0) return 0;
    if (e.rfind("2024", 0) == 0) return 1;
    if (e.rfind("legacy", 0) == 0) return 2;
    return 3;
  };
  std::map<std::string, int, std::less<>> best;
  store.scan("land_use_codes", false, [&](const layers::Feature& f) {
    const std::string* code = text_of(f.values[code_i]);
    const std::string* name = text_of(f.values[name_i]);
    if (code == nullptr || name == nullptr) return true;
    const int rank = era_rank(text_of(f.values[era_i]));
    const auto it = best.find(*code);
    if (it == best.end() || rank < it->second) {
      best[*code] = rank;
      names[*code] = *name;
    }
    return true;
  });
  return names;
}

// The name of a recorded code: its catalogue name, or for a combined code its parts' names joined by
// " + " (a part missing from the catalogue shows as its code). "" when nothing is catalogued.
std::string name_of(const std::string& code, const std::map<std::string, std::string, std::less<>>& names) {
  if (const auto it = names.find(code); it != names.end()) return it->second;
  if (code.find('+') == std::string::npos) return "";
  std::string joined;
  bool any = false;
  std::string_view rest = code;
  while (true) {
    const std::size_t plus = rest.find('+');
    const std::string_view part = rest.substr(0, plus);
    const auto it = names.find(part);
    any = any || it != names.end();
    if (!joined.empty()) joined += " + ";
    joined += it != names.end() ? it->second : std::string(part);
    if (plus == std::string_view::npos) break;
    rest = rest.substr(plus + 1);
  }
  return any ? joined : "";
}

struct ParcelColumns {
  std::size_t land_use, area, commune, old_commune;
};

// The columns read from parcels (never owner_name).
ParcelColumns parcel_columns(const layers::Store& store) {
  const auto def = store.find_layer("parcels");
  if (!def) throw NotFoundError("the store holds no parcels layer");
  return {def->attribute_index("land_use"), def->attribute_index("area_m2"), def->attribute_index("commune_code"),
          def->attribute_index("old_commune_code")};
}

// Sums per recorded code, then the rows, groups and shares.
class Tally {
 public:
  void add(const layers::Feature& parcel, const ParcelColumns& columns, double area_m2, bool with_legal) {
    const std::string* code = text_of(parcel.values[columns.land_use]);
    Entry& entry = by_code_[code != nullptr ? *code : std::string()];
    entry.area += area_m2;
    entry.parcels += 1;
    if (with_legal) {
      if (const auto legal = number_of(parcel.values[columns.area])) entry.legal += *legal;
    }
  }

  void finish(const layers::Store& store, bool with_legal, LandUseStats& stats) const {
    const auto names = catalogue_names(store);
    std::map<std::string_view, LandUseGroupStats> groups;
    for (const TopGroup& group : kTopGroups) {
      if (group.always_listed) groups[group.code].group = group.code;
    }
    for (const auto& [code, entry] : by_code_) {
      LandUseCodeStats row;
      row.code = code;
      row.name = name_of(code, names);
      row.group = land_use_group(code);
      row.area_m2 = entry.area;
      if (with_legal) row.legal_area_m2 = entry.legal;
      row.parcels = entry.parcels;
      LandUseGroupStats& group = groups[land_use_group(code)];
      group.group = land_use_group(code);
      group.area_m2 += entry.area;
      group.parcels += entry.parcels;
      stats.area_m2 += entry.area;
      stats.parcels += entry.parcels;
      if (with_legal) stats.legal_area_m2 = stats.legal_area_m2.value_or(0) + entry.legal;
      stats.codes.push_back(std::move(row));
    }
    if (with_legal && !stats.legal_area_m2) stats.legal_area_m2 = 0.0;
    const double total = stats.area_m2;
    const auto share = [total](double area) { return total > 0 ? area / total : 0.0; };
    for (LandUseCodeStats& row : stats.codes) row.share = share(row.area_m2);
    std::sort(stats.codes.begin(), stats.codes.end(), [](const LandUseCodeStats& a, const LandUseCodeStats& b) {
      const std::size_t ra = group_rank(a.group), rb = group_rank(b.group);
      if (ra != rb) return ra < rb;
      if (a.area_m2 != b.area_m2) return a.area_m2 > b.area_m2;
      return a.code < b.code;
    });
    for (auto& [code, group] : groups) {
      group.share = share(group.area_m2);
      if (const auto it = names.find(code); it != names.end()) {
        group.name = it->second;
      } else {
        const std::size_t rank = group_rank(code);
        group.name = rank < kTopGroups.size() ? kTopGroups[rank].name : kUnknownGroupName;
      }
      stats.groups.push_back(group);
    }
    std::sort(stats.groups.begin(), stats.groups.end(), [](const LandUseGroupStats& a, const LandUseGroupStats& b) {
      return group_rank(a.group) < group_rank(b.group);
    });
  }

 private:
  struct Entry {
    double area = 0, legal = 0;
    std::int64_t parcels = 0;
  };
  std::map<std::string, Entry> by_code_;
};

struct GeomDeleter {
  GEOSContextHandle_t ctx;
  void operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(ctx, g); }
};
using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;

// One call's GEOS work: a reentrant context that keeps its last error message, the WKB reader and
// the single PROJ transformer to TM-3.
class Geometry {
 public:
  Geometry()
      : tm3_("EPSG:4326",
             layers::vn2000_tm3_proj(layers::kNgheAnCentralMeridian, layers::HelmertConvention::vn_common)) {
    GEOSContext_setErrorMessageHandler_r(ctx(), &Geometry::on_error, &last_error_);
    wkb_reader_ = GEOSWKBReader_create_r(ctx());
    if (wkb_reader_ == nullptr) throw Error(ErrorCode::internal, "GEOS: cannot create a WKB reader");
  }
  ~Geometry() { GEOSWKBReader_destroy_r(ctx(), wkb_reader_); }
  Geometry(const Geometry&) = delete;
  Geometry& operator=(const Geometry&) = delete;

  [[nodiscard]] GEOSContextHandle_t ctx() const { return context_.get(); }
  [[nodiscard]] GeomPtr own(GEOSGeometry* g) const { return GeomPtr(g, GeomDeleter{ctx()}); }
  // GEOS's last error message, for messages of our own.
  [[nodiscard]] const std::string& last_error() const { return last_error_; }

  [[nodiscard]] GeomPtr read_wkb(const std::string& wkb) const {
    if (wkb.empty()) return own(nullptr);
    return own(
        GEOSWKBReader_read_r(ctx(), wkb_reader_, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size()));
  }

  // The planar area in VN-2000 / TM-3 104°45′ of a lon/lat geometry.
  double tm3_area(const GEOSGeometry* lonlat) {
    failure_ = nullptr;
    const GeomPtr projected = own(GEOSGeom_transformXY_r(ctx(), lonlat, &Geometry::to_tm3, this));
    if (failure_) std::rethrow_exception(failure_);
    double area = 0;
    if (!projected || GEOSArea_r(ctx(), projected.get(), &area) != 1) {
      throw Error(ErrorCode::internal, fmt::format("GEOS: cannot compute a TM-3 area: {}", last_error_));
    }
    return area;
  }

 private:
  static void on_error(const char* message, void* userdata) { *static_cast<std::string*>(userdata) = message; }

  static int to_tm3(double* x, double* y, void* userdata) {
    auto* self = static_cast<Geometry*>(userdata);
    try {
      self->tm3_.transform(*x, *y);
      return 1;
    } catch (...) {
      self->failure_ = std::current_exception();
      return 0;
    }
  }

  layers::GeosContext context_;
  std::string last_error_;
  GEOSWKBReader* wkb_reader_ = nullptr;
  layers::Transformer tm3_;
  std::exception_ptr failure_;
};

std::string geos_string(GEOSContextHandle_t ctx, char* text) {
  std::string out = text != nullptr ? text : "";
  if (text != nullptr) GEOSFree_r(ctx, text);
  return out;
}

// Reads and checks the drawn polygon (see the header for what is refused and how).
GeomPtr read_polygon(Geometry& geometry, std::string_view geojson) {
  GEOSContextHandle_t ctx = geometry.ctx();
  if (geojson.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw BadRequestError("no polygon: the request holds no GeoJSON geometry");
  }
  GEOSGeoJSONReader* reader = GEOSGeoJSONReader_create_r(ctx);
  if (reader == nullptr) throw Error(ErrorCode::internal, "GEOS: cannot create a GeoJSON reader");
  const std::string text(geojson);  // NUL-terminated
  GeomPtr polygon = geometry.own(GEOSGeoJSONReader_readGeometry_r(ctx, reader, text.c_str()));
  GEOSGeoJSONReader_destroy_r(ctx, reader);
  if (!polygon) {
    throw BadRequestError(fmt::format("the polygon is not readable GeoJSON: {}", geometry.last_error()));
  }
  const int type = GEOSGeomTypeId_r(ctx, polygon.get());
  if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
    throw BadRequestError(
        fmt::format("the geometry must be a GeoJSON Polygon or MultiPolygon (or a Feature holding one), not a {}",
                    geos_string(ctx, GEOSGeomType_r(ctx, polygon.get()))));
  }
  if (GEOSisEmpty_r(ctx, polygon.get()) != 0) throw BadRequestError("the polygon is empty");
  const int coordinates = GEOSGetNumCoordinates_r(ctx, polygon.get());
  if (coordinates > static_cast<int>(kMaxPolygonVertices)) {
    throw Error(ErrorCode::too_large,
                fmt::format("the polygon has {} vertices; at most {} are accepted", coordinates, kMaxPolygonVertices));
  }
  double west = 0, south = 0, east = 0, north = 0;
  if (GEOSGeom_getXMin_r(ctx, polygon.get(), &west) != 1 || GEOSGeom_getYMin_r(ctx, polygon.get(), &south) != 1 ||
      GEOSGeom_getXMax_r(ctx, polygon.get(), &east) != 1 || GEOSGeom_getYMax_r(ctx, polygon.get(), &north) != 1) {
    throw BadRequestError(fmt::format("the polygon has no extent: {}", geometry.last_error()));
  }
  if (west < -180 || east > 180 || south < -90 || north > 90) {
    throw BadRequestError(
        fmt::format("the polygon's coordinates are not longitude/latitude (EPSG:4326): x {} to {}, y {} to {}", west,
                    east, south, north));
  }
  if (GEOSisValid_r(ctx, polygon.get()) != 1) {
    throw BadRequestError(
        fmt::format("the polygon is invalid: {}", geos_string(ctx, GEOSisValidReason_r(ctx, polygon.get()))));
  }
  return polygon;
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace

std::string_view land_use_group(std::string_view code) {
  const std::string_view first = code.substr(0, code.find('+'));
  const auto& table = group_table();
  const auto it = table.find(first);
  return it != table.end() ? it->second : kUnknownGroup;
}

LandUseStats land_use_by_commune(const layers::Store& store, const std::string& commune_code) {
  if (commune_code.empty()) throw BadRequestError("commune: a 2025 commune code is required");
  const auto communes = store.find_layer("communes");
  if (!communes) throw NotFoundError("the store holds no communes layer");
  const std::size_t code_i = communes->attribute_index("code");
  const auto* full_name = communes->find_attribute("full_name");
  const std::size_t name_i = communes->attribute_index(full_name != nullptr ? "full_name" : "name");
  LandUseStats stats;
  store.scan("communes", false, [&](const layers::Feature& f) {
    const std::string* code = text_of(f.values[code_i]);
    if (code == nullptr || *code != commune_code) return true;
    stats.commune_code = commune_code;
    if (const std::string* name = text_of(f.values[name_i])) stats.commune_name = *name;
    return false;
  });
  if (!stats.commune_code) throw NotFoundError(fmt::format("commune '{}' is not a 2025 commune or ward", commune_code));

  const ParcelColumns columns = parcel_columns(store);
  // A parcel's 2025 unit: its own commune_code when it has one, else the unit its old commune became
  // part of (commune_mapping, the GSO table: every former commune of Nghệ An went whole into one unit).
  // The fixture's Famis/GeoPackage imports carry only the old code, as cadastral exports do.
  // The former communes' own layer names their 2025 unit too (new_code), where it was imported.
  std::set<std::string, std::less<>> old_codes;
  const auto collect_old_codes = [&](const std::string& layer, const std::string& old_attribute) {
    const auto def = store.find_layer(layer);
    if (!def) return;
    const std::size_t old_i = def->attribute_index(old_attribute), new_i = def->attribute_index("new_code");
    store.scan(layer, false, [&](const layers::Feature& f) {
      const std::string* old_code = text_of(f.values[old_i]);
      const std::string* new_code = text_of(f.values[new_i]);
      if (old_code != nullptr && new_code != nullptr && *new_code == commune_code) old_codes.insert(*old_code);
      return true;
    });
  };
  collect_old_codes("commune_mapping", "old_code");
  collect_old_codes("old_communes", "code");
  // The first cut: the extent of the parcels with either code; the attributes decide.
  layers::BBox extent = store.extent_where("parcels", "commune_code", layers::Value(commune_code));
  for (const std::string& old_code : old_codes) {
    extent.expand(store.extent_where("parcels", "old_commune_code", layers::Value(old_code)));
  }
  Geometry geometry;
  Tally tally;
  if (!extent.empty()) {
    store.scan_bbox("parcels", extent, [&](const layers::Feature& parcel) {
      const std::string* code = text_of(parcel.values[columns.commune]);
      if (code != nullptr && !code->empty()) {
        if (*code != commune_code) return true;
      } else {
        const std::string* old_code = text_of(parcel.values[columns.old_commune]);
        if (old_code == nullptr || old_codes.count(*old_code) == 0) return true;
      }
      const GeomPtr g = geometry.read_wkb(parcel.wkb);
      if (!g) throw StoreError(fmt::format("a parcel of commune {} has unreadable geometry", commune_code));
      tally.add(parcel, columns, geometry.tm3_area(g.get()), true);
      return true;
    });
  }
  tally.finish(store, true, stats);
  return stats;
}

LandUseStats land_use_in_polygon(const layers::Store& store, std::string_view geojson) {
  Geometry geometry;
  GEOSContextHandle_t ctx = geometry.ctx();
  const GeomPtr polygon = read_polygon(geometry, geojson);
  const ParcelColumns columns = parcel_columns(store);

  LandUseStats stats;
  stats.polygon_area_m2 = geometry.tm3_area(polygon.get());
  layers::BBox bbox;
  double west = 0, south = 0, east = 0, north = 0;
  GEOSGeom_getXMin_r(ctx, polygon.get(), &west);
  GEOSGeom_getYMin_r(ctx, polygon.get(), &south);
  GEOSGeom_getXMax_r(ctx, polygon.get(), &east);
  GEOSGeom_getYMax_r(ctx, polygon.get(), &north);
  bbox.expand(west, south);
  bbox.expand(east, north);

  const std::unique_ptr<const GEOSPreparedGeometry, std::function<void(const GEOSPreparedGeometry*)>> prepared(
      GEOSPrepare_r(ctx, polygon.get()), [ctx](const GEOSPreparedGeometry* p) { GEOSPreparedGeom_destroy_r(ctx, p); });
  if (!prepared) throw Error(ErrorCode::internal, fmt::format("GEOS: cannot prepare: {}", geometry.last_error()));

  Tally tally;
  store.scan_bbox("parcels", bbox, [&](const layers::Feature& parcel) {
    const GeomPtr g = geometry.read_wkb(parcel.wkb);
    if (!g) throw StoreError("a parcel has unreadable geometry");
    double area = 0;
    if (GEOSPreparedContains_r(ctx, prepared.get(), g.get()) == 1) {
      area = geometry.tm3_area(g.get());
    } else if (GEOSPreparedIntersects_r(ctx, prepared.get(), g.get()) == 1) {
      GeomPtr part = geometry.own(GEOSIntersection_r(ctx, polygon.get(), g.get()));
      if (!part) {  // a stored geometry GEOS cannot overlay: repair it and try once more
        const GeomPtr repaired = geometry.own(GEOSMakeValid_r(ctx, g.get()));
        if (repaired) part = geometry.own(GEOSIntersection_r(ctx, polygon.get(), repaired.get()));
      }
      if (!part) {
        throw Error(ErrorCode::internal, fmt::format("GEOS: cannot intersect a parcel: {}", geometry.last_error()));
      }
      area = geometry.tm3_area(part.get());
    }
    if (area > 0) tally.add(parcel, columns, area, false);
    return true;
  });
  tally.finish(store, false, stats);
  return stats;
}

nlohmann::json to_json(const LandUseStats& stats) {
  nlohmann::json out;
  if (stats.commune_code) {
    out["commune_code"] = *stats.commune_code;
    out["commune_name"] = stats.commune_name;
  }
  if (stats.polygon_area_m2) out["polygon_area_m2"] = *stats.polygon_area_m2;
  out["area_m2"] = stats.area_m2;
  if (stats.legal_area_m2) out["legal_area_m2"] = *stats.legal_area_m2;
  out["parcels"] = stats.parcels;
  out["groups"] = nlohmann::json::array();
  for (const LandUseGroupStats& g : stats.groups) {
    out["groups"].push_back(
        {{"group", g.group}, {"name", g.name}, {"area_m2", g.area_m2}, {"parcels", g.parcels}, {"share", g.share}});
  }
  out["codes"] = nlohmann::json::array();
  for (const LandUseCodeStats& c : stats.codes) {
    nlohmann::json row{{"code", c.code},       {"name", c.name},       {"group", c.group},
                       {"area_m2", c.area_m2}, {"parcels", c.parcels}, {"share", c.share}};
    if (c.legal_area_m2) row["legal_area_m2"] = *c.legal_area_m2;
    out["codes"].push_back(std::move(row));
  }
  return out;
}

std::string to_csv(const LandUseStats& stats) {
  std::string out = "code,name,group,group_name,area_m2,legal_area_m2,parcels,share,group_area_m2,group_share\r\n";
  for (const LandUseCodeStats& c : stats.codes) {
    const auto group = std::find_if(stats.groups.begin(), stats.groups.end(),
                                    [&](const LandUseGroupStats& g) { return g.group == c.group; });
    const bool has_group = group != stats.groups.end();
    out += fmt::format("{},{},{},{},{:.2f},{},{},{},{},{}\r\n", csv_field(c.code), csv_field(c.name),
                       csv_field(c.group), csv_field(has_group ? group->name : ""), c.area_m2,
                       c.legal_area_m2 ? fmt::format("{:.2f}", *c.legal_area_m2) : "", c.parcels, c.share,
                       has_group ? fmt::format("{:.2f}", group->area_m2) : "",
                       has_group ? fmt::format("{}", group->share) : "");
  }
  return out;
}

}  // namespace bandoso::features
