// The shared fixture set nghean-dev loaded by scripts/load-fixture through the real `bandoso`
// program, checked against the set's expected.json and bad_records.json: counts, and exactly the
// rejected and flagged records. Then the corrupt Shapefile is refused without touching the database.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "layers/core/store.hpp"
#include "support/csv.hpp"
#include "support/process.hpp"
#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string sha256_of(const fs::path& path) {
  const std::string bytes = read_bytes(path);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// "OBJECTID=682" and "fid=3497" as the fixture names records; the import reports the field's value.
std::string record_id(const std::string& id) {
  const auto at = id.find('=');
  return at == std::string::npos ? id : id.substr(at + 1);
}

using Issue = std::tuple<std::string, std::string, std::string>;  // layer (fixture's name), id, reason

// The set loaded once for every test of this file (it takes a few seconds).
struct LoadedFixture {
  TempDir dir;
  fs::path fixture, reference, db;
  CommandResult load;
  std::map<std::string, json> reports;  // by step: communes, streets, parcels_utf8, ...
};

const LoadedFixture& loaded(const fs::path& shared) {
  static const std::unique_ptr<LoadedFixture> instance = [&] {
    auto f = std::make_unique<LoadedFixture>();
    f->fixture = shared / "fixtures" / "nghean-dev";
    f->reference = shared / "reference" / "nghean";
    f->db = f->dir / "nghean-dev.sqlite";
    f->load = run_command({std::string(BANDOSO_SOURCE_DIR) + "/scripts/load-fixture", "--bandoso", BANDOSO_BINARY,
                           "--reports", (f->dir / "reports").string(), f->fixture.string(), f->reference.string(),
                           f->db.string()});
    if (f->load.exit_code == 0) {
      for (const auto& entry : fs::directory_iterator(f->dir / "reports")) {
        f->reports[entry.path().stem().string()] = json::parse(read_bytes(entry.path()));
      }
    }
    return f;
  }();
  return *instance;
}

class FixtureTest : public ::testing::Test {
 protected:
  static json read_json(const fs::path& file) { return json::parse(read_bytes(file)); }
};

#define BANDOSO_LOAD_FIXTURE(var)                                               \
  BANDOSO_REQUIRE_SHARED(shared);                                               \
  const LoadedFixture& var = loaded(shared);                                    \
  ASSERT_EQ(var.load.exit_code, 0) << "load-fixture failed:\n" << var.load.err; \
  ASSERT_EQ(var.reports.size(), 7U) << "one report per step expected"

TEST_F(FixtureTest, CountsAreExactlyTheExpectedOnes) {
  BANDOSO_LOAD_FIXTURE(f);
  const json expected = read_json(f.fixture / "expected.json");
  int checked = 0;
  for (const auto& [layer, counts] : expected["layers"].items()) {
    if (!f.reports.contains(layer)) continue;  // parcels_total, the corrupt file: below
    SCOPED_TRACE(layer);
    const json& report = f.reports.at(layer);
    const json read = counts.contains("features") ? counts["features"]
                      : counts.contains("rows")   ? counts["rows"]
                                                  : counts["records"];
    EXPECT_EQ(report["read"], read);
    EXPECT_EQ(report["imported"], counts["expected_imported"]);
    EXPECT_EQ(report["rejected"], counts.value("rejected", 0));
    EXPECT_EQ(report["flagged"], counts.value("flagged", 0));
    EXPECT_EQ(report["filtered"], 0);
    ++checked;
  }
  EXPECT_EQ(checked, 4);  // streets, addresses and the two parcel files
  EXPECT_EQ(f.reports.at("parcels_tm3_tcvn3")["encoding"], "tcvn3");
  EXPECT_EQ(f.reports.at("parcels_tm3_tcvn3")["mode"], "replace");
  EXPECT_EQ(f.reports.at("parcels_utf8")["mode"], "upsert");
  EXPECT_EQ(f.reports.at("parcels_tm3_tcvn3")["repaired"], 2);
  EXPECT_EQ(f.reports.at("parcels_utf8")["repaired"], 2);

  const auto store = layers::open_spatialite_store(f.db, layers::OpenMode::read_only);
  EXPECT_EQ(store->count("streets"), expected["layers"]["streets"]["expected_imported"]);
  EXPECT_EQ(store->count("addresses"), expected["layers"]["addresses"]["expected_imported"]);
  EXPECT_EQ(store->count("parcels"), expected["layers"]["parcels_total"]["expected_imported"]);
}

