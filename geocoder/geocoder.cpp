#include "geocoder/geocoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iostream>
#include <tuple>
#include <unordered_set>

#include "geocoder/index.hpp"
#include "geocoder/text.hpp"
#include "layers/core/digital_code.hpp"
#include "layers/core/error.hpp"
#include "layers/core/plus_code.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::geocoder {

using namespace detail;

std::string_view to_string(MatchType type) {
  switch (type) {
    case MatchType::exact:
      return "exact";
    case MatchType::fuzzy:
      return "fuzzy";
    case MatchType::old_name:
      return "old-name";
    case MatchType::fallback:
      return "fallback";
  }
  return "exact";
}

// How a free-text query is read (see Searcher below):
//  1. digital codes (10 digits, grouping allowed; a wrong check digit gives suggestions) and plus codes
//     (full, or short with a locality) are recognised first;
//  2. the query is folded into tokens, abbreviations expanded (abbreviations.txt), province words and
//     parcel references ("thửa N tờ M") set aside;
//  3. admin mentions are found: 2025 units, former communes and former districts, with their type
//     word where written, one typo per word of 5+ letters;
//  4. every plausible commune reading (best few) is tried: inside its 2025 unit(s) the rest is read as
//     street (the unit's street names), lane, hamlet and house number, and looked up by key;
//  5. readings are scored (names matched, type words agreeing, district agreeing, an address found,
//     unknown words left over) and the best answers first.
struct Geocoder::Index : IndexData {};

namespace {

using Tokens = std::vector<std::string>;

// Folded type words of units: commune level and district level.
const std::vector<Tokens>& commune_types() {
  static const std::vector<Tokens> types = {{"thi", "tran"}, {"phuong"}, {"xa"}};
  return types;
}
const std::vector<Tokens>& district_types() {
  static const std::vector<Tokens> types = {{"thanh", "pho"}, {"thi", "xa"}, {"huien"}, {"quan"}};
  return types;
}

bool span_equals(const Tokens& tokens, std::size_t at, const Tokens& words) {
  if (at + words.size() > tokens.size()) return false;
  return std::equal(words.begin(), words.end(), tokens.begin() + static_cast<std::ptrdiff_t>(at));
}

// The type words ending right before `end`: ("thi tran", true) for a commune type.
struct TypeBefore {
  std::size_t length = 0;
  std::string type;
  bool district = false;
};
TypeBefore type_before(const Tokens& tokens, const std::vector<bool>& used, std::size_t end) {
  for (const bool district : {false, true}) {
    for (const Tokens& type : district ? district_types() : commune_types()) {
      if (end < type.size()) continue;
      const std::size_t at = end - type.size();
      bool free = true;
      for (std::size_t i = at; i < end; ++i) free = free && !used[i];
      bool same = free;
      for (std::size_t k = 0; same && k < type.size(); ++k) {
        bool fuzzy = false;
        same = token_matches(tokens[at + k], type[k], fuzzy);
      }
      if (same) {
        // "thi xa" also ends in "xa": the longer district type wins.
        if (!district && type.size() == 1 && type[0] == "xa" && at > 0 && tokens[at - 1] == "thi") continue;
        return {type.size(), join(type), district};
      }
    }
  }
  return {};
}

// Whether `words` occur at `at` in `tokens` (not used), one typo per word of 5+ letters allowed.
bool match_words(const Tokens& tokens, const std::vector<bool>& used, std::size_t at, const Tokens& words, int& fuzzy) {
  if (at + words.size() > tokens.size()) return false;
  fuzzy = 0;
  for (std::size_t k = 0; k < words.size(); ++k) {
    if (used[at + k]) return false;
    bool f = false;
    if (!token_matches(tokens[at + k], words[k], f)) return false;
    fuzzy += f ? 1 : 0;
  }
  return true;
}

struct Mention {
  std::size_t begin = 0, end = 0;  // tokens, type words included
  std::uint32_t entry = 0;
  std::string typed;  // the type word written, if any
  bool type_district = false;
  int fuzzy = 0;
  double score = 0;
  bool relaxed = false;  // read against its type word (a fallback)
};

bool is_filler(const std::string& t) {
  static const std::unordered_set<std::string> fillers = {"so",   "nha",  "duong", "pho", "dia", "chi",
                                                          "tinh", "viet", "nam",   "vn",  "tai", "o"};
  return fillers.count(t) != 0;
}

constexpr double kNoScore = -1e9;

// A key hash hit is checked against the address (unit and street; hash collisions are rare).
bool address_is(const IndexData& ix, std::uint32_t item, std::uint32_t unit, const std::string& street_key,
                const std::string& lane) {
  const Address& a = ix.addresses[item];
  return a.unit == unit && key_of(ix.str(a.lane)) == lane && join(name_tokens(ix.str(a.street))) == street_key;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The search itself: a query's tokens are read against the index as admin mentions (commune, former
// commune, former district, province), then, inside the communes a mention allows, as a street with
// house number, lane and hamlet; every interpretation is scored and the best answers.

namespace {

struct Searcher {
  const IndexData& ix;
  Tokens tokens;
  std::vector<bool> used;  // province words and the like

  struct Answer {
    double score = kNoScore;
    enum Kind { none, address, street, commune } kind = none;
    std::uint32_t item = 0;
    std::uint32_t unit = UINT32_MAX;
    std::uint32_t old_unit = UINT32_MAX;  // the former commune the query named
    int fuzzy = 0;
    bool fallback = false;
  };

  void mark_province() {
    const Tokens province = {"nghe", "an"};
    for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
      int fuzzy = 0;
      if (match_words(tokens, used, i, province, fuzzy)) {
        used[i] = used[i + 1] = true;
        if (i > 0 && tokens[i - 1] == "tinh") used[i - 1] = true;
      }
    }
    for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
      if (tokens[i] == "viet" && tokens[i + 1] == "nam") used[i] = used[i + 1] = true;
    }
  }

  // strict: a type word of the other level ("huyện X" for a commune X) rules the reading out; when
  // nothing else names a commune, a second, relaxed pass keeps it as a fallback.
  std::vector<Mention> mentions(bool strict = true) const {
    std::vector<Mention> out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (used[i]) continue;
      for (std::uint32_t e = 0; e < ix.admin.size(); ++e) {
        const AdminEntry& entry = ix.admin[e];
        if (entry.name.empty() || !(tokens[i] == entry.name[0] || entry.name[0].size() >= 5)) continue;
        int fuzzy = 0;
        if (!match_words(tokens, used, i, entry.name, fuzzy)) continue;
        Mention m;
        m.entry = e;
        m.begin = i;
        m.end = i + entry.name.size();
        m.fuzzy = fuzzy;
        const TypeBefore type = type_before(tokens, used, i);
        const bool district_entry = entry.kind == AdminKind::district;
        if (type.length > 0) {
          m.begin = i - type.length;
          m.typed = type.type;
          m.type_district = type.district;
          // A type word of the other level ("huyện X" for a commune X) rules the reading out.
          if (type.district != district_entry) {
            if (strict || district_entry) continue;
            m.relaxed = true;
          }
        }
        // A bare one-word name is weak evidence: it may be a word of a street.
        const double name_len = static_cast<double>(entry.name.size());
        m.score = 2 * name_len - 1.5 * fuzzy;
        if (!m.typed.empty())
          m.score += m.typed == entry.type ? 3 : 0.5;
        else if (entry.name.size() == 1)
          m.score -= 1.5;
        if (entry.kind == AdminKind::unit) m.score += 0.3;  // the 2025 name wins a tie with a former one
        out.push_back(m);
      }
    }
    return out;
  }

