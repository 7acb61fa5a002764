// The `make run` path at a small scale: `bandoso demo` writes the province in departments' formats,
// scripts/import-demo loads it through `bandoso import`, `bandoso serve` answers for it.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/png.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::testing {

namespace {
// "        communes        18" lines of `bandoso demo`.
std::map<std::string, std::int64_t> parse_counts(const std::string& out) {
  std::map<std::string, std::int64_t> counts;
  std::istringstream lines(out);
  std::string name;
  std::int64_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    if (words >> name >> count && name != "total") counts[name] = count;
  }
  return counts;
}
}  // namespace

TEST(DemoE2E, GeneratedProvinceImportsAndServes) {
  TempDir dir;
  const std::string demo = (dir / "demo").string(), db = (dir / "demo.sqlite").string();
  const auto generated = run_command({BANDOSO_BINARY, "demo", "--out", demo, "--scale", "0.05", "--seed", "7"});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const auto written = parse_counts(generated.out);
  ASSERT_EQ(written.size(), 8u) << generated.out;

  const auto imported =
      run_command({"/bin/bash", std::string(BANDOSO_SOURCE_DIR) + "/scripts/import-demo", BANDOSO_BINARY, demo, db});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;

  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  const auto health = nlohmann::json::parse(http_get(server.port(), "/health").body);
  for (const auto& [layer, count] : written) {
    EXPECT_EQ(health["layers"][layer], count) << layer << ": every generated feature is imported";
  }
  const auto bbox = health["bbox"].get<std::vector<double>>();
  ASSERT_EQ(bbox.size(), 4u);
  EXPECT_GE(bbox[0], 103.8);
  EXPECT_GE(bbox[1], 18.5);
  EXPECT_LE(bbox[2], 106.0);
  EXPECT_LE(bbox[3], 20.1);

  // Vinh is in every demo province: its tile at z12 has paint.
  const HttpResponse tile = http_get(server.port(), "/tiles/communes/12/3250/1831.png");
  ASSERT_EQ(tile.status, 200);
  EXPECT_GT(decode_png(tile.body).painted_pixels(), 1000u);
  const HttpResponse parcels = http_get(server.port(), "/tiles/parcels/12/3250/1831.png");
  EXPECT_EQ(parcels.status, 200);

  const HttpResponse search = http_get(server.port(), "/search?q=thanh%20vinh");
  ASSERT_EQ(search.status, 200);
  const auto results = nlohmann::json::parse(search.body);
  ASSERT_FALSE(results.empty()) << search.body;
  EXPECT_EQ(results[0]["display_name"], "Phường Thành Vinh, Nghệ An");
  EXPECT_EQ(server.stop(), 0);
}

TEST(DemoE2E, SameSeedSameFiles) {
  TempDir dir;
  const auto a = run_command({BANDOSO_BINARY, "demo", "--out", (dir / "a").string(), "--scale", "0.02", "--seed", "3"});
  const auto b = run_command({BANDOSO_BINARY, "demo", "--out", (dir / "b").string(), "--scale", "0.02", "--seed", "3"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto cmp = run_command({"/usr/bin/cmp", (dir / "a/dia_chi.csv").string(), (dir / "b/dia_chi.csv").string()});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out;
}

}  // namespace bandoso::testing
