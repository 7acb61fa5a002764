#include "data-import/demo_province.hpp"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <fmt/format.h>
#include <gdal_priv.h>
#include <geos_c.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <memory>
#include <mutex>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "layers/core/crs.hpp"
#include "layers/core/digital_code.hpp"
#include "layers/core/error.hpp"
#include "layers/core/plus_code.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::data_import {

namespace {

// ---------------------------------------------------------------------------------------------------
// Facts: a small table of real 2025 units, their predecessors (state 01/03/2025) and old districts
// (GSO codes and names; label points and areas are approximate). Everything else is synthetic.

enum class Profile { urban, town, rural };

struct DistrictFact {
  std::string_view code, type, name, postcode_prefix;
};

constexpr std::array<DistrictFact, 8> kDistricts{{
    {"412", "Thành phố", "Vinh", "431"},
    {"414", "Thị xã", "Thái Hoà", "448"},
    {"422", "Huyện", "Con Cuông", "443"},
    {"425", "Huyện", "Diễn Châu", "434"},
    {"427", "Huyện", "Đô Lương", "441"},
    {"429", "Huyện", "Nghi Lộc", "433"},
    {"430", "Huyện", "Nam Đàn", "446"},
    {"431", "Huyện", "Hưng Nguyên", "445"},
}};

struct UnitFact {
  std::string_view code, type, name;
  double lon, lat, area_km2;
  Profile profile;
  int base_addresses;          // addresses at scale 1
  bool parcels;                // a cadastral export exists for this unit
  bool field_strips;           // its parcels include field strips behind the houses
  std::string_view main_road;  // route name of the main road of rural units
};

constexpr std::array<UnitFact, 19> kUnits{{
    {"16681", "Phường", "Thành Vinh", 105.65568, 18.670942, 15.54, Profile::urban, 2800, true, false, ""},
    {"16690", "Phường", "Trường Vinh", 105.700711, 18.670395, 34.22, Profile::urban, 3300, true, false, ""},
    {"16702", "Phường", "Vinh Phú", 105.689201, 18.725021, 23.04, Profile::urban, 3000, false, false, ""},
    {"16708", "Phường", "Vinh Lộc", 105.715212, 18.725051, 38.86, Profile::urban, 3200, true, false, ""},
    {"17920", "Phường", "Vinh Hưng", 105.654085, 18.723983, 25.47, Profile::urban, 3300, true, false, ""},
    {"16732", "Phường", "Cửa Lò", 105.776363, 18.796788, 29.09, Profile::urban, 3300, true, false, ""},
    {"16939", "Phường", "Thái Hoà", 105.423487, 19.308382, 27.09, Profile::town, 1500, true, false, ""},
    {"17827", "Xã", "Nghi Lộc", 105.63995, 18.771009, 33.31, Profile::rural, 1000, true, true, "Quốc lộ 1A"},
    {"17878", "Xã", "Đông Lộc", 105.692272, 18.788385, 29.32, Profile::rural, 450, false, false, "Đường tỉnh 535"},
    {"18001", "Xã", "Hưng Nguyên", 105.632175, 18.670858, 46.14, Profile::rural, 450, false, false, "Quốc lộ 46"},
    {"18028", "Xã", "Hưng Nguyên Nam", 105.606827, 18.628476, 35.77, Profile::rural, 450, false, false,
     "Đường tỉnh 542"},
    {"18040", "Xã", "Lam Thành", 105.663645, 18.622932, 39.67, Profile::rural, 450, false, false, "Đường tỉnh 558"},
    {"18007", "Xã", "Yên Trung", 105.590561, 18.761207, 37.74, Profile::rural, 450, false, false, "Đường tỉnh 551"},
    {"17971", "Xã", "Kim Liên", 105.577537, 18.675059, 61.08, Profile::rural, 450, false, false, "Đường tỉnh 540"},
    {"17950", "Xã", "Vạn An", 105.502931, 18.69466, 56.37, Profile::rural, 450, false, false, "Quốc lộ 46"},
    {"17935", "Xã", "Nam Đàn", 105.462013, 18.751517, 67.6, Profile::rural, 450, false, false, "Quốc lộ 15"},
    {"17464", "Xã", "Diễn Châu", 105.590955, 18.985071, 22.21, Profile::rural, 450, false, false, "Quốc lộ 1A"},
    {"17662", "Xã", "Đô Lương", 105.302107, 18.894948, 50.06, Profile::rural, 450, false, false, "Quốc lộ 7"},
    {"17254", "Xã", "Con Cuông", 104.864027, 19.037517, 155.45, Profile::rural, 450, false, false, "Quốc lộ 7"},
}};

struct OldCommuneFact {
  std::string_view code, type, name, district_code, new_code;
};

// The GSO conversion table for the units above; all merged whole ("Nhập toàn bộ").
constexpr std::array<OldCommuneFact, 85> kOldCommunes{{
    {"16681", "Phường", "Quang Trung", "412", "16681"}, {"16663", "Phường", "Đông Vĩnh", "412", "16681"},
    {"16669", "Phường", "Lê Lợi", "412", "16681"},      {"16672", "Phường", "Hưng Bình", "412", "16681"},
    {"16678", "Phường", "Cửa Nam", "412", "16681"},     {"18013", "Xã", "Hưng Chính", "412", "16681"},
    {"16690", "Phường", "Trường Thi", "412", "16690"},  {"16673", "Phường", "Hưng Phúc", "412", "16690"},
    {"16675", "Phường", "Hưng Dũng", "412", "16690"},   {"16693", "Phường", "Bến Thủy", "412", "16690"},
    {"16699", "Phường", "Trung Đô", "412", "16690"},    {"16711", "Xã", "Hưng Hòa", "412", "16690"},
    {"16714", "Phường", "Vinh Tân", "412", "16690"},    {"16702", "Phường", "Nghi Phú", "412", "16702"},
    {"16666", "Phường", "Hà Huy Tập", "412", "16702"},  {"17914", "Xã", "Nghi Ân", "412", "16702"},
    {"17923", "Phường", "Nghi Đức", "412", "16702"},    {"16708", "Phường", "Hưng Lộc", "412", "16708"},
    {"17902", "Xã", "Nghi Phong", "412", "16708"},      {"17905", "Xã", "Nghi Xuân", "412", "16708"},
    {"17917", "Xã", "Phúc Thọ", "412", "16708"},        {"17926", "Xã", "Nghi Thái", "412", "16708"},
    {"17920", "Xã", "Nghi Kim", "412", "17920"},        {"16670", "Phường", "Quán Bàu", "412", "17920"},
    {"16705", "Phường", "Hưng Đông", "412", "17920"},   {"17908", "Xã", "Nghi Liên", "412", "17920"},
    {"16732", "Phường", "Nghi Hương", "412", "16732"},  {"16717", "Phường", "Nghi Thủy", "412", "16732"},
    {"16720", "Phường", "Nghi Tân", "412", "16732"},    {"16723", "Phường", "Thu Thủy", "412", "16732"},
    {"16726", "Phường", "Nghi Hòa", "412", "16732"},    {"16729", "Phường", "Nghi Hải", "412", "16732"},
    {"16735", "Phường", "Nghi Thu", "412", "16732"},    {"16939", "Phường", "Hòa Hiếu", "414", "16939"},
    {"16993", "Phường", "Quang Phong", "414", "16939"}, {"17003", "Phường", "Long Sơn", "414", "16939"},
    {"17827", "Thị trấn", "Quán Hành", "429", "17827"}, {"17893", "Xã", "Nghi Trung", "429", "17827"},
    {"17899", "Xã", "Diên Hoa", "429", "17827"},        {"17911", "Xã", "Nghi Vạn", "429", "17827"},
    {"17878", "Xã", "Khánh Hợp", "429", "17878"},       {"17890", "Xã", "Nghi Thạch", "429", "17878"},
    {"17896", "Xã", "Thịnh Trường", "429", "17878"},    {"18001", "Thị trấn", "Hưng Nguyên", "431", "18001"},
    {"18010", "Xã", "Hưng Tây", "431", "18001"},        {"18016", "Xã", "Hưng Đạo", "431", "18001"},
    {"18022", "Xã", "Thịnh Mỹ", "431", "18001"},        {"18028", "Xã", "Thông Tân", "431", "18028"},
    {"18025", "Xã", "Hưng Lĩnh", "431", "18028"},       {"18043", "Xã", "Long Xá", "431", "18028"},
    {"18055", "Xã", "Xuân Lam", "431", "18028"},        {"18040", "Xã", "Phúc Lợi", "431", "18040"},
    {"18037", "Xã", "Hưng Nghĩa", "431", "18040"},      {"18052", "Xã", "Châu Nhân", "431", "18040"},
    {"18064", "Xã", "Hưng Thành", "431", "18040"},      {"18007", "Xã", "Hưng Yên Nam", "431", "18007"},
    {"18004", "Xã", "Hưng Trung", "431", "18007"},      {"18008", "Xã", "Hưng Yên Bắc", "431", "18007"},
    {"17971", "Xã", "Kim Liên", "430", "17971"},        {"17956", "Xã", "Nam Giang", "430", "17971"},
    {"17962", "Xã", "Hùng Tiến", "430", "17971"},       {"17980", "Xã", "Xuân Hồng", "430", "17971"},
    {"17983", "Xã", "Nam Cát", "430", "17971"},         {"17950", "Thị trấn", "Nam Đàn", "430", "17950"},
    {"17959", "Xã", "Xuân Hòa", "430", "17950"},        {"17968", "Xã", "Thượng Tân Lộc", "430", "17950"},
    {"17935", "Xã", "Nghĩa Thái", "430", "17935"},      {"17932", "Xã", "Nam Hưng", "430", "17935"},
    {"17938", "Xã", "Nam Thanh", "430", "17935"},       {"17464", "Thị trấn", "Diễn Thành", "425", "17464"},
    {"17452", "Xã", "Ngọc Bích", "425", "17464"},       {"17461", "Xã", "Diễn Hoa", "425", "17464"},
    {"17467", "Xã", "Diễn Phúc", "425", "17464"},       {"17662", "Xã", "Yên Sơn", "427", "17662"},
    {"17617", "Thị trấn", "Đô Lương", "427", "17662"},  {"17638", "Xã", "Bắc Sơn", "427", "17662"},
    {"17650", "Xã", "Đặng Sơn", "427", "17662"},        {"17656", "Xã", "Nam Sơn", "427", "17662"},
    {"17659", "Xã", "Lưu Sơn", "427", "17662"},         {"17665", "Xã", "Văn Sơn", "427", "17662"},
    {"17668", "Xã", "Đà Sơn", "427", "17662"},          {"17683", "Xã", "Thịnh Sơn", "427", "17662"},
    {"17254", "Thị trấn", "Trà Lân", "422", "17254"},   {"17251", "Xã", "Chi Khê", "422", "17254"},
    {"17257", "Xã", "Yên Khê", "422", "17254"},
}};

struct LandUseFact {
  std::string_view code, name;
};

// TT 25/28-2014 codes (names as in the circular); the demo's parcels use a subset, combined with '+'.
constexpr std::array<LandUseFact, 21> kLandUseCodes{{
    {"ODT", "Đất ở tại đô thị"},
    {"ONT", "Đất ở tại nông thôn"},
    {"CLN", "Đất trồng cây lâu năm"},
    {"LUC", "Đất chuyên trồng lúa nước"},
    {"LUK", "Đất trồng lúa nước còn lại"},
    {"BHK", "Đất bằng trồng cây hàng năm khác"},
    {"NTS", "Đất nuôi trồng thủy sản"},
    {"TMD", "Đất thương mại, dịch vụ"},
    {"SKC", "Đất cơ sở sản xuất phi nông nghiệp"},
    {"TSC", "Đất xây dựng trụ sở cơ quan"},
    {"DGT", "Đất giao thông"},
    {"DTL", "Đất thủy lợi"},
    {"DGD", "Đất xây dựng cơ sở giáo dục và đào tạo"},
    {"DYT", "Đất xây dựng cơ sở y tế"},
    {"DVH", "Đất xây dựng cơ sở văn hóa"},
    {"DCH", "Đất chợ"},
    {"TON", "Đất cơ sở tôn giáo"},
    {"NTD", "Đất làm nghĩa trang, nghĩa địa, nhà tang lễ, nhà hỏa táng"},
    {"SON", "Đất sông, ngòi, kênh, rạch, suối"},
    {"MNC", "Đất có mặt nước chuyên dùng"},
    {"BCS", "Đất bằng chưa sử dụng"},
}};

// Street names (people and places commemorated across Vietnam). None starts a word with a capital
// carrying a tone mark: TCVN3 (VN3) cannot hold those, and the names reach the parcels' DBF.
constexpr std::array<std::string_view, 121> kStreetNames{{
    "Lê Lợi",
    "Quang Trung",
    "Trần Phú",
    "Lê Duẩn",
    "Nguyễn Văn Cừ",
    "Phan Bội Châu",
    "Nguyễn Du",
    "Trường Chinh",
    "Hồ Tùng Mậu",
    "Lê Hồng Phong",
    "Nguyễn Thị Minh Khai",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Lý Thường Kiệt",
    "Hà Huy Tập",
    "Phạm Hồng Thái",
    "Nguyễn Sinh Sắc",
    "Hoàng Thị Loan",
    "Mai Hắc Đế",
    "Đinh Công Tráng",
    "Lê Mao",
    "Nguyễn Cảnh Chân",
    "Đặng Thai Mai",
    "Phong Định Cảng",
    "Nguyễn Phong Sắc",
    "Tôn Thất Tùng",
    "Hồ Xuân Hương",
    "Nguyễn Xí",
    "Phùng Chí Kiên",
    "Lê Viết Thuật",
    "Nguyễn Trường Tộ",
    "Kim Đồng",
    "Võ Thị Sáu",
    "Nguyễn Đức Cảnh",
    "Tuệ Tĩnh",
    "Hải Thượng Lãn Ông",
    "Lý Tự Trọng",
    "Trần Quang Diệu",
    "Nguyễn Huy Tưởng",
    "Đào Tấn",
    "Phan Đình Phùng",
    "Ngô Đức Kế",
    "Đặng Dung",
    "Đặng Tất",
    "Cao Thắng",
    "Bùi Thị Xuân",
    "Nguyễn Biểu",
    "Hồ Quý Ly",
    "Lê Văn Tám",
    "Nguyễn Thái Học",
    "Tô Hiến Thành",
    "Chu Văn An",
    "Lương Thế Vinh",
    "Trần Nhân Tông",
    "Lê Thánh Tông",
    "Nguyễn Công Trứ",
    "Hà Tôn Quyền",
    "Lê Quý Đôn",
    "Nguyễn Gia Thiều",
    "Phan Huy Chú",
    "Nguyễn Khuyến",
    "Tú Xương",
    "Xuân Diệu",
    "Huy Cận",
    "Hoàng Văn Thụ",
    "Trần Khánh Dư",
    "Yết Kiêu",
    "Dã Tượng",
    "Phạm Ngũ Lão",
    "Trần Bình Trọng",
    "Lý Nam Đế",
    "Ngô Quyền",
    "Đinh Tiên Hoàng",
    "Lê Đại Hành",
    "Lý Công Uẩn",
    "Trần Quốc Toản",
    "Hai Bà Trưng",
    "Bà Triệu",
    "Nguyễn Viết Xuân",
    "Trần Văn Ơn",
    "Nguyễn Văn Trỗi",
    "Lê Ninh",
    "Nguyễn Tiềm",
    "Hồng Bàng",
    "Văn Cao",
    "Tố Hữu",
    "Nguyễn Sỹ Sách",
    "Phan Chu Trinh",
    "Huỳnh Thúc Kháng",
    "Đào Duy Từ",
    "Phan Thúc Trực",
    "Nguyễn Kiệm",
    "Lê Hoàn",
    "Thái Phiên",
    "Trần Cao Vân",
    "Hoàng Hoa Thám",
    "Nguyễn Tất Thành",
    "Lê Lai",
    "Đội Cung",
    "Nguyễn Chích",
    "Phạm Đình Toái",
    "Lê Khôi",
    "Trần Đăng Ninh",
    "Nguyễn Hữu Thọ",
    "Võ Nguyên Giáp",
    "Lê Văn Hưu",
    "Ngô Sỹ Liên",
    "Trần Thủ Độ",
    "Lý Thái Tổ",
    "Mạc Đĩnh Chi",
    "Lạc Long Quân",
    "Âu Cơ",
    "An Dương Vương",
    "Nguyễn Hoàng",
    "Nguyễn Lương Bằng",
    "Tạ Quang Bửu",
    "Trần Đại Nghĩa",
    "Hồ Học Lãm",
    "Phan Văn Trị",
    "Nguyễn Thiếp",
    "Đốc Thiết",
}};

// Names of villages (thôn, bản) and of their roads.
constexpr std::array<std::string_view, 24> kVillageNames{{
    "Yên Lạc",   "Đông Sơn",  "Trung Hòa",  "Tân Phúc",    "Xuân Lộc",    "Hòa Bình",   "Phú Thọ", "Thanh Sơn",
    "Bắc Sơn",   "Nam Sơn",   "Tiền Phong", "Quyết Thắng", "Đồng Tâm",    "Tân Hương",  "Kim Sơn", "Phúc Long",
    "Hợp Thành", "Minh Khai", "Đại Đồng",   "Liên Minh",   "Trung Chính", "Khe Choăng", "Tổng Xá", "Na Kho",
}};

constexpr std::array<std::string_view, 25> kFamilyNames{{
    "Nguyễn", "Trần", "Lê",   "Phạm", "Hoàng", "Phan", "Vũ",  "Võ",  "Đặng",   "Bùi",  "Đỗ",   "Hồ",  "Ngô",
    "Dương",  "Lý",   "Đinh", "Cao",  "Thái",  "Hà",   "Chu", "Lưu", "Trương", "Đoàn", "Tăng", "Mai",
}};
constexpr std::array<std::string_view, 10> kMaleMiddle{
    {"Văn", "Đức", "Hữu", "Minh", "Quang", "Xuân", "Cảnh", "Đình", "Công", "Bá"}};
constexpr std::array<std::string_view, 8> kFemaleMiddle{
    {"Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Phương", "Kim", "Thị Minh"}};
constexpr std::array<std::string_view, 25> kMaleGiven{{
    "An",   "Bình",  "Cường", "Dũng",  "Hải",  "Hùng", "Hưng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn",
    "Tuấn", "Thắng", "Thành", "Trung", "Việt", "Vinh", "Hiếu", "Đạt",   "Lộc",  "Tài", "Toàn",  "Kiên",
}};
constexpr std::array<std::string_view, 20> kFemaleGiven{{
    "Hoa",   "Hương", "Lan", "Mai",  "Nga",  "Nhung", "Oanh", "Phương", "Thảo", "Trang",
    "Tuyết", "Vân",   "Yến", "Hằng", "Liên", "Linh",  "Loan", "Hạnh",   "Hiền", "Dung",
}};

// ---------------------------------------------------------------------------------------------------
// Deterministic randomness: std::uniform_*_distribution differ between standard libraries.

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // In [lo, hi]; the modulo bias is far below anything the demo could show.
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[static_cast<std::size_t>(integer(0, static_cast<std::int64_t>(N) - 1))];
  }
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[static_cast<std::size_t>(integer(0, static_cast<std::int64_t>(i) - 1))]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