  // The street names of `unit` at token positions of `free`; the best (longest, fewest typos).
  struct StreetHit {
    std::size_t begin = 0, end = 0;
    const StreetName* name = nullptr;
    int fuzzy = 0;
    double score = kNoScore;
  };
  // The street names of `names` found among the free tokens, best first (at most `keep`): the best
  // reading is not always the longest name, so the caller tries each.
  std::vector<StreetHit> street_hits(const std::vector<StreetName>& names, const std::vector<bool>& free_mask,
                                     std::size_t keep) const {
    std::vector<StreetHit> hits;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (free_mask[i]) continue;
      for (const StreetName& name : names) {
        if (!(tokens[i] == name.tokens[0] || name.tokens[0].size() >= 5)) continue;
        int fuzzy = 0;
        if (!match_words(tokens, free_mask, i, name.tokens, fuzzy)) continue;
        const double score = 2.0 * static_cast<double>(name.tokens.size()) - 1.5 * fuzzy - (name.alias ? 1.5 : 0);
        hits.push_back({i, i + name.tokens.size(), &name, fuzzy, score});
      }
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const StreetHit& a, const StreetHit& b) { return a.score > b.score; });
    if (hits.size() > keep) hits.resize(keep);
    return hits;
  }
  StreetHit best_street(const std::vector<StreetName>& names, const std::vector<bool>& free_mask) const {
    auto hits = street_hits(names, free_mask, 1);
    return hits.empty() ? StreetHit{} : hits[0];
  }

  // Reads the address part (tokens not in `taken`) inside `units`.
  Answer read_address(const std::vector<std::uint32_t>& units, std::vector<bool> taken, std::uint32_t old_unit) const {
    Answer best;
    for (std::uint32_t u : units) {
      std::vector<StreetHit> hits = street_hits(ix.unit_streets[u], taken, 3);
      if (hits.empty()) hits.emplace_back();
      for (const StreetHit& street : hits) {
        std::vector<bool> mask = taken;
        Answer a;
        a.unit = u;
        double score = 0;
        std::string street_key;
        if (street.score > kNoScore) {
          for (std::size_t i = street.begin; i < street.end; ++i) mask[i] = true;
          street_key = street.name->key;
          score += street.score;
          a.fuzzy += street.fuzzy;
          // "đường"/"phố" right before the name belongs to it.
          if (street.begin > 0 && !mask[street.begin - 1] &&
              (tokens[street.begin - 1] == "duong" || tokens[street.begin - 1] == "pho")) {
            mask[street.begin - 1] = true;
          }
        }
        // Lane: "ngo N" / "ngach N/M" (hẻm, kiệt read as ngõ), with "số" allowed after the word.
        std::string lane;
        for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
          if (mask[i] || (tokens[i] != "ngo" && tokens[i] != "ngach")) continue;
          std::size_t j = i + 1;
          if (tokens[j] == "so" && j + 1 < tokens.size()) ++j;
          if (mask[j] || !is_house_number(tokens[j])) continue;
          const std::string this_lane = tokens[i] + " " + tokens[j];
          if (lane.empty() || tokens[i] == "ngach") lane = this_lane;
          for (std::size_t k = i; k <= j; ++k) mask[k] = true;
        }
        // Hamlets as the unit's addresses write them, then "khối/xóm/tổ dân phố N" in general.
        StreetHit hamlet = best_street(ix.unit_hamlets[u], mask);
        if (hamlet.score > kNoScore) {
          for (std::size_t i = hamlet.begin; i < hamlet.end; ++i) mask[i] = true;
          score += 0.5;
        }
        for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
          if (mask[i]) continue;
          std::size_t words = 0;
          if (tokens[i] == "khoi" || tokens[i] == "xom") words = 1;
          if (span_equals(tokens, i, {"to", "dan", "pho"})) words = 3;
          if (words > 0 && i + words < tokens.size() && !mask[i + words] && is_number(tokens[i + words])) {
            for (std::size_t k = i; k <= i + words; ++k) mask[k] = true;
          }
        }
        std::string house, house_split;  // house_split: "12 a" written apart, tried as "12a" first
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          if (mask[i] || !is_house_number(tokens[i])) continue;
          house = tokens[i];
          mask[i] = true;
          if (i + 1 < tokens.size() && tokens[i + 1] == "bis" && !mask[i + 1]) {
            house += " bis";
            mask[i + 1] = true;
          } else if (i + 1 < tokens.size() && !mask[i + 1] && tokens[i + 1].size() == 1 &&
                     std::isalpha(static_cast<unsigned char>(tokens[i + 1][0])) != 0 && is_number(house)) {
            house_split = house + tokens[i + 1];
            mask[i + 1] = true;
          }
          break;
        }
        int leftover = 0;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          if (!mask[i] && !is_filler(tokens[i])) ++leftover;
        }
        score -= 1.0 * leftover;
        if (!street_key.empty() && !house.empty()) {
          auto it = ix.address_by_key.end();
          if (!house_split.empty()) it = ix.address_by_key.find(address_key(u, street_key, lane, house_split));
          if (it == ix.address_by_key.end()) it = ix.address_by_key.find(address_key(u, street_key, lane, house));
          if (it != ix.address_by_key.end() && !address_is(ix, it->second, u, street_key, lane))
            it = ix.address_by_key.end();
          if (it != ix.address_by_key.end()) {
            a.kind = Answer::address;
            a.item = it->second;
            score += 10;
            // Former communes that fold alike (Diên Hoa, Diễn Hoa): the reading whose address lies in it wins.
            if (old_unit != UINT32_MAX && ix.addresses[it->second].old_unit == old_unit) score += 0.5;
          }
        }
        if (a.kind == Answer::none && !street_key.empty()) {
          // The street (or the lane of it) itself.
          const std::string key = lane.empty() ? street_key : lane + " " + street_key;
          auto it = ix.street_by_key.find(fmt::format("{}|{}", u, key));
          if (it == ix.street_by_key.end()) it = ix.street_by_key.find(fmt::format("{}|{}", u, street_key));
          if (it != ix.street_by_key.end()) {
            a.kind = Answer::street;
            a.item = it->second;
            score += 3;
            a.fallback = !house.empty();
            if (a.fallback) score -= 3;
          }
        }
        if (a.kind == Answer::none && street_key.empty() && house.empty() && lane.empty()) {
          a.kind = Answer::commune;
          a.item = u;
          score += 1;
        }
        if (a.kind == Answer::none) continue;
        a.score = score;
        a.old_unit = old_unit;
        if (a.score > best.score) best = a;
      }
    }
    return best;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------

