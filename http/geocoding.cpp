// The geocoder's HTTP answers in the conventions existing clients speak: Nominatim's /search,
// /reverse, /lookup and /status (formats json, jsonv2, geojson, geocodejson), an autocomplete in
// GeoJSON (as Photon answers), and a batch CSV in the Addok convention.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "geocoder/batch_csv.hpp"
#include "http/api.hpp"
#include "http/multipart.hpp"
#include "http/params.hpp"
#include "layers/core/error.hpp"

namespace bandoso::http {

namespace {

constexpr const char* kLicence = "Dữ liệu © UBND tỉnh Nghệ An";
constexpr const char* kAttribution = "bandoso — bản đồ số tỉnh Nghệ An";

enum class Format { json, jsonv2, geojson, geocodejson };

Format parse_format(const Request& request, Format fallback) {
  const std::string text = request.param("format");
  if (text.empty()) return fallback;
  if (text == "json") return Format::json;
  if (text == "jsonv2") return Format::jsonv2;
  if (text == "geojson") return Format::geojson;
  if (text == "geocodejson") return Format::geocodejson;
  throw BadRequestError(fmt::format("format '{}' is not one of json, jsonv2, geojson, geocodejson", text));
}

std::size_t parse_limit(const Request& request, std::size_t fallback) {
  const std::string text = request.param("limit");
  return text.empty() ? fallback : parse_count(text, "limit", 1, 50);
}

bool parse_flag(const Request& request, const std::string& name) {
  const std::string text = request.param(name, "0");
  if (text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  throw BadRequestError(fmt::format("{} '{}' must be 0 or 1", name, text));
}

// viewbox=x1,y1,x2,y2 (any two corners, as Nominatim takes them).
std::optional<layers::BBox> parse_viewbox(const Request& request) {
  const std::string text = request.param("viewbox");
  if (text.empty()) return std::nullopt;
  const std::vector<double> v = parse_numbers(text, "viewbox");
  if (v.size() != 4) throw BadRequestError(fmt::format("viewbox '{}' must be x1,y1,x2,y2", text));
  return layers::BBox{std::min(v[0], v[2]), std::min(v[1], v[3]), std::max(v[0], v[2]), std::max(v[1], v[3])};
}

std::string coordinate(double value) { return fmt::format("{:.7f}", value); }

// accept-language=en: unit words in English after the name ("Phường Thành Vinh" → "Thành Vinh Ward"),
// "trước đây" → "formerly"; proper names keep their Vietnamese spelling, as road signs do.
std::string in_english(const std::string& label) {
  static const std::pair<std::string_view, std::string_view> kUnits[] = {
      {"Thành phố ", " City"}, {"Thị xã ", " Town"},    {"Thị trấn ", " Township"}, {"Phường ", " Ward"},
      {"Xã ", " Commune"},     {"Huyện ", " District"}, {"Tỉnh ", " Province"}};
  std::string out;
  std::size_t start = 0;
  while (start <= label.size()) {
    std::size_t end = label.find_first_of(",()", start);
    if (end == std::string::npos) end = label.size();
    std::string part = label.substr(start, end - start);
    const std::size_t lead = part.find_first_not_of(' ');
    std::string prefix = lead == std::string::npos ? part : part.substr(0, lead);
    std::string body = lead == std::string::npos ? std::string() : part.substr(lead);
    if (body.rfind("trước đây: ", 0) == 0) {
      prefix += "formerly: ";
      body = body.substr(std::string_view("trước đây: ").size());
    }
    for (const auto& [vi, en] : kUnits) {
      if (body.rfind(vi, 0) == 0 && body.size() > vi.size()) {
        body = body.substr(vi.size()) + std::string(en);
        break;
      }
    }
    const std::size_t trail = body.find_last_not_of(' ');
    std::string suffix = trail == std::string::npos ? std::string() : body.substr(trail + 1);
    if (trail != std::string::npos) body.resize(trail + 1);
    if (body == "Nghệ An") body = "Nghệ An Province";
    out += prefix + body + suffix;
    if (end < label.size()) out += label[end];
    start = end + 1;
  }
  return out;
}

void translate(std::vector<geocoder::Place>& places, const Request& request) {
  if (request.param("accept-language").rfind("en", 0) != 0) return;
  for (auto& p : places) {
    p.display_name = in_english(p.display_name);
    p.name = in_english(p.name);
    p.admin.commune = in_english(p.admin.commune);
    p.admin.former_commune = in_english(p.admin.former_commune);
    p.admin.former_district = in_english(p.admin.former_district);
    if (!p.former_name.empty()) p.former_name = in_english(p.former_name);
  }
}

nlohmann::json admin_json(const geocoder::AdminUnits& a) {
  nlohmann::json admin{{"commune", a.commune}, {"commune_code", a.commune_code}, {"province", a.province}};
  if (!a.former_commune.empty()) {
    admin["former_commune"] = a.former_commune;
    admin["former_commune_code"] = a.former_commune_code;
  }
  if (!a.former_district.empty()) admin["former_district"] = a.former_district;
  return admin;
}

std::string place_id(const geocoder::Place& p) { return p.layer + ":" + p.id; }

// Nominatim's class/category for our kinds.
std::string category_of(const geocoder::Place& p) {
  if (p.kind == "address") return "place";
  if (p.kind == "street") return "highway";
  if (p.kind == "parcel") return "landuse";
  return "boundary";
}

int place_rank(const geocoder::Place& p) {
  if (p.kind == "address" || p.kind == "parcel") return 30;
  if (p.kind == "street") return 26;
  return 16;  // a commune or ward
}

nlohmann::json bounding_box(const geocoder::Place& p) {
  const layers::BBox b = p.bbox.empty() ? layers::BBox{p.lon, p.lat, p.lon, p.lat} : p.bbox;
  return nlohmann::json::array({coordinate(b.south), coordinate(b.north), coordinate(b.west), coordinate(b.east)});
}

// What every format adds to Nominatim's fields: how sure, how found, which units (new and former).
void add_extensions(nlohmann::json& item, const geocoder::Place& p) {
  item["confidence"] = p.confidence;
  item["match_type"] = geocoder::to_string(p.match);
  item["admin"] = admin_json(p.admin);
  if (!p.former_name.empty()) item["former_name"] = p.former_name;
  if (!p.digital_code.empty()) item["digital_code"] = p.digital_code;
  if (!p.plus_code.empty()) item["plus_code"] = p.plus_code;
  if (p.distance_m) item["distance"] = *p.distance_m;
}

nlohmann::json nominatim_item(const geocoder::Place& p, Format format, bool address_details) {
  nlohmann::json item{{"place_id", place_id(p)},
                      {"licence", kLicence},
                      {"osm_type", nullptr},
                      {"osm_id", nullptr},
                      {"lat", coordinate(p.lat)},
                      {"lon", coordinate(p.lon)},
                      {format == Format::jsonv2 ? "category" : "class", category_of(p)},
                      {"type", p.type},
                      {"place_rank", place_rank(p)},
                      {"importance", p.confidence},
                      {"addresstype", p.type},
                      {"name", p.name},
                      {"display_name", p.display_name},
                      {"boundingbox", bounding_box(p)}};
  if (address_details) item["address"] = p.address;
  add_extensions(item, p);
  return item;
}

nlohmann::json point_geometry(const geocoder::Place& p) { return {{"type", "Point"}, {"coordinates", {p.lon, p.lat}}}; }

nlohmann::json geojson_feature(const geocoder::Place& p, bool address_details) {
  nlohmann::json properties{{"place_id", place_id(p)},       {"osm_type", nullptr},        {"osm_id", nullptr},
                            {"place_rank", place_rank(p)},   {"category", category_of(p)}, {"type", p.type},
                            {"importance", p.confidence},    {"addresstype", p.type},      {"name", p.name},
                            {"display_name", p.display_name}};
  if (address_details) properties["address"] = p.address;
  add_extensions(properties, p);
  const layers::BBox b = p.bbox.empty() ? layers::BBox{p.lon, p.lat, p.lon, p.lat} : p.bbox;
  return {{"type", "Feature"},
          {"properties", properties},
          {"bbox", {b.west, b.south, b.east, b.north}},
          {"geometry", point_geometry(p)}};
}

std::string part(const geocoder::Place& p, const std::string& key) {
  const auto it = p.address.find(key);
  return it == p.address.end() ? std::string() : it->second;
}

// GeocodeJSON 0.1.0 (https://github.com/geocoders/geocodejson-spec), as geocoder-tester reads it.
nlohmann::json geocodejson_feature(const geocoder::Place& p) {
  nlohmann::json geocoding{
      {"place_id", place_id(p)}, {"osm_type", nullptr},
      {"osm_id", nullptr},       {"type", p.kind == "address" ? "house" : p.kind == "commune" ? "city" : p.kind},
      {"label", p.display_name}, {"name", p.name}};
  const std::pair<const char*, const char*> fields[] = {
      {"housenumber", "house_number"}, {"street", "road"}, {"locality", "hamlet"},
      {"district", "city_district"},   {"city", "suburb"}, {"county", "county"},
      {"postcode", "postcode"},        {"state", "state"}, {"country", "country"}};
  for (const auto& [field, key] : fields) {
    if (const std::string value = part(p, key); !value.empty()) geocoding[field] = value;
  }
  nlohmann::json admin{{"level6", p.admin.commune}, {"level4", p.admin.province}};
  if (!p.admin.former_district.empty()) admin["level5"] = p.admin.former_district;
  geocoding["admin"] = admin;
  add_extensions(geocoding, p);
  return {{"type", "Feature"}, {"properties", {{"geocoding", geocoding}}}, {"geometry", point_geometry(p)}};
}

Response json_body(const nlohmann::json& body, const std::string& content_type = "application/json") {
  Response r;
  r.content_type = content_type;
  r.body = body.dump();
  return r;
}

Response places_response(const std::vector<geocoder::Place>& places, Format format, bool address_details,
                         const std::string& query) {
  switch (format) {
    case Format::json:
    case Format::jsonv2: {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& p : places) items.push_back(nominatim_item(p, format, address_details));
      return json_body(items);
    }
    case Format::geojson: {
      nlohmann::json features = nlohmann::json::array();
      for (const auto& p : places) features.push_back(geojson_feature(p, address_details));
      return json_body({{"type", "FeatureCollection"}, {"licence", kLicence}, {"features", features}},
                       "application/geo+json");
    }
    case Format::geocodejson: {
      nlohmann::json features = nlohmann::json::array();
      for (const auto& p : places) features.push_back(geocodejson_feature(p));
      return json_body(
          {{"type", "FeatureCollection"},
           {"geocoding",
            {{"version", "0.1.0"}, {"attribution", kAttribution}, {"licence", kLicence}, {"query", query}}},
           {"features", features}},
          "application/geo+json");
    }
  }
  return json_body(nlohmann::json::array());
}

// A digital code with a wrong check digit: the answer says so and lists the codes it could have been.
void add_code_message(Response& r, const geocoder::SearchResult& result) {
  if (result.message.empty()) return;
  r.headers.emplace_back("X-Geocoder-Message", result.message);
}

}  // namespace

Response Api::search(const Request& request) const {
  const Format format = parse_format(request, Format::json);
  geocoder::SearchOptions options;
  options.limit = parse_limit(request, 10);
  options.viewbox = parse_viewbox(request);
  options.bounded = parse_flag(request, "bounded");
  const bool details = parse_flag(request, "addressdetails");
  // accept-language: Vietnamese by default; "en" puts the unit words in English.
  if (const std::string language = request.param("accept-language"); !language.empty()) {
    if (language.rfind("vi", 0) != 0 && language.rfind("en", 0) != 0) {
      throw BadRequestError(fmt::format("accept-language '{}': this geocoder answers in vi or en", language));
    }
  }
  geocoder::SearchResult result;
  std::string query_text;
  if (const auto q = request.query.find("q"); q != request.query.end()) {
    query_text = q->second;
    result = services_.geocoder.search(q->second, options);
  } else {
    geocoder::StructuredQuery structured{request.param("street"), request.param("city"), request.param("county"),
                                         request.param("state"), request.param("postalcode")};
    if (structured.street.empty() && structured.city.empty() && structured.county.empty() &&
        structured.postalcode.empty()) {
      throw BadRequestError("missing parameter 'q' (or the structured street, city, county, state, postalcode)");
    }
    query_text = structured.street + ", " + structured.city;
    result = services_.geocoder.search(structured, options);
  }
  translate(result.places, request);
  Response r = places_response(result.places, format, details, query_text);
  if (!result.message.empty() && (format == Format::geojson || format == Format::geocodejson)) {
    auto body = nlohmann::json::parse(r.body);
    body["message"] = result.message;
    body["suggestions"] = result.suggestions;
    r.body = body.dump();
  }
  add_code_message(r, result);
  return r;
}

Response Api::reverse(const Request& request) const {
  const Format format = parse_format(request, Format::json);
  const double lat = parse_number(request.param("lat"), "lat");
  const double lon = parse_number(request.param("lon"), "lon");
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
    throw BadRequestError(fmt::format("lat {} / lon {} are not a position on Earth", lat, lon));
  }
  int zoom = 18;
  if (const std::string text = request.param("zoom"); !text.empty()) {
    const double z = parse_number(text, "zoom");
    if (z < 0 || z > 18) throw BadRequestError(fmt::format("zoom '{}' must be from 0 to 18", text));
    zoom = static_cast<int>(z);
  }
  std::vector<geocoder::Place> places = services_.geocoder.reverse(lon, lat);
  translate(places, request);
  // Nominatim's zoom is the detail asked for: below street level only the commune answers.
  if (zoom < 14) {
    std::erase_if(places, [](const geocoder::Place& p) { return p.kind != "commune"; });
  }
  const bool details = parse_flag(request, "addressdetails") || request.param("addressdetails").empty();
  if (format == Format::json || format == Format::jsonv2) {
    if (places.empty()) return json_body({{"error", "Unable to geocode"}});
    return json_body(nominatim_item(places.front(), format, details));
  }
  return places_response(places, format, details, fmt::format("{},{}", lat, lon));
}

