// The Spatialite store: the only file of bandoso that holds SQL.
#include <sqlite3.h>
// spatialite.h needs sqlite3.h first.
#include <spatialite.h>

#include <fmt/format.h>

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "layers/core/error.hpp"
#include "layers/core/store.hpp"

namespace bandoso::layers {

namespace {

std::string sql_name(const std::string& identifier) { return "\"" + identifier + "\""; }

std::string_view sql_type(AttributeType type) {
  switch (type) {
    case AttributeType::integer:
    case AttributeType::boolean:
      return "INTEGER";
    case AttributeType::real:
      return "REAL";
    case AttributeType::text:
    case AttributeType::date:
      return "TEXT";
  }
  return "TEXT";
}

std::string_view spatialite_geometry_type(GeometryType type) {
  switch (type) {
    case GeometryType::point:
      return "POINT";
    case GeometryType::linestring:
      return "LINESTRING";
    case GeometryType::polygon:
      return "POLYGON";
    case GeometryType::multipoint:
      return "MULTIPOINT";
    case GeometryType::multilinestring:
      return "MULTILINESTRING";
    case GeometryType::multipolygon:
      return "MULTIPOLYGON";
    case GeometryType::none:
      break;
  }
  return "GEOMETRY";
}

bool is_multi(GeometryType type) {
  return type == GeometryType::multipoint || type == GeometryType::multilinestring ||
         type == GeometryType::multipolygon;
}

// RAII over one prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(fmt::format("cannot prepare '{}': {}", sql.substr(0, 120), sqlite3_errmsg(db)));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const Value& value) {
    int rc = SQLITE_OK;
    if (const auto* s = std::get_if<std::string>(&value)) {
      rc = sqlite3_bind_text(stmt_, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt_, index, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(stmt_, index, *d);
    } else {
      rc = sqlite3_bind_null(stmt_, index);
    }
    if (rc != SQLITE_OK) throw StoreError(fmt::format("cannot bind parameter {}: {}", index, sqlite3_errmsg(db_)));
    return *this;
  }
  Statement& bind_blob(int index, const std::string& bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind_double(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }

  // True while a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(fmt::format("{}", sqlite3_errmsg(db_)));
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  [[nodiscard]] Value value(int column) const {
    switch (sqlite3_column_type(stmt_, column)) {
      case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(stmt_, column));
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt_, column);
      case SQLITE_TEXT:
        return text(column);
      default:
        return std::monostate{};
    }
  }
  [[nodiscard]] std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  [[nodiscard]] std::string blob(int column) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  [[nodiscard]] std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  [[nodiscard]] double real(int column) const { return sqlite3_column_double(stmt_, column); }
  [[nodiscard]] bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Schema version 2: layer tables carry a content hash (_hash), import_log the write mode, and
// change_log the areas each commit changed.
constexpr std::string_view kSchemaSql = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('data_version', '0');
CREATE TABLE layers (
  name TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  feature_count INTEGER NOT NULL DEFAULT 0,
  west REAL, south REAL, east REAL, north REAL,
  data_version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE import_log (
  id INTEGER PRIMARY KEY,
  imported_at TEXT NOT NULL,
  layer TEXT NOT NULL,
  mode TEXT NOT NULL,
  source TEXT NOT NULL,
  source_sha256 TEXT,
  source_crs TEXT,
  encoding TEXT,
  mapping TEXT,
  read INTEGER NOT NULL,
  imported INTEGER NOT NULL,
  repaired INTEGER NOT NULL,
  flagged INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  data_version INTEGER NOT NULL
);
CREATE TABLE change_log (
  id INTEGER PRIMARY KEY,
  data_version INTEGER NOT NULL,
  layer TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('added', 'removed', 'modified')),
  west REAL, south REAL, east REAL, north REAL
);
CREATE INDEX change_log_data_version ON change_log (data_version);
)sql";

enum Kind : std::size_t { kAdded, kRemoved, kModified };
constexpr std::array<std::string_view, 3> kKindNames{"added", "removed", "modified"};

