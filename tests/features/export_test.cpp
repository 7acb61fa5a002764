// Exports of the small province's collections as GeoJSON and CSV, read back as clients would (nlohmann for
// GeoJSON, GDAL's CSV reader for CSV).
#include "features/export.hpp"

#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <map>
#include <mutex>

#include "layers/core/error.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::features {

namespace {

// The pieces an export writes, and their concatenation.
struct Written {
  std::vector<std::string> pieces;
  std::vector<std::string> ids;
  [[nodiscard]] std::string all() const {
    std::string text;
    for (const auto& piece : pieces) text += piece;
    return text;
  }
};

Written run(const Export& e) {
  Written out;
  e.run([&](std::string_view piece) { out.pieces.emplace_back(piece); }, &out.ids);
  return out;
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;  // column → value; null cells absent
};

// Reads a CSV with GDAL's CSV driver, every value as text.
Csv read_csv(std::string text) {
  static std::once_flag registered;
  std::call_once(registered, [] { GDALAllRegister(); });
  const std::string path = "/vsimem/export_test.csv";
  VSIFCloseL(VSIFileFromMemBuffer(path.c_str(), reinterpret_cast<GByte*>(text.data()), text.size(), FALSE));
  const char* const options[] = {"KEEP_GEOM_COLUMNS=YES", nullptr};
  auto* dataset = static_cast<GDALDataset*>(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, options, nullptr));
  Csv csv;
  if (dataset == nullptr) {
    VSIUnlink(path.c_str());
    ADD_FAILURE() << "GDAL cannot read the CSV";
    return csv;
  }
  OGRLayer* layer = dataset->GetLayer(0);
  OGRFeatureDefn* defn = layer->GetLayerDefn();
  for (int i = 0; i < defn->GetFieldCount(); ++i) csv.header.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
  for (auto& feature : *layer) {
    std::map<std::string, std::string> row;
    for (int i = 0; i < defn->GetFieldCount(); ++i) {
      if (feature->IsFieldSetAndNotNull(i)) row[csv.header[static_cast<std::size_t>(i)]] = feature->GetFieldAsString(i);
    }
    csv.rows.push_back(std::move(row));
  }
  GDALClose(dataset);
  VSIUnlink(path.c_str());
  return csv;
}

// A layer with every attribute type, a restricted one, and `n` points; note 0 holds a comma, quotes and a
// line break.
constexpr const char* kNotes = R"(name: notes
title: Ghi chú
geometry: point
key: [id]
attributes:
  - {name: id, type: text, required: true, title: Mã}
  - {name: note, type: text, title: Nội dung}
  - {name: count, type: integer, title: Số}
  - {name: ratio, type: real, title: Tỉ lệ}
  - {name: day, type: date, title: Ngày}
  - {name: open, type: boolean, title: Mở}
  - {name: secret, type: text, access: restricted, title: Bí mật}
)";

void write_notes(layers::Store& store, int n) {
  using S = std::string;
  auto w = store.replace_layer(layers::parse_layer_definition(kNotes, "notes.yaml"));
  for (int i = 0; i < n; ++i) {
    const std::string note = i == 0 ? "Nhà \"Hoa\", ngõ 5\ntầng 2"
                                    : fmt::format("Ghi chú số {} về một địa điểm ở phường Thành Vinh, Nghệ An", i);
    w->add(
        {{S(fmt::format("N{:05}", i)), note, std::int64_t{i}, i * 0.25, S("2025-07-01"), std::int64_t{i % 2}, S("kín")},
         testing::wkb_from_wkt(fmt::format("POINT({} {})", 105.65 + i * 1e-6, 18.66))});
  }
  w->commit(testing::test_record("notes"));
}

}  // namespace

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::add_streets_addresses_parcels(*store); }
  testing::TempDir dir;
  std::unique_ptr<layers::Store> store = testing::make_small_province(dir / "p.sqlite");
  Collections collections{*store};

  std::vector<std::string> item_ids(const std::string& collection) const {
    ItemsRequest all;
    all.limit = kMaxLimit;
    return collections.items(collection, all).ids;
  }
};

