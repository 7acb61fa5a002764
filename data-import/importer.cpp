#include "data-import/importer.hpp"

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "data-import/mapping.hpp"
#include "data-import/write_behind.hpp"
#include "layers/core/error.hpp"
#include "layers/core/geos_context.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::data_import {

namespace fs = std::filesystem;

namespace {

// ---- GDAL plumbing -----------------------------------------------------------------------------------

void ensure_gdal_registered() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

// Sets a GDAL configuration option for this thread while it is alive.
class ThreadConfigOption {
 public:
  ThreadConfigOption(const char* key, const char* value) : key_(key) {
    if (const char* old = CPLGetThreadLocalConfigOption(key, nullptr); old != nullptr) old_ = old;
    CPLSetThreadLocalConfigOption(key, value);
  }
  ~ThreadConfigOption() { CPLSetThreadLocalConfigOption(key_, old_ ? old_->c_str() : nullptr); }
  ThreadConfigOption(const ThreadConfigOption&) = delete;
  ThreadConfigOption& operator=(const ThreadConfigOption&) = delete;

 private:
  const char* key_;
  std::optional<std::string> old_;
};

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
  // The first failure on one line: errors are printed as one line.
  [[nodiscard]] std::string message() const {
    std::string text = failures_.empty() ? std::string() : failures_.front();
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return text;
  }

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

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

// ---- step 1: open a source ---------------------------------------------------------------------------

struct Source {
  fs::path path;          // as given, for messages
  std::string gdal_path;  // what GDAL opens: the path, or a /vsizip/ path inside an archive
  std::string archive;    // the .zip read, if any (hashed as a whole)
  std::string driver;
  GDALDatasetUniquePtr dataset;
  OGRLayer* layer = nullptr;
};

bool is_gdal_virtual_path(const fs::path& path) { return path.string().starts_with("/vsi"); }

bool is_zip(std::string_view path) { return lower_ascii(path).ends_with(".zip"); }

// The one dataset inside an archive: a Shapefile, GeoPackage, FileGDB folder, ... A second one makes
// the choice the user's ("archive.zip/name.shp").
std::string dataset_in_archive(const fs::path& archive, const std::string& vsi_root) {
  static const std::array<std::string_view, 12> kExtensions{".shp", ".gpkg", ".geojson", ".json", ".csv", ".kml",
                                                            ".kmz", ".dgn",  ".gml",     ".tab",  ".mif", ".sqlite"};
  char** entries = VSIReadDirRecursive(vsi_root.c_str());
  std::vector<std::string> found;
  for (char** entry = entries; entry != nullptr && *entry != nullptr; ++entry) {
    std::string name = *entry;
    const std::string lower = lower_ascii(name);
    // macOS archivers add resource forks ("__MACOSX/._x.shp") that look like datasets.
    if (lower.starts_with("__macosx/") || fs::path(lower).filename().string().starts_with("._")) continue;
    std::string candidate;
    if (const auto gdb = lower.find(".gdb");
        gdb != std::string::npos && (gdb + 4 == lower.size() || lower[gdb + 4] == '/')) {
      candidate = name.substr(0, gdb + 4);
    } else if (std::any_of(kExtensions.begin(), kExtensions.end(),
                           [&](std::string_view ext) { return lower.ends_with(ext); })) {
      candidate = name;
    }
    if (!candidate.empty() && std::find(found.begin(), found.end(), candidate) == found.end()) {
      found.push_back(candidate);
    }
  }
  CSLDestroy(entries);
  if (found.empty()) {
    throw InputError(
        fmt::format("{}: holds no file GDAL reads as vector data (Shapefile, GeoPackage, GeoJSON, CSV, "
                    "KML, DGN, FileGDB, ...)",
                    archive.string()));
  }
  if (found.size() > 1) {
    std::string names;
    for (const auto& name : found) names += (names.empty() ? "" : ", ") + name;
    throw InputError(fmt::format("{}: holds several datasets ({}); name one, e.g. {}/{}", archive.string(), names,
                                 archive.string(), found.front()));
  }
  return vsi_root + "/" + found.front();
}

// Resolves "x.zip" and "x.zip/inner.shp" to /vsizip/ paths; other paths stay as they are.
void resolve_path(Source& source) {
  const std::string text = source.path.string();
  source.gdal_path = text;
  if (is_gdal_virtual_path(source.path)) return;
  std::error_code ec;
  const std::string lower = lower_ascii(text);
  for (std::size_t at = lower.find(".zip/"); at != std::string::npos; at = lower.find(".zip/", at + 1)) {
    const fs::path archive = text.substr(0, at + 4);
    if (fs::is_regular_file(archive, ec)) {
      source.archive = archive.string();
      source.gdal_path = "/vsizip/" + fs::absolute(archive).string() + text.substr(at + 4);
      return;
    }
  }
  if (!fs::exists(source.path, ec)) throw Error(ErrorCode::file_not_found, text + ": no such file");
  if (is_zip(text) && fs::is_regular_file(source.path, ec)) {
    source.archive = text;
    source.gdal_path = dataset_in_archive(source.path, "/vsizip/" + fs::absolute(source.path).string());
  }
}

Source open_source(const fs::path& path, const Mapping* mapping, const layers::LayerDef& def, GdalErrorTrap& trap) {
  Source source;
  source.path = path;
  resolve_path(source);
  trap.clear();
  GDALDriverH driver = GDALIdentifyDriverEx(source.gdal_path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr);
  if (driver == nullptr) {
    if (!source.archive.empty()) {
      VSIStatBufL stat{};
      if (VSIStatL(source.gdal_path.c_str(), &stat) != 0)
        throw Error(ErrorCode::file_not_found, fmt::format("{}: no such file in the archive", path.string()));
    }
    throw InputError(fmt::format(
        "{}: not a vector format GDAL can read (Shapefile, GeoPackage, GeoJSON, CSV, DGN, FileGDB, KML, ...)",
        path.string()));
  }
  source.driver = GDALGetDriverShortName(driver);

  CPLStringList open_options;
  if (source.driver == "ESRI Shapefile") {
    // Raw DBF bytes: legacy TCVN3/VNI text must reach our decoder, not be recoded by GDAL.
    open_options.AddString("ENCODING=");
  } else if (source.driver == "CSV" && def.geometry != layers::GeometryType::none) {
    if (mapping != nullptr && mapping->csv && !mapping->csv->wkt.empty()) {
      open_options.AddNameValue("GEOM_POSSIBLE_NAMES", mapping->csv->wkt.c_str());
    } else if (mapping != nullptr && mapping->csv) {
      open_options.AddNameValue("X_POSSIBLE_NAMES", mapping->csv->x.c_str());
      open_options.AddNameValue("Y_POSSIBLE_NAMES", mapping->csv->y.c_str());
    } else {
      open_options.AddNameValue("X_POSSIBLE_NAMES", "lon,longitude,lng,x");
      open_options.AddNameValue("Y_POSSIBLE_NAMES", "lat,latitude,y");
      open_options.AddNameValue("GEOM_POSSIBLE_NAMES", "wkt,geometry,geom,the_geom");
    }
  }
  const std::array<const char*, 2> allowed{source.driver.c_str(), nullptr};
  source.dataset.reset(GDALDataset::Open(source.gdal_path.c_str(),
                                         GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, allowed.data(),
                                         open_options.List(), nullptr));
  if (!source.dataset) {
    throw InputError(fmt::format("{}: cannot be opened as {}: {}", path.string(), source.driver,
                                 trap.failed() ? trap.message() : one_line(CPLGetLastErrorMsg())));
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
    for (const std::string* column : {&mapping->csv->x, &mapping->csv->y, &mapping->csv->wkt}) {
      if (!column->empty() && defn->GetFieldIndex(column->c_str()) < 0) {
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

// Skips the geometry while only attributes matter: cheaper reads.
class IgnoreGeometry {
 public:
  explicit IgnoreGeometry(OGRLayer* layer) : layer_(layer) {
    const std::array<const char*, 2> ignored{"OGR_GEOMETRY", nullptr};
    layer_->SetIgnoredFields(const_cast<const char**>(ignored.data()));
  }
  ~IgnoreGeometry() { layer_->SetIgnoredFields(nullptr); }
  IgnoreGeometry(const IgnoreGeometry&) = delete;
  IgnoreGeometry& operator=(const IgnoreGeometry&) = delete;

 private:
  OGRLayer* layer_;
};

// ---- step 2: text encoding ---------------------------------------------------------------------------

enum class TextEncoding { utf8, tcvn3, vni, cp1258 };

std::string_view to_string(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::utf8:
      return "utf-8";
    case TextEncoding::tcvn3:
      return "tcvn3";
    case TextEncoding::vni:
      return "vni";
    case TextEncoding::cp1258:
      return "cp1258";
  }
  return "utf-8";
}

TextEncoding encoding_from_name(std::string_view name) {
  if (name == "tcvn3") return TextEncoding::tcvn3;
  if (name == "vni") return TextEncoding::vni;
  if (name == "cp1258") return TextEncoding::cp1258;
  return TextEncoding::utf8;
}

std::string requested_encoding(const ImportOptions& options, const Mapping* mapping) {
  if (!is_known_encoding(options.encoding)) {
    throw BadRequestError(
        fmt::format("unknown encoding '{}' (expected auto, utf-8, tcvn3, vni or cp1258)", options.encoding));
  }
  if (options.encoding == "auto" && mapping != nullptr && !mapping->encoding.empty()) return mapping->encoding;
  return options.encoding;
}

bool has_high_byte(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// "auto": a .cpg/LDID naming UTF-8 or CP1258 is believed; otherwise the text values decide: UTF-8 when
// all are valid UTF-8, else the legacy encoding whose decoding reads most like Vietnamese (TCVN3, VNI
// or CP1258; see vntext::guess_encoding). Up to kSamples values with non-ASCII bytes are looked at.
TextEncoding detect_encoding(Source& source, std::string_view requested, GdalErrorTrap& trap) {
  if (requested != "auto") return encoding_from_name(requested);
  if (const char* declared = source.layer->GetMetadataItem("SOURCE_ENCODING", "SHAPEFILE"); declared != nullptr) {
    const std::string name = lower_ascii(declared);
    if (name.find("1258") != std::string::npos) return TextEncoding::cp1258;
    if (name.find("utf-8") != std::string::npos || name.find("utf8") != std::string::npos) return TextEncoding::utf8;
  }
  auto* defn = source.layer->GetLayerDefn();
  std::vector<int> text_fields;
  for (int i = 0; i < defn->GetFieldCount(); ++i) {
    if (defn->GetFieldDefn(i)->GetType() == OFTString) text_fields.push_back(i);
  }
  if (text_fields.empty()) return TextEncoding::utf8;
  constexpr std::size_t kSamples = 2000;
  std::vector<std::string> samples;
  bool invalid_utf8 = false;
  {
    const IgnoreGeometry attributes_only(source.layer);
    source.layer->ResetReading();
    std::int64_t number = 0;
    while (samples.size() < kSamples) {
      auto feature = read_next(source, trap, ++number);
      if (!feature) break;
      for (int field : text_fields) {
        if (!feature->IsFieldSetAndNotNull(field)) continue;
        const char* text = feature->GetFieldAsString(field);
        if (!has_high_byte(text)) continue;
        invalid_utf8 = invalid_utf8 || !layers::vntext::is_valid_utf8(text);
        if (samples.size() < kSamples) samples.emplace_back(text);
      }
    }
  }
  source.layer->ResetReading();
  if (!invalid_utf8) return TextEncoding::utf8;
  return encoding_from_name(layers::vntext::guess_encoding(samples).encoding);
}

// Decoded NFC text, or nullopt when the bytes are not text in that encoding.
std::optional<std::string> decode_text(std::string_view bytes, TextEncoding encoding) {
  try {
    switch (encoding) {
      case TextEncoding::utf8:
        return layers::vntext::to_nfc(bytes);
      case TextEncoding::tcvn3:
        return layers::vntext::decode_legacy(bytes, layers::vntext::LegacyEncoding::tcvn3);
      case TextEncoding::vni:
        return layers::vntext::decode_legacy(bytes, layers::vntext::LegacyEncoding::vni);
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
  std::string origin;       // where the CRS came from: ".prj", "--source-crs" or the mapping file
  OGRSpatialReference srs;  // the source CRS as used
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

// The CRS of a source: --source-crs when given (it overrides the .prj: a wrong .prj is a common fault
// of exports), else the source's own (.prj), else the mapping's source_crs.
CrsPlan plan_crs(const Source& source, const ImportOptions& options, const Mapping* mapping) {
  OGRSpatialReference srs;
  std::string given;  // a CRS given by option or mapping
  CrsPlan plan;
  const auto* layer_srs = source.layer->GetSpatialRef();
  if (!options.source_crs.empty()) {
    given = options.source_crs;
    plan.origin = "--source-crs";
  } else if (layer_srs != nullptr) {
    srs = *layer_srs;
    plan.origin = source.driver == "ESRI Shapefile" ? ".prj" : "the file";
  } else if (mapping != nullptr && !mapping->source_crs.empty()) {
    given = mapping->source_crs;
    plan.origin = mapping->origin;
  } else {
    throw InputError(
        fmt::format("{}: has no CRS (no .prj); give one with --source-crs, e.g. --source-crs EPSG:9208 "
                    "(VN-2000 / TM-3 104°45′, Nghệ An) or --source-crs EPSG:4326",
                    source.path.string()));
  }
  if (!given.empty() && srs.SetFromUserInput(given.c_str()) != OGRERR_NONE) {
    const std::string what = fmt::format("'{}' is not a CRS PROJ knows (expected e.g. EPSG:9208)", given);
    if (plan.origin == "--source-crs") throw BadRequestError("--source-crs " + what);
    throw ConfigError(mapping->origin, "source_crs", what);
  }
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);

  OGRSpatialReference target;
  target.importFromEPSG(4326);
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);

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
  plan.srs = srs;
  const std::array<const char*, 2> criterion{"CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", nullptr};
  if (srs.IsSame(&target, criterion.data())) {
    plan.label = "EPSG:4326";
    return plan;
  }
  plan.transform.reset(OGRCreateCoordinateTransformation(&srs, &target));
  if (!plan.transform) {
    throw InputError(fmt::format("{}: cannot transform from {} to EPSG:4326: {}", source.path.string(), plan.label,
                                 one_line(CPLGetLastErrorMsg())));
  }
  return plan;
}

// ---- step 3b: a file outside the province --------------------------------------------------------------

// Positions of a source's features that land outside Nghệ An, to tell a stray record from a file
// read with the wrong CRS.
struct OutsideStats {
  std::int64_t checked = 0;  // features whose position was checked
  std::int64_t outside = 0;
  std::vector<std::pair<double, double>> samples;  // centres of outside features, source CRS
  static constexpr std::size_t kMaxSamples = 200;
};

// Where Nghệ An is, to judge a whole file: the union of the store's communes grown by about 500 m
// (their outlines are simplified) when the store has them all, else the province's bounding box. The box
// alone lets a file read in a neighbouring zone or meridian pass (26 km off puts Vinh in the sea, not
// outside the box); records are still rejected by the box only, so a stray lot on the coast stays.
class ProvinceShape {
 public:
  ProvinceShape(const layers::Store& store, const layers::LayerDef& importing, GEOSContextHandle_t geos) : geos_(geos) {
    const auto communes = store.find_layer("communes");
    if (!communes || importing.name == "communes" || communes->geometry == layers::GeometryType::none) return;
    GEOSWKBReader* reader = GEOSWKBReader_create_r(geos_);
    std::vector<GEOSGeometry*> parts;
    store.scan("communes", true, [&](const layers::Feature& feature) {
      const auto* bytes = reinterpret_cast<const unsigned char*>(feature.wkb.data());
      if (GEOSGeometry* part = GEOSWKBReader_read_r(geos_, reader, bytes, feature.wkb.size())) parts.push_back(part);
      return true;
    });
    GEOSWKBReader_destroy_r(geos_, reader);
    if (parts.empty()) return;
    GEOSGeometry* all =
        GEOSGeom_createCollection_r(geos_, GEOS_GEOMETRYCOLLECTION, parts.data(), static_cast<unsigned>(parts.size()));
    GEOSGeometry* merged = all != nullptr ? GEOSUnaryUnion_r(geos_, all) : nullptr;
    if (all != nullptr) GEOSGeom_destroy_r(geos_, all);
    if (merged == nullptr) return;
    // A store with a few communes only (a test, a department's extract) does not outline the province.
    double area = 0;
    if (GEOSArea_r(geos_, merged, &area) != 1 || area < kMinOutlineArea) {
      GEOSGeom_destroy_r(geos_, merged);
      return;
    }
    shape_ = GEOSBuffer_r(geos_, merged, 0.005, 2);
    GEOSGeom_destroy_r(geos_, merged);
    if (shape_ != nullptr) prepared_ = GEOSPrepare_r(geos_, shape_);
  }
  ~ProvinceShape() {
    if (prepared_ != nullptr) GEOSPreparedGeom_destroy_r(geos_, prepared_);
    if (shape_ != nullptr) GEOSGeom_destroy_r(geos_, shape_);
  }
  ProvinceShape(const ProvinceShape&) = delete;
  ProvinceShape& operator=(const ProvinceShape&) = delete;

  [[nodiscard]] bool has_outline() const { return prepared_ != nullptr; }
  // Half of Nghệ An (16,490 km², about 1.42 square degrees at 19° N).
  static constexpr double kMinOutlineArea = 0.7;
  [[nodiscard]] bool contains(double lon, double lat) const {
    if (!layers::kNgheAnExtent.contains(lon, lat)) return false;
    if (prepared_ == nullptr) return true;
    GEOSGeometry* point = GEOSGeom_createPointFromXY_r(geos_, lon, lat);
    const bool inside = GEOSPreparedContains_r(geos_, prepared_, point) == 1;
    GEOSGeom_destroy_r(geos_, point);
    return inside;
  }

 private:
  GEOSContextHandle_t geos_;
  GEOSGeometry* shape_ = nullptr;
  const GEOSPreparedGeometry* prepared_ = nullptr;
};

// Whether most of the sample points land in Nghệ An through `transform` (null: already lon/lat).
bool sample_fits(const std::vector<std::pair<double, double>>& points, OGRCoordinateTransformation* transform,
                 bool swap, const ProvinceShape& province) {
  std::size_t inside = 0;
  for (auto [x, y] : points) {
    if (swap) std::swap(x, y);
    if (transform != nullptr && !transform->Transform(1, &x, &y)) continue;
    if (province.contains(x, y)) ++inside;
  }
  return !points.empty() && inside * 10 >= points.size() * 8;
}

// VN-2000 CRSs the points might be in, Nghệ An's own first: TM-3 104°45′, UTM 48N/49N, then TM-3 with
// the other provincial meridians (102°–108°30′ by 15′) nearest first.
std::vector<std::pair<std::string, std::string>> vn2000_candidates(layers::HelmertConvention helmert) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("VN-2000 / TM-3 104°45′ (EPSG:9208, Nghệ An)",
                   layers::vn2000_tm3_proj(layers::kNgheAnCentralMeridian, helmert));
  out.emplace_back("VN-2000 / UTM 48N (EPSG:3405)", layers::vn2000_utm_proj(48, helmert));
  out.emplace_back("VN-2000 / UTM 49N (EPSG:3406)", layers::vn2000_utm_proj(49, helmert));
  std::vector<double> meridians;
  for (int quarter = 102 * 4; quarter <= 108 * 4 + 2; ++quarter) {
    if (quarter * 0.25 != layers::kNgheAnCentralMeridian) meridians.push_back(quarter * 0.25);
  }
  std::sort(meridians.begin(), meridians.end(), [](double a, double b) {
    return std::fabs(a - layers::kNgheAnCentralMeridian) < std::fabs(b - layers::kNgheAnCentralMeridian);
  });
  for (const double lon_0 : meridians) {
    const int degrees = static_cast<int>(lon_0);
    const int minutes = static_cast<int>(std::lround((lon_0 - degrees) * 60));
    out.emplace_back(fmt::format("VN-2000 / TM-3 {}°{:02}′", degrees, minutes),
                     layers::vn2000_tm3_proj(lon_0, helmert));
  }
  return out;
}

// The likely cause of a file landing outside the province, as advice.
std::string outside_cause(const OutsideStats& stats, const CrsPlan& crs, const ImportOptions& options,
                          const ProvinceShape& province) {
  const auto& points = stats.samples;
  if (sample_fits(points, crs.transform.get(), true, province)) {
    return "the coordinates fit when x and y are swapped: the longitude/latitude (or easting/northing) columns are "
           "exchanged";
  }
  const bool degrees = std::all_of(points.begin(), points.end(), [](const auto& p) {
    return std::fabs(p.first) <= 180.0 && std::fabs(p.second) <= 90.0;
  });
  std::string cause;
  if (degrees && crs.srs.IsProjected()) {
    cause = "the coordinates look like degrees (longitude/latitude) but are read as projected metres";
    if (sample_fits(points, nullptr, false, province)) cause += "; they fit EPSG:4326";
    if (sample_fits(points, nullptr, true, province)) cause += "; they fit EPSG:4326 with x and y swapped";
  } else if (!degrees && crs.srs.IsGeographic()) {
    cause = "the coordinates look like metres of a projected CRS but are read as degrees";
  }
  std::vector<std::string> fits;
  if (!degrees) {
    OGRSpatialReference target;
    target.importFromEPSG(4326);
    target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    for (const auto& [name, definition] : vn2000_candidates(options.helmert)) {
      OGRSpatialReference candidate;
      if (candidate.SetFromUserInput(definition.c_str()) != OGRERR_NONE) continue;
      candidate.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
      const std::unique_ptr<OGRCoordinateTransformation> transform(
          OGRCreateCoordinateTransformation(&candidate, &target));
      if (transform && sample_fits(points, transform.get(), false, province)) fits.push_back(name);
      if (fits.size() == 3) break;
    }
  }
  if (!fits.empty()) {
    std::string names;
    for (const auto& name : fits) names += (names.empty() ? "" : " or ") + name;
    cause += fmt::format("{}they fit {}: wrong zone or central meridian", cause.empty() ? "" : "; ", names);
  }
  if (crs.origin != ".prj" && crs.origin != "the file") {
    cause += fmt::format("{}the CRS came from {}{}", cause.empty() ? "" : "; ", crs.origin,
                         crs.origin == "--source-crs" ? "" : " (the file has no .prj)");
  } else if (cause.empty()) {
    cause = "the .prj may be wrong";
  }
  return cause;
}

[[noreturn]] void refuse_outside(const Source& source, const OutsideStats& stats, const CrsPlan& crs,
                                 const ImportOptions& options, const ProvinceShape& province) {
  throw InputError(fmt::format(
      "{}: {} of {} features lie outside Nghệ An{} when read as {} — {}; give the right CRS with --source-crs "
      "(it overrides the .prj); nothing was imported",
      source.path.string(), stats.outside, stats.checked, province.has_outline() ? " (its communes)" : "", crs.label,
      outside_cause(stats, crs, options, province)));
}

// ---- step 4: attribute bindings ----------------------------------------------------------------------

// "$fid" in a mapping names the feature id: formats such as DGN have no id field of their own.
constexpr std::string_view kFidField = "$fid";

struct Binding {
  enum class Kind { none, field, fid, constant } kind = Kind::none;
  int field = -1;
  OGRFieldType field_type = OFTString;
  const FieldSpec* spec = nullptr;  // the mapping's rules, if any
  layers::Value constant;
};

struct FilterBinding {
  const Filter* filter = nullptr;
  int field = -1;
};

struct Bindings {
  std::vector<Binding> attributes;  // one per LayerDef::attributes
  std::vector<FilterBinding> filters;
  int id_field = -1;  // the field naming records in the report; -1: the FID
};

Bindings bind_attributes(const Source& source, const layers::LayerDef& def, const Mapping* mapping) {
  auto* defn = source.layer->GetLayerDefn();
  Bindings bindings;
  for (const auto& attribute : def.attributes) {
    Binding binding;
    const FieldSpec* mapped = mapping != nullptr ? mapping->spec_for(attribute.name) : nullptr;
    const std::string* constant = mapping != nullptr ? mapping->constant_for(attribute.name) : nullptr;
    if (constant != nullptr) {
      binding.kind = Binding::Kind::constant;
      auto value = parse_attribute_value(*constant, attribute.type);
      if (!value) throw ConfigError(mapping->origin, "constants." + attribute.name, "not a valid value");
      if (auto* text = std::get_if<std::string>(&*value)) *text = layers::vntext::to_nfc(*text);
      binding.constant = std::move(*value);
    } else {
      // GetFieldIndex is case-insensitive, so an unmapped attribute also finds OBJECTID-style names.
      const std::string& field = mapped != nullptr ? mapped->field : attribute.name;
      binding.field = defn->GetFieldIndex(field.c_str());
      binding.spec = mapped;
      if (mapped != nullptr && field == kFidField) {
        binding.kind = Binding::Kind::fid;
      } else if (binding.field >= 0) {
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
  if (mapping != nullptr) {
    for (const auto& filter : mapping->filters) {
      const int field = defn->GetFieldIndex(filter.field.c_str());
      if (field < 0 && filter.field == kFidField) {
        throw InputError(fmt::format("{}: filters test fields, not the feature id ({}.field in {})",
                                     source.path.string(), filter.key, mapping->origin));
      }
      if (field < 0) {
        throw InputError(fmt::format("{}: has no field '{}' ({}.field in {})", source.path.string(), filter.field,
                                     filter.key, mapping->origin));
      }
      bindings.filters.push_back({&filter, field});
    }
  }
  if (mapping != nullptr && !mapping->source_id.empty() && mapping->source_id != kFidField) {
    bindings.id_field = defn->GetFieldIndex(mapping->source_id.c_str());
    const char* fid_column = source.layer->GetFIDColumn();
    const bool is_fid = fid_column != nullptr && lower_ascii(fid_column) == lower_ascii(mapping->source_id);
    if (bindings.id_field < 0 && !is_fid) {
      throw InputError(fmt::format("{}: has no field '{}' (source_id in {})", source.path.string(), mapping->source_id,
                                   mapping->origin));
    }
  } else if (mapping == nullptr || mapping->source_id.empty()) {
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

// The field's decoded text for filters: trimmed NFC, "" when null (undecodable bytes stay as they are).
std::string filter_text(const OGRFeature& feature, int field, TextEncoding encoding) {
  if (!feature.IsFieldSetAndNotNull(field)) return {};
  const char* raw = feature.GetFieldAsString(field);
  const auto text = decode_text(raw, encoding);
  FieldSpec plain;
  return apply_text_rules(plain, text ? *text : std::string(raw));
}

bool passes_filters(const OGRFeature& feature, const Bindings& bindings, TextEncoding encoding) {
  return std::all_of(bindings.filters.begin(), bindings.filters.end(), [&](const FilterBinding& binding) {
    return binding.filter->passes(filter_text(feature, binding.field, encoding));
  });
}

// Source text through the mapping's text rules, then to the attribute type.
std::optional<layers::Value> text_value(std::string_view text, const Binding& binding, layers::AttributeType type) {
  if (binding.spec != nullptr && binding.spec->has_text_rules()) {
    return parse_attribute_value(apply_text_rules(*binding.spec, text), type);
  }
  return parse_attribute_value(text, type);
}

std::optional<layers::Value> field_value(const OGRFeature& feature, const Binding& binding, layers::AttributeType type,
                                         TextEncoding encoding) {
  const int field = binding.field;
  if (!feature.IsFieldSetAndNotNull(field)) return layers::Value{};
  const bool rules = binding.spec != nullptr && binding.spec->has_text_rules();
  switch (rules ? OFTString : binding.field_type) {
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
      const char* raw = feature.GetFieldAsString(field);
      // Numbers and dates in text attributes come out of GDAL as ASCII: no decoding needed.
      auto text = binding.field_type == OFTString ? decode_text(raw, encoding) : std::optional<std::string>(raw);
      if (!text) return std::nullopt;
      return text_value(*text, binding, type);
    }
    default:
      break;
  }
  // Every other combination goes through GDAL's text form (numbers in text attributes, ...).
  return text_value(feature.GetFieldAsString(field), binding, type);
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
      case Binding::Kind::fid:
        value = text_value(std::to_string(feature.GetFID()), binding, attribute.type);
        break;
      case Binding::Kind::field:
        value = field_value(feature, binding, attribute.type, encoding);
        if (!value && binding.field_type == OFTString &&
            !decode_text(feature.GetFieldAsString(binding.field), encoding)) {
          out.reject_reason = "undecodable_" + attribute.name;
          return out;
        }
        if (value && std::holds_alternative<std::monostate>(*value) && binding.spec != nullptr &&
            binding.spec->default_value) {
          value = parse_attribute_value(*binding.spec->default_value, attribute.type);
          if (value) {
            if (auto* text = std::get_if<std::string>(&*value)) *text = layers::vntext::to_nfc(*text);
          }
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

using layers::GeosContext;

using OgrGeometryPtr = std::unique_ptr<OGRGeometry>;

struct GeometryOutcome {
  std::string wkb;                // ISO WKB in EPSG:4326
  std::string reject_reason;      // non-empty: the record is rejected
  std::string repair_reason;      // non-empty: the geometry was repaired
  std::optional<double> area_m2;  // planar TM-3 area, when the layer declares areas
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

// Areas as cadastral records declare them: planar, in VN-2000 / TM-3 with Nghệ An's meridian. The
// datum shift changes areas by well under a millionth, so WGS84 lon/lat go straight to the projection.
class AreaMeter {
 public:
  AreaMeter() {
    OGRSpatialReference wgs84, tm3;
    wgs84.importFromEPSG(4326);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const std::string definition = fmt::format(
        "+proj=tmerc +lat_0=0 +lon_0={} +k=0.9999 +x_0=500000 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs",
        layers::kNgheAnCentralMeridian);
    tm3.SetFromUserInput(definition.c_str());
    tm3.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    transform_.reset(OGRCreateCoordinateTransformation(&wgs84, &tm3));
    if (!transform_) throw Error(ErrorCode::internal, "cannot build the TM-3 area projection");
  }
  [[nodiscard]] std::optional<double> area(const OGRGeometry& wgs84) const {
    const OgrGeometryPtr projected(wgs84.clone());
    if (projected->transform(transform_.get()) != OGRERR_NONE) return std::nullopt;
    return OGR_G_Area(OGRGeometry::ToHandle(projected.get()));
  }

 private:
  std::unique_ptr<OGRCoordinateTransformation> transform_;
};

GeometryOutcome prepare_geometry(const OGRGeometry* source, const layers::LayerDef& def, const CrsPlan& crs,
                                 GEOSContextHandle_t geos, OutsideStats& outside, const ProvinceShape& province,
                                 const AreaMeter* area_meter) {
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
  OGREnvelope source_box;
  geometry->getEnvelope(&source_box);
  ++outside.checked;
  auto count_outside = [&] {
    ++outside.outside;
    if (outside.samples.size() < OutsideStats::kMaxSamples) {
      outside.samples.emplace_back((source_box.MinX + source_box.MaxX) / 2, (source_box.MinY + source_box.MaxY) / 2);
    }
  };
  // A point that cannot be transformed lies outside the CRS's domain, hence outside the province.
  if ((crs.transform && geometry->transform(crs.transform.get()) != OGRERR_NONE) || !inside_province(*geometry)) {
    count_outside();
    out.reject_reason = "outside_province";
    return out;
  }
  if (province.has_outline()) {
    OGREnvelope box;
    geometry->getEnvelope(&box);
    if (!province.contains((box.MinX + box.MaxX) / 2, (box.MinY + box.MaxY) / 2)) count_outside();
  }
  if (area_meter != nullptr) out.area_m2 = area_meter->area(*geometry);
  out.wkb.resize(geometry->WkbSize());
  geometry->exportToWkb(wkbNDR, reinterpret_cast<unsigned char*>(out.wkb.data()), wkbVariantIso);
  return out;
}

// ---- step 7: keys and catalogue checks ---------------------------------------------------------------

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

// A value checked against the codes another layer of the store holds.
struct ReferenceCheck {
  std::size_t attribute = 0;
  std::unordered_set<std::string> known;
  std::string separator;  // non-empty: a combined value ("ONT+CLN") is checked part by part
  bool reject = false;    // reject the record; else keep it and flag it
  std::string reason;

  [[nodiscard]] bool passes(const layers::Value& value) const {
    const auto* text = std::get_if<std::string>(&value);
    if (text == nullptr) return true;  // null: nothing to check (required attributes are checked before)
    if (separator.empty()) return known.contains(*text);
    for (std::size_t start = 0; start <= text->size();) {
      std::size_t end = text->find(separator, start);
      if (end == std::string::npos) end = text->size();
      if (!known.contains(text->substr(start, end - start))) return false;
      start = end + separator.size();
    }
    return true;
  }
};

std::unordered_set<std::string> codes_of(const layers::Store& store, const layers::LayerDef& catalogue,
                                         const std::string& attribute) {
  std::unordered_set<std::string> codes;
  const std::size_t index = catalogue.attribute_index(attribute);
  store.scan(catalogue.name, false, [&](const layers::Feature& feature) {
    if (const auto* code = std::get_if<std::string>(&feature.values.at(index))) codes.insert(*code);
    return true;
  });
  return codes;
}

// Land-use codes against the store's land_use_codes (unknown ones are kept and flagged); the 2025
// conversion table's new units against the store's communes (unknown ones are rejected). A check
// whose catalogue is not in the store is skipped with a note in the report.
std::vector<ReferenceCheck> reference_checks(const layers::Store& store, const layers::LayerDef& def,
                                             const Mapping* mapping, std::vector<std::string>& notes) {
  struct Rule {
    std::string layer;  // empty: any layer with the attribute
    std::string attribute, catalogue, catalogue_attribute, reason;
    bool reject;
  };
  static const std::vector<Rule> kRules{
      {"", "land_use", "land_use_codes", "code", "unknown_land_use_code", false},
      {"commune_mapping", "new_code", "communes", "code", "unknown_new_unit", true},
  };
  std::vector<ReferenceCheck> checks;
  for (const auto& rule : kRules) {
    if (!rule.layer.empty() && rule.layer != def.name) continue;
    const auto* attribute = def.find_attribute(rule.attribute);
    if (attribute == nullptr || attribute->type != layers::AttributeType::text) continue;
    const auto catalogue = store.find_layer(rule.catalogue);
    if (!catalogue || catalogue->find_attribute(rule.catalogue_attribute) == nullptr) {
      notes.push_back(
          fmt::format("{} not checked: the store has no {} layer (import it first)", rule.attribute, rule.catalogue));
      continue;
    }
    ReferenceCheck check;
    check.attribute = def.attribute_index(rule.attribute);
    check.known = codes_of(store, *catalogue, rule.catalogue_attribute);
    if (rule.attribute == "land_use") {
      const FieldSpec* spec = mapping != nullptr ? mapping->spec_for(rule.attribute) : nullptr;
      check.separator = spec != nullptr ? spec->list_separator() : "+";
    }
    check.reject = rule.reject;
    check.reason = rule.reason;
    checks.push_back(std::move(check));
  }
  return checks;
}

// A layer with both commune_code and old_commune_code (parcels from Famis or ViLIS carry only the
// former code): an empty 2025 code is filled from the store's conversion table, where the former commune
// went into one unit.
struct CommuneDerivation {
  std::size_t commune = 0, old_commune = 0;
  std::unordered_map<std::string, std::string> new_of_old;  // only the unambiguous rows
  void apply(std::vector<layers::Value>& values) const {
    const auto* current = std::get_if<std::string>(&values[commune]);
    if (current != nullptr && !current->empty()) return;
    const auto* old_code = std::get_if<std::string>(&values[old_commune]);
    if (old_code == nullptr) return;
    const auto it = new_of_old.find(*old_code);
    if (it != new_of_old.end()) values[commune] = it->second;
  }
};

std::optional<CommuneDerivation> commune_derivation(const layers::Store& store, const layers::LayerDef& def) {
  const auto* commune = def.find_attribute("commune_code");
  const auto* old_commune = def.find_attribute("old_commune_code");
  if (commune == nullptr || old_commune == nullptr || commune->type != layers::AttributeType::text) return {};
  const auto table = store.find_layer("commune_mapping");
  if (!table) return {};  // nothing to derive from: the 2025 code stays as the source gave it
  CommuneDerivation derivation{def.attribute_index("commune_code"), def.attribute_index("old_commune_code"), {}};
  const std::size_t old_i = table->attribute_index("old_code"), new_i = table->attribute_index("new_code");
  std::unordered_set<std::string> split;  // former communes shared between several units
  store.scan(table->name, false, [&](const layers::Feature& row) {
    const auto* old_code = std::get_if<std::string>(&row.values[old_i]);
    const auto* new_code = std::get_if<std::string>(&row.values[new_i]);
    if (old_code == nullptr || new_code == nullptr) return true;
    const auto [it, added] = derivation.new_of_old.emplace(*old_code, *new_code);
    if (!added && it->second != *new_code) split.insert(*old_code);
    return true;
  });
  for (const auto& code : split) derivation.new_of_old.erase(code);
  return derivation;
}

// The attribute holding a declared area in m², for polygon layers that have one.
std::optional<std::size_t> declared_area_attribute(const layers::LayerDef& def) {
  if (def.geometry != layers::GeometryType::polygon && def.geometry != layers::GeometryType::multipolygon) return {};
  const auto* attribute = def.find_attribute("area_m2");
  if (attribute == nullptr ||
      (attribute->type != layers::AttributeType::real && attribute->type != layers::AttributeType::integer))
    return {};
  return def.attribute_index("area_m2");
}

// A declared area more than 5 % away from the geometry's: a wrong geometry or a wrong record.
bool area_mismatch(const layers::Value& declared, std::optional<double> computed) {
  double value = 0;
  if (const auto* real = std::get_if<double>(&declared)) {
    value = *real;
  } else if (const auto* integer = std::get_if<std::int64_t>(&declared)) {
    value = static_cast<double>(*integer);
  } else {
    return false;
  }
  if (!computed || *computed <= 0 || value <= 0) return false;
  return std::fabs(value - *computed) > 0.05 * *computed;
}

// ---- step 8: provenance ------------------------------------------------------------------------------

// SHA-256 over every file of every source (a Shapefile's .shp, .shx, .dbf, .prj, ...; an archive as
// a whole), in order. VSI reads plain and virtual paths alike.
std::string hash_sources(const std::vector<Source>& sources) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, "SHA-256 is unavailable");
  }
  std::vector<char> buffer(1 << 16);
  auto add_file = [&](const std::string& file) {
    VSIStatBufL stat{};
    if (VSIStatL(file.c_str(), &stat) == 0 && VSI_ISDIR(stat.st_mode)) return;
    VSILFILE* handle = VSIFOpenL(file.c_str(), "rb");
    if (handle == nullptr) throw InputError(fmt::format("{}: cannot be read", file));
    for (std::size_t n; (n = VSIFReadL(buffer.data(), 1, buffer.size(), handle)) > 0;) {
      EVP_DigestUpdate(context.get(), buffer.data(), n);
    }
    VSIFCloseL(handle);
  };
  for (const auto& source : sources) {
    if (!source.archive.empty()) {
      add_file(source.archive);
      continue;
    }
    char** files = source.dataset->GetFileList();
    for (char** file = files; file != nullptr && *file != nullptr; ++file) add_file(*file);
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
  WriteBehind& writer;
  KeyTracker keys;
  GEOSContextHandle_t geos;
  const ProvinceShape& province;
  ImportReport& report;
  std::vector<ReferenceCheck> checks;
  std::optional<std::size_t> area_attribute;
  std::optional<AreaMeter> area_meter;
  std::optional<CommuneDerivation> communes;
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
  std::optional<IgnoreGeometry> attributes_only;
  if (!has_geometry) attributes_only.emplace(source.layer);
  source.layer->ResetReading();

  auto& record = state.report.record;
  auto issue = [&](const OGRFeature& feature, const char* action, std::string reason) {
    std::string id = source_id(feature, bindings, encoding);
    if (prefix_ids) id = source.path.filename().string() + ":" + id;
    state.report.records.push_back({std::move(id), action, std::move(reason)});
  };
  auto reject = [&](const OGRFeature& feature, std::string reason) {
    ++record.rejected;
    issue(feature, "rejected", std::move(reason));
  };

  const std::int64_t total = source.layer->GetFeatureCount(FALSE);
  std::int64_t number = 0;
  auto progress = [&](bool done) {
    if (options.progress) options.progress({source.path.string(), number, total, done});
  };
  OutsideStats outside;
  progress(false);  // the start: rates and ETAs count from here
  while (auto feature = read_next(source, trap, number + 1)) {
    ++number;
    ++record.read;
    if (number % 4096 == 0) progress(false);
    if (!passes_filters(*feature, bindings, encoding)) {
      ++state.report.filtered;
      continue;
    }
    Values values = read_values(*feature, bindings, state.def, encoding);
    if (!values.reject_reason.empty()) {
      reject(*feature, std::move(values.reject_reason));
      continue;
    }
    if (state.communes) state.communes->apply(values.values);
    const auto failed = std::find_if(state.checks.begin(), state.checks.end(), [&](const ReferenceCheck& check) {
      return check.reject && !check.passes(values.values[check.attribute]);
    });
    if (failed != state.checks.end()) {
      reject(*feature, failed->reason);
      continue;
    }
    layers::Feature out{std::move(values.values), {}};
    GeometryOutcome geometry;
    if (has_geometry) {
      geometry = prepare_geometry(feature->GetGeometryRef(), state.def, crs, state.geos, outside, state.province,
                                  state.area_meter ? &*state.area_meter : nullptr);
      // Most of a big file outside: refuse it now rather than read on.
      if (outside.checked >= 10000 && outside.outside * 20 >= outside.checked * 19) {
        refuse_outside(source, outside, crs, options, state.province);
      }
      if (!geometry.reject_reason.empty()) {
        reject(*feature, std::move(geometry.reject_reason));
        continue;
      }
      out.wkb = std::move(geometry.wkb);
    }
    if (!state.keys.insert(out.values)) {
      reject(*feature, duplicate_reason(state.def.name));
      continue;
    }
    ++record.imported;
    bool flagged = false;
    if (!geometry.repair_reason.empty()) {
      ++record.repaired;
      flagged = true;
      issue(*feature, "repaired", std::move(geometry.repair_reason));
    }
    for (const auto& check : state.checks) {
      if (!check.reject && !check.passes(out.values[check.attribute])) {
        flagged = true;
        issue(*feature, "flagged", check.reason);
      }
    }
    if (state.area_attribute && area_mismatch(out.values[*state.area_attribute], geometry.area_m2)) {
      flagged = true;
      issue(*feature, "flagged", "area_mismatch");
    }
    record.flagged += flagged ? 1 : 0;
    state.writer.add(std::move(out));
  }
  progress(true);
  // A stray record is rejected alone; a file mostly outside was read with the wrong CRS or axes.
  if (outside.outside > 0 && outside.outside * 2 > outside.checked) {
    refuse_outside(source, outside, crs, options, state.province);
  }
}

}  // namespace

// ---- report ------------------------------------------------------------------------------------------

nlohmann::json ImportReport::to_json() const {
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& issue : records) {
    issues.push_back({{"source_id", issue.source_id}, {"action", issue.action}, {"reason", issue.reason}});
  }
  return {{"layer", record.layer},
          {"mode", record.mode == layers::WriteMode::upsert ? "upsert" : "replace"},
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
          {"filtered", filtered},
          {"notes", notes},
          {"records", std::move(issues)}};
}

std::string ImportReport::summary() const {
  std::string text = fmt::format("{}: {} read, {} imported, {} rejected, {} repaired, {} flagged", record.layer,
                                 record.read, record.imported, record.rejected, record.repaired, record.flagged);
  if (filtered > 0) text += fmt::format(", {} filtered out", filtered);
  text += record.mode == layers::WriteMode::upsert ? " (upsert)\n" : "\n";
  text += fmt::format("  source: {}\n  crs: {}; text: {}\n", record.source,
                      record.source_crs.empty() ? "(no geometry)" : record.source_crs, record.encoding);
  std::map<std::string, std::int64_t> reasons;
  for (const auto& issue : records) ++reasons[issue.action + ": " + issue.reason];
  for (const auto& [reason, count] : reasons) text += fmt::format("  {} × {}\n", count, reason);
  for (const auto& note : notes) text += fmt::format("  note: {}\n", note);
  return text;
}

// ---- the import --------------------------------------------------------------------------------------

ImportReport run_import(layers::Store& store, const layers::LayerDef& layer, const ImportOptions& options) {
  ensure_gdal_registered();
  // The Shapefile driver otherwise matches every .prj against PROJ's whole database (a tenth of a
  // second) for an EPSG code that plan_crs() does not need: VN-2000 is recognised by its datum.
  const ThreadConfigOption no_prj_lookup("USE_OSR_FIND_MATCHES", "NO");
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
  report.record.mode = options.mode;
  report.record.mapping = options.mapping ? options.mapping->string() : std::string();
  std::vector<std::string> paths, encodings, crs_labels;

  GdalErrorTrap trap;
  std::vector<Source> sources;
  for (const auto& path : options.sources) sources.push_back(open_source(path, mapping_ptr, layer, trap));
  // Catalogues are read before writing starts (an upsert may read the layer it writes).
  std::vector<ReferenceCheck> checks = reference_checks(store, layer, mapping_ptr, report.notes);
  std::optional<CommuneDerivation> communes = commune_derivation(store, layer);
  const GeosContext geos;
  const ProvinceShape province(store, layer, geos.get());

  // Destroyed without commit() on any exception: the store keeps its previous content.
  auto writer = store.write_layer(layer, options.mode);
  WriteBehind write_behind(*writer);
  ImportState state{layer,
                    write_behind,
                    KeyTracker(layer),
                    geos.get(),
                    province,
                    report,
                    std::move(checks),
                    declared_area_attribute(layer),
                    std::nullopt,
                    std::move(communes)};
  if (state.area_attribute) state.area_meter.emplace();
  for (auto& source : sources) {
    paths.push_back(source.path.string());
    import_source(source, options, mapping_ptr, sources.size() > 1, state, trap, encodings, crs_labels);
  }
  report.record.source = join_unique(paths);
  report.record.source_sha256 = hash_sources(sources);
  report.record.source_crs = join_unique(crs_labels);
  report.record.encoding = join_unique(encodings);
  report.detected_encoding = report.record.encoding;
  write_behind.finish();
  writer->commit(report.record);
  return report;
}

}  // namespace bandoso::data_import
