#pragma once
// The HTTP API as plain functions of a request: no web framework here, so tests and benchmarks
// call it directly and the Pistache adapter (server.cpp) stays a few lines of translation.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "geocoder/geocoder.hpp"
#include "layers/core/store.hpp"
#include "tileserver/tile_service.hpp"

namespace bandoso::http {

struct Request {
  std::string method = "GET";
  std::string path;                            // without the query string
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  [[nodiscard]] std::string param(const std::string& name, const std::string& fallback = "") const {
    const auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The services one server process answers with.
struct Services {
  layers::Store& store;
  tiles::TileService& tiles;
  geocoder::Geocoder& geocoder;
};

class Api {
 public:
  explicit Api(Services services) : services_(services) {}

  // Never throws: every failure becomes a JSON error answer with the status of the error catalogue.
  Response handle(const Request& request) const noexcept;

 private:
  Response route(const Request& request) const;
  Response health() const;
  Response tile(const std::string& tileset, const std::string& z, const std::string& x, const std::string& file) const;
  Response search(const Request& request) const;
  Response landing(const Request& request) const;

  Services services_;
};

// Decodes a query component: %XX escapes and '+' for space; malformed escapes are kept as they are.
std::string percent_decode(std::string_view text);

// The JSON error body: {"error": {"code": ..., "message": ...}}.
Response error_response(int status, std::string_view code, std::string_view message);

}  // namespace bandoso::http