TEST_F(ExportTest, FormatsNamesAndContentTypes) {
  EXPECT_EQ(parse_export_format("geojson"), ExportFormat::geojson);
  EXPECT_EQ(parse_export_format("csv"), ExportFormat::csv);
  EXPECT_THROW((void)parse_export_format("xml"), BadRequestError);
  EXPECT_THROW((void)parse_export_format("CSV "), BadRequestError);
  const Export geojson(*store, "parcels", ExportFormat::geojson, {});
  EXPECT_EQ(geojson.content_type(), "application/geo+json");
  EXPECT_EQ(geojson.filename(), "parcels.geojson");
  const Export csv(*store, "parcels", ExportFormat::csv, {});
  EXPECT_EQ(csv.content_type(), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.filename(), "parcels.csv");
}

TEST_F(ExportTest, GeoJsonIsAFeatureCollectionOfEveryItemWithoutOwnersForThePublic) {
  const Written out = run(Export(*store, "parcels", ExportFormat::geojson, {}));
  const std::string text = out.all();
  const auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["type"], "FeatureCollection");
  ASSERT_EQ(json["features"].size(), 2U);
  std::vector<std::string> ids;
  for (const auto& f : json["features"]) ids.push_back(f["id"]);
  EXPECT_EQ(ids, item_ids("parcels"));
  EXPECT_EQ(out.ids, ids);
  const auto& f = json["features"][0];
  EXPECT_EQ(f["geometry"]["type"], "MultiPolygon");
  EXPECT_EQ(f["properties"]["land_use"], "ODT");
  EXPECT_EQ(f["properties"]["sheet_no"], 7);
  EXPECT_DOUBLE_EQ(f["properties"]["area_m2"].get<double>(), 150.0);
  EXPECT_FALSE(f["properties"].contains("owner_name"));
  EXPECT_EQ(text.find("Owner"), std::string::npos);

  ItemsRequest department;
  department.restricted = true;
  const auto full = nlohmann::json::parse(run(Export(*store, "parcels", ExportFormat::geojson, department)).all());
  EXPECT_EQ(full["features"][0]["properties"]["owner_name"], "Secret Owner");
  EXPECT_EQ(full["features"][1]["properties"]["owner_name"], "Other Owner");
}

TEST_F(ExportTest, CsvHasTheAttributesAndWktOneRowPerFeature) {
  const Written out = run(Export(*store, "addresses", ExportFormat::csv, {}));
  const Csv csv = read_csv(out.all());
  EXPECT_EQ(csv.header,
            (std::vector<std::string>{"wkt", "id", "digital_code", "house_number", "lane", "street", "hamlet",
                                      "commune_code", "old_commune_code", "postcode", "plus_code"}));
  ASSERT_EQ(csv.rows.size(), 5U);
  EXPECT_EQ(out.ids, item_ids("addresses"));
  ItemsRequest all;
  all.limit = kMaxLimit;
  const ItemsPage page = collections.items("addresses", all);
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    EXPECT_EQ(row.at("id"), page.ids[r]);
    for (const auto& [name, value] : page.features[r]["properties"].items()) {
      EXPECT_EQ(row.count(name) != 0 ? row.at(name) : "", value.get<std::string>()) << name;
    }
  }
  EXPECT_EQ(csv.rows[0].at("wkt"), "POINT (105.652 18.6601)");
  EXPECT_EQ(csv.rows[4].at("street"), "Quốc lộ 46");
  EXPECT_EQ(csv.rows[4].at("house_number"), "105 bis");

  // Parcels: numbers stay numbers (unquoted), no owner for the public.
  const std::string parcels = run(Export(*store, "parcels", ExportFormat::csv, {})).all();
  EXPECT_EQ(parcels.find("Owner"), std::string::npos);
  EXPECT_EQ(parcels.find("owner_name"), std::string::npos);
  EXPECT_NE(parcels.find(",7,222,150,ODT,"), std::string::npos) << parcels;
  Csv read = read_csv(parcels);
  ASSERT_EQ(read.rows.size(), 2U);
  EXPECT_EQ(read.rows[0].at("sheet_no"), "7");
  EXPECT_EQ(read.rows[0].at("address"), "Số 12 Lê Lợi");
  EXPECT_EQ(read.rows[0].at("commune_code"), "");
  EXPECT_NE(parcels.find(",7,222,150,ODT,Số 12 Lê Lợi,\n"), std::string::npos) << "null is an empty cell";
  EXPECT_EQ(read.rows[0].at("wkt").rfind("MULTIPOLYGON (((105.6518 18.6599,", 0), 0U) << read.rows[0].at("wkt");

  ItemsRequest department;
  department.restricted = true;
  read = read_csv(run(Export(*store, "parcels", ExportFormat::csv, department)).all());
  ASSERT_EQ(read.rows.size(), 2U);
  EXPECT_EQ(read.rows[0].at("owner_name"), "Secret Owner");
  EXPECT_EQ(read.rows[1].at("owner_name"), "Other Owner");
}

