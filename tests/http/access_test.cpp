// API keys, roles, rate limits and the audit log: the access file, the token buckets, and a walk over
// every endpoint with and without a department key proving owner names go only to the key, traced.
#include "http/access.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http/api.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::http {

namespace {

const std::string kDepartmentKey = "so-tnmt-secret-key";
const std::string kAdminKey = "admin-secret-key";

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<nlohmann::json> audit_lines(const std::filesystem::path& file) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

}  // namespace

TEST(AccessConfig, KeysAreStoredHashedAndErrorsNameTheKey) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  testing::TempDir dir;
  const auto write = [&](const std::string& text) {
    std::ofstream(dir / "access.yaml") << text;
    return dir / "access.yaml";
  };
  const auto message = [&](const std::string& text) {
    try {
      (void)load_access_config(write(text));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::config_invalid) << e.what();
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const std::string hash = sha256_hex(kDepartmentKey);
  EXPECT_NE(
      message("keys:\n  - {name: a, role: boss, sha256: " + hash + "}\naudit_log: a.jsonl\n").find("keys[0].role"),
      std::string::npos);
  EXPECT_NE(
      message("keys:\n  - {name: a, role: department, sha256: 1234}\naudit_log: a.jsonl\n").find("keys[0].sha256"),
      std::string::npos);
  EXPECT_NE(message("keys:\n  - {name: a, role: department, sha256: " + hash + "}\n").find("audit_log"),
            std::string::npos)
      << "personal data without a trace is refused";
  EXPECT_NE(message("keys: []\ncolour: red\n").find("colour"), std::string::npos);
  const AccessConfig config = load_access_config(write(
      "keys:\n  - name: so-tnmt\n    role: department\n    sha256: " + hash +
      "\n    rate: {per_second: 2, burst: 3}\nanonymous_rate: {per_second: 1, burst: 2}\naudit_log: audit.jsonl\n"));
  ASSERT_EQ(config.keys.size(), 1U);
  EXPECT_EQ(config.keys[0].role, Role::department);
  EXPECT_EQ(config.audit_log, dir / "audit.jsonl") << "relative to the access file";
  EXPECT_EQ(read_file(dir / "access.yaml").find(kDepartmentKey), std::string::npos);
}

TEST(Access, TokenBucketsPerKeyAndPerAddress) {
  testing::TempDir dir;
  AccessConfig config;
  config.keys.push_back({"so-tnmt", Role::department, sha256_hex(kDepartmentKey), {1, 3}});
  config.anonymous_rate = {1, 2};
  config.audit_log = dir / "audit.jsonl";
  Access access(config);
  EXPECT_THROW((void)access.identify("wrong"), Error);
  const Caller department = access.identify(kDepartmentKey);
  EXPECT_EQ(department.key_name, "so-tnmt");
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(access.admit(department, "10.0.0.1"));
  try {
    access.admit(department, "10.0.0.1");
    FAIL() << "the fourth request within a second passed a bucket of 3";
  } catch (const RateLimitedError& e) {
    EXPECT_GE(e.retry_after_seconds(), 1);
  }
  const Caller anonymous;
  EXPECT_NO_THROW(access.admit(anonymous, "10.0.0.1")) << "the key's bucket is not the address's";
  EXPECT_NO_THROW(access.admit(anonymous, "10.0.0.1"));
  EXPECT_THROW(access.admit(anonymous, "10.0.0.1"), RateLimitedError);
  EXPECT_NO_THROW(access.admit(anonymous, "10.0.0.2")) << "another address has its own bucket";
}

class AccessApiTest : public ::testing::Test {
 protected:
  AccessApiTest() {
    testing::add_streets_addresses_parcels(*store);
    AccessConfig config;
    config.keys.push_back({"so-tnmt", Role::department, sha256_hex(kDepartmentKey), {}});
    config.keys.push_back({"ops", Role::admin, sha256_hex(kAdminKey), {}});
    config.audit_log = dir / "audit.jsonl";
    access = std::make_unique<Access>(config);
    api = std::make_unique<Api>(Services{*store, tiles, geocoder, nullptr, access.get()});
  }
  Response call(const std::string& method, const std::string& path, std::map<std::string, std::string> query,
                const std::string& key, const std::string& body = "") const {
    Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.body = body;
    r.client = "10.0.0.1";
    if (!key.empty()) r.headers["x-api-key"] = key;
    return api->handle(r);
  }
  testing::TempDir dir;
  std::unique_ptr<layers::Store> store = testing::make_small_province(dir / "p.sqlite");
  tiles::TileService tiles{*store};
  geocoder::Geocoder geocoder{*store};
  std::unique_ptr<Access> access;
  std::unique_ptr<Api> api;
};

