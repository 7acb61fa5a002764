#include "data-import/importer.hpp"

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "data-import/mapping.hpp"
#include "layers/core/error.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::data_import {

namespace fs = std::filesystem;

namespace {

// ---- GDAL plumbing -----------------------------------------------------------------------------------

void ensure_gdal_registered() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

// Captures GDAL's errors while it is alive. GDAL reports read errors (a truncated .shp) only through
// its error handler and still hands out features, so the reader checks failed() after every read.
class GdalErrorTrap {
 public:
  GdalErrorTrap() { CPLPushErrorHandlerEx(&GdalErrorTrap::handle, this); }
  ~GdalErrorTrap() { CPLPopErrorHandler(); }
  GdalErrorTrap(const GdalErrorTrap&) = delete;
  GdalErrorTrap& operator=(const GdalErrorTrap&) = delete;

  void clear() { failures_.clear(); }
  [[nodiscard]] bool failed() const { return !failures_.empty(); }
  [[nodiscard]] std::string message() const { return failures_.empty() ? std::string() : failures_.front(); }

 private:
  static void CPL_STDCALL handle(CPLErr level, CPLErrorNum /*number*/, const char* message) {
    auto* self = static_cast<GdalErrorTrap*>(CPLGetErrorHandlerUserData());
    if (self != nullptr && level >= CE_Failure) self->failures_.emplace_back(message != nullptr ? message : "");
  }
  std::vector<std::string> failures_;
};

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

// ---- step 1: open a source ---------------------------------------------------------------------------

struct Source {
  fs::path path;
  std::string driver;
  GDALDatasetUniquePtr dataset;
  OGRLayer* layer = nullptr;
};

bool is_gdal_virtual_path(const fs::path& path) { return path.string().starts_with("/vsi"); }

Source open_source(const fs::path& path, const Mapping* mapping, const layers::LayerDef& def, GdalErrorTrap& trap) {
  std::error_code ec;
  if (!is_gdal_virtual_path(path) && !fs::exists(path, ec)) {
    throw Error(ErrorCode::file_not_found, path.string() + ": no such file");
  }
  trap.clear();
  GDALDriverH driver = GDALIdentifyDriverEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr);
  if (driver == nullptr) {
    throw InputError(
        fmt::format("{}: not a vector format GDAL can read (Shapefile, GeoPackage, GeoJSON, CSV, ...)", path.string()));
  }
  Source source;
  source.path = path;
  source.driver = GDALGetDriverShortName(driver);

  CPLStringList open_options;
  if (source.driver == "ESRI Shapefile") {
    // Raw DBF bytes: legacy TCVN3 text must reach our decoder, not be recoded by GDAL.
    open_options.AddString("ENCODING=");
  } else if (source.driver == "CSV" && def.geometry != layers::GeometryType::none) {
    if (mapping != nullptr && mapping->csv) {
      open_options.AddNameValue("X_POSSIBLE_NAMES", mapping->csv->x.c_str());
      open_options.AddNameValue("Y_POSSIBLE_NAMES", mapping->csv->y.c_str());
    } else {
      open_options.AddNameValue("X_POSSIBLE_NAMES", "lon,longitude,lng,x");
      open_options.AddNameValue("Y_POSSIBLE_NAMES", "lat,latitude,y");
    }
  }
  const std::array<const char*, 2> allowed{source.driver.c_str(), nullptr};
  source.dataset.reset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                         allowed.data(), open_options.List(), nullptr));
  if (!source.dataset) {
    throw InputError(fmt::format("{}: cannot be opened as {}: {}", path.string(), source.driver,
                                 trap.failed() ? trap.message() : std::string(CPLGetLastErrorMsg())));
  }
  const std::string wanted = mapping != nullptr ? mapping->source_layer : std::string();
  if (!wanted.empty()) {
    source.layer = source.dataset->GetLayerByName(wanted.c_str());
    if (source.layer == nullptr) {
      std::string names;
      for (auto* layer : source.dataset->GetLayers())
        names += (names.empty() ? "" : ", ") + std::string(layer->GetName());
      throw InputError(fmt::format("{}: has no layer '{}' (source_layer in {}); its layers: {}", path.string(), wanted,
                                   mapping->origin, names));
    }
  } else {
    source.layer = source.dataset->GetLayerCount() > 0 ? source.dataset->GetLayer(0) : nullptr;
    if (source.layer == nullptr) throw InputError(path.string() + ": contains no vector layer");
  }
  if (source.driver == "CSV" && mapping != nullptr && mapping->csv && def.geometry != layers::GeometryType::none) {
    auto* defn = source.layer->GetLayerDefn();
    for (const auto* column : {&mapping->csv->x, &mapping->csv->y}) {
      if (defn->GetFieldIndex(column->c_str()) < 0) {
        throw InputError(fmt::format("{}: has no column '{}' (csv in {})", path.string(), *column, mapping->origin));
      }
    }
  }
  return source;
}

