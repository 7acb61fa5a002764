#include "layers/core/vntext.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "layers/core/error.hpp"
#include "support/csv.hpp"
#include "support/shared_data.hpp"

namespace bandoso::layers::vntext {

TEST(VnText, NfcComposesDecomposedInput) {
  EXPECT_EQ(to_nfc("Nghe\xCC\xA3\xCC\x82 An"), "Nghệ An");
  EXPECT_EQ(to_nfc("Tha\xCC\x81i Hoa\xCC\x80"), "Thái Hoà");
}

TEST(VnText, InvalidUtf8IsAnInputError) {
  EXPECT_FALSE(is_valid_utf8("Ngh\xD6 An"));
  EXPECT_THROW(to_nfc("Ngh\xD6 An"), InputError);
  EXPECT_THROW(fold("\xFF"), InputError);
}

TEST(VnText, FoldIgnoresTonesCaseAndFoldsDExplicitly) {
  EXPECT_EQ(fold("Phường Trường Thi"), "phuong truong thi");
  EXPECT_EQ(fold("ĐÔ LƯƠNG"), "do luong");
  EXPECT_EQ(fold("Đức"), fold("duc"));
}

TEST(VnText, FoldTreatsOldAndNewTonePlacementAndIYAlike) {
  EXPECT_EQ(fold("Thái Hoà"), fold("Thái Hòa"));
  EXPECT_EQ(fold("Nghi Thuỷ"), fold("Nghi Thủy"));
  EXPECT_EQ(fold("Tân Kỳ"), fold("Tân Kì"));
  EXPECT_EQ(fold("Sỹ"), fold("Sĩ"));
}

TEST(VnText, FoldCollapsesPunctuationAndSpaces) { EXPECT_EQ(fold("  P. Hưng   Bình,TP Vinh "), "p hung binh tp vinh"); }

TEST(VnText, Tcvn3RoundTrip) {
  const std::string text = "Phường Hưng Bình, thành phố Vinh";
  const std::string bytes = encode_tcvn3(text);
  EXPECT_FALSE(is_valid_utf8(bytes));
  EXPECT_EQ(decode_legacy(bytes, LegacyEncoding::tcvn3), text);
}

TEST(VnText, UnknownEncodingNameIsABadRequest) { EXPECT_THROW(parse_legacy_encoding("vni-1"), BadRequestError); }

// Every TCVN3 sample of the reference set decodes exactly.
TEST(VnText, ReferenceTcvn3SamplesDecode) {
  BANDOSO_REQUIRE_SHARED(shared);
  int checked = 0;
  for (const auto& row : testing::read_csv(shared / "reference/nghean/encoding/legacy_encoding_samples.csv")) {
    const std::string& unicode = row.at("unicode_nfc");
    const std::string& hex = row.at("tcvn3_hex");
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    EXPECT_EQ(decode_legacy(bytes, LegacyEncoding::tcvn3), unicode) << hex;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

}  // namespace bandoso::layers::vntext
