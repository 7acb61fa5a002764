#include "layers/core/vntext.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

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

namespace {

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

std::string to_hex(const std::string& bytes) {
  std::string hex;
  for (const char c : bytes) hex += fmt::format("{:02X}", static_cast<unsigned char>(c));
  return hex;
}

}  // namespace

// Every VNI sample of the reference set decodes exactly, and encoding gives the sample's bytes back.
TEST(VnText, ReferenceVniSamplesDecode) {
  BANDOSO_REQUIRE_SHARED(shared);
  int checked = 0;
  for (const auto& row : testing::read_csv(shared / "reference/nghean/encoding/legacy_encoding_samples.csv")) {
    const std::string& unicode = row.at("unicode_nfc");
    const std::string& hex = row.at("vni_windows_hex");
    EXPECT_EQ(decode_legacy(from_hex(hex), LegacyEncoding::vni), unicode) << hex;
    EXPECT_EQ(to_hex(encode_legacy(unicode, LegacyEncoding::vni)), hex) << unicode;
    ++checked;
  }
  EXPECT_EQ(checked, 15);
}

// The code's compact VNI table agrees with the reference letter table, letter by letter. The
// reference gives ỷ/Ỷ as the lone byte EB/CB and ỹ/Ỹ as EC/CC, which ì/Ì already are: VNI writes
// them y + tone byte like ỳ and ý; the lone EB/CB still decodes to ỷ/Ỷ.
TEST(VnText, VniAgreesWithTheReferenceLetterTable) {
  BANDOSO_REQUIRE_SHARED(shared);
  int checked = 0;
  for (const auto& row : testing::read_csv(shared / "reference/nghean/encoding/vni_windows_to_unicode.csv")) {
    const std::string& letter = row.at("unicode_char");
    const std::string& hex = row.at("vni_bytes_hex");
    ++checked;
    if (letter == "ỹ" || letter == "Ỹ") {
      EXPECT_EQ(decode_legacy(from_hex(hex), LegacyEncoding::vni), letter == "ỹ" ? "ì" : "Ì");
      EXPECT_EQ(to_hex(encode_legacy(letter, LegacyEncoding::vni)), letter == "ỹ" ? "79F5" : "59D5");
      continue;
    }
    EXPECT_EQ(decode_legacy(from_hex(hex), LegacyEncoding::vni), letter) << hex;
    if (letter == "ỷ" || letter == "Ỷ") {
      EXPECT_EQ(to_hex(encode_legacy(letter, LegacyEncoding::vni)), letter == "ỷ" ? "79FB" : "59DB");
    } else {
      EXPECT_EQ(to_hex(encode_legacy(letter, LegacyEncoding::vni)), hex) << letter;
    }
  }
  EXPECT_EQ(checked, 134);
}

