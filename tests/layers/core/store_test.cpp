#include "layers/core/store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <geos_c.h>
#include <map>
#include <set>
#include <sqlite3.h>

#include "layers/core/error.hpp"
#include "support/schema_version.hpp"
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

void write_layer(Store& store, const LayerDef& layer, WriteMode mode, const std::vector<Feature>& features) {
  auto writer = store.write_layer(layer, mode);
  for (const auto& f : features) writer->add(f);
  ImportRecord record;
  record.layer = layer.name;
  record.mode = mode;
  record.source = "test";
  record.read = record.imported = static_cast<std::int64_t>(features.size());
  writer->commit(record);
}

void import_schools(Store& store, const std::vector<Feature>& features) {
  write_layer(store, schools(), WriteMode::replace, features);
}

void upsert_schools(Store& store, const std::vector<Feature>& features) {
  write_layer(store, schools(), WriteMode::upsert, features);
}

// "kind west south east north" (or "kind -" without a box), as a multiset: the order within one
// commit is not part of the contract.
std::multiset<std::string> change_set(const Store& store, std::int64_t since) {
  std::multiset<std::string> result;
  for (const Change& c : store.changes_since(since)) {
    result.insert(c.bbox.empty() ? fmt::format("{} {} -", c.layer, c.kind)
                                 : fmt::format("{} {} {:.2f} {:.2f} {:.2f} {:.2f}", c.layer, c.kind, c.bbox.west,
                                               c.bbox.south, c.bbox.east, c.bbox.north));
  }
  return result;
}

std::string point_change(const std::string& kind, double x, double y) {
  return fmt::format("schools {} {:.2f} {:.2f} {:.2f} {:.2f}", kind, x, y, x, y);
}