Response Api::lookup(const Request& request) const {
  const Format format = parse_format(request, Format::json);
  std::string ids = request.param("ids");
  if (ids.empty()) ids = request.param("osm_ids");
  if (ids.empty()) throw BadRequestError("missing parameter 'ids' (e.g. ids=addresses:DA000123,communes:16681)");
  std::vector<geocoder::Place> places;
  std::size_t start = 0, count = 0;
  while (start <= ids.size()) {
    const std::size_t end = std::min(ids.find(',', start), ids.size());
    if (++count > 50) throw BadRequestError("at most 50 ids per lookup");
    if (auto place = services_.geocoder.lookup(ids.substr(start, end - start))) places.push_back(std::move(*place));
    start = end + 1;
  }
  return places_response(places, format, true, ids);
}

Response Api::status() const {
  const geocoder::IndexStatus s = services_.geocoder.status();
  return json_body({{"status", 0},
                    {"message", "OK"},
                    {"data_version", s.data_version},
                    {"index", {{"entries", s.entries}, {"bytes", s.bytes}, {"build_seconds", s.build_seconds}}}});
}

Response Api::autocomplete(const Request& request) const {
  const auto q = request.query.find("q");
  if (q == request.query.end()) throw BadRequestError("missing parameter 'q'");
  const std::size_t limit = parse_limit(request, 10);
  nlohmann::json features = nlohmann::json::array();
  for (const auto& p : services_.geocoder.autocomplete(q->second, limit)) features.push_back(geojson_feature(p, true));
  return json_body({{"type", "FeatureCollection"}, {"features", features}}, "application/geo+json");
}