// Independent streams per purpose and unit, so that one unit's size does not shift another's data.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + stream * 0xBF58476D1CE4E5B9ULL + 0x94D049BB133111EBULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// ---------------------------------------------------------------------------------------------------
// GEOS (reentrant API) with RAII.

struct GeomDeleter {
  GEOSContextHandle_t handle = nullptr;
  void operator()(GEOSGeometry* g) const {
    if (g != nullptr) GEOSGeom_destroy_r(handle, g);
  }
};
using Geom = std::unique_ptr<GEOSGeometry, GeomDeleter>;

struct PreparedDeleter {
  GEOSContextHandle_t handle = nullptr;
  void operator()(const GEOSPreparedGeometry* p) const {
    if (p != nullptr) GEOSPreparedGeom_destroy_r(handle, p);
  }
};
using Prepared = std::unique_ptr<const GEOSPreparedGeometry, PreparedDeleter>;

struct Vec {
  double x = 0, y = 0;
};

class Geos {
 public:
  Geos() : handle_(GEOS_init_r()) {
    if (handle_ == nullptr) throw Error(ErrorCode::internal, "GEOS cannot be initialised");
    GEOSContext_setErrorMessageHandler_r(handle_, &Geos::on_error, this);
  }
  ~Geos() { GEOS_finish_r(handle_); }
  Geos(const Geos&) = delete;
  Geos& operator=(const Geos&) = delete;

  [[nodiscard]] GEOSContextHandle_t handle() const { return handle_; }

  Geom wrap(GEOSGeometry* g, std::string_view what) const {
    if (g == nullptr) throw Error(ErrorCode::internal, fmt::format("GEOS {} failed: {}", what, last_error_));
    return Geom(g, GeomDeleter{handle_});
  }

  Geom point(Vec p) const { return wrap(GEOSGeom_createPointFromXY_r(handle_, p.x, p.y), "point"); }

  Geom line(Vec a, Vec b) const {
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(handle_, 2, 2);
    GEOSCoordSeq_setXY_r(handle_, seq, 0, a.x, a.y);
    GEOSCoordSeq_setXY_r(handle_, seq, 1, b.x, b.y);
    return wrap(GEOSGeom_createLineString_r(handle_, seq), "line");
  }

  // A polygon from an open ring (the closing vertex is added).
  Geom polygon(const std::vector<Vec>& ring) const {
    GEOSCoordSequence* seq = GEOSCoordSeq_create_r(handle_, static_cast<unsigned>(ring.size() + 1), 2);
    for (std::size_t i = 0; i <= ring.size(); ++i) {
      const Vec& p = ring[i % ring.size()];
      GEOSCoordSeq_setXY_r(handle_, seq, static_cast<unsigned>(i), p.x, p.y);
    }
    GEOSGeometry* shell = GEOSGeom_createLinearRing_r(handle_, seq);
    if (shell == nullptr) throw Error(ErrorCode::internal, "GEOS ring failed: " + last_error_);
    return wrap(GEOSGeom_createPolygon_r(handle_, shell, nullptr, 0), "polygon");
  }

  Geom intersection(const GEOSGeometry* a, const GEOSGeometry* b) const {
    return wrap(GEOSIntersection_r(handle_, a, b), "intersection");
  }
  Geom buffer(const GEOSGeometry* g, double distance) const {
    return wrap(GEOSBuffer_r(handle_, g, distance, 8), "buffer");
  }
  Geom clone(const GEOSGeometry* g) const { return wrap(GEOSGeom_clone_r(handle_, g), "clone"); }