namespace {

void set_admin(const IndexData& ix, Place& p, std::uint32_t unit, std::uint32_t old_unit) {
  if (unit != UINT32_MAX) {
    const Unit& u = ix.units[unit];
    p.admin.commune_code = u.code;
    p.admin.commune = u.full_name;
    p.address["suburb"] = u.full_name;
  }
  if (old_unit != UINT32_MAX) {
    const OldUnit& o = ix.old_units[old_unit];
    p.admin.former_commune_code = o.code;
    p.admin.former_commune = o.full_name;
    p.admin.former_district = o.district;
    p.address["city_district"] = o.full_name;
    if (!o.district.empty()) p.address["county"] = o.district;
  }
  p.address["state"] = "Nghệ An";
  p.address["country"] = "Việt Nam";
  p.address["country_code"] = "vn";
}

std::string former_text(const IndexData& ix, std::uint32_t old_unit) {
  const OldUnit& o = ix.old_units[old_unit];
  return o.district.empty() ? o.full_name : fmt::format("{}, {}", o.full_name, o.district);
}

std::string unit_addresstype(const std::string& type) {
  const std::string folded = layers::vntext::fold(type);
  if (folded == "phuong") return "ward";
  if (folded == "thi tran") return "town";
  return "village";
}

Place unit_place(const IndexData& ix, std::uint32_t unit, std::uint32_t old_unit) {
  const Unit& u = ix.units[unit];
  Place p;
  p.layer = "communes";
  p.id = u.code;
  p.kind = "commune";
  p.name = u.full_name;
  p.type = unit_addresstype(u.type);
  p.lon = u.lon;
  p.lat = u.lat;
  p.bbox = u.bbox;
  set_admin(ix, p, unit, old_unit);
  p.display_name = fmt::format("{}, Nghệ An", u.full_name);
  if (old_unit != UINT32_MAX) {
    p.former_name = former_text(ix, old_unit);
    p.display_name = fmt::format("{} (trước đây: {})", p.display_name, p.former_name);
    p.match = MatchType::old_name;
  }
  return p;
}

}  // namespace