// MurmurHash64A (Austin Appleby, public domain): fast enough for every feature of a 1M-feature import
// (parcel WKB runs to kilobytes), and ours, so the hashes kept in the file do not change with the
// compiler's std::hash. Words are read in host byte order: a file moved to a big-endian machine would
// see every feature as modified once — too much expiry, never too little.
std::uint64_t murmur64a(std::string_view bytes) {
  constexpr std::uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  std::uint64_t h = 0x62616e646f736fULL ^ (bytes.size() * m);
  const char* data = bytes.data();
  const char* const end = data + (bytes.size() / 8) * 8;
  for (; data != end; data += 8) {
    std::uint64_t k = 0;
    std::memcpy(&k, data, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const std::size_t rest = bytes.size() & 7U;
  if (rest != 0) {
    for (std::size_t i = rest; i-- > 0;)
      h ^= static_cast<std::uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

template <typename T>
void append_raw(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// The hash kept in each row's _hash: every value with its type, then the WKB as written. Two writes of
// the same feature hash alike; inputs that differ only in form (text "5" for an integer column, a
// Polygon for a multipolygon layer) count as modified, which expires too much, never too little.
std::int64_t content_hash(const Feature& feature, std::string& buffer) {
  buffer.clear();
  for (const Value& value : feature.values) {
    buffer += static_cast<char>('0' + value.index());
    if (const auto* s = std::get_if<std::string>(&value)) {
      append_raw(buffer, static_cast<std::uint64_t>(s->size()));
      buffer += *s;
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      append_raw(buffer, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      append_raw(buffer, *d);
    }
  }
  buffer += 'g';
  buffer += feature.wkb;
  return static_cast<std::int64_t>(murmur64a(buffer));
}

std::string describe_attribute(const AttributeDef& a) {
  return fmt::format("{} {}{}{}", a.name, to_string(a.type), a.required ? " required" : "",
                     a.access == Access::restricted ? " restricted" : "");
}

std::string describe_key(const std::vector<std::string>& key) {
  std::string text;
  for (const auto& k : key) text += (text.empty() ? "" : ", ") + k;
  return "[" + text + "]";
}

// What the stored rows depend on: columns, geometry type and key. Empty when `wanted` keeps them,
// else the first difference, for the message refusing an upsert.
std::string shape_difference(const LayerDef& stored, const LayerDef& wanted) {
  if (stored.geometry != wanted.geometry) {
    return fmt::format("geometry {} → {}", to_string(stored.geometry), to_string(wanted.geometry));
  }
  if (stored.key != wanted.key) return fmt::format("key {} → {}", describe_key(stored.key), describe_key(wanted.key));
  const std::size_t n = std::max(stored.attributes.size(), wanted.attributes.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string before = i < stored.attributes.size() ? describe_attribute(stored.attributes[i]) : "(none)";
    const std::string after = i < wanted.attributes.size() ? describe_attribute(wanted.attributes[i]) : "(none)";
    if (before != after) return fmt::format("attribute {}: '{}' → '{}'", i + 1, before, after);
  }
  return {};
}

// A new style or zoom range redraws every tile of the layer, changed features or not.
bool rendering_differs(const LayerDef& a, const LayerDef& b) {
  return a.min_zoom != b.min_zoom || a.max_zoom != b.max_zoom || to_json(a).at("style") != to_json(b).at("style");
}

bool same_box(const BBox& a, const BBox& b) {
  return a.west == b.west && a.south == b.south && a.east == b.east && a.north == b.north;
}

class SpatialiteStore;

// Replace: a new table is filled beside a snapshot of the old rows' keys, hashes and boxes (a temp
// table), and one SQL pass at commit compares them by key. That costs one sequential read of the old
// table, keeps add() a plain INSERT, and leaves the R*Tree to be bulk-built at commit.
// Upsert: each feature is looked up by key (the unique index) and written only when its hash differs;
// its change is logged at once.
class SpatialiteLayerWriter final : public LayerWriter {
 public:
  SpatialiteLayerWriter(SpatialiteStore& store, LayerDef layer, WriteMode mode);
  ~SpatialiteLayerWriter() override;
  SpatialiteLayerWriter(const SpatialiteLayerWriter&) = delete;
  SpatialiteLayerWriter& operator=(const SpatialiteLayerWriter&) = delete;
  void add(const Feature& feature) override;
  void commit(const ImportRecord& record) override;

 private:
  // How commit() learns what changed.
  enum class Diff {
    snapshot,     // replace of a layer of the same shape: compare with temp._old_content
    upsert,       // logged by add(), one feature at a time
    whole_layer,  // new layer, new shape or new style: the old and new extents
  };

  void begin();
  void rollback() noexcept;
  // Prepared statements must be finalised before COMMIT/ROLLBACK and DDL on their tables.
  void finalize_statements() noexcept;
  void snapshot_old_content();
  void drop_table();
  void create_table();
  void prepare_upsert();
  void upsert(const Feature& feature, std::int64_t hash);
  void bind_feature(Statement& s, const Feature& feature, const Value& fid, std::int64_t hash) const;
  bool write(Statement& s);
  void record_change(Kind kind, const BBox& box);
  void log_row(Kind kind, const BBox& box);
  void log_differences();
  void log_rows(Kind kind, const std::string& box, const std::string& from_where);
  void log_whole_layer();
  [[nodiscard]] bool has_geometry() const { return layer_.geometry != GeometryType::none; }
  [[nodiscard]] std::string table() const { return sql_name(layer_.name); }
  [[nodiscard]] std::string box_sql(const std::string& geom) const;
  [[nodiscard]] std::string geometry_param(std::size_t index) const;
  [[nodiscard]] std::string write_sql(bool update, const std::string& returning) const;
  [[nodiscard]] std::string key_text(const Feature& feature) const;

  SpatialiteStore& store_;
  LayerDef layer_;
  WriteMode mode_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool open_ = false;
  std::int64_t data_version_ = 0;  // this write's version: the write lock is held until commit
  std::vector<std::size_t> key_indexes_;
  bool layer_existed_ = false;
  bool in_place_ = false;  // upsert into the existing table (its R*Tree is kept up to date by triggers)
  Diff diff_ = Diff::whole_layer;
  BBox old_extent_;
  std::unique_ptr<Statement> insert_, find_, update_, touch_, untouch_, log_;
  std::array<std::int64_t, 3> kind_counts_{};  // upsert without geometry: one row per kind at commit
  std::string hash_buffer_;
};

// Tells with one non-blocking read whether the database file or its WAL has been written since the last
// look. inotify queues the event inside the writer's write(), so a commit that has returned is never
// missed; data_version() then asks SQLite only after a write, not on every tile request. SQLite
// publishes a commit in the WAL index (shared memory, no event) just after writing the frames, so
// after a write the version is read afresh for a short while.
class ChangeWatch {
 public:
  explicit ChangeWatch(const std::filesystem::path& file)
      : db_name_(file.filename().string()), wal_name_(db_name_ + "-wal") {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    const std::filesystem::path directory = std::filesystem::absolute(file).parent_path();
    if (fd_ >= 0 && inotify_add_watch(fd_, directory.c_str(),
                                      IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM) < 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~ChangeWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  ChangeWatch(const ChangeWatch&) = delete;
  ChangeWatch& operator=(const ChangeWatch&) = delete;

  // True when the files may have changed since the last call that returned false.
  bool changed() {
    if (fd_ < 0) return true;  // no watch (inotify limits): always ask
    const auto now = std::chrono::steady_clock::now();
    alignas(inotify_event) std::array<char, 4096> buffer{};
    for (;;) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n <= 0) break;  // EAGAIN: nothing (more) queued
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + at);
        const std::string_view name = event->len > 0 ? std::string_view(event->name) : std::string_view();
        if ((event->mask & IN_Q_OVERFLOW) != 0 || name == db_name_ || name == wal_name_) last_write_ = now;
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    return now - last_write_ < kSettle;
  }

 private:
  static constexpr std::chrono::milliseconds kSettle{250};
  std::string db_name_, wal_name_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
};

class SpatialiteStore final : public Store {
 public:
  SpatialiteStore(const std::filesystem::path& file, OpenMode mode) : path_(file) {
    const bool exists = std::filesystem::exists(file);
    if (!exists && mode != OpenMode::create) {
      throw Error(ErrorCode::file_not_found, fmt::format("{}: database not found", file.string()));
    }
    const int flags = mode == OpenMode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw StoreError(fmt::format("{}: cannot open database: {}", file.string(), message));
    }
    sqlite3_busy_timeout(db_, 10000);
    // WAL with synchronous=NORMAL cannot corrupt the file or tear a transaction; it only lets a power
    // cut lose the newest commit, which an import can repeat. The larger page cache speeds up index builds.
    exec("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY");
    spatialite_cache_ = spatialite_alloc_connection();
    spatialite_init_ex(db_, spatialite_cache_, 0);
    try {
      if (!table_exists("schema_version")) {
        if (mode != OpenMode::create || has_tables()) {
          throw StoreError(ErrorCode::schema_mismatch,
                           fmt::format("{}: not a bandoso database (no schema_version table)", file.string()));
        }
        create_schema();
      }
      check_schema_version();
    } catch (...) {
      close();
      throw;
    }
  }

  ~SpatialiteStore() override { close(); }
  SpatialiteStore(const SpatialiteStore&) = delete;
  SpatialiteStore& operator=(const SpatialiteStore&) = delete;

  [[nodiscard]] int schema_version() const override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT version FROM schema_version");
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
  }

  [[nodiscard]] std::int64_t data_version() const override {
    {
      std::lock_guard watch_lock(watch_mutex_);
      if (known_version_ && !watch_.changed()) return *known_version_;
    }
    std::int64_t version = 0;
    {
      std::lock_guard lock(mutex_);
      Statement s(db_, "SELECT value FROM meta WHERE key = 'data_version'");
      version = s.step() ? std::stoll(s.text(0)) : 0;
    }
    std::lock_guard watch_lock(watch_mutex_);
    known_version_ = version;
    return version;
  }

  [[nodiscard]] StoreSummary summary() const override {
    std::lock_guard lock(mutex_);
    // One read transaction: all statements see the same snapshot (WAL), whatever an import commits.
    exec("BEGIN");
    StoreSummary summary;
    try {
      Statement version(
          db_, "SELECT (SELECT version FROM schema_version), (SELECT value FROM meta WHERE key = 'data_version')");
      version.step();
      summary.schema_version = static_cast<int>(version.integer(0));
      summary.data_version = std::stoll(version.text(1));
      Statement layers(db_, "SELECT name, feature_count, west, south, east, north FROM layers ORDER BY name");
      while (layers.step()) {
        summary.counts[layers.text(0)] = layers.integer(1);
        if (!layers.is_null(2))
          summary.bbox.expand(BBox{layers.real(2), layers.real(3), layers.real(4), layers.real(5)});
      }
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
    exec("COMMIT");
    return summary;
  }

  [[nodiscard]] std::vector<LayerDef> layers() const override {
    std::lock_guard lock(mutex_);
    std::vector<LayerDef> result;
    Statement s(db_, "SELECT name, definition FROM layers ORDER BY name");
    while (s.step()) result.push_back(definition_from_row(s.text(0), s.text(1)));
    return result;
  }

  [[nodiscard]] std::optional<LayerDef> find_layer(const std::string& name) const override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT name, definition FROM layers WHERE name = ?");
    s.bind(1, name);
    if (!s.step()) return std::nullopt;
    return definition_from_row(s.text(0), s.text(1));
  }

  [[nodiscard]] std::int64_t count(const std::string& layer) const override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT feature_count FROM layers WHERE name = ?");
    s.bind(1, layer);
    if (!s.step()) throw unknown_layer(layer);
    return s.integer(0);
  }

  [[nodiscard]] BBox extent(const std::string& layer) const override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT west, south, east, north FROM layers WHERE name = ?");
    s.bind(1, layer);
    if (!s.step()) throw unknown_layer(layer);
    if (s.is_null(0)) return BBox{};
    return BBox{s.real(0), s.real(1), s.real(2), s.real(3)};
  }

  [[nodiscard]] BBox extent_where(const std::string& layer, const std::string& attribute,
                                  const Value& value) const override {
    const LayerDef def = required_layer(layer);
    if (def.geometry == GeometryType::none) throw BadRequestError(fmt::format("layer '{}' has no geometry", layer));
    (void)def.attribute_index(attribute);  // NotFoundError for an attribute the layer does not have
    std::lock_guard lock(mutex_);
    Statement s(db_, fmt::format("SELECT MIN(MbrMinX(geom)), MIN(MbrMinY(geom)), MAX(MbrMaxX(geom)), "
                                 "MAX(MbrMaxY(geom)) FROM {} WHERE {} = ?1",
                                 sql_name(def.name), sql_name(attribute)));
    s.bind(1, value);
    if (!s.step() || s.is_null(0)) return BBox{};
    return BBox{s.real(0), s.real(1), s.real(2), s.real(3)};
  }

  void scan(const std::string& layer, bool with_geometry,
            const std::function<bool(const Feature&)>& visit) const override {
    const LayerDef def = required_layer(layer);
    std::lock_guard lock(mutex_);
    Statement s(db_, select_sql(def, with_geometry) + " ORDER BY fid");
    read_rows(s, def, with_geometry, visit);
  }

  void scan_bbox(const std::string& layer, const BBox& bbox,
                 const std::function<bool(const Feature&)>& visit) const override {
    const LayerDef def = required_layer(layer);
    if (def.geometry == GeometryType::none) throw BadRequestError(fmt::format("layer '{}' has no geometry", layer));
    // A connection of its own: tiles are drawn on several threads at once, and the visitor's work
    // (encoding) must not hold the store's lock.
    ReadConnection connection(*this);
    const std::string index = sql_name("idx_" + def.name + "_geom");
    // The R*Tree's boxes are rounded outwards to float; the stored box (read from the blob's header,
    // no geometry is built) trims the features a hair outside.
    Statement s(connection.db(), select_sql(def, true) + " WHERE fid IN (SELECT pkid FROM " + index +
                                     " WHERE xmin <= ?3 AND xmax >= ?1 AND ymin <= ?4 AND ymax >= ?2)"
                                     " AND MbrMinX(geom) <= ?3 AND MbrMaxX(geom) >= ?1 AND MbrMinY(geom) <= ?4"
                                     " AND MbrMaxY(geom) >= ?2 ORDER BY fid");
    s.bind_double(1, bbox.west).bind_double(2, bbox.south).bind_double(3, bbox.east).bind_double(4, bbox.north);
    read_rows(s, def, true, visit);
  }

  void select(const std::string& layer, const FeatureQuery& query, bool with_geometry,
              const std::function<bool(const Feature&)>& visit) const override {
    const LayerDef def = required_layer(layer);
    ReadConnection connection(*this);
    std::string sql = select_sql(def, with_geometry) + where_sql(def, query) + " ORDER BY fid";
    if (query.limit >= 0 || query.offset > 0) sql += fmt::format(" LIMIT {} OFFSET {}", query.limit, query.offset);
    Statement s(connection.db(), sql);
    bind_query(s, query);
    read_rows(s, def, with_geometry, visit);
  }

  [[nodiscard]] std::int64_t count_matching(const std::string& layer, const FeatureQuery& query) const override {
    const LayerDef def = required_layer(layer);
    ReadConnection connection(*this);
    Statement s(connection.db(), "SELECT COUNT(*) FROM " + sql_name(def.name) + where_sql(def, query));
    bind_query(s, query);
    return s.step() ? s.integer(0) : 0;
  }

  std::unique_ptr<LayerWriter> write_layer(const LayerDef& layer, WriteMode mode) override {
    return std::make_unique<SpatialiteLayerWriter>(*this, layer, mode);
  }

  [[nodiscard]] std::vector<Change> changes_since(std::int64_t data_version) const override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT data_version, layer, kind, west, south, east, north FROM change_log "
                "WHERE data_version > ? ORDER BY id");
    s.bind(1, data_version);
    std::vector<Change> changes;
    while (s.step()) {
      Change change{s.integer(0), s.text(1), s.text(2), BBox{}};
      if (!s.is_null(3)) change.bbox = BBox{s.real(3), s.real(4), s.real(5), s.real(6)};
      changes.push_back(std::move(change));
    }
    return changes;
  }

  [[nodiscard]] MapnikDatasourceParams mapnik_datasource(const std::string& layer) const override {
    const LayerDef def = required_layer(layer);
    if (def.geometry == GeometryType::none)
      throw BadRequestError(fmt::format("layer '{}' has no geometry to draw", layer));
    MapnikDatasourceParams params{{"type", "sqlite"},           {"file", std::filesystem::absolute(path_).string()},
                                  {"table", def.name},          {"geometry_field", "geom"},
                                  {"key_field", "fid"},         {"wkb_format", "spatialite"},
                                  {"use_spatial_index", "true"}};
    const BBox e = extent(layer);
    if (!e.empty()) params["extent"] = fmt::format("{},{},{},{}", e.west, e.south, e.east, e.north);
    return params;
  }

  [[nodiscard]] std::filesystem::path path() const override { return path_; }

  // --- used by the writer ---
  sqlite3* db() { return db_; }
  std::recursive_mutex& mutex() { return mutex_; }

  void exec(const std::string& sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      throw StoreError(fmt::format("{}: {}", path_.string(), text));
    }
  }

  // Spatialite's management functions report failure as a 0 result, not as an SQL error.
  void exec_expecting_one(const std::string& sql) {
    Statement s(db_, sql);
    if (!s.step() || s.integer(0) != 1) throw StoreError(fmt::format("{}: '{}' failed", path_.string(), sql));
  }

  [[nodiscard]] bool table_exists(const std::string& name) const {
    Statement s(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    s.bind(1, name);
    return s.step();
  }

 private:
  // A read-only connection from the pool (opened on first need), for scans that run in parallel.
  struct Reader {
    sqlite3* db = nullptr;
    void* spatialite = nullptr;
  };
  class ReadConnection {
   public:
    explicit ReadConnection(const SpatialiteStore& store) : store_(store), reader_(store.take_reader()) {}
    ~ReadConnection() { store_.give_back(reader_); }
    ReadConnection(const ReadConnection&) = delete;
    ReadConnection& operator=(const ReadConnection&) = delete;
    [[nodiscard]] sqlite3* db() const { return reader_.db; }

   private:
    const SpatialiteStore& store_;
    Reader reader_;
  };

  Reader take_reader() const {
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        const Reader reader = idle_readers_.back();
        idle_readers_.pop_back();
        return reader;
      }
    }
    Reader reader;
    if (sqlite3_open_v2(path_.c_str(), &reader.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string message = reader.db != nullptr ? sqlite3_errmsg(reader.db) : "out of memory";
      sqlite3_close(reader.db);
      throw StoreError(fmt::format("{}: cannot open a reader: {}", path_.string(), message));
    }
    sqlite3_busy_timeout(reader.db, 10000);
    reader.spatialite = spatialite_alloc_connection();
    spatialite_init_ex(reader.db, reader.spatialite, 0);
    return reader;
  }

  void give_back(const Reader& reader) const {
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(reader);
  }

  void close() {
    {
      std::lock_guard lock(readers_mutex_);
      for (const Reader& reader : idle_readers_) {
        sqlite3_close_v2(reader.db);
        spatialite_cleanup_ex(reader.spatialite);
      }
      idle_readers_.clear();
    }
    if (db_ != nullptr) sqlite3_close_v2(db_);
    if (spatialite_cache_ != nullptr) spatialite_cleanup_ex(spatialite_cache_);
    db_ = nullptr;
    spatialite_cache_ = nullptr;
  }

  bool has_tables() const {
    Statement s(db_, "SELECT 1 FROM sqlite_master LIMIT 1");
    return s.step();
  }

  void create_schema() {
    exec("PRAGMA journal_mode = WAL");
    // Only the WGS84 family of reference systems: the store keeps EPSG:4326 (a full init adds ~6 MB).
    exec("SELECT InitSpatialMetadata(1, 'WGS84')");  // runs its own transaction
    exec("BEGIN");
    exec(std::string(kSchemaSql));
    exec(fmt::format("INSERT INTO schema_version (version) VALUES ({})", kSchemaVersion));
    exec("COMMIT");
  }

  void check_schema_version() const {
    Statement s(db_, "SELECT version FROM schema_version");
    const int version = s.step() ? static_cast<int>(s.integer(0)) : 0;
    if (version != kSchemaVersion) {
      throw StoreError(ErrorCode::schema_mismatch,
                       fmt::format("{}: database schema version {}, this bandoso needs version {} (re-import the data)",
                                   path_.string(), version, kSchemaVersion));
    }
  }

  static NotFoundError unknown_layer(const std::string& layer) {
    return NotFoundError(fmt::format("layer '{}' is not in the store (import it first)", layer));
  }

  // Parsed definitions by their stored text: every tile asks for its layers' definitions, and parsing
  // them (a YAML parser checks them) costs more than the query.
  LayerDef definition_from_row(const std::string& name, const std::string& json) const {
    std::lock_guard lock(definitions_mutex_);
    auto it = definitions_.find(json);
    if (it == definitions_.end()) {
      if (definitions_.size() > 256) definitions_.clear();  // old definitions of replaced layers
      LayerDef def = layer_from_json(nlohmann::json::parse(json), fmt::format("{}: layers[{}]", path_.string(), name));
      it = definitions_.emplace(json, std::move(def)).first;
    }
    return it->second;
  }

  LayerDef required_layer(const std::string& layer) const {
    auto def = find_layer(layer);
    if (!def) throw unknown_layer(layer);
    return *def;
  }

  // The WHERE clause of a FeatureQuery: ?1..?4 the bbox (through the R*Tree, then the stored box), then one
  // parameter per equality, in order.
  static std::string where_sql(const LayerDef& def, const FeatureQuery& query) {
    std::vector<std::string> terms;
    if (query.bbox) {
      if (def.geometry == GeometryType::none)
        throw BadRequestError(fmt::format("layer '{}' has no geometry: no bbox", def.name));
      terms.push_back("fid IN (SELECT pkid FROM " + sql_name("idx_" + def.name + "_geom") +
                      " WHERE xmin <= ?3 AND xmax >= ?1 AND ymin <= ?4 AND ymax >= ?2) AND MbrMinX(geom) <= ?3"
                      " AND MbrMaxX(geom) >= ?1 AND MbrMinY(geom) <= ?4 AND MbrMaxY(geom) >= ?2");
    }
    int parameter = query.bbox ? 5 : 1;
    for (const auto& [attribute, value] : query.equals) {
      (void)def.attribute_index(attribute);  // NotFoundError for an attribute the layer does not have
      terms.push_back(fmt::format("{} = ?{}", sql_name(attribute), parameter++));
    }
    std::string sql;
    for (const auto& term : terms) sql += (sql.empty() ? " WHERE " : " AND ") + term;
    return sql;
  }

  static void bind_query(Statement& s, const FeatureQuery& query) {
    int parameter = 1;
    if (query.bbox) {
      s.bind_double(1, query.bbox->west).bind_double(2, query.bbox->south);
      s.bind_double(3, query.bbox->east).bind_double(4, query.bbox->north);
      parameter = 5;
    }
    for (const auto& [attribute, value] : query.equals) s.bind(parameter++, value);
  }

  static std::string select_sql(const LayerDef& def, bool with_geometry) {
    std::string sql = "SELECT ";
    for (const auto& a : def.attributes) sql += sql_name(a.name) + ", ";
    sql += with_geometry && def.geometry != GeometryType::none ? "AsBinary(geom)" : "NULL";
    return sql + " FROM " + sql_name(def.name);
  }

  static void read_rows(Statement& s, const LayerDef& def, bool with_geometry,
                        const std::function<bool(const Feature&)>& visit) {
    Feature feature;
    const int n = static_cast<int>(def.attributes.size());
    while (s.step()) {
      feature.values.clear();
      for (int i = 0; i < n; ++i) feature.values.push_back(s.value(i));
      feature.wkb = with_geometry ? s.blob(n) : std::string();
      if (!visit(feature)) break;
    }
  }

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  void* spatialite_cache_ = nullptr;
  mutable std::recursive_mutex mutex_;
  mutable std::mutex watch_mutex_;
  mutable std::mutex readers_mutex_;
  mutable std::vector<Reader> idle_readers_;
  mutable std::mutex definitions_mutex_;
  mutable std::unordered_map<std::string, LayerDef> definitions_;
  mutable ChangeWatch watch_{path_};
  mutable std::optional<std::int64_t> known_version_;
};

