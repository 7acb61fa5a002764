// The map pages in a real headless Chromium (issue 7, "Done when"): Debian's chromium driven by
// playwright-core from npm (tests/browser/package-lock.json), against `bandoso serve` over the dev fixture
// nghean-dev loaded with scripts/load-fixture. Each TEST runs one named check of tests/browser/run.mjs:
//  - viewer:           the viewer loads with no console or page errors and draws non-blank map pixels;
//  - viewer_controls:  layers, language, scale bar, URL hash, embed dialog, a phone-sized viewport;
//  - search:           typing a fixture address shows suggestions; picking one flies the map there;
//  - parcel_popup:     a click on a parcel shows "Tờ S, thửa P" in its popup and never the owner's name;
//  - embed:            /embed renders with tiles and its marker inside an iframe of another origin's page;
//  - citizen:          /a/{code} shows the address card; its QR code (zbarimg) decodes to the page URL;
//  - citizen_not_found: a code with a wrong check digit shows the hint and the suggested codes;
//  - geocoder_client:  leaflet-control-geocoder's Nominatim geocoder, pointed at /search, finds the address.
// The facts the checks need (an address, a parcel's interior point and its owner) are read here from the
// store and the geocoder and handed to node as a JSON file. Screenshots go to the artifacts directory
// (build/<config>/tests/browser/artifacts). BANDOSO_BROWSER_DB=<a loaded database> skips the load.

#include <geos_c.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "geocoder/geocoder.hpp"
#include "layers/core/digital_code.hpp"
#include "layers/core/geos_context.hpp"
#include "layers/core/store.hpp"
#include "support/dev_fixture.hpp"
#include "support/process.hpp"
#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::browser {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const fs::path kBrowserDir = fs::path(BANDOSO_SOURCE_DIR) / "tests" / "browser";
const fs::path kArtifacts = BANDOSO_BROWSER_ARTIFACTS;
constexpr const char* kNode = "/usr/bin/node";
constexpr const char* kChromium = "/usr/bin/chromium";

std::string bandoso_binary() {
  const char* bin = std::getenv("BANDOSO");
  return bin != nullptr && *bin != '\0' ? std::string(bin) : std::string(BANDOSO_BINARY);
}

std::string text_of(const layers::Feature& f, std::size_t at) {
  const auto* s = std::get_if<std::string>(&f.values[at]);
  return s != nullptr ? *s : std::string();
}

std::int64_t integer_of(const layers::Feature& f, std::size_t at) {
  const auto* i = std::get_if<std::int64_t>(&f.values[at]);
  return i != nullptr ? *i : -1;
}

// An address of a dense ward whose "house street, commune" text the geocoder answers with it first, both
// as one types (autocomplete) and as a search: the checks can then expect exactly that address.
nlohmann::json pick_address(const layers::Store& store, geocoder::Geocoder& geocoder, std::string& error) {
  const auto def = store.find_layer("addresses");
  if (!def) {
    error = "the fixture has no addresses";
    return {};
  }
  const std::size_t id_at = def->attribute_index("id");
  const std::size_t commune_at = def->attribute_index("commune_code");
  const std::size_t house_at = def->attribute_index("house_number");
  const std::size_t street_at = def->attribute_index("street");
  const std::size_t lane_at = def->attribute_index("lane");
  std::vector<std::string> candidates;
  store.scan("addresses", false, [&](const layers::Feature& f) {
    if (text_of(f, commune_at) == "16681" && !text_of(f, house_at).empty() && !text_of(f, street_at).empty() &&
        text_of(f, lane_at).empty())
      candidates.push_back(text_of(f, id_at));
    return candidates.size() < 400;
  });
  // Spread over the ward rather than the first street.
  for (std::size_t i = 0; i < candidates.size(); i += 7) {
    const auto place = geocoder.lookup("addresses:" + candidates[i]);
    if (!place || place->digital_code.empty()) continue;
    const std::string text = fmt::format("{}, {}", place->name, place->admin.commune);
    const auto suggested = geocoder.autocomplete(text, 10);
    const auto found = geocoder.search(text, {});
    if (suggested.empty() || suggested.front().id != place->id || found.places.empty() ||
        found.places.front().id != place->id)
      continue;
    return {{"id", place->id},
            {"text", text},
            {"name", place->name},
            {"display_name", place->display_name},
            {"house_number", place->address.count("house_number") ? place->address.at("house_number") : ""},
            {"street", place->address.count("road") ? place->address.at("road") : ""},
            {"commune", place->admin.commune},
            {"former_commune", place->admin.former_commune},
            {"digital_code", place->digital_code},
            {"plus_code", place->plus_code},
            {"lon", place->lon},
            {"lat", place->lat}};
  }
  error = "no address of 16681 that autocomplete and search answer first";
  return {};
}

