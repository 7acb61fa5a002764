#include "features/identify.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::features {

class IdentifyTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::add_streets_addresses_parcels(*store); }
  testing::TempDir dir;
  std::unique_ptr<layers::Store> store = testing::make_small_province(dir / "p.sqlite");
};

TEST_F(IdentifyTest, ParcelAddressAndCommunesAtAPoint) {
  const Identification at = identify(*store, 105.6520, 18.6600, false);
  ASSERT_TRUE(at.parcel);
  EXPECT_EQ((*at.parcel)["id"], "16672.7.222");
  EXPECT_FALSE((*at.parcel)["properties"].contains("owner_name"));
  ASSERT_TRUE(at.address);
  EXPECT_EQ((*at.address)["id"], "DA000001");
  EXPECT_NEAR((*at.address)["properties"]["distance_m"].get<double>(), 11.1, 0.2);
  ASSERT_TRUE(at.commune);
  EXPECT_EQ((*at.commune)["properties"]["full_name"], "Phường Thành Vinh");
  EXPECT_TRUE((*at.commune)["geometry"].is_null());
  ASSERT_TRUE(at.former_commune);
  EXPECT_EQ((*at.former_commune)["name"], "Phường Hưng Bình");
  EXPECT_TRUE(at.restricted_ids.empty());

  const Identification department = identify(*store, 105.6520, 18.6600, true);
  EXPECT_EQ((*department.parcel)["properties"]["owner_name"], "Secret Owner");
  EXPECT_EQ(department.restricted_ids, (std::vector<std::string>{"parcels:16672.7.222"}));
}

TEST_F(IdentifyTest, NothingNearbyAndBadCoordinates) {
  const Identification far = identify(*store, 105.7100, 18.6850, false);
  EXPECT_FALSE(far.parcel);
  EXPECT_FALSE(far.address) << "no address within 50 m";
  ASSERT_TRUE(far.commune);
  EXPECT_EQ((*far.commune)["properties"]["code"], "16690");
  EXPECT_EQ((*far.former_commune)["name"], "Phường Bến Thủy");
  const Identification outside = identify(*store, 104.0, 19.5, false);
  EXPECT_FALSE(outside.commune);
  EXPECT_FALSE(outside.former_commune);
  EXPECT_THROW((void)identify(*store, 200, 18, false), BadRequestError);
  EXPECT_THROW((void)identify(*store, 105, std::nan(""), false), BadRequestError);
}

}  // namespace bandoso::features
