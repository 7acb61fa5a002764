#pragma once
// Reading YAML configuration (layer definitions, access keys) so that every error names the file and
// the key path, e.g. "access.yaml: keys[2].role: expected one of public, department, admin".

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fmt/format.h>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "layers/core/error.hpp"

namespace bandoso::layers {

// Reads YAML nodes while naming the file and the key path in every error.
class YamlReader {
 public:
  explicit YamlReader(std::string origin) : origin_(std::move(origin)) {}

  void only_keys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> allowed) const {
    if (!map.IsMap()) throw ConfigError(origin_, path.empty() ? "(top level)" : path, "expected a mapping");
    for (const auto& entry : map) {
      const auto key = entry.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        throw ConfigError(origin_, join(path, key), fmt::format("unknown key (allowed: {})", list));
      }
    }
  }

  [[nodiscard]] std::string text(const YAML::Node& map, const std::string& path, const std::string& key, bool required,
                                 const std::string& fallback = "") const {
    const YAML::Node node = map[key];
    if (!node) {
      if (required) throw ConfigError(origin_, join(path, key), "missing required key");
      return fallback;
    }
    if (!node.IsScalar()) throw ConfigError(origin_, join(path, key), "expected a text value");
    return node.as<std::string>();
  }

  template <typename T>
  T number(const YAML::Node& map, const std::string& path, const std::string& key, T fallback) const {
    const YAML::Node node = map[key];
    if (!node) return fallback;
    try {
      if (!node.IsScalar()) throw YAML::BadConversion(node.Mark());
      return node.as<T>();
    } catch (const YAML::BadConversion&) {
      throw ConfigError(origin_, join(path, key),
                        fmt::format("expected {} number, got '{}'", std::is_integral_v<T> ? "a whole" : "a",
                                    node.IsScalar() ? node.as<std::string>() : std::string("a structure")));
    }
  }

  [[nodiscard]] bool boolean(const YAML::Node& map, const std::string& path, const std::string& key,
                             bool fallback) const {
    const YAML::Node node = map[key];
    if (!node) return fallback;
    try {
      return node.as<bool>();
    } catch (const YAML::BadConversion&) {
      throw ConfigError(origin_, join(path, key), "expected true or false");
    }
  }

  [[nodiscard]] const std::string& origin() const { return origin_; }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  std::string origin_;
};

}  // namespace bandoso::layers
