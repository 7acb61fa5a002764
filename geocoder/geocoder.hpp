#pragma once
// The geocoder: an in-memory index built from the store (communes and their former names, streets,
// addresses with their digital and plus codes, parcels), rebuilt in the background and swapped in when
// the data version changes. Forward search (free text, structured, autocomplete), reverse, lookup.
// It knows neither HTTP nor SQL: the HTTP front (http/) and `bandoso geocode` call it.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "layers/core/geometry.hpp"
#include "layers/core/store.hpp"

namespace bandoso::geocoder {

inline constexpr std::size_t kMaxQueryBytes = 256;

// How a result was found.
enum class MatchType { exact, fuzzy, old_name, fallback };
std::string_view to_string(MatchType type);

// The administrative units of a result: the 2025 commune/ward, and the former commune and district
// (before 1 July 2025) where the store knows them.
struct AdminUnits {
  std::string commune_code;  // 2025 code, e.g. "16681"
  std::string commune;       // full name, e.g. "Phường Thành Vinh"
  std::string former_commune_code;
  std::string former_commune;   // e.g. "Phường Hưng Bình"
  std::string former_district;  // e.g. "Thành phố Vinh"
  std::string province = "Nghệ An";
};

struct Place {
  std::string layer;  // addresses, streets, parcels, communes, old_communes
  std::string id;     // the feature's key (parcels: "old_commune_code/sheet/parcel")
  std::string kind;   // address, street, parcel, commune
  std::string name;   // e.g. "150 Nguyễn Thị Định", "Phường Thành Vinh", "Thửa 32, tờ 17"
  // The name with its units, in the new form; when the query used a former unit, it is named too:
  // "Phường Thành Vinh (trước đây: Phường Hưng Bình, Thành phố Vinh)".
  std::string display_name;
  std::string type;  // Nominatim-like addresstype: house, road, ward/village (phường/xã), parcel
  double lon = 0;
  double lat = 0;
  layers::BBox bbox;
  double confidence = 0;  // 0..1
  MatchType match = MatchType::exact;
  AdminUnits admin;
  // Address parts (Nominatim addressdetails keys): house_number, road, hamlet, suburb (the commune),
  // city_district (the former commune), county (the former district), state, postcode, country,
  // country_code.
  std::map<std::string, std::string> address;
  std::string digital_code;          // addresses
  std::string plus_code;             // addresses
  std::optional<double> distance_m;  // reverse: from the asked point
  // Kept for the first API form: the former unit's name when the query named one.
  std::string former_name;
};

struct SearchOptions {
  std::size_t limit = 10;
  std::optional<layers::BBox> viewbox;  // prefer (or, when bounded, keep only) results inside
  bool bounded = false;
};

// Nominatim's structured search fields.
struct StructuredQuery {
  std::string street;  // house number and street
  std::string city;    // commune/ward (new or former)
  std::string county;  // former district
  std::string state;   // province
  std::string postalcode;
};

struct SearchResult {
  std::vector<Place> places;
  // Set when the query is a digital code whose check digit is wrong: the message, and the valid codes
  // one substitution or one adjacent transposition away.
  std::string message;
  std::vector<std::string> suggestions;
};

struct IndexStatus {
  std::int64_t data_version = 0;
  std::size_t entries = 0;
  std::size_t bytes = 0;  // approximate memory held by the index
  double build_seconds = 0;
};

class Geocoder {
 public:
  explicit Geocoder(const layers::Store& store);
  ~Geocoder();
  Geocoder(const Geocoder&) = delete;
  Geocoder& operator=(const Geocoder&) = delete;

  // Free text: addresses (new or old form, any order, abbreviations, no tone marks, one typo per word
  // of 5+ letters), streets, communes (new or former), digital codes, plus codes, parcel references.
  // Throws BadRequestError for an empty, over-long or non-UTF-8 query.
  [[nodiscard]] SearchResult search(std::string_view query, const SearchOptions& options = {});
  [[nodiscard]] SearchResult search(const StructuredQuery& query, const SearchOptions& options = {});
  // Prefix search as the user types: the last word may be incomplete.
  [[nodiscard]] std::vector<Place> autocomplete(std::string_view prefix, std::size_t limit = 10);
  // The nearest address within `radius_m`, the parcel containing the point and the commune (new, with
  // the former one), each when present, nearest first. Throws BadRequestError for invalid coordinates.
  [[nodiscard]] std::vector<Place> reverse(double lon, double lat, double radius_m = 50);
  // By our id: "addresses:DA000123", "parcels:16681/21/222", "communes:16681", ...
  [[nodiscard]] std::optional<Place> lookup(std::string_view id);
  [[nodiscard]] IndexStatus status();

 private:
  struct Index;  // geocoder/index.hpp: read-only once built, shared by every searching thread
  // The index of the store's current data version: built in the calling thread the first time; when
  // the version changes the old index keeps answering while start_rebuild() builds the new one in the
  // background and swaps it in.
  std::shared_ptr<const Index> current_index();
  void start_rebuild(std::int64_t version);  // with mutex_ held

  const layers::Store& store_;
  std::mutex mutex_;  // guards index_ and the rebuild thread
  std::shared_ptr<const Index> index_;
  std::atomic<bool> rebuilding_{false};
  std::thread rebuild_;
};

}  // namespace bandoso::geocoder