// --- writer ---

SpatialiteLayerWriter::SpatialiteLayerWriter(SpatialiteStore& store, LayerDef layer, WriteMode mode)
    : store_(store), layer_(std::move(layer)), mode_(mode), lock_(store.mutex()) {
  for (const auto& k : layer_.key) key_indexes_.push_back(layer_.attribute_index(k));
  // IMMEDIATE: take the write lock now, so a concurrent import fails here and not halfway.
  store_.exec("BEGIN IMMEDIATE");
  open_ = true;
  try {
    begin();
  } catch (...) {
    rollback();  // a throwing constructor gets no destructor call
    throw;
  }
}

SpatialiteLayerWriter::~SpatialiteLayerWriter() { rollback(); }

void SpatialiteLayerWriter::finalize_statements() noexcept {
  insert_.reset();
  find_.reset();
  update_.reset();
  touch_.reset();
  untouch_.reset();
  log_.reset();
}

void SpatialiteLayerWriter::rollback() noexcept {
  finalize_statements();
  if (!open_) return;
  open_ = false;
  try {
    store_.exec("ROLLBACK");
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more can be done here
  }
}

void SpatialiteLayerWriter::begin() {
  {  // finalized before any DROP: SQLite refuses to drop a table while a statement is pending
    Statement version(store_.db(), "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'");
    data_version_ = (version.step() ? version.integer(0) : 0) + 1;
  }

  layer_existed_ = store_.table_exists(layer_.name);
  const std::optional<LayerDef> stored = layer_existed_ ? store_.find_layer(layer_.name) : std::nullopt;
  const std::string shape_change = stored ? shape_difference(*stored, layer_) : std::string("no stored definition");
  const bool same_rendering = stored && !rendering_differs(*stored, layer_);
  if (stored) old_extent_ = store_.extent(layer_.name);

  if (mode_ == WriteMode::upsert && layer_existed_) {
    if (!shape_change.empty()) {
      throw InputError(fmt::format(
          "layer '{}': upsert refused: the definition differs from the stored one ({}); a replace import is "
          "needed to change a layer's attributes, geometry or key",
          layer_.name, shape_change));
    }
    in_place_ = true;
    diff_ = same_rendering ? Diff::upsert : Diff::whole_layer;
    prepare_upsert();
    return;
  }
  if (layer_existed_ && shape_change.empty() && same_rendering) {
    snapshot_old_content();
    diff_ = Diff::snapshot;
  }
  if (layer_existed_) drop_table();
  create_table();
  insert_ = std::make_unique<Statement>(store_.db(), write_sql(false, ""));
}

