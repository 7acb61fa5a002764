// End to end: `bandoso import` builds a small database from GeoJSON, `bandoso serve` answers on an
// ephemeral port, and a plain HTTP client checks /health, a tile and a search.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/png.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::testing {

namespace {

const char* const kCommunes = R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"16681","name":"Thành Vinh","type":"Phường","full_name":"Phường Thành Vinh"},
 "geometry":{"type":"Polygon","coordinates":[[[105.64,18.65],[105.68,18.65],[105.68,18.69],[105.64,18.69],[105.64,18.65]]]}},
{"type":"Feature","properties":{"code":"16690","name":"Trường Vinh","type":"Phường","full_name":"Phường Trường Vinh"},
 "geometry":{"type":"Polygon","coordinates":[[[105.68,18.65],[105.72,18.65],[105.72,18.69],[105.68,18.69],[105.68,18.65]]]}}]})";

class ServeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir / "communes.geojson") << kCommunes;
    const auto result =
        run_command({BANDOSO_BINARY, "import", "--db", db, "--layer", "communes", (dir / "communes.geojson").string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  TempDir dir;
  std::string db = (dir / "e2e.sqlite").string();
};

}  // namespace

TEST_F(ServeE2E, HealthTileAndSearchOverHttp) {
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  ASSERT_GT(server.port(), 0) << server.first_line();

  const HttpResponse health = http_get(server.port(), "/health");
  ASSERT_EQ(health.status, 200) << health.body;
  const auto body = nlohmann::json::parse(health.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["schema_version"], 2);
  EXPECT_EQ(body["data_version"], 1);
  EXPECT_EQ(body["layers"]["communes"], 2);
  EXPECT_EQ(body["bbox"], (nlohmann::json{105.64, 18.65, 105.72, 18.69}));

  HttpResponse tile = http_get(server.port(), "/tiles/communes/13/6500/3662.png");
  ASSERT_EQ(tile.status, 200) << tile.body;
  EXPECT_EQ(tile.headers["content-type"], "image/png");
  EXPECT_FALSE(tile.headers["etag"].empty());
  const DecodedPng png = decode_png(tile.body);
  ASSERT_TRUE(png.ok);
  EXPECT_EQ(png.width, 256u);
  EXPECT_EQ(png.height, 256u);
  EXPECT_GT(png.painted_pixels(), 1000u) << "a tile over the wards is not blank";

  const HttpResponse search = http_get(server.port(), "/search?q=Ph%C6%B0%E1%BB%9Dng%20Th%C3%A0nh%20Vinh");
  ASSERT_EQ(search.status, 200) << search.body;
  const auto results = nlohmann::json::parse(search.body);
  ASSERT_EQ(results.size(), 1u) << search.body;
  EXPECT_EQ(results[0]["place_id"], "communes:16681");

  EXPECT_EQ(server.stop(), 0);
}

// Addok's batch convention as its clients use it: curl uploads the file as a form, the rows come back
// chunked, each with its result columns.
TEST_F(ServeE2E, BatchCsvUploadedAsAFormComesBackStreamed) {
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  std::string csv = "stt;dia_chi\n";
  for (int i = 0; i < 500; ++i) csv += i % 2 == 0 ? "1;Phường Thành Vinh\n" : "2;\"Trường Vinh, Nghệ An\"\n";
  std::ofstream(dir / "dia_chi.csv") << csv;
  const std::string url = "http://localhost:" + std::to_string(server.port()) + "/search/csv/";
  const auto result = run_command({"/usr/bin/curl", "-sS", "--include", "-F", "data=@" + (dir / "dia_chi.csv").string(),
                                   "-F", "columns=dia_chi", url});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::size_t body_at = result.out.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos) << result.out;
  const std::string head = result.out.substr(0, body_at);
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("filename=\"dia_chi.geocoded.csv\""), std::string::npos) << head;
  const std::string body = result.out.substr(body_at + 4);
  EXPECT_TRUE(body.starts_with("stt;dia_chi;latitude;longitude;result_label;result_score")) << body.substr(0, 200);
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 501);
  std::size_t thanh = 0, truong = 0;
  for (std::size_t at = body.find("communes:"); at != std::string::npos; at = body.find("communes:", at + 1)) {
    thanh += body.compare(at, 14, "communes:16681") == 0;
    truong += body.compare(at, 14, "communes:16690") == 0;
  }
  EXPECT_EQ(thanh, 250U);
  EXPECT_EQ(truong, 250U);
  EXPECT_EQ(http_get(server.port(), "/health").status, 200);
  EXPECT_EQ(server.stop(), 0);
}

