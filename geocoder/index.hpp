#pragma once
// The geocoder's in-memory index (private to geocoder/): built once per data version from the store,
// then read-only and shared by every searching thread. Names are kept folded for matching and in
// their display form for answers; strings shared by many addresses are interned.

#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "geocoder/geocoder.hpp"
#include "layers/core/geometry.hpp"

namespace bandoso::geocoder::detail {

using Ring = std::vector<std::pair<double, double>>;  // lon, lat

// Even-odd point in polygon over every ring of a (multi)polygon; its parts do not overlap. Kept here,
// on compact coordinates, rather than GEOS: reverse runs on many threads at once, and GEOS prepared
// geometries build their indexes lazily on first use (not safe to share) while unprepared ones cost
// milliseconds per test on a commune outline.
bool rings_contain(const std::vector<Ring>& rings, double lon, double lat);
using layers::distance_m;

struct Unit {  // a 2025 commune or ward
  std::string code, name, type, full_name;
  std::vector<std::string> name_tokens, full_tokens;
  std::vector<std::uint32_t> full_words;  // full_tokens as vocabulary ids (autocomplete)
  double lon = 0, lat = 0;
  layers::BBox bbox;
  std::vector<Ring> rings;
  std::vector<std::uint32_t> old_units;  // predecessors
};

struct OldUnit {  // a commune before 1 July 2025
  std::string code, full_name, district;
  std::vector<std::uint32_t> units;  // the 2025 units it went into
  std::vector<std::string> full_tokens;
  std::vector<std::uint32_t> full_words;
  std::vector<Ring> rings;  // where old_communes polygons were imported
  layers::BBox bbox;
};

// A name the admin part of a query can name: a 2025 unit, a former commune or a former district.
enum class AdminKind { unit, old_unit, district };
struct AdminEntry {
  AdminKind kind = AdminKind::unit;
  std::uint32_t target = 0;  // Unit, OldUnit or District index
  std::vector<std::string> name;
  std::string type;                     // folded type words: "phuong", "xa", "thi tran", "thanh pho", "thi xa", "huien"
  std::uint32_t district = UINT32_MAX;  // old units: their district
  std::string lower;  // the name in lower case with its tone marks: breaks ties between Châu Bình and Châu Bính
};

struct District {
  std::string full_name;
  std::vector<std::uint32_t> units;
};

struct StreetName {                 // a street name as addresses write it, in one unit
  std::vector<std::string> tokens;  // what the query must hold
  std::string key;                  // the folded name (the address key)
  bool alias = false;               // a shortened form ("xom 3" for "duong xom 3"): ranks lower
};

struct Street {
  std::string id, name, kind;
  std::vector<std::string> tokens;   // folded name
  std::vector<std::uint32_t> words;  // tokens as vocabulary ids (autocomplete)
  std::uint32_t unit = UINT32_MAX;
  double lon = 0, lat = 0;  // the point half-way along
  layers::BBox bbox;
};

struct Address {
  std::string id, house;
  std::uint32_t lane = 0, street = 0, hamlet = 0, postcode = 0;  // interned display strings
  std::uint32_t unit = UINT32_MAX, old_unit = UINT32_MAX;
  std::uint64_t digital_code = 0;
  double lon = 0, lat = 0;
};

struct Parcel {
  std::string old_code, land_use;
  std::int64_t sheet = 0, number = 0;
  double area = 0;
  std::uint32_t unit = UINT32_MAX, old_unit = UINT32_MAX;
  double lon = 0, lat = 0;
  layers::BBox bbox;
  std::vector<Ring> rings;
};

// Cells of ~200 m holding item indices, for nearest/containing queries.
struct Grid {
  static constexpr double kCell = 0.002;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> cells;
  static std::int64_t cell_of(double v) { return static_cast<std::int64_t>(std::floor(v / kCell)); }
  static std::uint64_t key(std::int64_t x, std::int64_t y) {
    return (static_cast<std::uint64_t>(x) << 32) ^ static_cast<std::uint64_t>(y & 0xffffffff);
  }
  void add(const layers::BBox& box, std::uint32_t item);
};

struct IndexData {
  std::int64_t data_version = -1;
  double build_seconds = 0;
  std::vector<std::string> strings;  // interned
  // The words of unit and street names, once each: autocomplete compares a query word with each
  // vocabulary word once, then names by id.
  std::vector<std::string> vocabulary;
  std::unordered_map<std::string, std::uint32_t> vocabulary_ids;
  std::unordered_map<std::string, std::uint32_t> string_ids;
  std::vector<Unit> units;
  std::unordered_map<std::string, std::uint32_t> unit_by_code;
  std::vector<OldUnit> old_units;
  std::unordered_map<std::string, std::uint32_t> old_by_code;
  std::vector<District> districts;
  std::vector<AdminEntry> admin;
  std::vector<std::vector<StreetName>> unit_streets;  // by unit
  std::vector<std::vector<StreetName>> unit_hamlets;  // by unit
  std::vector<Street> streets;
  // unit index, folded street name (lanes "ngo 12 le loi") → streets
  std::unordered_map<std::string, std::uint32_t> street_by_key;
  std::unordered_map<std::string, std::uint32_t> street_by_id;
  std::vector<Address> addresses;
  std::unordered_map<std::uint64_t, std::uint32_t> address_by_key;  // hash of unit|street|lane|house
  std::unordered_map<std::string, std::uint32_t> address_by_id;
  std::unordered_map<std::uint64_t, std::uint32_t> address_by_code;
  // 2020 postcode → the former commune it belongs to (UINT32_MAX when several share it).
  std::unordered_map<std::string, std::uint32_t> old_unit_by_postcode;
  Grid address_grid;
  std::vector<Parcel> parcels;
  std::unordered_map<std::string, std::uint32_t> parcel_by_key;  // old_code/sheet/parcel
  Grid parcel_grid;

  std::uint32_t intern(const std::string& s);
  [[nodiscard]] const std::string& str(std::uint32_t id) const { return strings[id]; }
  [[nodiscard]] std::size_t entries() const {
    return units.size() + old_units.size() + streets.size() + addresses.size() + parcels.size();
  }
  [[nodiscard]] std::size_t approximate_bytes() const;
};

std::uint64_t address_key(std::uint32_t unit, std::string_view street, std::string_view lane, std::string_view house);

// Builds the index from the store (logs one line to stderr).
void build_index(const layers::Store& store, IndexData& ix);

}  // namespace bandoso::geocoder::detail