// INSERT (update: false) or UPDATE ... WHERE fid = ?1 of one feature, bound by bind_feature().
std::string SpatialiteLayerWriter::write_sql(bool update, const std::string& returning) const {
  std::string names = "fid, _hash", params = "?1, ?2", sets = "_hash = ?2";
  for (std::size_t i = 0; i < layer_.attributes.size(); ++i) {
    const std::string name = sql_name(layer_.attributes[i].name);
    names += ", " + name;
    params += fmt::format(", ?{}", i + 3);
    sets += fmt::format(", {} = ?{}", name, i + 3);
  }
  if (has_geometry()) {
    const std::string geometry = geometry_param(layer_.attributes.size() + 3);
    names += ", geom";
    params += ", " + geometry;
    sets += ", geom = " + geometry;
  }
  return update ? fmt::format("UPDATE {} SET {} WHERE fid = ?1{}", table(), sets, returning)
                : fmt::format("INSERT INTO {} ({}) VALUES ({}){}", table(), names, params, returning);
}

std::string SpatialiteLayerWriter::box_sql(const std::string& geom) const {
  if (!has_geometry()) return "NULL, NULL, NULL, NULL";
  return fmt::format("MbrMinX({0}), MbrMinY({0}), MbrMaxX({0}), MbrMaxY({0})", geom);
}

