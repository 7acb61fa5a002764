#include "layers/core/digital_code.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "layers/core/error.hpp"
#include "support/csv.hpp"
#include "support/shared_data.hpp"

namespace bandoso::layers {

namespace {

// The first `count` rows of the fixture's addresses (reading all 30,000 rows is needlessly slow).
std::vector<std::map<std::string, std::string>> first_fixture_addresses(const std::filesystem::path& shared,
                                                                        std::size_t count) {
  return bandoso::testing::read_csv(shared / "fixtures/nghean-dev/addresses.csv", count);
}

}  // namespace

TEST(DigitalCode, DammCheckDigitOfTheWorkedExample) {
  EXPECT_EQ(damm_check_digit("572"), '4');
  EXPECT_EQ(damm_check_digit("5724"), '0');
  EXPECT_EQ(damm_check_digit(""), '0');
}

TEST(DigitalCode, CheckDigitRefusesNonDigits) {
  EXPECT_THROW(damm_check_digit("57a"), BadRequestError);
  EXPECT_THROW(damm_check_digit("57 2"), BadRequestError);
  EXPECT_THROW(damm_check_digit("٣"), BadRequestError);  // Arabic-Indic three: not an ASCII digit
}

TEST(DigitalCode, ValidatesLengthFirstDigitAndCheck) {
  EXPECT_TRUE(is_valid_digital_code("7440515318"));
  EXPECT_TRUE(is_valid_digital_code("6421939165"));
  EXPECT_FALSE(is_valid_digital_code("744051531"));    // 9 digits
  EXPECT_FALSE(is_valid_digital_code("74405153180"));  // 11 digits
  EXPECT_FALSE(is_valid_digital_code("744051531X"));
  EXPECT_FALSE(is_valid_digital_code(""));
  // A leading 0 is refused even when the check digit is right.
  const std::string body = "012345678";
  EXPECT_FALSE(is_valid_digital_code(body + damm_check_digit(body)));
}

TEST(DigitalCode, DetectsEverySingleErrorAndAdjacentTransposition) {
  const std::string code = "7440515318";
  ASSERT_TRUE(is_valid_digital_code(code));
  for (std::size_t i = 0; i < code.size(); ++i) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == code[i]) continue;
      std::string changed = code;
      changed[i] = d;
      EXPECT_FALSE(is_valid_digital_code(changed)) << changed;
    }
  }
  for (std::size_t i = 0; i + 1 < code.size(); ++i) {
    if (code[i] == code[i + 1]) continue;
    std::string swapped = code;
    std::swap(swapped[i], swapped[i + 1]);
    EXPECT_FALSE(is_valid_digital_code(swapped)) << swapped;
  }
}

TEST(DigitalCode, NormaliseRemovesGroupingOnly) {
  EXPECT_EQ(normalise_digital_code("744 051 5318"), "7440515318");
  EXPECT_EQ(normalise_digital_code("744-051-5318"), "7440515318");
  EXPECT_EQ(normalise_digital_code("744.051.5318"), "7440515318");
  EXPECT_EQ(normalise_digital_code(" 74 40-51.53 18 "), "7440515318");
  EXPECT_EQ(normalise_digital_code("7440/515318"), "7440/515318");
  EXPECT_TRUE(is_valid_digital_code(normalise_digital_code("744 051 5318")));
}

TEST(DigitalCode, FixtureCodesAreValid) {
  BANDOSO_REQUIRE_SHARED(shared);
  const auto rows = first_fixture_addresses(shared, 3000);
  ASSERT_GT(rows.size(), 500U);
  for (std::size_t i = 0; i < 500; ++i) {
    const auto& code = rows[i].at("digital_code");
    EXPECT_TRUE(is_valid_digital_code(code)) << code;
    EXPECT_EQ(damm_check_digit(code.substr(0, 9)), code[9]) << code;
  }
}

}  // namespace bandoso::layers
