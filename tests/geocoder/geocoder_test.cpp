#include "geocoder/geocoder.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::geocoder {

class GeocoderTest : public ::testing::Test {
 protected:
  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  Geocoder geocoder{*store};
};

TEST_F(GeocoderTest, FindsACommuneByItsExactName) {
  const auto results = geocoder.search("Phường Thành Vinh");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].id, "16681");
  EXPECT_EQ(results[0].match_type, "exact");
  EXPECT_TRUE(results[0].bbox.contains(results[0].lon, results[0].lat));
  EXPECT_GE(results[0].lon, 105.64);
  EXPECT_LE(results[0].lon, 105.68);
}

TEST_F(GeocoderTest, IgnoresCaseTonesAndDiacritics) {
  for (const char* q : {"phuong thanh vinh", "PHƯỜNG THÀNH VINH", "Thành Vinh", "thanh vinh, Nghệ An"}) {
    const auto results = geocoder.search(q);
    ASSERT_FALSE(results.empty()) << q;
    EXPECT_EQ(results[0].id, "16681") << q;
  }
}

TEST_F(GeocoderTest, FormerCommuneAnswersWithTheNewUnitAndNamesBoth) {
  const auto results = geocoder.search("Phường Hưng Bình");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].id, "16681");
  EXPECT_EQ(results[0].match_type, "old-name");
  EXPECT_EQ(results[0].display_name, "Phường Thành Vinh, Nghệ An (trước đây: Phường Hưng Bình, Thành phố Vinh)");
  EXPECT_EQ(geocoder.search("Phường Bến Thuỷ, Thành phố Vinh").at(0).id, "16690")
      << "old tone placement, with district";
}

TEST_F(GeocoderTest, FormerCommunesAlsoComeFromTheConversionTable) {
  EXPECT_TRUE(geocoder.search("Phường Trung Đô").empty());
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    auto w = store->replace_layer(catalogue.layer("commune_mapping"));
    using S = std::string;
    w->add({{S("16702"), S("Phường Trung Đô"), S("412"), S("Thành phố Vinh"), S("16690"), S("Phường Trường Vinh"),
             S("Nhập toàn bộ")},
            ""});
    // Also in old_communes: answered once, not twice.
    w->add({{S("16672"), S("Phường Hưng Bình"), S("412"), S("Thành phố Vinh"), S("16681"), S("Phường Thành Vinh"),
             S("Nhập toàn bộ")},
            ""});
    w->commit(bandoso::testing::test_record("commune_mapping"));
  }
  const auto results = geocoder.search("phuong trung do");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].id, "16690");
  EXPECT_EQ(results[0].former_name, "Phường Trung Đô, Thành phố Vinh");
  EXPECT_EQ(geocoder.search("Phường Hưng Bình").size(), 1u);
}

TEST_F(GeocoderTest, NoMatchIsEmptyNotAnError) { EXPECT_TRUE(geocoder.search("Hà Nội").empty()); }

TEST_F(GeocoderTest, BadQueriesAreBadRequests) {
  EXPECT_THROW(geocoder.search(""), BadRequestError);
  EXPECT_THROW(geocoder.search(" ,. "), BadRequestError);
  EXPECT_THROW(geocoder.search(std::string(300, 'a')), BadRequestError);
  EXPECT_THROW(geocoder.search("Vinh\xFF"), BadRequestError);
}

TEST_F(GeocoderTest, IndexFollowsNewData) {
  ASSERT_FALSE(geocoder.search("Thành Vinh").empty());
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    auto w = store->replace_layer(catalogue.layer("communes"));
    w->add({{std::string("16681"),
             std::string("Vinh Mới"),
             std::string("Phường"),
             std::string("Phường Vinh Mới"),
             {},
             {},
             {}},
            bandoso::testing::wkb_from_wkt(bandoso::testing::kWestWard)});
    w->commit(bandoso::testing::test_record("communes"));
  }
  EXPECT_TRUE(geocoder.search("Thành Vinh").empty());
  EXPECT_EQ(geocoder.search("Vinh Mới").size(), 1u);
}

}  // namespace bandoso::geocoder
