#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "http/api.hpp"
#include "support/png.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::http {

class ApiTest : public ::testing::Test {
 protected:
  Response get(const std::string& path, std::map<std::string, std::string> query = {},
               std::map<std::string, std::string> headers = {}) const {
    Request r;
    r.path = path;
    r.query = std::move(query);
    r.headers = std::move(headers);
    return api.handle(r);
  }
  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [key, value] : r.headers) {
      if (key == name) return value;
    }
    return "(none)";
  }
  static std::string error_code(const Response& r) { return nlohmann::json::parse(r.body)["error"]["code"]; }

  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  tiles::TileService tiles{*store};
  geocoder::Geocoder geocoder{*store};
  tiles::GlyphStore glyphs{tiles::default_glyphs_directory()};
  Api api{Services{*store, tiles, geocoder, &glyphs}};
};

TEST_F(ApiTest, HealthReportsVersionsCountsAndBbox) {
  const Response r = get("/health");
  ASSERT_EQ(r.status, 200);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["schema_version"], layers::kSchemaVersion);
  EXPECT_EQ(body["data_version"], 2);
  EXPECT_EQ(body["layers"], (nlohmann::json{{"communes", 2}, {"old_communes", 3}}));
  EXPECT_EQ(body["bbox"], (nlohmann::json{105.64, 18.65, 105.72, 18.69}));
}

TEST_F(ApiTest, TileIsAPng) {
  const Response r = get("/tiles/communes/13/6500/3662.png");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/png");
  EXPECT_TRUE(bandoso::testing::decode_png(r.body).ok);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "ETag");
}

TEST_F(ApiTest, BadTileAddressesAre4xxWithJson) {
  EXPECT_EQ(get("/tiles/communes/13/abc/3662.png").status, 400);
  EXPECT_EQ(get("/tiles/communes/13/6500/3662").status, 404);
  EXPECT_EQ(get("/tiles/communes/13/6500/3662.gif").status, 404);
  EXPECT_EQ(get("/tiles/communes/30/0/0.png").status, 400);
  EXPECT_EQ(get("/tiles/communes/3/8/0.png").status, 400);
  EXPECT_EQ(get("/tiles/nowhere/13/6500/3662.png").status, 404);
  EXPECT_EQ(error_code(get("/tiles/communes/13/-1/3662.png")), "bad_request");
  EXPECT_EQ(get("/tiles/communes/13/6500/99999999999999999999.png").status, 400);
}

TEST_F(ApiTest, SearchFindsACommuneNominatimStyle) {
  const Response r = get("/search", {{"q", "Phường Trường Vinh"}});
  ASSERT_EQ(r.status, 200);
  const auto body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["place_id"], "communes:16690");
  EXPECT_EQ(body[0]["display_name"], "Phường Trường Vinh, Nghệ An");
  const double lon = std::stod(body[0]["lon"].get<std::string>());
  EXPECT_GT(lon, 105.68);
  EXPECT_LT(lon, 105.72);
}

TEST_F(ApiTest, SearchInputErrors) {
  EXPECT_EQ(get("/search").status, 400);
  EXPECT_EQ(get("/search", {{"q", ""}}).status, 400);
  EXPECT_EQ(get("/search", {{"q", "Vinh"}, {"limit", "0"}}).status, 400);
  EXPECT_EQ(get("/search", {{"q", "Vinh"}, {"limit", "x"}}).status, 400);
  EXPECT_EQ(get("/search", {{"q", "\xC3("}}).status, 400);
  EXPECT_EQ(get("/search", {{"q", "Vinh"}, {"format", "xml"}}).status, 400);
  EXPECT_EQ(get("/search", {{"q", "Hà Nội"}}).body, "[]");
}

TEST(PercentDecode, DecodesEscapesAndPlusKeepsMalformed) {
  EXPECT_EQ(percent_decode("Ph%C6%B0%E1%BB%9Dng+Th%C3%A0nh%20Vinh"), "Phường Thành Vinh");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("%FF"), "\xFF");
}

