#pragma once
// Mapping files: which source field feeds which attribute of a layer, plus the few facts a source
// file cannot tell by itself (its text encoding, its CRS, the columns holding CSV coordinates).
//
//   layer: parcels               # the layer the mapping is meant for (required)
//   source_layer: xa_cu          # OGR layer of a multi-layer source; default: the first layer
//   source_id: OBJECTID          # field naming records in the report; default: id/OBJECTID/fid, else the FID
//   encoding: auto               # auto | utf-8 | tcvn3 | cp1258
//   source_crs: EPSG:4326        # default for sources without a .prj
//   csv: {x: lon, y: lat}        # point geometry from two CSV columns
//   fields: {sheet_no: SHBANDO}  # attribute: source field
//   constants: {province_code: "40"}
//
// Attributes named neither in `fields` nor in `constants` are read from the source field of the same
// name (case-insensitive) when the source has one.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layers/core/catalogue.hpp"
#include "layers/core/store.hpp"

namespace bandoso::data_import {

// The encodings an import accepts; "auto" tells UTF-8 from TCVN3 by looking at the bytes.
inline constexpr std::string_view kEncodings[] = {"auto", "utf-8", "tcvn3", "cp1258"};
bool is_known_encoding(std::string_view name);

struct CsvColumns {
  std::string x;  // longitude / easting column
  std::string y;  // latitude / northing column
};

struct Mapping {
  std::string origin;  // the file it came from, for messages
  std::string layer;
  std::string source_layer;  // empty: the source's first layer
  std::string source_id;     // empty: id/OBJECTID/fid, else the feature id
  std::string encoding;      // empty: not set (the import's option decides)
  std::string source_crs;    // empty: not set
  std::optional<CsvColumns> csv;
  std::vector<std::pair<std::string, std::string>> fields;     // attribute, source field (file order)
  std::vector<std::pair<std::string, std::string>> constants;  // attribute, value (file order)

  [[nodiscard]] const std::string* field_for(std::string_view attribute) const;
  [[nodiscard]] const std::string* constant_for(std::string_view attribute) const;
};

// Converts source text to a value of an attribute type: trimmed text; integers ("12", "12.0");
// reals ("104.9", "104,9"); dates "YYYY-MM-DD" or "DD/MM/YYYY" (stored as YYYY-MM-DD); booleans
// (true/false, yes/no, có/không, 1/0). Blank text is null. nullopt: the text is not of that type.
std::optional<layers::Value> parse_attribute_value(std::string_view text, layers::AttributeType type);

// Parses a mapping; `origin` names the file in messages. Unknown keys, wrong types and duplicate
// attributes throw ConfigError naming the origin and the key path (e.g. "fields.sheet_no").
Mapping parse_mapping(std::string_view yaml_text, const std::string& origin);

// Reads and parses a mapping file; Error(file_not_found) when it does not exist.
Mapping load_mapping(const std::filesystem::path& file);

// Checks a mapping against the layer it is used for: the layer name, that every attribute exists,
// that constants fit the attribute types, and that `csv` is only given for layers with geometry.
// Throws ConfigError naming the mapping's origin and the key.
void check_mapping(const Mapping& mapping, const layers::LayerDef& layer);

}  // namespace bandoso::data_import