TEST_F(ExportTest, CsvQuotesWhatNeedsItAndKeepsTypes) {
  write_notes(*store, 3);
  const std::string text = run(Export(*store, "notes", ExportFormat::csv, {})).all();
  EXPECT_NE(text.find("\"Nhà \"\"Hoa\"\", ngõ 5\ntầng 2\""), std::string::npos) << text;
  EXPECT_NE(text.find(",N00002,"), std::string::npos) << "no needless quotes: " << text;
  EXPECT_NE(text.find(",2,0.5,2025-07-01,0\n"), std::string::npos) << text;
  const Csv csv = read_csv(text);
  EXPECT_EQ(csv.header, (std::vector<std::string>{"wkt", "id", "note", "count", "ratio", "day", "open"}));
  ASSERT_EQ(csv.rows.size(), 3U);
  EXPECT_EQ(csv.rows[0].at("note"), "Nhà \"Hoa\", ngõ 5\ntầng 2");
  EXPECT_EQ(csv.rows[0].at("id"), "N00000");
  EXPECT_EQ(csv.rows[1].at("count"), "1");
  EXPECT_EQ(csv.rows[1].at("ratio"), "0.25");
  EXPECT_EQ(csv.rows[1].at("open"), "1");
  EXPECT_EQ(csv.rows[2].at("day"), "2025-07-01");
  EXPECT_EQ(text.find("kín"), std::string::npos) << "restricted";
}

TEST_F(ExportTest, BboxFilterAndLimitRestrictTheExport) {
  ItemsRequest request;
  request.filters = {{"commune_code", "16681"}};
  Written out = run(Export(*store, "addresses", ExportFormat::geojson, request));
  EXPECT_EQ(out.ids, (std::vector<std::string>{"DA000001", "DA000002", "DA000003", "DA000004"}));

  out = run(Export(*store, "addresses", ExportFormat::csv, request, 2));
  EXPECT_EQ(out.ids, (std::vector<std::string>{"DA000001", "DA000002"}));
  EXPECT_EQ(read_csv(out.all()).rows.size(), 2U);

  request = {};
  request.bbox = layers::BBox{105.649, 18.659, 105.6522, 18.661};
  out = run(Export(*store, "addresses", ExportFormat::csv, request));
  EXPECT_EQ(out.ids, (std::vector<std::string>{"DA000001"}));
  const Csv one = read_csv(out.all());
  ASSERT_EQ(one.rows.size(), 1U);
  EXPECT_EQ(one.rows[0].at("id"), "DA000001");

  request.limit = 1;  // a page's size: not an export's
  request.bbox.reset();
  EXPECT_EQ(run(Export(*store, "addresses", ExportFormat::geojson, request)).ids.size(), 5U);
  EXPECT_EQ(run(Export(*store, "addresses", ExportFormat::geojson, {}, 0)).ids.size(), 5U) << "0: the cap";

  // Nothing matches: an empty collection, a header alone.
  request = {};
  request.filters = {{"commune_code", "99999"}};
  const auto empty = nlohmann::json::parse(run(Export(*store, "addresses", ExportFormat::geojson, request)).all());
  EXPECT_EQ(empty["type"], "FeatureCollection");
  EXPECT_TRUE(empty["features"].empty());
  const Csv header = read_csv(run(Export(*store, "addresses", ExportFormat::csv, request)).all());
  EXPECT_EQ(header.header.size(), 11U);
  EXPECT_TRUE(header.rows.empty());
}