namespace {

Place address_place(const IndexData& ix, std::uint32_t item, std::uint32_t named_old_unit) {
  const Address& a = ix.addresses[item];
  Place p;
  p.layer = "addresses";
  p.id = a.id;
  p.kind = "address";
  p.type = "house";
  const std::string& lane = ix.str(a.lane);
  const std::string& street = ix.str(a.street);
  p.name = lane.empty() ? fmt::format("{} {}", a.house, street) : fmt::format("{} {} {}", a.house, lane, street);
  p.lon = a.lon;
  p.lat = a.lat;
  p.bbox.expand(a.lon, a.lat);
  set_admin(ix, p, a.unit, a.old_unit);
  p.address["house_number"] = a.house;
  p.address["road"] = lane.empty() ? street : fmt::format("{} {}", lane, street);
  if (a.hamlet != 0) p.address["hamlet"] = ix.str(a.hamlet);
  if (a.postcode != 0) p.address["postcode"] = ix.str(a.postcode);
  if (a.digital_code != 0) p.digital_code = std::to_string(a.digital_code);
  p.plus_code = layers::encode_plus_code(a.lat, a.lon, 10);
  std::string display = p.name;
  if (a.hamlet != 0) display += ", " + ix.str(a.hamlet);
  if (a.unit != UINT32_MAX) display += ", " + ix.units[a.unit].full_name;
  display += ", Nghệ An";
  if (named_old_unit != UINT32_MAX) {
    p.former_name = former_text(ix, named_old_unit);
    display += fmt::format(" (trước đây: {})", p.former_name);
  }
  p.display_name = std::move(display);
  return p;
}

Place street_place(const IndexData& ix, std::uint32_t item, std::uint32_t named_old_unit) {
  const Street& s = ix.streets[item];
  Place p;
  p.layer = "streets";
  p.id = s.id;
  p.kind = "street";
  p.type = "road";
  p.name = s.name;
  p.lon = s.lon;
  p.lat = s.lat;
  p.bbox = s.bbox;
  set_admin(ix, p, s.unit, named_old_unit);
  p.address["road"] = s.name;
  p.display_name =
      s.unit == UINT32_MAX ? s.name + ", Nghệ An" : fmt::format("{}, {}, Nghệ An", s.name, ix.units[s.unit].full_name);
  if (named_old_unit != UINT32_MAX) {
    p.former_name = former_text(ix, named_old_unit);
    p.display_name += fmt::format(" (trước đây: {})", p.former_name);
  }
  return p;
}

Place parcel_place(const IndexData& ix, std::uint32_t item) {
  const Parcel& parcel = ix.parcels[item];
  Place p;
  p.layer = "parcels";
  p.id = fmt::format("{}/{}/{}", parcel.old_code, parcel.sheet, parcel.number);
  p.kind = "parcel";
  p.type = "parcel";
  p.name = fmt::format("Thửa {}, tờ {}", parcel.number, parcel.sheet);
  p.lon = parcel.lon;
  p.lat = parcel.lat;
  p.bbox = parcel.bbox;
  set_admin(ix, p, parcel.unit, parcel.old_unit);
  // The sheet is numbered within the former commune, which the display name therefore names.
  p.display_name = p.name;
  if (parcel.unit != UINT32_MAX) p.display_name += ", " + ix.units[parcel.unit].full_name;
  p.display_name += ", Nghệ An";
  if (parcel.old_unit != UINT32_MAX) {
    p.former_name = former_text(ix, parcel.old_unit);
    p.display_name += fmt::format(" (trước đây: {})", p.former_name);
  }
  return p;
}

Place point_place(double lon, double lat, const std::string& code) {
  Place p;
  p.layer = "plus_codes";
  p.id = code;
  p.kind = "point";
  p.type = "point";
  p.name = code;
  p.display_name = code;
  p.lon = lon;
  p.lat = lat;
  p.bbox.expand(lon, lat);
  p.plus_code = code;
  p.match = MatchType::exact;
  p.confidence = 0.6;
  return p;
}

template <typename Visit>
void for_each_address_near(const IndexData& ix, double lon, double lat, double radius_m, Visit&& visit) {
  const double deg = radius_m / 111000.0 / std::max(0.2, std::cos(lat * M_PI / 180));
  for (std::int64_t x = Grid::cell_of(lon - deg); x <= Grid::cell_of(lon + deg); ++x) {
    for (std::int64_t y = Grid::cell_of(lat - radius_m / 111000.0); y <= Grid::cell_of(lat + radius_m / 111000.0);
         ++y) {
      const auto it = ix.address_grid.cells.find(Grid::key(x, y));
      if (it == ix.address_grid.cells.end()) continue;
      for (std::uint32_t i : it->second) {
        const double d = distance_m(lon, lat, ix.addresses[i].lon, ix.addresses[i].lat);
        if (d <= radius_m) visit(i, d);
      }
    }
  }
}

std::optional<std::uint32_t> nearest_address(const IndexData& ix, double lon, double lat, double radius_m) {
  std::optional<std::uint32_t> best;
  double best_d = radius_m;
  for_each_address_near(ix, lon, lat, radius_m, [&](std::uint32_t i, double d) {
    if (d <= best_d) best_d = d, best = i;
  });
  return best;
}

std::optional<std::uint32_t> containing_unit(const IndexData& ix, double lon, double lat) {
  for (std::uint32_t u = 0; u < ix.units.size(); ++u) {
    if (ix.units[u].bbox.contains(lon, lat) && rings_contain(ix.units[u].rings, lon, lat)) return u;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> containing_parcel(const IndexData& ix, double lon, double lat) {
  const auto it = ix.parcel_grid.cells.find(Grid::key(Grid::cell_of(lon), Grid::cell_of(lat)));
  if (it == ix.parcel_grid.cells.end()) return std::nullopt;
  for (std::uint32_t i : it->second) {
    if (ix.parcels[i].bbox.contains(lon, lat) && rings_contain(ix.parcels[i].rings, lon, lat)) return i;
  }
  return std::nullopt;
}

void check_query(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    throw BadRequestError(fmt::format("query is {} bytes long; at most {} are accepted", query.size(), kMaxQueryBytes));
  }
  if (!layers::vntext::is_valid_utf8(query)) throw BadRequestError("query is not valid UTF-8");
  if (std::all_of(query.begin(), query.end(),
                  [](unsigned char c) { return std::isspace(c) != 0 || std::ispunct(c) != 0; })) {
    throw BadRequestError("query is empty");
  }
}

// A digital code: only digits and the grouping people type, 10 digits in all.
std::optional<std::string> as_digital_code(std::string_view query) {
  std::string digits;
  for (char c : query) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0)
      digits += c;
    else if (c != ' ' && c != '-' && c != '.')
      return std::nullopt;
  }
  if (digits.size() != 10) return std::nullopt;
  return digits;
}

// Recovers a short plus code ("MMC4+6F") from a reference point (the OLC specification's method).
std::optional<std::pair<double, double>> recover_short_code(const std::string& code, double ref_lat, double ref_lon) {
  const auto plus = code.find('+');
  if (plus == std::string::npos || plus >= 8 || plus % 2 != 0) return std::nullopt;
  const std::size_t padding = 8 - plus;
  const double resolution = std::pow(20.0, 2.0 - static_cast<double>(padding) / 2);
  const std::string full = layers::encode_plus_code(ref_lat, ref_lon, 10).substr(0, padding) + code;
  if (!layers::is_full_plus_code(full)) return std::nullopt;
  const auto area = layers::decode_plus_code(full);
  double lat = area.center_lat(), lon = area.center_lon();
  const double half = resolution / 2;
  if (ref_lat + half < lat && lat - resolution >= -90)
    lat -= resolution;
  else if (ref_lat - half > lat && lat + resolution <= 90)
    lat += resolution;
  if (ref_lon + half < lon)
    lon -= resolution;
  else if (ref_lon - half > lon)
    lon += resolution;
  return std::make_pair(lat, lon);
}

bool in_view(const Place& p, const SearchOptions& options) {
  return !options.viewbox || options.viewbox->contains(p.lon, p.lat);
}

}  // namespace

Geocoder::Geocoder(const layers::Store& store) : store_(store) {}

Geocoder::~Geocoder() {
  if (rebuild_.joinable()) rebuild_.join();
}