  // Union of the given geometries (cloned).
  Geom union_of(const std::vector<const GEOSGeometry*>& parts) const {
    std::vector<GEOSGeometry*> clones;
    clones.reserve(parts.size());
    for (const auto* p : parts) clones.push_back(GEOSGeom_clone_r(handle_, p));
    Geom collection = wrap(GEOSGeom_createCollection_r(handle_, GEOS_GEOMETRYCOLLECTION, clones.data(),
                                                       static_cast<unsigned>(clones.size())),
                           "collection");
    return wrap(GEOSUnaryUnion_r(handle_, collection.get()), "union");
  }

  // Only the polygonal parts, as one MultiPolygon.
  Geom multipolygon(const GEOSGeometry* g) const {
    std::vector<GEOSGeometry*> parts;
    collect_polygons(g, parts);
    return wrap(
        GEOSGeom_createCollection_r(handle_, GEOS_MULTIPOLYGON, parts.data(), static_cast<unsigned>(parts.size())),
        "multipolygon");
  }

  // g as a valid MultiPolygon (repaired if needed; the demo's polygons are valid but for rounding).
  Geom valid_multipolygon(Geom g) const {
    if (GEOSisValid_r(handle_, g.get()) != 1) g = wrap(GEOSMakeValid_r(handle_, g.get()), "make valid");
    return multipolygon(g.get());
  }

  Prepared prepare(const GEOSGeometry* g) const {
    const GEOSPreparedGeometry* p = GEOSPrepare_r(handle_, g);
    if (p == nullptr) throw Error(ErrorCode::internal, "GEOS prepare failed: " + last_error_);
    return Prepared(p, PreparedDeleter{handle_});
  }

  [[nodiscard]] bool contains(const GEOSPreparedGeometry* p, Vec v) const {
    const Geom pt = point(v);
    return GEOSPreparedContains_r(handle_, p, pt.get()) == 1;
  }
  [[nodiscard]] bool contains(const GEOSPreparedGeometry* p, const GEOSGeometry* g) const {
    return GEOSPreparedContains_r(handle_, p, g) == 1;
  }

  [[nodiscard]] double area(const GEOSGeometry* g) const {
    double a = 0;
    GEOSArea_r(handle_, g, &a);
    return a;
  }

  struct Bounds {
    double minx, miny, maxx, maxy;
  };
  [[nodiscard]] Bounds bounds(const GEOSGeometry* g) const {
    Bounds b{};
    GEOSGeom_getXMin_r(handle_, g, &b.minx);
    GEOSGeom_getYMin_r(handle_, g, &b.miny);
    GEOSGeom_getXMax_r(handle_, g, &b.maxx);
    GEOSGeom_getYMax_r(handle_, g, &b.maxy);
    return b;
  }

  // Voronoi cells of `sites`, returned in the order of the sites, clipped to a box around `frame`.
  std::vector<Geom> voronoi(const std::vector<Vec>& sites, const Bounds& frame) const {
    std::vector<GEOSGeometry*> points;
    points.reserve(sites.size());
    for (const Vec& s : sites) points.push_back(GEOSGeom_createPointFromXY_r(handle_, s.x, s.y));
    Geom multipoint =
        wrap(GEOSGeom_createCollection_r(handle_, GEOS_MULTIPOINT, points.data(), static_cast<unsigned>(points.size())),
             "multipoint");
    const Geom envelope = polygon(
        {{frame.minx, frame.miny}, {frame.minx, frame.maxy}, {frame.maxx, frame.maxy}, {frame.maxx, frame.miny}});
    Geom diagram = wrap(GEOSVoronoiDiagram_r(handle_, multipoint.get(), envelope.get(), 0.0, 0), "voronoi");
    std::vector<Geom> cells(sites.size());
    const int n = GEOSGetNumGeometries_r(handle_, diagram.get());
    for (int i = 0; i < n; ++i) {
      const GEOSGeometry* cell = GEOSGetGeometryN_r(handle_, diagram.get(), i);
      const Prepared prepared = prepare(cell);
      for (std::size_t s = 0; s < sites.size(); ++s) {
        if (!cells[s] && contains(prepared.get(), sites[s])) {
          cells[s] = clone(cell);
          break;
        }
      }
    }
    for (const auto& c : cells) {
      if (!c) throw Error(ErrorCode::internal, "a Voronoi site has no cell");
    }
    return cells;
  }

  // Calls f(ring_index, points) for every ring of every polygon part; ring 0 of a part is its shell.
  template <typename F>
  void for_each_ring(const GEOSGeometry* g, F&& f) const {
    const int parts = GEOSGetNumGeometries_r(handle_, g);
    for (int p = 0; p < parts; ++p) {
      const GEOSGeometry* part = GEOSGetGeometryN_r(handle_, g, p);
      if (GEOSGeomTypeId_r(handle_, part) != GEOS_POLYGON) continue;
      f(0, coordinates(GEOSGetExteriorRing_r(handle_, part)));
      const int holes = GEOSGetNumInteriorRings_r(handle_, part);
      for (int h = 0; h < holes; ++h) f(h + 1, coordinates(GEOSGetInteriorRingN_r(handle_, part, h)));
    }
  }

  [[nodiscard]] std::vector<Vec> coordinates(const GEOSGeometry* g) const {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(handle_, g);
    unsigned size = 0;
    GEOSCoordSeq_getSize_r(handle_, seq, &size);
    std::vector<Vec> out(size);
    for (unsigned i = 0; i < size; ++i) GEOSCoordSeq_getXY_r(handle_, seq, i, &out[i].x, &out[i].y);
    return out;
  }

  // A copy of g with every coordinate mapped by f (Vec → Vec); f must not throw.
  template <typename F>
  Geom transform(const GEOSGeometry* g, F& f) const {
    auto callback = [](double* x, double* y, void* data) -> int {
      const Vec v = (*static_cast<F*>(data))(Vec{*x, *y});
      *x = v.x;
      *y = v.y;
      return std::isfinite(v.x) && std::isfinite(v.y) ? 1 : 0;
    };
    return wrap(GEOSGeom_transformXY_r(handle_, g, callback, &f), "transform");
  }

  // Line pieces of a (multi)line result.
  [[nodiscard]] std::vector<std::vector<Vec>> line_pieces(const GEOSGeometry* g) const {
    std::vector<std::vector<Vec>> pieces;
    const int n = GEOSGetNumGeometries_r(handle_, g);
    for (int i = 0; i < n; ++i) {
      const GEOSGeometry* part = GEOSGetGeometryN_r(handle_, g, i);
      if (GEOSGeomTypeId_r(handle_, part) == GEOS_LINESTRING && GEOSisEmpty_r(handle_, part) == 0) {
        pieces.push_back(coordinates(part));
      }
    }
    return pieces;
  }

 private:
  static void on_error(const char* message, void* self) { static_cast<Geos*>(self)->last_error_ = message; }

  void collect_polygons(const GEOSGeometry* g, std::vector<GEOSGeometry*>& out) const {
    const int type = GEOSGeomTypeId_r(handle_, g);
    if (type == GEOS_POLYGON) {
      if (GEOSisEmpty_r(handle_, g) == 0) out.push_back(GEOSGeom_clone_r(handle_, g));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
      const int n = GEOSGetNumGeometries_r(handle_, g);
      for (int i = 0; i < n; ++i) collect_polygons(GEOSGetGeometryN_r(handle_, g, i), out);
    }
  }

  GEOSContextHandle_t handle_;
  mutable std::string last_error_;  // written by GEOS's error callback
};

// ---------------------------------------------------------------------------------------------------
// Administrative geometry is built in a frame linear in lon/lat (about metres): an edge two units share
// stays one straight edge in WGS84, so neighbours neither overlap nor gap after output. Streets, lots
// and parcels are built in TM-3 metres (the parcels' CRS), well inside the transformed polygons.

struct LocalFrame {
  static constexpr double kLon0 = 105.3, kLat0 = 18.9;
  static constexpr double kMetresPerDegreeLat = 110574.0;
  double metres_per_degree_lon = 111320.0 * std::cos(kLat0 * std::numbers::pi / 180.0);

  [[nodiscard]] Vec from_lonlat(double lon, double lat) const {
    return {(lon - kLon0) * metres_per_degree_lon, (lat - kLat0) * kMetresPerDegreeLat};
  }
  [[nodiscard]] Vec to_lonlat(Vec p) const {
    return {kLon0 + p.x / metres_per_degree_lon, kLat0 + p.y / kMetresPerDegreeLat};
  }
};

// Local frame → TM-3 metres; NaN when PROJ refuses (GEOS reports the failure).
struct LocalToTm3 {
  const LocalFrame& local;
  const layers::Transformer& to_tm3;
  Vec operator()(Vec p) const {
    Vec q = local.to_lonlat(p);
    try {
      to_tm3.transform(q.x, q.y);
    } catch (const Error&) {
      return {std::nan(""), std::nan("")};
    }
    return q;
  }
};

struct OldCommune {
  const OldCommuneFact* fact = nullptr;
  const DistrictFact* district = nullptr;
  int unit = -1;
  Vec centre;         // core of its built-up area (TM-3)
  Geom shape;         // MultiPolygon, local frame
  Geom shape_tm3;     // the same in TM-3
  Geom shape_lonlat;  // the same in WGS84
  Geom inner;         // shape_tm3 shrunk: streets and blocks stay this far inside
  Prepared inner_prepared;
  std::string postcode;
  std::vector<Vec> hamlet_seeds;  // hamlet k+1 is the area nearest seed k
  std::vector<std::string> hamlet_names;
  // Cadastral sheets: grid cells over the bounding box numbered from the north-west.
  double sheet_cell = 250;
  double sheet_minx = 0, sheet_maxy = 0;
  int sheet_columns = 0;
  std::unordered_map<int, int> sheet_numbers;
  std::unordered_map<int, int> next_parcel;  // by sheet number
};

struct Unit {
  const UnitFact* fact = nullptr;
  Vec site;      // label point, local frame
  Vec site_tm3;  // the same in TM-3
  Geom shape;    // MultiPolygon, local frame
  Geom shape_lonlat;
  std::vector<int> olds;
};

struct District {
  const DistrictFact* fact = nullptr;
  Geom shape;  // WGS84: the union of its old communes
};

std::string district_full_name(const DistrictFact& d) { return fmt::format("{} {}", d.type, d.name); }
std::string old_full_name(const OldCommuneFact& o) { return fmt::format("{} {}", o.type, o.name); }
std::string unit_full_name(const UnitFact& u) { return fmt::format("{} {}", u.type, u.name); }

// "Thành phố" → "thành phố": unit-type words are written in lower case inside addresses.
std::string lower_type(std::string_view type) {
  if (type == "Phường") return "phường";
  if (type == "Xã") return "xã";
  if (type == "Thị trấn") return "thị trấn";
  if (type == "Thành phố") return "thành phố";
  if (type == "Thị xã") return "thị xã";
  if (type == "Huyện") return "huyện";
  return std::string(type);
}

const DistrictFact& district_of(std::string_view code) {
  for (const auto& d : kDistricts) {
    if (d.code == code) return d;
  }
  throw Error(ErrorCode::internal, fmt::format("demo table: unknown district {}", code));
}

