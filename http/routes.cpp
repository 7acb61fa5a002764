#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "http/api.hpp"
#include "layers/core/error.hpp"
#include "layers/core/tile_math.hpp"
#include "tileserver/descriptions.hpp"

namespace bandoso::http {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    const std::size_t stop = end == std::string::npos ? path.size() : end;
    if (stop > start) parts.push_back(percent_decode(path.substr(start, stop - start), false));
    start = stop + 1;
  }
  return parts;
}

Response json_response(const nlohmann::json& body, int status = 200) {
  Response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

nlohmann::json bbox_json(const layers::BBox& b) {
  if (b.empty()) return nullptr;
  return nlohmann::json::array({b.west, b.south, b.east, b.north});
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Response error_response(int status, std::string_view code, std::string_view message) {
  return json_response({{"error", {{"code", code}, {"message", message}}}}, status);
}

std::string body_of(const Response& response) {
  if (!response.stream) return response.body;
  std::string body;
  response.stream([&body](std::string_view piece) { body.append(piece); });
  return body;
}

std::string base_url(const Request& request) {
  const auto host = request.headers.find("host");
  return host == request.headers.end() ? "" : "http://" + host->second;
}

// The API key: the X-API-Key header, or api_key in the query (for clients that cannot add headers).
std::string api_key_of(const Request& request) {
  const auto header = request.headers.find("x-api-key");
  return header != request.headers.end() ? header->second : request.param("api_key");
}

Response Api::handle(const Request& request) const noexcept {
  Response response = [&]() -> Response {
    try {
      Caller caller;
      const std::string key = api_key_of(request);
      if (services_.access != nullptr) {
        caller = services_.access->identify(key);
        services_.access->admit(caller, request.client);
      } else if (!key.empty()) {
        throw Error(ErrorCode::unauthorized, "this server has no API keys configured");
      }
      return route(request, caller);
    } catch (const RateLimitedError& e) {
      Response r = error_response(e.info().http_status, e.info().name, e.what());
      r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds()));
      return r;
    } catch (const Error& e) {
      const ErrorInfo& info = e.info();
      // Server-side failures keep their detail in the log, not in the answer.
      if (info.http_status >= 500) {
        std::cerr << fmt::format("error: {} {}: {}\n", request.method, request.path, e.what());
        Response r = error_response(info.http_status, info.name, info.public_message);
        if (info.http_status == 503) r.headers.emplace_back("Retry-After", "5");
        return r;
      }
      return error_response(info.http_status, info.name, e.what());
    } catch (const std::exception& e) {
      std::cerr << fmt::format("error: {} {}: unexpected: {}\n", request.method, request.path, e.what());
    } catch (...) {
      std::cerr << fmt::format("error: {} {}: unexpected non-standard exception\n", request.method, request.path);
    }
    const ErrorInfo& internal = error_info(ErrorCode::internal);
    return error_response(internal.http_status, internal.name, internal.public_message);
  }();
  // Maps are embedded by other departments' sites: every answer may be read cross-origin.
  response.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return response;
}

void Api::audit(const Caller& caller, const Request& request, const std::vector<std::string>& feature_ids) const {
  if (feature_ids.empty() || !caller.sees_restricted()) return;
  if (services_.access == nullptr) throw Error(ErrorCode::internal, "restricted data given out without an audit log");
  std::string endpoint = request.method + " " + request.path;
  char separator = '?';
  for (const auto& [name, value] : request.query) {
    if (name == "api_key") continue;
    endpoint += fmt::format("{}{}={}", separator, name, value);
    separator = '&';
  }
  services_.access->audit(caller, endpoint, feature_ids);
}

// POST /admin/cache/purge, POST /admin/reload: admin keys only.
Response Api::admin(const Request& request, const Caller& caller, const std::string& action) const {
  if (caller.key_name.empty()) throw Error(ErrorCode::unauthorized, "an admin API key is required");
  if (caller.role != Role::admin) throw Error(ErrorCode::forbidden, "an admin API key is required");
  if (action == "cache/purge") {
    const std::int64_t version = services_.tiles.purge();
    audit(caller, request, {"tile-cache"});
    return json_response({{"purged", true}, {"data_version", version}});
  }
  if (action == "reload") {
    // The store is read afresh on every request; this catches the tiles and the geocoder up now.
    const std::int64_t version = services_.tiles.refresh();
    (void)services_.geocoder.status();
    return json_response({{"reloaded", true}, {"data_version", version}});
  }
  throw NotFoundError(fmt::format("no such admin action: {}", action));
}

