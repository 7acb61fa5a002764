#pragma once
// The geocoder: an in-memory index built from the store, rebuilt when the data version changes.
// This first form finds communes (2025 units, and former communes answered with their successor)
// by name, ignoring case, tone marks and đ/d; later forms add addresses, codes and parcels.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "layers/core/geometry.hpp"
#include "layers/core/store.hpp"

namespace bandoso::geocoder {

inline constexpr std::size_t kMaxQueryBytes = 256;

struct Place {
  std::string layer;  // "communes", ...
  std::string id;     // the feature's key
  std::string name;   // e.g. "Phường Thành Vinh"
  std::string display_name;  // the name with its context, e.g. "..., (trước đây: Phường Hưng Bình, Thành phố Vinh)"
  std::string type;         // "Phường", "Xã"
  std::string former_name;  // set when the query named a former unit
  double lon = 0;           // a point inside the unit
  double lat = 0;
  layers::BBox bbox;
  double confidence = 0;   // 0..1
  std::string match_type;  // exact, old-name
};

class Geocoder {
 public:
  explicit Geocoder(const layers::Store& store);
  ~Geocoder();
  Geocoder(const Geocoder&) = delete;
  Geocoder& operator=(const Geocoder&) = delete;

  // Throws BadRequestError for an empty, over-long or non-UTF-8 query.
  [[nodiscard]] std::vector<Place> search(std::string_view query, std::size_t limit = 10);

 private:
  struct Index;
  std::shared_ptr<const Index> current_index();

  const layers::Store& store_;
  std::mutex mutex_;
  std::shared_ptr<const Index> index_;
};

}  // namespace bandoso::geocoder
