#pragma once
// Rewrites a database's schema version behind the store's back, to test how other versions are refused.

#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace bandoso::testing {

// True when the version was written.
inline bool set_schema_version(const std::filesystem::path& file, int version) {
  sqlite3* db = nullptr;
  const bool opened = sqlite3_open(file.c_str(), &db) == SQLITE_OK;
  const std::string sql = "UPDATE schema_version SET version = " + std::to_string(version);
  const bool written = opened && sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return written;
}

}  // namespace bandoso::testing
