// The planners' API over HTTP: OGC API - Features (Part 1 Core, GeoJSON, OpenAPI 3.0) and identify.
// Thin: the features component answers, this adds links and paging.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "features/collections.hpp"
#include "features/export.hpp"
#include "features/identify.hpp"
#include "features/land_use_stats.hpp"
#include "http/api.hpp"
#include "http/params.hpp"
#include "layers/core/error.hpp"

namespace bandoso::http {

namespace {

constexpr const char* kCrs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
constexpr const char* kGeoJson = "application/geo+json";

// Query parameters with a meaning of their own; any other names an attribute to filter on.
const std::set<std::string> kReserved = {"bbox", "bbox-crs", "crs", "limit", "offset", "f", "datetime", "api_key"};

Response json_answer(const nlohmann::json& body, const std::string& type = "application/json") {
  Response r;
  r.content_type = type;
  r.body = body.dump();
  return r;
}

nlohmann::json link(const std::string& href, const std::string& rel, const std::string& type,
                    const std::string& title = "") {
  nlohmann::json l = {{"href", href}, {"rel", rel}, {"type", type}};
  if (!title.empty()) l["title"] = title;
  return l;
}

void check_crs(const Request& request) {
  for (const char* name : {"bbox-crs", "crs"}) {
    const std::string crs = request.param(name);
    if (!crs.empty() && crs != kCrs84) {
      throw BadRequestError(fmt::format("{} '{}' is not supported: only {}", name, crs, kCrs84));
    }
  }
}

std::optional<layers::BBox> parse_bbox(const Request& request) {
  const std::string text = request.param("bbox");
  if (text.empty()) return std::nullopt;
  const std::vector<double> v = parse_numbers(text, "bbox");
  if (v.size() != 4) throw BadRequestError(fmt::format("bbox '{}' must be minlon,minlat,maxlon,maxlat", text));
  if (v[0] > v[2] || v[1] > v[3] || v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90) {
    throw BadRequestError(fmt::format("bbox '{}' is not minlon,minlat,maxlon,maxlat in degrees", text));
  }
  return layers::BBox{v[0], v[1], v[2], v[3]};
}

nlohmann::json collection_json(const std::string& base, const layers::LayerDef& def, const layers::BBox& extent) {
  const std::string href = base + "/collections/" + def.name;
  nlohmann::json c = {
      {"id", def.name},
      {"title", def.title},
      {"description", def.title_en},
      {"itemType", "feature"},
      {"crs", {kCrs84}},
      {"links",
       {link(href, "self", "application/json", def.title), link(href + "/items", "items", kGeoJson, def.title)}}};
  if (!extent.empty()) {
    c["extent"] = {{"spatial", {{"bbox", {{extent.west, extent.south, extent.east, extent.north}}}, {"crs", kCrs84}}}};
  }
  return c;
}

std::string query_string(const Request& request, std::size_t offset) {
  std::string q;
  for (const auto& [name, value] : request.query) {
    if (name == "offset") continue;
    q += fmt::format("{}={}&", percent_encode(name), percent_encode(value));
  }
  return q + fmt::format("offset={}", offset);
}

}  // namespace

// The OpenAPI 3.0 description of this service's OGC API - Features endpoints.
Response Api::openapi(const Request& request) const {
  const nlohmann::json ok = {{"description", "OK"}};
  const nlohmann::json collection_id = {
      {"name", "collectionId"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  nlohmann::json spec = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "bandoso — bản đồ số tỉnh Nghệ An"}, {"version", "1.0.0"}}},
      {"servers", {{{"url", base_url(request)}}}},
      {"paths",
       {{"/", {{"get", {{"summary", "Landing page"}, {"responses", {{"200", ok}}}}}}},
        {"/conformance", {{"get", {{"summary", "Conformance classes"}, {"responses", {{"200", ok}}}}}}},
        {"/collections", {{"get", {{"summary", "Collections"}, {"responses", {{"200", ok}}}}}}},
        {"/collections/{collectionId}",
         {{"get", {{"summary", "One collection"}, {"parameters", {collection_id}}, {"responses", {{"200", ok}}}}}}},
        {"/collections/{collectionId}/items",
         {{"get",
           {{"summary", "Features of a collection; other parameters filter attributes by equality"},
            {"parameters",
             {collection_id,
              {{"name", "bbox"},
               {"in", "query"},
               {"style", "form"},
               {"explode", false},
               {"schema", {{"type", "array"}, {"items", {{"type", "number"}}}, {"minItems", 4}, {"maxItems", 4}}}},
              {{"name", "limit"},
               {"in", "query"},
               {"schema",
                {{"type", "integer"},
                 {"minimum", 1},
                 {"maximum", features::kMaxLimit},
                 {"default", features::kDefaultLimit}}}},
              {{"name", "offset"}, {"in", "query"}, {"schema", {{"type", "integer"}, {"minimum", 0}}}}}},
            {"responses", {{"200", ok}}}}}}},
        {"/collections/{collectionId}/items/{featureId}",
         {{"get",
           {{"summary", "One feature"},
            {"parameters",
             {collection_id,
              {{"name", "featureId"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
            {"responses", {{"200", ok}}}}}}},
        {"/identify",
         {{"get", {{"summary", "Parcel, nearest address and commune at a point"}, {"responses", {{"200", ok}}}}}}}}}};
  return json_answer(spec, "application/vnd.oai.openapi+json;version=3.0");
}

Response Api::conformance() const {
  return json_answer({{"conformsTo",
                       {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"}}});
}

Response Api::collections(const Request& request) const {
  const std::string base = base_url(request);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& def : features::Collections(services_.store).list()) {
    const layers::BBox extent =
        def.geometry == layers::GeometryType::none ? layers::BBox{} : services_.store.extent(def.name);
    list.push_back(collection_json(base, def, extent));
  }
  return json_answer({{"links", {link(base + "/collections", "self", "application/json")}}, {"collections", list}});
}

Response Api::collection(const Request& request, const std::string& id) const {
  const layers::LayerDef def = features::Collections(services_.store).get(id);
  const layers::BBox extent =
      def.geometry == layers::GeometryType::none ? layers::BBox{} : services_.store.extent(def.name);
  return json_answer(collection_json(base_url(request), def, extent));
}

Response Api::items(const Request& request, const Caller& caller, const std::string& id) const {
  check_crs(request);
  const features::Collections collections(services_.store);
  features::ItemsRequest wanted;
  wanted.restricted = caller.sees_restricted();
  wanted.bbox = parse_bbox(request);
  const std::string limit = request.param("limit");
  if (!limit.empty()) wanted.limit = parse_count(limit, "limit", 1, features::kMaxLimit);
  const std::string offset = request.param("offset");
  if (!offset.empty()) wanted.offset = parse_count(offset, "offset", 0, std::numeric_limits<std::int32_t>::max());
  for (const auto& [name, value] : request.query) {
    if (kReserved.count(name) == 0) wanted.filters.emplace_back(name, value);
  }
  const features::ItemsPage page = collections.items(id, wanted);
  if (page.holds_restricted) audit(caller, request, page.ids);

  const std::string href = base_url(request) + "/collections/" + id + "/items";
  nlohmann::json links = {link(href + "?" + query_string(request, wanted.offset), "self", kGeoJson),
                          link(base_url(request) + "/collections/" + id, "collection", "application/json")};
  if (wanted.offset + page.features.size() < static_cast<std::size_t>(page.matched)) {
    links.push_back(link(href + "?" + query_string(request, wanted.offset + wanted.limit), "next", kGeoJson));
  }
  if (wanted.offset > 0) {
    links.push_back(link(href + "?" + query_string(request, wanted.offset - std::min(wanted.offset, wanted.limit)),
                         "prev", kGeoJson));
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return json_answer({{"type", "FeatureCollection"},
                      {"timeStamp", fmt::format("{:%FT%TZ}", now)},
                      {"numberMatched", page.matched},
                      {"numberReturned", page.features.size()},
                      {"features", page.features},
                      {"links", links}},
                     kGeoJson);
}

Response Api::item(const Request& request, const Caller& caller, const std::string& id,
                   const std::string& feature_id) const {
  check_crs(request);
  const features::Collections collections(services_.store);
  auto feature = collections.item(id, feature_id, caller.sees_restricted());
  if (!feature) throw NotFoundError(fmt::format("collection '{}' has no feature '{}'", id, feature_id));
  if (collections.get(id).has_restricted()) audit(caller, request, {feature_id});
  const std::string href = base_url(request) + "/collections/" + id;
  (*feature)["links"] = {link(href + "/items/" + percent_encode(feature_id), "self", kGeoJson),
                         link(href, "collection", "application/json")};
  return json_answer(*feature, kGeoJson);
}

Response Api::identify(const Request& request, const Caller& caller) const {
  const double lon = parse_number(request.param("lon"), "lon");
  const double lat = parse_number(request.param("lat"), "lat");
  const features::Identification at = features::identify(services_.store, lon, lat, caller.sees_restricted());
  audit(caller, request, at.restricted_ids);
  const auto or_null = [](const std::optional<nlohmann::json>& v) { return v ? *v : nlohmann::json(nullptr); };
  return json_answer({{"lon", lon},
                      {"lat", lat},
                      {"parcel", or_null(at.parcel)},
                      {"address", or_null(at.address)},
                      {"commune", or_null(at.commune)},
                      {"former_commune", or_null(at.former_commune)}});
}

// GET /stats/land-use?commune=CODE, POST /stats/land-use with a GeoJSON polygon; ?format=csv for CSV.
Response Api::land_use_stats(const Request& request) const {
  const std::string format = request.param("format", "json");
  if (format != "json" && format != "csv")
    throw BadRequestError(fmt::format("format '{}' must be json or csv", format));
  features::LandUseStats stats;
  if (request.method == "POST") {
    stats = features::land_use_in_polygon(services_.store, request.body);
  } else {
    const std::string commune = request.param("commune");
    if (commune.empty()) throw BadRequestError("give commune=CODE, or POST a GeoJSON polygon");
    stats = features::land_use_by_commune(services_.store, commune);
  }
  if (format == "csv") {
    Response r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = features::to_csv(stats);
    return r;
  }
  return json_answer(features::to_json(stats));
}

// GET /export/{collection}.{geojson|csv}?bbox=&attribute=value&limit=: every matching feature, streamed.
Response Api::export_items(const Request& request, const Caller& caller, const std::string& file) const {
  check_crs(request);
  const std::size_t dot = file.rfind('.');
  if (dot == std::string::npos) throw NotFoundError(fmt::format("no such export: {} (name.geojson or name.csv)", file));
  const features::ExportFormat format = features::parse_export_format(file.substr(dot + 1));
  features::ItemsRequest wanted;
  wanted.restricted = caller.sees_restricted();
  wanted.bbox = parse_bbox(request);
  for (const auto& [name, value] : request.query) {
    if (kReserved.count(name) == 0) wanted.filters.emplace_back(name, value);
  }
  const std::string limit = request.param("limit");
  auto job = std::make_shared<features::Export>(
      services_.store, file.substr(0, dot), format, wanted,
      limit.empty() ? features::kMaxExportFeatures : parse_count(limit, "limit", 1, features::kMaxExportFeatures));
  Response r;
  r.content_type = job->content_type();
  r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}\"", job->filename()));
  const bool traced = caller.sees_restricted() && job->layer().has_restricted();
  r.stream = [this, job, traced, caller, request](const BodyWriter& write) {
    std::vector<std::string> ids;
    job->run(write, traced ? &ids : nullptr);
    // Written before the last chunk: if the trace fails, the client gets an incomplete answer.
    if (traced) audit(caller, request, ids);
  };
  return r;
}

}  // namespace bandoso::http