// A parcel (in the order of the store, every 13th) with an owner whose name is in no public text, and a point well
// inside it (GEOS PointOnSurface, at least ~3 m from its boundary, so that a click on it cannot land on a neighbour).
nlohmann::json pick_parcel(const layers::Store& store, std::string& error) {
  const auto def = store.find_layer("parcels");
  if (!def) {
    error = "the fixture has no parcels";
    return {};
  }
  const std::size_t owner_at = def->attribute_index("owner_name");
  const std::size_t sheet_at = def->attribute_index("sheet_no");
  const std::size_t parcel_at = def->attribute_index("parcel_no");
  const std::size_t land_use_at = def->attribute_index("land_use");
  const std::size_t old_commune_at = def->attribute_index("old_commune_code");
  layers::GeosContext geos;
  GEOSContextHandle_t h = geos.get();
  GEOSWKBReader* reader = GEOSWKBReader_create_r(h);
  nlohmann::json picked;
  int tried = 0;
  store.scan("parcels", true, [&](const layers::Feature& f) {
    const std::string owner = text_of(f, owner_at);
    if (owner.size() < 8 || text_of(f, land_use_at).empty()) return true;
    if (++tried % 13 != 0) return true;  // spread over the ward
    GEOSGeometry* g =
        GEOSWKBReader_read_r(h, reader, reinterpret_cast<const unsigned char*>(f.wkb.data()), f.wkb.size());
    if (g == nullptr) return true;
    GEOSGeometry* inside = GEOSPointOnSurface_r(h, g);
    GEOSGeometry* boundary = GEOSBoundary_r(h, g);
    double lon = 0, lat = 0, margin = 0;
    const bool ok = inside != nullptr && boundary != nullptr && GEOSGeomGetX_r(h, inside, &lon) == 1 &&
                    GEOSGeomGetY_r(h, inside, &lat) == 1 && GEOSDistance_r(h, inside, boundary, &margin) == 1;
    if (inside != nullptr) GEOSGeom_destroy_r(h, inside);
    if (boundary != nullptr) GEOSGeom_destroy_r(h, boundary);
    GEOSGeom_destroy_r(h, g);
    if (!ok || margin < 3e-5 || testing::in_public_text(store, owner)) return true;
    picked = {
        {"id", fmt::format("{}/{}/{}", text_of(f, old_commune_at), integer_of(f, sheet_at), integer_of(f, parcel_at))},
        {"sheet_no", integer_of(f, sheet_at)},
        {"parcel_no", integer_of(f, parcel_at)},
        {"land_use", text_of(f, land_use_at)},
        {"owner_name", owner},
        {"lon", lon},
        {"lat", lat}};
    return false;
  });
  GEOSWKBReader_destroy_r(h, reader);
  if (picked.is_null()) error = "no parcel with an owner and a roomy interior point";
  return picked;
}

// A valid code with its last digit changed (so the check digit is wrong), and what the geocoder says.
nlohmann::json wrong_code(geocoder::Geocoder& geocoder, const std::string& code) {
  std::string wrong = code;
  for (char d = '0'; d <= '9'; ++d) {
    wrong.back() = d;
    if (wrong == code) continue;
    const auto answer = geocoder.search(wrong, {});
    if (!answer.message.empty() && !answer.suggestions.empty())
      return {{"code", wrong}, {"message", answer.message}, {"suggestions", answer.suggestions}};
  }
  return {{"code", wrong}, {"message", ""}, {"suggestions", nlohmann::json::array()}};
}

// A well-formed code (a right check digit) that no address has.
std::string unknown_code(geocoder::Geocoder& geocoder, const std::string& code) {
  for (char d = '0'; d <= '9'; ++d) {
    std::string digits = code.substr(0, 9);
    digits[8] = d;
    const std::string candidate = digits + layers::damm_check_digit(digits);
    if (candidate == code || !layers::is_valid_digital_code(candidate)) continue;
    const auto answer = geocoder.search(candidate, {});
    bool known = false;
    for (const auto& place : answer.places) known = known || place.digital_code == candidate;
    if (!known) return candidate;
  }
  return {};
}

// Everything the checks share in one test program: the fixture, the facts, the server.
struct Session {
  testing::TempDir dir;
  std::string error;
  fs::path facts_file;
  std::unique_ptr<testing::ServerProcess> server;
};

