// Normalisation of query text: folding, abbreviations (geocoder/abbreviations.txt), house numbers,
// the one-typo comparison.

#include "geocoder/text.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"

namespace bandoso::geocoder {

TEST(QueryTokens, FoldTonesCaseAndTonePlacement) {
  EXPECT_EQ(join(query_tokens("Phường Hưng Bình")), "phuong hung binh");
  EXPECT_EQ(join(query_tokens("Thái Hoà")), join(query_tokens("THÁI HÒA")));
  EXPECT_EQ(join(query_tokens("Nghi Thuỷ")), join(query_tokens("nghi thủy")));
  EXPECT_EQ(join(query_tokens("Kỳ Sơn")), join(query_tokens("Kì Sơn")));
  EXPECT_EQ(join(query_tokens("Đô Lương")), "do luong");
}

TEST(QueryTokens, ExpandAbbreviations) {
  EXPECT_EQ(join(query_tokens("P. Thành Vinh")), "phuong thanh vinh");
  EXPECT_EQ(join(query_tokens("Ph.Trường Thi, TP. Vinh")), "phuong truong thi thanh pho vinh");
  EXPECT_EQ(join(query_tokens("T.P Vinh")), "thanh pho vinh");
  EXPECT_EQ(join(query_tokens("TX Cửa Lò")), "thi xa cua lo");
  EXPECT_EQ(join(query_tokens("TT. Tân Kỳ, H. Tân Kỳ")), "thi tran tan ki huien tan ki");
  EXPECT_EQ(join(query_tokens("X. Diên Hoa")), "xa dien hoa");
  EXPECT_EQ(join(query_tokens("SN 12, đ. Lê Lợi, K5")), "so nha 12 duong le loi khoi 5");
  EXPECT_EQ(join(query_tokens("ng. 12 Lê Lợi")), "ngo 12 le loi");
  EXPECT_EQ(join(query_tokens("206 QL7")), "206 quoc lo 7");
  EXPECT_EQ(join(query_tokens("ql1a")), "quoc lo 1a");
  EXPECT_EQ(join(query_tokens("ĐT.535")), "duong tinh 535");
  EXPECT_EQ(join(query_tokens("TDP 3")), "to dan pho 3");
  EXPECT_EQ(join(query_tokens("T. Nghệ An")), "tinh nghe an");
}

TEST(QueryTokens, KeepHouseNumbersAndLanes) {
  EXPECT_EQ(join(query_tokens("số 45/3 Lê Lợi")), "so 45/3 le loi");
  EXPECT_EQ(join(query_tokens("ngách 320/6, ng. 320")), "ngach 320/6 ngo 320");
  EXPECT_EQ(join(query_tokens("12A Lê Lợi")), "12a le loi");
  EXPECT_TRUE(is_house_number("12"));
  EXPECT_TRUE(is_house_number("12a"));
  EXPECT_TRUE(is_house_number("45/3"));
  EXPECT_FALSE(is_house_number("le"));
  EXPECT_FALSE(is_house_number("45/"));
}

TEST(QueryTokens, RejectInvalidUtf8) { EXPECT_THROW((void)query_tokens("\xff\xfe"), BadRequestError); }

TEST(OneEdit, SubstitutionInsertionDeletionTransposition) {
  EXPECT_TRUE(within_one_edit("truong", "tfuong"));
  EXPECT_TRUE(within_one_edit("nguyen", "nguyyen"));
  EXPECT_TRUE(within_one_edit("trong", "trog"));
  EXPECT_TRUE(within_one_edit("thang", "thnag"));
  EXPECT_FALSE(within_one_edit("truong", "trunog1"));
  EXPECT_FALSE(within_one_edit("thanh", "tahnn"));
  bool fuzzy = false;
  EXPECT_FALSE(token_matches("loi", "lai", fuzzy)) << "short words must match exactly";
  EXPECT_TRUE(token_matches("nguyyen", "nguyen", fuzzy));
  EXPECT_TRUE(fuzzy);
}

}  // namespace bandoso::geocoder