TEST_F(ExportTest, BadRequestsAreRefusedBeforeAnyByte) {
  EXPECT_THROW((void)Export(*store, "nope", ExportFormat::csv, {}), NotFoundError);
  EXPECT_THROW((void)Export(*store, "parcels", ExportFormat::csv, {}, kMaxExportFeatures + 1), BadRequestError);
  EXPECT_NO_THROW((void)Export(*store, "parcels", ExportFormat::csv, {}, kMaxExportFeatures));
  ItemsRequest request;
  request.filters = {{"colour", "red"}};
  EXPECT_THROW((void)Export(*store, "addresses", ExportFormat::geojson, request), BadRequestError);
  request.filters = {{"sheet_no", "seven"}};
  EXPECT_THROW((void)Export(*store, "parcels", ExportFormat::geojson, request), BadRequestError);
  request.filters = {{"owner_name", "Secret Owner"}};
  EXPECT_THROW((void)Export(*store, "parcels", ExportFormat::csv, request), BadRequestError)
      << "public: no owner filter";
  request.restricted = true;
  EXPECT_EQ(run(Export(*store, "parcels", ExportFormat::csv, request)).ids, (std::vector<std::string>{"16672.7.222"}));
}

TEST_F(ExportTest, LargeExportsAreStreamedInBoundedPieces) {
  constexpr int kCount = 6000;
  write_notes(*store, kCount);
  std::vector<std::string> expected;
  for (int i = 0; i < kCount; ++i) expected.push_back(fmt::format("N{:05}", i));
  for (const auto format : {ExportFormat::geojson, ExportFormat::csv}) {
    SCOPED_TRACE(std::string(to_string(format)));
    const Written out = run(Export(*store, "notes", format, {}));
    EXPECT_GT(out.pieces.size(), 1U);
    for (const auto& piece : out.pieces) EXPECT_LE(piece.size(), 256U * 1024U);
    EXPECT_EQ(out.ids, expected);
    std::vector<std::string> ids;
    if (format == ExportFormat::geojson) {
      const auto json = nlohmann::json::parse(out.all());
      for (const auto& f : json["features"]) ids.push_back(f["id"]);
    } else {
      const Csv csv = read_csv(out.all());
      EXPECT_EQ(csv.header.size(), 7U);
      for (const auto& row : csv.rows) ids.push_back(row.at("id"));  // one header: no row reads "id"
    }
    EXPECT_EQ(ids, expected);
  }
}

TEST_F(ExportTest, ALayerWithoutGeometryHasNullGeometryAndAnEmptyWkt) {
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    using S = std::string;
    auto w = store->replace_layer(catalogue.layer("commune_mapping"));
    w->add({{S("16672"), S("Hưng Bình"), S("412"), S("Thành phố Vinh"), S("16681"), S("Thành Vinh"), {}}, {}});
    w->add({{S("16693"), S("Bến Thủy"), S("412"), S("Thành phố Vinh"), S("16690"), S("Trường Vinh"), S("gộp, đổi tên")},
            {}});
    w->commit(testing::test_record("commune_mapping"));
  }
  Written out = run(Export(*store, "commune_mapping", ExportFormat::geojson, {}));
  const auto json = nlohmann::json::parse(out.all());
  ASSERT_EQ(json["features"].size(), 2U);
  EXPECT_TRUE(json["features"][0]["geometry"].is_null());
  EXPECT_EQ(json["features"][1]["properties"]["note"], "gộp, đổi tên");
  EXPECT_EQ(out.ids, (std::vector<std::string>{"16672", "16693"}));

  out = run(Export(*store, "commune_mapping", ExportFormat::csv, {}));
  const Csv csv = read_csv(out.all());
  EXPECT_EQ(csv.header.front(), "wkt");
  ASSERT_EQ(csv.rows.size(), 2U);
  EXPECT_EQ(csv.rows[0].count("wkt") != 0 ? csv.rows[0].at("wkt") : "", "");
  EXPECT_EQ(csv.rows[1].at("new_name"), "Trường Vinh");
  EXPECT_EQ(csv.rows[1].at("note"), "gộp, đổi tên");

  ItemsRequest request;
  request.bbox = layers::BBox{105.6, 18.6, 105.8, 18.8};
  EXPECT_THROW((void)Export(*store, "commune_mapping", ExportFormat::csv, request), BadRequestError);
}

}  // namespace bandoso::features
