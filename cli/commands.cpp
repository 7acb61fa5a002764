#include "cli/commands.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <array>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>
#include <nlohmann/json.hpp>

#include "data-import/demo_province.hpp"
#include "data-import/importer.hpp"
#include "data-import/mapping.hpp"
#include "geocoder/geocoder.hpp"
#include "http/api.hpp"
#include "http/access.hpp"
#include "http/server.hpp"
#include "layers/core/catalogue.hpp"
#include "layers/core/crs.hpp"
#include "layers/core/error.hpp"
#include "layers/core/store.hpp"
#include "tileserver/tile_service.hpp"

namespace bandoso::cli {

namespace {

// CLI11 runs callbacks inside parse(); our errors travel out of it to main().
template <typename F>
void on_run(CLI::App* command, F&& body) {
  command->callback(std::forward<F>(body));
}

std::filesystem::path layers_dir_or_default(const std::string& dir) {
  return dir.empty() ? layers::default_layers_directory() : std::filesystem::path(dir);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  struct Args {
    std::string out;
    std::uint64_t seed = 1;
    double scale = 1.0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("demo",
                                     "Write a synthetic demo province (Shapefile in VN-2000 with TCVN3 text, "
                                     "GeoPackage, GeoJSON, CSV) for the import");
  cmd->add_option("--out", args->out, "Directory to write the files into (created if missing)")->required();
  cmd->add_option("--seed", args->seed, "Random seed: the same seed gives the same files")->capture_default_str();
  cmd->add_option("--scale", args->scale, "Size factor: 1 ≈ 50,000 features; about 40 gives 1,000,000+ addresses")
      ->check(CLI::Range(0.01, 1000.0))
      ->capture_default_str();
  on_run(cmd, [args] {
    const auto summary = data_import::generate_demo_province({args->out, args->seed, args->scale});
    std::int64_t total = 0;
    for (const auto& [layer, count] : summary.counts) {
      std::cout << fmt::format("{:>16} {:>9}\n", layer, count);
      total += count;
    }
    std::cout << fmt::format("{:>16} {:>9}  features written to {}\n", "total", total, args->out);
  });
}

namespace {

// Progress on stderr: a bar with rate and ETA redrawn in place on a terminal; otherwise (logs, pipes,
// tests) a plain line every `line_every` items and one at the end when there were that many.
class ProgressBar {
 public:
  explicit ProgressBar(std::string unit, std::int64_t line_every)
      : unit_(std::move(unit)), line_every_(line_every), terminal_(isatty(STDERR_FILENO) != 0) {}

  // A new task (another source file): rates and ETAs count from here.
  void restart() {
    started_ = std::chrono::steady_clock::now();
    last_line_ = 0;
  }

  void update(const std::string& label, std::int64_t done, std::int64_t total, bool finished) {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    if (terminal_) {
      if (!finished && now - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = now;
      std::string line;
      if (total > 0) {
        constexpr int kWidth = 30;
        const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
        const int filled = static_cast<int>(fraction * kWidth);
        const std::string eta =
            rate > 0 ? fmt::format("{:.0f}s", static_cast<double>(total - done) / rate) : std::string("?");
        line = fmt::format("[{}{}] {:3.0f}% {}/{} {:.0f} {}/s ETA {}", std::string(filled, '#'),
                           std::string(kWidth - filled, '-'), fraction * 100, done, total, rate, unit_, eta);
      } else {
        line = fmt::format("{} {} {:.0f}/s", done, unit_, rate);
      }
      std::cerr << fmt::format("\r{}: {}\x1b[K", label, line);
      if (finished) std::cerr << '\n';
      std::cerr << std::flush;
    } else if (done / line_every_ > last_line_ || (finished && done >= line_every_)) {
      last_line_ = done / line_every_;
      std::cerr << fmt::format("{}: {} {}{}, {:.0f}/s\n", label, done, unit_,
                               total > 0 ? fmt::format(" of {}", total) : "", rate)
                << std::flush;
    }
  }

 private:
  std::string unit_;
  std::int64_t line_every_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), last_draw_{};
  std::int64_t last_line_ = 0;
};

// Import progress: one bar per source file.
class ImportProgressPrinter {
 public:
  void operator()(const data_import::ImportProgress& p) {
    if (p.source != source_) {
      source_ = p.source;
      bar_->restart();
    }
    bar_->update(std::filesystem::path(p.source).filename().string(), p.done, p.total, p.source_done);
  }

 private:
  std::string source_;
  // Shared: ImportOptions keeps a copy of the printer in a std::function.
  std::shared_ptr<ProgressBar> bar_ = std::make_shared<ProgressBar>("records", 100000);
};

}  // namespace

void add_import_command(CLI::App& app) {
  struct Args {
    std::string db, layer, layers_dir, mapping, source_crs, helmert = "vn-common", encoding = "auto", mode = "replace",
                                                            report;
    std::vector<std::string> sources;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("import",
                                     "Import source files (anything GDAL opens) into one layer of the store; "
                                     "the previous content stays until the new one is complete");
  cmd->footer(
      "Sources: Shapefile (with or without .cpg), GeoPackage, GeoJSON, CSV (lon/lat or WKT columns), DGN v7, "
      "FileGDB (.gdb), KML, and the same inside a .zip (x.zip, or x.zip/inner.shp when it holds several). "
      "A file whose features mostly lie outside Nghệ An is refused as a whole; single stray records are "
      "rejected. Exit codes: 0 ok, 1 bad input or usage, 2 runtime failure.");
  cmd->add_option("--db", args->db, "Database file (created if missing)")->required();
  cmd->add_option("--layer", args->layer,
                  "Layer to fill: communes, old_communes, old_districts, commune_mapping, "
                  "streets, addresses, parcels, land_use_codes or a department's layer")
      ->required();
  cmd->add_option("--layers-dir", args->layers_dir, "Directory of layer definitions (default: the built-in layers/)");
  cmd->add_option("--mapping", args->mapping, "YAML mapping of source fields to attributes (see data-import/presets/)");
  cmd->add_option("--source-crs", args->source_crs,
                  "CRS of the sources, e.g. EPSG:9208 or a PROJ string; overrides their .prj (use it for files "
                  "without one, or with a wrong one)");
  cmd->add_option("--helmert", args->helmert,
                  "VN-2000 Helmert sign convention: vn-common (what Vietnamese data uses) or epsg")
      ->check(CLI::IsMember({"vn-common", "epsg"}))
      ->capture_default_str();
  cmd->add_option("--encoding", args->encoding,
                  "Text encoding of the source: auto (detects UTF-8, TCVN3, VNI-Windows, CP1258), utf-8, tcvn3, "
                  "vni or cp1258")
      ->check(CLI::IsMember({"auto", "utf-8", "tcvn3", "vni", "cp1258"}))
      ->capture_default_str();
  cmd->add_option("--mode", args->mode,
                  "replace: the layer becomes exactly the imported features; upsert: imported features replace "
                  "those with the same key, the others stay")
      ->check(CLI::IsMember({"replace", "upsert"}))
      ->capture_default_str();
  cmd->add_option("--report", args->report,
                  "Write the import report as JSON: {layer, read, imported, repaired, flagged, rejected, records: "
                  "[{source_id, action, reason}], ...}");
  cmd->add_option("sources", args->sources, "Source files (Shapefile, GeoPackage, GeoJSON, CSV, ...)")->required();
  on_run(cmd, [args] {
    const auto catalogue = layers::Catalogue::load_directory(layers_dir_or_default(args->layers_dir));
    const layers::LayerDef& layer = catalogue.layer(args->layer);
    data_import::ImportOptions options;
    options.layer = args->layer;
    for (const auto& s : args->sources) options.sources.emplace_back(s);
    if (!args->mapping.empty()) options.mapping = args->mapping;
    options.source_crs = args->source_crs;
    options.helmert = layers::parse_helmert_convention(args->helmert);
    options.encoding = args->encoding;
    options.mode = args->mode == "upsert" ? layers::WriteMode::upsert : layers::WriteMode::replace;
    options.progress = ImportProgressPrinter();
    auto store = layers::open_spatialite_store(args->db, layers::OpenMode::create);
    const data_import::ImportReport report = data_import::run_import(*store, layer, options);
    std::cout << report.summary();
    if (!args->report.empty()) {
      std::ofstream out(args->report);
      out << report.to_json().dump(2) << '\n';
      if (!out) throw Error(ErrorCode::storage_failure, fmt::format("{}: cannot write the report", args->report));
    }
  });
}

// The tile cache beside the database unless told otherwise: serve and seed then share it.
std::string default_cache_file(const std::string& db) { return db + ".tiles"; }

void add_serve_command(CLI::App& app) {
  struct Args {
    std::string db, cache, styles_dir, access;
    bool no_cache = false;
    int port = 8080;
    int threads = 2;
    unsigned render_threads = 0;
    double render_timeout = 15;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve tiles, search and health over HTTP");
  cmd->add_option("--db", args->db, "Database file written by `bandoso import`")->required();
  cmd->add_option("--port", args->port, "TCP port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "HTTP worker threads")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--cache", args->cache, "Tile cache file (default: DB.tiles)");
  cmd->add_flag("--no-cache", args->no_cache, "Draw every tile afresh (no tile cache, on disk or in memory)");
  cmd->add_option("--styles-dir", args->styles_dir, "Directory of tileset definitions (default: the built-in styles/)");
  cmd->add_option("--access", args->access,
                  "API keys, roles, rate limits and the audit log (YAML; see docs/access.md). Without it every "
                  "caller is the public");
  cmd->add_option("--render-threads", args->render_threads, "Render threads (0: one per core)")
      ->check(CLI::Range(0U, 64U));
  cmd->add_option("--render-timeout", args->render_timeout,
                  "Seconds a request waits for its tile to be drawn before it gets 503 and Retry-After")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  on_run(cmd, [args] {
    auto store = layers::open_spatialite_store(args->db, layers::OpenMode::read_only);
    tiles::TileServiceOptions options;
    if (args->no_cache) {
      options.memory_cache_bytes = 0;
    } else {
      options.cache_file = args->cache.empty() ? default_cache_file(args->db) : args->cache;
    }
    options.styles_directory = args->styles_dir;
    options.render_threads = args->render_threads;
    options.render_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(args->render_timeout * 1000));
    tiles::TileService tile_service(*store, options);
    geocoder::Geocoder geocoder(*store);
    const tiles::GlyphStore glyphs(tiles::default_glyphs_directory());
    std::unique_ptr<http::Access> access;
    if (!args->access.empty()) access = std::make_unique<http::Access>(http::load_access_config(args->access));
    const http::Api api(http::Services{*store, tile_service, geocoder, &glyphs, access.get()});
    http::Server server(api, {static_cast<std::uint16_t>(args->port), args->threads});

    // Block the stop signals before the server's threads start, so only sigwait sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    server.start();
    const std::string base = fmt::format("http://localhost:{}", server.port());
    std::cout << fmt::format("bandoso: serving {} (data version {}) on {}\n", args->db, store->data_version(), base);
    std::cout << fmt::format("  health:   {}/health\n", base);
    std::cout << fmt::format("  tiles:    {}/tiles/{{basemap|cadastral|communes}}/{{z}}/{{x}}/{{y}}.png and .mvt\n",
                             base);
    std::cout << fmt::format("  TileJSON: {}/tiles/basemap.json   WMTS: {}/wmts/1.0.0/WMTSCapabilities.xml\n", base,
                             base);
    std::cout << fmt::format("  geocoder: {}/search?q=Phường%20Thành%20Vinh\n", base);
    std::cout << fmt::format("  map:      {}/map\n", base) << std::flush;
    int received = 0;
    sigwait(&signals, &received);
    std::cout << "bandoso: stopping\n";
    server.stop();
  });
}

// "10-17" or "14" → {min, max}.
std::pair<int, int> parse_zoom_range(const std::string& text) {
  const auto dash = text.find('-');
  try {
    std::size_t used = 0;
    const int low = std::stoi(text.substr(0, dash), &used);
    if (used != text.substr(0, dash).size()) throw std::invalid_argument(text);
    if (dash == std::string::npos) return {low, low};
    const std::string rest = text.substr(dash + 1);
    const int high = std::stoi(rest, &used);
    if (used != rest.size()) throw std::invalid_argument(text);
    return {low, high};
  } catch (const std::logic_error&) {
    throw BadRequestError(fmt::format("--zoom '{}' must be a zoom or a range such as 10-17", text));
  }
}

layers::BBox parse_bbox(const std::string& text) {
  std::vector<double> values;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      std::size_t used = 0;
      values.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::logic_error&) {
      values.clear();
      break;
    }
  }
  if (values.size() != 4 || values[0] >= values[2] || values[1] >= values[3] || values[0] < -180 || values[2] > 180 ||
      values[1] < -85.06 || values[3] > 85.06) {
    throw BadRequestError(fmt::format("--bbox '{}' must be W,S,E,N in degrees with W < E and S < N", text));
  }
  return {values[0], values[1], values[2], values[3]};
}

void add_seed_command(CLI::App& app) {
  struct Args {
    std::string db, cache, styles_dir, tileset, zoom, bbox, commune, format = "png";
    unsigned threads = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("seed", "Pre-render tiles into the tile cache that `serve` reads");
  cmd->add_option("--db", args->db, "Database file")->required();
  cmd->add_option("--cache", args->cache, "Tile cache file (default: DB.tiles, as serve)");
  cmd->add_option("--styles-dir", args->styles_dir, "Directory of tileset definitions (default: the built-in styles/)");
  cmd->add_option("--tileset", args->tileset, "Tileset to seed")->required();
  cmd->add_option("--zoom", args->zoom, "Zoom or zoom range, e.g. 10-17")->required();
  auto* bbox = cmd->add_option("--bbox", args->bbox, "W,S,E,N in degrees (default: the tileset's data)");
  cmd->add_option("--commune", args->commune, "Seed the area of one commune or ward (its 2025 code)")->excludes(bbox);
  cmd->add_option("--format", args->format, "png or mvt")->check(CLI::IsMember({"png", "mvt"}))->capture_default_str();
  cmd->add_option("--threads", args->threads, "Render threads (0: one per core)")->check(CLI::Range(0U, 64U));
  on_run(cmd, [args] {
    auto store = layers::open_spatialite_store(args->db, layers::OpenMode::read_only);
    tiles::TileServiceOptions options;
    options.cache_file = args->cache.empty() ? default_cache_file(args->db) : args->cache;
    options.styles_directory = args->styles_dir;
    options.render_threads = args->threads;
    tiles::TileService service(*store, options);
    tiles::SeedRequest request;
    request.tileset = args->tileset;
    std::tie(request.min_zoom, request.max_zoom) = parse_zoom_range(args->zoom);
    request.format = args->format;
    request.threads = args->threads;
    if (!args->bbox.empty()) request.area = parse_bbox(args->bbox);
    if (!args->commune.empty()) {
      request.area = store->extent_where("communes", "code", layers::Value{args->commune});
      if (request.area.empty())
        throw NotFoundError(fmt::format("--commune: no commune or ward with code '{}'", args->commune));
    }
    const auto start = std::chrono::steady_clock::now();
    ProgressBar bar("tiles", 10000);
    const std::int64_t done = service.seed(request, [&](const tiles::SeedProgress& p) {
      bar.update(fmt::format("seed {} z{}", request.tileset, p.zoom), p.tiles_done, p.tiles_total, false);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.update(fmt::format("seed {}", request.tileset), done, done, true);
    std::cout << fmt::format("seeded {} tiles of {} (z{}-{}) in {:.1f} s, {:.0f} tiles/s\n", done, args->tileset,
                             request.min_zoom, request.max_zoom, seconds, seconds > 0 ? done / seconds : 0.0);
  });
}

void add_geocode_command(CLI::App& app) {
  struct Args {
    std::string db, query, reverse;
    std::size_t limit = 5;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "geocode", "Look up an address, place, digital code, plus code or parcel, as GET /search does");
  cmd->add_option("--db", args->db, "Database file")->required();
  cmd->add_option("--limit", args->limit, "Most results to print")->check(CLI::Range(1, 50))->capture_default_str();
  auto* reverse = cmd->add_option("--reverse", args->reverse, "LAT,LON: what is there, as GET /reverse does");
  cmd->add_option("query", args->query, "What to look for, e.g. \"số 12 ngõ 5 Lê Lợi, P. Hưng Bình, TP Vinh\"")
      ->excludes(reverse);
  on_run(cmd, [args] {
    auto store = layers::open_spatialite_store(args->db, layers::OpenMode::read_only);
    geocoder::Geocoder geocoder(*store);
    std::vector<geocoder::Place> places;
    if (!args->reverse.empty()) {
      const auto comma = args->reverse.find(',');
      double lat = 0, lon = 0;
      try {
        if (comma == std::string::npos) throw std::invalid_argument(args->reverse);
        lat = std::stod(args->reverse.substr(0, comma));
        lon = std::stod(args->reverse.substr(comma + 1));
      } catch (const std::logic_error&) {
        throw BadRequestError(fmt::format("--reverse '{}' must be LAT,LON in degrees", args->reverse));
      }
      places = geocoder.reverse(lon, lat);
    } else {
      if (args->query.empty()) throw BadRequestError("give a query, or --reverse LAT,LON");
      geocoder::SearchOptions options;
      options.limit = args->limit;
      const geocoder::SearchResult result = geocoder.search(args->query, options);
      if (!result.message.empty()) std::cout << result.message << '\n';
      for (const auto& code : result.suggestions) std::cout << "  " << code << '\n';
      places = result.places;
    }
    if (places.empty()) std::cout << "no result\n";
    for (std::size_t i = 0; i < places.size() && i < args->limit; ++i) {
      const auto& p = places[i];
      std::cout << fmt::format("{:.7f},{:.7f}  {}  [{} {}, {}, confidence {:.2f}{}]\n", p.lat, p.lon, p.display_name,
                               p.layer, p.id, geocoder::to_string(p.match), p.confidence,
                               p.distance_m ? fmt::format(", {:.0f} m", *p.distance_m) : std::string());
    }
  });
}

void add_hash_key_command(CLI::App& app) {
  auto key = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("hash-key", "Make an API key (or take one) and print the SHA-256 the access file holds");
  cmd->add_option("key", *key, "The key (default: a new random one)");
  on_run(cmd, [key] {
    std::string text = *key;
    if (text.empty()) {
      std::array<unsigned char, 24> bytes{};
      if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw Error(ErrorCode::internal, "no random bytes for a key");
      }
      for (const unsigned char b : bytes) text += fmt::format("{:02x}", b);
    }
    std::cout << fmt::format("key:    {}\nsha256: {}\n", text, http::sha256_hex(text));
  });
}

void add_check_config_command(CLI::App& app) {
  struct Args {
    std::string layers_dir;
    std::vector<std::string> mappings;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("check-config",
                                     "Check the layer definitions (and mapping files): unknown keys and "
                                     "type mistakes are reported with file and key");
  cmd->add_option("--layers-dir", args->layers_dir, "Directory of layer definitions (default: the built-in layers/)");
  cmd->add_option("--mapping", args->mappings, "Mapping files to check against their layer");
  on_run(cmd, [args] {
    const auto catalogue = layers::Catalogue::load_directory(layers_dir_or_default(args->layers_dir));
    for (const auto& file : args->mappings) {
      const data_import::Mapping mapping = data_import::load_mapping(file);
      data_import::check_mapping(mapping, catalogue.layer(mapping.layer));
    }
    std::cout << fmt::format("ok: {} layer definitions", catalogue.layers().size());
    if (!args->mappings.empty()) std::cout << fmt::format(", {} mappings", args->mappings.size());
    std::cout << '\n';
  });
}

}  // namespace bandoso::cli
