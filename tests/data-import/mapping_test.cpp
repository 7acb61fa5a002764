#include "data-import/mapping.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "layers/core/catalogue.hpp"
#include "layers/core/error.hpp"

namespace bandoso::data_import {
namespace {

const layers::Catalogue& catalogue() {
  static const layers::Catalogue instance = layers::Catalogue::load_directory(layers::default_layers_directory());
  return instance;
}

// The message of the ConfigError `code` throws (fails the test when it throws nothing or something else).
template <typename F>
std::string config_error(F&& code) {
  try {
    code();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.code(), ErrorCode::config_invalid);
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ConfigError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected ConfigError, nothing thrown";
  return {};
}

TEST(Mapping, ParsesEveryKey) {
  const auto mapping = parse_mapping(R"(
# comment
layer: parcels
source_layer: xa_cu
source_id: OBJECTID
encoding: tcvn3
source_crs: EPSG:9208
csv: {x: lon, y: lat}
fields:
  old_commune_code: MAXA
  sheet_no: SHBANDO
constants:
  commune_code: "16681"
)",
                                     "presets/x.yaml");
  EXPECT_EQ(mapping.origin, "presets/x.yaml");
  EXPECT_EQ(mapping.layer, "parcels");
  EXPECT_EQ(mapping.source_layer, "xa_cu");
  EXPECT_EQ(mapping.source_id, "OBJECTID");
  EXPECT_EQ(mapping.encoding, "tcvn3");
  EXPECT_EQ(mapping.source_crs, "EPSG:9208");
  ASSERT_TRUE(mapping.csv.has_value());
  EXPECT_EQ(mapping.csv->x, "lon");
  EXPECT_EQ(mapping.csv->y, "lat");
  ASSERT_EQ(mapping.fields.size(), 2U);
  EXPECT_EQ(mapping.fields[0].first, "old_commune_code");
  EXPECT_EQ(*mapping.field_for("sheet_no"), "SHBANDO");
  EXPECT_EQ(mapping.field_for("parcel_no"), nullptr);
  EXPECT_EQ(*mapping.constant_for("commune_code"), "16681");
}

TEST(Mapping, OptionalKeysMayBeLeftOut) {
  const auto mapping = parse_mapping("layer: streets\n", "m.yaml");
  EXPECT_EQ(mapping.layer, "streets");
  EXPECT_TRUE(mapping.source_layer.empty());
  EXPECT_TRUE(mapping.encoding.empty());
  EXPECT_FALSE(mapping.csv.has_value());
  EXPECT_TRUE(mapping.fields.empty());
  EXPECT_TRUE(mapping.constants.empty());
}

TEST(Mapping, ErrorsNameTheFileAndTheKeyPath) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  const Case cases[] = {
      {"layer: parcels\ncolour: red\n", "colour"},
      {"layer: parcels\nfields: [MAXA, SHBANDO]\n", "fields"},
      {"layer: parcels\nfields:\n  sheet_no: [SHBANDO]\n", "fields.sheet_no"},
      {"layer: parcels\nfields:\n  sheet_no:\n", "fields.sheet_no"},
      {"layer: parcels\nconstants:\n  province_code: {a: 1}\n", "constants.province_code"},
      {"layer: parcels\ncsv: {x: lon, z: lat}\n", "csv.z"},
      {"layer: parcels\ncsv: {x: lon}\n", "csv.y"},
      {"layer: parcels\ncsv: lon\n", "csv"},
      {"layer: parcels\nencoding: latin1\n", "encoding"},
      {"layer: [parcels]\n", "layer"},
      {"source_layer: x\n", "layer"},
      {"layer: parcels\nfields: {sheet_no: SHBANDO}\nconstants: {sheet_no: \"1\"}\n", "constants.sheet_no"},
      {"layer: parcels\nfields:\n  sheet_no: A\n  sheet_no: B\n", "fields.sheet_no"},
      {"layer: parcels\nfields:\n  land_use: {field: A, case: shouting}\n", "fields.land_use.case"},
      {"layer: parcels\nfields:\n  land_use: {field: A, colour: red}\n", "fields.land_use.colour"},
      {"layer: parcels\nfields:\n  land_use: {case: upper}\n", "fields.land_use.field"},
      {"layer: parcels\nfields:\n  land_use: {field: A, trim: maybe}\n", "fields.land_use.trim"},
      {"layer: parcels\nfields:\n  land_use: {field: A, split: \"\"}\n", "fields.land_use.split"},
      {"layer: parcels\nfields:\n  land_use: {field: A, join: \"+\"}\n", "fields.land_use.join"},
      {"layer: parcels\nfields:\n  land_use: {value: ODT, case: upper}\n", "fields.land_use.value"},
      {"layer: parcels\nfilters: {field: A}\n", "filters"},
      {"layer: parcels\nfilters:\n  - {equals: x}\n", "filters[0].field"},
      {"layer: parcels\nfilters:\n  - {field: A, equals: x}\n  - {field: A}\n", "filters[1]"},
      {"layer: parcels\nfilters:\n  - {field: A, equals: x, in: [y]}\n", "filters[0].in"},
      {"layer: parcels\nfilters:\n  - {field: A, in: x}\n", "filters[0].in"},
      {"layer: parcels\nfilters:\n  - {field: A, like: x}\n", "filters[0].like"},
      {"layer: parcels\nfilters:\n  - {field: A, empty: perhaps}\n", "filters[0].empty"},
      {"layer: parcels\ncsv: {x: lon, y: lat, wkt: geom}\n", "csv.wkt"},
  };
  for (const auto& c : cases) {
    const std::string message = config_error([&] { (void)parse_mapping(c.yaml, "presets/bad.yaml"); });
    EXPECT_NE(message.find("presets/bad.yaml: "), std::string::npos) << c.yaml << " → " << message;
    EXPECT_NE(message.find(std::string(": ") + c.key + ": "), std::string::npos) << c.yaml << " → " << message;
  }
}