std::map<std::string, Feature> schools_by_id(const Store& store) {
  std::map<std::string, Feature> result;
  store.scan("schools", true, [&](const Feature& f) {
    result[std::get<std::string>(f.values[0])] = f;
    return true;
  });
  return result;
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

TEST(SpatialiteStore, SelectFiltersByBoxAndValuesAndPages) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  std::vector<Feature> all;
  for (int i = 0; i < 30; ++i) {
    all.push_back(
        school(fmt::format("S{:02d}", i), i % 3 == 0 ? "Tiểu học" : "THCS", 100 + i, 105.60 + 0.01 * i, 18.70));
  }
  import_schools(*store, all);
  const auto ids = [&](const FeatureQuery& query) {
    std::vector<std::string> out;
    store->select("schools", query, false, [&](const Feature& f) {
      EXPECT_TRUE(f.wkb.empty());
      out.push_back(std::get<std::string>(f.values[0]));
      return true;
    });
    return out;
  };
  FeatureQuery query;
  query.equals = {{"name", Value(std::string("Tiểu học"))}};
  EXPECT_EQ(store->count_matching("schools", query), 10);
  query.bbox = BBox{105.645, 18.6, 105.705, 18.8};  // S05..S10
  EXPECT_EQ(ids(query), (std::vector<std::string>{"S06", "S09"}));
  EXPECT_EQ(store->count_matching("schools", query), 2);
  query = FeatureQuery{};
  query.offset = 25;
  query.limit = 10;
  EXPECT_EQ(ids(query), (std::vector<std::string>{"S25", "S26", "S27", "S28", "S29"}));
  EXPECT_EQ(store->count_matching("schools", query), 30) << "offset and limit do not change the count";
  query.equals = {{"pupils", Value(std::int64_t{107})}};
  query.offset = 0;
  EXPECT_EQ(ids(query), (std::vector<std::string>{"S07"}));
  std::string wkb;
  store->select("schools", query, true, [&](const Feature& f) {
    wkb = f.wkb;
    return true;
  });
  EXPECT_EQ(wkb, point_wkb(105.60 + 0.01 * 7, 18.70));
  query.equals = {{"nope", Value(std::int64_t{1})}};
  EXPECT_THROW(ids(query), NotFoundError);
  EXPECT_THROW((void)store->count_matching("nothing", FeatureQuery{}), NotFoundError);
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
  ASSERT_TRUE(testing::set_schema_version(file, 99));
  try {
    open_spatialite_store(file, OpenMode::read_only);
    FAIL() << "expected schema_mismatch";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.code(), ErrorCode::schema_mismatch);
    EXPECT_NE(std::string(e.what()).find("schema version 99, this bandoso needs version 2"), std::string::npos);
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

TEST(SpatialiteStore, VersionOneFileIsRefusedWithAClearMessage) {
  testing::TempDir dir;
  const auto file = dir / "v1.sqlite";
  { auto store = open_spatialite_store(file, OpenMode::create); }
  ASSERT_TRUE(testing::set_schema_version(file, 1));
  for (const OpenMode mode : {OpenMode::read_only, OpenMode::read_write, OpenMode::create}) {
    try {
      open_spatialite_store(file, mode);
      FAIL() << "expected schema_mismatch";
    } catch (const StoreError& e) {
      EXPECT_EQ(e.code(), ErrorCode::schema_mismatch);
      EXPECT_NE(std::string(e.what()).find("schema version 1, this bandoso needs version 2 (re-import the data)"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(SpatialiteStore, UpsertAddsAndReplacesByKeyAndKeepsTheOthers) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61), school("S2", "B", 200, 105.62, 18.62),
                          school("S3", "C", 300, 105.63, 18.63)});
  upsert_schools(*store, {school("S2", "B mới", 250, 105.62, 18.62), school("S4", "D", 400, 105.64, 18.64),
                          school("S1", "A", 100, 105.61, 18.61)});
  EXPECT_EQ(store->data_version(), 2);
  EXPECT_EQ(store->count("schools"), 4);
  const auto rows = schools_by_id(*store);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(std::get<std::string>(rows.at("S1").values[1]), "A");
  EXPECT_EQ(std::get<std::string>(rows.at("S2").values[1]), "B mới");
  EXPECT_EQ(std::get<std::int64_t>(rows.at("S2").values[2]), 250);
  EXPECT_EQ(std::get<std::string>(rows.at("S3").values[1]), "C") << "features not written stay";
  EXPECT_EQ(rows.at("S4").wkb, point_wkb(105.64, 18.64));
  const BBox e = store->extent("schools");
  EXPECT_DOUBLE_EQ(e.west, 105.61);
  EXPECT_DOUBLE_EQ(e.east, 105.64);

  // The spatial index follows upserted rows.
  int in_box = 0;
  store->scan_bbox("schools", BBox{105.635, 18.635, 105.645, 18.645}, [&](const Feature& f) {
    EXPECT_EQ(std::get<std::string>(f.values[0]), "S4");
    ++in_box;
    return true;
  });
  EXPECT_EQ(in_box, 1);

  // S1 came again unchanged: no entry. S2 changed in place: one box (its point did not move).
  EXPECT_EQ(change_set(*store, 1), (std::multiset<std::string>{point_change("modified", 105.62, 18.62),
                                                               point_change("added", 105.64, 18.64)}));
}

TEST(SpatialiteStore, UpsertOfAMovedFeatureLogsTheOldAndTheNewBox) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61), school("S2", "B", 200, 105.62, 18.62)});
  upsert_schools(*store, {school("S2", "B", 200, 105.90, 19.10)});
  EXPECT_EQ(change_set(*store, 1), (std::multiset<std::string>{point_change("modified", 105.62, 18.62),
                                                               point_change("modified", 105.90, 19.10)}));
  EXPECT_EQ(schools_by_id(*store).at("S2").wkb, point_wkb(105.90, 19.10));
  int in_old_place = 0;
  store->scan_bbox("schools", BBox{105.615, 18.615, 105.625, 18.625}, [&](const Feature&) {
    ++in_old_place;
    return true;
  });
  EXPECT_EQ(in_old_place, 0) << "the R*Tree entry moved with the row";
}

TEST(SpatialiteStore, UpsertCreatesTheLayerOnFirstUse) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  upsert_schools(*store, {school("S1", "A", 100, 105.61, 18.61), school("S2", "B", 200, 105.62, 18.62)});
  EXPECT_EQ(store->count("schools"), 2);
  // A new layer: one entry for its whole extent rather than one per feature.
  EXPECT_EQ(change_set(*store, 0), (std::multiset<std::string>{"schools added 105.61 18.61 105.62 18.62"}));
  upsert_schools(*store, {school("S3", "C", 300, 105.63, 18.63)});
  EXPECT_EQ(store->count("schools"), 3);
}

TEST(SpatialiteStore, UpsertWithAnotherDefinitionIsRefusedAndLeavesTheStoreUsable) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61)});

  LayerDef wider = schools();
  wider.attributes.push_back(AttributeDef{"email", AttributeType::text, false, Access::public_access, ""});
  LayerDef rekeyed = schools();
  rekeyed.key = {"name"};
  rekeyed.attributes[1].required = true;
  LayerDef lines = schools();
  lines.geometry = GeometryType::linestring;
  for (const auto& [def, expected] :
       {std::pair{wider, "attribute 5: '(none)' → 'email text'"}, std::pair{rekeyed, "key [id] → [name]"},
        std::pair{lines, "geometry point → linestring"}}) {
    try {
      (void)store->write_layer(def, WriteMode::upsert);
      FAIL() << "expected InputError for " << expected;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("layer 'schools': upsert refused"), std::string::npos) << what;
      EXPECT_NE(what.find(expected), std::string::npos) << what;
      EXPECT_NE(what.find("a replace import is needed"), std::string::npos) << what;
    }
  }
  EXPECT_EQ(store->data_version(), 1);
  EXPECT_EQ(store->count("schools"), 1);
  // The refused writer rolled its transaction back: the next write works.
  upsert_schools(*store, {school("S2", "B", 200, 105.62, 18.62)});
  EXPECT_EQ(store->count("schools"), 2);
  // Replace may change the shape.
  write_layer(*store, wider, WriteMode::replace,
              {Feature{{std::string("S9"), {}, {}, {}, {}}, point_wkb(105.7, 18.7)}});
  EXPECT_EQ(store->find_layer("schools")->attributes.size(), 5u);
  EXPECT_EQ(store->count("schools"), 1);
}

