// The persistent tile cache: one SQLite file (MBTiles-like, no Spatialite), the only other file of
// bandoso besides spatialite_store.cpp that holds SQL.
//
// Threading: the file is in WAL mode, so readers never wait for a writer. get/size/synced_version
// borrow a connection from a small pool (one connection per concurrent reader, each with its own
// prepared statements); put/expire/clear share one writer connection under a mutex. SQLite admits
// one writer at a time anyway, and the mutex makes put's version check atomic with expire() in this
// process; the check is also done inside the INSERT so that another process expiring the same file
// cannot let a stale tile land either.
#include "layers/core/tile_cache.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "layers/core/error.hpp"

namespace bandoso::layers {

namespace {

constexpr std::int64_t kSchemaVersion = 1;
// The latitude of the top edge of tile 0/0/0: Web Mercator ends there.
constexpr double kMaxLatitude = 85.0511287798066;
constexpr int kBusyTimeoutMs = 10000;

// A rowid table with a unique index rather than WITHOUT ROWID: tiles are often tens of kB, and a
// WITHOUT ROWID b-tree keeps only ~1 kB of each row in the page, so its key range scans would read
// overflow-heavy pages; the separate index stays dense. Its key order (tileset, z, x, y, variant)
// makes an expiry (tileset = ? AND z = ? AND x BETWEEN ...) one index range scan over all variants.
constexpr std::string_view kSchemaSql = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE tiles (
  tileset TEXT NOT NULL,
  z INTEGER NOT NULL,
  x INTEGER NOT NULL,
  y INTEGER NOT NULL,
  variant TEXT NOT NULL,
  body BLOB NOT NULL,
  etag TEXT NOT NULL,
  data_version INTEGER NOT NULL
);
CREATE UNIQUE INDEX tiles_key ON tiles (tileset, z, x, y, variant);
INSERT INTO meta (key, value) VALUES ('synced_version', 0);
)sql";

// Busy after the timeout means overload (try again); "not a database" means a file of another kind.
ErrorCode error_code_of(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::unavailable;
    case SQLITE_NOTADB:
      return ErrorCode::schema_mismatch;
    default:
      return ErrorCode::storage_failure;
  }
}

StoreError sqlite_error(const std::filesystem::path& file, sqlite3* db, std::string_view what) {
  const int code = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_NOMEM;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return StoreError(error_code_of(code), fmt::format("{}: tile cache: {}: {}", file.string(), what, message));
}

