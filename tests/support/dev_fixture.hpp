#pragma once
// The shared dev fixture (../shared/fixtures/nghean-dev) loaded once per test program with
// scripts/load-fixture and the real program. `db_variable`: an environment variable that may name an
// already loaded database instead (for quick iterations).

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "layers/core/store.hpp"
#include "support/process.hpp"
#include "support/shared_data.hpp"
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

// Whether `text` occurs in a public text attribute of any layer (a person's name can also be a street's).
inline bool in_public_text(const layers::Store& store, const std::string& text) {
  bool found = false;
  for (const auto& def : store.layers()) {
    store.scan(def.name, false, [&](const layers::Feature& f) {
      for (std::size_t i = 0; i < def.attributes.size() && !found; ++i) {
        if (def.attributes[i].access == layers::Access::restricted) continue;
        const auto* s = std::get_if<std::string>(&f.values[i]);
        found = s != nullptr && s->find(text) != std::string::npos;
      }
      return !found;
    });
    if (found) return true;
  }
  return false;
}

}  // namespace bandoso::testing

// Opens the loaded dev fixture read-only as `store` (also naming `shared` and `fixture`), or skips the test
// (fails it under CI=true) without ../shared, or fails it when load-fixture failed: the macro returns
// from the test in those cases.
#define BANDOSO_OPEN_DEV_FIXTURE(store, db_variable)                                                            \
  BANDOSO_REQUIRE_SHARED(shared);                                                                               \
  const ::bandoso::testing::LoadedFixture& fixture = ::bandoso::testing::load_dev_fixture(shared, db_variable); \
  ASSERT_TRUE(fixture.error.empty()) << "load-fixture failed:\n" << fixture.error;                              \
  const auto store = ::bandoso::layers::open_spatialite_store(fixture.db, ::bandoso::layers::OpenMode::read_only)