TEST_F(ApiTest, MapPageAndLandingLinks) {
  const Response page = get("/map");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html");
  EXPECT_NE(page.body.find("/assets/leaflet/leaflet.js"), std::string::npos);  // the Leaflet viewer (web/app)
  const auto landing = nlohmann::json::parse(get("/").body);
  EXPECT_EQ(landing["tilesets"].size(), 4u);  // basemap, cadastral, communes, old_communes
  bool has_map = false;
  for (const auto& l : landing["links"]) has_map = has_map || l["rel"] == "map";
  EXPECT_TRUE(has_map) << landing["links"];
}

TEST_F(ApiTest, UnknownPathsAndMethods) {
  EXPECT_EQ(get("/nothing/here").status, 404);
  Request post;
  post.method = "POST";
  post.path = "/health";
  const Response r = api.handle(post);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error_code(r), "method_not_allowed");
}

TEST_F(ApiTest, ServerFailuresDoNotLeakDetail) {
  // A database that vanished under the server is a storage failure: 500 with the public message only.
  std::filesystem::remove(dir / "p.sqlite");
  std::filesystem::remove(dir / "p.sqlite-wal");
  const Response r = get("/tiles/communes/12/3250/1831.png");
  if (r.status == 200) GTEST_SKIP() << "the open connection still reads the unlinked file";
  EXPECT_GE(r.status, 500);
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos) << r.body;
}

TEST_F(ApiTest, TileRevalidationCachingAndCrossOriginHeaders) {
  const Response first = get("/tiles/communes/14/13002/7326.png");
  ASSERT_EQ(first.status, 200);
  const std::string etag = header(first, "ETag");
  EXPECT_EQ(header(first, "Cache-Control"), "public, max-age=300");
  EXPECT_EQ(header(first, "Access-Control-Allow-Origin"), "*");
  const Response revalidated = get("/tiles/communes/14/13002/7326.png", {}, {{"if-none-match", etag}});
  EXPECT_EQ(revalidated.status, 304);
  EXPECT_TRUE(revalidated.body.empty());
  EXPECT_EQ(get("/tiles/communes/14/13002/7326.png", {}, {{"if-none-match", "\"other\""}}).status, 200);
  EXPECT_EQ(header(get("/tiles/communes/8/203/114.png"), "Cache-Control"), "public, max-age=86400");

  Request preflight;
  preflight.method = "OPTIONS";
  preflight.path = "/tiles/communes/14/13002/7326.png";
  const Response options = api.handle(preflight);
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(header(options, "Access-Control-Allow-Origin"), "*");
  EXPECT_NE(header(options, "Access-Control-Allow-Methods").find("GET"), std::string::npos);
}

TEST_F(ApiTest, RetinaAnd512AndVectorTileUrls) {
  const auto retina = bandoso::testing::decode_png(get("/tiles/communes/14/13002/7326@2x.png").body);
  ASSERT_TRUE(retina.ok);
  EXPECT_EQ(retina.width, 512U);
  const auto big = bandoso::testing::decode_png(get("/tiles/communes/512/14/13002/7326.png").body);
  ASSERT_TRUE(big.ok);
  EXPECT_EQ(big.width, 512U);
  EXPECT_EQ(get("/tiles/communes/512/14/13002/7326@2x.png").status, 400);
  EXPECT_EQ(get("/tiles/communes/256/14/13002/7326.png").status, 404);
  EXPECT_EQ(get("/tiles/communes/14/13002/7326@2x.mvt").status, 400);

  const Response zipped = get("/tiles/communes/14/13002/7326.mvt", {}, {{"accept-encoding", "gzip, deflate"}});
  ASSERT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.content_type, "application/vnd.mapbox-vector-tile");
  EXPECT_EQ(header(zipped, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(zipped, "Vary"), "Accept-Encoding");
  const Response plain = get("/tiles/communes/14/13002/7326.mvt");
  EXPECT_EQ(header(plain, "Content-Encoding"), "(none)");
  EXPECT_GT(plain.body.size(), 0U);
}