// Reads the next feature; a GDAL failure while reading (damaged file) fails the whole import.
OGRFeatureUniquePtr read_next(Source& source, GdalErrorTrap& trap, std::int64_t record_number) {
  trap.clear();
  OGRFeatureUniquePtr feature(source.layer->GetNextFeature());
  if (trap.failed()) {
    const std::string which = feature ? fmt::format("feature {} (FID {})", record_number, feature->GetFID())
                                      : fmt::format("feature {}", record_number);
    throw InputError(fmt::format("{}: cannot read {}: {} — the file is damaged; nothing was imported",
                                 source.path.string(), which, trap.message()));
  }
  return feature;
}

// ---- step 2: text encoding ---------------------------------------------------------------------------

enum class TextEncoding { utf8, tcvn3, cp1258 };

std::string_view to_string(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::utf8:
      return "utf-8";
    case TextEncoding::tcvn3:
      return "tcvn3";
    case TextEncoding::cp1258:
      return "cp1258";
  }
  return "utf-8";
}

std::string requested_encoding(const ImportOptions& options, const Mapping* mapping) {
  if (!is_known_encoding(options.encoding)) {
    throw BadRequestError(
        fmt::format("unknown encoding '{}' (expected auto, utf-8, tcvn3 or cp1258)", options.encoding));
  }
  if (options.encoding == "auto" && mapping != nullptr && !mapping->encoding.empty()) return mapping->encoding;
  return options.encoding;
}

// "auto": UTF-8 when every text value is valid UTF-8, else TCVN3 (the legacy Famis/ViLIS encoding);
// CP1258 only when the Shapefile's .cpg/LDID says so.
TextEncoding detect_encoding(Source& source, std::string_view requested, GdalErrorTrap& trap) {
  if (requested == "utf-8") return TextEncoding::utf8;
  if (requested == "tcvn3") return TextEncoding::tcvn3;
  if (requested == "cp1258") return TextEncoding::cp1258;

  auto* defn = source.layer->GetLayerDefn();
  std::vector<int> text_fields;
  for (int i = 0; i < defn->GetFieldCount(); ++i) {
    if (defn->GetFieldDefn(i)->GetType() == OFTString) text_fields.push_back(i);
  }
  bool all_utf8 = true;
  if (!text_fields.empty()) {
    // Attributes only: skipping geometry makes the scan cheap.
    const std::array<const char*, 2> ignored{"OGR_GEOMETRY", nullptr};
    source.layer->SetIgnoredFields(const_cast<const char**>(ignored.data()));
    source.layer->ResetReading();
    std::int64_t number = 0;
    while (all_utf8) {
      auto feature = read_next(source, trap, ++number);
      if (!feature) break;
      for (int field : text_fields) {
        if (feature->IsFieldSetAndNotNull(field) && !layers::vntext::is_valid_utf8(feature->GetFieldAsString(field))) {
          all_utf8 = false;
          break;
        }
      }
    }
    source.layer->SetIgnoredFields(nullptr);
    source.layer->ResetReading();
  }
  if (all_utf8) return TextEncoding::utf8;
  const char* declared = source.layer->GetMetadataItem("SOURCE_ENCODING", "SHAPEFILE");
  if (declared != nullptr && lower_ascii(declared).find("1258") != std::string::npos) return TextEncoding::cp1258;
  return TextEncoding::tcvn3;
}

// Decoded NFC text, or nullopt when the bytes are not text in that encoding.
std::optional<std::string> decode_text(std::string_view bytes, TextEncoding encoding) {
  try {
    switch (encoding) {
      case TextEncoding::utf8:
        return layers::vntext::to_nfc(bytes);
      case TextEncoding::tcvn3:
        return layers::vntext::decode_legacy(bytes, layers::vntext::LegacyEncoding::tcvn3);
      case TextEncoding::cp1258:
        return layers::vntext::decode_legacy(bytes, layers::vntext::LegacyEncoding::cp1258);
    }
  } catch (const InputError&) {
  }
  return std::nullopt;
}

// ---- step 3: coordinate reference system -------------------------------------------------------------

struct CrsPlan {
  std::unique_ptr<OGRCoordinateTransformation> transform;  // null: the source is already EPSG:4326
  std::string label;                                       // short, for the import log
};

