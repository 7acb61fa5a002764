#pragma once
// Land-use statistics for planners (GET/POST /stats/land-use): the area of each land-use code over the
// cadastral parcels of one 2025 commune or inside a drawn polygon, with parcel counts and the share of
// each code and of each top group (NNP agricultural, PNN non-agricultural, CSD unused land).
//
// Areas are planar areas in VN-2000 / TM-3 104°45′ (k 0.9999, x0 500 000, vn-common Helmert), the
// projection of Nghệ An's cadastre, computed from the stored geometries (EPSG:4326), not taken from the
// declared area_m2; the declared (legal) areas are summed separately where whole parcels are counted.
// Reads through layers::Store only; knows neither HTTP nor SQL. Owner names are never read out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/core/store.hpp"

namespace bandoso::features {

// A drawn polygon with more vertices than this is refused with ErrorCode::too_large (HTTP 413).
inline constexpr std::size_t kMaxPolygonVertices = 10000;

// The top group of a land-use code, from a small table of the groups' member codes over every era of
// the catalogue (TT 25/28-2014, 2024+, legacy): "NNP", "PNN", "CSD", "MVB" (coastal water surface, an
// observation indicator outside the three groups), or "unknown". A combined code ("ODT+CLN") takes
// the group of its first code, as the cadastral map colours it.
std::string_view land_use_group(std::string_view code);

// One land-use code as recorded on the parcels (a combined code such as "ODT+CLN" is its own row).
struct LandUseCodeStats {
  std::string code;                     // "" for parcels without a code
  std::string name;                     // catalogue name (parts joined by " + "); "" when not catalogued
  std::string group;                    // land_use_group(code)
  double area_m2 = 0;                   // TM-3 area of the parcels (or of their parts inside the polygon)
  std::optional<double> legal_area_m2;  // sum of the declared area_m2 (commune statistics only)
  std::int64_t parcels = 0;
  double share = 0;  // area_m2 / total area_m2 (0 when the total is 0)
};

struct LandUseGroupStats {
  std::string group;  // "NNP", "PNN", "CSD", "MVB" or "unknown"
  std::string name;   // e.g. "Nhóm đất nông nghiệp"
  double area_m2 = 0;
  std::int64_t parcels = 0;
  double share = 0;
};

struct LandUseStats {
  std::optional<std::string> commune_code;  // commune statistics
  std::string commune_name;                 // full name, e.g. "Phường Thành Vinh"
  std::optional<double> polygon_area_m2;    // polygon statistics: the drawn polygon's TM-3 area
  double area_m2 = 0;                       // total over the codes
  std::optional<double> legal_area_m2;      // commune statistics only
  std::int64_t parcels = 0;
  // Ordered by group (NNP, PNN, CSD, MVB, unknown), then by area (largest first), then by code.
  std::vector<LandUseCodeStats> codes;
  // NNP, PNN and CSD always; MVB and unknown only when they hold parcels.
  std::vector<LandUseGroupStats> groups;
};

// The parcels of one 2025 commune or ward: those whose commune_code is `commune_code`, and those
// without a commune_code whose old_commune_code went into it (layer commune_mapping, the GSO table).
// Throws BadRequestError on an empty code, NotFoundError when the communes layer has no such unit
// (or the store has no parcels layer). A unit without parcels gives empty statistics.
LandUseStats land_use_by_commune(const layers::Store& store, const std::string& commune_code);

// The parcels' parts inside a GeoJSON Polygon or MultiPolygon (or a Feature holding one) in lon/lat
// (EPSG:4326). A parcel counts when its part inside has a positive area. Throws BadRequestError when
// the text is not such a geometry, is empty, has coordinates outside lon/lat ranges or is invalid
// (with GEOS's reason), and Error(ErrorCode::too_large) above kMaxPolygonVertices vertices (ring
// closing points included).
LandUseStats land_use_in_polygon(const layers::Store& store, std::string_view geojson);

// {"commune_code"?, "commune_name"?, "polygon_area_m2"?, "area_m2", "legal_area_m2"?, "parcels",
//  "groups": [{"group", "name", "area_m2", "parcels", "share"}],
//  "codes": [{"code", "name", "group", "area_m2", "legal_area_m2"?, "parcels", "share"}]}
// Optional fields are left out when absent; areas in m².
nlohmann::json to_json(const LandUseStats& stats);

// RFC 4180 CSV (comma, CRLF line ends, fields quoted when they hold a comma, quote or line break), one
// row per code: code,name,group,group_name,area_m2,legal_area_m2,parcels,share,group_area_m2,group_share
// (areas to 0.01 m², shares in full precision; legal_area_m2 empty when absent).
std::string to_csv(const LandUseStats& stats);

}  // namespace bandoso::features