// An OGC API - Features client (GDAL's OAPIF driver, as QGIS uses it) lists and reads the collections.
TEST_F(ServeE2E, GdalReadsTheCollectionsAsOgcApiFeatures) {
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  const std::string url = "OAPIF:http://localhost:" + std::to_string(server.port());
  const auto listed = run_command({"/usr/bin/ogrinfo", "-ro", "-so", url});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("1: communes (title: "), std::string::npos) << listed.out;
  const auto read = run_command({"/usr/bin/ogrinfo", "-ro", "-al", url, "communes"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_NE(read.out.find("Feature Count: 2"), std::string::npos) << read.out;
  std::size_t features = 0;
  for (std::size_t at = read.out.find("OGRFeature(communes)"); at != std::string::npos;
       at = read.out.find("OGRFeature(communes)", at + 1)) {
    ++features;
  }
  EXPECT_EQ(features, 2U) << read.out;
  EXPECT_NE(read.out.find("full_name (String) = Phường Trường Vinh"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("MULTIPOLYGON (((105.68 18.65"), std::string::npos) << read.out;
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ServeE2E, BadRequestsGetJsonErrorsAndTheServerStaysUp) {
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  for (const char* target : {"/tiles/communes/99/0/0.png", "/tiles/communes/a/b/c.png", "/search", "/search?q=%FF%FE",
                             "/tiles/nope/1/0/0.png", "/no/such/path"}) {
    const HttpResponse r = http_get(server.port(), target);
    EXPECT_GE(r.status, 400) << target;
    EXPECT_LT(r.status, 500) << target << ": " << r.body;
    EXPECT_NO_THROW((void)nlohmann::json::parse(r.body).at("error").at("message")) << target << ": " << r.body;
  }
  EXPECT_EQ(http_get(server.port(), "/health").status, 200);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace bandoso::testing

namespace bandoso::testing {

// A department publishes a layer of its own with a definition file and an import: no code change,
// and it is served like the built-in layers.
TEST(DepartmentLayerE2E, DefinitionPlusImportIsServed) {
  TempDir dir;
  std::filesystem::create_directories(dir / "layers");
  std::ofstream(dir / "layers/schools.yaml") << R"(
name: schools
title: Trường học
geometry: point
key: [ma_truong]
attributes:
  - {name: ma_truong, type: text, required: true}
  - {name: ten, type: text}
  - {name: so_hoc_sinh, type: integer}
  - {name: dien_thoai_hieu_truong, type: text, access: restricted}
style: {fill: "#1f6feb", point_size: 9, label: ten, label_min_zoom: 12}
)";
  std::ofstream(dir / "schools.csv") << "ma_truong,ten,so_hoc_sinh,dien_thoai_hieu_truong,lon,lat\n"
                                        "T01,Trường THPT Huỳnh Thúc Kháng,1450,0912345678,105.6790,18.6760\n"
                                        "T02,Trường Tiểu học Hưng Bình,820,0987654321,105.6830,18.6720\n";
  std::ofstream(dir / "schools_mapping.yaml") << "layer: schools\nsource_crs: EPSG:4326\ncsv: {x: lon, y: lat}\n";
  const std::string db = (dir / "dept.sqlite").string();
  const auto imported =
      run_command({BANDOSO_BINARY, "import", "--db", db, "--layers-dir", (dir / "layers").string(), "--layer",
                   "schools", "--mapping", (dir / "schools_mapping.yaml").string(), (dir / "schools.csv").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;

  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  const auto health = nlohmann::json::parse(http_get(server.port(), "/health").body);
  EXPECT_EQ(health["layers"]["schools"], 2);
  const HttpResponse tile = http_get(server.port(), "/tiles/schools/15/26003/14653.png");
  ASSERT_EQ(tile.status, 200) << tile.body;
  EXPECT_GT(decode_png(tile.body).painted_pixels(), 20u) << "the schools are drawn in their definition's style";
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ServeE2E, RevalidationCompressionAndCrossOriginOverHttp) {
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  ASSERT_GT(server.port(), 0) << server.first_line();
  HttpResponse tile = http_get(server.port(), "/tiles/communes/14/13002/7326.png");
  ASSERT_EQ(tile.status, 200) << tile.body;
  EXPECT_EQ(tile.headers["access-control-allow-origin"], "*");
  EXPECT_EQ(tile.headers["cache-control"], "public, max-age=300");
  const HttpResponse unchanged =
      http_get(server.port(), "/tiles/communes/14/13002/7326.png", {"If-None-Match: " + tile.headers["etag"]});
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_TRUE(unchanged.body.empty());

  HttpResponse vector = http_get(server.port(), "/tiles/communes/14/13002/7326.mvt", {"Accept-Encoding: gzip"});
  ASSERT_EQ(vector.status, 200);
  EXPECT_EQ(vector.headers["content-encoding"], "gzip");
  ASSERT_GT(vector.body.size(), 2U);
  EXPECT_EQ(static_cast<unsigned char>(vector.body[0]), 0x1fU) << "gzip magic";
  EXPECT_EQ(static_cast<unsigned char>(vector.body[1]), 0x8bU);

  const HttpResponse tilejson = http_get(server.port(), "/tiles/communes.json");
  ASSERT_EQ(tilejson.status, 200);
  EXPECT_EQ(nlohmann::json::parse(tilejson.body)["tiles"][0], "http://localhost/tiles/communes/{z}/{x}/{y}.mvt");
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace bandoso::testing