TEST(SpatialiteStore, UpsertRefusesAKeyTwiceInOneWrite) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61)});
  for (const auto& twice :
       {std::vector<Feature>{school("S1", "A", 100, 105.61, 18.61), school("S1", "Z", 9, 105.6, 18.6)},
        std::vector<Feature>{school("S1", "Y", 1, 105.61, 18.61), school("S1", "Z", 9, 105.6, 18.6)},
        std::vector<Feature>{school("S7", "Y", 1, 105.61, 18.61), school("S7", "Z", 9, 105.6, 18.6)}}) {
    auto writer = store->write_layer(schools(), WriteMode::upsert);
    writer->add(twice[0]);
    try {
      writer->add(twice[1]);
      FAIL() << "expected a duplicate key";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("duplicate key"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(store->data_version(), 1);
  EXPECT_EQ(std::get<std::string>(schools_by_id(*store).at("S1").values[1]), "A");
}

TEST(SpatialiteStore, ReplaceLogsAddedRemovedAndModifiedFeaturesOnly) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61), school("S2", "B", 200, 105.62, 18.62),
                          school("S3", "C", 300, 105.63, 18.63), school("S5", "E", 500, 105.65, 18.65)});
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61),    // unchanged
                          school("S2", "B", 200, 105.92, 19.02),    // moved
                          school("S4", "D", 400, 105.64, 18.64),    // new
                          school("S5", "E", 550, 105.65, 18.65)});  // attribute only; S3 is gone
  EXPECT_EQ(store->data_version(), 2);
  EXPECT_EQ(change_set(*store, 1), (std::multiset<std::string>{
                                       point_change("modified", 105.62, 18.62), point_change("modified", 105.92, 19.02),
                                       point_change("added", 105.64, 18.64), point_change("removed", 105.63, 18.63),
                                       point_change("modified", 105.65, 18.65)}));

  // Oldest first: the first import (a new layer: its extent), then the second.
  const auto all = store->changes_since(0);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all.front().data_version, 1);
  EXPECT_EQ(all.front().kind, "added");
  EXPECT_DOUBLE_EQ(all.front().bbox.west, 105.61);
  EXPECT_DOUBLE_EQ(all.front().bbox.north, 18.65);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].data_version, 2);
  EXPECT_TRUE(store->changes_since(2).empty());

  // The same content again: a new data version, nothing to expire.
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61), school("S2", "B", 200, 105.92, 19.02),
                          school("S4", "D", 400, 105.64, 18.64), school("S5", "E", 550, 105.65, 18.65)});
  EXPECT_EQ(store->data_version(), 3);
  EXPECT_TRUE(store->changes_since(2).empty());
}

TEST(SpatialiteStore, AbandonedWritesLogNothing) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61)});
  for (const WriteMode mode : {WriteMode::replace, WriteMode::upsert}) {
    auto writer = store->write_layer(schools(), mode);
    writer->add(school("S1", "changed", 1, 105.0, 19.0));
    writer->add(school("S2", "new", 2, 105.1, 19.1));
  }
  EXPECT_EQ(store->changes_since(1).size(), 0u);
  EXPECT_EQ(store->count("schools"), 1);
  EXPECT_EQ(std::get<std::string>(schools_by_id(*store).at("S1").values[1]), "A");
}

TEST(SpatialiteStore, ANewShapeOrStyleLogsTheOldAndNewExtents) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  import_schools(*store, {school("S1", "A", 100, 105.61, 18.61), school("S2", "B", 200, 105.62, 18.62)});
  LayerDef restyled = schools();
  restyled.style.fill = "#ff0000";
  write_layer(*store, restyled, WriteMode::upsert, {school("S3", "C", 300, 105.70, 18.70)});
  EXPECT_EQ(change_set(*store, 1), (std::multiset<std::string>{"schools modified 105.61 18.61 105.62 18.62",
                                                               "schools modified 105.61 18.61 105.70 18.70"}));
  LayerDef wider = schools();
  wider.attributes.push_back(AttributeDef{"email", AttributeType::text, false, Access::public_access, ""});
  write_layer(*store, wider, WriteMode::replace,
              {Feature{{std::string("S9"), {}, {}, {}, {}}, point_wkb(105.8, 18.8)}});
  EXPECT_EQ(change_set(*store, 2), (std::multiset<std::string>{"schools modified 105.61 18.61 105.70 18.70",
                                                               "schools modified 105.80 18.80 105.80 18.80"}));
}

