#include "layers/core/error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bandoso {

TEST(ErrorCatalogue, EveryCodeHasADistinctNameAndAClientOrServerStatus) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(ErrorCode::internal); ++i) {
    const ErrorInfo& info = error_info(static_cast<ErrorCode>(i));
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.http_status, 400);
    EXPECT_LT(info.http_status, 600);
    EXPECT_TRUE(info.exit_code == 1 || info.exit_code == 2);
  }
}

TEST(ErrorCatalogue, BadInputIsA4xxAndExit1RuntimeFailureExit2) {
  EXPECT_EQ(error_info(ErrorCode::bad_request).http_status, 400);
  EXPECT_EQ(error_info(ErrorCode::not_found).http_status, 404);
  EXPECT_EQ(error_info(ErrorCode::too_large).http_status, 413);
  EXPECT_EQ(error_info(ErrorCode::rate_limited).http_status, 429);
  EXPECT_EQ(error_info(ErrorCode::unauthorized).http_status, 401);
  EXPECT_EQ(error_info(ErrorCode::forbidden).http_status, 403);
  EXPECT_EQ(error_info(ErrorCode::unavailable).http_status, 503);
  EXPECT_EQ(error_info(ErrorCode::config_invalid).exit_code, 1);
  EXPECT_EQ(error_info(ErrorCode::storage_failure).exit_code, 2);
}

TEST(ConfigError, NamesFileAndKey) {
  const ConfigError e("layers/x.yaml", "attributes[2].type", "unknown value 'txt'");
  EXPECT_STREQ(e.what(), "layers/x.yaml: attributes[2].type: unknown value 'txt'");
  EXPECT_EQ(e.code(), ErrorCode::config_invalid);
}

}  // namespace bandoso
