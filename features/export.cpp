#include "features/export.hpp"

#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <atomic>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>

#include "layers/core/error.hpp"
#include "layers/core/gdal_memory.hpp"

namespace bandoso::features {

namespace {

using layers::DatasetPtr;
using layers::MemoryFile;

OGRFieldType field_type(layers::AttributeType type) {
  switch (type) {
    case layers::AttributeType::integer:
    case layers::AttributeType::boolean:
      return OFTInteger64;
    case layers::AttributeType::real:
      return OFTReal;
    case layers::AttributeType::text:
    case layers::AttributeType::date:
      return OFTString;
  }
  return OFTString;
}

// One stretch of the CSV, written by GDAL's CSV driver into a memory file of its own. The answer is a
// run of segments of about kExportPieceBytes each, so that memory holds one piece at a time, not the
// whole file (a memory file only grows); each segment starts with the header row, which only the first
// keeps.
class CsvSegment {
 public:
  CsvSegment(const layers::LayerDef& def, const std::vector<std::size_t>& columns) {
    static std::once_flag registered;
    std::call_once(registered, [] { GDALAllRegister(); });
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("CSV");
    if (driver == nullptr) throw Error(ErrorCode::internal, "GDAL has no CSV driver");
    dataset_.reset(driver->Create(file_.path().c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    if (!dataset_) throw Error(ErrorCode::internal, "cannot write a CSV in memory");
    const char* const options[] = {"STRING_QUOTING=IF_NEEDED", "SEPARATOR=COMMA", "LINEFORMAT=LF", nullptr};
    // The geometry is the first column, "wkt", a text column of OGR's WKT (what GEOMETRY=AS_WKT would write,
    // but the CSV driver of GDAL 3.6 names that column "WKT" whatever GEOMETRY_NAME says); empty for a
    // feature or layer without geometry.
    layer_ = dataset_->CreateLayer(def.name.c_str(), nullptr, wkbNone, const_cast<char**>(options));
    if (layer_ == nullptr) throw Error(ErrorCode::internal, "cannot write a CSV in memory");
    OGRFieldDefn wkt("wkt", OFTString);
    if (layer_->CreateField(&wkt) != OGRERR_NONE) throw Error(ErrorCode::internal, "cannot write CSV column 'wkt'");
    for (const std::size_t i : columns) {
      OGRFieldDefn field(def.attributes[i].name.c_str(), field_type(def.attributes[i].type));
      if (layer_->CreateField(&field) != OGRERR_NONE) {
        throw Error(ErrorCode::internal, fmt::format("cannot write CSV column '{}'", def.attributes[i].name));
      }
    }
  }

  void add(const layers::Feature& feature, const std::vector<std::size_t>& columns) {
    OGRFeature row(layer_->GetLayerDefn());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const int field = static_cast<int>(c) + 1;
      const layers::Value& value = feature.values[columns[c]];
      if (const auto* s = std::get_if<std::string>(&value)) {
        row.SetField(field, s->c_str());
      } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
        row.SetField(field, static_cast<GIntBig>(*i));
      } else if (const auto* d = std::get_if<double>(&value)) {
        row.SetField(field, *d);
      } else {
        row.SetFieldNull(field);
      }
    }
    if (feature.wkb.empty()) {
      row.SetFieldNull(0);
    } else {
      OGRGeometry* read = nullptr;
      if (OGRGeometryFactory::createFromWkb(feature.wkb.data(), nullptr, &read, feature.wkb.size()) != OGRERR_NONE) {
        throw Error(ErrorCode::storage_failure, "a stored geometry cannot be read");
      }
      const std::unique_ptr<OGRGeometry, void (*)(OGRGeometry*)> geometry(read, OGRGeometryFactory::destroyGeometry);
      OGRWktOptions options;
      options.variant = wkbVariantIso;
      OGRErr error = OGRERR_NONE;
      const std::string wkt = geometry->exportToWkt(options, &error);
      if (error != OGRERR_NONE) throw Error(ErrorCode::internal, "a geometry cannot be written as WKT");
      row.SetField(0, wkt.c_str());
    }
    if (layer_->CreateFeature(&row) != OGRERR_NONE) throw Error(ErrorCode::internal, "cannot write a CSV row");
  }