bool is_vn2000(const OGRSpatialReference& srs) {
  std::array<double, 7> towgs84{};
  if (srs.GetTOWGS84(towgs84.data(), 7) == OGRERR_NONE && std::fabs(towgs84[0] + 191.904) < 0.01 &&
      std::fabs(towgs84[1] + 39.303) < 0.01 && std::fabs(towgs84[2] + 111.450) < 0.01) {
    return true;
  }
  if (const char* datum = srs.GetAttrValue("DATUM"); datum != nullptr) {
    const std::string name = lower_ascii(datum);
    for (const char* marker : {"vn-2000", "vn_2000", "vn2000", "vn 2000", "vietnam"}) {
      if (name.find(marker) != std::string::npos) return true;
    }
  }
  for (const char* node : {static_cast<const char*>(nullptr), "GEOGCS"}) {
    const char* authority = srs.GetAuthorityName(node);
    const char* code = srs.GetAuthorityCode(node);
    if (authority == nullptr || code == nullptr || std::string_view(authority) != "EPSG") continue;
    const int epsg = std::atoi(code);
    if (epsg == 3405 || epsg == 3406 || epsg == 4756 || (epsg >= 5896 && epsg <= 5899) ||
        (epsg >= 9205 && epsg <= 9218)) {
      return true;
    }
  }
  return false;
}

bool near(double a, double b, double tolerance = 1e-9) { return std::fabs(a - b) <= tolerance; }

// VN-2000 with our Helmert convention: EPSG's own definitions carry the flipped rotation signs, so the
// projection parameters are kept and the datum shift is rebuilt (crs.hpp explains the two conventions).
std::pair<std::string, std::string> vn2000_definition(const OGRSpatialReference& srs,
                                                      layers::HelmertConvention helmert) {
  const std::string convention(layers::to_string(helmert));
  const std::string towgs84 = layers::vn2000_towgs84(helmert);
  if (srs.IsGeographic()) {
    return {"+proj=longlat +ellps=WGS84 +towgs84=" + towgs84 + " +no_defs",
            fmt::format("VN-2000 geographic (helmert {})", convention)};
  }
  const char* projection = srs.GetAttrValue("PROJECTION");
  if (srs.IsProjected() && projection != nullptr && std::string_view(projection) == SRS_PT_TRANSVERSE_MERCATOR &&
      near(srs.GetLinearUnits(), 1.0)) {
    int north = 0;
    const int zone = srs.GetUTMZone(&north);
    if ((zone == 48 || zone == 49) && north != 0) {
      return {layers::vn2000_utm_proj(zone, helmert), fmt::format("VN-2000 UTM {}N (helmert {})", zone, convention)};
    }
    const double lon_0 = srs.GetNormProjParm(SRS_PP_CENTRAL_MERIDIAN, 0.0);
    const double lat_0 = srs.GetNormProjParm(SRS_PP_LATITUDE_OF_ORIGIN, 0.0);
    const double k = srs.GetNormProjParm(SRS_PP_SCALE_FACTOR, 1.0);
    const double x_0 = srs.GetNormProjParm(SRS_PP_FALSE_EASTING, 0.0);
    const double y_0 = srs.GetNormProjParm(SRS_PP_FALSE_NORTHING, 0.0);
    const std::string label = fmt::format("VN-2000 TM lon_0={} k={} (helmert {})", lon_0, k, convention);
    if (near(k, 0.9999) && near(x_0, 500000.0, 1e-6) && near(y_0, 0.0, 1e-6) && near(lat_0, 0.0)) {
      return {layers::vn2000_tm3_proj(lon_0, helmert), fmt::format("VN-2000 TM-3 {} (helmert {})", lon_0, convention)};
    }
    return {fmt::format("+proj=tmerc +lat_0={} +lon_0={} +k={} +x_0={} +y_0={} +ellps=WGS84 +towgs84={} +units=m "
                        "+no_defs",
                        lat_0, lon_0, k, x_0, y_0, towgs84),
            label};
  }
  // Any other VN-2000 projection: keep it and put our datum shift on it.
  OGRSpatialReference copy(srs);
  double values[7];
  std::istringstream in(towgs84);
  std::string item;
  for (double& value : values) {
    std::getline(in, item, ',');
    value = std::stod(item);
  }
  copy.SetTOWGS84(values[0], values[1], values[2], values[3], values[4], values[5], values[6]);
  char* proj = nullptr;
  if (copy.exportToProj4(&proj) != OGRERR_NONE || proj == nullptr) {
    CPLFree(proj);
    throw InputError(fmt::format("VN-2000 projection '{}' is not supported", srs.GetName() ? srs.GetName() : "?"));
  }
  std::string definition(proj);
  CPLFree(proj);
  return {definition, fmt::format("VN-2000 {} (helmert {})", srs.GetName() ? srs.GetName() : "", convention)};
}

std::string describe_crs(const OGRSpatialReference& srs) {
  const char* authority = srs.GetAuthorityName(nullptr);
  const char* code = srs.GetAuthorityCode(nullptr);
  if (authority != nullptr && code != nullptr) return fmt::format("{}:{}", authority, code);
  return srs.GetName() != nullptr ? srs.GetName() : "unnamed CRS";
}

