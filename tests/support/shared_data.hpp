#pragma once
// Locating ../shared (reference data and fixtures) from tests. Tests that need it skip with a clear
// message when it is absent, and fail when CI=true (CI always has it).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace bandoso::testing {

inline std::optional<std::filesystem::path> shared_dir() {
  if (const char* env = std::getenv("BANDOSO_SHARED_DIR"); env != nullptr && *env != '\0') {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  const auto candidate = std::filesystem::path(BANDOSO_SOURCE_DIR).parent_path() / "shared";
  if (std::filesystem::is_directory(candidate / "reference")) return candidate;
  return std::nullopt;
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace bandoso::testing

// Puts the shared folder in `var`, or skips the test (fails it under CI=true) when it is absent.
#define BANDOSO_REQUIRE_SHARED(var)                                                                    \
  const auto var##_opt = ::bandoso::testing::shared_dir();                                             \
  if (!var##_opt) {                                                                                    \
    if (::bandoso::testing::running_in_ci()) FAIL() << "../shared is absent, and CI=true requires it"; \
    GTEST_SKIP() << "../shared is absent (set BANDOSO_SHARED_DIR): skipping a test that reads it";     \
  }                                                                                                    \
  const std::filesystem::path var = *var##_opt
