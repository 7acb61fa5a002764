#include <fmt/format.h>

#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "http/api.hpp"
#include "http/web_assets.hpp"
#include "layers/core/error.hpp"
#include "layers/core/tile_math.hpp"

namespace bandoso::http {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    const std::size_t stop = end == std::string::npos ? path.size() : end;
    if (stop > start) parts.push_back(path.substr(start, stop - start));
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

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
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

Response error_response(int status, std::string_view code, std::string_view message) {
  return json_response({{"error", {{"code", code}, {"message", message}}}}, status);
}

Response Api::handle(const Request& request) const noexcept {
  try {
    return route(request);
  } catch (const Error& e) {
    const ErrorInfo& info = e.info();
    // Server-side failures keep their detail in the log, not in the answer.
    if (info.http_status >= 500) {
      std::cerr << fmt::format("error: {} {}: {}\n", request.method, request.path, e.what());
      return error_response(info.http_status, info.name, info.public_message);
    }
    return error_response(info.http_status, info.name, e.what());
  } catch (const std::exception& e) {
    std::cerr << fmt::format("error: {} {}: unexpected: {}\n", request.method, request.path, e.what());
  } catch (...) {
    std::cerr << fmt::format("error: {} {}: unexpected non-standard exception\n", request.method, request.path);
  }
  const ErrorInfo& internal = error_info(ErrorCode::internal);
  return error_response(internal.http_status, internal.name, internal.public_message);
}

Response Api::route(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r =
        error_response(405, "method_not_allowed", fmt::format("{} is not allowed here; use GET", request.method));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::vector<std::string> parts = split_path(request.path);
  if (parts.empty()) return landing(request);
  if (parts.size() == 1 && parts[0] == "map") {
    Response page;
    page.content_type = "text/html";
    page.body = web::kMapHtml;
    return page;
  }
  if (parts.size() == 1 && parts[0] == "health") return health();
  if (parts.size() == 1 && parts[0] == "search") return search(request);
  if (parts.size() == 5 && parts[0] == "tiles") return tile(parts[1], parts[2], parts[3], parts[4]);
  throw NotFoundError(fmt::format("no such resource: {}", request.path));
}

Response Api::landing(const Request& request) const {
  const auto host = request.headers.find("host");
  const std::string base = host == request.headers.end() ? "" : "http://" + host->second;
  nlohmann::json tilesets = nlohmann::json::array();
  for (const auto& name : services_.tiles.tilesets()) {
    tilesets.push_back({{"name", name}, {"tiles", base + "/tiles/" + name + "/{z}/{x}/{y}.png"}});
  }
  return json_response({{"title", "bandoso — bản đồ số tỉnh Nghệ An"},
                        {"links",
                         {{{"rel", "map"}, {"href", base + "/map"}},
                          {{"rel", "health"}, {"href", base + "/health"}},
                          {{"rel", "search"}, {"href", base + "/search?q={query}"}}}},
                        {"tilesets", tilesets}});
}

Response Api::health() const {
  const layers::StoreSummary summary = services_.store.summary();
  return json_response({{"status", "ok"},
                        {"schema_version", summary.schema_version},
                        {"data_version", summary.data_version},
                        {"layers", summary.counts},
                        {"bbox", bbox_json(summary.bbox)}});
}

Response Api::tile(const std::string& tileset, const std::string& z, const std::string& x,
                   const std::string& file) const {
  const std::size_t dot = file.find('.');
  if (dot == std::string::npos) throw NotFoundError(fmt::format("tile '{}' has no format suffix such as .png", file));
  const layers::TileId id{static_cast<int>(layers::parse_tile_number(z, "z")), layers::parse_tile_number(x, "x"),
                          layers::parse_tile_number(file.substr(0, dot), "y")};
  tiles::Tile t = services_.tiles.raster_tile(tileset, id, file.substr(dot + 1));
  Response r;
  r.content_type = t.content_type;
  r.body = std::move(t.body);
  r.headers.emplace_back("ETag", t.etag);
  return r;
}

Response Api::search(const Request& request) const {
  const auto q = request.query.find("q");
  if (q == request.query.end()) throw BadRequestError("missing parameter 'q'");
  std::size_t limit = 10;
  if (const std::string text = request.param("limit"); !text.empty()) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc{} || ptr != text.data() + text.size() || limit < 1 || limit > 50) {
      throw BadRequestError(fmt::format("limit '{}' must be a whole number from 1 to 50", text));
    }
  }
  nlohmann::json results = nlohmann::json::array();
  for (const auto& p : services_.geocoder.search(q->second, limit)) {
    nlohmann::json item{{"place_id", p.layer + ":" + p.id},
                        {"osm_type", nullptr},
                        {"lat", fmt::format("{:.7f}", p.lat)},
                        {"lon", fmt::format("{:.7f}", p.lon)},
                        {"boundingbox",
                         {fmt::format("{:.7f}", p.bbox.south), fmt::format("{:.7f}", p.bbox.north),
                          fmt::format("{:.7f}", p.bbox.west), fmt::format("{:.7f}", p.bbox.east)}},
                        {"display_name", p.display_name},
                        {"name", p.name},
                        {"class", "boundary"},
                        {"type", "administrative"},
                        {"addresstype", p.type},
                        {"importance", p.confidence},
                        {"confidence", p.confidence},
                        {"match_type", p.match_type}};
    if (!p.former_name.empty()) item["former_name"] = p.former_name;
    results.push_back(std::move(item));
  }
  return json_response(results);
}

}  // namespace bandoso::http