CrsPlan plan_crs(const Source& source, const ImportOptions& options, const Mapping* mapping) {
  OGRSpatialReference srs;
  std::string given;  // a CRS given by option or mapping, for messages
  // The source's own CRS first; the option, then the mapping, stand in for a missing .prj.
  if (const auto* layer_srs = source.layer->GetSpatialRef(); layer_srs != nullptr) {
    srs = *layer_srs;
  } else if (!options.source_crs.empty()) {
    given = options.source_crs;
  } else if (mapping != nullptr && !mapping->source_crs.empty()) {
    given = mapping->source_crs;
  } else {
    throw InputError(
        fmt::format("{}: has no CRS (no .prj); give one with --source-crs, e.g. --source-crs EPSG:9208 "
                    "(VN-2000 / TM-3 104°45′, Nghệ An) or --source-crs EPSG:4326",
                    source.path.string()));
  }
  if (!given.empty() && srs.SetFromUserInput(given.c_str()) != OGRERR_NONE) {
    const std::string what = fmt::format("'{}' is not a CRS PROJ knows (expected e.g. EPSG:9208)", given);
    if (given == options.source_crs) throw BadRequestError("--source-crs " + what);
    throw ConfigError(mapping->origin, "source_crs", what);
  }
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);

  OGRSpatialReference target;
  target.importFromEPSG(4326);
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);

  CrsPlan plan;
  if (is_vn2000(srs)) {
    auto [definition, label] = vn2000_definition(srs, options.helmert);
    OGRSpatialReference rebuilt;
    if (rebuilt.SetFromUserInput(definition.c_str()) != OGRERR_NONE) {
      throw Error(ErrorCode::internal, "cannot build VN-2000 CRS " + definition);
    }
    rebuilt.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    srs = rebuilt;
    plan.label = label;
  } else {
    plan.label = describe_crs(srs);
  }
  const std::array<const char*, 2> criterion{"CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", nullptr};
  if (srs.IsSame(&target, criterion.data())) {
    plan.label = "EPSG:4326";
    return plan;
  }
  plan.transform.reset(OGRCreateCoordinateTransformation(&srs, &target));
  if (!plan.transform) {
    throw InputError(fmt::format("{}: cannot transform from {} to EPSG:4326: {}", source.path.string(), plan.label,
                                 CPLGetLastErrorMsg()));
  }
  return plan;
}

// ---- step 4: attribute bindings ----------------------------------------------------------------------

struct Binding {
  enum class Kind { none, field, constant } kind = Kind::none;
  int field = -1;
  OGRFieldType field_type = OFTString;
  layers::Value constant;
};

struct Bindings {
  std::vector<Binding> attributes;  // one per LayerDef::attributes
  int id_field = -1;                // the field naming records in the report; -1: the FID
};

Bindings bind_attributes(const Source& source, const layers::LayerDef& def, const Mapping* mapping) {
  auto* defn = source.layer->GetLayerDefn();
  Bindings bindings;
  for (const auto& attribute : def.attributes) {
    Binding binding;
    const std::string* mapped = mapping != nullptr ? mapping->field_for(attribute.name) : nullptr;
    const std::string* constant = mapping != nullptr ? mapping->constant_for(attribute.name) : nullptr;
    if (constant != nullptr) {
      binding.kind = Binding::Kind::constant;
      auto value = parse_attribute_value(*constant, attribute.type);
      if (!value) throw ConfigError(mapping->origin, "constants." + attribute.name, "not a valid value");
      if (auto* text = std::get_if<std::string>(&*value)) *text = layers::vntext::to_nfc(*text);
      binding.constant = std::move(*value);
    } else {
      // GetFieldIndex is case-insensitive, so an unmapped attribute also finds OBJECTID-style names.
      const std::string& field = mapped != nullptr ? *mapped : attribute.name;
      binding.field = defn->GetFieldIndex(field.c_str());
      if (binding.field >= 0) {
        binding.kind = Binding::Kind::field;
        binding.field_type = defn->GetFieldDefn(binding.field)->GetType();
      } else if (mapped != nullptr) {
        throw InputError(fmt::format("{}: has no field '{}' (fields.{} in {})", source.path.string(), field,
                                     attribute.name, mapping->origin));
      } else if (attribute.required) {
        throw InputError(
            fmt::format("{}: no field for the required attribute '{}' of layer '{}'; map one with a "
                        "mapping file (fields: {{{}: SOURCE_FIELD}})",
                        source.path.string(), attribute.name, def.name, attribute.name));
      }
    }
    bindings.attributes.push_back(std::move(binding));
  }
  if (mapping != nullptr && !mapping->source_id.empty()) {
    bindings.id_field = defn->GetFieldIndex(mapping->source_id.c_str());
    const char* fid_column = source.layer->GetFIDColumn();
    const bool is_fid = fid_column != nullptr && lower_ascii(fid_column) == lower_ascii(mapping->source_id);
    if (bindings.id_field < 0 && !is_fid) {
      throw InputError(fmt::format("{}: has no field '{}' (source_id in {})", source.path.string(), mapping->source_id,
                                   mapping->origin));
    }
  } else {
    for (const char* name : {"id", "OBJECTID", "fid"}) {
      bindings.id_field = defn->GetFieldIndex(name);
      if (bindings.id_field >= 0) break;
    }
  }
  return bindings;
}

