// The planners' API over the dev fixture nghean-dev, loaded by scripts/load-fixture into a temporary
// database (issue 6, "Done when"):
//  - an OGC API client, GDAL's OAPIF driver (`ogrinfo OAPIF:http://...`), lists every layer of the store
//    and reads every collection whole — the large ones page by page through the next links — with the
//    store's feature count and exactly the store's feature ids; no owner name appears in what it reads;
//  - /identify answers the right parcel for 50 random parcels' interior points (GEOS PointOnSurface).
// BANDOSO_FEATURES_DB=<a loaded database> skips the load (for quick iterations).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "features/collections.hpp"
#include "geocoder/geocoder.hpp"
#include "http/api.hpp"
#include "layers/core/geos_context.hpp"
#include "layers/core/store.hpp"
#include "support/dev_fixture.hpp"
#include "support/process.hpp"
#include "support/shared_data.hpp"
#include "tileserver/tile_service.hpp"

namespace bandoso::features {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string bandoso_binary() {
  const char* bin = std::getenv("BANDOSO");
  return bin != nullptr && *bin != '\0' ? std::string(bin) : std::string(BANDOSO_BINARY);
}

// What ogrinfo printed of one layer read with -al: the features it read, by the id field GDAL exposes.
struct ReadLayer {
  std::int64_t features = 0;     // "OGRFeature(layer):N" lines
  std::vector<std::string> ids;  // the "id (String) = ..." values, in order
};

ReadLayer parse_ogrinfo_features(const std::string& out, const std::string& layer) {
  ReadLayer read;
  const std::string feature_prefix = "OGRFeature(" + layer + "):";
  const std::string id_prefix = "  id (String) = ";
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(feature_prefix, 0) == 0) {
      read.features += 1;
    } else if (line.rfind(id_prefix, 0) == 0) {
      read.ids.push_back(line.substr(id_prefix.size()));
    }
  }
  return read;
}