std::string SpatialiteLayerWriter::geometry_param(std::size_t index) const {
  return is_multi(layer_.geometry) ? fmt::format("CastToMulti(GeomFromWKB(?{}, 4326))", index)
                                   : fmt::format("GeomFromWKB(?{}, 4326)", index);
}

// Keys, hashes and boxes of the rows about to be dropped, indexed by key for the comparison at commit.
void SpatialiteLayerWriter::snapshot_old_content() {
  std::string keys;
  for (const auto& k : layer_.key) keys += (keys.empty() ? "" : ", ") + sql_name(k);
  const std::string box = has_geometry() ? "MbrMinX(geom) AS _west, MbrMinY(geom) AS _south, "
                                           "MbrMaxX(geom) AS _east, MbrMaxY(geom) AS _north"
                                         : "NULL AS _west, NULL AS _south, NULL AS _east, NULL AS _north";
  store_.exec("DROP TABLE IF EXISTS temp._old_content");
  store_.exec(fmt::format("CREATE TEMP TABLE _old_content AS SELECT {}, _hash, {} FROM main.{}", keys, box, table()));
  store_.exec(fmt::format("CREATE UNIQUE INDEX temp._old_content_key ON _old_content ({})", keys));
}

void SpatialiteLayerWriter::drop_table() {
  // Spatialite keeps metadata and an R*Tree beside a geometry table: remove them with it.
  if (store_.table_exists("idx_" + layer_.name + "_geom")) {
    store_.exec(fmt::format("SELECT DisableSpatialIndex('{}', 'geom')", layer_.name));
    store_.exec(fmt::format("DROP TABLE {}", sql_name("idx_" + layer_.name + "_geom")));
  }
  store_.exec(fmt::format("SELECT DiscardGeometryColumn('{}', 'geom')", layer_.name));
  store_.exec("DROP TABLE " + table());
}

