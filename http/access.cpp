#include "http/access.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

#include "layers/core/yaml_reader.hpp"

namespace bandoso::http {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::public_role:
      return "public";
    case Role::department:
      return "department";
    case Role::admin:
      return "admin";
  }
  return "public";
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::internal, "SHA-256 is unavailable");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

RateLimit read_rate(const layers::YamlReader& r, const YAML::Node& node, const std::string& path) {
  RateLimit rate;
  if (!node) return rate;
  r.only_keys(node, path, {"per_second", "burst"});
  rate.per_second = r.number<double>(node, path, "per_second", 0);
  rate.burst = r.number<double>(node, path, "burst", std::max(1.0, rate.per_second));
  if (rate.per_second < 0 || rate.burst < 1) {
    throw ConfigError(r.origin(), path, "per_second must be 0 or more and burst 1 or more");
  }
  return rate;
}

}  // namespace

AccessConfig load_access_config(const std::filesystem::path& file) {
  const layers::YamlReader r(file.string());
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw Error(ErrorCode::file_not_found, fmt::format("{}: cannot be read", file.string()));
  } catch (const YAML::Exception& e) {
    throw ConfigError(file.string(), "", fmt::format("not YAML: {}", e.what()));
  }
  r.only_keys(root, "", {"keys", "anonymous_rate", "audit_log"});
  AccessConfig config;
  config.anonymous_rate = read_rate(r, root["anonymous_rate"], "anonymous_rate");
  const std::string log = r.text(root, "", "audit_log", false);
  if (!log.empty()) {
    const std::filesystem::path path(log);
    config.audit_log = path.is_absolute() ? path : file.parent_path() / path;
  }
  const YAML::Node keys = root["keys"];
  if (keys && !keys.IsSequence()) throw ConfigError(file.string(), "keys", "expected a list");
  for (std::size_t i = 0; keys && i < keys.size(); ++i) {
    const std::string path = fmt::format("keys[{}]", i);
    const YAML::Node node = keys[i];
    r.only_keys(node, path, {"name", "role", "sha256", "rate"});
    ApiKey key;
    key.name = r.text(node, path, "name", true);
    const std::string role = r.text(node, path, "role", true);
    if (role == "public") {
      key.role = Role::public_role;
    } else if (role == "department") {
      key.role = Role::department;
    } else if (role == "admin") {
      key.role = Role::admin;
    } else {
      throw ConfigError(file.string(), path + ".role",
                        fmt::format("'{}' is not one of public, department, admin", role));
    }
    key.sha256 = r.text(node, path, "sha256", true);
    const bool hex = key.sha256.size() == 64 && std::all_of(key.sha256.begin(), key.sha256.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) {
      throw ConfigError(file.string(), path + ".sha256", "expected 64 lower-case hex digits (bandoso hash-key)");
    }
    for (const auto& other : config.keys) {
      if (other.sha256 == key.sha256) throw ConfigError(file.string(), path + ".sha256", "the same key twice");
    }
    key.rate = read_rate(r, node["rate"], path + ".rate");
    config.keys.push_back(std::move(key));
  }
  const bool sees_restricted =
      std::any_of(config.keys.begin(), config.keys.end(), [](const ApiKey& k) { return k.role != Role::public_role; });
  if (sees_restricted && config.audit_log.empty()) {
    throw ConfigError(file.string(), "audit_log",
                      "required when a department or admin key may see personal data: every access is traced");
  }
  return config;
}

Access::Access(AccessConfig config) : config_(std::move(config)), last_pruned_(std::chrono::steady_clock::now()) {
  for (const auto& key : config_.keys) by_hash_[key.sha256] = &key;
  if (!config_.audit_log.empty()) {
    audit_.open(config_.audit_log, std::ios::app);
    if (!audit_) {
      throw Error(ErrorCode::config_invalid,
                  fmt::format("{}: the audit log cannot be written", config_.audit_log.string()));
    }
  }
}

Caller Access::identify(std::string_view key) const {
  if (key.empty()) return {};
  const auto it = by_hash_.find(sha256_hex(key));
  if (it == by_hash_.end()) throw Error(ErrorCode::unauthorized, "unknown API key");
  return Caller{it->second->role, it->second->name};
}

void Access::admit(const Caller& caller, const std::string& client_address) {
  RateLimit rate = config_.anonymous_rate;
  std::string bucket_name = "ip:" + client_address;
  if (!caller.key_name.empty()) {
    for (const auto& key : config_.keys) {
      if (key.name == caller.key_name) rate = key.rate;
    }
    bucket_name = "key:" + caller.key_name;
  }
  if (rate.per_second <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(buckets_mutex_);
  // Buckets idle long enough to be full again carry no state: drop them now and then.
  if (now - last_pruned_ > std::chrono::minutes(10)) {
    std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.last > std::chrono::minutes(10); });
    last_pruned_ = now;
  }
  auto [it, added] = buckets_.try_emplace(bucket_name, Bucket{rate.burst, now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(rate.burst, b.tokens + elapsed * rate.per_second);
  b.last = now;
  if (b.tokens < 1) {
    const int wait = static_cast<int>(std::ceil((1 - b.tokens) / rate.per_second));
    throw RateLimitedError(fmt::format("more than {} requests per second: try again in {} s", rate.per_second, wait),
                           std::max(1, wait));
  }
  b.tokens -= 1;
}

void Access::audit(const Caller& caller, std::string_view endpoint, const std::vector<std::string>& feature_ids) {
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const nlohmann::json line = {{"time", fmt::format("{:%FT%T}Z", now)},
                               {"key", caller.key_name},
                               {"role", to_string(caller.role)},
                               {"endpoint", endpoint},
                               {"feature_ids", feature_ids}};
  std::lock_guard lock(audit_mutex_);
  audit_ << line.dump() << '\n';
  audit_.flush();
  if (!audit_) throw Error(ErrorCode::storage_failure, "the audit log cannot be written");
}

}  // namespace bandoso::http
