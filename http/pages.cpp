// The pages people see: the viewer (/, /map), the embeddable map (/embed), the citizen page of a digital
// address code (/a/{code}) with its QR codes (/a/{code}.png, .svg), and the static files they load
// (/assets/app/..., /assets/leaflet/...). The pages are static files whose scripts ask the public API;
// the server checks what it answers better itself (the embed's parameters, whether a QR code's code exists).
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "http/api.hpp"
#include "http/params.hpp"
#include "http/qr_code.hpp"
#include "layers/core/digital_code.hpp"
#include "layers/core/error.hpp"

namespace bandoso::http {

namespace {

bool matches(const Request& request, const std::string& etag) {
  const auto it = request.headers.find("if-none-match");
  return it != request.headers.end() && (it->second == "*" || it->second.find(etag) != std::string::npos);
}

// A body with a strong ETag: 304 when the client holds it already.
Response cacheable(const Request& request, std::string body, std::string content_type, const std::string& etag,
                   const std::string& cache_control) {
  Response r;
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", cache_control);
  if (matches(request, etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

// "lat,lon" within the Earth's ranges.
void check_position(const std::string& text, const char* name) {
  const std::vector<double> v = parse_numbers(text, name);
  if (v.size() != 2) throw BadRequestError(fmt::format("{} '{}' must be lat,lon", name, text));
  if (v[0] < -90 || v[0] > 90 || v[1] < -180 || v[1] > 180) {
    throw BadRequestError(fmt::format("{} '{}' is not lat,lon in degrees", name, text));
  }
}

// The address whose digital code this is (spaces, dashes and dots of the grouping allowed), or nullopt:
// not a valid code (a wrong check digit included) or no address has it.
std::optional<geocoder::Place> address_with_code(geocoder::Geocoder& geocoder, const std::string& code) {
  if (!layers::is_valid_digital_code(code)) return std::nullopt;
  geocoder::SearchOptions options;
  options.limit = 1;
  geocoder::SearchResult result = geocoder.search(code, options);
  if (!result.message.empty()) return std::nullopt;
  for (auto& place : result.places) {
    if (place.kind == "address" && place.digital_code == code) return std::move(place);
  }
  return std::nullopt;
}

}  // namespace

// GET /assets/{mount}/{file...}
Response Api::asset(const Request& request, const std::vector<std::string>& parts) const {
  const std::vector<std::string> segments(parts.begin() + 2, parts.end());
  auto file = web_.find(parts[1], segments);
  // Refused names answer like missing files: nothing tells a prober which rule stopped it.
  if (!file) throw NotFoundError(fmt::format("no such file: {}", request.path));
  return cacheable(request, std::move(file->body), std::move(file->content_type), file->etag, file->cache_control);
}

// One of our HTML pages (web/app/src). Pages are revalidated on every view (no-cache): a new deployment
// shows at once, and an unchanged page costs a 304.
Response Api::page(const Request& request, const std::string& file) const {
  auto found = web_.find("app", {file});
  if (!found) {
    throw Error(ErrorCode::internal,
                fmt::format("the page {} is missing from {} (set BANDOSO_WEB_DIR or run scripts/install-deps)", file,
                            web_.directory().string()));
  }
  return cacheable(request, std::move(found->body), std::move(found->content_type), found->etag, "no-cache");
}

// GET /embed?tileset=basemap&center=lat,lon&zoom=z&marker=lat,lon&lang=vi|en: the parameters are checked
// here, so that a department's mistake is a clear 400 rather than a blank iframe; the page reads them.
Response Api::embed(const Request& request) const {
  if (request.query.count("tileset") != 0) {
    const std::string tileset = request.param("tileset");
    const auto sets = services_.tiles.tilesets();
    if (std::none_of(sets.begin(), sets.end(), [&](const auto& t) { return t.name == tileset; })) {
      throw BadRequestError(fmt::format("tileset '{}' does not exist (see /?f=json for the tilesets)", tileset));
    }
  }
  if (request.query.count("center") != 0) check_position(request.param("center"), "center");
  if (request.query.count("marker") != 0) check_position(request.param("marker"), "marker");
  if (request.query.count("zoom") != 0) {
    const std::string text = request.param("zoom");
    const double zoom = parse_number(text, "zoom");
    if (zoom < 0 || zoom > 22) throw BadRequestError(fmt::format("zoom '{}' must be from 0 to 22", text));
  }
  if (const std::string lang = request.param("lang", "vi"); lang != "vi" && lang != "en") {
    throw BadRequestError(fmt::format("lang '{}' must be vi or en", lang));
  }
  return page(request, "embed.html");
}

// GET /a/{code}: the same page for every code; its script asks the geocoder and shows the address or
// #not-found. Always 200: a 404 document would be logged as an error in the browser's console for what
// is an ordinary answer to a mistyped code (the QR codes below do answer 404).
Response Api::address_page(const Request& request) const { return page(request, "address.html"); }

// GET /a/{code}.png, /a/{code}.svg: a QR code of the page's absolute URL, the code in its 10 digits.
Response Api::address_qr(const Request& request, const std::string& file) const {
  const std::string extension = file.substr(file.size() - 4);
  const std::string code = layers::normalise_digital_code(file.substr(0, file.size() - 4));
  if (!address_with_code(services_.geocoder, code)) {
    throw NotFoundError(fmt::format("no address has the digital code '{}'", file.substr(0, file.size() - 4)));
  }
  const std::string base = base_url(request);
  if (base.empty()) throw BadRequestError("a Host header is needed to write the page's URL into the QR code");
  const QrCode qr = encode_qr(base + "/a/" + code);
  std::string body = extension == ".png" ? qr_png(qr) : qr_svg(qr);
  const std::string type = extension == ".png" ? "image/png" : "image/svg+xml";
  // The image changes with the host name only.
  const std::string etag = strong_etag(body);
  return cacheable(request, std::move(body), type, etag, "public, max-age=86400");
}

}  // namespace bandoso::http
