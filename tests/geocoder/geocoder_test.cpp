// The geocoder on the small province (tests/support/small_province.hpp) plus a few streets, addresses
// and parcels written here: search kinds, former names, typos, codes, reverse, lookup, index swaps.

#include "geocoder/geocoder.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "layers/core/error.hpp"
#include "layers/core/plus_code.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::geocoder {

namespace {

using S = std::string;

// Blocks until the geocoder answers from the store's current data version (rebuilds run behind).
void wait_for_index(Geocoder& geocoder, const layers::Store& store) {
  for (int i = 0; i < 500 && geocoder.status().data_version != store.data_version(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(geocoder.status().data_version, store.data_version());
}

}  // namespace

class GeocoderTest : public ::testing::Test {
 protected:
  bandoso::testing::TempDir dir;
  std::unique_ptr<layers::Store> store = bandoso::testing::make_small_province(dir / "p.sqlite");
  Geocoder geocoder{*store};
};

TEST_F(GeocoderTest, FindsACommuneByItsExactName) {
  const auto result = geocoder.search("Phường Thành Vinh");
  ASSERT_EQ(result.places.size(), 1u);
  const Place& p = result.places[0];
  EXPECT_EQ(p.id, "16681");
  EXPECT_EQ(p.layer, "communes");
  EXPECT_EQ(p.match, MatchType::exact);
  EXPECT_EQ(p.type, "ward");
  EXPECT_DOUBLE_EQ(p.confidence, 1.0);
  EXPECT_TRUE(p.bbox.contains(p.lon, p.lat));
  EXPECT_EQ(p.admin.commune, "Phường Thành Vinh");
  EXPECT_EQ(p.address.at("suburb"), "Phường Thành Vinh");
  EXPECT_EQ(p.address.at("country_code"), "vn");
}

TEST_F(GeocoderTest, IgnoresCaseTonesDiacriticsAndAbbreviations) {
  for (const char* q : {"phuong thanh vinh", "PHƯỜNG THÀNH VINH", "Thành Vinh", "thanh vinh, Nghệ An", "P. Thành Vinh",
                        "Ph.Thanh Vinh, T. Nghe An", "tỉnh Nghệ An, p.thành vinh"}) {
    const auto result = geocoder.search(q);
    ASSERT_FALSE(result.places.empty()) << q;
    EXPECT_EQ(result.places[0].id, "16681") << q;
  }
}

TEST_F(GeocoderTest, OneTypoInALongWord) {
  const auto result = geocoder.search("Phường Trườg Vinh");
  ASSERT_FALSE(result.places.empty());
  EXPECT_EQ(result.places[0].id, "16690");
  EXPECT_EQ(result.places[0].match, MatchType::fuzzy);
  EXPECT_LT(result.places[0].confidence, 1.0);
}

TEST_F(GeocoderTest, FormerCommuneAnswersWithTheNewUnitAndNamesBoth) {
  const auto result = geocoder.search("Phường Hưng Bình");
  ASSERT_FALSE(result.places.empty());
  const Place& p = result.places[0];
  EXPECT_EQ(p.id, "16681");
  EXPECT_EQ(p.match, MatchType::old_name);
  EXPECT_EQ(p.display_name, "Phường Thành Vinh, Nghệ An (trước đây: Phường Hưng Bình, Thành phố Vinh)");
  EXPECT_EQ(p.admin.former_commune, "Phường Hưng Bình");
  EXPECT_EQ(p.admin.former_district, "Thành phố Vinh");
  EXPECT_EQ(geocoder.search("Phường Bến Thuỷ, Thành phố Vinh").places.at(0).id, "16690")
      << "old tone placement, with district";
  EXPECT_EQ(geocoder.search("P. Ben Thuy, TP Vinh").places.at(0).id, "16690");
}

TEST_F(GeocoderTest, FormerCommunesAlsoComeFromTheConversionTable) {
  EXPECT_TRUE(geocoder.search("Phường Trung Đô").places.empty());
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    auto w = store->replace_layer(catalogue.layer("commune_mapping"));
    w->add({{S("16702"), S("Phường Trung Đô"), S("412"), S("Thành phố Vinh"), S("16690"), S("Phường Trường Vinh"),
             S("Nhập toàn bộ")},
            ""});
    w->add({{S("16672"), S("Phường Hưng Bình"), S("412"), S("Thành phố Vinh"), S("16681"), S("Phường Thành Vinh"),
             S("Nhập toàn bộ")},
            ""});
    w->commit(bandoso::testing::test_record("commune_mapping"));
  }
  wait_for_index(geocoder, *store);
  const auto result = geocoder.search("phuong trung do");
  ASSERT_EQ(result.places.size(), 1u);
  EXPECT_EQ(result.places[0].id, "16690");
  EXPECT_EQ(result.places[0].former_name, "Phường Trung Đô, Thành phố Vinh");
  EXPECT_EQ(geocoder.search("Phường Hưng Bình").places.size(), 1u) << "in both layers: answered once";
}

TEST_F(GeocoderTest, AFormerDistrictAloneFallsBackToItsUnits) {
  const auto result = geocoder.search("TP. Vinh");
  ASSERT_EQ(result.places.size(), 2u);
  for (const Place& p : result.places) {
    EXPECT_EQ(p.match, MatchType::fallback);
    EXPECT_EQ(p.admin.former_district, "Thành phố Vinh");
    EXPECT_LT(p.confidence, 0.5);
  }
}

TEST_F(GeocoderTest, NoMatchIsEmptyNotAnError) { EXPECT_TRUE(geocoder.search("Hà Nội").places.empty()); }

TEST_F(GeocoderTest, BadQueriesAreBadRequests) {
  EXPECT_THROW((void)geocoder.search(""), BadRequestError);
  EXPECT_THROW((void)geocoder.search(" ,. "), BadRequestError);
  EXPECT_THROW((void)geocoder.search(std::string(300, 'a')), BadRequestError);
  EXPECT_THROW((void)geocoder.search("Vinh\xFF"), BadRequestError);
  EXPECT_THROW((void)geocoder.autocomplete(""), BadRequestError);
  EXPECT_THROW((void)geocoder.reverse(200, 18.6), BadRequestError);
  EXPECT_THROW((void)geocoder.reverse(105.6, std::nan("")), BadRequestError);
}

TEST_F(GeocoderTest, IndexFollowsNewDataAndIsSwappedWhenBuilt) {
  ASSERT_FALSE(geocoder.search("Thành Vinh").places.empty());
  const auto before = geocoder.status();
  EXPECT_GT(before.entries, 0u);
  EXPECT_GT(before.bytes, 0u);
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    auto w = store->replace_layer(catalogue.layer("communes"));
    w->add({{S("16681"), S("Vinh Mới"), S("Phường"), S("Phường Vinh Mới"), {}, {}, {}},
            bandoso::testing::wkb_from_wkt(bandoso::testing::kWestWard)});
    w->commit(bandoso::testing::test_record("communes"));
  }
  wait_for_index(geocoder, *store);
  EXPECT_TRUE(geocoder.search("Thành Vinh").places.empty());
  EXPECT_EQ(geocoder.search("Vinh Mới").places.size(), 1u);
}