void SpatialiteLayerWriter::create_table() {
  // _hash cannot clash with an attribute: attribute names start with a letter.
  std::string columns = "fid INTEGER PRIMARY KEY, _hash INTEGER NOT NULL";
  for (const auto& a : layer_.attributes) {
    columns += fmt::format(", {} {}{}", sql_name(a.name), sql_type(a.type), a.required ? " NOT NULL" : "");
  }
  store_.exec(fmt::format("CREATE TABLE {} ({})", table(), columns));
  std::string key;
  for (const auto& k : layer_.key) key += (key.empty() ? "" : ", ") + sql_name(k);
  store_.exec(fmt::format("CREATE UNIQUE INDEX {} ON {} ({})", sql_name(layer_.name + "_key"), table(), key));
  if (has_geometry()) {
    store_.exec_expecting_one(fmt::format("SELECT AddGeometryColumn('{}', 'geom', 4326, '{}', 'XY')", layer_.name,
                                          spatialite_geometry_type(layer_.geometry)));
  }
}

void SpatialiteLayerWriter::prepare_upsert() {
  sqlite3* db = store_.db();
  // The rows this write has touched: a key met twice is a duplicate, as in replace.
  store_.exec("DROP TABLE IF EXISTS temp._touched");
  store_.exec("CREATE TEMP TABLE _touched (fid INTEGER PRIMARY KEY)");
  touch_ = std::make_unique<Statement>(db, "INSERT OR IGNORE INTO temp._touched (fid) VALUES (?1)");
  untouch_ = std::make_unique<Statement>(db, "DELETE FROM temp._touched WHERE fid = ?1");

  std::string where;
  for (std::size_t i = 0; i < layer_.key.size(); ++i) {
    where += fmt::format("{}{} = ?{}", i == 0 ? "" : " AND ", sql_name(layer_.key[i]), i + 1);
  }
  find_ = std::make_unique<Statement>(
      db, fmt::format("SELECT fid, _hash, {} FROM {} WHERE {}", box_sql("geom"), table(), where));

  // RETURNING gives the new box without a second query.
  const std::string returning = " RETURNING fid, " + box_sql("geom");
  insert_ = std::make_unique<Statement>(db, write_sql(false, returning));
  update_ = std::make_unique<Statement>(db, write_sql(true, returning));
}