void Geocoder::start_rebuild(std::int64_t version) {
  // Called with mutex_ held and no build running.
  if (rebuild_.joinable()) rebuild_.join();
  rebuilding_ = true;
  rebuild_ = std::thread([this, version] {
    auto index = std::make_shared<Index>();
    try {
      build_index(store_, *index);
    } catch (const std::exception& e) {
      std::clog << fmt::format("geocoder: rebuilding the index for data version {} failed: {}\n", version, e.what());
      index.reset();
    }
    std::lock_guard lock(mutex_);
    if (index) index_ = std::move(index);
    rebuilding_ = false;
  });
}

std::shared_ptr<const Geocoder::Index> Geocoder::current_index() {
  const std::int64_t version = store_.data_version();
  std::unique_lock lock(mutex_);
  if (index_ && index_->data_version == version) return index_;
  if (index_) {
    // The old index answers while the new one is built.
    if (!rebuilding_) start_rebuild(version);
    return index_;
  }
  // Nothing to answer with yet: build in this thread (others wait on the lock).
  auto index = std::make_shared<Index>();
  build_index(store_, *index);
  index_ = std::move(index);
  return index_;
}

IndexStatus Geocoder::status() {
  const auto index = current_index();
  IndexStatus s;
  s.data_version = index->data_version;
  s.entries = index->entries();
  s.bytes = index->approximate_bytes();
  s.build_seconds = index->build_seconds;
  return s;
}

