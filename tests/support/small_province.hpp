#pragma once
// A tiny province written straight through the store API: two 2025 wards near Vinh and three former
// communes. Component tests use it so that they do not depend on the import pipeline.

#include <geos_c.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "layers/core/catalogue.hpp"
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

}  // namespace bandoso::testing
