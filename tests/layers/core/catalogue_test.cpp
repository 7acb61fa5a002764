#include "layers/core/catalogue.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "layers/core/error.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::layers {

namespace {
const char* const kSchools = R"(
name: schools
title: Trường học
geometry: point
key: [id]
attributes:
  - {name: id, type: text, required: true}
  - {name: name, type: text}
  - {name: pupils, type: integer}
  - {name: principal_phone, type: text, access: restricted}
style: {fill: "#336699", label: name}
)";

std::string error_of(const std::string& yaml) {
  try {
    parse_layer_definition(yaml, "layers/schools.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(Catalogue, ParsesADepartmentLayer) {
  const LayerDef layer = parse_layer_definition(kSchools, "layers/schools.yaml");
  EXPECT_EQ(layer.name, "schools");
  EXPECT_EQ(layer.geometry, GeometryType::point);
  ASSERT_EQ(layer.attributes.size(), 4u);
  EXPECT_EQ(layer.attributes[2].type, AttributeType::integer);
  EXPECT_EQ(layer.public_attributes(), (std::vector<std::string>{"id", "name", "pupils"}));
  EXPECT_EQ(layer.style.fill, "#336699");
}

TEST(Catalogue, UnknownKeyNamesFileAndKey) {
  EXPECT_EQ(error_of(std::string(kSchools) + "colour: red\n"),
            "layers/schools.yaml: colour: unknown key (allowed: name, title, title_en, description, geometry, key, "
            "zoom, attributes, style)");
  std::string nested = kSchools;
  nested.replace(nested.find("{name: pupils, type: integer}"), 29, "{name: pupils, type: integer, size: 3}");
  EXPECT_NE(error_of(nested).find("layers/schools.yaml: attributes[2].size: unknown key"), std::string::npos);
}

TEST(Catalogue, TypeMistakesNameFileAndKey) {
  std::string bad_type = kSchools;
  bad_type.replace(bad_type.find("type: integer"), 13, "type: int");
  EXPECT_NE(error_of(bad_type).find("layers/schools.yaml: attributes[2].type: unknown value 'int'"), std::string::npos);

  EXPECT_NE(error_of(std::string(kSchools) + "zoom: {min: low}\n")
                .find("layers/schools.yaml: zoom.min: expected a whole number"),
            std::string::npos);
  std::string bad_colour = kSchools;
  bad_colour.replace(bad_colour.find("#336699"), 7, "blue");
  EXPECT_NE(error_of(bad_colour).find("style.fill"), std::string::npos);
}

TEST(Catalogue, StructuralMistakes) {
  std::string no_key = kSchools;
  no_key.replace(no_key.find("key: [id]"), 9, "key: [code]");
  EXPECT_NE(error_of(no_key).find("key[0]: 'code' is not an attribute"), std::string::npos);
  std::string restricted_label = kSchools;
  restricted_label.replace(restricted_label.find("label: name"), 11, "label: principal_phone");
  EXPECT_NE(error_of(restricted_label).find("style.label: a restricted attribute"), std::string::npos);
  EXPECT_NE(
      error_of("name: meta\ntitle: x\ngeometry: none\nkey: [a]\nattributes: [{name: a, type: text, required: true}]")
          .find("reserved"),
      std::string::npos);
  EXPECT_NE(error_of("name: [oops").find("not valid YAML"), std::string::npos);
}

TEST(Catalogue, JsonRoundTripKeepsTheDefinition) {
  const LayerDef layer = parse_layer_definition(kSchools, "layers/schools.yaml");
  const LayerDef back = layer_from_json(to_json(layer), "db");
  EXPECT_EQ(to_json(back), to_json(layer));
}

TEST(Catalogue, BuiltInLayersLoadAndOwnerNamesAreRestricted) {
  const Catalogue catalogue = Catalogue::load_directory(default_layers_directory());
  for (const char* name :
       {"communes", "old_communes", "old_districts", "commune_mapping", "streets", "addresses", "parcels"}) {
    EXPECT_NE(catalogue.find(name), nullptr) << name;
  }
  const LayerDef& parcels = catalogue.layer("parcels");
  EXPECT_EQ(parcels.key, (std::vector<std::string>{"old_commune_code", "sheet_no", "parcel_no"}));
  EXPECT_EQ(parcels.find_attribute("owner_name")->access, Access::restricted);
  EXPECT_THROW((void)catalogue.layer("roads"), NotFoundError);
}

TEST(Catalogue, FileNameMustMatchLayerName) {
  testing::TempDir dir;
  std::ofstream(dir / "school.yaml") << kSchools;
  try {
    Catalogue::load_directory(dir.path());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("school.yaml: name: 'schools' must match the file name 'school'"),
              std::string::npos);
  }
}

}  // namespace bandoso::layers