// An irregular disc: radius modulated by a few random harmonics, so units do not look like circles.
std::vector<Vec> irregular_disc(Vec centre, double radius, Random& random) {
  constexpr int kVertices = 96;
  std::array<double, 4> amplitude{}, phase{};
  for (std::size_t k = 0; k < amplitude.size(); ++k) {
    amplitude[k] = random.uniform(0.02, 0.12) / static_cast<double>(k + 1);
    phase[k] = random.uniform(0, 2 * std::numbers::pi);
  }
  std::vector<Vec> ring;
  ring.reserve(kVertices);
  for (int i = 0; i < kVertices; ++i) {
    const double t = 2 * std::numbers::pi * i / kVertices;
    double r = 1.0;
    for (std::size_t k = 0; k < amplitude.size(); ++k) {
      r += amplitude[k] * std::sin(static_cast<double>(k + 2) * t + phase[k]);
    }
    ring.push_back({centre.x + radius * r * std::cos(t), centre.y + radius * r * std::sin(t)});
  }
  return ring;
}

Vec random_point_in(const Geos& geos, const GEOSPreparedGeometry* area, const Geos::Bounds& b, Random& random) {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const Vec p{random.uniform(b.minx, b.maxx), random.uniform(b.miny, b.maxy)};
    if (geos.contains(area, p)) return p;
  }
  throw Error(ErrorCode::internal, "demo: no random point found inside an area");
}

struct Admin {
  std::vector<Unit> units;
  std::vector<OldCommune> olds;
  std::vector<District> districts;
};

Admin build_admin(const Geos& geos, const LocalFrame& local, const layers::Transformer& to_tm3, std::uint64_t seed) {
  Admin admin;
  Random random(stream_seed(seed, 1));

  std::vector<Vec> sites;
  Geos::Bounds frame{1e18, 1e18, -1e18, -1e18};
  for (const auto& fact : kUnits) {
    const Vec p = local.from_lonlat(fact.lon, fact.lat);
    sites.push_back(p);
    frame.minx = std::min(frame.minx, p.x);
    frame.miny = std::min(frame.miny, p.y);
    frame.maxx = std::max(frame.maxx, p.x);
    frame.maxy = std::max(frame.maxy, p.y);
  }
  frame = {frame.minx - 30000, frame.miny - 30000, frame.maxx + 30000, frame.maxy + 30000};
  auto cells = geos.voronoi(sites, frame);

  for (std::size_t u = 0; u < kUnits.size(); ++u) {
    Unit unit;
    unit.fact = &kUnits[u];
    unit.site = sites[u];
    unit.site_tm3 = {unit.fact->lon, unit.fact->lat};
    to_tm3.transform(unit.site_tm3.x, unit.site_tm3.y);
    // The disc is a little larger than the real area: the Voronoi cell trims it between close units.
    const double radius = std::sqrt(unit.fact->area_km2 * 1e6 / std::numbers::pi) * 1.08;
    const Geom disc = geos.polygon(irregular_disc(unit.site, radius, random));
    unit.shape = geos.multipolygon(geos.intersection(cells[u].get(), disc.get()).get());
    admin.units.push_back(std::move(unit));
  }

  // Old communes: Voronoi cells of well-spread centres inside each unit (a few Lloyd iterations over
  // random samples); the predecessor that kept the unit's code sits at the unit's label point.
  for (std::size_t u = 0; u < admin.units.size(); ++u) {
    Unit& unit = admin.units[u];
    std::vector<const OldCommuneFact*> facts;
    for (const auto& o : kOldCommunes) {
      if (o.new_code == unit.fact->code) facts.push_back(&o);
    }
    // The seat first.
    std::stable_partition(facts.begin(), facts.end(),
                          [&](const OldCommuneFact* o) { return o->code == unit.fact->code; });

    const Prepared shape_prepared = geos.prepare(unit.shape.get());
    const auto bounds = geos.bounds(unit.shape.get());
    std::vector<Vec> samples(facts.size() * 250);
    for (auto& s : samples) s = random_point_in(geos, shape_prepared.get(), bounds, random);

    std::vector<Vec> centres{unit.site};
    while (centres.size() < facts.size()) {  // farthest-point start
      const Vec* best = nullptr;
      double best_d = -1;
      for (const auto& s : samples) {
        double d = 1e300;
        for (const auto& c : centres) d = std::min(d, std::hypot(s.x - c.x, s.y - c.y));
        if (d > best_d) {
          best_d = d;
          best = &s;
        }
      }
      centres.push_back(*best);
    }
    for (int iteration = 0; iteration < 12; ++iteration) {
      std::vector<Vec> sum(centres.size());
      std::vector<int> count(centres.size(), 0);
      for (const auto& s : samples) {
        std::size_t best = 0;
        double best_d = 1e300;
        for (std::size_t c = 0; c < centres.size(); ++c) {
          const double d = std::hypot(s.x - centres[c].x, s.y - centres[c].y);
          if (d < best_d) {
            best_d = d;
            best = c;
          }
        }
        sum[best].x += s.x;
        sum[best].y += s.y;
        ++count[best];
      }
      for (std::size_t c = 1; c < centres.size(); ++c) {
        if (count[c] == 0) continue;
        Vec mean{sum[c].x / count[c], sum[c].y / count[c]};
        // A centroid of a bent area can fall outside it: keep the previous centre then.
        if (geos.contains(shape_prepared.get(), mean)) centres[c] = mean;
      }
    }
    Geos::Bounds old_frame{bounds.minx - 5000, bounds.miny - 5000, bounds.maxx + 5000, bounds.maxy + 5000};
    auto old_cells = geos.voronoi(centres, old_frame);
    for (std::size_t k = 0; k < facts.size(); ++k) {
      OldCommune old;
      old.fact = facts[k];
      old.district = &district_of(facts[k]->district_code);
      old.unit = static_cast<int>(u);
      old.centre = local.to_lonlat(centres[k]);
      to_tm3.transform(old.centre.x, old.centre.y);
      old.shape = geos.multipolygon(geos.intersection(old_cells[k].get(), unit.shape.get()).get());
      LocalToTm3 map{local, to_tm3};
      old.shape_tm3 = geos.transform(old.shape.get(), map);
      unit.olds.push_back(static_cast<int>(admin.olds.size()));
      admin.olds.push_back(std::move(old));
    }
  }

  // The output geometry, in WGS84 lon/lat.
  auto to_lonlat = [&](Vec p) { return local.to_lonlat(p); };
  for (auto& u : admin.units) u.shape_lonlat = geos.valid_multipolygon(geos.transform(u.shape.get(), to_lonlat));
  for (auto& o : admin.olds) o.shape_lonlat = geos.valid_multipolygon(geos.transform(o.shape.get(), to_lonlat));

  // Postcodes: the district's real 3-digit prefix + a synthetic 2-digit commune part.
  for (const auto& d : kDistricts) {
    std::vector<OldCommune*> members;
    for (auto& o : admin.olds) {
      if (o.district == &d) members.push_back(&o);
    }
    std::sort(members.begin(), members.end(),
              [](const OldCommune* a, const OldCommune* b) { return a->fact->code < b->fact->code; });
    for (std::size_t i = 0; i < members.size(); ++i) {
      members[i]->postcode = fmt::format("{}{:02d}", d.postcode_prefix, 10 + i);
    }

    District district;
    district.fact = &d;
    std::vector<const GEOSGeometry*> parts;
    // In lon/lat: a union computed in the local frame can carry vertices so close to an edge that the
    // conversion's rounding makes it self-intersect.
    for (const auto* o : members) parts.push_back(o->shape_lonlat.get());
    district.shape = geos.valid_multipolygon(geos.union_of(parts));
    admin.districts.push_back(std::move(district));
  }
  return admin;
}

// Hamlets and cadastral sheets of one old commune.
void prepare_old_commune(const Geos& geos, OldCommune& old, Random& random) {
  old.inner = geos.buffer(old.shape_tm3.get(), -12.0);
  old.inner_prepared = geos.prepare(old.inner.get());

  const auto b = geos.bounds(old.shape_tm3.get());
  const Prepared shape_prepared = geos.prepare(old.shape_tm3.get());
  const bool urban = old.fact->type != "Xã";
  const double area_km2 = geos.area(old.shape_tm3.get()) / 1e6;
  const int hamlets = static_cast<int>(std::clamp(area_km2 / (urban ? 0.3 : 1.2), 3.0, 18.0));
  for (int i = 0; i < hamlets; ++i) old.hamlet_seeds.push_back(random_point_in(geos, shape_prepared.get(), b, random));
  // Numbered from the north, as hamlets usually are.
  std::sort(old.hamlet_seeds.begin(), old.hamlet_seeds.end(), [](const Vec& a, const Vec& c) { return a.y > c.y; });
  std::vector<std::string_view> villages(kVillageNames.begin(), kVillageNames.end());
  random.shuffle(villages);
  for (int i = 0; i < hamlets; ++i) {
    if (urban) {
      old.hamlet_names.push_back(fmt::format("khối {}", i + 1));
    } else if (old.district->code == "427") {
      old.hamlet_names.push_back(fmt::format("thôn {}", villages[static_cast<std::size_t>(i) % villages.size()]));
    } else if (old.district->code == "422") {
      old.hamlet_names.push_back(fmt::format("bản {}", villages[static_cast<std::size_t>(i) % villages.size()]));
    } else {
      old.hamlet_names.push_back(fmt::format("xóm {}", i + 1));
    }
  }

  // Sheets: 250 m cells for phường and thị trấn, 500 m for xã, over the cells the commune covers.
  old.sheet_cell = urban ? 250.0 : 500.0;
  old.sheet_minx = b.minx;
  old.sheet_maxy = b.maxy;
  old.sheet_columns = static_cast<int>(std::ceil((b.maxx - b.minx) / old.sheet_cell));
  const int rows = static_cast<int>(std::ceil((b.maxy - b.miny) / old.sheet_cell));
  int number = 0;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < old.sheet_columns; ++c) {
      const double x0 = b.minx + c * old.sheet_cell, y1 = b.maxy - r * old.sheet_cell;
      const Geom cell = geos.polygon(
          {{x0, y1 - old.sheet_cell}, {x0, y1}, {x0 + old.sheet_cell, y1}, {x0 + old.sheet_cell, y1 - old.sheet_cell}});
      if (GEOSPreparedIntersects_r(geos.handle(), shape_prepared.get(), cell.get()) == 1) {
        old.sheet_numbers[r * old.sheet_columns + c] = ++number;
      }
    }
  }
}

int sheet_of(const OldCommune& old, Vec p) {
  const int c = static_cast<int>(std::floor((p.x - old.sheet_minx) / old.sheet_cell));
  const int r = static_cast<int>(std::floor((old.sheet_maxy - p.y) / old.sheet_cell));
  const auto it = old.sheet_numbers.find(r * old.sheet_columns + c);
  return it == old.sheet_numbers.end() ? 0 : it->second;
}