void SpatialiteLayerWriter::bind_feature(Statement& s, const Feature& feature, const Value& fid,
                                         std::int64_t hash) const {
  s.bind(1, fid).bind(2, hash);
  for (std::size_t i = 0; i < feature.values.size(); ++i) s.bind(static_cast<int>(i) + 3, feature.values[i]);
  if (has_geometry()) s.bind_blob(static_cast<int>(feature.values.size()) + 3, feature.wkb);
}

// Runs the INSERT or UPDATE of one feature: a refusal (constraint, geometry type) is the record's fault.
// True when a RETURNING row is available (the caller resets the statement).
bool SpatialiteLayerWriter::write(Statement& s) {
  try {
    return s.step();
  } catch (const StoreError& e) {
    s.reset();
    const std::string what = e.what();
    if (what.find("UNIQUE") != std::string::npos) {
      throw InputError(fmt::format("layer '{}': duplicate key ({})", layer_.name, what));
    }
    throw InputError(fmt::format("layer '{}': feature refused: {}", layer_.name, what));
  }
}

std::string SpatialiteLayerWriter::key_text(const Feature& feature) const {
  std::string text;
  for (std::size_t i = 0; i < key_indexes_.size(); ++i) {
    const Value& v = feature.values[key_indexes_[i]];
    std::string value;
    if (const auto* s = std::get_if<std::string>(&v)) value = *s;
    if (const auto* n = std::get_if<std::int64_t>(&v)) value = std::to_string(*n);
    if (const auto* d = std::get_if<double>(&v)) value = fmt::format("{}", *d);
    text += fmt::format("{}{}={}", i == 0 ? "" : ", ", layer_.key[i], value);
  }
  return text;
}

void SpatialiteLayerWriter::add(const Feature& feature) {
  if (feature.values.size() != layer_.attributes.size()) {
    throw InputError(fmt::format("layer '{}': feature has {} values, the definition {} attributes", layer_.name,
                                 feature.values.size(), layer_.attributes.size()));
  }
  for (std::size_t i = 0; i < layer_.attributes.size(); ++i) {
    if (layer_.attributes[i].required && std::holds_alternative<std::monostate>(feature.values[i])) {
      throw InputError(
          fmt::format("layer '{}': required attribute '{}' is empty", layer_.name, layer_.attributes[i].name));
    }
  }
  if (has_geometry() && feature.wkb.empty()) {
    throw InputError(fmt::format("layer '{}': feature without geometry", layer_.name));
  }
  const std::int64_t hash = content_hash(feature, hash_buffer_);
  if (in_place_) {
    upsert(feature, hash);
    return;
  }
  bind_feature(*insert_, feature, std::monostate{}, hash);
  write(*insert_);
  insert_->reset();
}

void SpatialiteLayerWriter::upsert(const Feature& feature, std::int64_t hash) {
  for (std::size_t i = 0; i < key_indexes_.size(); ++i) {
    find_->bind(static_cast<int>(i) + 1, feature.values[key_indexes_[i]]);
  }
  const bool found = find_->step();
  const std::int64_t fid = found ? find_->integer(0) : 0;
  const std::int64_t stored_hash = found ? find_->integer(1) : 0;
  const BBox old_box =
      found && !find_->is_null(2) ? BBox{find_->real(2), find_->real(3), find_->real(4), find_->real(5)} : BBox{};
  find_->reset();

  auto touch = [&](std::int64_t row) {
    touch_->bind(1, row);
    touch_->step();
    touch_->reset();
    return sqlite3_changes(store_.db()) == 1;
  };
  auto returned_box = [](const Statement& s) {
    return s.is_null(1) ? BBox{} : BBox{s.real(1), s.real(2), s.real(3), s.real(4)};
  };

  if (!found) {
    bind_feature(*insert_, feature, std::monostate{}, hash);
    write(*insert_);
    const std::int64_t new_fid = insert_->integer(0);
    const BBox box = returned_box(*insert_);
    insert_->reset();
    touch(new_fid);
    record_change(kAdded, box);
    return;
  }
  if (!touch(fid)) throw InputError(fmt::format("layer '{}': duplicate key ({})", layer_.name, key_text(feature)));
  if (hash == stored_hash) return;  // unchanged: nothing to write, nothing to expire
  bind_feature(*update_, feature, fid, hash);
  try {
    write(*update_);
  } catch (...) {
    untouch_->bind(1, fid);  // the row stays as it was: a corrected record may still come
    untouch_->step();
    untouch_->reset();
    throw;
  }
  const BBox new_box = returned_box(*update_);
  update_->reset();
  record_change(kModified, old_box);
  if (!same_box(old_box, new_box)) record_change(kModified, new_box);
}

void SpatialiteLayerWriter::record_change(Kind kind, const BBox& box) {
  if (diff_ != Diff::upsert) return;
  if (!has_geometry()) {
    ++kind_counts_[kind];  // logged once per kind at commit
    return;
  }
  if (!box.empty()) log_row(kind, box);
}