Response Api::route(const Request& request, const Caller& caller) const {
  if (request.method == "OPTIONS") {  // a CORS preflight
    Response r;
    r.status = 204;
    r.content_type.clear();
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "If-None-Match, Accept-Encoding, Content-Type, X-API-Key");
    r.headers.emplace_back("Access-Control-Max-Age", "86400");
    return r;
  }
  // Addok's clients post to /search/csv/.
  if (request.method == "POST" && (request.path == "/search/csv" || request.path == "/search/csv/")) {
    return search_csv(request);
  }
  if (request.method == "POST" && request.path == "/stats/land-use") return land_use_stats(request);
  if (request.method == "POST" && request.path.starts_with("/admin/"))
    return admin(request, caller, request.path.substr(7));
  if (request.method != "GET" && request.method != "HEAD") {
    Response r =
        error_response(405, "method_not_allowed", fmt::format("{} is not allowed here; use GET", request.method));
    r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
    return r;
  }
  const std::vector<std::string> parts = split_path(request.path);
  if (parts.empty()) return landing(request);
  // The pages people see, their files and QR codes (pages.cpp).
  if (parts.size() == 1 && parts[0] == "map") return page(request, "viewer.html");
  if (parts.size() == 1 && parts[0] == "embed") return embed(request);
  if (parts.size() >= 3 && parts[0] == "assets") return asset(request, parts);
  if (parts.size() == 2 && parts[0] == "a") {
    if (parts[1].ends_with(".png") || parts[1].ends_with(".svg")) return address_qr(request, parts[1]);
    return address_page(request);
  }
  if (parts.size() == 1 && parts[0] == "health") return health();
  if (parts.size() == 1 && parts[0] == "search") return search(request);
  if (parts.size() == 1 && parts[0] == "reverse") return reverse(request);
  if (parts.size() == 1 && parts[0] == "lookup") return lookup(request);
  if (parts.size() == 1 && parts[0] == "status") return status();
  if (parts.size() == 1 && parts[0] == "autocomplete") return autocomplete(request);
  if (parts.size() == 1 && parts[0] == "identify") return identify(request, caller);
  if (parts.size() == 2 && parts[0] == "export") return export_items(request, caller, parts[1]);
  if (parts.size() == 2 && parts[0] == "stats" && parts[1] == "land-use") return land_use_stats(request);
  if (parts.size() == 1 && parts[0] == "api") return openapi(request);
  if (parts.size() == 1 && parts[0] == "conformance") return conformance();
  if (parts[0] == "collections") {
    if (parts.size() == 1) return collections(request);
    if (parts.size() == 2) return collection(request, parts[1]);
    if (parts.size() == 3 && parts[2] == "items") return items(request, caller, parts[1]);
    if (parts.size() == 4 && parts[2] == "items") return item(request, caller, parts[1], parts[3]);
  }
  if (parts[0] == "tiles" && parts.size() == 2) return tilejson(request, parts[1]);
  if (parts[0] == "tiles" && (parts.size() == 5 || parts.size() == 6)) return tile(request, parts);
  if (parts.size() == 3 && parts[0] == "styles" && parts[2] == "style.json") return style(request, parts[1]);
  if (parts.size() == 3 && parts[0] == "wmts" && parts[1] == "1.0.0" && parts[2] == "WMTSCapabilities.xml") {
    return wmts(request);
  }
  if (parts.size() == 3 && parts[0] == "fonts") return glyphs(parts[1], parts[2]);
  throw NotFoundError(fmt::format("no such resource: {}", request.path));
}

Response Api::landing(const Request& request) const {
  // OGC API - Features: a browser gets the map, clients the JSON; caches keep the two apart by Accept.
  const auto accept = request.headers.find("accept");
  if (request.param("f") != "json" && accept != request.headers.end() &&
      accept->second.find("text/html") != std::string::npos) {
    Response r = page(request, "viewer.html");
    r.headers.emplace_back("Vary", "Accept");
    return r;
  }
  const std::string base = base_url(request);
  nlohmann::json tilesets = nlohmann::json::array();
  for (const auto& t : services_.tiles.tilesets()) {
    tilesets.push_back({{"name", t.name},
                        {"title", t.title},
                        {"tiles", base + "/tiles/" + t.name + "/{z}/{x}/{y}.png"},
                        {"vector_tiles", base + "/tiles/" + t.name + "/{z}/{x}/{y}.mvt"},
                        {"tilejson", base + "/tiles/" + t.name + ".json"},
                        {"style", base + "/styles/" + t.name + "/style.json"}});
  }
  Response r = json_response(
      {{"title", "bandoso — bản đồ số tỉnh Nghệ An"},
       {"description", "Nền tảng bản đồ số dùng chung tỉnh Nghệ An"},
       {"links",
        {{{"rel", "self"}, {"href", base + "/"}, {"type", "application/json"}},
         {{"rel", "service-desc"}, {"href", base + "/api"}, {"type", "application/vnd.oai.openapi+json;version=3.0"}},
         {{"rel", "conformance"}, {"href", base + "/conformance"}, {"type", "application/json"}},
         {{"rel", "data"}, {"href", base + "/collections"}, {"type", "application/json"}},
         {{"rel", "map"}, {"href", base + "/map"}},
         {{"rel", "health"}, {"href", base + "/health"}},
         {{"rel", "search"}, {"href", base + "/search?q={query}"}},
         {{"rel", "reverse"}, {"href", base + "/reverse?lat={lat}&lon={lon}"}},
         {{"rel", "autocomplete"}, {"href", base + "/autocomplete?q={prefix}"}},
         {{"rel", "wmts"}, {"href", base + "/wmts/1.0.0/WMTSCapabilities.xml"}}}},
       {"tilesets", tilesets}});
  r.headers.emplace_back("Vary", "Accept");
  return r;
}