SearchResult Geocoder::search(std::string_view query, const SearchOptions& options) {
  check_query(query);
  const auto index = current_index();
  const IndexData& ix = *index;
  SearchResult result;
  const std::size_t limit = std::max<std::size_t>(1, options.limit);

  // Digital address codes.
  if (const auto code = as_digital_code(query)) {
    const auto found = [&](const std::string& c) -> std::optional<std::uint32_t> {
      const auto it = ix.address_by_code.find(std::strtoull(c.c_str(), nullptr, 10));
      if (it == ix.address_by_code.end()) return std::nullopt;
      return it->second;
    };
    if (layers::is_valid_digital_code(*code)) {
      if (const auto item = found(*code)) {
        Place p = address_place(ix, *item, UINT32_MAX);
        p.confidence = 1.0;
        result.places.push_back(std::move(p));
      } else {
        result.message = fmt::format("no address has the digital code {}", *code);
      }
      return result;
    }
    result.message = fmt::format("{} is not a valid digital address code (its check digit does not match)", *code);
    std::vector<std::string> candidates;
    for (std::size_t i = 0; i < code->size(); ++i) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == (*code)[i]) continue;
        std::string c = *code;
        c[i] = d;
        candidates.push_back(std::move(c));
      }
      if (i + 1 < code->size() && (*code)[i] != (*code)[i + 1]) {
        std::string c = *code;
        std::swap(c[i], c[i + 1]);
        candidates.push_back(std::move(c));
      }
    }
    for (const std::string& c : candidates) {
      if (!layers::is_valid_digital_code(c)) continue;
      if (const auto item = found(c)) {
        result.suggestions.push_back(c);
        Place p = address_place(ix, *item, UINT32_MAX);
        p.match = MatchType::fuzzy;
        p.confidence = 0.5;
        if (result.places.size() < limit) result.places.push_back(std::move(p));
      }
    }
    return result;
  }

  Searcher s{ix, query_tokens(query), {}};
  if (s.tokens.empty()) throw BadRequestError("query is empty");
  s.used.assign(s.tokens.size(), false);

  // Plus codes: a full one anywhere, or a short one with a locality.
  {
    std::string word;
    const std::string text(query);
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find_first_of(" ,;\t", start);
      if (end == std::string::npos) end = text.size();
      std::string w = text.substr(start, end - start);
      if (w.find('+') != std::string::npos) word = w;
      start = end + 1;
    }
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::optional<std::pair<double, double>> point;  // lat, lon
    if (!word.empty() && layers::is_full_plus_code(word)) {
      const auto area = layers::decode_plus_code(word);
      point = std::make_pair(area.center_lat(), area.center_lon());
    } else if (!word.empty()) {
      // The locality: the best admin mention among the other words.
      for (std::size_t i = 0; i < s.tokens.size(); ++i) {
        std::string upper = s.tokens[i];
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (word.find(upper) != std::string::npos &&
            std::any_of(upper.begin(), upper.end(), [](unsigned char c) { return std::isdigit(c); }))
          s.used[i] = true;
      }
      s.mark_province();
      const auto mentions = s.mentions();
      const Mention* best = nullptr;
      for (const Mention& m : mentions) {
        if (ix.admin[m.entry].kind == AdminKind::district) continue;
        if (best == nullptr || m.score > best->score) best = &m;
      }
      double ref_lat = 18.67, ref_lon = 105.68;  // Vinh, when no locality is named
      if (best != nullptr) {
        const AdminEntry& e = ix.admin[best->entry];
        std::uint32_t u = e.kind == AdminKind::unit
                              ? e.target
                              : (ix.old_units[e.target].units.empty() ? UINT32_MAX : ix.old_units[e.target].units[0]);
        if (u != UINT32_MAX) ref_lat = ix.units[u].lat, ref_lon = ix.units[u].lon;
      }
      point = recover_short_code(word, ref_lat, ref_lon);
    }
    if (point) {
      const auto [lat, lon] = *point;
      // Codes are shared by close addresses: the one whose own code this is, else the nearest.
      std::optional<std::uint32_t> item;
      if (word.size() >= 11 && layers::is_full_plus_code(word)) {
        const std::string wanted = layers::encode_plus_code(lat, lon, 10);
        double best = 1e9;
        for_each_address_near(ix, lon, lat, 20, [&](std::uint32_t i, double d) {
          if (d < best && layers::encode_plus_code(ix.addresses[i].lat, ix.addresses[i].lon, 10) == wanted)
            best = d, item = i;
        });
      }
      if (!item) item = nearest_address(ix, lon, lat, 15);
      if (item) {
        Place p = address_place(ix, *item, UINT32_MAX);
        p.confidence = 0.9;
        result.places.push_back(std::move(p));
      }
      result.places.push_back(point_place(lon, lat, layers::encode_plus_code(lat, lon, 10)));
      if (result.places.size() > limit) result.places.resize(limit);
      return result;
    }
  }

  s.mark_province();

  // Parcel references: "thửa (đất) (số) N" and "tờ (bản đồ) (số) M".
  std::optional<std::int64_t> parcel_no, sheet_no;
  for (std::size_t i = 0; i < s.tokens.size(); ++i) {
    const bool thua = s.tokens[i] == "thua";
    const bool to = s.tokens[i] == "to" && !(i + 1 < s.tokens.size() && s.tokens[i + 1] == "dan");
    if (!thua && !to) continue;
    std::size_t j = i + 1;
    const std::vector<std::string> skip =
        thua ? std::vector<std::string>{"dat", "so"} : std::vector<std::string>{"ban", "do", "so"};
    while (j < s.tokens.size() && std::find(skip.begin(), skip.end(), s.tokens[j]) != skip.end()) ++j;
    if (j >= s.tokens.size() || !is_number(s.tokens[j])) continue;
    (thua ? parcel_no : sheet_no) = std::atoll(s.tokens[j].c_str());
    for (std::size_t k = i; k <= j; ++k) s.used[k] = true;
  }
  const bool parcel_query = parcel_no && sheet_no;

  std::vector<Mention> mentions = s.mentions();
  if (std::none_of(mentions.begin(), mentions.end(),
                   [&](const Mention& m) { return ix.admin[m.entry].kind != AdminKind::district; })) {
    mentions = s.mentions(false);
  }
  // The query in lower case with its tone marks, when it has any (only to break ties between names).
  const bool ascii = std::all_of(query.begin(), query.end(), [](unsigned char ch) { return ch < 0x80; });
  const std::string lowered = ascii ? std::string() : layers::vntext::to_lower(layers::vntext::to_nfc(query));
  // District mentions narrow former communes.
  std::vector<const Mention*> district_mentions;
  for (const Mention& m : mentions) {
    if (ix.admin[m.entry].kind == AdminKind::district) district_mentions.push_back(&m);
  }
  struct Candidate {
    std::vector<std::uint32_t> units;
    std::uint32_t old_unit = UINT32_MAX;
    const Mention* mention = nullptr;
    const Mention* district = nullptr;
    double score = 0;
  };
  std::vector<Candidate> candidates;
  for (const Mention& m : mentions) {
    const AdminEntry& e = ix.admin[m.entry];
    if (e.kind == AdminKind::district) continue;
    Candidate c;
    c.mention = &m;
    c.score = m.score;
    if (e.kind == AdminKind::unit) {
      c.units = {e.target};
    } else {
      c.units = ix.old_units[e.target].units;
      c.old_unit = e.target;
    }
    for (const Mention* d : district_mentions) {
      if (d->end <= m.begin || d->begin >= m.end) {
        const District& district = ix.districts[ix.admin[d->entry].target];
        const bool agrees = e.kind == AdminKind::old_unit ? e.district == ix.admin[d->entry].target
                                                          : std::find(district.units.begin(), district.units.end(),
                                                                      e.target) != district.units.end();
        if (agrees && (c.district == nullptr || d->score > c.district->score)) c.district = d;
      }
    }
    // Names that fold alike (Châu Bình, Châu Bính): the one written with its tone marks wins a tie.
    if (!lowered.empty() && !e.lower.empty() && lowered.find(e.lower) != std::string::npos) c.score += 0.5;
    // Districts ended in 2025: a query naming one is written in the old form, so a former commune of that
    // district beats a 2025 unit of the same name ("Xã Đông Thành, Huyện Yên Thành" is the old Đông Thành).
    if (c.district != nullptr)
      c.score += e.kind == AdminKind::old_unit ? 2.5 : 2;
    else if (!district_mentions.empty() && e.kind == AdminKind::old_unit)
      c.score -= 0.5;
    candidates.push_back(std::move(c));
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  if (candidates.size() > 6) candidates.resize(6);
  // Without any named unit the whole province is the scope (a district narrows it); it is also the
  // last resort when the named units hold nothing that fits.
  Candidate province_wide;
  province_wide.score = -4;
  if (!district_mentions.empty()) {
    province_wide.district = district_mentions[0];
    province_wide.units = ix.districts[ix.admin[province_wide.district->entry].target].units;
  } else {
    for (std::uint32_t u = 0; u < ix.units.size(); ++u) province_wide.units.push_back(u);
  }
  const bool named = !candidates.empty();
  if (!named) candidates.push_back(province_wide);

  std::vector<std::pair<double, Place>> answers;
  if (parcel_query) {
    for (const Candidate& c : candidates) {
      // Sheets restart per former commune: a former commune names one; a 2025 unit all its predecessors.
      std::vector<std::string> old_codes;
      if (c.old_unit != UINT32_MAX) old_codes.push_back(ix.old_units[c.old_unit].code);
      for (std::uint32_t u : c.units) {
        for (std::uint32_t o : ix.units[u].old_units) {
          if (c.old_unit == UINT32_MAX) old_codes.push_back(ix.old_units[o].code);
        }
      }
      for (const std::string& code : old_codes) {
        const auto it = ix.parcel_by_key.find(fmt::format("{}/{}/{}", code, *sheet_no, *parcel_no));
        if (it == ix.parcel_by_key.end()) continue;
        Place p = parcel_place(ix, it->second);
        p.match = c.old_unit != UINT32_MAX ? MatchType::old_name : MatchType::exact;
        if (c.mention != nullptr && c.mention->fuzzy > 0) p.match = MatchType::fuzzy;
        p.confidence = c.mention == nullptr ? 0.5 : 0.95;
        answers.emplace_back(
            c.score + (code == (c.old_unit != UINT32_MAX ? ix.old_units[c.old_unit].code : code) ? 0 : -0.1),
            std::move(p));
      }
    }
  }
  // One reading of the query: the address part inside the candidate's units.
  const auto evaluate = [&](const Candidate& c) {
    {
      std::vector<bool> taken = s.used;
      if (c.mention != nullptr) {
        for (std::size_t i = c.mention->begin; i < c.mention->end; ++i) taken[i] = true;
      }
      if (c.district != nullptr) {
        for (std::size_t i = c.district->begin; i < c.district->end; ++i) taken[i] = true;
      }
      Searcher::Answer a = s.read_address(c.units, taken, c.old_unit);
      if (a.kind == Searcher::Answer::none) return;
      const double score = c.score + a.score;
      Place p;
      switch (a.kind) {
        case Searcher::Answer::address:
          p = address_place(ix, a.item, c.old_unit);
          break;
        case Searcher::Answer::street:
          p = street_place(ix, a.item, c.old_unit);
          break;
        case Searcher::Answer::commune:
          p = unit_place(ix, a.item, c.old_unit);
          break;
        default:
          return;
      }
      if (c.mention == nullptr && a.kind == Searcher::Answer::commune) return;
      const int fuzzy = a.fuzzy + (c.mention != nullptr ? c.mention->fuzzy : 0);
      const bool relaxed = c.mention != nullptr && c.mention->relaxed;
      if (a.fallback || relaxed)
        p.match = MatchType::fallback;
      else if (fuzzy > 0)
        p.match = MatchType::fuzzy;
      else if (c.old_unit != UINT32_MAX)
        p.match = MatchType::old_name;
      else
        p.match = MatchType::exact;
      double confidence = a.fallback || relaxed ? 0.5 : 1.0;
      confidence -= 0.1 * fuzzy;
      if (c.mention == nullptr) confidence -= 0.2;
      p.confidence = std::clamp(confidence, 0.05, 1.0);
      answers.emplace_back(score, std::move(p));
    }
  };
  if (!parcel_query) {
    for (const Candidate& c : candidates) evaluate(c);
  }
  if (answers.empty() && named && !parcel_query) evaluate(province_wide);
  // A former district alone ("Huyện Nghi Lộc", "Vinh"): the 2025 units that took its communes.
  const auto district_alone = [&]() {
    const Mention& m = *district_mentions[0];
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
      if (!s.used[i] && (i < m.begin || i >= m.end) && !is_filler(s.tokens[i])) return false;
    }
    return true;
  };
  if (answers.empty() && !parcel_query && !district_mentions.empty() && district_alone()) {
    const District& district = ix.districts[ix.admin[district_mentions[0]->entry].target];
    for (std::uint32_t u : district.units) {
      Place p = unit_place(ix, u, UINT32_MAX);
      p.former_name = district.full_name;
      p.admin.former_district = district.full_name;
      p.address["county"] = district.full_name;
      p.display_name += fmt::format(" (trước đây: thuộc {})", district.full_name);
      p.match = MatchType::fallback;
      p.confidence = 0.3;
      answers.emplace_back(-10, std::move(p));
    }
  }
  std::stable_sort(answers.begin(), answers.end(), [&](const auto& a, const auto& b) {
    if (options.viewbox) {
      const bool ia = in_view(a.second, options), ib = in_view(b.second, options);
      if (ia != ib) return ia;
    }
    return a.first > b.first;
  });
  std::unordered_set<std::string> seen;
  for (auto& [score, place] : answers) {
    if (options.bounded && !in_view(place, options)) continue;
    if (!seen.insert(place.layer + ":" + place.id).second) continue;
    result.places.push_back(std::move(place));
    if (result.places.size() >= limit) break;
  }
  return result;
}