TEST_F(ApiTest, DescriptionsForClients) {
  Request r;
  r.path = "/tiles/communes.json";
  r.headers["host"] = "maps.example:8080";
  const auto tilejson = nlohmann::json::parse(api.handle(r).body);
  EXPECT_EQ(tilejson["tilejson"], "3.0.0");
  EXPECT_EQ(tilejson["tiles"][0], "http://maps.example:8080/tiles/communes/{z}/{x}/{y}.mvt");
  r.query["format"] = "png";
  EXPECT_EQ(nlohmann::json::parse(api.handle(r).body)["tiles"][0],
            "http://maps.example:8080/tiles/communes/{z}/{x}/{y}.png");
  r.query["format"] = "jpg";
  EXPECT_EQ(api.handle(r).status, 400);
  EXPECT_EQ(get("/tiles/nowhere.json").status, 404);

  const Response style = get("/styles/communes/style.json");
  ASSERT_EQ(style.status, 200);
  EXPECT_EQ(nlohmann::json::parse(style.body)["version"], 8);
  EXPECT_EQ(get("/styles/nowhere/style.json").status, 404);

  const Response wmts = get("/wmts/1.0.0/WMTSCapabilities.xml");
  ASSERT_EQ(wmts.status, 200);
  EXPECT_EQ(wmts.content_type, "application/xml");
  EXPECT_NE(wmts.body.find("GoogleMapsCompatible"), std::string::npos);
}

TEST_F(ApiTest, GlyphsForVectorLabelsWithAnEncodedFontName) {
  const Response glyph = get("/fonts/Noto%20Sans%20Regular/7680-7935.pbf");
  ASSERT_EQ(glyph.status, 200) << glyph.body << " (run `npm ci --prefix web/fonts`)";
  EXPECT_EQ(glyph.content_type, "application/x-protobuf");
  EXPECT_GT(glyph.body.size(), 1000U);
  EXPECT_EQ(get("/fonts/Noto%20Sans%20Regular/7680-7900.pbf").status, 400);
  EXPECT_EQ(get("/fonts/No%20Such%20Font/0-255.pbf").status, 404);
  EXPECT_EQ(get("/fonts/..%2F..%2Fetc/0-255.pbf").status, 400);
}

TEST(ApiUnavailable, ARenderOverItsTimeLimitIs503WithRetryAfter) {
  bandoso::testing::TempDir dir;
  auto store = bandoso::testing::make_small_province(dir / "p.sqlite");
  tiles::TileServiceOptions options;
  options.render_timeout = std::chrono::milliseconds(1);
  tiles::TileService tiles(*store, options);
  geocoder::Geocoder geocoder(*store);
  const Api api(Services{*store, tiles, geocoder});
  Request r;
  r.path = "/tiles/basemap/14/13002/7326.png";
  const Response response = api.handle(r);
  EXPECT_EQ(response.status, 503);
  bool retry_after = false;
  for (const auto& [key, value] : response.headers) retry_after = retry_after || (key == "Retry-After" && value == "5");
  EXPECT_TRUE(retry_after);
}

TEST_F(ApiTest, SearchFormatsFollowNominatimGeoJsonAndGeocodeJson) {
  const auto json = nlohmann::json::parse(get("/search", {{"q", "Phường Trường Vinh"}, {"addressdetails", "1"}}).body);
  ASSERT_EQ(json.size(), 1U);
  EXPECT_EQ(json[0]["class"], "boundary");
  EXPECT_EQ(json[0]["match_type"], "exact");
  EXPECT_EQ(json[0]["admin"]["commune_code"], "16690");
  EXPECT_TRUE(json[0].contains("address"));
  const auto v2 = nlohmann::json::parse(get("/search", {{"q", "Phường Trường Vinh"}, {"format", "jsonv2"}}).body);
  EXPECT_EQ(v2[0]["category"], "boundary");

  const Response geojson = get("/search", {{"q", "Phường Trường Vinh"}, {"format", "geojson"}});
  EXPECT_EQ(geojson.content_type, "application/geo+json");
  const auto collection = nlohmann::json::parse(geojson.body);
  EXPECT_EQ(collection["type"], "FeatureCollection");
  EXPECT_EQ(collection["features"][0]["geometry"]["type"], "Point");

  const auto geocodejson =
      nlohmann::json::parse(get("/search", {{"q", "Phường Trường Vinh"}, {"format", "geocodejson"}}).body);
  EXPECT_EQ(geocodejson["geocoding"]["version"], "0.1.0");
  EXPECT_EQ(geocodejson["geocoding"]["query"], "Phường Trường Vinh");
  EXPECT_EQ(geocodejson["features"][0]["properties"]["geocoding"]["label"], "Phường Trường Vinh, Nghệ An");
}