// One change_log row; an empty box is stored as NULLs.
void SpatialiteLayerWriter::log_row(Kind kind, const BBox& box) {
  if (!log_) {
    log_ = std::make_unique<Statement>(store_.db(),
                                       "INSERT INTO change_log (data_version, layer, kind, west, south, east, north) "
                                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  }
  log_->bind(1, data_version_).bind(2, layer_.name).bind(3, std::string(kKindNames[kind]));
  if (!box.empty()) {
    log_->bind_double(4, box.west).bind_double(5, box.south).bind_double(6, box.east).bind_double(7, box.north);
  }
  log_->step();
  log_->reset();
}

// One row per matching feature with its box; a layer without geometry gets one row without a box
// when any feature matches (there is nothing to draw, but readers learn the layer changed).
void SpatialiteLayerWriter::log_rows(Kind kind, const std::string& box, const std::string& from_where) {
  const std::string insert = "INSERT INTO change_log (data_version, layer, kind, west, south, east, north) ";
  const std::string sql = has_geometry()
                              ? fmt::format("{}SELECT ?1, ?2, '{}', {} {}", insert, kKindNames[kind], box, from_where)
                              : fmt::format("{}SELECT ?1, ?2, '{}', NULL, NULL, NULL, NULL WHERE EXISTS (SELECT 1 {})",
                                            insert, kKindNames[kind], from_where);
  Statement s(store_.db(), sql);
  s.bind(1, data_version_).bind(2, layer_.name);
  s.step();
}

// Replace: old and new rows compared by key in SQL (both sides indexed on the key).
void SpatialiteLayerWriter::log_differences() {
  std::string join;
  for (const auto& k : layer_.key) {
    join += fmt::format("{}n.{} = o.{}", join.empty() ? "" : " AND ", sql_name(k), sql_name(k));
  }
  const std::string new_rows = "FROM main." + table() + " AS n";
  const std::string old_rows = "FROM temp._old_content AS o";
  const std::string new_box = box_sql("n.geom");
  const std::string old_box = "o._west, o._south, o._east, o._north";
  const std::string changed =
      fmt::format("{} JOIN temp._old_content AS o ON {} WHERE n._hash <> o._hash", new_rows, join);
  log_rows(kAdded, new_box,
           fmt::format("{} WHERE NOT EXISTS (SELECT 1 FROM temp._old_content AS o WHERE {})", new_rows, join));
  log_rows(kRemoved, old_box,
           fmt::format("{} WHERE NOT EXISTS (SELECT 1 FROM main.{} AS n WHERE {})", old_rows, table(), join));
  log_rows(kModified, old_box, changed);
  if (has_geometry()) {
    // The new box only where it differs from the old one: an attribute change logs one row.
    log_rows(kModified, new_box,
             changed +
                 " AND NOT (MbrMinX(n.geom) = o._west AND MbrMinY(n.geom) = o._south AND "
                 "MbrMaxX(n.geom) = o._east AND MbrMaxY(n.geom) = o._north)");
  }
}

// A new layer, shape or style: everything drawn before and after may differ.
void SpatialiteLayerWriter::log_whole_layer() {
  const Kind kind = layer_existed_ ? kModified : kAdded;
  if (!has_geometry()) {
    log_row(kind, BBox{});
    return;
  }
  const BBox new_extent = store_.extent(layer_.name);
  if (!old_extent_.empty()) log_row(kind, old_extent_);
  if (!new_extent.empty() && !same_box(new_extent, old_extent_)) log_row(kind, new_extent);
}

void SpatialiteLayerWriter::commit(const ImportRecord& record) {
  finalize_statements();
  if (has_geometry() && !in_place_) {
    // Built after the rows: one bulk R*Tree load instead of a trigger per insert.
    store_.exec_expecting_one(fmt::format("SELECT CreateSpatialIndex('{}', 'geom')", layer_.name));
  }
  Statement version(store_.db(), "UPDATE meta SET value = ?1 WHERE key = 'data_version'");
  version.bind(1, std::to_string(data_version_));
  version.step();

  // Count and extent in one scan of the table.
  Statement layer_row(store_.db(), fmt::format("INSERT OR REPLACE INTO layers (name, definition, feature_count, west, "
                                               "south, east, north, data_version, updated_at) SELECT ?1, ?2, COUNT(*), "
                                               "{}, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM {}",
                                               has_geometry() ? "MIN(MbrMinX(geom)), MIN(MbrMinY(geom)), "
                                                                "MAX(MbrMaxX(geom)), MAX(MbrMaxY(geom))"
                                                              : "NULL, NULL, NULL, NULL",
                                               table()));
  layer_row.bind(1, layer_.name).bind(2, to_json(layer_).dump()).bind(3, data_version_);
  layer_row.step();

  switch (diff_) {
    case Diff::snapshot:
      log_differences();
      break;
    case Diff::upsert:
      if (!has_geometry()) {
        for (const Kind kind : {kAdded, kRemoved, kModified}) {
          if (kind_counts_[kind] > 0) log_row(kind, BBox{});
        }
      }
      break;
    case Diff::whole_layer:
      log_whole_layer();
      break;
  }
  store_.exec("DROP TABLE IF EXISTS temp._old_content");
  store_.exec("DROP TABLE IF EXISTS temp._touched");

  Statement log(store_.db(),
                "INSERT INTO import_log (imported_at, layer, mode, source, source_sha256, source_crs, encoding, "
                "mapping, read, imported, repaired, flagged, rejected, data_version) VALUES "
                "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  log.bind(1, layer_.name).bind(2, std::string(mode_ == WriteMode::upsert ? "upsert" : "replace"));
  log.bind(3, record.source).bind(4, record.source_sha256).bind(5, record.source_crs);
  log.bind(6, record.encoding).bind(7, record.mapping).bind(8, record.read).bind(9, record.imported);
  log.bind(10, record.repaired).bind(11, record.flagged).bind(12, record.rejected).bind(13, data_version_);
  log.step();
  store_.exec("COMMIT");
  open_ = false;
}

}  // namespace

std::unique_ptr<Store> open_spatialite_store(const std::filesystem::path& file, OpenMode mode) {
  return std::make_unique<SpatialiteStore>(file, mode);
}

}  // namespace bandoso::layers