class GeocoderAddressTest : public GeocoderTest {
 protected:
  void SetUp() override { testing::add_streets_addresses_parcels(*store); }
};

TEST_F(GeocoderAddressTest, AddressesInNewAndOldFormAnyOrder) {
  for (const char* q :
       {"số 12 Lê Lợi, P. Thành Vinh", "12 le loi thanh vinh", "SN 12, đường Lê Lợi, K. 9, Phường Hưng Bình, TP Vinh",
        "tỉnh Nghệ An, p. hưng bình, số 12 đ. lê lợi", "12 Lê Lợi, Phường Thànhh Vinh"}) {
    const auto result = geocoder.search(q);
    ASSERT_FALSE(result.places.empty()) << q;
    const Place& p = result.places[0];
    EXPECT_EQ(p.id, "DA000001") << q;
    EXPECT_EQ(p.kind, "address");
    EXPECT_EQ(p.address.at("house_number"), "12");
    EXPECT_EQ(p.address.at("road"), "Lê Lợi");
    EXPECT_EQ(p.address.at("hamlet"), "khối 9");
    EXPECT_EQ(p.address.at("city_district"), "Phường Hưng Bình");
    EXPECT_EQ(p.digital_code, "7440515318");
    EXPECT_FALSE(p.plus_code.empty());
  }
  EXPECT_EQ(geocoder.search("12 Lê Lợi, Phường Hưng Bình").places.at(0).match, MatchType::old_name);
  EXPECT_NE(
      geocoder.search("12 Lê Lợi, Phường Hưng Bình").places.at(0).display_name.find("trước đây: Phường Hưng Bình"),
      std::string::npos);
}

