#pragma once
// `bandoso demo`: a deterministic synthetic Nghệ An province in the formats departments really hold —
// a GeoPackage of administrative units (2025 units, old communes, old districts), the GSO-style
// conversion table, streets as GeoJSON, address points as CSV, cadastral parcels as a Famis/ViLIS-style
// Shapefile (VN-2000 / TM-3 104°45′, TCVN3 text, no .cpg) and the land-use code list.
//
// The 2025 units, their predecessors and old districts are real names and codes (a small embedded table);
// every geometry, street, house, parcel, owner and code is synthetic.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bandoso::data_import {

struct DemoOptions {
  std::filesystem::path out;  // created if needed; the files below are overwritten
  std::uint64_t seed = 1;     // same seed, same bytes of dia_chi.csv, duong_pho.geojson, the CSVs and the Shapefile
  // Multiplies the address points (and their streets): ~27,000 at 1, ~1,000,000 at 40; each old commune
  // fills up at some point (~2,000,000 in all). Parcels stop growing at 1 (~20,000).
  double scale = 1.0;
};

struct DemoSummary {
  // Records written, by layer name: communes, old_communes, old_districts, commune_mapping, streets,
  // addresses, parcels, land_use_codes.
  std::map<std::string, std::int64_t> counts;
  std::vector<std::filesystem::path> files;  // every file written
};

// Writes hanh_chinh.gpkg, bang_chuyen_doi_2025.csv, duong_pho.geojson, dia_chi.csv,
// thua_dat_tm3.{shp,shx,dbf,prj} and ma_loai_dat.csv into options.out.
// Throws BadRequestError for a scale outside (0, 1000], StoreError when a file cannot be written.
DemoSummary generate_demo_province(const DemoOptions& options);

}  // namespace bandoso::data_import