// The layer names of `ogrinfo -so DATASOURCE`: lines "N: name (title: ...) (Geometry)".
std::set<std::string> listed_layers(const std::string& out) {
  std::set<std::string> names;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos || colon == 0) continue;
    if (!std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                     [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const std::size_t start = colon + 2;
    const std::size_t end = line.find(' ', start);
    names.insert(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return names;
}

TEST(FixtureFeatures, GdalOapifListsAndReadsEveryCollectionWithoutOwnerNames) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_FEATURES_DB");
  const auto started = Clock::now();
  testing::ServerProcess server({bandoso_binary(), "serve", "--db", fixture.db.string(), "--port", "0", "--no-cache"});
  ASSERT_GT(server.port(), 0) << server.first_line();
  const std::string datasource = fmt::format("OAPIF:http://localhost:{}", server.port());

  // Every layer of the store is a collection GDAL lists.
  const auto listing = testing::run_command({"/usr/bin/ogrinfo", "-ro", "-so", datasource});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  std::set<std::string> expected_layers;
  for (const auto& def : store->layers()) expected_layers.insert(def.name);
  ASSERT_FALSE(expected_layers.empty());
  EXPECT_EQ(listed_layers(listing.out), expected_layers) << listing.out;

  // A few real owner names, to look for in everything GDAL reads.
  const auto parcels = store->find_layer("parcels");
  ASSERT_TRUE(parcels) << "the fixture has parcels";
  const std::size_t owner_at = parcels->attribute_index("owner_name");
  ASSERT_LT(owner_at, parcels->attributes.size());
  ASSERT_EQ(parcels->attributes[owner_at].access, layers::Access::restricted);
  std::vector<std::string> owners;
  store->scan("parcels", false, [&](const layers::Feature& f) {
    if (const auto* s = std::get_if<std::string>(&f.values[owner_at]); s != nullptr && !s->empty())
      owners.push_back(*s);
    return true;
  });
  ASSERT_GE(owners.size(), 30u) << "the fixture's parcels have owner names";
  std::vector<std::string> sampled;
  std::sample(owners.begin(), owners.end(), std::back_inserter(sampled), 30, std::mt19937(20250701));
  std::vector<std::string> outputs = {listing.out};

  // Every collection read whole, the way a client reads it (GDAL's default page size, next links).
  for (const auto& def : store->layers()) {
    const auto layer_started = Clock::now();
    const auto read = testing::run_command({"/usr/bin/ogrinfo", "-ro", "-al", "-q", datasource, def.name});
    const double took = seconds_since(layer_started);
    ASSERT_EQ(read.exit_code, 0) << def.name << ": " << read.err;
    EXPECT_EQ(read.err.find("ERROR"), std::string::npos) << def.name << ": " << read.err;
    const ReadLayer got = parse_ogrinfo_features(read.out, def.name);
    const std::int64_t count = store->count(def.name);
    EXPECT_EQ(got.features, count) << def.name;

    // Exactly the store's features: each once (no page skipped or read twice).
    std::multiset<std::string> expected_ids;
    store->scan(def.name, false, [&](const layers::Feature& f) {
      expected_ids.insert(feature_id(def, f));
      return true;
    });
    const std::multiset<std::string> got_ids(got.ids.begin(), got.ids.end());
    EXPECT_EQ(got_ids.size(), expected_ids.size()) << def.name;
    EXPECT_TRUE(got_ids == expected_ids) << def.name << ": the ids GDAL read differ from the store's";
    std::cout << fmt::format("[ogrinfo] {:<16} {:>6} features read, store {:>6}, {:.2f} s\n", def.name, got.features,
                             count, took);
    outputs.push_back(read.out);
  }

  // No owner name, nor the restricted attribute itself, anywhere in what GDAL read.
  for (const auto& out : outputs) {
    EXPECT_EQ(out.find("owner_name"), std::string::npos);
  }
  int leaked = 0;
  for (const auto& name : sampled) {
    const bool seen = std::any_of(outputs.begin(), outputs.end(),
                                  [&](const std::string& out) { return out.find(name) != std::string::npos; });
    // A name also written in a public attribute (e.g. a street named after a person) is no leak.
    if (seen && !testing::in_public_text(*store, name)) {
      leaked += 1;
      ADD_FAILURE() << "owner name '" << name << "' appears in ogrinfo's output";
    }
  }
  EXPECT_EQ(leaked, 0);
  EXPECT_EQ(server.stop(), 0);
  std::cout << fmt::format("[ogrinfo] {} collections listed and read, {} owner names checked, {:.1f} s in all\n",
                           expected_layers.size(), sampled.size(), seconds_since(started));
}

TEST(FixtureFeatures, IdentifyAnswersTheRightParcelForFiftyRandomInteriorPoints) {
  BANDOSO_OPEN_DEV_FIXTURE(store, "BANDOSO_FEATURES_DB");
  const auto started = Clock::now();
  geocoder::Geocoder geocoder(*store);
  tiles::TileService tiles(*store);
  const http::Api api(http::Services{*store, tiles, geocoder});
  const auto parcels = store->find_layer("parcels");
  ASSERT_TRUE(parcels) << "the fixture has parcels";

  std::vector<layers::Feature> all;
  store->scan("parcels", true, [&](const layers::Feature& f) {
    all.push_back(f);
    return true;
  });
  ASSERT_GE(all.size(), 50u);
  std::vector<layers::Feature> picked;
  std::sample(all.begin(), all.end(), std::back_inserter(picked), 50, std::mt19937(6));

  layers::GeosContext geos;
  GEOSContextHandle_t h = geos.get();
  GEOSWKBReader* reader = GEOSWKBReader_create_r(h);
  int right = 0;
  double slowest_ms = 0;
  for (const auto& parcel : picked) {
    const std::string id = feature_id(*parcels, parcel);
    GEOSGeometry* g =
        GEOSWKBReader_read_r(h, reader, reinterpret_cast<const unsigned char*>(parcel.wkb.data()), parcel.wkb.size());
    ASSERT_NE(g, nullptr) << id;
    GEOSGeometry* inside = GEOSPointOnSurface_r(h, g);
    ASSERT_NE(inside, nullptr) << id;
    double lon = 0, lat = 0;
    ASSERT_EQ(GEOSGeomGetX_r(h, inside, &lon), 1);
    ASSERT_EQ(GEOSGeomGetY_r(h, inside, &lat), 1);
    GEOSGeom_destroy_r(h, inside);
    GEOSGeom_destroy_r(h, g);

    http::Request request;
    request.path = "/identify";
    request.query = {{"lon", fmt::format("{}", lon)}, {"lat", fmt::format("{}", lat)}};
    const auto asked = Clock::now();
    const http::Response response = api.handle(request);
    slowest_ms = std::max(slowest_ms, seconds_since(asked) * 1000);
    ASSERT_EQ(response.status, 200) << response.body;
    const auto body = nlohmann::json::parse(http::body_of(response));
    const auto& answered = body.at("parcel");
    const std::string got = answered.is_object() ? answered.at("id").get<std::string>() : "(none)";
    EXPECT_EQ(got, id) << fmt::format("identify at ({}, {})", lon, lat);
    if (answered.is_object()) {
      EXPECT_FALSE(answered.at("properties").contains("owner_name")) << got;
    }
    right += got == id ? 1 : 0;
  }
  GEOSWKBReader_destroy_r(h, reader);
  EXPECT_EQ(right, 50);
  std::cout << fmt::format("[identify] {}/50 right parcels (of {}), slowest {:.1f} ms, {:.1f} s in all\n", right,
                           all.size(), slowest_ms, seconds_since(started));
}

}  // namespace
}  // namespace bandoso::features