std::string hamlet_of(const OldCommune& old, Vec p) {
  std::size_t best = 0;
  double best_d = 1e300;
  for (std::size_t i = 0; i < old.hamlet_seeds.size(); ++i) {
    const double d = std::hypot(p.x - old.hamlet_seeds[i].x, p.y - old.hamlet_seeds[i].y);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return old.hamlet_names[best];
}

// ---------------------------------------------------------------------------------------------------
// Streets and lots. Each old commune has a built-up core: a rotated grid of blocks around its centre,
// kept where it lies inside the old commune. Lots front the streets on all four sides of a block;
// urban blocks also have dead-end lanes (ngõ) with lots on both sides; rural blocks of the field
// commune have field strips behind the houses.

struct Style {
  double sx, sy;                    // grid spacing across/along (metres)
  double street_w, main_w;          // corridor widths
  double depth;                     // frontage lot depth
  double lot_min, lot_max;          // frontage lot widths
  double setback_min, setback_max;  // address point behind the frontage
  bool lanes;
  double lane_w, lane_depth, lane_lot_min, lane_lot_max;
  double strip_min, strip_max;
};

constexpr Style kUrbanStyle{200, 130, 12, 24, 18, 4, 7, 2.5, 3.0, true, 3, 12, 4, 6, 0, 0};
constexpr Style kTownStyle{220, 150, 10, 20, 22, 6, 10, 2.5, 3.0, true, 3, 14, 5, 8, 0, 0};
constexpr Style kRuralStyle{300, 200, 6, 14, 32, 12, 20, 8.0, 10.0, false, 0, 0, 0, 0, 10, 16};

double lots_per_block(const Style& s) {
  const double bw = s.sx - s.street_w, bh = s.sy - s.street_w;
  const double mean = (s.lot_min + s.lot_max) / 2;
  double lots = 2 * bw / mean + 2 * (bh - 2 * s.depth) / mean;
  if (s.lanes) {
    const double period = 2 * s.lane_depth + s.lane_w;
    const double lanes = std::floor((bw - 2 * s.depth) / period);
    lots += 2 * lanes * 2 * ((bh - 2 * s.depth) / 2) / ((s.lane_lot_min + s.lane_lot_max) / 2);
  }
  return lots;
}

enum class StreetKind { main_road, street, lane, path };

std::string_view kind_name(StreetKind k) {
  switch (k) {
    case StreetKind::main_road:
      return "main_road";
    case StreetKind::street:
      return "street";
    case StreetKind::lane:
      return "lane";
    case StreetKind::path:
      return "path";
  }
  return "street";
}

struct Street {
  Vec a, b;  // a→b: numbering direction
  StreetKind kind = StreetKind::street;
  int old = -1;
  int parent = -1;      // lanes: the street they leave
  int lane_number = 0;  // lanes: the house number their mouth takes on the parent
  bool personal_name = true;
  bool used = false;  // has numbered lots, or is a main road
  std::string name;
};

struct Lot {
  std::array<Vec, 4> corners;  // clockwise
  Vec point;                   // address point (or centroid of a field strip)
  int street = -1;             // fronted street; -1: field strip
  int old = -1;
  int number = 0;
  bool vacant = false;
  bool surveyed = false;  // inside the cadastral survey (parcels are capped at scale 1)
  bool main_frontage = false;
};

struct Slot {  // a house number position on one side of a street: a lot, or a lane's mouth
  int street;
  bool left;
  double position;
  int lot;   // -1 for a lane mouth
  int lane;  // the lane street for a lane mouth
};

struct Frame {
  Vec origin;
  double c = 1, s = 0;
  [[nodiscard]] Vec world(double u, double v) const { return {origin.x + u * c - v * s, origin.y + u * s + v * c}; }
};

// Of the line from lo to hi through `frame` (horizontal: v fixed, or vertical: u fixed), the interval that
// lies inside the old commune: the longest piece, or for main roads the piece through the centre.
std::optional<std::pair<double, double>> clip_line(const Geos& geos, const OldCommune& old, const Frame& frame,
                                                   bool horizontal, double fixed, double lo, double hi, bool main) {
  const Vec a = horizontal ? frame.world(lo, fixed) : frame.world(fixed, lo);
  const Vec b = horizontal ? frame.world(hi, fixed) : frame.world(fixed, hi);
  const Geom line = geos.line(a, b);
  const Geom clipped = geos.intersection(line.get(), old.inner.get());
  std::optional<std::pair<double, double>> best;
  double best_score = -1e300;
  const double dx = (b.x - a.x) / (hi - lo), dy = (b.y - a.y) / (hi - lo);
  for (const auto& piece : geos.line_pieces(clipped.get())) {
    double s0 = 1e300, s1 = -1e300;
    for (const auto& p : piece) {
      const double t = lo + (p.x - a.x) * dx + (p.y - a.y) * dy;
      s0 = std::min(s0, t);
      s1 = std::max(s1, t);
    }
    const double score = main ? (s0 <= 0 && s1 >= 0 ? 1e12 : 0) + (s1 - s0) : s1 - s0;
    if (score > best_score) {
      best_score = score;
      best = std::make_pair(s0, s1);
    }
  }
  if (!best || best->second - best->first < 40.0) return std::nullopt;
  return best;
}

struct UnitBuild {
  std::vector<Street> streets;
  std::vector<Lot> lots;
  std::vector<Slot> slots;
};

void split_segment(double a, double b, double wmin, double wmax, Random& random,
                   std::vector<std::pair<double, double>>& out) {
  double pos = a;
  while (b - pos >= wmin) {
    double w = random.uniform(wmin, wmax);
    if (b - (pos + w) < wmin) w = b - pos;
    out.emplace_back(pos, pos + w);
    pos += w;
  }
}

class CoreBuilder {
 public:
  CoreBuilder(const Geos& geos, const Unit& unit, OldCommune& old, int old_index, UnitBuild& build, Random& random)
      : geos_(geos), unit_(unit), old_(old), old_index_(old_index), build_(build), random_(random) {}

  // Builds up to `target_lots` lots (fewer when the old commune is full); returns how many.
  double build(double target_lots, double survey_lots, bool seat, bool field_strips, double angle) {
    const bool xa = old_.fact->type == "Xã";
    const Profile profile = unit_.fact->profile;
    // Xã merged into urban wards were peri-urban already: town-like lots, not farmsteads.
    if (xa) {
      style_ = profile == Profile::rural ? kRuralStyle : kTownStyle;
    } else {
      style_ = old_.fact->type == "Thị trấn" || profile == Profile::town ? kTownStyle : kUrbanStyle;
    }
    personal_names_ = !(xa && profile == Profile::rural);
    field_strips_ = field_strips && xa;
    seat_ = seat;
    frame_ = Frame{old_.centre, std::cos(angle), std::sin(angle)};

    const double per_block = lots_per_block(style_);
    const int blocks = static_cast<int>(std::ceil(target_lots * 1.3 / per_block)) + 1;
    const int nc = std::max(1, static_cast<int>(std::lround(std::sqrt(blocks * style_.sy / style_.sx))));
    const int nr = std::max(1, (blocks + nc - 1) / nc);
    i0_ = -nc / 2;
    j0_ = -nr / 2;
    nc_ = nc;
    nr_ = nr;

    make_lines();

    // Blocks nearest the centre first, so that a small target builds a compact core.
    std::vector<std::pair<int, int>> order;
    for (int j = j0_; j < j0_ + nr_; ++j) {
      for (int i = i0_; i < i0_ + nc_; ++i) order.emplace_back(i, j);
    }
    auto distance = [&](const std::pair<int, int>& b) {
      return std::hypot((b.first + 0.5) * style_.sx, (b.second + 0.5) * style_.sy);
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto& a, const auto& b) { return distance(a) < distance(b); });

    for (const auto& [i, j] : order) {
      if (lots_made_ >= target_lots) break;
      build_block(i, j, target_lots, survey_lots);
    }
    trim_streets();
    return lots_made_;
  }

 private:
  // Street corridor half-widths of horizontal line j and vertical line i.
  [[nodiscard]] double h_half(int j) const { return (seat_ && j == 0 ? style_.main_w : style_.street_w) / 2; }
  // Rural units have one main road (the route through the seat); urban cores get a second one across.
  [[nodiscard]] bool vertical_main(int i) const { return seat_ && i == 0 && unit_.fact->profile != Profile::rural; }
  [[nodiscard]] double v_half(int i) const { return (vertical_main(i) ? style_.main_w : style_.street_w) / 2; }

  int add_street(Vec a, Vec b, StreetKind kind) {
    // Numbering runs from the end nearer the unit's label point.
    const double da = std::hypot(a.x - unit_.site_tm3.x, a.y - unit_.site_tm3.y);
    const double db = std::hypot(b.x - unit_.site_tm3.x, b.y - unit_.site_tm3.y);
    Street s;
    if (db < da && kind != StreetKind::lane) std::swap(a, b);
    s.a = a;
    s.b = b;
    s.kind = kind;
    s.old = old_index_;
    s.personal_name = personal_names_;
    s.used = kind == StreetKind::main_road;
    build_.streets.push_back(std::move(s));
    return static_cast<int>(build_.streets.size()) - 1;
  }

  void make_lines() {
    const double ulo = i0_ * style_.sx, uhi = (i0_ + nc_) * style_.sx;
    const double vlo = j0_ * style_.sy, vhi = (j0_ + nr_) * style_.sy;
    const StreetKind grid_kind = personal_names_ ? StreetKind::street : StreetKind::path;
    for (int j = j0_; j <= j0_ + nr_; ++j) {
      const bool main = seat_ && j == 0;
      const double reach = main ? 20000.0 : 0.0;  // main roads run on through the whole old commune
      const auto interval = clip_line(geos_, old_, frame_, true, j * style_.sy, ulo - reach, uhi + reach, main);
      Line line;
      if (interval) {
        line.interval = *interval;
        line.street =
            add_street(frame_.world(interval->first, j * style_.sy), frame_.world(interval->second, j * style_.sy),
                       main ? StreetKind::main_road : grid_kind);
      }
      h_lines_[j] = line;
    }
    for (int i = i0_; i <= i0_ + nc_; ++i) {
      const bool main = vertical_main(i);
      const auto interval = clip_line(geos_, old_, frame_, false, i * style_.sx, vlo, vhi, false);
      Line line;
      if (interval) {
        line.interval = *interval;
        line.street =
            add_street(frame_.world(i * style_.sx, interval->first), frame_.world(i * style_.sx, interval->second),
                       main ? StreetKind::main_road : grid_kind);
      }
      v_lines_[i] = line;
    }
  }

  struct Line {
    std::pair<double, double> interval{0, 0};        // kept inside the old commune
    std::pair<double, double> built{1e300, -1e300};  // along built blocks
    int street = -1;
    [[nodiscard]] bool covers(double a, double b) const {
      return street >= 0 && interval.first <= a && interval.second >= b;
    }
    void extend(double a, double b) {
      built.first = std::min(built.first, a);
      built.second = std::max(built.second, b);
    }
  };

  // Grid streets end where the built blocks end (main roads run on); the numbering direction stays.
  void trim_streets() {
    auto trim = [&](Line& line, bool horizontal, double fixed) {
      if (line.street < 0 || line.built.first > line.built.second) return;
      Street& s = build_.streets[static_cast<std::size_t>(line.street)];
      if (s.kind == StreetKind::main_road) return;
      const double t0 = std::max(line.interval.first, line.built.first);
      const double t1 = std::min(line.interval.second, line.built.second);
      const Vec p0 = horizontal ? frame_.world(t0, fixed) : frame_.world(fixed, t0);
      const Vec p1 = horizontal ? frame_.world(t1, fixed) : frame_.world(fixed, t1);
      const Vec first =
          horizontal ? frame_.world(line.interval.first, fixed) : frame_.world(fixed, line.interval.first);
      const bool forward = std::hypot(s.a.x - first.x, s.a.y - first.y) < 1e-6;
      s.a = forward ? p0 : p1;
      s.b = forward ? p1 : p0;
      s.used = true;
    };
    for (auto& [j, line] : h_lines_) trim(line, true, j * style_.sy);
    for (auto& [i, line] : v_lines_) trim(line, false, i * style_.sx);
  }

  void add_lot(double u0, double v0, double u1, double v1, Vec point, int street, bool survey) {
    Lot lot;
    // Clockwise in (u, v), which a rotation keeps clockwise in (x, y).
    lot.corners = {frame_.world(u0, v0), frame_.world(u0, v1), frame_.world(u1, v1), frame_.world(u1, v0)};
    lot.point = point;
    lot.street = street;
    lot.old = old_index_;
    lot.surveyed = survey;
    if (street >= 0) {
      lot.vacant = random_.chance(0.04);
      lot.main_frontage = build_.streets[static_cast<std::size_t>(street)].kind == StreetKind::main_road;
      add_slot(street, point, static_cast<int>(build_.lots.size()), -1);
      build_.streets[static_cast<std::size_t>(street)].used = true;
      ++lots_made_;
    }
    build_.lots.push_back(lot);
  }

  void add_slot(int street, Vec p, int lot, int lane) {
    const Street& s = build_.streets[static_cast<std::size_t>(street)];
    const double len = std::hypot(s.b.x - s.a.x, s.b.y - s.a.y);
    const double dx = (s.b.x - s.a.x) / len, dy = (s.b.y - s.a.y) / len;
    const double px = p.x - s.a.x, py = p.y - s.a.y;
    build_.slots.push_back(Slot{street, dx * py - dy * px > 0, px * dx + py * dy, lot, lane});
  }

  // Frontage lots along [a, b] of one block side; `lot_rect(p0, p1)` gives the lot's (u0, v0, u1, v1)
  // and `point(mid, setback)` the address point.
  template <typename Rect, typename Point>
  void frontage(double a, double b, const std::vector<std::pair<double, double>>& gaps, int street, bool survey,
                Rect lot_rect, Point point) {
    std::vector<std::pair<double, double>> pieces;
    double pos = a;
    for (const auto& [g0, g1] : gaps) {
      split_segment(pos, g0, style_.lot_min, style_.lot_max, random_, pieces);
      pos = g1;
    }
    split_segment(pos, b, style_.lot_min, style_.lot_max, random_, pieces);
    for (const auto& [p0, p1] : pieces) {
      const auto r = lot_rect(p0, p1);
      add_lot(r[0], r[1], r[2], r[3], point((p0 + p1) / 2, random_.uniform(style_.setback_min, style_.setback_max)),
              street, survey);
    }
  }

  void build_block(int i, int j, double target_lots, double survey_lots) {
    const Line& bottom = h_lines_[j];
    const Line& top = h_lines_[j + 1];
    const Line& left = v_lines_[i];
    const Line& right = v_lines_[i + 1];
    const double u0 = i * style_.sx + v_half(i), u1 = (i + 1) * style_.sx - v_half(i + 1);
    const double v0 = j * style_.sy + h_half(j), v1 = (j + 1) * style_.sy - h_half(j + 1);
    if (!bottom.covers(u0, u1) || !top.covers(u0, u1) || !left.covers(v0, v1) || !right.covers(v0, v1)) return;
    const Geom rect =
        geos_.polygon({frame_.world(u0, v0), frame_.world(u0, v1), frame_.world(u1, v1), frame_.world(u1, v0)});
    if (!geos_.contains(old_.inner_prepared.get(), rect.get())) return;
    h_lines_[j].extend(i * style_.sx, (i + 1) * style_.sx);
    h_lines_[j + 1].extend(i * style_.sx, (i + 1) * style_.sx);
    v_lines_[i].extend(j * style_.sy, (j + 1) * style_.sy);
    v_lines_[i + 1].extend(j * style_.sy, (j + 1) * style_.sy);

    const double d = style_.depth;
    const double vmid = (v0 + v1) / 2;
    auto survey = [&] { return lots_made_ < survey_lots; };

    // Lane positions (shared by the lanes from the top and from the bottom street).
    std::vector<double> lane_u;
    std::vector<std::pair<double, double>> gaps;
    if (style_.lanes) {
      const double period = 2 * style_.lane_depth + style_.lane_w;
      const double interior = (u1 - u0) - 2 * d;
      const int n = static_cast<int>(std::floor(interior / period));
      const double start = u0 + d + (interior - n * period) / 2;
      for (int k = 0; k < n; ++k) {
        const double uk = start + period * (k + 0.5);
        lane_u.push_back(uk);
        gaps.emplace_back(uk - style_.lane_w / 2, uk + style_.lane_w / 2);
      }
    }

    // Top side: lots face the street above (v1), their address points just below the frontage.
    frontage(
        u0, u1, gaps, top.street, survey(),
        [&](double p0, double p1) {
          return std::array<double, 4>{p0, v1 - d, p1, v1};
        },
        [&](double m, double sb) { return frame_.world(m, v1 - sb); });
    if (lots_made_ >= target_lots) return;
    frontage(
        u0, u1, gaps, bottom.street, survey(),
        [&](double p0, double p1) {
          return std::array<double, 4>{p0, v0, p1, v0 + d};
        },
        [&](double m, double sb) { return frame_.world(m, v0 + sb); });
    if (lots_made_ >= target_lots) return;
    frontage(
        v0 + d, v1 - d, {}, left.street, survey(),
        [&](double p0, double p1) {
          return std::array<double, 4>{u0, p0, u0 + d, p1};
        },
        [&](double m, double sb) { return frame_.world(u0 + sb, m); });
    if (lots_made_ >= target_lots) return;
    frontage(
        v0 + d, v1 - d, {}, right.street, survey(),
        [&](double p0, double p1) {
          return std::array<double, 4>{u1 - d, p0, u1, p1};
        },
        [&](double m, double sb) { return frame_.world(u1 - sb, m); });

    // Lanes from the top street down to the middle of the block, and from the bottom street up.
    for (int half = 0; half < 2 && style_.lanes; ++half) {
      const bool from_top = half == 0;
      const Line& parent = from_top ? top : bottom;
      const double v_start = from_top ? (j + 1) * style_.sy : j * style_.sy;
      const double lot_lo = from_top ? vmid : v0 + d, lot_hi = from_top ? v1 - d : vmid;
      for (const double uk : lane_u) {
        if (lots_made_ >= target_lots) return;
        const bool lane_survey = survey();
        const int lane = add_street(frame_.world(uk, v_start), frame_.world(uk, vmid), StreetKind::lane);
        build_.streets[static_cast<std::size_t>(lane)].parent = parent.street;
        build_.streets[static_cast<std::size_t>(parent.street)].used = true;
        add_slot(parent.street, frame_.world(uk, from_top ? v1 : v0), -1, lane);
        std::vector<std::pair<double, double>> pieces;
        split_segment(lot_lo, lot_hi, style_.lane_lot_min, style_.lane_lot_max, random_, pieces);
        // Numbered from the lane's mouth.
        if (from_top) std::reverse(pieces.begin(), pieces.end());
        const double hw = style_.lane_w / 2, ld = style_.lane_depth;
        for (const auto& [p0, p1] : pieces) {
          const double m = (p0 + p1) / 2;
          add_lot(uk - hw - ld, p0, uk - hw, p1,
                  frame_.world(uk - hw - random_.uniform(style_.setback_min, style_.setback_max), m), lane,
                  lane_survey);
          add_lot(uk + hw, p0, uk + hw + ld, p1,
                  frame_.world(uk + hw + random_.uniform(style_.setback_min, style_.setback_max), m), lane,
                  lane_survey);
        }
      }
    }

    // Field strips between the house rows (no address).
    if (field_strips_) {
      const bool strip_survey = survey();
      for (int half = 0; half < 2; ++half) {
        const double lo = half == 0 ? vmid : v0 + d, hi = half == 0 ? v1 - d : vmid;
        std::vector<std::pair<double, double>> pieces;
        split_segment(u0 + d, u1 - d, style_.strip_min, style_.strip_max, random_, pieces);
        for (const auto& [p0, p1] : pieces) {
          add_lot(p0, lo, p1, hi, frame_.world((p0 + p1) / 2, (lo + hi) / 2), -1, strip_survey);
        }
      }
    }
  }

  const Geos& geos_;
  const Unit& unit_;
  OldCommune& old_;
  int old_index_;
  UnitBuild& build_;
  Random& random_;
  Style style_{kUrbanStyle};
  bool personal_names_ = true;
  bool field_strips_ = false;
  bool seat_ = false;
  Frame frame_;
  int i0_ = 0, j0_ = 0, nc_ = 1, nr_ = 1;
  std::unordered_map<int, Line> h_lines_, v_lines_;
  double lots_made_ = 0;
};

