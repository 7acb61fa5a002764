#pragma once
// The shared dev fixture (../shared/fixtures/nghean-dev) loaded once per test program with
// scripts/load-fixture and the real program. `db_variable`: an environment variable that may name an
// already loaded database instead (for quick iterations).

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::testing {

struct LoadedFixture {
  TempDir dir;
  std::filesystem::path db;
  std::string error;  // load-fixture's errors; empty when it worked
};

inline const LoadedFixture& load_dev_fixture(const std::filesystem::path& shared, const char* db_variable) {
  static const std::unique_ptr<LoadedFixture> instance = [&] {
    auto l = std::make_unique<LoadedFixture>();
    if (const char* db = std::getenv(db_variable); db != nullptr && *db != '\0') {
      l->db = db;
      return l;
    }
    l->db = l->dir / "nghean-dev.sqlite";
    const char* bin = std::getenv("BANDOSO");
    const auto r = run_command({std::string(BANDOSO_SOURCE_DIR) + "/scripts/load-fixture", "--bandoso",
                                bin != nullptr && *bin != '\0' ? std::string(bin) : std::string(BANDOSO_BINARY),
                                (shared / "fixtures" / "nghean-dev").string(),
                                (shared / "reference" / "nghean").string(), l->db.string()});
    if (r.exit_code != 0) l->error = r.err;
    return l;
  }();
  return *instance;
}

}  // namespace bandoso::testing