Session& session(const fs::path& shared) {
  static const std::unique_ptr<Session> s = [&] {
    auto owned = std::make_unique<Session>();
    Session& made = *owned;
    const auto started = Clock::now();
    const testing::LoadedFixture& fixture = testing::load_dev_fixture(shared, "BANDOSO_BROWSER_DB");
    if (!fixture.error.empty()) {
      made.error = "load-fixture failed:\n" + fixture.error;
      return owned;
    }
    nlohmann::json facts;
    {
      const auto store = layers::open_spatialite_store(fixture.db, layers::OpenMode::read_only);
      geocoder::Geocoder geocoder(*store);
      facts["address"] = pick_address(*store, geocoder, made.error);
      if (!made.error.empty()) return owned;
      facts["parcel"] = pick_parcel(*store, made.error);
      if (!made.error.empty()) return owned;
      const std::string code = facts["address"]["digital_code"].get<std::string>();
      facts["wrong_code"] = wrong_code(geocoder, code);
      facts["unknown_code"] = unknown_code(geocoder, code);
    }
    made.server = std::make_unique<testing::ServerProcess>(
        std::vector<std::string>{bandoso_binary(), "serve", "--db", fixture.db.string(), "--port", "0"});
    facts["base"] = fmt::format("http://localhost:{}", made.server->port());
    facts["port"] = made.server->port();
    facts["artifacts"] = kArtifacts.string();
    facts["chromium"] = kChromium;
    fs::create_directories(kArtifacts);
    made.facts_file = made.dir / "facts.json";
    std::ofstream(made.facts_file) << facts.dump(2) << '\n';
    std::cout << fmt::format("[browser] address {} \"{}\" ({}), parcel {} (tờ {}, thửa {})\n",
                             facts["address"]["id"].get<std::string>(), facts["address"]["text"].get<std::string>(),
                             facts["address"]["digital_code"].get<std::string>(),
                             facts["parcel"]["id"].get<std::string>(), facts["parcel"]["sheet_no"].get<std::int64_t>(),
                             facts["parcel"]["parcel_no"].get<std::int64_t>());
    std::cout << fmt::format("[browser] fixture and server ready in {:.1f} s: {}; artifacts in {}\n",
                             std::chrono::duration<double>(Clock::now() - started).count(),
                             facts["base"].get<std::string>(), kArtifacts.string());
    return owned;
  }();
  return *s;
}

// Runs one check of run.mjs in node; its output is shown when it fails.
#define RUN_CHECK(check)                                                                                               \
  BANDOSO_REQUIRE_SHARED(shared);                                                                                      \
  ASSERT_TRUE(fs::is_directory(kBrowserDir / "node_modules" / "playwright-core"))                                      \
      << kBrowserDir / "node_modules"                                                                                  \
      << " is missing: run `npm ci --prefix tests/browser` (make test does)";                                          \
  ASSERT_EQ(access(kChromium, X_OK), 0) << kChromium                                                                   \
                                        << " is missing (Debian package chromium; make test installs it)";             \
  Session& s = session(shared);                                                                                        \
  ASSERT_TRUE(s.error.empty()) << s.error;                                                                             \
  const auto started = Clock::now();                                                                                   \
  const auto result = testing::run_command({kNode, (kBrowserDir / "run.mjs").string(), check, s.facts_file.string()}); \
  const double took = std::chrono::duration<double>(Clock::now() - started).count();                                   \
  std::cout << result.out << fmt::format("[browser] {}: {:.1f} s\n", check, took);                                     \
  EXPECT_EQ(result.exit_code, 0) << "node run.mjs " << check << " failed:\n" << result.out << result.err

TEST(Browser, ViewerLoadsWithoutConsoleErrorsAndDrawsTheMap) { RUN_CHECK("viewer"); }

TEST(Browser, ViewerControlsLayersLanguageHashScaleAndEmbedDialog) { RUN_CHECK("viewer_controls"); }

TEST(Browser, TypingAnAddressShowsSuggestionsAndPickingOneMovesTheMap) { RUN_CHECK("search"); }

TEST(Browser, ClickingAParcelShowsItsSheetAndNumberAndNoOwnerName) { RUN_CHECK("parcel_popup"); }

TEST(Browser, EmbedPageRendersInAnIframe) { RUN_CHECK("embed"); }

TEST(Browser, CitizenPageShowsTheCardAndItsQrCodeDecodesToThePageUrl) { RUN_CHECK("citizen"); }

TEST(Browser, CitizenPageForAWrongCodeShowsTheHintAndSuggestions) { RUN_CHECK("citizen_not_found"); }

TEST(Browser, LeafletControlGeocoderNominatimClientFindsAnAddress) { RUN_CHECK("geocoder_client"); }

}  // namespace
}  // namespace bandoso::browser