// Every Vietnamese letter (12 vowels × 6 tones, đ, both cases) survives VNI and CP1258 round trips.
TEST(VnText, EveryLetterRoundTrips) {
  int checked = 0;
  for (const std::string base : {"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"}) {
    for (const std::string tone : {"", "\xCC\x80", "\xCC\x81", "\xCC\x89", "\xCC\x83", "\xCC\xA3"}) {
      const std::string small = to_nfc(base + tone);
      for (const std::string& letter : {small, to_upper(small)}) {
        const std::string word = "x" + letter + "n " + letter;
        EXPECT_EQ(decode_legacy(encode_legacy(word, LegacyEncoding::vni), LegacyEncoding::vni), word) << word;
        EXPECT_EQ(decode_legacy(encode_legacy(word, LegacyEncoding::cp1258), LegacyEncoding::cp1258), word) << word;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 144);
  EXPECT_EQ(decode_legacy(encode_legacy("Đường đê", LegacyEncoding::vni), LegacyEncoding::vni), "Đường đê");
  EXPECT_THROW(encode_legacy("Ω", LegacyEncoding::vni), InputError);
}

TEST(VnText, VniRefusesBytesItDoesNotDefine) {
  EXPECT_THROW(decode_legacy("Ngh\xA7", LegacyEncoding::vni), InputError);    // undefined byte
  EXPECT_THROW(decode_legacy(" \xF9", LegacyEncoding::vni), InputError);      // a tone on nothing
  EXPECT_THROW(decode_legacy("b\xE2", LegacyEncoding::vni), InputError);      // a circumflex on b
  EXPECT_THROW(decode_legacy("a\xF9\xF8", LegacyEncoding::vni), InputError);  // two tones
  EXPECT_EQ(decode_legacy("Vinh 12", LegacyEncoding::vni), "Vinh 12");
}

TEST(VnText, LetterCaseFollowsVietnamese) {
  EXPECT_EQ(to_upper("đường lê hồng phong"), "ĐƯỜNG LÊ HỒNG PHONG");
  EXPECT_EQ(to_lower("PHƯỜNG HƯNG BÌNH"), "phường hưng bình");
  EXPECT_EQ(to_title("phường hưng BÌNH"), "Phường Hưng Bình");
  EXPECT_EQ(to_upper("o\xCC\x9B\xCC\x81"), "Ớ");  // NFC out of NFD in
}

TEST(VnText, ScoreTellsVietnameseFromMisreadBytes) {
  EXPECT_EQ(vietnamese_score("Phường Trường Vinh"), 2);  // "Vinh" is ASCII: no vote
  EXPECT_EQ(vietnamese_score("Xã Quỳnh Lưu, xóm 5"), 4);
  EXPECT_EQ(vietnamese_score("thuở giữa khuya, người Nghệ, kẹo, của, hoà, hòa, tiếng"), 9);
  EXPECT_LT(vietnamese_score("Ngheọ"), 0);  // VNI "Nghệ" read as TCVN3: the tone of "eo" goes on e
  EXPECT_EQ(vietnamese_score("ODT+CLN 125"), 0);
  EXPECT_LT(vietnamese_score("Th\xC2\xB5nh"), 0);       // "Thµnh": TCVN3 read as CP1258
  EXPECT_LT(vietnamese_score("Tha\xE1\xBB\xB5nh"), 0);  // "Thaỵnh": VNI read as TCVN3
  EXPECT_LT(vietnamese_score("Ngh\xC6\xAF"), 0);        // "NghƯ": a capital inside a word
  EXPECT_LT(vietnamese_score("B\xC3\x95n"), 0);         // "BÕn"
}

// Detection: each sample in each encoding is recognised, alone and together.
TEST(VnText, GuessEncodingOfTheReferenceSamples) {
  BANDOSO_REQUIRE_SHARED(shared);
  std::vector<std::string> all_utf8, all_tcvn3, all_vni, all_cp1258;
  for (const auto& row : testing::read_csv(shared / "reference/nghean/encoding/legacy_encoding_samples.csv")) {
    const std::string& unicode = row.at("unicode_nfc");
    const std::string tcvn3 = from_hex(row.at("tcvn3_hex"));
    const std::string vni = from_hex(row.at("vni_windows_hex"));
    const std::string cp1258 = encode_legacy(unicode, LegacyEncoding::cp1258);
    EXPECT_EQ(guess_encoding({unicode}).encoding, "utf-8") << unicode;
    EXPECT_EQ(guess_encoding({tcvn3}).encoding, "tcvn3") << unicode;
    EXPECT_EQ(guess_encoding({vni}).encoding, "vni") << unicode;
    EXPECT_EQ(guess_encoding({cp1258}).encoding, "cp1258") << unicode;
    all_utf8.push_back(unicode);
    all_tcvn3.push_back(tcvn3);
    all_vni.push_back(vni);
    all_cp1258.push_back(cp1258);
  }
  EXPECT_EQ(guess_encoding(all_utf8).encoding, "utf-8");
  EXPECT_EQ(guess_encoding(all_tcvn3).encoding, "tcvn3");
  EXPECT_EQ(guess_encoding(all_vni).encoding, "vni");
  EXPECT_EQ(guess_encoding(all_cp1258).encoding, "cp1258");
  EXPECT_GT(guess_encoding(all_vni).score, 30);
}

}  // namespace bandoso::layers::vntext