TEST_F(ApiTest, StructuredSearchNamesAFormerCommune) {
  const auto json = nlohmann::json::parse(get("/search", {{"city", "Hưng Bình"}}).body);
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json[0]["admin"]["commune_code"], "16681");
  EXPECT_EQ(json[0]["match_type"], "old-name");
  EXPECT_EQ(get("/search", {{"county", ""}}).status, 400);
}

TEST_F(ApiTest, ReverseLookupStatusAndAutocomplete) {
  const Response reverse = get("/reverse", {{"lat", "18.67"}, {"lon", "105.70"}});
  ASSERT_EQ(reverse.status, 200) << reverse.body;
  const auto place = nlohmann::json::parse(reverse.body);
  EXPECT_EQ(place["admin"]["commune_code"], "16690");
  EXPECT_EQ(nlohmann::json::parse(get("/reverse", {{"lat", "10.0"}, {"lon", "100.0"}}).body)["error"],
            "Unable to geocode");
  EXPECT_EQ(get("/reverse", {{"lat", "95"}, {"lon", "105.7"}}).status, 400);
  EXPECT_EQ(get("/reverse", {{"lat", "abc"}, {"lon", "105.7"}}).status, 400);
  EXPECT_EQ(get("/reverse", {{"lat", "18.67"}}).status, 400);

  const auto looked_up = nlohmann::json::parse(get("/lookup", {{"ids", "communes:16681,communes:99999"}}).body);
  ASSERT_EQ(looked_up.size(), 1U);
  EXPECT_EQ(looked_up[0]["place_id"], "communes:16681");
  EXPECT_EQ(get("/lookup").status, 400);

  const auto status = nlohmann::json::parse(get("/status").body);
  EXPECT_EQ(status["message"], "OK");
  EXPECT_EQ(status["data_version"], 2);
  EXPECT_GT(status["index"]["entries"].get<int>(), 0);

  const auto suggestions = nlohmann::json::parse(get("/autocomplete", {{"q", "Phường Trường V"}}).body);
  ASSERT_FALSE(suggestions["features"].empty());
  EXPECT_EQ(suggestions["features"][0]["properties"]["place_id"], "communes:16690");
  EXPECT_EQ(get("/autocomplete").status, 400);
}

