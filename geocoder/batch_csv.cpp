#include "geocoder/batch_csv.hpp"

#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <atomic>
#include <fmt/format.h>
#include <memory>
#include <mutex>

#include "layers/core/error.hpp"

namespace bandoso::geocoder {

namespace {

// A file in GDAL's memory file system, removed with this object.
class MemoryFile {
 public:
  explicit MemoryFile(const std::string& extension) {
    static std::atomic<unsigned> counter{0};
    path_ = fmt::format("/vsimem/bandoso-batch-{}{}", counter++, extension);
  }
  ~MemoryFile() { VSIUnlink(path_.c_str()); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DatasetCloser {
  void operator()(GDALDataset* dataset) const { GDALClose(dataset); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

const char* const kResultColumns[] = {"latitude",    "longitude", "result_label", "result_score",
                                      "result_type", "result_id", "result_match"};

}  // namespace

std::string geocode_csv(Geocoder& geocoder, std::string_view csv, const std::vector<std::string>& columns) {
  static std::once_flag registered;
  std::call_once(registered, [] { GDALAllRegister(); });
  if (csv.empty()) throw BadRequestError("the CSV body is empty");

  MemoryFile input(".csv");
  VSILFILE* handle = VSIFileFromMemBuffer(input.path().c_str(), reinterpret_cast<GByte*>(const_cast<char*>(csv.data())),
                                          csv.size(), FALSE);
  if (handle == nullptr) throw Error(ErrorCode::internal, "cannot hold the CSV in memory");
  VSIFCloseL(handle);
  const char* const allowed[] = {"CSV", nullptr};
  const char* const open_options[] = {"HEADERS=YES", "AUTODETECT_TYPE=NO", nullptr};
  DatasetPtr source(
      GDALDataset::Open(input.path().c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, allowed, open_options, nullptr));
  if (!source || source->GetLayerCount() != 1) throw BadRequestError("the body is not a CSV file with a header row");
  OGRLayer* rows = source->GetLayer(0);
  OGRFeatureDefn* header = rows->GetLayerDefn();

  std::vector<int> chosen;
  for (const auto& name : columns) {
    const int index = header->GetFieldIndex(name.c_str());
    if (index < 0) throw BadRequestError(fmt::format("the CSV has no column '{}'", name));
    chosen.push_back(index);
  }
  if (chosen.empty()) {
    for (int i = 0; i < header->GetFieldCount(); ++i) chosen.push_back(i);
  }

  MemoryFile output(".csv");
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("CSV");
  DatasetPtr target(driver->Create(output.path().c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!target) throw Error(ErrorCode::internal, "cannot write a CSV in memory");
  const char* const layer_options[] = {"GEOMETRY=AS_XY", "STRING_QUOTING=IF_NEEDED", nullptr};
  OGRLayer* out = target->CreateLayer("result", nullptr, wkbNone, const_cast<char**>(layer_options));
  for (int i = 0; i < header->GetFieldCount(); ++i) {
    OGRFieldDefn field(header->GetFieldDefn(i)->GetNameRef(), OFTString);
    out->CreateField(&field);
  }
  for (const char* name : kResultColumns) {
    OGRFieldDefn field(name, OFTString);
    out->CreateField(&field);
  }

  std::size_t count = 0;
  for (auto& row : *rows) {
    if (++count > kMaxBatchRows) {
      throw BadRequestError(fmt::format("more than {} rows: split the file", kMaxBatchRows));
    }
    OGRFeature result(out->GetLayerDefn());
    for (int i = 0; i < header->GetFieldCount(); ++i) result.SetField(i, row->GetFieldAsString(i));
    std::string query;
    for (const int index : chosen) {
      const std::string value = row->GetFieldAsString(index);
      if (!value.empty()) query += (query.empty() ? "" : ", ") + value;
    }
    const int first = header->GetFieldCount();
    try {
      if (query.empty() || query.size() > kMaxQueryBytes) throw BadRequestError("no usable address");
      SearchOptions options;
      options.limit = 1;
      const SearchResult found = geocoder.search(query, options);
      if (!found.places.empty()) {
        const Place& p = found.places.front();
        result.SetField(first, fmt::format("{:.7f}", p.lat).c_str());
        result.SetField(first + 1, fmt::format("{:.7f}", p.lon).c_str());
        result.SetField(first + 2, p.display_name.c_str());
        result.SetField(first + 3, fmt::format("{:.2f}", p.confidence).c_str());
        result.SetField(first + 4, p.kind.c_str());
        result.SetField(first + 5, (p.layer + ":" + p.id).c_str());
        result.SetField(first + 6, std::string(to_string(p.match)).c_str());
      }
    } catch (const BadRequestError&) {
      // A row that cannot be read (empty, too long, not UTF-8) keeps empty result columns.
    }
    if (out->CreateFeature(&result) != OGRERR_NONE) throw Error(ErrorCode::internal, "cannot write a CSV row");
  }
  target.reset();  // flushes the file

  vsi_l_offset length = 0;
  GByte* bytes = VSIGetMemFileBuffer(output.path().c_str(), &length, FALSE);
  if (bytes == nullptr) throw Error(ErrorCode::internal, "the CSV written in memory is missing");
  std::string text(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(length));
  return text;
}

}  // namespace bandoso::geocoder