// House numbers: odd on the left, even on the right, counted from the street's start; a lane's mouth
// takes a number, which becomes the lane's name ("ngõ 12").
void number_houses(UnitBuild& build) {
  std::sort(build.slots.begin(), build.slots.end(), [](const Slot& a, const Slot& b) {
    if (a.street != b.street) return a.street < b.street;
    if (a.left != b.left) return a.left;
    return a.position < b.position;
  });
  int street = -1;
  bool left = false;
  int next = 0;
  for (const auto& slot : build.slots) {
    if (slot.street != street || slot.left != left) {
      street = slot.street;
      left = slot.left;
      next = left ? 1 : 2;
    }
    if (slot.lot >= 0) {
      build.lots[static_cast<std::size_t>(slot.lot)].number = next;
    } else {
      build.streets[static_cast<std::size_t>(slot.lane)].lane_number = next;
    }
    next += 2;
  }
}

void name_streets(const Unit& unit, const std::vector<OldCommune>& olds, UnitBuild& build, Random& random) {
  std::vector<std::string_view> personal(kStreetNames.begin(), kStreetNames.end());
  random.shuffle(personal);
  std::vector<std::string_view> villages(kVillageNames.begin(), kVillageNames.end());
  random.shuffle(villages);
  std::size_t next_personal = 0, next_village = 0;
  int next_numbered = 1, next_hamlet_road = 1;
  const bool rural = unit.fact->profile == Profile::rural;

  for (auto& s : build.streets) {
    if (s.kind == StreetKind::lane || !s.used) continue;
    if (s.kind == StreetKind::main_road && rural) {
      s.name = unit.fact->main_road;
    } else if (s.personal_name) {
      s.name = next_personal < personal.size() ? std::string(personal[next_personal++])
                                               : fmt::format("Đường số {}", next_numbered++);
    } else {
      const auto& district = olds[static_cast<std::size_t>(s.old)].district->code;
      if (district == "427" || district == "422") {
        const std::string_view word = district == "427" ? "thôn" : "bản";
        s.name = next_village < villages.size() ? fmt::format("Đường {} {}", word, villages[next_village++])
                                                : fmt::format("Đường liên {} {}", word, next_hamlet_road++);
      } else {
        s.name = fmt::format("Đường xóm {}", next_hamlet_road++);
      }
    }
  }
  for (auto& s : build.streets) {
    if (s.kind != StreetKind::lane) continue;
    const Street& parent = build.streets[static_cast<std::size_t>(s.parent)];
    s.name = fmt::format("Ngõ {} {}", s.lane_number, parent.name);
  }
}

// ---------------------------------------------------------------------------------------------------
// Output helpers.

class OutFile {
 public:
  explicit OutFile(const std::filesystem::path& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (file_ == nullptr) throw StoreError(fmt::format("{}: cannot be written", path.string()));
  }
  ~OutFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  fmt::memory_buffer& buffer() { return buffer_; }
  void flush_if_full() {
    if (buffer_.size() > (1U << 20)) flush();
  }
  void close() {
    flush();
    if (std::fclose(file_) != 0) {
      file_ = nullptr;
      throw StoreError(fmt::format("{}: write failed", path_.string()));
    }
    file_ = nullptr;
  }

