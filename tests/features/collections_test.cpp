// The features API's collections over the small province (communes, former communes, streets,
// addresses, parcels with owners).
#include "features/collections.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::features {

class CollectionsTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::add_streets_addresses_parcels(*store); }
  testing::TempDir dir;
  std::unique_ptr<layers::Store> store = testing::make_small_province(dir / "p.sqlite");
  Collections collections{*store};
};

TEST_F(CollectionsTest, ListsEveryLayer) {
  std::vector<std::string> names;
  for (const auto& def : collections.list()) names.push_back(def.name);
  EXPECT_EQ(names, (std::vector<std::string>{"addresses", "communes", "old_communes", "parcels", "streets"}));
  EXPECT_THROW((void)collections.get("nope"), NotFoundError);
}

TEST_F(CollectionsTest, ItemsAreGeoJsonFeaturesWithKeyIdsAndNoOwnerForThePublic) {
  const ItemsPage page = collections.items("parcels", {});
  EXPECT_EQ(page.matched, 2);
  ASSERT_EQ(page.features.size(), 2U);
  const auto& f = page.features[0];
  EXPECT_EQ(f["type"], "Feature");
  EXPECT_EQ(f["id"], "16672.7.222");
  EXPECT_EQ(f["geometry"]["type"], "MultiPolygon");
  EXPECT_DOUBLE_EQ(f["geometry"]["coordinates"][0][0][0][0].get<double>(), 105.6518);
  EXPECT_EQ(f["properties"]["land_use"], "ODT");
  EXPECT_EQ(f["properties"]["sheet_no"], 7);
  EXPECT_FALSE(f["properties"].contains("owner_name"));
  EXPECT_EQ(page.features[0].dump().find("Owner"), std::string::npos);

  ItemsRequest department;
  department.restricted = true;
  EXPECT_EQ(collections.items("parcels", department).features[0]["properties"]["owner_name"], "Secret Owner");
}

TEST_F(CollectionsTest, FiltersBoxAndPages) {
  ItemsRequest request;
  request.filters = {{"old_commune_code", "16669"}};
  ItemsPage page = collections.items("addresses", request);
  ASSERT_EQ(page.matched, 1);
  EXPECT_EQ(page.ids, (std::vector<std::string>{"DA000004"}));

  request = {};
  request.bbox = layers::BBox{105.649, 18.659, 105.6522, 18.661};
  page = collections.items("addresses", request);
  EXPECT_EQ(page.ids, (std::vector<std::string>{"DA000001"}));

  request = {};
  request.limit = 2;
  request.offset = 3;
  page = collections.items("addresses", request);
  EXPECT_EQ(page.matched, 5);
  EXPECT_EQ(page.ids, (std::vector<std::string>{"DA000004", "DA000005"}));

  request = {};
  request.filters = {{"sheet_no", "7"}, {"parcel_no", "222"}};
  EXPECT_EQ(collections.items("parcels", request).matched, 2);
}

TEST_F(CollectionsTest, BadRequestsAreRefusedWithTheirReason) {
  ItemsRequest request;
  request.filters = {{"colour", "red"}};
  EXPECT_THROW((void)collections.items("addresses", request), BadRequestError);
  request.filters = {{"owner_name", "Secret Owner"}};
  EXPECT_THROW((void)collections.items("parcels", request), BadRequestError) << "the public cannot filter by owner";
  request.restricted = true;
  EXPECT_EQ(collections.items("parcels", request).matched, 1);
  request = {};
  request.filters = {{"sheet_no", "seven"}};
  EXPECT_THROW((void)collections.items("parcels", request), BadRequestError);
  request = {};
  request.limit = kMaxLimit + 1;
  EXPECT_THROW((void)collections.items("parcels", request), BadRequestError);
  EXPECT_THROW((void)collections.items("nope", {}), NotFoundError);
}

TEST_F(CollectionsTest, OneItemByItsId) {
  const auto parcel = collections.item("parcels", "16669.7.222", false);
  ASSERT_TRUE(parcel);
  EXPECT_EQ((*parcel)["properties"]["area_m2"], 90.0);
  EXPECT_FALSE((*parcel)["properties"].contains("owner_name"));
  EXPECT_EQ((*collections.item("parcels", "16669.7.222", true))["properties"]["owner_name"], "Other Owner");
  EXPECT_TRUE(collections.item("addresses", "DA000005", false));
  EXPECT_FALSE(collections.item("parcels", "16669.7.999", false));
  EXPECT_FALSE(collections.item("parcels", "16669.7", false));
  EXPECT_FALSE(collections.item("parcels", "16669.x.1", false));
  EXPECT_THROW((void)collections.item("nope", "1", false), NotFoundError);
}

}  // namespace bandoso::features