Response Api::health() const {
  const layers::StoreSummary summary = services_.store.summary();
  return json_response({{"status", "ok"},
                        {"schema_version", summary.schema_version},
                        {"data_version", summary.data_version},
                        {"layers", summary.counts},
                        {"bbox", bbox_json(summary.bbox)}});
}

// /tiles/{tileset}/{z}/{x}/{y}.{png|mvt}, /tiles/{tileset}/{z}/{x}/{y}@2x.png, /tiles/{tileset}/512/{z}/{x}/{y}.png
Response Api::tile(const Request& request, const std::vector<std::string>& parts) const {
  tiles::TileRequest t;
  t.tileset = parts[1];
  std::size_t at = 2;
  if (parts.size() == 6) {
    if (parts[2] != "512") throw NotFoundError(fmt::format("no such resource: {}", request.path));
    t.size = 512;
    at = 3;
  }
  std::string file = parts[at + 2];
  const std::size_t dot = file.rfind('.');
  if (dot == std::string::npos) throw NotFoundError(fmt::format("tile '{}' has no format suffix such as .png", file));
  t.format = file.substr(dot + 1);
  file.resize(dot);
  if (file.ends_with("@2x")) {
    if (t.size == 512) throw BadRequestError("a /512/ tile cannot also be @2x");
    file.resize(file.size() - 3);
    t.size = 512;
    t.scale = 2.0;
  }
  if (t.format == "mvt" && t.size != 256) throw BadRequestError("vector tiles have no pixel size: drop /512/ and @2x");
  t.tile = {static_cast<int>(layers::parse_tile_number(parts[at], "z")), layers::parse_tile_number(parts[at + 1], "x"),
            layers::parse_tile_number(file, "y")};
  const auto encoding = request.headers.find("accept-encoding");
  t.accept_gzip = encoding != request.headers.end() && encoding->second.find("gzip") != std::string::npos;

  tiles::Tile result = services_.tiles.tile(t);
  Response r;
  r.headers.emplace_back("ETag", result.etag);
  r.headers.emplace_back("Cache-Control",
                         fmt::format("public, max-age={}", tiles::TileService::max_age_seconds(t.tile.z)));
  if (t.format == "mvt") r.headers.emplace_back("Vary", "Accept-Encoding");
  const auto match = request.headers.find("if-none-match");
  if (match != request.headers.end() && match->second.find(result.etag) != std::string::npos) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = result.content_type;
  if (!result.content_encoding.empty()) r.headers.emplace_back("Content-Encoding", result.content_encoding);
  r.body = std::move(result.body);
  return r;
}

// /tiles/{tileset}.json: TileJSON of the vector tiles, or of the raster tiles with ?format=png.
Response Api::tilejson(const Request& request, const std::string& file) const {
  if (!file.ends_with(".json")) throw NotFoundError(fmt::format("no such resource: {}", request.path));
  const std::string format = request.param("format", "mvt");
  if (format != "mvt" && format != "png") throw BadRequestError(fmt::format("format '{}' must be mvt or png", format));
  const tiles::Tileset t = services_.tiles.tileset(file.substr(0, file.size() - 5));
  return json_response(
      tiles::tilejson(t, base_url(request), format == "png" ? tiles::TileFormat::png : tiles::TileFormat::mvt));
}

Response Api::style(const Request& request, const std::string& tileset) const {
  return json_response(tiles::maplibre_style(services_.tiles.tileset(tileset), base_url(request)));
}

Response Api::glyphs(const std::string& fontstack, const std::string& range) const {
  if (services_.glyphs == nullptr) throw NotFoundError("this server has no fonts");
  auto bytes = services_.glyphs->range(fontstack, range);
  if (!bytes) throw NotFoundError(fmt::format("no glyphs {} for fonts '{}'", range, fontstack));
  Response r;
  r.content_type = "application/x-protobuf";
  r.body = std::move(*bytes);
  r.headers.emplace_back("Cache-Control", "public, max-age=604800");  // static files of a pinned package
  return r;
}

Response Api::wmts(const Request& request) const {
  Response r;
  r.content_type = "application/xml";
  r.body = tiles::wmts_capabilities(services_.tiles.tilesets(), base_url(request));
  return r;
}

}  // namespace bandoso::http
