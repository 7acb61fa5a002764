// The pages people see (issue 7): static files, the viewer for browsers, /embed's parameters, the citizen
// page and its QR codes (decoded back with zbarimg).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "http/api.hpp"
#include "http/qr_code.hpp"
#include "layers/core/digital_code.hpp"
#include "support/png.hpp"
#include "support/process.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::http {
namespace {

namespace fs = std::filesystem;

constexpr const char* kZbarimg = "/usr/bin/zbarimg";
constexpr const char* kKnownCode = "7440515318";  // DA000001 of the small province

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "(none)";
}

std::string error_code(const Response& r) {
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"]["code"].get<std::string>() : "(not a JSON error)";
}

class PagesTest : public ::testing::Test {
 protected:
  void SetUp() override { bandoso::testing::add_streets_addresses_parcels(*store); }

  static Response get(const Api& with, const std::string& path, std::map<std::string, std::string> query = {},
                      std::map<std::string, std::string> headers = {}) {
    Request r;
    r.path = path;
    r.query = std::move(query);
    r.headers = std::move(headers);
    r.headers.emplace("host", "maps.example:8080");
    return with.handle(r);
  }
  Response get(const std::string& path, std::map<std::string, std::string> query = {},
               std::map<std::string, std::string> headers = {}) const {
    return get(api, path, std::move(query), std::move(headers));
  }

  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  tiles::TileService tiles{*store};
  geocoder::Geocoder geocoder{*store};
  Api api{Services{*store, tiles, geocoder}};  // the pages of the source tree (web/app)
};