SearchResult Geocoder::search(const StructuredQuery& query, const SearchOptions& options) {
  // The fields, joined in the order people write them, read as free text.
  std::string text;
  for (const std::string* part : {&query.street, &query.city, &query.county, &query.state}) {
    if (part->empty()) continue;
    if (!text.empty()) text += ", ";
    text += *part;
  }
  // A postcode (2020, per former commune) stands for its commune when no city is given.
  if (query.city.empty() && !query.postalcode.empty()) {
    const auto index = current_index();
    std::string code;
    for (char c : query.postalcode) {
      if (std::isdigit(static_cast<unsigned char>(c)) != 0) code += c;
    }
    const auto it = index->old_unit_by_postcode.find(code);
    if (it != index->old_unit_by_postcode.end() && it->second != UINT32_MAX) {
      text += (text.empty() ? "" : ", ") + index->old_units[it->second].full_name;
    }
  }
  if (text.empty()) throw BadRequestError("structured query: no field given");
  check_query(text);
  return search(std::string_view(text), options);
}

std::vector<Place> Geocoder::autocomplete(std::string_view prefix, std::size_t limit) {
  check_query(prefix);
  const auto index = current_index();
  const IndexData& ix = *index;
  std::vector<Place> out;
  limit = std::max<std::size_t>(1, limit);
  // A query that already reads as complete answers first.
  try {
    SearchOptions options;
    options.limit = limit;
    for (Place& p : search(prefix, options).places) {
      if (p.confidence >= 0.8) out.push_back(std::move(p));
    }
  } catch (const BadRequestError&) {
  }
  const Tokens tokens = query_tokens(prefix);
  if (tokens.empty()) return out;
  const bool open_end = !prefix.empty() && std::isspace(static_cast<unsigned char>(prefix.back())) == 0;
  // Per query word, which vocabulary words it can stand for (the last one may be a prefix).
  std::vector<bool> filler(tokens.size());
  std::vector<std::vector<std::uint8_t>> fits(tokens.size(), std::vector<std::uint8_t>(ix.vocabulary.size(), 0));
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    filler[k] = is_filler(tokens[k]);
    const bool partial = open_end && k + 1 == tokens.size();
    for (std::size_t w = 0; w < ix.vocabulary.size(); ++w) {
      bool fuzzy = false;
      fits[k][w] =
          (partial ? ix.vocabulary[w].starts_with(tokens[k]) : token_matches(tokens[k], ix.vocabulary[w], fuzzy)) ? 1
                                                                                                                  : 0;
    }
  }
  // How many of the name's own words the query left unsaid (fewer ranks first), or -1 when a query
  // word is in neither the name nor `extra` (its unit's name).
  using Words = std::vector<std::uint32_t>;
  const auto unsaid = [&](const Words& own, const Words* extra) -> int {
    std::uint64_t said = 0;  // bit w: word w of own, then of extra, already used by the query
    const std::size_t total = std::min<std::size_t>(64, own.size() + (extra != nullptr ? extra->size() : 0));
    for (std::size_t k = 0; k < tokens.size(); ++k) {
      bool hit = false;
      for (std::size_t w = 0; w < total && !hit; ++w) {
        if ((said >> w) & 1u) continue;
        if (fits[k][w < own.size() ? own[w] : (*extra)[w - own.size()]] != 0) {
          said |= std::uint64_t{1} << w;
          hit = true;
        }
      }
      if (!hit && !filler[k]) return -1;
    }
    int left = 0;
    for (std::size_t w = 0; w < own.size() && w < 64; ++w) left += ((said >> w) & 1u) != 0 ? 0 : 1;
    return left;
  };
  // Candidates as (unsaid words, kind, index); places are made for the few kept only.
  enum Kind { unit, old_unit, street };
  std::vector<std::tuple<int, Kind, std::uint32_t>> found;
  for (std::uint32_t u = 0; u < ix.units.size(); ++u) {
    if (const int left = unsaid(ix.units[u].full_words, nullptr); left >= 0) found.emplace_back(left, unit, u);
  }
  for (std::uint32_t o = 0; o < ix.old_units.size(); ++o) {
    if (ix.old_units[o].units.empty()) continue;
    if (const int left = unsaid(ix.old_units[o].full_words, nullptr); left >= 0) found.emplace_back(left, old_unit, o);
  }
  for (std::uint32_t i = 0; i < ix.streets.size(); ++i) {
    const Street& st = ix.streets[i];
    if (st.name.empty()) continue;
    // The street's words, then its unit's.
    const Words* extra = st.unit != UINT32_MAX ? &ix.units[st.unit].full_words : nullptr;
    if (const int left = unsaid(st.words, extra); left >= 0) found.emplace_back(left, street, i);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::unordered_set<std::string> seen;
  for (const Place& p : out) seen.insert(p.layer + ":" + p.id);
  for (const auto& [left, kind, item] : found) {
    if (out.size() >= limit) break;
    Place p = kind == unit       ? unit_place(ix, item, UINT32_MAX)
              : kind == old_unit ? unit_place(ix, ix.old_units[item].units[0], item)
                                 : street_place(ix, item, UINT32_MAX);
    if (!seen.insert(p.layer + ":" + p.id).second) continue;
    if (p.match != MatchType::old_name) p.match = MatchType::fuzzy;
    p.confidence = std::max(0.3, 0.8 - 0.1 * left);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Place> Geocoder::reverse(double lon, double lat, double radius_m) {
  if (!std::isfinite(lon) || !std::isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    throw BadRequestError(fmt::format("invalid coordinates: lon {} lat {}", lon, lat));
  }
  if (!std::isfinite(radius_m) || radius_m < 0) throw BadRequestError("invalid radius");
  radius_m = std::min(radius_m, 1000.0);
  const auto index = current_index();
  const IndexData& ix = *index;
  std::vector<Place> out;
  if (const auto a = nearest_address(ix, lon, lat, radius_m)) {
    Place p = address_place(ix, *a, UINT32_MAX);
    p.distance_m = distance_m(lon, lat, p.lon, p.lat);
    p.confidence = std::clamp(1.0 - *p.distance_m / (2 * std::max(radius_m, 1.0)), 0.1, 1.0);
    out.push_back(std::move(p));
  }
  if (const auto parcel = containing_parcel(ix, lon, lat)) {
    Place p = parcel_place(ix, *parcel);
    p.distance_m = 0.0;
    p.confidence = 1.0;
    out.push_back(std::move(p));
  }
  if (const auto u = containing_unit(ix, lon, lat)) {
    Place p = unit_place(ix, *u, UINT32_MAX);
    // The former commune: the old_communes polygon holding the point where imported, else that of
    // the nearest address of the unit, when one is near enough to tell.
    std::uint32_t former = UINT32_MAX;
    for (std::uint32_t o : ix.units[*u].old_units) {
      const OldUnit& old = ix.old_units[o];
      if (!old.rings.empty() && old.bbox.contains(lon, lat) && rings_contain(old.rings, lon, lat)) former = o;
    }
    if (const auto a = nearest_address(ix, lon, lat, 300); former == UINT32_MAX && a && ix.addresses[*a].unit == *u) {
      former = ix.addresses[*a].old_unit;
    }
    if (former != UINT32_MAX) set_admin(ix, p, *u, former);
    p.distance_m = 0.0;
    p.confidence = 1.0;
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<Place> Geocoder::lookup(std::string_view id) {
  const auto colon = id.find(':');
  if (colon == std::string_view::npos) throw BadRequestError(fmt::format("id '{}' is not layer:key", id));
  const std::string layer(id.substr(0, colon));
  const std::string key(id.substr(colon + 1));
  const auto index = current_index();
  const IndexData& ix = *index;
  if (layer == "addresses") {
    if (const auto it = ix.address_by_id.find(key); it != ix.address_by_id.end())
      return address_place(ix, it->second, UINT32_MAX);
  } else if (layer == "streets") {
    if (const auto it = ix.street_by_id.find(key); it != ix.street_by_id.end())
      return street_place(ix, it->second, UINT32_MAX);
  } else if (layer == "parcels") {
    if (const auto it = ix.parcel_by_key.find(key); it != ix.parcel_by_key.end()) return parcel_place(ix, it->second);
  } else if (layer == "communes") {
    if (const auto it = ix.unit_by_code.find(key); it != ix.unit_by_code.end())
      return unit_place(ix, it->second, UINT32_MAX);
  } else if (layer == "old_communes" || layer == "commune_mapping") {
    if (const auto it = ix.old_by_code.find(key);
        it != ix.old_by_code.end() && !ix.old_units[it->second].units.empty()) {
      return unit_place(ix, ix.old_units[it->second].units[0], it->second);
    }
  } else {
    throw BadRequestError(
        fmt::format("unknown layer '{}' in id (addresses, streets, parcels, communes, old_communes)", layer));
  }
  return std::nullopt;
}

}  // namespace bandoso::geocoder