TEST(SpatialiteStore, LayersWithoutGeometryLogOneRowWithoutABoxPerKind) {
  // Two key attributes: the comparison joins on both.
  const LayerDef grades = parse_layer_definition(R"(
name: grades
title: Khối lớp
geometry: none
key: [level, code]
attributes:
  - {name: level, type: integer, required: true}
  - {name: code, type: text, required: true}
  - {name: label, type: text}
)",
                                                 "grades.yaml");
  auto grade = [](std::int64_t level, const std::string& code, const std::string& label) {
    return Feature{{level, code, label}, {}};
  };
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  write_layer(*store, grades, WriteMode::replace,
              {grade(1, "A", "một A"), grade(1, "B", "một B"), grade(2, "A", "hai A")});
  EXPECT_EQ(change_set(*store, 0), (std::multiset<std::string>{"grades added -"}));
  write_layer(*store, grades, WriteMode::replace,
              {grade(1, "A", "một A"), grade(2, "A", "hai A mới"), grade(2, "B", "hai B"), grade(3, "A", "ba A")});
  EXPECT_EQ(change_set(*store, 1),
            (std::multiset<std::string>{"grades added -", "grades removed -", "grades modified -"}));
  write_layer(*store, grades, WriteMode::upsert, {grade(1, "A", "một A"), grade(2, "A", "hai A")});
  EXPECT_EQ(change_set(*store, 2), (std::multiset<std::string>{"grades modified -"}));
  write_layer(*store, grades, WriteMode::upsert, {grade(1, "A", "một A")});
  EXPECT_TRUE(store->changes_since(3).empty());
  EXPECT_EQ(store->count("grades"), 4);
}

TEST(SpatialiteStore, AReadOnlyStoreSeesTheOldDataUntilCommitThenTheNewWithoutReopening) {
  testing::TempDir dir;
  const auto file = dir / "t.sqlite";
  auto writer_store = open_spatialite_store(file, OpenMode::create);
  import_schools(*writer_store, {school("S1", "A", 100, 105.61, 18.61)});
  auto reader = open_spatialite_store(file, OpenMode::read_only);
  EXPECT_EQ(reader->data_version(), 1);
  {
    auto writer = writer_store->write_layer(schools(), WriteMode::replace);
    for (int i = 0; i < 20000; ++i) writer->add(school(fmt::format("N{}", i), "x", i, 105.0 + i * 1e-5, 19.0));
    // Mid-write: the reader neither blocks nor sees anything new (WAL snapshot per statement).
    EXPECT_EQ(reader->data_version(), 1);
    EXPECT_EQ(reader->count("schools"), 1);
    EXPECT_EQ(schools_by_id(*reader).count("S1"), 1u);
    EXPECT_TRUE(reader->changes_since(1).empty());
    ImportRecord record;
    record.layer = "schools";
    record.source = "test";
    writer->commit(record);
  }
  EXPECT_EQ(reader->data_version(), 2);
  EXPECT_EQ(reader->count("schools"), 20000);
  EXPECT_EQ(schools_by_id(*reader).count("S1"), 0u);
  EXPECT_EQ(reader->changes_since(1).size(), 20001u);  // 20000 added, S1 removed
  int in_box = 0;
  reader->scan_bbox("schools", BBox{104.99, 18.99, 105.00005, 19.01}, [&](const Feature&) {
    ++in_box;
    return true;
  });
  EXPECT_EQ(in_box, 6);
}

}  // namespace bandoso::layers

namespace bandoso::layers {

TEST(SpatialiteStore, SummaryIsOneConsistentSnapshot) {
  testing::TempDir dir;
  auto store = open_spatialite_store(dir / "t.sqlite", OpenMode::create);
  EXPECT_TRUE(store->summary().counts.empty());
  import_schools(*store, {school("S1", "A", 1, 105.68, 18.67), school("S2", "B", 2, 105.70, 18.69)});
  const StoreSummary summary = store->summary();
  EXPECT_EQ(summary.schema_version, kSchemaVersion);
  EXPECT_EQ(summary.data_version, store->data_version());
  EXPECT_EQ(summary.counts, (std::map<std::string, std::int64_t>{{"schools", 2}}));
  EXPECT_DOUBLE_EQ(summary.bbox.west, 105.68);
  EXPECT_DOUBLE_EQ(summary.bbox.north, 18.69);
}

}  // namespace bandoso::layers
