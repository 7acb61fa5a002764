#include "tileserver/tile_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "layers/core/error.hpp"
#include "tileserver/compression.hpp"
#include "tileserver/mvt_encoder.hpp"
#include "tileserver/raster_renderer.hpp"

namespace bandoso::tiles {

namespace {

constexpr const char* kPngType = "image/png";
constexpr const char* kMvtType = "application/vnd.mapbox-vector-tile";
// Room around a changed feature whose drawing may reach a neighbouring tile (symbols, point labels),
// as a fraction of a tile: Mapnik's buffer is 64 px of 256.
constexpr double kExpiryBuffer = 0.25;

std::string variant_of(const TileRequest& request) {
  if (request.format == "mvt") return "mvt";
  if (request.size == 256) return "png";
  return request.scale >= 2.0 ? "png@2x" : "png512";
}

// The top-left tile and side of the metatile holding `tile`: `span` tiles of `size` px fit in
// metatile × 256 px, and never more than the zoom has.
struct MetatileShape {
  layers::TileId first;
  int span = 1;
};

MetatileShape metatile_of(const layers::TileId& tile, int metatile, int size) {
  const int per_side = std::max(1, metatile * 256 / size);
  const std::uint32_t zoom_side = 1U << tile.z;
  const int span = static_cast<int>(std::min<std::uint32_t>(static_cast<std::uint32_t>(per_side), zoom_side));
  const auto s = static_cast<std::uint32_t>(span);
  return {{tile.z, tile.x - tile.x % s, tile.y - tile.y % s}, span};
}

std::string list_names(const std::vector<Tileset>& tilesets) {
  std::string names;
  for (const auto& t : tilesets) names += (names.empty() ? "" : ", ") + t.name;
  return names.empty() ? "none: the store holds no layer with geometry" : names;
}

}  // namespace

// The tiles served lately, in memory in front of the tile cache file: a repeated request is a hash
// lookup instead of an SQLite read. Emptied whenever the data version moves (the file cache keeps what
// the change log left valid, so it refills quickly); the oldest tiles go first when over budget.
class TileService::HotTiles {
 public:
  explicit HotTiles(std::size_t budget) : budget_(budget) {}