TEST_F(AccessApiTest, OwnerNamesOnlyWithADepartmentKeyAndEveryOneTraced) {
  struct Endpoint {
    std::string method, path;
    std::map<std::string, std::string> query;
    std::string body;
    bool gives_owners;  // with a department key
  };
  const std::string polygon =
      R"({"type":"Polygon","coordinates":[[[105.64,18.65],[105.72,18.65],[105.72,18.69],[105.64,18.69],[105.64,18.65]]]})";
  const std::vector<Endpoint> endpoints = {
      {"GET", "/collections/parcels/items", {}, "", true},
      {"GET", "/collections/parcels/items/16672.7.222", {}, "", true},
      {"GET", "/identify", {{"lon", "105.652"}, {"lat", "18.66"}}, "", true},
      {"GET", "/collections/addresses/items", {}, "", false},
      {"GET", "/collections", {}, "", false},
      {"GET", "/stats/land-use", {{"commune", "16681"}}, "", false},
      {"GET", "/stats/land-use", {{"commune", "16681"}, {"format", "csv"}}, "", false},
      {"POST", "/stats/land-use", {}, polygon, false},
      {"GET", "/search", {{"q", "12 Lê Lợi, Thành Vinh"}}, "", false},
      {"GET", "/search", {{"q", "thửa 222 tờ 7 Hưng Bình"}, {"format", "geocodejson"}}, "", false},
      {"GET", "/reverse", {{"lat", "18.66"}, {"lon", "105.652"}}, "", false},
      {"GET", "/lookup", {{"ids", "parcels:16672/7/222"}}, "", false},
      {"GET", "/autocomplete", {{"q", "Lê L"}}, "", false},
      {"GET", "/tiles/cadastral/18/208005/117237.mvt", {}, "", false},
      {"GET", "/tiles/cadastral/18/208005/117237.png", {}, "", false},
      {"GET", "/tiles/cadastral.json", {}, "", false},
      {"GET", "/export/addresses.csv", {}, "", false},
      {"GET", "/export/parcels.geojson", {}, "", true},
      {"GET", "/export/parcels.csv", {{"sheet_no", "7"}}, "", true},
  };
  std::size_t traced = 0;
  for (const auto& e : endpoints) {
    const Response anonymous = call(e.method, e.path, e.query, "", e.body);
    ASSERT_LT(anonymous.status, 300) << e.path << ": " << anonymous.body;
    const std::string public_body = body_of(anonymous);
    // The parcel's own answers name it (its tile carries its address): the walk looks at real data.
    if (e.path.ends_with(".mvt")) {
      EXPECT_NE(public_body.find("Số 12 Lê Lợi"), std::string::npos) << e.path;
    }
    EXPECT_EQ(public_body.find("Secret Owner"), std::string::npos) << e.path;
    EXPECT_EQ(public_body.find("Other Owner"), std::string::npos) << e.path;

    const Response keyed = call(e.method, e.path, e.query, kDepartmentKey, e.body);
    ASSERT_LT(keyed.status, 300) << e.path << ": " << keyed.body;
    const std::string keyed_body = body_of(keyed);
    const bool has_owner = keyed_body.find("Owner") != std::string::npos;
    EXPECT_EQ(has_owner, e.gives_owners) << e.path << ": " << keyed_body.substr(0, 300);
    if (e.gives_owners) ++traced;
  }
  // Every answer with owner names is in the audit log, with the key's name and the features' ids.
  const auto lines = audit_lines(dir / "audit.jsonl");
  ASSERT_EQ(lines.size(), traced);
  EXPECT_EQ(lines[0]["key"], "so-tnmt");
  EXPECT_EQ(lines[0]["endpoint"], "GET /collections/parcels/items");
  EXPECT_EQ(lines[0]["feature_ids"], (nlohmann::json{"16672.7.222", "16669.7.222"}));
  EXPECT_EQ(lines[1]["feature_ids"], (nlohmann::json{"16672.7.222"}));
  EXPECT_EQ(lines[2]["endpoint"], "GET /identify?lat=18.66&lon=105.652");
  EXPECT_EQ(lines[2]["feature_ids"], (nlohmann::json{"parcels:16672.7.222"}));
  EXPECT_FALSE(lines[0]["time"].get<std::string>().empty());
  EXPECT_EQ(lines[3]["endpoint"], "GET /export/parcels.geojson");
  EXPECT_EQ(lines[3]["feature_ids"], (nlohmann::json{"16672.7.222", "16669.7.222"}));
  EXPECT_EQ(lines[4]["endpoint"], "GET /export/parcels.csv?sheet_no=7");
  EXPECT_EQ(read_file(dir / "audit.jsonl").find(kDepartmentKey), std::string::npos) << "keys are never logged";
}

TEST_F(AccessApiTest, UnknownKeysAndAdminActions) {
  const Response wrong = call("GET", "/collections", {}, "not-a-key");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(call("GET", "/collections", {{"api_key", kDepartmentKey}}, "").status, 200) << "the key as a parameter";
  EXPECT_EQ(call("POST", "/admin/cache/purge", {}, "").status, 401);
  EXPECT_EQ(call("POST", "/admin/cache/purge", {}, kDepartmentKey).status, 403);
  const Response purged = call("POST", "/admin/cache/purge", {}, kAdminKey);
  EXPECT_EQ(purged.status, 200) << purged.body;
  EXPECT_EQ(call("POST", "/admin/reload", {}, kAdminKey).status, 200);
  EXPECT_EQ(call("POST", "/admin/nothing", {}, kAdminKey).status, 404);
}

TEST(AccessApi, RateLimitsAnswer429WithRetryAfter) {
  testing::TempDir dir;
  auto store = testing::make_small_province(dir / "p.sqlite");
  tiles::TileService tiles{*store};
  geocoder::Geocoder geocoder{*store};
  AccessConfig config;
  config.anonymous_rate = {0.5, 2};
  Access access(config);
  const Api api(Services{*store, tiles, geocoder, nullptr, &access});
  Request r;
  r.path = "/health";
  r.client = "192.0.2.7";
  EXPECT_EQ(api.handle(r).status, 200);
  EXPECT_EQ(api.handle(r).status, 200);
  const Response limited = api.handle(r);
  EXPECT_EQ(limited.status, 429);
  bool retry_after = false;
  for (const auto& [name, value] : limited.headers)
    retry_after = retry_after || (name == "Retry-After" && value == "2");
  EXPECT_TRUE(retry_after) << limited.body;
  EXPECT_NE(limited.body.find("rate_limited"), std::string::npos);
}

}  // namespace bandoso::http