 private:
  void flush() {
    if (buffer_.size() > 0 && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      throw StoreError(fmt::format("{}: write failed", path_.string()));
    }
    buffer_.clear();
  }
  std::filesystem::path path_;
  std::FILE* file_;
  fmt::memory_buffer buffer_;
};

// A CSV field, quoted when it needs to be.
std::string csv(std::string_view value) {
  if (value.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string json_string(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

double round7(double v) { return std::round(v * 1e7) / 1e7; }

void register_gdal() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

struct DatasetCloser {
  void operator()(GDALDataset* ds) const { GDALClose(ds); }
};
using Dataset = std::unique_ptr<GDALDataset, DatasetCloser>;

Dataset create_dataset(const char* driver_name, const std::filesystem::path& path) {
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
  if (driver == nullptr) throw StoreError(fmt::format("GDAL has no {} driver", driver_name));
  Dataset ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!ds) throw StoreError(fmt::format("{}: cannot be created: {}", path.string(), CPLGetLastErrorMsg()));
  return ds;
}

void add_string_field(OGRLayer* layer, const char* name, int width = 0) {
  OGRFieldDefn field(name, OFTString);
  if (width > 0) field.SetWidth(width);
  if (layer->CreateField(&field) != OGRERR_NONE) throw StoreError(fmt::format("cannot create field {}", name));
}

std::unique_ptr<OGRMultiPolygon> to_ogr_multipolygon(const Geos& geos, const GEOSGeometry* g) {
  auto multi = std::make_unique<OGRMultiPolygon>();
  std::unique_ptr<OGRPolygon> polygon;
  geos.for_each_ring(g, [&](int ring_index, const std::vector<Vec>& points) {
    if (ring_index == 0) {
      if (polygon) multi->addGeometryDirectly(polygon.release());
      polygon = std::make_unique<OGRPolygon>();
    }
    auto ring = std::make_unique<OGRLinearRing>();
    ring->setNumPoints(static_cast<int>(points.size()));
    for (std::size_t i = 0; i < points.size(); ++i) ring->setPoint(static_cast<int>(i), points[i].x, points[i].y);
    polygon->addRingDirectly(ring.release());
  });
  if (polygon) multi->addGeometryDirectly(polygon.release());
  return multi;
}

void write_admin(const Geos& geos, const Admin& admin, const std::filesystem::path& path, DemoSummary& summary) {
  std::filesystem::remove(path);
  Dataset ds = create_dataset("GPKG", path);
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const char* options[] = {"GEOMETRY_NAME=geom", "FID=fid", nullptr};

  auto make_layer = [&](const char* name, std::initializer_list<const char*> fields) {
    OGRLayer* layer = ds->CreateLayer(name, &wgs84, wkbMultiPolygon, const_cast<char**>(options));
    if (layer == nullptr) throw StoreError(fmt::format("{}: cannot create layer {}", path.string(), name));
    for (const char* f : fields) add_string_field(layer, f);
    return layer;
  };
  auto write = [&](OGRLayer* layer, const GEOSGeometry* shape, std::initializer_list<std::string> values) {
    OGRFeature feature(layer->GetLayerDefn());
    int i = 0;
    for (const auto& v : values) feature.SetField(i++, v.c_str());
    feature.SetGeometryDirectly(to_ogr_multipolygon(geos, shape).release());
    if (layer->CreateFeature(&feature) != OGRERR_NONE) {
      throw StoreError(
          fmt::format("{}: cannot write to {}: {}", path.string(), layer->GetName(), CPLGetLastErrorMsg()));
    }
  };

  if (ds->StartTransaction() != OGRERR_NONE)
    throw StoreError(fmt::format("{}: cannot start a transaction", path.string()));
  OGRLayer* units = make_layer("xa_phuong_2025", {"ma", "ten", "loai", "ten_day_du"});
  for (const auto& u : admin.units) {
    write(units, u.shape_lonlat.get(),
          {std::string(u.fact->code), std::string(u.fact->name), std::string(u.fact->type), unit_full_name(*u.fact)});
  }
  OGRLayer* olds = make_layer("xa_cu", {"ma", "ten", "loai", "ten_day_du", "ma_huyen", "ten_huyen", "ma_moi"});
  for (const auto& o : admin.olds) {
    write(olds, o.shape_lonlat.get(),
          {std::string(o.fact->code), std::string(o.fact->name), std::string(o.fact->type), old_full_name(*o.fact),
           std::string(o.district->code), district_full_name(*o.district), std::string(o.fact->new_code)});
  }
  OGRLayer* districts = make_layer("huyen_cu", {"ma", "ten", "loai", "ten_day_du"});
  for (const auto& d : admin.districts) {
    write(
        districts, d.shape.get(),
        {std::string(d.fact->code), std::string(d.fact->name), std::string(d.fact->type), district_full_name(*d.fact)});
  }
  if (ds->CommitTransaction() != OGRERR_NONE) throw StoreError(fmt::format("{}: commit failed", path.string()));
  ds.reset();
  summary.counts["communes"] = static_cast<std::int64_t>(admin.units.size());
  summary.counts["old_communes"] = static_cast<std::int64_t>(admin.olds.size());
  summary.counts["old_districts"] = static_cast<std::int64_t>(admin.districts.size());
  summary.files.push_back(path);
}

void write_mapping(const Admin& admin, const std::filesystem::path& path, DemoSummary& summary) {
  OutFile out(path);
  auto& b = out.buffer();
  fmt::format_to(std::back_inserter(b),
                 "old_code,old_name,old_district_code,old_district_name,new_code,new_name,note\n");
  for (const auto& o : admin.olds) {
    const auto& unit = *admin.units[static_cast<std::size_t>(o.unit)].fact;
    const int siblings = static_cast<int>(admin.units[static_cast<std::size_t>(o.unit)].olds.size());
    fmt::format_to(std::back_inserter(b), "{},{},{},{},{},{},{}\n", o.fact->code, csv(old_full_name(*o.fact)),
                   o.district->code, csv(district_full_name(*o.district)), unit.code, csv(unit_full_name(unit)),
                   siblings == 1 ? "Giữ nguyên" : "Nhập toàn bộ");
  }
  out.close();
  summary.counts["commune_mapping"] = static_cast<std::int64_t>(admin.olds.size());
  summary.files.push_back(path);
}

void write_land_use_codes(const std::filesystem::path& path, DemoSummary& summary) {
  OutFile out(path);
  auto& b = out.buffer();
  fmt::format_to(std::back_inserter(b), "code,name_vi,level,era\n");
  for (const auto& c : kLandUseCodes)
    fmt::format_to(std::back_inserter(b), "{},{},code,TT25/28-2014\n", c.code, csv(c.name));
  out.close();
  summary.counts["land_use_codes"] = static_cast<std::int64_t>(kLandUseCodes.size());
  summary.files.push_back(path);
}

// The parcels' CRS as Famis/ViLIS exports declare it: OGC WKT1 with TOWGS84 (GDAL's shapefile driver
// writes ESRI WKT, which has no TOWGS84, so the .prj is rewritten from this).
OGRSpatialReference parcel_srs() {
  OGRSpatialReference proj;
  const std::string definition =
      layers::vn2000_tm3_proj(layers::kNgheAnCentralMeridian, layers::HelmertConvention::vn_common);
  if (proj.importFromProj4(definition.c_str()) != OGRERR_NONE)
    throw Error(ErrorCode::internal, "cannot read " + definition);
  std::array<double, 7> towgs84{};
  proj.GetTOWGS84(towgs84.data(), 7);
  OGRSpatialReference srs;
  srs.SetProjCS("VN-2000 / TM-3 104-45 (Nghe An)");
  srs.SetGeogCS("VN-2000", "Vietnam_2000", "WGS 84", SRS_WGS84_SEMIMAJOR, SRS_WGS84_INVFLATTENING);
  srs.SetTM(proj.GetProjParm(SRS_PP_LATITUDE_OF_ORIGIN), proj.GetProjParm(SRS_PP_CENTRAL_MERIDIAN),
            proj.GetProjParm(SRS_PP_SCALE_FACTOR), proj.GetProjParm(SRS_PP_FALSE_EASTING),
            proj.GetProjParm(SRS_PP_FALSE_NORTHING));
  srs.SetLinearUnits("metre", 1.0);
  srs.SetTOWGS84(towgs84[0], towgs84[1], towgs84[2], towgs84[3], towgs84[4], towgs84[5], towgs84[6]);
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

class ParcelWriter {
 public:
  explicit ParcelWriter(const std::filesystem::path& out_dir) : shp_(out_dir / "thua_dat_tm3.shp") {
    for (const char* ext : {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"}) {
      std::filesystem::remove(out_dir / (std::string("thua_dat_tm3") + ext));
    }
    srs_ = parcel_srs();
    ds_ = create_dataset("ESRI Shapefile", shp_);
    // ENCODING= (empty): GDAL neither recodes the TCVN3 bytes nor writes a .cpg, like legacy exports.
    char** options = CSLSetNameValue(nullptr, "ENCODING", "");
    options =
        CSLSetNameValue(options, "DBF_DATE_LAST_UPDATE", "2025-06-30");  // a fixed date keeps the bytes reproducible
    layer_ = ds_->CreateLayer("thua_dat_tm3", &srs_, wkbPolygon, options);
    CSLDestroy(options);
    if (layer_ == nullptr)
      throw StoreError(fmt::format("{}: cannot create the layer: {}", shp_.string(), CPLGetLastErrorMsg()));
    add_field("OBJECTID", OFTInteger, 9, 0);
    add_field("SHBANDO", OFTInteger, 4, 0);
    add_field("SHTHUA", OFTInteger, 5, 0);
    add_field("DIENTICH", OFTReal, 12, 1);
    add_field("KHLOAIDAT", OFTString, 20, 0);
    add_field("TENCHU", OFTString, 80, 0);
    add_field("DIACHI", OFTString, 160, 0);
    add_field("MAXA", OFTString, 5, 0);
  }

  void write(const Lot& lot, int sheet, int parcel, std::string_view land_use, std::string_view owner,
             std::string_view address, std::string_view old_code) {
    OGRFeature feature(layer_->GetLayerDefn());
    ++count_;
    // Shoelace: the planar TM-3 area the DBF declares.
    double twice = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const Vec& p = lot.corners[i];
      const Vec& q = lot.corners[(i + 1) % 4];
      twice += p.x * q.y - q.x * p.y;
    }
    feature.SetField(0, static_cast<int>(count_));
    feature.SetField(1, sheet);
    feature.SetField(2, parcel);
    feature.SetField(3, std::round(std::fabs(twice) / 2 * 10) / 10);
    feature.SetField(4, std::string(land_use).c_str());
    feature.SetField(5, layers::vntext::encode_tcvn3(owner).c_str());
    feature.SetField(6, layers::vntext::encode_tcvn3(address).c_str());
    feature.SetField(7, std::string(old_code).c_str());
    auto ring = std::make_unique<OGRLinearRing>();
    for (const auto& c : lot.corners) ring->addPoint(c.x, c.y);
    ring->addPoint(lot.corners[0].x, lot.corners[0].y);
    auto polygon = std::make_unique<OGRPolygon>();
    polygon->addRingDirectly(ring.release());
    feature.SetGeometryDirectly(polygon.release());
    if (layer_->CreateFeature(&feature) != OGRERR_NONE) {
      throw StoreError(fmt::format("{}: cannot write parcel {}: {}", shp_.string(), count_, CPLGetLastErrorMsg()));
    }
  }

  void close(DemoSummary& summary) {
    ds_.reset();
    const auto base = shp_.parent_path() / shp_.stem();
    // GDAL writes ESRI WKT without TOWGS84; exports carry OGC WKT1 with it.
    char* wkt = nullptr;
    const char* wkt_options[] = {"FORMAT=WKT1_GDAL", nullptr};
    if (srs_.exportToWkt(&wkt, wkt_options) != OGRERR_NONE)
      throw Error(ErrorCode::internal, "cannot export the parcels' CRS");
    {
      OutFile prj(std::filesystem::path(base).concat(".prj"));
      fmt::format_to(std::back_inserter(prj.buffer()), "{}", wkt);
      prj.close();
    }
    CPLFree(wkt);
    std::filesystem::remove(std::filesystem::path(base).concat(".cpg"));
    for (const char* ext : {".shp", ".shx", ".dbf", ".prj"})
      summary.files.push_back(std::filesystem::path(base).concat(ext));
    summary.counts["parcels"] = count_;
  }

 private:
  void add_field(const char* name, OGRFieldType type, int width, int precision) {
    OGRFieldDefn field(name, type);
    field.SetWidth(width);
    field.SetPrecision(precision);
    if (layer_->CreateField(&field) != OGRERR_NONE)
      throw StoreError(fmt::format("{}: cannot create field {}", shp_.string(), name));
  }

  std::filesystem::path shp_;
  OGRSpatialReference srs_;
  Dataset ds_;
  OGRLayer* layer_ = nullptr;
  std::int64_t count_ = 0;
};

// Synthetic owners: people, households and, rarely, the commune itself. Personal data in real exports.
struct Owner {
  std::string name;
  bool organisation = false;
};

Owner make_owner(Random& random, const OldCommuneFact& old) {
  const double r = random.uniform();
  if (r < 0.01) return {fmt::format("UBND {} {}", lower_type(old.type), old.name), true};
  const bool male = random.chance(0.55);
  const std::string person =
      male ? fmt::format("{} {} {}", random.pick(kFamilyNames), random.pick(kMaleMiddle), random.pick(kMaleGiven))
           : fmt::format("{} {} {}", random.pick(kFamilyNames), random.pick(kFemaleMiddle), random.pick(kFemaleGiven));
  if (r < 0.33) return {fmt::format("Hộ {} {}", male ? "ông" : "bà", person), false};
  return {person, false};
}

std::string land_use_of(Random& random, const Lot& lot, const OldCommuneFact& old, bool organisation) {
  if (organisation) return "TSC";
  if (lot.street < 0) {
    const double r = random.uniform();
    if (r < 0.55) return "LUC";
    if (r < 0.72) return "BHK";
    if (r < 0.82) return "CLN";
    if (r < 0.92) return "NTS";
    return "LUK";
  }
  const bool urban = old.type != "Xã";
  const double r = random.uniform();
  if (urban) {
    if (lot.main_frontage && r < 0.35) return "TMD";
    if (r < 0.05) return "ODT+CLN";
    if (r < 0.06) return "SKC";
    return "ODT";
  }
  if (r < 0.22) return "ONT+CLN";
  if (r < 0.27) return "CLN";
  return "ONT";
}

// "đường Lê Lợi", "đường xóm 3", "Quốc lộ 46": a street as addresses write it after the number.
std::string street_in_address(const Street& s) {
  if (s.name.starts_with("Quốc lộ") || s.name.starts_with("Đường tỉnh")) return s.name;
  if (s.name.starts_with("Đường ")) return "đường " + s.name.substr(std::string_view("Đường ").size());
  return "đường " + s.name;
}

}  // namespace

DemoSummary generate_demo_province(const DemoOptions& options) {
  if (!(options.scale > 0.0 && options.scale <= 1000.0)) {
    throw BadRequestError(fmt::format("demo scale must be in (0, 1000], not {}", options.scale));
  }
  if (options.out.empty()) throw BadRequestError("demo: no output directory given");
  std::error_code ec;
  std::filesystem::create_directories(options.out, ec);
  if (ec || !std::filesystem::is_directory(options.out)) {
    throw StoreError(fmt::format("{}: cannot create the directory: {}", options.out.string(), ec.message()));
  }
  register_gdal();

  DemoSummary summary;
  Geos geos;
  const layers::Transformer to_tm3(
      "EPSG:4326", layers::vn2000_tm3_proj(layers::kNgheAnCentralMeridian, layers::HelmertConvention::vn_common));
  const LocalFrame local;
  Admin admin = build_admin(geos, local, to_tm3, options.seed);

  write_admin(geos, admin, options.out / "hanh_chinh.gpkg", summary);
  write_mapping(admin, options.out / "bang_chuyen_doi_2025.csv", summary);

  OutFile addresses(options.out / "dia_chi.csv");
  fmt::format_to(
      std::back_inserter(addresses.buffer()),
      "id,digital_code,house_number,lane,street,hamlet,commune_code,commune_name,old_commune_code,old_commune_name,"
      "old_district_name,postcode,lon,lat,plus_code\n");
  OutFile streets(options.out / "duong_pho.geojson");
  fmt::format_to(std::back_inserter(streets.buffer()),
                 "{{\"type\":\"FeatureCollection\",\"name\":\"duong_pho\",\"features\":[\n");
  ParcelWriter parcels(options.out);

  std::unordered_set<std::uint32_t> used_codes;
  Random code_random(stream_seed(options.seed, 2));
  std::int64_t address_count = 0, street_count = 0;

  for (std::size_t u = 0; u < admin.units.size(); ++u) {
    const Unit& unit = admin.units[u];
    Random random(stream_seed(options.seed, 100 + u));
    UnitBuild build;

    // Shares of the unit's addresses: the seat most, rural predecessors of urban wards least.
    std::vector<double> weights;
    double weight_sum = 0;
    for (const int o : unit.olds) {
      const auto& fact = *admin.olds[static_cast<std::size_t>(o)].fact;
      double w = fact.code == unit.fact->code ? 1.6 : 1.0;
      if (fact.type == "Xã" && unit.fact->profile != Profile::rural) w *= 0.5;
      weights.push_back(w);
      weight_sum += w;
    }
    const double angle = random.uniform(-0.5, 0.5);
    double carry = 0;  // what full old communes could not hold goes to the next ones
    for (std::size_t k = 0; k < unit.olds.size(); ++k) {
      const int o = unit.olds[k];
      OldCommune& old = admin.olds[static_cast<std::size_t>(o)];
      prepare_old_commune(geos, old, random);
      const double share = weights[k] / weight_sum;
      const double target = unit.fact->base_addresses * options.scale * share / 0.96 + carry;
      const double survey = unit.fact->base_addresses * std::min(options.scale, 1.0) * share / 0.96;
      CoreBuilder core(geos, unit, old, o, build, random);
      const double made = core.build(target, survey, old.fact->code == unit.fact->code, unit.fact->field_strips,
                                     angle + random.uniform(-0.2, 0.2));
      carry = std::max(0.0, target - made);
    }
    number_houses(build);
    name_streets(unit, admin.olds, build, random);

    // Streets.
    for (const auto& s : build.streets) {
      if (!s.used && s.kind != StreetKind::lane) continue;
      double ax = s.a.x, ay = s.a.y, bx = s.b.x, by = s.b.y;
      to_tm3.inverse(ax, ay);
      to_tm3.inverse(bx, by);
      ++street_count;
      fmt::format_to(std::back_inserter(streets.buffer()),
                     "{}{{\"type\":\"Feature\",\"properties\":{{\"id\":\"DS{:06d}\",\"name\":{},\"kind\":\"{}\","
                     "\"commune_code\":\"{}\"}},"
                     "\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[[{:.7f},{:.7f}],[{:.7f},{:.7f}]]}}}}",
                     street_count == 1 ? "" : ",\n", street_count, json_string(s.name), kind_name(s.kind),
                     unit.fact->code, round7(ax), round7(ay), round7(bx), round7(by));
    }
    streets.flush_if_full();

    // Addresses and parcels, lot by lot.
    const std::string commune_name = unit_full_name(*unit.fact);
    for (const auto& lot : build.lots) {
      OldCommune& old = admin.olds[static_cast<std::size_t>(lot.old)];
      const std::string hamlet = hamlet_of(old, lot.point);
      const Street* street = lot.street >= 0 ? &build.streets[static_cast<std::size_t>(lot.street)] : nullptr;
      const Street* root = street != nullptr && street->kind == StreetKind::lane
                               ? &build.streets[static_cast<std::size_t>(street->parent)]
                               : street;
      const std::string lane =
          street != nullptr && street->kind == StreetKind::lane ? fmt::format("ngõ {}", street->lane_number) : "";

      if (street != nullptr && !lot.vacant) {
        double lon = lot.point.x, lat = lot.point.y;
        to_tm3.inverse(lon, lat);
        lon = round7(lon);
        lat = round7(lat);
        std::uint32_t body = 0;
        do {
          body = static_cast<std::uint32_t>(code_random.integer(100000000, 999999999));
        } while (!used_codes.insert(body).second);
        const std::string body_text = fmt::format("{}", body);
        ++address_count;
        fmt::format_to(
            std::back_inserter(addresses.buffer()), "DA{:08d},{}{},{},{},{},{},{},{},{},{},{},{},{:.7f},{:.7f},{}\n",
            address_count, body_text, layers::damm_check_digit(body_text), lot.number, csv(lane), csv(root->name),
            csv(hamlet), unit.fact->code, csv(commune_name), old.fact->code, csv(old_full_name(*old.fact)),
            csv(district_full_name(*old.district)), old.postcode, lon, lat, layers::encode_plus_code(lat, lon));
        addresses.flush_if_full();
      }

      if (unit.fact->parcels && lot.surveyed) {
        const int sheet = sheet_of(old, lot.point);
        if (sheet == 0) continue;  // cannot happen for points inside the commune; keeps the key well-formed
        const int number = ++old.next_parcel[sheet];
        const Owner owner = make_owner(random, *old.fact);
        const std::string land_use = land_use_of(random, lot, *old.fact, owner.organisation);
        const std::string place = fmt::format("{}, {} {}, {}", hamlet, lower_type(old.fact->type), old.fact->name,
                                              fmt::format("{} {}", lower_type(old.district->type), old.district->name));
        std::string address_text;
        if (street == nullptr) {
          address_text = "Cánh đồng " + place;
        } else if (lot.vacant) {
          address_text = fmt::format("Ven {}, {}", street_in_address(*root), place);
        } else if (!lane.empty()) {
          address_text = fmt::format("Số {} {} {}, {}", lot.number, lane, street_in_address(*root), place);
        } else {
          address_text = fmt::format("Số {} {}, {}", lot.number, street_in_address(*root), place);
        }
        parcels.write(lot, sheet, number, land_use, owner.name, address_text, old.fact->code);
      }
    }
  }

  fmt::format_to(std::back_inserter(streets.buffer()), "\n]}}\n");
  streets.close();
  addresses.close();
  parcels.close(summary);
  summary.counts["streets"] = street_count;
  summary.counts["addresses"] = address_count;
  summary.files.push_back(options.out / "duong_pho.geojson");
  summary.files.push_back(options.out / "dia_chi.csv");
  write_land_use_codes(options.out / "ma_loai_dat.csv", summary);
  return summary;
}

}  // namespace bandoso::data_import