namespace {

std::vector<std::string> csv_lines(const std::string& body) {
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < body.size();) {
    const std::size_t end = std::min(body.find('\n', start), body.size());
    std::string line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

const char* const kResultHeader =
    "latitude,longitude,result_label,result_score,result_type,result_id,result_match,result_commune,"
    "result_commune_code,result_old_commune,result_old_district";

}  // namespace

TEST_F(ApiTest, BatchCsvAddsTheResultColumnsToEveryRow) {
  Request r;
  r.method = "POST";
  r.path = "/search/csv";
  r.query["columns"] = "ten,tinh";
  r.body = "id,ten,tinh\n1,Phường Trường Vinh,Nghệ An\n2,\"Hưng Bình, Vinh\",\n3,không có ở đây,\n";
  const Response response = api.handle(r);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "text/csv; charset=utf-8");
  ASSERT_TRUE(response.stream) << "the answer is streamed";
  const std::vector<std::string> lines = csv_lines(body_of(response));
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0], std::string("id,ten,tinh,") + kResultHeader);
  EXPECT_NE(lines[1].find("communes:16690"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("communes:16681"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("old-name"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("Phường Hưng Bình,Thành phố Vinh"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("không có ở đây,,,,,,,,,,,,"), std::string::npos) << lines[3];

  r.query["columns"] = "nope";
  EXPECT_EQ(api.handle(r).status, 400);
  r.body = "";
  EXPECT_EQ(api.handle(r).status, 400);
}

// The form curl sends for `curl -F data=@dia_chi.csv -F columns=ten -F columns=tinh` (Addok's convention).
TEST_F(ApiTest, BatchCsvTakesAMultipartUpload) {
  Request r;
  r.method = "POST";
  r.path = "/search/csv/";
  r.headers["content-type"] = "multipart/form-data; boundary=------------------------d74496d66958873e";
  r.body =
      "--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"data\"; filename=\"dia_chi.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\n"
      "id;ten;tinh\r\n1;Phường Trường Vinh;Nghệ An\r\n2;Hưng Bình;\r\n"
      "\r\n--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"columns\"\r\n\r\nten\r\n"
      "--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"columns\"\r\n\r\ntinh\r\n"
      "--------------------------d74496d66958873e--\r\n";
  const Response response = api.handle(r);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(header(response, "Content-Disposition"), "attachment; filename=\"dia_chi.geocoded.csv\"");
  const std::vector<std::string> lines = csv_lines(body_of(response));
  ASSERT_EQ(lines.size(), 3U);
  std::string semicolons = std::string("id,ten,tinh,") + kResultHeader;
  std::replace(semicolons.begin(), semicolons.end(), ',', ';');
  EXPECT_EQ(lines[0], semicolons) << "the answer keeps the file's separator";
  EXPECT_NE(lines[1].find("communes:16690"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("communes:16681"), std::string::npos) << lines[2];

  // A form without the file, an unknown column, a multipart type without boundary: 400 with a message.
  Request no_file = r;
  no_file.body =
      "--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"columns\"\r\n\r\nten\r\n"
      "--------------------------d74496d66958873e--\r\n";
  Response refused = api.handle(no_file);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("'data'"), std::string::npos) << refused.body;
  Request unknown_column = r;
  unknown_column.query["columns"] = "duong";
  refused = api.handle(unknown_column);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("duong"), std::string::npos) << refused.body;
  Request no_boundary = r;
  no_boundary.headers["content-type"] = "multipart/form-data";
  EXPECT_EQ(api.handle(no_boundary).status, 400);
}

TEST_F(ApiTest, EnglishUnitWordsOnRequest) {
  const auto vi = nlohmann::json::parse(get("/search", {{"q", "Hưng Bình"}}).body);
  ASSERT_FALSE(vi.empty());
  EXPECT_NE(vi[0]["display_name"].get<std::string>().find("trước đây"), std::string::npos);
  const auto en = nlohmann::json::parse(get("/search", {{"q", "Hưng Bình"}, {"accept-language", "en-GB"}}).body);
  ASSERT_FALSE(en.empty());
  const std::string label = en[0]["display_name"];
  EXPECT_NE(label.find("Thành Vinh Ward"), std::string::npos) << label;
  EXPECT_NE(label.find("formerly: Hưng Bình Ward"), std::string::npos) << label;
  EXPECT_NE(label.find("Nghệ An Province"), std::string::npos) << label << " / " << vi[0]["display_name"];
  EXPECT_EQ(get("/search", {{"q", "Vinh"}, {"accept-language", "fr"}}).status, 400);
}

}  // namespace bandoso::http

namespace bandoso::http {

// OGC API - Features and identify over the small province with streets, addresses and parcels.
class FeaturesApiTest : public ApiTest {
 protected:
  void SetUp() override { bandoso::testing::add_streets_addresses_parcels(*store); }
  nlohmann::json get_json(const std::string& path, std::map<std::string, std::string> query = {}) const {
    const Response r = get(path, std::move(query), {{"host", "maps.example"}});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return nlohmann::json::parse(r.body);
  }
};

TEST_F(FeaturesApiTest, LandingConformanceAndCollections) {
  const auto landing = get_json("/");
  std::set<std::string> rels;
  for (const auto& l : landing["links"]) rels.insert(l["rel"]);
  for (const char* rel : {"self", "service-desc", "conformance", "data"}) EXPECT_TRUE(rels.count(rel)) << rel;
  EXPECT_EQ(get("/", {}, {{"accept", "text/html,application/xhtml+xml"}}).content_type, "text/html");
  EXPECT_EQ(get("/", {{"f", "json"}}, {{"accept", "text/html"}}).content_type, "application/json");

  const auto conformance = get_json("/conformance");
  EXPECT_NE(conformance["conformsTo"].dump().find("ogcapi-features-1/1.0/conf/core"), std::string::npos);
  const auto api = get_json("/api");
  EXPECT_EQ(api["openapi"], "3.0.3");
  EXPECT_TRUE(api["paths"].contains("/collections/{collectionId}/items"));

  const auto collections = get_json("/collections");
  ASSERT_EQ(collections["collections"].size(), 5U);
  const auto parcels = get_json("/collections/parcels");
  EXPECT_EQ(parcels["id"], "parcels");
  EXPECT_EQ(parcels["links"][1]["href"], "http://maps.example/collections/parcels/items");
  EXPECT_EQ(parcels["extent"]["spatial"]["bbox"][0][0], 105.6518);
  EXPECT_EQ(get("/collections/nope").status, 404);
}

TEST_F(FeaturesApiTest, ItemsPageWithLinksFiltersAndNoOwners) {
  const Response r = get("/collections/addresses/items", {{"limit", "2"}, {"offset", "2"}}, {{"host", "maps.example"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/geo+json");
  const auto page = nlohmann::json::parse(r.body);
  EXPECT_EQ(page["numberMatched"], 5);
  EXPECT_EQ(page["numberReturned"], 2);
  EXPECT_EQ(page["features"][0]["id"], "DA000003");
  std::map<std::string, std::string> links;
  for (const auto& l : page["links"]) links[l["rel"]] = l["href"];
  EXPECT_EQ(links["next"], "http://maps.example/collections/addresses/items?limit=2&offset=4");
  EXPECT_EQ(links["prev"], "http://maps.example/collections/addresses/items?limit=2&offset=0");

  const auto filtered = get_json("/collections/parcels/items", {{"old_commune_code", "16669"}});
  ASSERT_EQ(filtered["numberMatched"], 1);
  EXPECT_EQ(filtered["features"][0]["id"], "16669.7.222");
  EXPECT_EQ(filtered.dump().find("Owner"), std::string::npos) << "owner names are never public";
  const auto boxed = get_json("/collections/addresses/items", {{"bbox", "105.69,18.66,105.71,18.68"}});
  EXPECT_EQ(boxed["numberMatched"], 1);

  const auto one = get_json("/collections/parcels/items/16672.7.222");
  EXPECT_EQ(one["properties"]["land_use"], "ODT");
  EXPECT_FALSE(one["properties"].contains("owner_name"));
  EXPECT_EQ(get("/collections/parcels/items/16672.7.999").status, 404);
}

TEST_F(FeaturesApiTest, BadItemRequestsAre4xxWithAMessage) {
  EXPECT_EQ(get("/collections/addresses/items", {{"bbox", "1,2,3"}}).status, 400);
  EXPECT_EQ(get("/collections/addresses/items", {{"bbox", "106,18,105,19"}}).status, 400);
  EXPECT_EQ(get("/collections/addresses/items", {{"limit", "1001"}}).status, 400);
  EXPECT_EQ(get("/collections/addresses/items", {{"limit", "-1"}}).status, 400);
  EXPECT_EQ(get("/collections/addresses/items", {{"colour", "red"}}).status, 400);
  EXPECT_EQ(get("/collections/parcels/items", {{"owner_name", "Secret Owner"}}).status, 400);
  EXPECT_EQ(get("/collections/parcels/items", {{"crs", "EPSG:3857"}}).status, 400);
  EXPECT_EQ(get("/collections/nope/items").status, 404);
}

TEST_F(FeaturesApiTest, IdentifyAnswersParcelAddressAndCommunes) {
  const auto at = get_json("/identify", {{"lon", "105.652"}, {"lat", "18.66"}});
  EXPECT_EQ(at["parcel"]["id"], "16672.7.222");
  EXPECT_FALSE(at["parcel"]["properties"].contains("owner_name"));
  EXPECT_EQ(at["address"]["id"], "DA000001");
  EXPECT_EQ(at["commune"]["properties"]["code"], "16681");
  EXPECT_EQ(at["former_commune"]["name"], "Phường Hưng Bình");
  const auto nothing = get_json("/identify", {{"lon", "104"}, {"lat", "19.5"}});
  EXPECT_TRUE(nothing["parcel"].is_null());
  EXPECT_TRUE(nothing["commune"].is_null());
  EXPECT_EQ(get("/identify", {{"lon", "x"}, {"lat", "18"}}).status, 400);
  EXPECT_EQ(get("/identify", {{"lon", "105"}}).status, 400);
}

TEST_F(FeaturesApiTest, LandUseStatisticsByCommuneAndByPolygonAsJsonAndCsv) {
  const auto commune = get_json("/stats/land-use", {{"commune", "16681"}});
  EXPECT_EQ(commune["parcels"], 2) << commune;
  ASSERT_EQ(commune["codes"].size(), 1U) << commune;
  EXPECT_EQ(commune["codes"][0]["code"], "ODT");
  EXPECT_NEAR(commune["codes"][0]["area_m2"].get<double>(), 2 * 42.2 * 44.4, 2 * 42.2 * 44.4 * 0.05);
  const Response csv = get("/stats/land-use", {{"commune", "16681"}, {"format", "csv"}});
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_TRUE(csv.body.starts_with("code,name,group")) << csv.body;

  Request post;
  post.method = "POST";
  post.path = "/stats/land-use";
  post.body = R"({"type":"Polygon","coordinates":[[[105.6515,18.6595],[105.6520,18.6595],[105.6520,18.6605],)"
              R"([105.6515,18.6605],[105.6515,18.6595]]]})";
  const Response half = api.handle(post);
  ASSERT_EQ(half.status, 200) << half.body;
  const auto stats = nlohmann::json::parse(half.body);
  EXPECT_EQ(stats["parcels"], 1);
  EXPECT_NEAR(stats["area_m2"].get<double>(), commune["codes"][0]["area_m2"].get<double>() / 4, 5.0)
      << "half the width of one of the two parcels";
  EXPECT_EQ(half.body.find("Owner"), std::string::npos);

  post.body = R"({"type":"Point","coordinates":[105.65,18.66]})";
  EXPECT_EQ(api.handle(post).status, 400);
  post.body = "{not json";
  EXPECT_EQ(api.handle(post).status, 400);
  EXPECT_EQ(get("/stats/land-use", {{"commune", "99999"}}).status, 404);
  EXPECT_EQ(get("/stats/land-use").status, 400);
  EXPECT_EQ(get("/stats/land-use", {{"commune", "16681"}, {"format", "xml"}}).status, 400);
}

TEST_F(FeaturesApiTest, ExportsStreamGeoJsonAndCsv) {
  const Response geojson = get("/export/addresses.geojson", {{"bbox", "105.64,18.65,105.68,18.69"}, {"limit", "3"}});
  ASSERT_EQ(geojson.status, 200) << geojson.body;
  ASSERT_TRUE(geojson.stream);
  EXPECT_EQ(geojson.content_type, "application/geo+json");
  EXPECT_EQ(header(geojson, "Content-Disposition"), "attachment; filename=\"addresses.geojson\"");
  const auto collection = nlohmann::json::parse(body_of(geojson));
  EXPECT_EQ(collection["features"].size(), 3U);
  const Response csv = get("/export/parcels.csv", {{"land_use", "ODT"}});
  ASSERT_EQ(csv.status, 200) << csv.body;
  const std::string text = body_of(csv);
  EXPECT_TRUE(text.starts_with("wkt,old_commune_code,sheet_no,parcel_no")) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_EQ(text.find("Owner"), std::string::npos);

  EXPECT_EQ(get("/export/parcels.xml").status, 400);
  EXPECT_EQ(get("/export/parcels").status, 404);
  EXPECT_EQ(get("/export/nope.csv").status, 404);
  EXPECT_EQ(get("/export/parcels.csv", {{"colour", "red"}}).status, 400);
  EXPECT_EQ(get("/export/parcels.csv", {{"limit", "0"}}).status, 400);
  EXPECT_EQ(get("/export/parcels.csv", {{"bbox", "x"}}).status, 400);
}

}  // namespace bandoso::http
