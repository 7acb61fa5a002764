#include "layers/core/store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <geos_c.h>
#include <sqlite3.h>

#include "layers/core/error.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::layers {

namespace {

const LayerDef& schools() {
  static const LayerDef layer = parse_layer_definition(R"(
name: schools
title: Trường học
geometry: point
key: [id]
attributes:
  - {name: id, type: text, required: true}
  - {name: name, type: text}
  - {name: pupils, type: integer}
  - {name: principal, type: text, access: restricted}
)",
                                                       "schools.yaml");
  return layer;
}

std::string point_wkb(double x, double y) {
  GEOSContextHandle_t ctx = GEOS_init_r();
  GEOSGeometry* g = GEOSGeom_createPointFromXY_r(ctx, x, y);
  GEOSWKBWriter* w = GEOSWKBWriter_create_r(ctx);
  std::size_t size = 0;
  unsigned char* bytes = GEOSWKBWriter_write_r(ctx, w, g, &size);
  std::string wkb(reinterpret_cast<char*>(bytes), size);
  GEOSFree_r(ctx, bytes);
  GEOSWKBWriter_destroy_r(ctx, w);
  GEOSGeom_destroy_r(ctx, g);
  GEOS_finish_r(ctx);
  return wkb;
}

Feature school(const std::string& id, const std::string& name, std::int64_t pupils, double x, double y) {
  return Feature{{id, name, pupils, std::string("Nguyễn Văn A")}, point_wkb(x, y)};
}

void import_schools(Store& store, const std::vector<Feature>& features) {
  auto writer = store.replace_layer(schools());
  for (const auto& f : features) writer->add(f);
  ImportRecord record;
  record.layer = "schools";
  record.source = "test";
  record.read = record.imported = static_cast<std::int64_t>(features.size());
  writer->commit(record);
}

}  // namespace

TEST(SpatialiteStore, CreatesSchemaAndCountsLayers) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  EXPECT_EQ(store->data_version(), 0);
  EXPECT_TRUE(store->layers().empty());
  EXPECT_THROW((void)store->count("schools"), NotFoundError);

  import_schools(*store, {school("S1", "Trường Tiểu học Hưng Bình", 420, 105.68, 18.67),
                          school("S2", "Trường THCS Lê Lợi", 610, 105.70, 18.69)});
  EXPECT_EQ(store->data_version(), 1);
  EXPECT_EQ(store->count("schools"), 2);
  const BBox e = store->extent("schools");
  EXPECT_DOUBLE_EQ(e.west, 105.68);
  EXPECT_DOUBLE_EQ(e.north, 18.69);
  ASSERT_EQ(store->layers().size(), 1u);
  EXPECT_EQ(store->find_layer("schools")->attributes.size(), 4u);
}

TEST(SpatialiteStore, ScanReturnsValuesAndGeometry) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "Trường Tiểu học Hưng Bình", 420, 105.68, 18.67),
                          school("S2", "Trường THCS Lê Lợi", 610, 105.70, 18.69)});
  std::vector<Feature> seen;
  store->scan("schools", true, [&](const Feature& f) {
    seen.push_back(f);
    return true;
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(std::get<std::string>(seen[0].values[1]), "Trường Tiểu học Hưng Bình");
  EXPECT_EQ(std::get<std::int64_t>(seen[1].values[2]), 610);
  EXPECT_EQ(seen[0].wkb, point_wkb(105.68, 18.67));

  int in_box = 0;
  store->scan_bbox("schools", BBox{105.69, 18.68, 105.71, 18.70}, [&](const Feature& f) {
    EXPECT_EQ(std::get<std::string>(f.values[0]), "S2");
    ++in_box;
    return true;
  });
  EXPECT_EQ(in_box, 1);
}

TEST(SpatialiteStore, AbandonedWriterLeavesPreviousDataUntouched) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 1, 105.68, 18.67)});
  {
    auto writer = store->replace_layer(schools());
    writer->add(school("S9", "B", 2, 105.0, 19.0));
    writer->add(school("S10", "C", 3, 105.1, 19.1));
    // no commit: as if the import failed halfway
  }
  EXPECT_EQ(store->count("schools"), 1);
  EXPECT_EQ(store->data_version(), 1);
  int rows = 0;
  store->scan("schools", false, [&](const Feature& f) {
    EXPECT_EQ(std::get<std::string>(f.values[0]), "S1");
    ++rows;
    return true;
  });
  EXPECT_EQ(rows, 1);
}

TEST(SpatialiteStore, DuplicateKeyAndMissingRequiredValueAreInputErrors) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  auto writer = store->replace_layer(schools());
  writer->add(school("S1", "A", 1, 105.68, 18.67));
  EXPECT_THROW(writer->add(school("S1", "B", 2, 105.69, 18.68)), InputError);
  Feature no_id = school("S2", "C", 3, 105.7, 18.7);
  no_id.values[0] = std::monostate{};
  EXPECT_THROW(writer->add(no_id), InputError);
}

TEST(SpatialiteStore, OtherSchemaVersionIsRefusedWithAClearMessage) {
  testing::TempDir dir;
  const auto file = dir / "old.sqlite";
  { auto store = open_spatialite_store(file, OpenMode::create); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    open_spatialite_store(file, OpenMode::read_only);
    FAIL() << "expected schema_mismatch";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), ErrorCode::schema_mismatch);
    EXPECT_NE(std::string(e.what()).find("schema version 99, this bandoso needs version 1"), std::string::npos);
  }
}

TEST(SpatialiteStore, MissingFileAndForeignDatabase) {
  testing::TempDir dir;
  try {
    open_spatialite_store(dir / "none.sqlite", OpenMode::read_only);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::file_not_found);
  }
  sqlite3* db = nullptr;
  sqlite3_open((dir / "other.sqlite").c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE t (a)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THROW(open_spatialite_store(dir / "other.sqlite", OpenMode::create), StoreError);
}

TEST(SpatialiteStore, MapnikDatasourceNamesTheTable) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 1, 105.68, 18.67)});
  const auto params = store->mapnik_datasource("schools");
  EXPECT_EQ(params.at("type"), "sqlite");
  EXPECT_EQ(params.at("table"), "schools");
  EXPECT_EQ(params.at("wkb_format"), "spatialite");
}

}  // namespace bandoso::layers