TEST(Mapping, SyntaxErrorsNameTheFileAndLine) {
  const std::string message = config_error([] { (void)parse_mapping("layer: parcels\nfields: {a: b\n", "m.yaml"); });
  EXPECT_NE(message.find("m.yaml: "), std::string::npos) << message;
  EXPECT_NE(message.find("line "), std::string::npos) << message;
  EXPECT_NE(config_error([] { (void)parse_mapping("- a\n- b\n", "list.yaml"); }).find("list.yaml"), std::string::npos);
}

TEST(Mapping, CheckAgainstTheLayer) {
  const auto& parcels = catalogue().layer("parcels");
  EXPECT_NO_THROW(check_mapping(parse_mapping("layer: parcels\nfields: {sheet_no: SHBANDO}\n", "ok.yaml"), parcels));

  auto message = config_error(
      [&] { check_mapping(parse_mapping("layer: parcels\nfields: {sheet_number: SHBANDO}\n", "m.yaml"), parcels); });
  EXPECT_NE(message.find("m.yaml: fields.sheet_number: "), std::string::npos) << message;

  message = config_error([&] { check_mapping(parse_mapping("layer: streets\n", "m.yaml"), parcels); });
  EXPECT_NE(message.find("m.yaml: layer: "), std::string::npos) << message;

  message = config_error(
      [&] { check_mapping(parse_mapping("layer: parcels\nconstants: {sheet_no: twelve}\n", "m.yaml"), parcels); });
  EXPECT_NE(message.find("m.yaml: constants.sheet_no: "), std::string::npos) << message;

  message = config_error(
      [&] { check_mapping(parse_mapping("layer: parcels\nconstants: {nothing: x}\n", "m.yaml"), parcels); });
  EXPECT_NE(message.find("m.yaml: constants.nothing: "), std::string::npos) << message;

  const auto& communes = catalogue().layer("communes");
  message = config_error([&] {
    check_mapping(parse_mapping("layer: communes\nconstants: {valid_from: 2025-02-30}\n", "m.yaml"), communes);
  });
  EXPECT_NE(message.find("m.yaml: constants.valid_from: "), std::string::npos) << message;

  const auto& codes = catalogue().layer("land_use_codes");
  message = config_error(
      [&] { check_mapping(parse_mapping("layer: land_use_codes\ncsv: {x: a, y: b}\n", "m.yaml"), codes); });
  EXPECT_NE(message.find("m.yaml: csv: "), std::string::npos) << message;
}

TEST(Mapping, FieldRulesFiltersAndWkt) {
  const auto mapping = parse_mapping(R"(
layer: parcels
csv: {wkt: geom}
fields:
  sheet_no: SHBANDO
  land_use: {field: KHLOAIDAT, trim: true, case: upper, split: ",", join: "+"}
  owner_name: {field: TENCHU, case: title, default: "?"}
  commune_code: {value: "16681"}
filters:
  - {field: MATINH, equals: " 40 "}
  - {field: KHLOAIDAT, not_in: [DGT, SON]}
  - {field: SHTHUA, empty: false}
)",
                                     "m.yaml");
  ASSERT_TRUE(mapping.csv.has_value());
  EXPECT_EQ(mapping.csv->wkt, "geom");
  EXPECT_TRUE(mapping.csv->x.empty());
  EXPECT_EQ(*mapping.field_for("land_use"), "KHLOAIDAT");
  const FieldSpec* land_use = mapping.spec_for("land_use");
  ASSERT_NE(land_use, nullptr);
  EXPECT_TRUE(land_use->squeeze);
  EXPECT_EQ(land_use->letter_case, LetterCase::upper);
  EXPECT_EQ(land_use->list_separator(), "+");
  EXPECT_FALSE(mapping.spec_for("sheet_no")->has_text_rules());
  EXPECT_EQ(mapping.spec_for("sheet_no")->list_separator(), "+");
  EXPECT_EQ(mapping.spec_for("owner_name")->default_value, "?");
  EXPECT_EQ(mapping.field_for("commune_code"), nullptr);  // {value: ...} is a constant
  EXPECT_EQ(*mapping.constant_for("commune_code"), "16681");
  ASSERT_EQ(mapping.filters.size(), 3U);
  EXPECT_EQ(mapping.filters[0].key, "filters[0]");
  EXPECT_TRUE(mapping.filters[0].passes("40"));  // values are trimmed like the field text
  EXPECT_FALSE(mapping.filters[0].passes("41"));
  EXPECT_FALSE(mapping.filters[1].passes("SON"));
  EXPECT_TRUE(mapping.filters[1].passes("ODT"));
  EXPECT_FALSE(mapping.filters[2].passes(""));
  EXPECT_TRUE(mapping.filters[2].passes("12"));
  EXPECT_NO_THROW(check_mapping(mapping, catalogue().layer("parcels")));

  EXPECT_EQ(apply_text_rules(*land_use, " odt ,  ont+cln ,, "), "ODT+ONT+CLN");
  FieldSpec title;
  title.letter_case = LetterCase::title;
  title.squeeze = true;
  EXPECT_EQ(apply_text_rules(title, "  nguyễn   văn  đức "), "Nguyễn Văn Đức");
  FieldSpec plain;
  EXPECT_EQ(apply_text_rules(plain, "  a   b "), "a   b");
}