// One connection. Each is used by one thread at a time (the pool or the writer mutex sees to it),
// so SQLite's own per-connection mutex is switched off.
class Connection {
 public:
  Connection(const std::filesystem::path& file, int flags) : file_(file) {
    if (sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      StoreError error = sqlite_error(file, db_, "cannot open");
      sqlite3_close_v2(db_);  // a failed open still allocates a handle (unless out of memory)
      throw error;
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  }
  ~Connection() { sqlite3_close_v2(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] sqlite3* get() const { return db_; }
  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

  void exec(const char* sql) const {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) throw sqlite_error(file_, db_, sql);
  }

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

// A prepared statement, kept for the connection's lifetime. run() resets it when done so that a
// reader does not keep its WAL snapshot (which would also hold back checkpoints).
class Statement {
 public:
  Statement(const Connection& connection, std::string_view sql) : connection_(connection) {
    if (sqlite3_prepare_v3(connection.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      throw sqlite_error(connection.file(), connection.get(), fmt::format("cannot prepare '{}'", sql.substr(0, 80)));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding with SQLITE_STATIC is safe: every caller steps and resets before the bound data goes.
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind_text(int index, std::string_view text) {
    check(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  Statement& bind_blob(int index, std::string_view bytes) {
    // data() of an empty string is not null, so an empty body stays a zero-length blob, not NULL.
    check(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC));
    return *this;
  }

  // Steps once and hands the row (if any) to `read`; returns whether there was a row.
  template <typename Read>
  bool run(Read&& read) {
    const int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      StoreError error = sqlite_error(connection_.file(), connection_.get(), "query failed");
      sqlite3_reset(stmt_);
      throw error;
    }
    if (rc == SQLITE_ROW) std::forward<Read>(read)(stmt_);
    sqlite3_reset(stmt_);
    return rc == SQLITE_ROW;
  }
  bool run() {
    return run([](sqlite3_stmt*) {});
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) throw sqlite_error(connection_.file(), connection_.get(), "cannot bind a parameter");
  }

  const Connection& connection_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::int64_t read_integer(Statement& statement) {
  std::int64_t value = 0;
  statement.run([&](sqlite3_stmt* s) { value = sqlite3_column_int64(s, 0); });
  return value;
}

std::string column_bytes(sqlite3_stmt* s, int column) {
  // sqlite3_column_blob first, then _bytes: the documented order. A zero-length blob reads as null.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(s, column));
  const int size = sqlite3_column_bytes(s, column);
  return data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails half-way on a lock
// upgrade; rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(const Connection& connection) : connection_(connection) { connection_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(connection_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    connection_.exec("COMMIT");
    committed_ = true;
  }

 private:
  const Connection& connection_;
  bool committed_ = false;
};

// A reader: its connection and the statements it runs.
struct Reader {
  explicit Reader(const std::filesystem::path& file)
      : db(file, SQLITE_OPEN_READWRITE),  // read-write: WAL readers need to write the -shm index
        get(db,
            "SELECT body, etag, data_version FROM tiles WHERE tileset = ?1 AND z = ?2 AND x = ?3 AND y = ?4 "
            "AND variant = ?5"),
        count(db, "SELECT count(*) FROM tiles"),
        version(db, "SELECT value FROM meta WHERE key = 'synced_version'") {
    db.exec("PRAGMA query_only = ON");
  }
  Connection db;
  Statement get, count, version;
};

// The tiles x0..x1, y0..y1 (inclusive) of one zoom.
struct TileRange {
  int z = 0;
  std::int64_t x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  friend auto operator<=>(const TileRange&, const TileRange&) = default;
};

// The tiles at zoom z whose bounds, grown by `buffer` tile widths, intersect `area` (lon/lat, not
// empty). Bounds are closed: a tile sharing only an edge with the area counts, since expiring one tile
// too many costs a render while one too few serves stale data. A NaN edge is taken as the world's edge.
TileRange tile_range(const BBox& area, int z, double buffer) {
  const auto edge = [](double v, double lo, double hi, double fallback) {
    return std::isnan(v) ? fallback : std::clamp(v, lo, hi);
  };
  const double west = edge(area.west, -180.0, 180.0, -180.0);
  const double east = edge(area.east, -180.0, 180.0, 180.0);
  const double south = edge(area.south, -kMaxLatitude, kMaxLatitude, -kMaxLatitude);
  const double north = edge(area.north, -kMaxLatitude, kMaxLatitude, kMaxLatitude);
  double left = 0, bottom = 0, right = 0, top = 0;
  lonlat_to_mercator(west, south, left, bottom);
  lonlat_to_mercator(east, north, right, top);

  const double n = static_cast<double>(std::uint64_t{1} << z);
  const double width = 2 * kWebMercatorHalfWorld / n;
  const double grow = (buffer > 0 ? buffer : 0.0) * width;
  // Fractional tile coordinates of the grown area; y counts down from the north edge.
  const double fx0 = (left - grow + kWebMercatorHalfWorld) / width;
  const double fx1 = (right + grow + kWebMercatorHalfWorld) / width;
  const double fy0 = (kWebMercatorHalfWorld - (top + grow)) / width;
  const double fy1 = (kWebMercatorHalfWorld - (bottom - grow)) / width;
  // Tile i spans [i, i + 1]: the first tile touching a west/north edge at f is ceil(f) - 1.
  const auto index = [n](double f) { return static_cast<std::int64_t>(std::clamp(f, 0.0, n - 1)); };
  return TileRange{z, index(std::ceil(fx0) - 1), index(std::floor(fx1)), index(std::ceil(fy0) - 1),
                   index(std::floor(fy1))};
}

// Every tile range to delete, per tileset, without duplicates: at low zooms thousands of small boxes
// fall into the same few tiles, and each duplicate would cost a DELETE.
std::map<std::string, std::vector<TileRange>> tile_ranges(const std::vector<Expiry>& expiries) {
  std::map<std::string, std::vector<TileRange>> ranges;
  for (const auto& expiry : expiries) {
    if (expiry.area.empty()) continue;
    auto& list = ranges[expiry.tileset];
    for (int z = std::max(expiry.min_zoom, 0); z <= std::min(expiry.max_zoom, kMaxZoom); ++z) {
      list.push_back(tile_range(expiry.area, z, expiry.buffer));
    }
  }
  for (auto& [tileset, list] : ranges) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  return ranges;
}

class SqliteTileCache final : public TileCache {
 public:
  explicit SqliteTileCache(const std::filesystem::path& file)
      : file_(file),
        writer_(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE),
        max_idle_readers_(std::max<std::size_t>(8, 2 * std::thread::hardware_concurrency())) {
    open_schema();
    // After the schema check, so that a foreign database is refused before it is switched to WAL.
    // WAL: readers see the last commit while expire() writes. synchronous=NORMAL does not fsync each
    // put; a power cut can only lose the newest commits, and the synced version goes back with the
    // tiles it describes, so the cache stays consistent (the lost expiry is simply applied again).
    writer_.exec("PRAGMA journal_mode = WAL");
    writer_.exec("PRAGMA synchronous = NORMAL");
    put_ = std::make_unique<Statement>(
        writer_,
        "INSERT OR REPLACE INTO tiles (tileset, z, x, y, variant, body, etag, data_version) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE ?8 = (SELECT value FROM meta WHERE key = 'synced_version')");
    delete_range_ = std::make_unique<Statement>(
        writer_, "DELETE FROM tiles WHERE tileset = ?1 AND z = ?2 AND x BETWEEN ?3 AND ?4 AND y BETWEEN ?5 AND ?6");
    delete_all_ = std::make_unique<Statement>(writer_, "DELETE FROM tiles");
    set_version_ = std::make_unique<Statement>(writer_, "UPDATE meta SET value = ?1 WHERE key = 'synced_version'");
  }

  // Members go in reverse order: the pooled readers, then the writer's statements before their connection.
  ~SqliteTileCache() override = default;
  SqliteTileCache(const SqliteTileCache&) = delete;
  SqliteTileCache& operator=(const SqliteTileCache&) = delete;

  [[nodiscard]] std::optional<CachedTile> get(const TileKey& key) const override {
    Lease reader(*this);
    std::optional<CachedTile> tile;
    reader->get.bind_text(1, key.tileset)
        .bind(2, key.tile.z)
        .bind(3, key.tile.x)
        .bind(4, key.tile.y)
        .bind_text(5, key.variant)
        .run([&](sqlite3_stmt* s) {
          tile = CachedTile{column_bytes(s, 0), column_bytes(s, 1), sqlite3_column_int64(s, 2)};
        });
    return tile;
  }

  bool put(const TileKey& key, const CachedTile& tile) override {
    std::lock_guard lock(write_mutex_);
    return insert(key, tile);
  }

  std::size_t put_all(const std::vector<std::pair<TileKey, CachedTile>>& tiles) override {
    std::lock_guard lock(write_mutex_);
    Transaction transaction(writer_);  // one commit for a metatile's tiles, not one per tile
    std::size_t stored = 0;
    for (const auto& [key, tile] : tiles) stored += insert(key, tile) ? 1 : 0;
    transaction.commit();
    return stored;
  }

  [[nodiscard]] std::int64_t synced_version() const override {
    Lease reader(*this);
    return read_integer(reader->version);
  }

  std::int64_t expire(const std::vector<Expiry>& expiries, std::int64_t new_version) override {
    const auto ranges = tile_ranges(expiries);  // before taking the lock: puts need not wait for this
    std::lock_guard lock(write_mutex_);
    Transaction transaction(writer_);
    std::int64_t deleted = 0;
    for (const auto& [tileset, list] : ranges) {
      for (const auto& r : list) {
        delete_range_->bind_text(1, tileset).bind(2, r.z).bind(3, r.x0).bind(4, r.x1).bind(5, r.y0).bind(6, r.y1).run();
        deleted += sqlite3_changes64(writer_.get());
      }
    }
    set_version_->bind(1, new_version).run();
    transaction.commit();
    return deleted;
  }

  void clear(std::int64_t new_version) override {
    std::lock_guard lock(write_mutex_);
    Transaction transaction(writer_);
    delete_all_->run();
    set_version_->bind(1, new_version).run();
    transaction.commit();
  }

  [[nodiscard]] std::int64_t source() const override {
    std::lock_guard lock(write_mutex_);
    Statement read(writer_, "SELECT value FROM meta WHERE key = 'source'");
    return read_integer(read);
  }

  void reset_source(std::int64_t source, std::int64_t new_version) override {
    std::lock_guard lock(write_mutex_);
    Transaction transaction(writer_);
    delete_all_->run();
    set_version_->bind(1, new_version).run();
    Statement set_source(writer_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('source', ?1)");
    set_source.bind(1, source).run();
    transaction.commit();
  }

  [[nodiscard]] std::int64_t size() const override {
    Lease reader(*this);
    return read_integer(reader->count);
  }

 private:
  // Under write_mutex_. False when the WHERE found another synced version: nothing inserted.
  bool insert(const TileKey& key, const CachedTile& tile) {
    put_->bind_text(1, key.tileset)
        .bind(2, key.tile.z)
        .bind(3, key.tile.x)
        .bind(4, key.tile.y)
        .bind_text(5, key.variant)
        .bind_blob(6, tile.body)
        .bind_text(7, tile.etag)
        .bind(8, tile.data_version)
        .run();
    return sqlite3_changes64(writer_.get()) > 0;
  }

  // A reader borrowed from the pool for one call, returned (or closed, beyond max_idle_readers_) after.
  class Lease {
   public:
    explicit Lease(const SqliteTileCache& cache) : cache_(cache) {
      {
        std::lock_guard lock(cache_.pool_mutex_);
        if (!cache_.idle_readers_.empty()) {
          reader_ = std::move(cache_.idle_readers_.back());
          cache_.idle_readers_.pop_back();
          return;
        }
      }
      reader_ = std::make_unique<Reader>(cache_.file_);  // opened outside the pool lock
    }
    ~Lease() {
      std::lock_guard lock(cache_.pool_mutex_);
      if (cache_.idle_readers_.size() < cache_.max_idle_readers_) cache_.idle_readers_.push_back(std::move(reader_));
      // else reader_ closes here
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Reader* operator->() const { return reader_.get(); }

   private:
    const SqliteTileCache& cache_;
    std::unique_ptr<Reader> reader_;
  };

  // Creates the schema in a new (empty) file, or checks that an existing one is a tile cache of this
  // schema version. One immediate transaction, so that two processes creating the file do not race.
  void open_schema() {
    Transaction transaction(writer_);
    Statement has_meta(writer_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    if (!has_meta.run()) {
      Statement any_table(writer_, "SELECT 1 FROM sqlite_master LIMIT 1");
      if (any_table.run()) throw mismatch("not a bandoso tile cache (no meta table)");
      const std::string sql =
          std::string(kSchemaSql) +
          fmt::format("INSERT INTO meta (key, value) VALUES ('schema_version', {});", kSchemaVersion);
      writer_.exec(sql.c_str());
    } else {
      std::optional<std::int64_t> version;
      try {
        Statement read(writer_, "SELECT value FROM meta WHERE key = 'schema_version'");
        read.run([&](sqlite3_stmt* s) { version = sqlite3_column_int64(s, 0); });
      } catch (const StoreError& e) {
        throw mismatch(fmt::format("not a bandoso tile cache ({})", e.what()));  // a meta table of other columns
      }
      if (!version) throw mismatch("not a bandoso tile cache (no schema_version in meta)");
      if (*version != kSchemaVersion) {
        throw mismatch(fmt::format("schema version {}, this bandoso needs version {} (delete the file to rebuild it)",
                                   *version, kSchemaVersion));
      }
    }
    transaction.commit();
  }

  [[nodiscard]] StoreError mismatch(const std::string& what) const {
    return StoreError(ErrorCode::schema_mismatch, fmt::format("{}: tile cache: {}", file_.string(), what));
  }

  std::filesystem::path file_;
  Connection writer_;
  mutable std::mutex write_mutex_;  // the writer connection and its statements; makes put atomic with expire
  std::unique_ptr<Statement> put_, delete_range_, delete_all_, set_version_;

  std::size_t max_idle_readers_;
  mutable std::mutex pool_mutex_;
  mutable std::vector<std::unique_ptr<Reader>> idle_readers_;
};

}  // namespace

std::unique_ptr<TileCache> open_sqlite_tile_cache(const std::filesystem::path& file) {
  return std::make_unique<SqliteTileCache>(file);
}

}  // namespace bandoso::layers
