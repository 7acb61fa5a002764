#pragma once
// Batch geocoding of a CSV file in the Addok convention (POST /search/csv): every row's chosen columns,
// joined, are geocoded, and the row comes back with latitude, longitude, result_label, result_score,
// result_type, result_id, result_match and the new and former units added. CSV parsing (quoting, BOM) is
// GDAL's CPL reader, the writing its CSV driver; comma, semicolon and tab files answer in kind. The answer is handed
// over in pieces as rows are done, so a large file starts arriving at once.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "geocoder/geocoder.hpp"

namespace bandoso::geocoder {

inline constexpr std::size_t kMaxBatchRows = 50000;

class CsvBatch {
 public:
  // `columns`: the header names whose values make the address, in order (empty: every column).
  // Reads the header and counts the rows before anything is geocoded, so that bad input is refused
  // whole: throws BadRequestError for a body that is not CSV with a header row, an unknown column or
  // more than kMaxBatchRows rows.
  CsvBatch(Geocoder& geocoder, std::string csv, const std::vector<std::string>& columns);
  ~CsvBatch();
  CsvBatch(const CsvBatch&) = delete;
  CsvBatch& operator=(const CsvBatch&) = delete;

  [[nodiscard]] std::size_t rows() const;

  // Geocodes every row, handing the output CSV to `write` in pieces: the header, then every
  // `rows_per_piece` rows. A row that finds nothing keeps empty result columns. Runs once.
  void run(const std::function<void(std::string_view)>& write, std::size_t rows_per_piece = 100);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bandoso::geocoder