// ---- step 5: one record's values ---------------------------------------------------------------------

struct Values {
  std::vector<layers::Value> values;
  std::string reject_reason;  // empty: usable
};

// The reason a required attribute is missing; the parcel key has names people already use.
std::string missing_reason(const std::string& attribute) {
  static const std::map<std::string, std::string, std::less<>> kNames{{"parcel_no", "missing_parcel_number"},
                                                                      {"sheet_no", "missing_sheet_number"}};
  const auto it = kNames.find(attribute);
  return it != kNames.end() ? it->second : "missing_" + attribute;
}

std::optional<layers::Value> field_value(const OGRFeature& feature, const Binding& binding, layers::AttributeType type,
                                         TextEncoding encoding) {
  const int field = binding.field;
  if (!feature.IsFieldSetAndNotNull(field)) return layers::Value{};
  switch (binding.field_type) {
    case OFTInteger:
    case OFTInteger64:
      if (type == layers::AttributeType::integer || type == layers::AttributeType::boolean) {
        return layers::Value{static_cast<std::int64_t>(feature.GetFieldAsInteger64(field))};
      }
      if (type == layers::AttributeType::real)
        return layers::Value{static_cast<double>(feature.GetFieldAsInteger64(field))};
      break;
    case OFTReal:
      if (type == layers::AttributeType::real) return layers::Value{feature.GetFieldAsDouble(field)};
      break;
    case OFTDate:
    case OFTDateTime:
      if (type == layers::AttributeType::date) {
        int year = 0, month = 0, day = 0, hour = 0, minute = 0, tz = 0;
        float second = 0;
        if (!feature.GetFieldAsDateTime(field, &year, &month, &day, &hour, &minute, &second, &tz)) return std::nullopt;
        return layers::Value{fmt::format("{:04}-{:02}-{:02}", year, month, day)};
      }
      break;
    case OFTString: {
      auto text = decode_text(feature.GetFieldAsString(field), encoding);
      if (!text) return std::nullopt;
      return parse_attribute_value(*text, type);
    }
    default:
      break;
  }
  // Every other combination goes through GDAL's text form (numbers in text attributes, ...).
  return parse_attribute_value(feature.GetFieldAsString(field), type);
}

Values read_values(const OGRFeature& feature, const Bindings& bindings, const layers::LayerDef& def,
                   TextEncoding encoding) {
  Values out;
  out.values.reserve(def.attributes.size());
  for (std::size_t i = 0; i < def.attributes.size(); ++i) {
    const auto& attribute = def.attributes[i];
    const auto& binding = bindings.attributes[i];
    std::optional<layers::Value> value;
    switch (binding.kind) {
      case Binding::Kind::none:
        value = layers::Value{};
        break;
      case Binding::Kind::constant:
        value = binding.constant;
        break;
      case Binding::Kind::field:
        value = field_value(feature, binding, attribute.type, encoding);
        if (!value && binding.field_type == OFTString &&
            !decode_text(feature.GetFieldAsString(binding.field), encoding)) {
          out.reject_reason = "undecodable_" + attribute.name;
          return out;
        }
        break;
    }
    if (!value) {
      out.reject_reason = "invalid_" + attribute.name;
      return out;
    }
    if (attribute.required && std::holds_alternative<std::monostate>(*value)) {
      out.reject_reason = missing_reason(attribute.name);
      return out;
    }
    out.values.push_back(std::move(*value));
  }
  return out;
}

std::string source_id(const OGRFeature& feature, const Bindings& bindings, TextEncoding encoding) {
  if (bindings.id_field >= 0 && feature.IsFieldSetAndNotNull(bindings.id_field)) {
    const char* raw = feature.GetFieldAsString(bindings.id_field);
    if (auto text = decode_text(raw, encoding)) return *text;
    return raw;
  }
  return std::to_string(feature.GetFID());
}

// ---- step 6: geometry --------------------------------------------------------------------------------

class GeosContext {
 public:
  GeosContext() : handle_(GEOS_init_r()) {}
  ~GeosContext() { GEOS_finish_r(handle_); }
  GeosContext(const GeosContext&) = delete;
  GeosContext& operator=(const GeosContext&) = delete;
  [[nodiscard]] GEOSContextHandle_t get() const { return handle_; }

 private:
  GEOSContextHandle_t handle_;
};

using OgrGeometryPtr = std::unique_ptr<OGRGeometry>;

struct GeometryOutcome {
  std::string wkb;            // ISO WKB in EPSG:4326
  std::string reject_reason;  // non-empty: the record is rejected
  std::string repair_reason;  // non-empty: the geometry was repaired
};