  [[nodiscard]] std::optional<Tile> get(const std::string& key) const {
    std::shared_lock lock(mutex_);
    const auto it = tiles_.find(key);
    if (it == tiles_.end()) return std::nullopt;
    return it->second;
  }
  // Kept only when known valid at the version the memory holds (`valid_at`): a tile read or drawn
  // while an import committed is not.
  void put(const std::string& key, const Tile& tile, std::int64_t valid_at) {
    if (budget_ == 0) return;
    std::unique_lock lock(mutex_);
    if (valid_at != version_ || tiles_.contains(key)) return;
    tiles_.emplace(key, tile);
    order_.push_back(key);
    bytes_ += key.size() + tile.body.size() + tile.etag.size();
    while (bytes_ > budget_ && !order_.empty()) {
      const auto it = tiles_.find(order_.front());
      bytes_ -= order_.front().size() + it->second.body.size() + it->second.etag.size();
      tiles_.erase(it);
      order_.pop_front();
    }
  }
  void reset(std::int64_t version) {
    std::unique_lock lock(mutex_);
    tiles_.clear();
    order_.clear();
    bytes_ = 0;
    version_ = version;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Tile> tiles_;
  std::deque<std::string> order_;
  std::size_t bytes_ = 0;
  std::size_t budget_;
  std::int64_t version_ = -1;
};

std::string hot_key(const std::string& tileset, const std::string& variant, const layers::TileId& tile) {
  return fmt::format("{}/{}/{}/{}/{}", tileset, variant, tile.z, tile.x, tile.y);
}

struct TileService::Pool {
  explicit Pool(unsigned threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

struct TileService::Metatile {
  std::string variant;
  MetatileShape shape;
  int size = 256;
  double scale = 1.0;
  std::vector<bool> wanted;  // row-major; empty: every tile (seeding skips those outside its area)
};

struct TileService::RenderedTiles {
  MetatileShape shape;
  std::vector<Tile> tiles;  // row-major
};

TileService::TileService(const layers::Store& store, TileServiceOptions options)
    : store_(store), options_(std::move(options)) {
  init_mapnik();
  if (options_.metatile < 1 || options_.metatile > 16) {
    throw BadRequestError(fmt::format("metatile size {} must be from 1 to 16", options_.metatile));
  }
  if (options_.styles_directory.empty()) options_.styles_directory = default_styles_directory();
  definitions_ = load_tileset_definitions(options_.styles_directory);
  if (!options_.cache_file.empty()) {
    cache_ = layers::open_sqlite_tile_cache(options_.cache_file);
    // Tiles of another database (one replaced by a new file, such as a rebuilt demo, even with the same
    // data version) or drawn with other styles must go: the source is the database file's inode and
    // every tileset definition's fingerprint.
    struct stat info {};
    std::vector<std::uint64_t> identity{::stat(store_.path().c_str(), &info) == 0 ? info.st_ino : 0};
    for (const auto& def : definitions_) identity.push_back(def.fingerprint);
    const auto source = static_cast<std::int64_t>(
        XXH3_64bits(identity.data(), identity.size() * sizeof(std::uint64_t)) & 0x7fffffffffffffffULL);
    if (cache_->source() != source) cache_->reset_source(source, 0);
  }
  const unsigned threads =
      options_.render_threads > 0 ? options_.render_threads : std::max(1U, std::thread::hardware_concurrency());
  pool_ = std::make_unique<Pool>(threads);
  hot_ = std::make_unique<HotTiles>(options_.memory_cache_bytes);
}

TileService::~TileService() {
  // Renders still queued or running use the members: let them finish first.
  pool_->pool.join();
}

std::int64_t TileService::purge() {
  const std::int64_t version = sync();
  std::lock_guard lock(mutex_);
  if (cache_) cache_->clear(version);
  hot_->reset(version);
  return version;
}

int TileService::max_age_seconds(int zoom) {
  if (zoom <= 9) return 86400;  // the province at a glance: changes with boundaries, rarely
  if (zoom <= 13) return 3600;
  return 300;  // parcels and addresses: an import should show within minutes even without revalidation
}

// Brings tilesets and the cache up to the store's data version: the change log since the cache's
// version expires the tiles that touch changed areas in every tileset holding the changed layer.
std::int64_t TileService::sync() {
  const std::int64_t version = store_.data_version();
  if (version == synced_version_.load()) return version;
  std::lock_guard lock(mutex_);
  if (version == synced_version_.load()) return version;
  auto fresh = std::make_shared<const std::vector<Tileset>>(build_tilesets(definitions_, store_));
  if (cache_) {
    const std::int64_t cached = cache_->synced_version();
    if (cached > version) {
      cache_->clear(version);  // the cache belongs to another (replaced) database
    } else if (cached < version) {
      std::map<std::string, std::set<std::string>> tilesets_of_layer;
      for (const auto* list : {fresh.get(), tilesets_.get()}) {
        if (list == nullptr) continue;
        for (const auto& tileset : *list) {
          for (const auto& layer : tileset.layers) tilesets_of_layer[layer.name].insert(tileset.name);
        }
      }
      std::vector<layers::Expiry> expiries;
      for (const auto& change : store_.changes_since(cached)) {
        if (change.bbox.empty()) continue;  // no geometry: nothing drawn changed
        for (const auto& name : tilesets_of_layer[change.layer]) {
          expiries.push_back({name, change.bbox, 0, layers::kMaxZoom, kExpiryBuffer});
        }
      }
      cache_->expire(expiries, version);
    }
  }
  tilesets_ = std::move(fresh);
  idle_.clear();  // renderers hold the old definitions
  hot_->reset(version);
  synced_version_ = version;
  return version;
}

std::shared_ptr<const std::vector<Tileset>> TileService::current_tilesets() {
  sync();
  std::lock_guard lock(mutex_);
  return tilesets_;
}

std::vector<Tileset> TileService::tilesets() { return *current_tilesets(); }

Tileset TileService::tileset(std::string_view name) {
  const auto all = current_tilesets();
  for (const auto& t : *all) {
    if (t.name == name) return t;
  }
  throw NotFoundError(fmt::format("unknown tileset '{}' (this server has: {})", name, list_names(*all)));
}

Tile TileService::tile(const TileRequest& request) {
  if (request.format != "png" && request.format != "mvt") {
    throw NotFoundError(fmt::format("unknown tile format '{}' (this server has: png, mvt)", request.format));
  }
  if (request.format == "png" && !(request.size == 256 || request.size == 512)) {
    throw BadRequestError(fmt::format("tile size {} is not served (256 or 512)", request.size));
  }
  layers::check_tile(request.tile);
  const std::int64_t version = sync();
  const std::string variant = variant_of(request);
  if (auto hot = hot_->get(hot_key(request.tileset, variant, request.tile))) {
    hot->from_cache = true;
    return request.format == "mvt" ? deliver_vector(std::move(*hot), request.accept_gzip) : std::move(*hot);
  }
  std::shared_ptr<const std::vector<Tileset>> all;
  {
    std::lock_guard lock(mutex_);
    all = tilesets_;
  }
  const auto found =
      std::find_if(all->begin(), all->end(), [&](const Tileset& t) { return t.name == request.tileset; });
  if (found == all->end()) {
    throw NotFoundError(fmt::format("unknown tileset '{}' (this server has: {})", request.tileset, list_names(*all)));
  }
  return request.format == "mvt" ? vector(*found, request, version) : raster(*found, request, version);
}

Tile TileService::raster(const Tileset& tileset, const TileRequest& request, std::int64_t version) {
  const layers::TileKey key{tileset.name, request.tile, variant_of(request)};
  const std::string memory_key = hot_key(tileset.name, key.variant, request.tile);
  if (cache_) {
    if (auto cached = cache_->get(key)) {
      Tile tile{std::move(cached->body), kPngType, "", std::move(cached->etag), cached->data_version, true};
      hot_->put(memory_key, tile, version);
      return tile;
    }
  }
  // Without a cache the other tiles of a metatile would be thrown away: draw the one tile asked for.
  const Metatile metatile{key.variant,
                          metatile_of(request.tile, cache_ ? options_.metatile : 1, request.size),
                          request.size,
                          request.scale,
                          {}};
  auto pending = render_async(tileset, metatile, version);
  if (pending.wait_for(options_.render_timeout) != std::future_status::ready) {
    throw Error(ErrorCode::unavailable,
                fmt::format("tile {}/{}/{}/{} is still being drawn after {} s; it will be ready shortly", tileset.name,
                            request.tile.z, request.tile.x, request.tile.y, options_.render_timeout.count() / 1000.0));
  }
  const auto rendered = pending.get();  // rethrows the render's error
  const std::size_t row = request.tile.y - rendered->shape.first.y;
  const std::size_t column = request.tile.x - rendered->shape.first.x;
  Tile tile = rendered->tiles.at(row * static_cast<std::size_t>(rendered->shape.span) + column);
  hot_->put(memory_key, tile, version);
  return tile;
}

std::shared_future<std::shared_ptr<TileService::RenderedTiles>> TileService::render_async(const Tileset& tileset,
                                                                                          const Metatile& metatile,
                                                                                          std::int64_t version) {
  const auto& first = metatile.shape.first;
  const std::string key = fmt::format("{}/{}/{}/{}/{}@{}{}", tileset.name, metatile.variant, first.z, first.x, first.y,
                                      version, metatile.wanted.empty() ? "" : " (part)");
  auto promise = std::make_shared<std::promise<std::shared_ptr<RenderedTiles>>>();
  std::shared_future<std::shared_ptr<RenderedTiles>> future;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = in_flight_.find(key); it != in_flight_.end()) return it->second;
    future = promise->get_future().share();
    in_flight_.emplace(key, future);
  }
  boost::asio::post(pool_->pool, [this, tileset, metatile, version, key, promise] {
    try {
      auto renderer = acquire(tileset, version);
      std::vector<std::string> images = renderer->render_metatile(metatile.shape.first, metatile.shape.span,
                                                                  metatile.size, metatile.scale, metatile.wanted);
      release(tileset.name, version, std::move(renderer));
      ++metatiles_rendered_;
      auto rendered = std::make_shared<RenderedTiles>();
      rendered->shape = metatile.shape;
      rendered->tiles.reserve(images.size());
      std::vector<std::pair<layers::TileKey, layers::CachedTile>> to_cache;
      for (std::size_t i = 0; i < images.size(); ++i) {
        if (!metatile.wanted.empty() && !metatile.wanted[i]) {
          rendered->tiles.emplace_back();
          continue;
        }
        Tile t{std::move(images[i]), kPngType, "", "", version, false};
        t.etag = etag_of(t.body);
        if (cache_) {
          const auto span = static_cast<std::uint32_t>(metatile.shape.span);
          const layers::TileId id{metatile.shape.first.z, metatile.shape.first.x + static_cast<std::uint32_t>(i) % span,
                                  metatile.shape.first.y + static_cast<std::uint32_t>(i) / span};
          to_cache.push_back({{tileset.name, id, metatile.variant}, {t.body, t.etag, version}});
        }
        rendered->tiles.push_back(std::move(t));
      }
      if (cache_) cache_->put_all(to_cache);
      promise->set_value(std::move(rendered));
    } catch (...) {
      // A failed render answers its waiters with the error; the server goes on.
      promise->set_exception(std::current_exception());
    }
    std::lock_guard lock(mutex_);
    in_flight_.erase(key);
  });
  return future;
}

Tile TileService::vector(const Tileset& tileset, const TileRequest& request, std::int64_t version) {
  const layers::TileKey key{tileset.name, request.tile, "mvt"};
  // Kept compressed: most clients accept gzip, and a stored tile is never encoded again.
  Tile stored{{}, kMvtType, "", "", version, false};
  if (auto cached = cache_ ? cache_->get(key) : std::nullopt) {
    stored.body = std::move(cached->body);
    stored.etag = std::move(cached->etag);
    stored.data_version = cached->data_version;
    stored.from_cache = true;
  } else {
    std::string raw = encode_mvt(store_, tileset, request.tile);
    if (!cache_ && options_.memory_cache_bytes == 0 && !request.accept_gzip) {
      // Nothing keeps the tile and the client takes it plain: no compression at all.
      Tile plain{std::move(raw), kMvtType, "", "", version, false};
      plain.etag = etag_of(plain.body);
      return plain;
    }
    stored.body = raw.empty() ? std::string() : gzip(raw);
    stored.etag = etag_of(stored.body);
    if (cache_) cache_->put(key, {stored.body, stored.etag, version});
  }
  hot_->put(hot_key(tileset.name, "mvt", request.tile), stored, version);
  return deliver_vector(std::move(stored), request.accept_gzip);
}

Tile TileService::deliver_vector(Tile stored, bool accept_gzip) {
  if (!stored.body.empty()) {
    if (accept_gzip) {
      stored.content_encoding = "gzip";
    } else {
      stored.body = gunzip(stored.body);
    }
  }
  return stored;
}

std::unique_ptr<RasterRenderer> TileService::acquire(const Tileset& tileset, std::int64_t version) {
  {
    std::lock_guard lock(mutex_);
    if (version == synced_version_) {
      auto& idle = idle_[tileset.name];
      if (!idle.empty()) {
        auto renderer = std::move(idle.back());
        idle.pop_back();
        return renderer;
      }
    }
  }
  return std::make_unique<RasterRenderer>(tileset.style_xml, store_);
}

void TileService::release(const std::string& tileset, std::int64_t version, std::unique_ptr<RasterRenderer> renderer) {
  std::lock_guard lock(mutex_);
  if (version == synced_version_) idle_[tileset].push_back(std::move(renderer));
}

std::int64_t TileService::seed(const SeedRequest& request, const std::function<void(const SeedProgress&)>& progress) {
  if (!cache_) throw BadRequestError("seeding fills the tile cache, and this service has none (give --cache FILE)");
  if (request.format != "png" && request.format != "mvt") {
    throw BadRequestError(fmt::format("seed format '{}' must be png or mvt", request.format));
  }
  if (request.min_zoom < 0 || request.max_zoom > layers::kMaxZoom || request.min_zoom > request.max_zoom) {
    throw BadRequestError(
        fmt::format("zoom range {}-{} must lie within 0-{}", request.min_zoom, request.max_zoom, layers::kMaxZoom));
  }
  const Tileset target = tileset(request.tileset);
  const layers::BBox area = request.area.empty() ? target.bounds : request.area;
  if (area.empty()) return 0;

  struct Range {
    int z;
    std::uint32_t x0, y0, x1, y1;
  };
  std::vector<Range> ranges;
  SeedProgress state;
  for (int z = request.min_zoom; z <= request.max_zoom; ++z) {
    const layers::TileId a = layers::tile_at(area.west, area.north, z);
    const layers::TileId b = layers::tile_at(area.east, area.south, z);
    ranges.push_back({z, a.x, a.y, b.x, b.y});
    state.tiles_total += static_cast<std::int64_t>(b.x - a.x + 1) * (b.y - a.y + 1);
  }
  if (progress) progress(state);

  const std::int64_t version = sync();
  const std::size_t window = std::max<std::size_t>(2, 2 * (request.threads > 0 ? request.threads : 2));
  std::deque<std::pair<std::shared_future<std::shared_ptr<RenderedTiles>>, std::int64_t>> pending;
  auto settle_oldest = [&] {
    pending.front().first.get();  // rethrows a render error: seeding stops at the first failure
    state.tiles_done += pending.front().second;
    pending.pop_front();
    if (progress) progress(state);
  };
  for (const auto& r : ranges) {
    state.zoom = r.z;
    if (request.format == "mvt") {
      for (std::uint32_t y = r.y0; y <= r.y1; ++y) {
        for (std::uint32_t x = r.x0; x <= r.x1; ++x) {
          vector(target, {target.name, {r.z, x, y}, "mvt", 256, 1.0, true}, version);
          if (++state.tiles_done % 256 == 0 && progress) progress(state);
        }
      }
      continue;
    }
    const int span = metatile_of({r.z, 0, 0}, options_.metatile, 256).span;
    const auto s = static_cast<std::uint32_t>(span);
    for (std::uint32_t my = r.y0 - r.y0 % s; my <= r.y1; my += s) {
      for (std::uint32_t mx = r.x0 - r.x0 % s; mx <= r.x1; mx += s) {
        const std::int64_t inside = static_cast<std::int64_t>(std::min(r.x1, mx + s - 1) - std::max(r.x0, mx) + 1) *
                                    (std::min(r.y1, my + s - 1) - std::max(r.y0, my) + 1);
        Metatile metatile{"png", {{r.z, mx, my}, span}, 256, 1.0, {}};
        if (inside < static_cast<std::int64_t>(span) * span) {
          // Only the tiles of the area are encoded and stored; the rest are drawn when asked for.
          metatile.wanted.resize(static_cast<std::size_t>(span) * span);
          for (std::uint32_t row = 0; row < s; ++row) {
            for (std::uint32_t column = 0; column < s; ++column) {
              metatile.wanted[row * s + column] =
                  mx + column >= r.x0 && mx + column <= r.x1 && my + row >= r.y0 && my + row <= r.y1;
            }
          }
        }
        pending.emplace_back(render_async(target, metatile, version), inside);
        if (pending.size() >= window) settle_oldest();
      }
    }
  }
  while (!pending.empty()) settle_oldest();
  if (progress) progress(state);
  return state.tiles_done;
}

}  // namespace bandoso::tiles
