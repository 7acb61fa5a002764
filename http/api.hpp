#pragma once
// The HTTP API as plain functions of a request: no web framework here, so tests and benchmarks
// call it directly and the Pistache adapter (server.cpp) stays a few lines of translation.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "geocoder/geocoder.hpp"
#include "http/access.hpp"
#include "http/static_files.hpp"
#include "layers/core/store.hpp"
#include "tileserver/glyphs.hpp"
#include "tileserver/tile_service.hpp"

namespace bandoso::http {

struct Request {
  std::string method = "GET";
  std::string path;                            // without the query string
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string client;  // the peer's address (rate limits of requests without a key)

  [[nodiscard]] std::string param(const std::string& name, const std::string& fallback = "") const {
    const auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
  }
};

// Writes one piece of a streamed body.
using BodyWriter = std::function<void(std::string_view)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is not `body` but what this writes, piece by piece, as it is produced (sent with
  // chunked transfer encoding). It runs after handle() has returned and may throw: the answer is then cut
  // short, and the client sees an incomplete transfer, not a complete-looking one.
  std::function<void(const BodyWriter&)> stream;
};

// The whole body of a response, streamed or not (tests, the command line).
std::string body_of(const Response& response);

// The services one server process answers with.
struct Services {
  layers::Store& store;
  tiles::TileService& tiles;
  geocoder::Geocoder& geocoder;
  const tiles::GlyphStore* glyphs = nullptr;  // null: no fonts for vector styles' labels
  Access* access = nullptr;                   // null: everyone is the public, without rate limits
};

// The public base URL of this server as the client reached it (Host header), for links.
std::string base_url(const Request& request);

class Api {
 public:
  // The web pages' files come from `web_directory` (default_web_directory(): $BANDOSO_WEB_DIR or web/app).
  explicit Api(Services services, std::filesystem::path web_directory = default_web_directory())
      : services_(services), web_(std::move(web_directory)) {}

  // Never throws: every failure becomes a JSON error answer with the status of the error catalogue.
  Response handle(const Request& request) const noexcept;

 private:
  Response route(const Request& request, const Caller& caller) const;
  // The caller's answer may hold restricted attributes of these features: trace it (or refuse the
  // answer when the trace cannot be written).
  void audit(const Caller& caller, const Request& request, const std::vector<std::string>& feature_ids) const;
  Response admin(const Request& request, const Caller& caller, const std::string& action) const;
  Response health() const;
  Response tile(const Request& request, const std::vector<std::string>& parts) const;
  Response tilejson(const Request& request, const std::string& file) const;
  Response style(const Request& request, const std::string& tileset) const;
  Response wmts(const Request& request) const;
  Response glyphs(const std::string& fontstack, const std::string& range) const;
  // geocoding.cpp
  Response search(const Request& request) const;
  Response reverse(const Request& request) const;
  Response lookup(const Request& request) const;
  Response status() const;
  Response autocomplete(const Request& request) const;
  Response search_csv(const Request& request) const;
  Response landing(const Request& request) const;
  // features.cpp: OGC API - Features and identify
  Response openapi(const Request& request) const;
  Response conformance() const;
  Response collections(const Request& request) const;
  Response collection(const Request& request, const std::string& id) const;
  Response items(const Request& request, const Caller& caller, const std::string& id) const;
  Response item(const Request& request, const Caller& caller, const std::string& id,
                const std::string& feature_id) const;
  Response identify(const Request& request, const Caller& caller) const;
  Response export_items(const Request& request, const Caller& caller, const std::string& file) const;
  Response land_use_stats(const Request& request) const;
  // pages.cpp: the pages people see (viewer, embed, citizen page), their QR codes and static files
  Response asset(const Request& request, const std::vector<std::string>& parts) const;
  Response page(const Request& request, const std::string& file) const;
  Response embed(const Request& request) const;
  Response address_page(const Request& request) const;
  Response address_qr(const Request& request, const std::string& file) const;

  Services services_;
  StaticFiles web_;
};

// Decodes %XX escapes (and '+' as a space in a query component, not in a path); malformed escapes are
// kept as they are.
std::string percent_decode(std::string_view text, bool plus_is_space = true);
// Escapes every byte but unreserved ones (RFC 3986), for a query component or a path segment.
std::string percent_encode(std::string_view text);

// The JSON error body: {"error": {"code": ..., "message": ...}}.
Response error_response(int status, std::string_view code, std::string_view message);

}  // namespace bandoso::http