OGRwkbGeometryType target_type(layers::GeometryType type) {
  switch (type) {
    case layers::GeometryType::point:
      return wkbPoint;
    case layers::GeometryType::linestring:
      return wkbLineString;
    case layers::GeometryType::polygon:
      return wkbPolygon;
    case layers::GeometryType::multipoint:
      return wkbMultiPoint;
    case layers::GeometryType::multilinestring:
      return wkbMultiLineString;
    case layers::GeometryType::multipolygon:
      return wkbMultiPolygon;
    case layers::GeometryType::none:
      break;
  }
  return wkbUnknown;
}

int dimension_of(OGRwkbGeometryType type) {
  switch (wkbFlatten(type)) {
    case wkbPoint:
    case wkbMultiPoint:
      return 0;
    case wkbLineString:
    case wkbMultiLineString:
      return 1;
    default:
      return 2;
  }
}

// Keeps the parts of the layer's dimension: MakeValid may return a collection with stray lines/points.
OgrGeometryPtr keep_dimension(OgrGeometryPtr geometry, int dimension) {
  const auto flat = wkbFlatten(geometry->getGeometryType());
  if (flat != wkbGeometryCollection) return geometry;
  auto* collection = geometry->toGeometryCollection();
  OgrGeometryPtr out;
  if (dimension == 2) {
    out = std::make_unique<OGRMultiPolygon>();
  } else if (dimension == 1) {
    out = std::make_unique<OGRMultiLineString>();
  } else {
    out = std::make_unique<OGRMultiPoint>();
  }
  auto* target = out->toGeometryCollection();
  for (const auto* part : *collection) {
    if (part->getDimension() != dimension) continue;
    if (OGR_GT_IsSubClassOf(wkbFlatten(part->getGeometryType()), wkbGeometryCollection)) {
      for (const auto* sub : *part->toGeometryCollection()) target->addGeometry(sub);
    } else {
      target->addGeometry(part);
    }
  }
  return out;
}

// The geometry in the layer's type (single → multi); null when it cannot be.
OgrGeometryPtr conform(OgrGeometryPtr geometry, layers::GeometryType type) {
  const OGRwkbGeometryType wanted = target_type(type);
  if (dimension_of(geometry->getGeometryType()) != dimension_of(wanted) &&
      wkbFlatten(geometry->getGeometryType()) != wkbGeometryCollection) {
    return nullptr;
  }
  geometry = keep_dimension(std::move(geometry), dimension_of(wanted));
  if (OGR_GT_IsSubClassOf(wkbFlatten(geometry->getGeometryType()), wkbGeometryCollection) &&
      !OGR_GT_IsSubClassOf(wanted, wkbGeometryCollection)) {
    // A single-part layer takes a multi-geometry of one part only.
    auto* collection = geometry->toGeometryCollection();
    if (collection->getNumGeometries() != 1) return nullptr;
    geometry.reset(collection->getGeometryRef(0)->clone());
  }
  geometry.reset(OGRGeometryFactory::forceTo(geometry.release(), wanted));
  if (!geometry || wkbFlatten(geometry->getGeometryType()) != wanted) return nullptr;
  return geometry;
}

// Checks validity with GEOS and repairs with MakeValid; returns the repair reason or "" when valid.
std::string repair_if_invalid(OgrGeometryPtr& geometry, layers::GeometryType type, GEOSContextHandle_t geos) {
  if (dimension_of(target_type(type)) == 0) return {};
  GEOSGeometry* native = geometry->exportToGEOS(geos);
  if (native == nullptr) return "invalid_geometry";
  std::string reason;
  if (GEOSisValid_r(geos, native) != 1) {
    char* detail = GEOSisValidReason_r(geos, native);
    reason = detail != nullptr && std::string_view(detail).find("elf-intersection") != std::string_view::npos
                 ? "self_intersection_repaired"
                 : "invalid_geometry_repaired";
    if (detail != nullptr) GEOSFree_r(geos, detail);
    GEOSGeometry* valid = GEOSMakeValid_r(geos, native);
    OgrGeometryPtr repaired(valid != nullptr ? OGRGeometryFactory::createFromGEOS(geos, valid) : nullptr);
    if (valid != nullptr) GEOSGeom_destroy_r(geos, valid);
    geometry = repaired ? conform(std::move(repaired), type) : nullptr;
  }
  GEOSGeom_destroy_r(geos, native);
  return reason;
}

bool inside_province(const OGRGeometry& geometry) {
  OGREnvelope envelope;
  geometry.getEnvelope(&envelope);
  return layers::kNgheAnExtent.contains(envelope.MinX, envelope.MinY) &&
         layers::kNgheAnExtent.contains(envelope.MaxX, envelope.MaxY);
}

