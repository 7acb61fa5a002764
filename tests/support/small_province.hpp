#pragma once
// A tiny province written straight through the store API: two 2025 wards near Vinh and three former
// communes. Component tests use it so that they do not depend on the import pipeline.

#include <geos_c.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "layers/core/catalogue.hpp"
#include "layers/core/plus_code.hpp"
#include "layers/core/store.hpp"

namespace bandoso::testing {

inline layers::ImportRecord test_record(const std::string& layer) {
  layers::ImportRecord record;
  record.layer = layer;
  record.source = "test";
  return record;
}

inline std::string wkb_from_wkt(const std::string& wkt) {
  GEOSContextHandle_t ctx = GEOS_init_r();
  GEOSWKTReader* reader = GEOSWKTReader_create_r(ctx);
  GEOSGeometry* g = GEOSWKTReader_read_r(ctx, reader, wkt.c_str());
  if (g == nullptr) throw std::runtime_error("bad WKT in test: " + wkt);
  GEOSWKBWriter* writer = GEOSWKBWriter_create_r(ctx);
  std::size_t size = 0;
  unsigned char* bytes = GEOSWKBWriter_write_r(ctx, writer, g, &size);
  std::string wkb(reinterpret_cast<char*>(bytes), size);
  GEOSFree_r(ctx, bytes);
  GEOSWKBWriter_destroy_r(ctx, writer);
  GEOSGeom_destroy_r(ctx, g);
  GEOSWKTReader_destroy_r(ctx, reader);
  GEOS_finish_r(ctx);
  return wkb;
}

// West ward: 105.64–105.68 E, 18.65–18.69 N; east ward: 105.68–105.72 E.
inline constexpr const char* kWestWard =
    "MULTIPOLYGON(((105.64 18.65,105.68 18.65,105.68 18.69,105.64 18.69,105.64 18.65)))";
inline constexpr const char* kEastWard =
    "MULTIPOLYGON(((105.68 18.65,105.72 18.65,105.72 18.69,105.68 18.69,105.68 18.65)))";

inline std::unique_ptr<layers::Store> make_small_province(const std::filesystem::path& file) {
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  auto store = layers::open_spatialite_store(file, layers::OpenMode::create);
  using S = std::string;
  {
    auto w = store->replace_layer(catalogue.layer("communes"));
    w->add({{S("16681"), S("Thành Vinh"), S("Phường"), S("Phường Thành Vinh"), S("40"), S("2025-07-01"), {}},
            wkb_from_wkt(kWestWard)});
    w->add({{S("16690"), S("Trường Vinh"), S("Phường"), S("Phường Trường Vinh"), S("40"), S("2025-07-01"), {}},
            wkb_from_wkt(kEastWard)});
    w->commit(test_record("communes"));
  }
  {
    auto w = store->replace_layer(catalogue.layer("old_communes"));
    w->add({{S("16672"),
             S("Hưng Bình"),
             S("Phường"),
             S("Phường Hưng Bình"),
             S("412"),
             S("Thành phố Vinh"),
             S("16681"),
             {},
             S("2025-06-30")},
            wkb_from_wkt("MULTIPOLYGON(((105.64 18.65,105.66 18.65,105.66 18.69,105.64 18.69,105.64 18.65)))")});
    w->add({{S("16669"),
             S("Lê Lợi"),
             S("Phường"),
             S("Phường Lê Lợi"),
             S("412"),
             S("Thành phố Vinh"),
             S("16681"),
             {},
             S("2025-06-30")},
            wkb_from_wkt("MULTIPOLYGON(((105.66 18.65,105.68 18.65,105.68 18.69,105.66 18.69,105.66 18.65)))")});
    w->add({{S("16693"),
             S("Bến Thủy"),
             S("Phường"),
             S("Phường Bến Thủy"),
             S("412"),
             S("Thành phố Vinh"),
             S("16690"),
             {},
             S("2025-06-30")},
            wkb_from_wkt(kEastWard)});
    w->commit(test_record("old_communes"));
  }
  return store;
}

// Three streets, five addresses and two parcels (with owners: restricted) in the small province.
inline void add_streets_addresses_parcels(layers::Store& store) {
  using S = std::string;
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    auto w = store.replace_layer(catalogue.layer("streets"));
    w->add({{S("DS1"), S("Lê Lợi"), S("street"), S("16681")},
            wkb_from_wkt("MULTILINESTRING((105.645 18.660,105.675 18.660))")});
    w->add({{S("DS2"), S("Ngõ 12 Lê Lợi"), S("lane"), S("16681")},
            wkb_from_wkt("MULTILINESTRING((105.650 18.660,105.650 18.665))")});
    w->add({{S("DS3"), S("Quốc lộ 46"), S("main_road"), S("16690")},
            wkb_from_wkt("MULTILINESTRING((105.685 18.670,105.715 18.670))")});
    w->commit(test_record("streets"));
  }
  {
    auto w = store.replace_layer(catalogue.layer("addresses"));
    const auto add = [&](const char* id, const char* code, const char* house, const char* lane, const char* street,
                         const char* hamlet, const char* commune, const char* old, double lon, double lat) {
      w->add({{S(id), S(code), S(house), S(lane), S(street), S(hamlet), S(commune), S(old), S("43112"),
               layers::encode_plus_code(lat, lon, 10)},
              wkb_from_wkt(fmt::format("POINT({} {})", lon, lat))});
    };
    add("DA000001", "7440515318", "12", "", "Lê Lợi", "khối 9", "16681", "16672", 105.6520, 18.6601);
    add("DA000002", "1234567894", "14", "", "Lê Lợi", "khối 9", "16681", "16672", 105.6525, 18.6601);
    add("DA000003", "5724000007", "3", "ngõ 12", "Lê Lợi", "khối 9", "16681", "16672", 105.6502, 18.6620);
    add("DA000004", "5724000015", "45/3", "", "Lê Lợi", "khối 2", "16681", "16669", 105.6700, 18.6601);
    add("DA000005", "5724000023", "105 bis", "", "Quốc lộ 46", "xóm 3", "16690", "16693", 105.7000, 18.6701);
    w->commit(test_record("addresses"));
  }
  {
    auto w = store.replace_layer(catalogue.layer("parcels"));
    w->add({{S("16672"), std::int64_t{7}, std::int64_t{222}, 150.0, S("ODT"), S("Secret Owner"), S("Số 12 Lê Lợi"), {}},
            wkb_from_wkt("MULTIPOLYGON(((105.6518 18.6599,105.6522 18.6599,105.6522 18.6603,105.6518 "
                         "18.6603,105.6518 18.6599)))")});
    w->add({{S("16669"), std::int64_t{7}, std::int64_t{222}, 90.0, S("ODT"), S("Other Owner"), S("Số 45/3 Lê Lợi"), {}},
            wkb_from_wkt("MULTIPOLYGON(((105.6698 18.6599,105.6702 18.6599,105.6702 18.6603,105.6698 "
                         "18.6603,105.6698 18.6599)))")});
    w->commit(test_record("parcels"));
  }
}

}  // namespace bandoso::testing
