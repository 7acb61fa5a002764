#include "geocoder/batch_csv.hpp"

#include <cpl_csv.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <atomic>
#include <fmt/format.h>
#include <mutex>

#include "layers/core/error.hpp"
#include "layers/core/gdal_memory.hpp"

namespace bandoso::geocoder {

namespace {

using layers::DatasetPtr;
using layers::MemoryFile;

constexpr std::size_t kMaxLineBytes = 1 << 20;

const char* const kResultColumns[] = {
    "latitude",     "longitude",      "result_label",        "result_score",       "result_type",        "result_id",
    "result_match", "result_commune", "result_commune_code", "result_old_commune", "result_old_district"};

// The separator of a header line: the most frequent of comma, semicolon and tab (a file with one column
// has none). GDAL's CSV driver refuses one-column files, so the reading is CPL's line parser.
char separator_of(std::string_view header_line) {
  char best = ',';
  std::ptrdiff_t most = 0;
  for (const char candidate : {',', ';', '\t'}) {
    const auto n = std::count(header_line.begin(), header_line.end(), candidate);
    if (n > most) most = n, best = candidate;
  }
  return best;
}

std::vector<std::string> fields_of(char** parsed) {
  std::vector<std::string> fields;
  for (char** field = parsed; field != nullptr && *field != nullptr; ++field) fields.emplace_back(*field);
  CSLDestroy(parsed);
  return fields;
}

}  // namespace

struct CsvBatch::Impl {
  explicit Impl(Geocoder& g) : geocoder(g) {}
  Geocoder& geocoder;
  char separator = ',';
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> chosen;
};

CsvBatch::CsvBatch(Geocoder& geocoder, std::string csv, const std::vector<std::string>& columns)
    : impl_(std::make_unique<Impl>(geocoder)) {
  Impl& m = *impl_;
  if (csv.empty()) throw BadRequestError("the CSV is empty");
  std::string_view first_line(csv);
  first_line = first_line.substr(0, first_line.find('\n'));
  m.separator = separator_of(first_line);

  MemoryFile input(".csv");
  VSILFILE* file = VSIFileFromMemBuffer(input.path().c_str(), reinterpret_cast<GByte*>(csv.data()), csv.size(), FALSE);
  if (file == nullptr) throw Error(ErrorCode::internal, "cannot hold the CSV in memory");
  const char delimiter[] = {m.separator, '\0'};
  const auto next_line = [&] {
    return fields_of(CSVReadParseLine3L(file, kMaxLineBytes, delimiter, /*bHonourStrings=*/true,
                                        /*bKeepLeadingAndClosingQuotes=*/false, /*bMergeDelimiter=*/false,
                                        /*bSkipBOM=*/true));
  };
  m.header = next_line();
  while (true) {
    const vsi_l_offset before = VSIFTellL(file);
    std::vector<std::string> row = next_line();
    if (row.empty()) {
      if (VSIFEofL(file) != 0 || VSIFTellL(file) >= csv.size()) break;
      if (VSIFTellL(file) == before) {
        VSIFCloseL(file);
        throw BadRequestError(fmt::format("a line of the CSV is longer than {} bytes", kMaxLineBytes));
      }
      continue;  // a blank line
    }
    if (m.rows.size() == kMaxBatchRows) {
      VSIFCloseL(file);
      throw BadRequestError(fmt::format("more than {} rows: split the file", kMaxBatchRows));
    }
    row.resize(m.header.size());
    m.rows.push_back(std::move(row));
  }
  VSIFCloseL(file);
  if (m.header.empty() || m.header.front().empty()) throw BadRequestError("the CSV has no header row");

  for (const auto& name : columns) {
    const auto at = std::find(m.header.begin(), m.header.end(), name);
    if (at == m.header.end()) throw BadRequestError(fmt::format("the CSV has no column '{}'", name));
    m.chosen.push_back(static_cast<std::size_t>(at - m.header.begin()));
  }
  if (m.chosen.empty()) {
    for (std::size_t i = 0; i < m.header.size(); ++i) m.chosen.push_back(i);
  }
}

CsvBatch::~CsvBatch() = default;

std::size_t CsvBatch::rows() const { return impl_->rows.size(); }

void CsvBatch::run(const std::function<void(std::string_view)>& write, std::size_t rows_per_piece) {
  static std::once_flag registered;
  std::call_once(registered, [] { GDALAllRegister(); });
  Impl& m = *impl_;
  rows_per_piece = std::max<std::size_t>(rows_per_piece, 1);
  MemoryFile output(".csv");
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("CSV");
  DatasetPtr target(driver->Create(output.path().c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!target) throw Error(ErrorCode::internal, "cannot write a CSV in memory");
  // The answer keeps the file's separator, as Addok does.
  const char* separator = m.separator == ';'    ? "SEPARATOR=SEMICOLON"
                          : m.separator == '\t' ? "SEPARATOR=TAB"
                                                : "SEPARATOR=COMMA";
  const char* const layer_options[] = {"STRING_QUOTING=IF_NEEDED", separator, nullptr};
  OGRLayer* out = target->CreateLayer("result", nullptr, wkbNone, const_cast<char**>(layer_options));
  for (const auto& name : m.header) {
    OGRFieldDefn field(name.c_str(), OFTString);
    out->CreateField(&field);
  }
  for (const char* name : kResultColumns) {
    OGRFieldDefn field(name, OFTString);
    out->CreateField(&field);
  }

  // GDAL writes the memory file as rows are created: hand over what it has grown by since last time.
  vsi_l_offset handed = 0;
  const auto hand_over = [&] {
    vsi_l_offset length = 0;
    const GByte* bytes = VSIGetMemFileBuffer(output.path().c_str(), &length, FALSE);
    if (bytes != nullptr && length > handed) {
      write(std::string_view(reinterpret_cast<const char*>(bytes) + handed, static_cast<std::size_t>(length - handed)));
      handed = length;
    }
  };

  const int first = static_cast<int>(m.header.size());
  std::size_t done = 0;
  for (const auto& row : m.rows) {
    OGRFeature result(out->GetLayerDefn());
    for (int i = 0; i < first; ++i) result.SetField(i, row[static_cast<std::size_t>(i)].c_str());
    std::string query;
    for (const std::size_t index : m.chosen) {
      if (!row[index].empty()) query += (query.empty() ? "" : ", ") + row[index];
    }
    try {
      if (query.empty() || query.size() > kMaxQueryBytes) throw BadRequestError("no usable address");
      SearchOptions options;
      options.limit = 1;
      const SearchResult found = m.geocoder.search(query, options);
      if (!found.places.empty()) {
        const Place& p = found.places.front();
        const std::string values[] = {fmt::format("{:.7f}", p.lat),
                                      fmt::format("{:.7f}", p.lon),
                                      p.display_name,
                                      fmt::format("{:.2f}", p.confidence),
                                      p.kind,
                                      p.layer + ":" + p.id,
                                      std::string(to_string(p.match)),
                                      p.admin.commune,
                                      p.admin.commune_code,
                                      p.admin.former_commune,
                                      p.admin.former_district};
        for (std::size_t i = 0; i < std::size(values); ++i)
          result.SetField(first + static_cast<int>(i), values[i].c_str());
      }
    } catch (const BadRequestError&) {
      // A row that cannot be read (empty, too long, not UTF-8) keeps empty result columns.
    }
    if (out->CreateFeature(&result) != OGRERR_NONE) throw Error(ErrorCode::internal, "cannot write a CSV row");
    if (++done % rows_per_piece == 0 || done == 1) hand_over();
  }
  target.reset();  // flushes the file (and writes the header of a CSV without rows)
  hand_over();
}

}  // namespace bandoso::geocoder
