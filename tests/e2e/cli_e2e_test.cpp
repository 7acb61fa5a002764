// The `bandoso` program's contract: help for every command, exit codes 0/1/2, and one clear error
// line on stderr naming the file, record or key at fault.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"
#include "support/schema_version.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::testing {

namespace {

// A database with one commune "Xã A" (code `code`) near Vinh, imported through the program.
void import_one_commune(const TempDir& dir, const std::string& db, const std::string& code) {
  std::ofstream(dir / "c.geojson")
      << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":")" << code
      << R"(","name":"A","type":"Xã","full_name":"Xã A"},)"
         R"("geometry":{"type":"Polygon","coordinates":[[[105.6,18.6],[105.7,18.6],[105.7,18.7],[105.6,18.6]]]}}]})";
  ASSERT_EQ(run_command({BANDOSO_BINARY, "import", "--db", db, "--layer", "communes", (dir / "c.geojson").string()})
                .exit_code,
            0);
}

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST(CliE2E, HelpExplainsEveryCommand) {
  const auto top = run_command({BANDOSO_BINARY, "--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"demo", "import", "serve", "seed", "geocode", "check-config", "hash-key"}) {
    EXPECT_NE(top.out.find(command), std::string::npos) << command;
    const auto help = run_command({BANDOSO_BINARY, command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("--"), std::string::npos) << command << " lists its flags";
  }
}

TEST(CliE2E, UsageErrorsExit1) {
  const auto none = run_command({BANDOSO_BINARY});
  EXPECT_EQ(none.exit_code, 1);
  const auto unknown = run_command({BANDOSO_BINARY, "import", "--db", "x.sqlite", "--layer", "communes", "--wat", "f"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(count_lines(unknown.err), 1) << unknown.err;
}

TEST(CliE2E, HashKeyMakesAKeyAndServeRefusesABadAccessFile) {
  const auto made = run_command({BANDOSO_BINARY, "hash-key"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::size_t key_at = made.out.find("key:    "), hash_at = made.out.find("sha256: ");
  ASSERT_NE(key_at, std::string::npos) << made.out;
  ASSERT_NE(hash_at, std::string::npos) << made.out;
  EXPECT_EQ(made.out.substr(key_at + 8, 48).size(), 48U);
  const auto given = run_command({BANDOSO_BINARY, "hash-key", "abc"});
  EXPECT_NE(given.out.find("sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            std::string::npos)
      << given.out;

  TempDir dir;
  const std::string db = (dir / "a.sqlite").string();
  import_one_commune(dir, db, "16681");
  std::ofstream(dir / "access.yaml") << "keys:\n  - {name: so-tnmt, role: chief, sha256: "
                                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad}\n"
                                        "audit_log: audit.jsonl\n";
  const auto r =
      run_command({BANDOSO_BINARY, "serve", "--db", db, "--port", "0", "--access", (dir / "access.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("access.yaml: keys[0].role: 'chief' is not one of public, department, admin"), std::string::npos)
      << r.err;
}

TEST(CliE2E, CheckConfigAcceptsTheBuiltInLayers) {
  const auto r = run_command({BANDOSO_BINARY, "check-config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok: 8 layer definitions"), std::string::npos) << r.out;
}

TEST(CliE2E, UnknownLayerKeyIsOneLineNamingFileAndKey) {
  TempDir dir;
  std::ofstream(dir / "schools.yaml") << "name: schools\ntitle: Trường học\ngeometry: point\nkey: [id]\ncolor: red\n"
                                         "attributes: [{name: id, type: text, required: true}]\n";
  const auto r = run_command({BANDOSO_BINARY, "check-config", "--layers-dir", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find((dir / "schools.yaml").string() + ": color: unknown key"), std::string::npos) << r.err;
}

TEST(CliE2E, MissingSourceFileIsOneLineNamingIt) {
  TempDir dir;
  const auto r = run_command({BANDOSO_BINARY, "import", "--db", (dir / "d.sqlite").string(), "--layer", "communes",
                              (dir / "nowhere.geojson").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("nowhere.geojson"), std::string::npos) << r.err;
}

TEST(CliE2E, DatabaseOfAnotherSchemaVersionIsRefused) {
  TempDir dir;
  const std::string db = (dir / "old.sqlite").string();
  import_one_commune(dir, db, "1");
  ASSERT_TRUE(set_schema_version(db, 7));
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{BANDOSO_BINARY, "serve", "--db", db, "--port", "0"},
        std::vector<std::string>{BANDOSO_BINARY, "geocode", "--db", db, "Xã A"}}) {
    const auto r = run_command(argv);
    EXPECT_NE(r.exit_code, 0) << argv[1];
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("schema version 7, this bandoso needs version 2"), std::string::npos) << r.err;
  }
}

TEST(CliE2E, UnknownLayerIsOneLine) {
  TempDir dir;
  const auto r =
      run_command({BANDOSO_BINARY, "import", "--db", (dir / "d.sqlite").string(), "--layer", "roads", "x.geojson"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown layer 'roads'"), std::string::npos) << r.err;
}

TEST(CliE2E, SeedFillsTheCacheThatServeReadsAndRefusesBadArguments) {
  TempDir dir;
  const std::string db = (dir / "s.sqlite").string();
  import_one_commune(dir, db, "16681");
  const auto seeded = run_command({BANDOSO_BINARY, "seed", "--db", db, "--tileset", "communes", "--zoom", "10-12",
                                   "--commune", "16681", "--threads", "1"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  EXPECT_NE(seeded.out.find("seeded "), std::string::npos) << seeded.out;
  EXPECT_NE(seeded.out.find("tiles/s"), std::string::npos) << seeded.out;
  EXPECT_TRUE(std::filesystem::exists(db + ".tiles"));

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--zoom", "12-x"}, std::vector<std::string>{"--zoom", "14-10"},
        std::vector<std::string>{"--zoom", "10", "--bbox", "1,2,3"},
        std::vector<std::string>{"--zoom", "10", "--commune", "99999"}}) {
    std::vector<std::string> argv{BANDOSO_BINARY, "seed", "--db", db, "--tileset", "communes"};
    argv.insert(argv.end(), bad.begin(), bad.end());
    const auto r = run_command(argv);
    EXPECT_NE(r.exit_code, 0) << bad[1];
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
}

}  // namespace bandoso::testing
