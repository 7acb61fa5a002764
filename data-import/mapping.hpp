#pragma once
// Mapping files: which source field feeds which attribute of a layer, plus the few facts a source
// file cannot tell by itself (its text encoding, its CRS, the columns holding CSV coordinates).
//
//   layer: parcels               # the layer the mapping is meant for (required)
//   source_layer: xa_cu          # OGR layer of a multi-layer source; default: the first layer
//   source_id: OBJECTID          # field naming records in the report ($fid: the feature id); default:
//                                # id/OBJECTID/fid, else the feature id
//   encoding: auto               # auto | utf-8 | tcvn3 | vni | cp1258
//   source_crs: EPSG:4326        # for sources without a .prj (--source-crs overrides both)
//   csv: {x: lon, y: lat}        # point geometry from two CSV columns, or csv: {wkt: geometry}
//   fields:
//     sheet_no: SHBANDO          # attribute: source field
//     land_use: {field: KHLOAIDAT, case: upper, split: "+"}   # "ont + cln" → "ONT+CLN"
//     name: {field: ten, trim: true, case: title, default: "?"}
//     kind: {value: street}      # a constant, like `constants`
//     id: $fid                   # the feature id (DGN, KML and others have no id field)
//   constants: {province_code: "40"}
//   filters:                     # only records passing every filter are imported (the others are
//     - {field: MATINH, equals: "40"}            # counted as filtered, not rejected)
//     - {field: KHLOAIDAT, not_in: [DGT, SON]}
//     - {field: SHTHUA, empty: false}
//
// Text rules of a field, applied after decoding, in this order: the ends are always trimmed, and
// `trim: true` also folds inner runs of white space into one space; `case: upper | lower | title`;
// `split: SEP` reads a list ("ONT+CLN"): every part trimmed and cased, empty parts dropped, stored
// joined by `join` (default: SEP); `default` stands in for a blank value. Filters compare the source
// field's decoded, trimmed text exactly (`equals`, `not_equals`, `in`, `not_in`, `empty: true|false`).
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

// The encodings an import accepts; "auto" tells UTF-8, TCVN3, VNI and CP1258 apart by the bytes.
inline constexpr std::string_view kEncodings[] = {"auto", "utf-8", "tcvn3", "vni", "cp1258"};
bool is_known_encoding(std::string_view name);

struct CsvColumns {
  std::string x;    // longitude / easting column
  std::string y;    // latitude / northing column
  std::string wkt;  // or: a column of WKT geometries
};

enum class LetterCase { keep, upper, lower, title };

// Where an attribute's value comes from and how its text is tidied.
struct FieldSpec {
  std::string field;  // the source field
  bool squeeze = false;
  LetterCase letter_case = LetterCase::keep;
  std::string split;  // non-empty: the value is a list with this separator
  std::string join;   // separator of the stored list (default: split)
  std::optional<std::string> default_value;

  [[nodiscard]] bool has_text_rules() const { return squeeze || letter_case != LetterCase::keep || !split.empty(); }
  // The list separator of the stored value ("+" when the mapping gives none).
  [[nodiscard]] const std::string& list_separator() const;
};

// Applies a field's text rules (not `default`) to decoded NFC text.
std::string apply_text_rules(const FieldSpec& spec, std::string_view text);

struct Filter {
  enum class Op { equals, not_equals, in, not_in, empty, not_empty };
  std::string key;  // "filters[2]", for messages
  std::string field;
  Op op = Op::equals;
  std::vector<std::string> values;  // equals/not_equals: one; in/not_in: several

  // `text`: the field's decoded, trimmed text ("" when null).
  [[nodiscard]] bool passes(std::string_view text) const;
};

struct Mapping {
  std::string origin;  // the file it came from, for messages
  std::string layer;
  std::string source_layer;  // empty: the source's first layer
  std::string source_id;     // empty: id/OBJECTID/fid, else the feature id
  std::string encoding;      // empty: not set (the import's option decides)
  std::string source_crs;    // empty: not set
  std::optional<CsvColumns> csv;
  std::vector<std::pair<std::string, FieldSpec>> fields;       // attribute, source (file order)
  std::vector<std::pair<std::string, std::string>> constants;  // attribute, value (file order)
  std::vector<Filter> filters;

  [[nodiscard]] const std::string* field_for(std::string_view attribute) const;  // the source field name
  [[nodiscard]] const FieldSpec* spec_for(std::string_view attribute) const;
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
// that constants and defaults fit the attribute types, that text rules go on text attributes, and
// that `csv` is only given for layers with geometry.
// Throws ConfigError naming the mapping's origin and the key.
void check_mapping(const Mapping& mapping, const layers::LayerDef& layer);

}  // namespace bandoso::data_import
