#include "data-import/mapping.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "layers/core/error.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::data_import {

bool is_known_encoding(std::string_view name) {
  return std::find(std::begin(kEncodings), std::end(kEncodings), name) != std::end(kEncodings);
}

const std::string* Mapping::field_for(std::string_view attribute) const {
  const FieldSpec* spec = spec_for(attribute);
  return spec != nullptr ? &spec->field : nullptr;
}

const FieldSpec* Mapping::spec_for(std::string_view attribute) const {
  for (const auto& [name, spec] : fields) {
    if (name == attribute) return &spec;
  }
  return nullptr;
}

const std::string& FieldSpec::list_separator() const {
  static const std::string kPlus = "+";
  if (!join.empty()) return join;
  if (!split.empty()) return split;
  return kPlus;
}

const std::string* Mapping::constant_for(std::string_view attribute) const {
  for (const auto& [name, value] : constants) {
    if (name == attribute) return &value;
  }
  return nullptr;
}

// ---- values ----------------------------------------------------------------------------------------

namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_real(std::string_view text) {
  // Vietnamese spreadsheets write a decimal comma; accept it when it is the only separator.
  std::string copy(text);
  if (copy.find('.') == std::string::npos && std::count(copy.begin(), copy.end(), ',') == 1) {
    std::replace(copy.begin(), copy.end(), ',', '.');
  }
  const auto value = parse_number<double>(copy);
  if (!value || !std::isfinite(*value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (auto value = parse_number<std::int64_t>(text)) return value;
  // "12.0" is how some exports write integers held in real columns.
  const auto real = parse_real(text);
  if (!real || std::trunc(*real) != *real || std::fabs(*real) > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(*real);
}

bool valid_date(int year, int month, int day) {
  static constexpr std::array<int, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  if (day > kDays[static_cast<std::size_t>(month - 1)]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return !(month == 2 && day == 29 && !leap);
}

std::optional<std::string> parse_date(std::string_view text) {
  // A datetime's time part is dropped: the attribute holds a day.
  if (text.size() > 10 && (text[10] == 'T' || text[10] == ' ')) text = text.substr(0, 10);
  int year = 0, month = 0, day = 0;
  auto digits = [&](std::size_t pos, std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    const auto value = parse_number<int>(text.substr(pos, count));
    if (!value || !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(pos),
                               text.begin() + static_cast<std::ptrdiff_t>(pos + count),
                               [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    out = *value;
    return true;
  };
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    if (!digits(0, 4, year) || !digits(5, 2, month) || !digits(8, 2, day)) return std::nullopt;
  } else if (text.size() == 10 && text[2] == '/' && text[5] == '/') {
    if (!digits(0, 2, day) || !digits(3, 2, month) || !digits(6, 4, year)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!valid_date(year, month, day)) return std::nullopt;
  return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

std::optional<std::int64_t> parse_boolean(std::string_view text) {
  const std::string lower = ascii_lower(text);
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "y" || lower == "có") return 1;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "n" || lower == "không") return 0;
  return std::nullopt;
}

}  // namespace

std::optional<layers::Value> parse_attribute_value(std::string_view text, layers::AttributeType type) {
  text = trim(text);
  if (text.empty()) return layers::Value{};
  switch (type) {
    case layers::AttributeType::text:
      return layers::Value{std::string(text)};
    case layers::AttributeType::integer:
      if (auto v = parse_integer(text)) return layers::Value{*v};
      return std::nullopt;
    case layers::AttributeType::real:
      if (auto v = parse_real(text)) return layers::Value{*v};
      return std::nullopt;
    case layers::AttributeType::date:
      if (auto v = parse_date(text)) return layers::Value{*v};
      return std::nullopt;
    case layers::AttributeType::boolean:
      if (auto v = parse_boolean(text)) return layers::Value{*v};
      return std::nullopt;
  }
  return std::nullopt;
}

// ---- text rules and filters -------------------------------------------------------------------------

namespace {

std::string squeeze_spaces(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : trim(text)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string tidy(const FieldSpec& spec, std::string_view text) {
  std::string out = spec.squeeze ? squeeze_spaces(text) : std::string(trim(text));
  switch (spec.letter_case) {
    case LetterCase::keep:
      break;
    case LetterCase::upper:
      out = layers::vntext::to_upper(out);
      break;
    case LetterCase::lower:
      out = layers::vntext::to_lower(out);
      break;
    case LetterCase::title:
      out = layers::vntext::to_title(out);
      break;
  }
  return out;
}

}  // namespace

std::string apply_text_rules(const FieldSpec& spec, std::string_view text) {
  if (spec.split.empty()) return tidy(spec, text);
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(spec.split, start);
    if (end == std::string_view::npos) end = text.size();
    const std::string part = tidy(spec, text.substr(start, end - start));
    if (!part.empty()) out += (out.empty() ? "" : spec.list_separator()) + part;
    start = end + spec.split.size();
  }
  return out;
}

bool Filter::passes(std::string_view text) const {
  const auto listed = [&] { return std::find(values.begin(), values.end(), text) != values.end(); };
  switch (op) {
    case Op::equals:
    case Op::in:
      return listed();
    case Op::not_equals:
    case Op::not_in:
      return !listed();
    case Op::empty:
      return text.empty();
    case Op::not_empty:
      return !text.empty();
  }
  return true;
}

// ---- parsing ---------------------------------------------------------------------------------------

namespace {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw ConfigError(origin_, key, message);
  }

  [[nodiscard]] std::string scalar(const YAML::Node& node, const std::string& key, const std::string& what) const {
    if (!node.IsScalar()) fail(key, fmt::format("expected {}, found {}", what, describe(node)));
    return node.Scalar();
  }

  // A map of scalar keys; duplicate keys are refused (yaml-cpp keeps the last silently).
  [[nodiscard]] std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& node,
                                                                        const std::string& key) const {
    if (!node.IsMap()) fail(key, fmt::format("expected a mapping, found {}", describe(node)));
    std::vector<std::pair<std::string, YAML::Node>> out;
    for (const auto& item : node) {
      const std::string name = scalar(item.first, key, "a key");
      const std::string path = key.empty() ? name : key + "." + name;
      for (const auto& seen : out) {
        if (seen.first == name) fail(path, "given twice");
      }
      out.emplace_back(name, item.second);
    }
    return out;
  }

 private:
  std::string origin_;
};

}  // namespace

Mapping parse_mapping(std::string_view yaml_text, const std::string& origin) {
  const Parser parser(origin);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    parser.fail("", fmt::format("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root.IsMap()) parser.fail("", fmt::format("expected a mapping at the top level, found {}", describe(root)));

  Mapping mapping;
  mapping.origin = origin;
  for (const auto& [key, node] : parser.entries(root, "")) {
    if (key == "layer") {
      mapping.layer = parser.scalar(node, key, "a layer name");
    } else if (key == "source_layer") {
      mapping.source_layer = parser.scalar(node, key, "an OGR layer name");
    } else if (key == "source_id") {
      mapping.source_id = parser.scalar(node, key, "a field name");
    } else if (key == "encoding") {
      mapping.encoding = parser.scalar(node, key, "an encoding");
      if (!is_known_encoding(mapping.encoding)) {
        parser.fail(
            key, fmt::format("unknown encoding '{}' (expected auto, utf-8, tcvn3, vni or cp1258)", mapping.encoding));
      }
    } else if (key == "source_crs") {
      mapping.source_crs = parser.scalar(node, key, "a CRS (e.g. EPSG:4326)");
    } else if (key == "csv") {
      CsvColumns columns;
      for (const auto& [axis, column] : parser.entries(node, key)) {
        const std::string path = key + "." + axis;
        if (axis == "x") {
          columns.x = parser.scalar(column, path, "a column name");
        } else if (axis == "y") {
          columns.y = parser.scalar(column, path, "a column name");
        } else if (axis == "wkt") {
          columns.wkt = parser.scalar(column, path, "a column name");
        } else {
          parser.fail(path, "unknown key (expected x and y, or wkt)");
        }
      }
      if (!columns.wkt.empty()) {
        if (!columns.x.empty() || !columns.y.empty()) parser.fail(key + ".wkt", "give either wkt or x and y");
      } else {
        if (columns.x.empty()) parser.fail(key + ".x", "missing: the longitude/easting column");
        if (columns.y.empty()) parser.fail(key + ".y", "missing: the latitude/northing column");
      }
      mapping.csv = columns;
    } else if (key == "fields") {
      for (const auto& [attribute, spec_node] : parser.entries(node, key)) {
        const std::string path = key + "." + attribute;
        if (!spec_node.IsMap()) {
          FieldSpec spec;
          spec.field = parser.scalar(spec_node, path, "a source field name or {field: ..., ...}");
          if (spec.field.empty()) parser.fail(path, "empty source field name");
          mapping.fields.emplace_back(attribute, std::move(spec));
          continue;
        }
        FieldSpec spec;
        std::optional<std::string> value;
        bool has_rules = false;
        for (const auto& [rule, rule_node] : parser.entries(spec_node, path)) {
          const std::string rule_path = path + "." + rule;
          if (rule == "field") {
            spec.field = parser.scalar(rule_node, rule_path, "a source field name");
            if (spec.field.empty()) parser.fail(rule_path, "empty source field name");
          } else if (rule == "value") {
            value = parser.scalar(rule_node, rule_path, "a value");
          } else if (rule == "trim") {
            const std::string flag = parser.scalar(rule_node, rule_path, "true or false");
            if (flag != "true" && flag != "false") parser.fail(rule_path, "expected true or false");
            spec.squeeze = flag == "true";
            has_rules = true;
          } else if (rule == "case") {
            const std::string name = parser.scalar(rule_node, rule_path, "upper, lower or title");
            if (name == "upper") {
              spec.letter_case = LetterCase::upper;
            } else if (name == "lower") {
              spec.letter_case = LetterCase::lower;
            } else if (name == "title") {
              spec.letter_case = LetterCase::title;
            } else {
              parser.fail(rule_path, fmt::format("unknown case '{}' (expected upper, lower or title)", name));
            }
            has_rules = true;
          } else if (rule == "split" || rule == "join") {
            std::string separator = parser.scalar(rule_node, rule_path, "a separator");
            if (separator.empty()) parser.fail(rule_path, "empty separator");
            (rule == "split" ? spec.split : spec.join) = std::move(separator);
            has_rules = true;
          } else if (rule == "default") {
            spec.default_value = parser.scalar(rule_node, rule_path, "a value");
            has_rules = true;
          } else {
            parser.fail(rule_path, "unknown key (expected field, value, trim, case, split, join, default)");
          }
        }
        if (!spec.join.empty() && spec.split.empty()) parser.fail(path + ".join", "join needs split");
        if (value) {
          if (!spec.field.empty() || has_rules) parser.fail(path + ".value", "a constant takes no field or rules");
          mapping.constants.emplace_back(attribute, *value);
        } else {
          if (spec.field.empty()) parser.fail(path + ".field", "missing: the source field (or value: a constant)");
          mapping.fields.emplace_back(attribute, std::move(spec));
        }
      }
    } else if (key == "filters") {
      if (!node.IsSequence()) parser.fail(key, fmt::format("expected a list, found {}", describe(node)));
      for (std::size_t i = 0; i < node.size(); ++i) {
        Filter filter;
        filter.key = fmt::format("{}[{}]", key, i);
        bool has_condition = false;
        for (const auto& [name, value] : parser.entries(node[i], filter.key)) {
          const std::string path = filter.key + "." + name;
          if (name == "field") {
            filter.field = parser.scalar(value, path, "a source field name");
            continue;
          }
          if (has_condition) parser.fail(path, "one condition per filter (add another filter)");
          has_condition = true;
          if (name == "equals" || name == "not_equals") {
            filter.op = name == "equals" ? Filter::Op::equals : Filter::Op::not_equals;
            filter.values = {parser.scalar(value, path, "a value")};
          } else if (name == "in" || name == "not_in") {
            filter.op = name == "in" ? Filter::Op::in : Filter::Op::not_in;
            if (!value.IsSequence() || value.size() == 0)
              parser.fail(path, fmt::format("expected a non-empty list, found {}", describe(value)));
            for (const auto& item : value) filter.values.push_back(parser.scalar(item, path, "a value"));
          } else if (name == "empty") {
            const std::string flag = parser.scalar(value, path, "true or false");
            if (flag != "true" && flag != "false") parser.fail(path, "expected true or false");
            filter.op = flag == "true" ? Filter::Op::empty : Filter::Op::not_empty;
          } else {
            parser.fail(path, "unknown key (expected field and one of equals, not_equals, in, not_in, empty)");
          }
        }
        if (filter.field.empty()) parser.fail(filter.key + ".field", "missing: the source field to test");
        if (!has_condition) parser.fail(filter.key, "missing: a condition (equals, not_equals, in, not_in, empty)");
        for (auto& v : filter.values) v = layers::vntext::to_nfc(std::string(trim(v)));
        mapping.filters.push_back(std::move(filter));
      }
    } else if (key == "constants") {
      for (const auto& [attribute, value] : parser.entries(node, key)) {
        mapping.constants.emplace_back(attribute, parser.scalar(value, key + "." + attribute, "a value"));
      }
    } else {
      parser.fail(key,
                  "unknown key (expected layer, source_layer, source_id, encoding, source_crs, csv, fields, "
                  "constants, filters)");
    }
  }
  if (mapping.layer.empty()) parser.fail("layer", "missing: the layer this mapping is for");
  for (std::size_t i = 0; i < mapping.constants.size(); ++i) {
    const std::string& attribute = mapping.constants[i].first;
    if (mapping.field_for(attribute) != nullptr) {
      parser.fail("constants." + attribute, "the attribute is also mapped in fields");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (mapping.constants[j].first == attribute) parser.fail("constants." + attribute, "given twice");
    }
  }
  return mapping;
}

Mapping load_mapping(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(ErrorCode::file_not_found, file.string() + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mapping(text.str(), file.string());
}

void check_mapping(const Mapping& mapping, const layers::LayerDef& layer) {
  if (mapping.layer != layer.name) {
    throw ConfigError(mapping.origin, "layer",
                      fmt::format("the mapping is for layer '{}', not '{}'", mapping.layer, layer.name));
  }
  for (const auto& [attribute, spec] : mapping.fields) {
    const auto* def = layer.find_attribute(attribute);
    if (def == nullptr) {
      throw ConfigError(mapping.origin, "fields." + attribute,
                        fmt::format("layer '{}' has no attribute '{}'", layer.name, attribute));
    }
    if (spec.has_text_rules() && def->type != layers::AttributeType::text) {
      throw ConfigError(
          mapping.origin, "fields." + attribute,
          fmt::format("trim, case and split apply to text; '{}' is {}", attribute, layers::to_string(def->type)));
    }
    if (spec.default_value && !parse_attribute_value(*spec.default_value, def->type)) {
      throw ConfigError(mapping.origin, "fields." + attribute + ".default",
                        fmt::format("'{}' is not a valid {}", *spec.default_value, layers::to_string(def->type)));
    }
  }
  for (const auto& [attribute, value] : mapping.constants) {
    const auto* def = layer.find_attribute(attribute);
    if (def == nullptr) {
      throw ConfigError(mapping.origin, "constants." + attribute,
                        fmt::format("layer '{}' has no attribute '{}'", layer.name, attribute));
    }
    if (!parse_attribute_value(value, def->type)) {
      throw ConfigError(mapping.origin, "constants." + attribute,
                        fmt::format("'{}' is not a valid {}", value, layers::to_string(def->type)));
    }
  }
  if (mapping.csv && layer.geometry == layers::GeometryType::none) {
    throw ConfigError(mapping.origin, "csv", fmt::format("layer '{}' has no geometry", layer.name));
  }
}

}  // namespace bandoso::data_import