TEST_F(FixtureTest, RejectedAndFlaggedRecordsAreExactlyTheListedOnes) {
  BANDOSO_LOAD_FIXTURE(f);
  const json expected = read_json(f.fixture / "expected.json");
  const json bad = read_json(f.fixture / "bad_records.json");
  std::set<Issue> want_rejected, want_flagged;
  for (const auto& r : expected["rejected"]) want_rejected.insert({r["layer"], record_id(r["id"]), r["reason"]});
  for (const auto& r : expected["flagged"]) want_flagged.insert({r["layer"], record_id(r["id"]), r["reason"]});
  // Every deliberately bad record counts as listed, whether or not expected.json repeats it.
  int refused = 0;
  for (const auto& r : bad["records"]) {
    const Issue issue{r["layer"], record_id(r["id"]), r["reason_code"]};
    if (r["expected_status"] == "rejected") {
      want_rejected.insert(issue);
    } else if (r["expected_status"] == "kept_flagged") {
      want_flagged.insert(issue);
    } else {
      EXPECT_EQ(r["expected_status"], "refused");  // the corrupt file: its own test
      ++refused;
    }
  }
  EXPECT_EQ(refused, 1);

  std::set<Issue> rejected, flagged;
  for (const auto& [step, report] : f.reports) {
    for (const auto& r : report["records"]) {
      const Issue issue{step, r["source_id"], r["reason"]};
      if (r["action"] == "rejected") {
        rejected.insert(issue);
      } else {
        EXPECT_TRUE(r["action"] == "flagged" || r["action"] == "repaired") << r.dump();
        flagged.insert(issue);
      }
    }
  }
  EXPECT_EQ(rejected, want_rejected);
  EXPECT_EQ(flagged, want_flagged);
  EXPECT_EQ(want_rejected.size(), 7U);
  EXPECT_EQ(want_flagged.size(), 6U);
}

TEST_F(FixtureTest, ReferenceUnitsAndLandUseCatalogue) {
  BANDOSO_LOAD_FIXTURE(f);
  const auto store = layers::open_spatialite_store(f.db, layers::OpenMode::read_only);

  // The 130 units of 2025, with the codes of the official list.
  std::set<std::string> official_new;
  for (const auto& row : read_csv(f.reference / "nghean_units_2025_new.csv")) official_new.insert(row.at("code"));
  ASSERT_EQ(official_new.size(), 130U);
  const auto communes = *store->find_layer("communes");
  std::set<std::string> new_units;
  store->scan("communes", false, [&](const layers::Feature& feature) {
    new_units.insert(std::get<std::string>(feature.values.at(communes.attribute_index("code"))));
    return true;
  });
  EXPECT_EQ(new_units, official_new);
  EXPECT_EQ(f.reports.at("communes")["imported"], 130);
  EXPECT_EQ(f.reports.at("communes")["rejected"], 0);

  // All 412 old communes resolve to one of the 130 new units, and they are the official old list.
  std::set<std::string> official_old;
  for (const auto& row : read_csv(f.reference / "nghean_units_pre2025_old.csv")) {
    official_old.insert(row.at("commune_code"));
  }
  ASSERT_EQ(official_old.size(), 412U);
  const auto mapping = *store->find_layer("commune_mapping");
  std::set<std::string> old_units, successors;
  int unresolved = 0;
  store->scan("commune_mapping", false, [&](const layers::Feature& feature) {
    old_units.insert(std::get<std::string>(feature.values.at(mapping.attribute_index("old_code"))));
    const auto& new_code = std::get<std::string>(feature.values.at(mapping.attribute_index("new_code")));
    successors.insert(new_code);
    unresolved += new_units.contains(new_code) ? 0 : 1;
    return true;
  });
  EXPECT_EQ(old_units, official_old);
  EXPECT_EQ(unresolved, 0);
  EXPECT_EQ(successors, new_units);  // and every new unit has a predecessor
  EXPECT_EQ(f.reports.at("commune_mapping")["imported"], 412);
  EXPECT_EQ(f.reports.at("commune_mapping")["rejected"], 0);
  EXPECT_EQ(f.reports.at("commune_mapping")["notes"].size(), 0U);  // the communes were there to check against

  // One catalogue row per (code, era): the 2024 set reuses codes with new names, and both stay.
  std::set<std::pair<std::string, std::string>> codes;
  for (const auto& row : read_csv(f.reference / "cadastral/land_use_codes.csv"))
    codes.emplace(row.at("code"), row.at("era"));
  EXPECT_EQ(store->count("land_use_codes"), static_cast<std::int64_t>(codes.size()));
  EXPECT_EQ(f.reports.at("land_use_codes")["rejected"], 0);
  EXPECT_EQ(f.reports.at("parcels_tm3_tcvn3")["notes"].size(), 0U);
}