TEST_F(GeocoderAddressTest, LanesAlleysAndSuffixes) {
  EXPECT_EQ(geocoder.search("số 3 ngõ 12 Lê Lợi, Thành Vinh").places.at(0).id, "DA000003");
  EXPECT_EQ(geocoder.search("3 ng.12 le loi p thanh vinh").places.at(0).id, "DA000003");
  EXPECT_EQ(geocoder.search("45/3 Lê Lợi, P. Lê Lợi").places.at(0).id, "DA000004");
  EXPECT_EQ(geocoder.search("105 bis QL46, phường Trường Vinh").places.at(0).id, "DA000005");
  // No house 99: the street answers, as a fallback.
  const auto street = geocoder.search("99 Lê Lợi, Thành Vinh");
  ASSERT_FALSE(street.places.empty());
  EXPECT_EQ(street.places[0].id, "DS1");
  EXPECT_EQ(street.places[0].match, MatchType::fallback);
  EXPECT_EQ(geocoder.search("ngõ 12 Lê Lợi, Thành Vinh").places.at(0).id, "DS2");
}

TEST_F(GeocoderAddressTest, DigitalCodesAndTheirTypos) {
  for (const char* q : {"7440515318", "744-051-5318", "744 051 5318"}) {
    const auto result = geocoder.search(q);
    ASSERT_EQ(result.places.size(), 1u) << q;
    EXPECT_EQ(result.places[0].id, "DA000001");
    EXPECT_TRUE(result.message.empty());
  }
  const auto typo = geocoder.search("7440515328");  // one digit wrong
  EXPECT_FALSE(typo.message.empty());
  EXPECT_EQ(typo.suggestions, std::vector<std::string>{"7440515318"});
  const auto swapped = geocoder.search("7440513518");  // adjacent digits swapped
  EXPECT_EQ(swapped.suggestions, std::vector<std::string>{"7440515318"});
}

TEST_F(GeocoderAddressTest, PlusCodesFullAndShort) {
  const std::string code = layers::encode_plus_code(18.6601, 105.6520, 10);
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& q : {code, lower}) {
    const auto result = geocoder.search(q);
    ASSERT_FALSE(result.places.empty()) << q;
    EXPECT_EQ(result.places[0].id, "DA000001") << q;
  }
  const auto short_code = geocoder.search(code.substr(4) + " Thành Vinh");
  ASSERT_FALSE(short_code.places.empty());
  EXPECT_EQ(short_code.places[0].id, "DA000001");
}

TEST_F(GeocoderAddressTest, ParcelsByOldOrNewCommune) {
  const auto old_form = geocoder.search("thửa 222 tờ 7 Phường Lê Lợi");
  ASSERT_FALSE(old_form.places.empty());
  EXPECT_EQ(old_form.places[0].id, "16669/7/222");
  EXPECT_EQ(old_form.places[0].kind, "parcel");
  EXPECT_EQ(geocoder.search("tờ bản đồ số 7, thửa đất số 222, P. Hưng Bình").places.at(0).id, "16672/7/222");
  // Both former communes of Thành Vinh have a sheet 7 parcel 222: the new name finds both.
  EXPECT_EQ(geocoder.search("thửa 222 tờ 7 Phường Thành Vinh").places.size(), 2u);
  for (const Place& p : geocoder.search("thửa 222 tờ 7 Phường Thành Vinh").places) {
    for (const auto& [key, value] : p.address) EXPECT_EQ(value.find("Owner"), std::string::npos) << key;
    EXPECT_EQ(p.display_name.find("Owner"), std::string::npos);
  }
}

TEST_F(GeocoderAddressTest, StructuredSearchAndViewbox) {
  StructuredQuery q;
  q.street = "12 Lê Lợi";
  q.city = "Hưng Bình";
  q.county = "Thành phố Vinh";
  const auto result = geocoder.search(q);
  ASSERT_FALSE(result.places.empty());
  EXPECT_EQ(result.places[0].id, "DA000001");
  StructuredQuery by_postcode;
  by_postcode.street = "12 Lê Lợi";
  by_postcode.postalcode = "43112";
  EXPECT_EQ(geocoder.search(by_postcode).places.at(0).id, "DA000001");
  EXPECT_THROW((void)geocoder.search(StructuredQuery{}), BadRequestError);
  SearchOptions options;
  options.viewbox = layers::BBox{105.69, 18.66, 105.72, 18.68};
  options.bounded = true;
  EXPECT_TRUE(geocoder.search("12 Lê Lợi, Thành Vinh", options).places.empty());
  options.limit = 1;
  EXPECT_EQ(geocoder.search("Quốc lộ 46", options).places.size(), 1u);
}