TEST(Mapping, RulesMustFitTheAttribute) {
  const auto& parcels = catalogue().layer("parcels");
  auto message = config_error([&] {
    check_mapping(parse_mapping("layer: parcels\nfields: {sheet_no: {field: A, case: upper}}\n", "m.yaml"), parcels);
  });
  EXPECT_NE(message.find("m.yaml: fields.sheet_no: "), std::string::npos) << message;
  message = config_error([&] {
    check_mapping(parse_mapping("layer: parcels\nfields: {sheet_no: {field: A, default: many}}\n", "m.yaml"), parcels);
  });
  EXPECT_NE(message.find("m.yaml: fields.sheet_no.default: "), std::string::npos) << message;
  EXPECT_NO_THROW(
      check_mapping(parse_mapping("layer: parcels\nfields: {sheet_no: {field: A, default: 1}}\n", "m.yaml"), parcels));
}

TEST(Mapping, MissingFileIsFileNotFound) {
  try {
    (void)load_mapping("/nonexistent/bandoso/mapping.yaml");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::file_not_found);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/bandoso/mapping.yaml"), std::string::npos);
  }
}

// Every shipped preset parses and fits the layer it names.
TEST(Mapping, PresetsFitTheirLayers) {
  const std::filesystem::path presets = std::filesystem::path(BANDOSO_SOURCE_DIR) / "data-import" / "presets";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(presets)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const auto mapping = load_mapping(entry.path());
    EXPECT_EQ(mapping.origin, entry.path().string());
    EXPECT_NO_THROW(check_mapping(mapping, catalogue().layer(mapping.layer)));
    ++count;
  }
  EXPECT_GE(count, 9);
}

TEST(AttributeValue, ConvertsTextToTheAttributeType) {
  using layers::AttributeType;
  using layers::Value;
  EXPECT_EQ(parse_attribute_value("  Đức  ", AttributeType::text), Value{std::string("Đức")});
  EXPECT_EQ(parse_attribute_value("   ", AttributeType::text), Value{});
  EXPECT_EQ(parse_attribute_value("42", AttributeType::integer), Value{std::int64_t{42}});
  EXPECT_EQ(parse_attribute_value("42.0", AttributeType::integer), Value{std::int64_t{42}});
  EXPECT_FALSE(parse_attribute_value("42.5", AttributeType::integer).has_value());
  EXPECT_FALSE(parse_attribute_value("4a", AttributeType::integer).has_value());
  EXPECT_EQ(parse_attribute_value("104.9", AttributeType::real), Value{104.9});
  EXPECT_EQ(parse_attribute_value("104,9", AttributeType::real), Value{104.9});
  EXPECT_FALSE(parse_attribute_value("1,234.5,6", AttributeType::real).has_value());
  EXPECT_EQ(parse_attribute_value("2025-07-01", AttributeType::date), Value{std::string("2025-07-01")});
  EXPECT_EQ(parse_attribute_value("01/07/2025", AttributeType::date), Value{std::string("2025-07-01")});
  EXPECT_EQ(parse_attribute_value("2024-02-29", AttributeType::date), Value{std::string("2024-02-29")});
  EXPECT_FALSE(parse_attribute_value("2025-02-29", AttributeType::date).has_value());
  EXPECT_FALSE(parse_attribute_value("1/7/2025", AttributeType::date).has_value());
  EXPECT_EQ(parse_attribute_value("yes", AttributeType::boolean), Value{std::int64_t{1}});
  EXPECT_EQ(parse_attribute_value("0", AttributeType::boolean), Value{std::int64_t{0}});
}

}  // namespace
}  // namespace bandoso::data_import