TEST_F(FixtureTest, StoreHoldsTheExpectedCountsPerCommune) {
  BANDOSO_LOAD_FIXTURE(f);
  const json expected = read_json(f.fixture / "expected.json");
  const auto store = layers::open_spatialite_store(f.db, layers::OpenMode::read_only);
  auto count_by = [&](const std::string& layer, const std::string& attribute) {
    const auto def = *store->find_layer(layer);
    std::map<std::string, std::int64_t> counts;
    store->scan(layer, false, [&](const layers::Feature& feature) {
      ++counts[std::get<std::string>(feature.values.at(def.attribute_index(attribute)))];
      return true;
    });
    return counts;
  };
  // Counts of what a correct import keeps (DA006863 is not counted).
  const auto addresses = count_by("addresses", "commune_code");
  const auto streets = count_by("streets", "commune_code");
  std::size_t communes = 0;
  for (const auto& [code, commune] : expected["per_commune"].items()) {
    SCOPED_TRACE(code);
    EXPECT_EQ(addresses.contains(code) ? addresses.at(code) : 0, commune["addresses"]);
    EXPECT_EQ(streets.contains(code) ? streets.at(code) : 0, commune["streets"]);
    ++communes;
  }
  EXPECT_EQ(communes, addresses.size());
  EXPECT_EQ(communes, streets.size());
  std::map<std::string, std::int64_t> parcels_by_old;
  for (const char* file : {"parcels_tm3_tcvn3", "parcels_utf8"}) {
    for (const auto& [code, n] : expected["layers"][file]["by_old_commune"].items())
      parcels_by_old[code] += n.get<std::int64_t>();
  }
  EXPECT_EQ(count_by("parcels", "old_commune_code"), parcels_by_old);
}

// UTM 48N instead of the file's TM-3 104°45′ moves every lot 26 km east, into the sea: inside the
// province's box but outside its communes. The file is refused with the likely cause.
TEST_F(FixtureTest, FileReadWithTheWrongMeridianIsRefusedWithTheLikelyCause) {
  BANDOSO_LOAD_FIXTURE(f);
  const std::string before = sha256_of(f.db);
  const fs::path shp = f.fixture / "parcels_tm3_tcvn3.shp";
  const auto r = run_command({BANDOSO_BINARY, "import", "--db", f.db.string(), "--layer", "parcels", "--mapping",
                              std::string(BANDOSO_SOURCE_DIR) + "/data-import/presets/famis_parcels.yaml",
                              "--source-crs", "EPSG:3405", shp.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("9932 of 9932 features lie outside Nghệ An"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("they fit VN-2000 / TM-3 104°45′ (EPSG:9208, Nghệ An)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("wrong zone or central meridian"), std::string::npos) << r.err;
  EXPECT_EQ(sha256_of(f.db), before);
}

// Last: it must leave the loaded database exactly as it was.
TEST_F(FixtureTest, CorruptShapefileIsRefusedAndTheDatabaseIsUnchanged) {
  BANDOSO_LOAD_FIXTURE(f);
  const std::string before = sha256_of(f.db);
  const fs::path corrupt = f.fixture / "corrupt" / "parcels_truncated.shp";
  for (const std::string mode : {"replace", "upsert"}) {
    SCOPED_TRACE(mode);
    const auto r = run_command({BANDOSO_BINARY, "import", "--db", f.db.string(), "--layer", "parcels", "--mapping",
                                std::string(BANDOSO_SOURCE_DIR) + "/data-import/presets/famis_parcels.yaml", "--mode",
                                mode, corrupt.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.err.starts_with("bandoso: error: " + corrupt.string() + ": cannot read feature ")) << r.err;
    EXPECT_NE(r.err.find("damaged; nothing was imported"), std::string::npos) << r.err;
    EXPECT_EQ(sha256_of(f.db), before);
    EXPECT_FALSE(fs::exists(f.db.string() + "-wal") && fs::file_size(f.db.string() + "-wal") > 0);
  }
  const auto store = layers::open_spatialite_store(f.db, layers::OpenMode::read_only);
  EXPECT_EQ(store->count("parcels"), 19663);
}

}  // namespace
}  // namespace bandoso::testing