TEST_F(GeocoderAddressTest, Autocomplete) {
  const auto places = geocoder.autocomplete("Lê Lợ");
  ASSERT_FALSE(places.empty());
  EXPECT_EQ(places[0].id, "DS1");
  const auto communes = geocoder.autocomplete("phường trường v");
  ASSERT_FALSE(communes.empty());
  EXPECT_EQ(communes[0].id, "16690");
  EXPECT_EQ(geocoder.autocomplete("số 12 lê lợi thành vinh").at(0).id, "DA000001");
}

TEST_F(GeocoderAddressTest, ReverseNearestAddressParcelAndCommune) {
  const auto places = geocoder.reverse(105.65201, 18.66012);
  ASSERT_EQ(places.size(), 3u);
  EXPECT_EQ(places[0].id, "DA000001");
  ASSERT_TRUE(places[0].distance_m.has_value());
  EXPECT_LT(*places[0].distance_m, 3.0);
  EXPECT_EQ(places[1].id, "16672/7/222");
  EXPECT_EQ(places[2].id, "16681");
  EXPECT_EQ(places[2].admin.former_commune, "Phường Hưng Bình");
  // Far from any address: the commune only.
  const auto far = geocoder.reverse(105.71, 18.685);
  ASSERT_EQ(far.size(), 1u);
  EXPECT_EQ(far[0].id, "16690");
  EXPECT_TRUE(geocoder.reverse(104.0, 21.0).empty());
  // The former commune from the old_communes polygons: Lê Lợi is the east half of Thành Vinh.
  const auto east = geocoder.reverse(105.675, 18.685);
  ASSERT_EQ(east.size(), 1u);
  EXPECT_EQ(east[0].admin.former_commune, "Phường Lê Lợi");
}

TEST_F(GeocoderAddressTest, StreetNamesHoldingASynonymWord) {
  // "kiệt" is also a word for ngõ: street names holding it must still match.
  const auto catalogue = layers::Catalogue::load_directory(layers::default_layers_directory());
  {
    auto w = store->write_layer(catalogue.layer("addresses"), layers::WriteMode::upsert);
    w->add({{S("DA000009"), S("5724000031"), S("7"), S("ngõ 5"), S("Lý Thường Kiệt"), S(""), S("16690"), S("16693"),
             S(""), S("")},
            testing::wkb_from_wkt("POINT(105.69 18.68)")});
    w->commit(testing::test_record("addresses"));
  }
  wait_for_index(geocoder, *store);
  EXPECT_EQ(geocoder.search("số 7 ngõ 5 Lý Thường Kiệt, P. Bến Thủy").places.at(0).id, "DA000009");
  EXPECT_EQ(geocoder.search("7 kiệt 5 ly thuong kiet truong vinh").places.at(0).id, "DA000009");
}

TEST_F(GeocoderAddressTest, LookupById) {
  EXPECT_EQ(geocoder.lookup("addresses:DA000004")->name, "45/3 Lê Lợi");
  EXPECT_EQ(geocoder.lookup("parcels:16672/7/222")->kind, "parcel");
  EXPECT_EQ(geocoder.lookup("communes:16690")->name, "Phường Trường Vinh");
  EXPECT_EQ(geocoder.lookup("streets:DS3")->name, "Quốc lộ 46");
  EXPECT_EQ(geocoder.lookup("old_communes:16693")->admin.former_commune, "Phường Bến Thủy");
  EXPECT_FALSE(geocoder.lookup("addresses:nope").has_value());
  EXPECT_THROW((void)geocoder.lookup("nolayer"), BadRequestError);
}

TEST_F(GeocoderAddressTest, SearchesFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> found{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!geocoder.search("12 Lê Lợi, Phường Hưng Bình").places.empty()) ++found;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(found.load(), 800);
}

}  // namespace bandoso::geocoder