GeometryOutcome prepare_geometry(const OGRGeometry* source, const layers::LayerDef& def, const CrsPlan& crs,
                                 GEOSContextHandle_t geos) {
  GeometryOutcome out;
  if (source == nullptr || source->IsEmpty()) {
    out.reject_reason = "empty_geometry";
    return out;
  }
  OgrGeometryPtr geometry(source->hasCurveGeometry() ? source->getLinearGeometry() : source->clone());
  geometry->flattenTo2D();
  geometry = conform(std::move(geometry), def.geometry);
  if (!geometry) {
    out.reject_reason = "wrong_geometry_type";
    return out;
  }
  // Repair in the source CRS: its planar coordinates are what the producer drew.
  out.repair_reason = repair_if_invalid(geometry, def.geometry, geos);
  if (!geometry || geometry->IsEmpty() || out.repair_reason == "invalid_geometry") {
    out.reject_reason = "invalid_geometry";
    return out;
  }
  // A point that cannot be transformed lies outside the CRS's domain, hence outside the province.
  if (crs.transform && geometry->transform(crs.transform.get()) != OGRERR_NONE) {
    out.reject_reason = "outside_province";
    return out;
  }
  if (!inside_province(*geometry)) {
    out.reject_reason = "outside_province";
    return out;
  }
  out.wkb.resize(geometry->WkbSize());
  geometry->exportToWkb(wkbNDR, reinterpret_cast<unsigned char*>(out.wkb.data()), wkbVariantIso);
  return out;
}

// ---- step 7: keys ------------------------------------------------------------------------------------

// "parcels" → "parcel", "addresses" → "address": the reason names one record of the layer.
std::string duplicate_reason(const std::string& layer) {
  std::string singular = layer;
  if (singular.ends_with("sses")) {
    singular.resize(singular.size() - 2);
  } else if (singular.ends_with('s') && !singular.ends_with("ss")) {
    singular.pop_back();
  }
  return "duplicate_" + singular + "_key";
}

class KeyTracker {
 public:
  explicit KeyTracker(const layers::LayerDef& def) {
    for (const auto& name : def.key) indexes_.push_back(def.attribute_index(name));
  }
  // True the first time a key is seen.
  bool insert(const std::vector<layers::Value>& values) {
    if (indexes_.empty()) return true;
    std::string key;
    for (auto index : indexes_) {
      const auto& value = values[index];
      key += static_cast<char>('0' + value.index());
      if (const auto* text = std::get_if<std::string>(&value)) {
        key += *text;
      } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        key += std::to_string(*integer);
      } else if (const auto* real = std::get_if<double>(&value)) {
        key += fmt::format("{}", *real);
      }
      key += '\x1f';
    }
    return seen_.insert(std::move(key)).second;
  }

 private:
  std::vector<std::size_t> indexes_;
  std::unordered_set<std::string> seen_;
};

// ---- step 8: provenance ------------------------------------------------------------------------------

// SHA-256 over every file of every source (a Shapefile's .shp, .shx, .dbf, .prj, ...), in order.
std::string hash_sources(const std::vector<Source>& sources) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, "SHA-256 is unavailable");
  }
  std::vector<char> buffer(1 << 16);
  for (const auto& source : sources) {
    char** files = source.dataset->GetFileList();
    for (char** file = files; file != nullptr && *file != nullptr; ++file) {
      std::ifstream in(*file, std::ios::binary);
      if (!in) throw InputError(fmt::format("{}: cannot be read", *file));
      while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(in.gcount()));
      }
    }
    CSLDestroy(files);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest.data(), &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string join_unique(const std::vector<std::string>& items) {
  std::vector<std::string> unique;
  for (const auto& item : items) {
    if (std::find(unique.begin(), unique.end(), item) == unique.end()) unique.push_back(item);
  }
  std::string out;
  for (const auto& item : unique) out += (out.empty() ? "" : ";") + item;
  return out;
}

// ---- the import of one source ------------------------------------------------------------------------

struct ImportState {
  const layers::LayerDef& def;
  layers::LayerWriter& writer;
  KeyTracker keys;
  GeosContext geos;
  ImportReport& report;
};