// POST /search/csv in the Addok convention: the CSV as a multipart upload (`-F data=@file.csv
// -F columns=street -F columns=commune`) or as the raw body (text/csv) with `?columns=street,commune`.
// The rows come back with the results added, streamed as they are geocoded.
Response Api::search_csv(const Request& request) const {
  std::vector<std::string> columns;
  const auto add_columns = [&columns](std::string_view list) {
    for (std::size_t start = 0; start < list.size();) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      if (end > start) columns.emplace_back(list.substr(start, end - start));
      start = end + 1;
    }
  };
  add_columns(request.param("columns"));
  std::string csv;
  std::string filename = "addresses.csv";
  const auto type = request.headers.find("content-type");
  if (type != request.headers.end() && is_form_data(type->second)) {
    bool has_data = false;
    for (FormField& field : parse_form_data(type->second, request.body)) {
      if (field.name == "columns") add_columns(field.data);
      if (field.name != "data") continue;
      has_data = true;
      csv = std::move(field.data);
      if (!field.filename.empty()) filename = field.filename;
    }
    if (!has_data) throw BadRequestError("the form has no 'data' field: send the file as -F data=@file.csv");
  } else {
    csv = request.body;
  }
  auto batch = std::make_shared<geocoder::CsvBatch>(services_.geocoder, std::move(csv), columns);
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  const std::size_t dot = filename.rfind('.');
  std::string stem = filename.substr(0, dot);
  // Header values are ASCII: other bytes of the uploaded name become '_'.
  std::replace_if(
      stem.begin(), stem.end(),
      [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_'; }, '_');
  r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}.geocoded.csv\"", stem));
  r.stream = [batch](const BodyWriter& write) { batch->run(write); };
  return r;
}

}  // namespace bandoso::http
