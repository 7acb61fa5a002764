#pragma once
// The one error catalogue of bandoso: every failure carries an ErrorCode, and the code alone decides
// the HTTP status and the process exit code. Messages name the file, record or key at fault.

#include <stdexcept>
#include <string>
#include <string_view>

namespace bandoso {

enum class ErrorCode {
  bad_request,      // malformed request or command-line usage
  not_found,        // unknown layer, tileset, route or feature
  too_large,        // a request body or geometry over its limit
  rate_limited,     // too many requests from one key or address
  unauthorized,     // an API key that is not known
  forbidden,        // a known caller whose role does not allow this
  config_invalid,   // a layer definition, mapping or config file is wrong
  input_invalid,    // a source file or record cannot be used
  file_not_found,   // a named file does not exist
  schema_mismatch,  // the database has another schema version
  storage_failure,  // the store could not read or write
  render_failure,   // Mapnik could not render
  unavailable,      // try again later (overload, time limit)
  internal,         // a bug: never shown in detail to clients
};

struct ErrorInfo {
  std::string_view name;  // stable identifier used in JSON answers
  int http_status;
  int exit_code;                    // 1: bad input or usage; 2: runtime failure
  std::string_view public_message;  // what a client is told when the detail must stay private
};

const ErrorInfo& error_info(ErrorCode code);

// Base of the small exception hierarchy (after libosmium): a code plus a message with context.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] ErrorCode code() const noexcept { return code_; }
  [[nodiscard]] const ErrorInfo& info() const { return error_info(code_); }

 private:
  ErrorCode code_;
};

// A configuration file is wrong; names the file and the key path, e.g. "layers/x.yaml: attributes[2].type: ...".
class ConfigError : public Error {
 public:
  ConfigError(const std::string& file, const std::string& key, const std::string& what)
      : Error(ErrorCode::config_invalid, file + ": " + (key.empty() ? "" : key + ": ") + what) {}
};

// A source file or one of its records cannot be used.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ErrorCode::input_invalid, message) {}
};

class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& message) : Error(ErrorCode::not_found, message) {}
};

class BadRequestError : public Error {
 public:
  explicit BadRequestError(const std::string& message) : Error(ErrorCode::bad_request, message) {}
};

class StoreError : public Error {
 public:
  explicit StoreError(const std::string& message) : Error(ErrorCode::storage_failure, message) {}
  StoreError(ErrorCode code, const std::string& message) : Error(code, message) {}
};

}  // namespace bandoso