  // Bytes GDAL has written so far.
  [[nodiscard]] std::size_t size() const { return file_.bytes().size(); }

  // Closes the file (GDAL writes the header of a file without rows then) and hands its bytes over,
  // without the header row unless `with_header`.
  void finish(const std::function<void(std::string_view)>& write, bool with_header) {
    dataset_.reset();
    std::string_view text = file_.bytes();
    if (!with_header) {
      // Column names are "wkt" and attribute names ([a-z][a-z0-9_]*): never quoted, never a line break.
      const std::size_t end = text.find('\n');
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    if (!text.empty()) write(text);
  }

 private:
  MemoryFile file_{".csv"};
  DatasetPtr dataset_;
  OGRLayer* layer_ = nullptr;
};

}  // namespace

ExportFormat parse_export_format(std::string_view text) {
  if (text == "geojson") return ExportFormat::geojson;
  if (text == "csv") return ExportFormat::csv;
  throw BadRequestError(fmt::format("unknown export format '{}': geojson or csv", text));
}

std::string_view to_string(ExportFormat format) { return format == ExportFormat::csv ? "csv" : "geojson"; }

Export::Export(const layers::Store& store, std::string collection, ExportFormat format, ItemsRequest request,
               std::size_t limit)
    : store_(store), format_(format), restricted_(request.restricted) {
  auto def = store_.find_layer(collection);
  if (!def) throw NotFoundError(fmt::format("no collection '{}'", collection));
  layer_ = std::move(*def);
  if (limit > kMaxExportFeatures) {
    throw BadRequestError(fmt::format("limit {} is over the most an export holds, {}", limit, kMaxExportFeatures));
  }
  query_ = build_query(layer_, request);
  query_.offset = static_cast<std::int64_t>(request.offset);
  query_.limit = static_cast<std::int64_t>(limit == 0 ? kMaxExportFeatures : limit);
}

std::string Export::content_type() const {
  return format_ == ExportFormat::csv ? "text/csv; charset=utf-8" : "application/geo+json";
}

std::string Export::filename() const { return fmt::format("{}.{}", layer_.name, to_string(format_)); }

void Export::run(const std::function<void(std::string_view)>& write, std::vector<std::string>* ids) const {
  if (format_ == ExportFormat::csv) {
    run_csv(write, ids);
  } else {
    run_geojson(write, ids);
  }
}

void Export::run_geojson(const std::function<void(std::string_view)>& write, std::vector<std::string>* ids) const {
  std::string piece = R"({"type":"FeatureCollection","features":[)";
  piece.reserve(kExportPieceBytes + kExportPieceBytes / 4);
  bool first = true;
  store_.select(layer_.name, query_, layer_.geometry != layers::GeometryType::none, [&](const layers::Feature& f) {
    nlohmann::json feature = feature_json(layer_, f, restricted_);
    if (ids != nullptr) ids->push_back(feature["id"].get<std::string>());
    if (!first) piece += ',';
    first = false;
    piece += feature.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (piece.size() >= kExportPieceBytes) {
      write(piece);
      piece.clear();
    }
    return true;
  });
  piece += "]}\n";
  write(piece);
}

void Export::run_csv(const std::function<void(std::string_view)>& write, std::vector<std::string>* ids) const {
  std::vector<std::size_t> columns;
  for (std::size_t i = 0; i < layer_.attributes.size(); ++i) {
    if (layer_.attributes[i].access != layers::Access::restricted || restricted_) columns.push_back(i);
  }
  std::optional<CsvSegment> segment;
  bool header_written = false;
  const auto finish = [&] {
    segment->finish(write, !header_written);
    header_written = true;
    segment.reset();
  };
  store_.select(layer_.name, query_, layer_.geometry != layers::GeometryType::none, [&](const layers::Feature& f) {
    if (!segment) segment.emplace(layer_, columns);
    segment->add(f, columns);
    if (ids != nullptr) ids->push_back(feature_id(layer_, f));
    if (segment->size() >= kExportPieceBytes) finish();
    return true;
  });
  if (!segment && !header_written) segment.emplace(layer_, columns);  // no rows: the header alone
  if (segment) finish();
}

}  // namespace bandoso::features