// A web directory of our own, with the files each rule is about.
class StaticFilesTest : public PagesTest {
 protected:
  void SetUp() override {
    PagesTest::SetUp();
    write_file(web / "src" / "page.html", "<!doctype html><title>t</title>");
    write_file(web / "src" / "app.js", "console.log('xin chào');");
    write_file(web / "src" / "style.css", "body{}");
    write_file(web / "src" / "icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write_file(web / "src" / "data.json", "{}");
    write_file(web / "src" / "app.js.map", "{}");
    write_file(web / "src" / "image.png", "\x89PNG");
    write_file(web / "src" / "notes.txt", "not served");
    write_file(web / "src" / ".hidden.js", "hidden");
    fs::create_directories(web / "src" / "folder.css");
    write_file(web / "node_modules" / "leaflet" / "dist" / "leaflet.js", "/* leaflet */");
    write_file(web / "node_modules" / "leaflet" / "dist" / "images" / "marker-icon.png", "\x89PNG");
    write_file(web / "node_modules" / "leaflet" / "package.json", "{\"name\": \"leaflet\"}");
    write_file(web / "secret.json", "{\"secret\": true}");
    write_file(dir / "outside.js", "outside");
    fs::create_symlink(dir / "outside.js", web / "src" / "link.js");
  }

  fs::path web = dir / "web";
  Api local{Services{*store, tiles, geocoder}, web};
};

TEST_F(StaticFilesTest, ContentTypesByExtension) {
  const std::pair<const char*, const char*> cases[] = {
      {"/assets/app/page.html", "text/html"},
      {"/assets/app/app.js", "text/javascript; charset=utf-8"},
      {"/assets/app/style.css", "text/css; charset=utf-8"},
      {"/assets/app/icon.svg", "image/svg+xml"},
      {"/assets/app/data.json", "application/json"},
      {"/assets/app/app.js.map", "application/json"},
      {"/assets/app/image.png", "image/png"},
      {"/assets/leaflet/leaflet.js", "text/javascript; charset=utf-8"},
      {"/assets/leaflet/images/marker-icon.png", "image/png"},
  };
  for (const auto& [path, type] : cases) {
    const Response r = get(local, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(r.content_type, type) << path;
  }
  EXPECT_EQ(get(local, "/assets/app/app.js").body, "console.log('xin chào');");
  // Another extension is not served.
  EXPECT_EQ(get(local, "/assets/app/notes.txt").status, 404);
}

TEST_F(StaticFilesTest, StrongETagAnd304) {
  const Response first = get(local, "/assets/app/app.js");
  const std::string etag = header(first, "ETag");
  ASSERT_EQ(etag.size(), 34u) << etag;  // a strong ETag: no W/, 32 hex digits in quotes
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(header(first, "Cache-Control"), "public, max-age=300");
  EXPECT_EQ(header(get(local, "/assets/leaflet/leaflet.js"), "Cache-Control"), "public, max-age=86400");

  const Response again = get(local, "/assets/app/app.js", {}, {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(header(again, "ETag"), etag);
  EXPECT_EQ(get(local, "/assets/app/app.js", {}, {{"if-none-match", "\"other\""}}).status, 200);

  // A changed file has a new ETag (the cache notices the new size).
  write_file(web / "src" / "app.js", "console.log('xin chào, Nghệ An');");
  const Response changed = get(local, "/assets/app/app.js", {}, {{"if-none-match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(header(changed, "ETag"), etag);
}

TEST_F(StaticFilesTest, TraversalHiddenFilesDirectoriesAndLinksOutAreRefused) {
  // The Pistache adapter hands the path over as sent; split_path decodes each segment.
  for (const char* path :
       {"/assets/app/../secret.json", "/assets/app/%2e%2e/secret.json", "/assets/app/%2E%2E/%2e%2e/web/secret.json",
        "/assets/app/..%2fsecret.json", "/assets/app/..%5csecret.json", "/assets/app/%2fetc%2fpasswd.json",
        "/assets/app//etc/passwd.json", "/assets/leaflet/../package.json", "/assets/leaflet/%2e%2e/package.json",
        "/assets/app/.hidden.js", "/assets/app/./app.js", "/assets/app/folder.css", "/assets/app/link.js",
        "/assets/app/missing.js", "/assets/other/app.js", "/assets/app/app.js%00.png"}) {
    const Response r = get(local, path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("true"), std::string::npos) << path;  // secret.json holds {"secret": true}
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << path;
  }
  // No directory listings.
  EXPECT_EQ(get(local, "/assets/app").status, 404);
  EXPECT_EQ(get(local, "/assets/app/").status, 404);
  EXPECT_EQ(get(local, "/assets/leaflet/images").status, 404);
}

TEST_F(PagesTest, LeafletAndOurFilesAreServedFromTheSourceTree) {
  const fs::path leaflet = default_web_directory() / "node_modules" / "leaflet" / "dist" / "leaflet.js";
  ASSERT_TRUE(fs::exists(leaflet)) << leaflet << " is missing: run scripts/install-deps (npm ci in web/app)";
  const Response js = get("/assets/leaflet/leaflet.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.body.find("Leaflet 1.9.4"), std::string::npos);
  EXPECT_EQ(get("/assets/leaflet/leaflet.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(get("/assets/leaflet/images/marker-icon.png").content_type, "image/png");
  for (const char* file : {"viewer.js", "embed.js", "address.js", "i18n.js", "map_common.js"}) {
    EXPECT_EQ(get(std::string("/assets/app/") + file).status, 200) << file;
  }
}

TEST_F(PagesTest, RootIsTheViewerForBrowsersAndJsonOtherwise) {
  const Response page = get("/", {}, {{"accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html");
  EXPECT_NE(page.body.find("id=\"map\""), std::string::npos);
  EXPECT_NE(page.body.find("/assets/leaflet/leaflet.js"), std::string::npos);
  EXPECT_EQ(header(page, "Vary"), "Accept");
  EXPECT_EQ(get("/map").body, page.body);
  // Pages are revalidated each time; an unchanged one costs a 304.
  EXPECT_EQ(header(page, "Cache-Control"), "no-cache");
  EXPECT_EQ(get("/map", {}, {{"if-none-match", header(page, "ETag")}}).status, 304);

  for (const auto& [query, accept] : std::vector<std::pair<std::map<std::string, std::string>, std::string>>{
           {{}, "application/json"}, {{}, "*/*"}, {{{"f", "json"}}, "text/html"}}) {
    const Response r = get("/", query, {{"accept", accept}});
    EXPECT_EQ(r.content_type, "application/json") << accept;
    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["links"][0]["rel"], "self");
    EXPECT_EQ(body["links"][0]["href"], "http://maps.example:8080/");
    EXPECT_EQ(header(r, "Vary"), "Accept");
  }
  // Nothing of the pages is loaded from the internet.
  for (const char* path : {"/map", "/embed", "/assets/app/viewer.js", "/assets/app/common.css"}) {
    const std::string body = get(path).body;
    EXPECT_EQ(body.find("https://unpkg"), std::string::npos) << path;
    EXPECT_EQ(body.find("cdn"), std::string::npos) << path;
    EXPECT_EQ(body.find("fonts.googleapis"), std::string::npos) << path;
  }
}

TEST_F(PagesTest, EmbedChecksItsParameters) {
  const Response ok =
      get("/embed", {{"tileset", "communes"}, {"center", "18.67,105.68"}, {"zoom", "15"}, {"marker", "18.67,105.68"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.content_type, "text/html");
  EXPECT_NE(ok.body.find("/assets/app/embed.js"), std::string::npos);
  EXPECT_EQ(get("/embed").status, 200);  // every parameter has a default
  EXPECT_EQ(get("/embed", {{"zoom", "0"}}).status, 200);
  EXPECT_EQ(get("/embed", {{"zoom", "22"}, {"lang", "en"}}).status, 200);

  const std::map<std::string, std::string> bad[] = {
      {{"tileset", "nope"}},   {{"tileset", ""}},      {{"center", "abc"}},         {{"center", "18.67"}},
      {{"center", "18.67,x"}}, {{"center", "95,105"}}, {{"center", "18.67,105,1"}}, {{"zoom", "23"}},
      {{"zoom", "-1"}},        {{"zoom", "fifteen"}},  {{"marker", "a,b"}},         {{"marker", "18.67,190"}},
      {{"lang", "fr"}},
  };
  for (const auto& query : bad) {
    const Response r = get("/embed", query);
    EXPECT_EQ(r.status, 400) << query.begin()->first << "=" << query.begin()->second;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(error_code(r), "bad_request") << r.body;
  }
}

TEST_F(PagesTest, CitizenPageIsOnePageWhoseScriptReadsTheCode) {
  const Response known = get(std::string("/a/") + kKnownCode);
  EXPECT_EQ(known.status, 200);
  EXPECT_EQ(known.content_type, "text/html");
  EXPECT_NE(known.body.find("id=\"address-card\""), std::string::npos);
  EXPECT_NE(known.body.find("id=\"not-found\""), std::string::npos);
  EXPECT_NE(known.body.find("/assets/app/address.js"), std::string::npos);
  // Grouped, wrong and unknown codes get the same page: its script asks the geocoder and says why.
  for (const char* path : {"/a/744-051-5318", "/a/744%20051%205318", "/a/7440515319", "/a/hello"}) {
    const Response r = get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, known.body) << path;
  }
}

TEST_F(PagesTest, QrSvgOfAKnownCode) {
  const Response r = get("/a/744-051-5318.svg");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/svg+xml");
  EXPECT_EQ(r.body.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << r.body.substr(0, 100);
  EXPECT_NE(r.body.find("<path"), std::string::npos);
  EXPECT_EQ(get(std::string("/a/") + kKnownCode + ".svg").body, r.body);  // the code normalised
  EXPECT_EQ(get("/a/744-051-5318.svg", {}, {{"if-none-match", header(r, "ETag")}}).status, 304);
}

TEST_F(PagesTest, QrPngDecodesToThePageUrl) {
  ASSERT_EQ(access(kZbarimg, X_OK), 0) << kZbarimg << " is missing (Debian zbar-tools; scripts/install-deps)";
  const Response r = get("/a/744 051 5318.png");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/png");
  const auto png = bandoso::testing::decode_png(r.body);
  ASSERT_TRUE(png.ok);
  EXPECT_GE(png.width, 200u);
  EXPECT_EQ(png.width, png.height);
  // The quiet zone: the outer rows and columns are white.
  for (unsigned i = 0; i < png.width; ++i) {
    EXPECT_EQ(png.rgba[4 * i], 255) << "top row, x " << i;
    EXPECT_EQ(png.rgba[4 * (i * png.width)], 255) << "left column, y " << i;
  }
  const fs::path file = dir / "qr.png";
  write_file(file, r.body);
  const auto decoded = bandoso::testing::run_command({kZbarimg, "-q", "--raw", file.string()});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_EQ(decoded.out, std::string("http://maps.example:8080/a/") + kKnownCode + "\n");
}

TEST_F(PagesTest, QrOfAnUnknownOrWrongCodeIs404) {
  const std::string digits = "987654321";
  const std::string unknown = digits + layers::damm_check_digit(digits);
  ASSERT_TRUE(layers::is_valid_digital_code(unknown));
  for (const std::string& code : {unknown, std::string("7440515319"), std::string("hello"), std::string("")}) {
    for (const char* extension : {".png", ".svg"}) {
      const Response r = get("/a/" + code + extension);
      EXPECT_EQ(r.status, 404) << code << extension;
      EXPECT_EQ(error_code(r), "not_found") << r.body;
    }
  }
}

TEST(QrCode, ModulesAndImageSizes) {
  const QrCode code = encode_qr("http://maps.example:8080/a/7440515318");
  EXPECT_GE(code.size, 21);
  EXPECT_EQ(code.size % 4, 1);  // 17 + 4 × version
  // The finder pattern's corner modules are dark.
  EXPECT_TRUE(code.at(0, 0));
  EXPECT_TRUE(code.at(code.size - 1, 0));
  EXPECT_TRUE(code.at(0, code.size - 1));
  const auto png = bandoso::testing::decode_png(qr_png(code, 200));
  ASSERT_TRUE(png.ok);
  const unsigned modules = static_cast<unsigned>(code.size + 2 * kQrQuietZone);
  EXPECT_EQ(png.width % modules, 0u);
  EXPECT_GE(png.width, 200u);
  EXPECT_LT(png.width, 200u + modules);  // the smallest scale that reaches 200 px
  EXPECT_NE(qr_svg(code).find(fmt::format("viewBox=\"0 0 {0} {0}\"", modules)), std::string::npos);
}

}  // namespace
}  // namespace bandoso::http
