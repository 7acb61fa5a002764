#pragma once
// The import: reads departments' files with GDAL/OGR (Shapefile, GeoPackage, GeoJSON, CSV, DGN v7,
// OpenFileGDB, KML, and the same inside a .zip), decodes legacy Vietnamese text, reprojects VN-2000
// with the chosen Helmert convention, repairs, flags or rejects records, and writes one layer of the
// store in one transaction. A damaged file, or one that lies outside the province, fails the whole
// import and leaves the store as it was.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "layers/core/catalogue.hpp"
#include "layers/core/crs.hpp"
#include "layers/core/store.hpp"

namespace bandoso::data_import {

// Where an import stands, for a progress display. Called every few thousand records and once at the
// end of every source.
struct ImportProgress {
  std::string source;        // the file being read
  std::int64_t done = 0;     // records read from it so far
  std::int64_t total = -1;   // its record count; -1 when GDAL cannot tell cheaply
  bool source_done = false;  // the last call for this source
};

struct ImportOptions {
  std::string layer;
  std::vector<std::filesystem::path> sources;  // read in turn into one import; a .zip is read inside
  std::optional<std::filesystem::path> mapping;
  // CRS of the sources: overrides their .prj when given; empty: the .prj, else the mapping's source_crs.
  std::string source_crs;
  layers::HelmertConvention helmert = layers::HelmertConvention::vn_common;
  std::string encoding = "auto";  // auto | utf-8 | tcvn3 | vni | cp1258; "auto" defers to the mapping's encoding
  layers::WriteMode mode = layers::WriteMode::replace;
  std::function<void(const ImportProgress&)> progress;  // optional
};

// One record the import did not take as it was.
struct RecordIssue {
  std::string source_id;  // the record's id/OBJECTID/fid field, else its feature id ("file:id" with several sources)
  std::string action;     // "rejected" | "flagged" | "repaired"
  std::string reason;     // e.g. missing_parcel_number, duplicate_parcel_key, self_intersection_repaired
};

struct ImportReport {
  layers::ImportRecord record;  // read, imported, repaired, flagged (records kept with a flag), rejected
  std::int64_t filtered = 0;    // records the mapping's filters left out (neither imported nor rejected)
  std::vector<RecordIssue> records;
  std::string detected_encoding;   // utf-8 | tcvn3 | vni | cp1258 (";"-joined when sources differ)
  std::vector<std::string> notes;  // checks that could not run (e.g. no land-use catalogue in the store)

  // {layer, read, imported, repaired, flagged, rejected, records: [{source_id, action, reason}], ...}
  // and provenance: mode, filtered, source, source_sha256, source_crs, encoding, mapping, notes.
  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] std::string summary() const;  // a few lines for people
};

// Imports `options.sources` into `layer` (replacing its content, or upserting by key). Throws
// Error(file_not_found) for a missing source or mapping, ConfigError for a wrong mapping, InputError
// for an unreadable or damaged source, a source without CRS, or a source whose features mostly lie
// outside Nghệ An; the store keeps its previous content whenever it throws.
ImportReport run_import(layers::Store& store, const layers::LayerDef& layer, const ImportOptions& options);

}  // namespace bandoso::data_import
