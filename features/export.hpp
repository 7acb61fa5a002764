#pragma once
// Export of a collection's items as a whole file, GeoJSON or CSV, streamed: the answer is handed over in
// pieces of about 64 KB as it is produced, never held whole in memory. The selection is the items
// request's (bbox, equality filters, offset), up to a limit of its own. No HTTP here: the front names the
// file, sets the content type and writes the pieces.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "features/collections.hpp"
#include "layers/core/store.hpp"

namespace bandoso::features {

enum class ExportFormat { geojson, csv };

// "geojson" or "csv". Throws BadRequestError for anything else.
ExportFormat parse_export_format(std::string_view text);
std::string_view to_string(ExportFormat format);

inline constexpr std::size_t kMaxExportFeatures = 1000000;
inline constexpr std::size_t kExportPieceBytes = 64 * 1024;  // the size pieces are handed over at

class Export {
 public:
  // Checks everything before any byte is written: throws NotFoundError for an unknown collection and
  // BadRequestError for a bad filter (unknown attribute, restricted attribute for the public, bad value),
  // a bbox on a collection without geometry, or `limit` over kMaxExportFeatures.
  // The selection is request.bbox, request.filters and request.offset; request.limit (a page's size) is
  // not used: `limit` is the most features exported, 0 meaning kMaxExportFeatures. Restricted attributes
  // (owner names) are exported only when request.restricted.
  Export(const layers::Store& store, std::string collection, ExportFormat format, ItemsRequest request,
         std::size_t limit = kMaxExportFeatures);

  [[nodiscard]] ExportFormat format() const { return format_; }
  [[nodiscard]] const layers::LayerDef& layer() const { return layer_; }
  // "application/geo+json" or "text/csv; charset=utf-8".
  [[nodiscard]] std::string content_type() const;
  // The collection's name with the format's extension: "parcels.geojson", "parcels.csv".
  [[nodiscard]] std::string filename() const;

  // Writes the whole answer to `write`, in pieces of about kExportPieceBytes (one feature or row longer
  // than that makes a longer piece):
  // - GeoJSON: a FeatureCollection, its features as Collections::items gives them (id, geometry or null,
  //   the attributes the caller may see);
  // - CSV (GDAL's CSV driver, comma-separated, quoted where needed, LF line ends, no BOM): a header row,
  //   then one row per feature: the geometry as ISO WKT (OGR's) in the first column, "wkt" (empty without
  //   a geometry),
  //   then the attributes the caller may see in definition order; integers, booleans (0/1) and reals as
  //   numbers, text and dates (YYYY-MM-DD) as text, null as an empty cell.
  // Features come in the store's order, read in one selection. `ids`, when given, receives every exported
  // feature's id (as feature_id), in order, for the audit log. May throw (storage failure) after pieces
  // were written: the answer is then incomplete. Can run more than once, and on several threads at once.
  void run(const std::function<void(std::string_view)>& write, std::vector<std::string>* ids = nullptr) const;

 private:
  void run_geojson(const std::function<void(std::string_view)>& write, std::vector<std::string>* ids) const;
  void run_csv(const std::function<void(std::string_view)>& write, std::vector<std::string>* ids) const;

  const layers::Store& store_;
  layers::LayerDef layer_;
  ExportFormat format_;
  bool restricted_;
  layers::FeatureQuery query_;  // offset and limit set
};

}  // namespace bandoso::features