void import_source(Source& source, const ImportOptions& options, const Mapping* mapping, bool prefix_ids,
                   ImportState& state, GdalErrorTrap& trap, std::vector<std::string>& encodings,
                   std::vector<std::string>& crs_labels) {
  const bool has_geometry = state.def.geometry != layers::GeometryType::none;
  const TextEncoding encoding = detect_encoding(source, requested_encoding(options, mapping), trap);
  encodings.emplace_back(to_string(encoding));
  CrsPlan crs;
  if (has_geometry) {
    crs = plan_crs(source, options, mapping);
    crs_labels.push_back(crs.label);
  }
  const Bindings bindings = bind_attributes(source, state.def, mapping);
  if (!has_geometry) {
    const std::array<const char*, 2> ignored{"OGR_GEOMETRY", nullptr};
    source.layer->SetIgnoredFields(const_cast<const char**>(ignored.data()));
  }
  source.layer->ResetReading();

  auto& record = state.report.record;
  auto issue = [&](const OGRFeature& feature, const char* action, std::string reason) {
    std::string id = source_id(feature, bindings, encoding);
    if (prefix_ids) id = source.path.filename().string() + ":" + id;
    state.report.records.push_back({std::move(id), action, std::move(reason)});
  };

  std::int64_t number = 0;
  while (auto feature = read_next(source, trap, number + 1)) {
    ++number;
    ++record.read;
    Values values = read_values(*feature, bindings, state.def, encoding);
    if (!values.reject_reason.empty()) {
      ++record.rejected;
      issue(*feature, "rejected", std::move(values.reject_reason));
      continue;
    }
    layers::Feature out{std::move(values.values), {}};
    GeometryOutcome geometry;
    if (has_geometry) {
      geometry = prepare_geometry(feature->GetGeometryRef(), state.def, crs, state.geos.get());
      if (!geometry.reject_reason.empty()) {
        ++record.rejected;
        issue(*feature, "rejected", std::move(geometry.reject_reason));
        continue;
      }
      out.wkb = std::move(geometry.wkb);
    }
    if (!state.keys.insert(out.values)) {
      ++record.rejected;
      issue(*feature, "rejected", duplicate_reason(state.def.name));
      continue;
    }
    state.writer.add(out);
    ++record.imported;
    if (!geometry.repair_reason.empty()) {
      ++record.repaired;
      ++record.flagged;
      issue(*feature, "repaired", std::move(geometry.repair_reason));
    }
  }
  source.layer->SetIgnoredFields(nullptr);
}

}  // namespace

// ---- report ------------------------------------------------------------------------------------------

nlohmann::json ImportReport::to_json() const {
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& issue : records) {
    issues.push_back({{"source_id", issue.source_id}, {"action", issue.action}, {"reason", issue.reason}});
  }
  return {{"layer", record.layer},
          {"source", record.source},
          {"source_sha256", record.source_sha256},
          {"source_crs", record.source_crs},
          {"encoding", record.encoding},
          {"mapping", record.mapping},
          {"read", record.read},
          {"imported", record.imported},
          {"repaired", record.repaired},
          {"flagged", record.flagged},
          {"rejected", record.rejected},
          {"records", std::move(issues)}};
}

std::string ImportReport::summary() const {
  std::string text = fmt::format("{}: {} read, {} imported, {} rejected, {} repaired, {} flagged\n", record.layer,
                                 record.read, record.imported, record.rejected, record.repaired, record.flagged);
  text += fmt::format("  source: {}\n  crs: {}; text: {}\n", record.source,
                      record.source_crs.empty() ? "(no geometry)" : record.source_crs, record.encoding);
  std::map<std::string, std::int64_t> reasons;
  for (const auto& issue : records) ++reasons[issue.action + ": " + issue.reason];
  for (const auto& [reason, count] : reasons) text += fmt::format("  {} × {}\n", count, reason);
  return text;
}

// ---- the import --------------------------------------------------------------------------------------

ImportReport run_import(layers::Store& store, const layers::LayerDef& layer, const ImportOptions& options) {
  ensure_gdal_registered();
  if (options.sources.empty()) throw BadRequestError("import: no source file given");
  if (!options.layer.empty() && options.layer != layer.name) {
    throw BadRequestError(
        fmt::format("import: options name layer '{}' but the definition is '{}'", options.layer, layer.name));
  }
  std::optional<Mapping> mapping;
  if (options.mapping) {
    mapping = load_mapping(*options.mapping);
    check_mapping(*mapping, layer);
  }
  const Mapping* mapping_ptr = mapping ? &*mapping : nullptr;

  ImportReport report;
  report.record.layer = layer.name;
  report.record.mapping = options.mapping ? options.mapping->string() : std::string();
  std::vector<std::string> paths, encodings, crs_labels;

  GdalErrorTrap trap;
  std::vector<Source> sources;
  for (const auto& path : options.sources) sources.push_back(open_source(path, mapping_ptr, layer, trap));

  // Destroyed without commit() on any exception: the store keeps its previous content.
  auto writer = store.replace_layer(layer);
  ImportState state{layer, *writer, KeyTracker(layer), {}, report};
  for (auto& source : sources) {
    paths.push_back(source.path.string());
    import_source(source, options, mapping_ptr, sources.size() > 1, state, trap, encodings, crs_labels);
  }
  report.record.source = join_unique(paths);
  report.record.source_sha256 = hash_sources(sources);
  report.record.source_crs = join_unique(crs_labels);
  report.record.encoding = join_unique(encodings);
  report.detected_encoding = report.record.encoding;
  writer->commit(report.record);
  return report;
}

}  // namespace bandoso::data_import
