#pragma once
// Who is asking, what they may see, how often they may ask, and the trace of personal data given out.
// API keys are configured in a YAML file by their SHA-256 only (the key itself is never stored):
//
//   keys:
//     - name: so-tnmt              # who, as the audit log names them
//       role: department           # public | department | admin
//       sha256: 9f86d0818...       # `bandoso hash-key` prints it
//       rate: {per_second: 50, burst: 100}
//   anonymous_rate: {per_second: 20, burst: 40}   # per client address, for requests without a key
//   audit_log: /var/log/bandoso/audit.jsonl
//
// department keys see restricted attributes (owner names), and every answer holding them is written to
// the audit log; admin keys may also purge caches and reload.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "layers/core/error.hpp"

namespace bandoso::http {

enum class Role { public_role, department, admin };
std::string_view to_string(Role role);

struct RateLimit {
  double per_second = 0;  // 0: no limit
  double burst = 0;
};

struct ApiKey {
  std::string name;
  Role role = Role::public_role;
  std::string sha256;  // lower-case hex
  RateLimit rate;
};

struct AccessConfig {
  std::vector<ApiKey> keys;
  RateLimit anonymous_rate;
  std::filesystem::path audit_log;  // empty: no audit log (then no key may see restricted attributes)
};

// Throws ConfigError naming the file and key at fault.
AccessConfig load_access_config(const std::filesystem::path& file);
std::string sha256_hex(std::string_view text);

struct Caller {
  Role role = Role::public_role;
  std::string key_name;  // empty for the public
  [[nodiscard]] bool sees_restricted() const { return role != Role::public_role; }
};

// Too many requests: the client should come back after `retry_after_seconds`.
class RateLimitedError : public Error {
 public:
  RateLimitedError(const std::string& message, int retry_after_seconds)
      : Error(ErrorCode::rate_limited, message), retry_after_(retry_after_seconds) {}
  [[nodiscard]] int retry_after_seconds() const { return retry_after_; }

 private:
  int retry_after_;
};

class Access {
 public:
  // Opens the audit log for appending; throws Error(config_invalid) when it cannot be written.
  explicit Access(AccessConfig config);

  // The caller holding `key` (empty: the public). Throws Error(unauthorized) for an unknown key.
  [[nodiscard]] Caller identify(std::string_view key) const;
  // One request of `caller` from `client_address`: throws RateLimitedError when its bucket is empty.
  void admit(const Caller& caller, const std::string& client_address);
  // Appends one JSON line: time, key, role, endpoint, feature ids.
  void audit(const Caller& caller, std::string_view endpoint, const std::vector<std::string>& feature_ids);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  AccessConfig config_;
  std::map<std::string, const ApiKey*, std::less<>> by_hash_;
  std::mutex buckets_mutex_;
  std::map<std::string, Bucket> buckets_;
  std::chrono::steady_clock::time_point last_pruned_;
  std::mutex audit_mutex_;
  std::ofstream audit_;
};

}  // namespace bandoso::http
