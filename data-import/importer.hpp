#pragma once
// The import: reads departments' files with GDAL/OGR (Shapefile, GeoPackage, GeoJSON, CSV, ...),
// decodes legacy Vietnamese text, reprojects VN-2000 with the chosen Helmert convention, repairs or
// rejects records, and replaces one layer of the store in one transaction. A damaged file fails the
// whole import and leaves the store as it was.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "layers/core/catalogue.hpp"
#include "layers/core/crs.hpp"
#include "layers/core/store.hpp"

namespace bandoso::data_import {

struct ImportOptions {
  std::string layer;
  std::vector<std::filesystem::path> sources;  // read in turn into one import
  std::optional<std::filesystem::path> mapping;
  std::string source_crs;  // for sources without a CRS (.prj); empty: the mapping's source_crs
  layers::HelmertConvention helmert = layers::HelmertConvention::vn_common;
  std::string encoding = "auto";  // auto | utf-8 | tcvn3 | cp1258; "auto" defers to the mapping's encoding
};

// One record the import did not take as it was.
struct RecordIssue {
  std::string source_id;  // the record's id/OBJECTID/fid field, else its feature id ("file:id" with several sources)
  std::string action;     // "rejected" | "flagged" | "repaired"
  std::string reason;     // e.g. missing_parcel_number, duplicate_parcel_key, self_intersection_repaired
};

struct ImportReport {
  layers::ImportRecord record;
  std::vector<RecordIssue> records;
  std::string detected_encoding;  // utf-8 | tcvn3 | cp1258 (";"-joined when sources differ)

  // {layer, read, imported, repaired, flagged, rejected, records: [{source_id, action, reason}], ...}
  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] std::string summary() const;  // a few lines for people
};

// Imports `options.sources` into `layer`, replacing its content. Throws Error(file_not_found) for a
// missing source or mapping, ConfigError for a wrong mapping, InputError for an unreadable or damaged
// source or a source without CRS; the store keeps its previous content whenever it throws.
ImportReport run_import(layers::Store& store, const layers::LayerDef& layer, const ImportOptions& options);

}  // namespace bandoso::data_import
