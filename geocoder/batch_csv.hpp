#pragma once
// Batch geocoding of a CSV file in the Addok convention (POST /search/csv): every row's chosen columns,
// joined, are geocoded, and the row comes back with latitude, longitude, result_label, result_score,
// result_type, result_id and result_match added. CSV reading and writing is GDAL's (quoting, separators).

#include <string>
#include <string_view>
#include <vector>

#include "geocoder/geocoder.hpp"

namespace bandoso::geocoder {

inline constexpr std::size_t kMaxBatchRows = 50000;

// `columns`: the header names whose values make the address, in order (empty: every column).
// Throws BadRequestError for a body that is not CSV with a header row, an unknown column or more than
// kMaxBatchRows rows. A row that finds nothing keeps empty result columns.
std::string geocode_csv(Geocoder& geocoder, std::string_view csv, const std::vector<std::string>& columns);

}  // namespace bandoso::geocoder
