// The Spatialite store: the only file of bandoso that holds SQL.
#include <sqlite3.h>
// spatialite.h needs sqlite3.h first.
#include <spatialite.h>

#include <fmt/format.h>

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>

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
)sql";

class SpatialiteStore;

class SpatialiteLayerWriter final : public LayerWriter {
 public:
  SpatialiteLayerWriter(SpatialiteStore& store, LayerDef layer);
  ~SpatialiteLayerWriter() override;
  SpatialiteLayerWriter(const SpatialiteLayerWriter&) = delete;
  SpatialiteLayerWriter& operator=(const SpatialiteLayerWriter&) = delete;
  void add(const Feature& feature) override;
  void commit(const ImportRecord& record) override;

 private:
  SpatialiteStore& store_;
  LayerDef layer_;
  std::unique_lock<std::recursive_mutex> lock_;
  std::unique_ptr<Statement> insert_;
  std::int64_t added_ = 0;
  bool open_ = false;
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
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT value FROM meta WHERE key = 'data_version'");
    return s.step() ? std::stoll(s.text(0)) : 0;
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
    std::lock_guard lock(mutex_);
    const std::string index = sql_name("idx_" + def.name + "_geom");
    Statement s(db_, select_sql(def, true) + " WHERE fid IN (SELECT pkid FROM " + index +
                         " WHERE xmin <= ?3 AND xmax >= ?1 AND ymin <= ?4 AND ymax >= ?2)"
                         " AND Intersects(geom, BuildMbr(?1, ?2, ?3, ?4, 4326)) ORDER BY fid");
    s.bind_double(1, bbox.west).bind_double(2, bbox.south).bind_double(3, bbox.east).bind_double(4, bbox.north);
    read_rows(s, def, true, visit);
  }

  std::unique_ptr<LayerWriter> replace_layer(const LayerDef& layer) override {
    return std::make_unique<SpatialiteLayerWriter>(*this, layer);
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

  void exec(const std::string& sql) {
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
  void close() {
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
    exec("SELECT InitSpatialMetadata(1)");  // runs its own transaction
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

  LayerDef definition_from_row(const std::string& name, const std::string& json) const {
    return layer_from_json(nlohmann::json::parse(json), fmt::format("{}: layers[{}]", path_.string(), name));
  }

  LayerDef required_layer(const std::string& layer) const {
    auto def = find_layer(layer);
    if (!def) throw unknown_layer(layer);
    return *def;
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
};

// --- writer ---

SpatialiteLayerWriter::SpatialiteLayerWriter(SpatialiteStore& store, LayerDef layer)
    : store_(store), layer_(std::move(layer)), lock_(store.mutex()) {
  // IMMEDIATE: take the write lock now, so a concurrent import fails here and not halfway.
  store_.exec("BEGIN IMMEDIATE");
  open_ = true;
  const std::string table = sql_name(layer_.name);
  if (store_.table_exists(layer_.name)) {
    // Spatialite keeps metadata and an R*Tree beside a geometry table: remove them with it.
    if (store_.table_exists("idx_" + layer_.name + "_geom")) {
      store_.exec(fmt::format("SELECT DisableSpatialIndex('{}', 'geom')", layer_.name));
      store_.exec(fmt::format("DROP TABLE {}", sql_name("idx_" + layer_.name + "_geom")));
    }
    store_.exec(fmt::format("SELECT DiscardGeometryColumn('{}', 'geom')", layer_.name));
    store_.exec("DROP TABLE " + table);
  }
  std::string columns = "fid INTEGER PRIMARY KEY";
  for (const auto& a : layer_.attributes) {
    columns += fmt::format(", {} {}{}", sql_name(a.name), sql_type(a.type), a.required ? " NOT NULL" : "");
  }
  store_.exec(fmt::format("CREATE TABLE {} ({})", table, columns));
  std::string key;
  for (const auto& k : layer_.key) key += (key.empty() ? "" : ", ") + sql_name(k);
  store_.exec(fmt::format("CREATE UNIQUE INDEX {} ON {} ({})", sql_name(layer_.name + "_key"), table, key));

  std::string names, params;
  for (std::size_t i = 0; i < layer_.attributes.size(); ++i) {
    names += (i == 0 ? "" : ", ") + sql_name(layer_.attributes[i].name);
    params += (i == 0 ? "?" : ", ?");
  }
  if (layer_.geometry != GeometryType::none) {
    store_.exec_expecting_one(fmt::format("SELECT AddGeometryColumn('{}', 'geom', 4326, '{}', 'XY')", layer_.name,
                                          spatialite_geometry_type(layer_.geometry)));
    names += ", geom";
    params += is_multi(layer_.geometry) ? ", CastToMulti(GeomFromWKB(?, 4326))" : ", GeomFromWKB(?, 4326)";
  }
  insert_ =
      std::make_unique<Statement>(store_.db(), fmt::format("INSERT INTO {} ({}) VALUES ({})", table, names, params));
}

SpatialiteLayerWriter::~SpatialiteLayerWriter() {
  insert_.reset();
  if (open_) {
    try {
      store_.exec("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more can be done in a destructor
    }
  }
}

void SpatialiteLayerWriter::add(const Feature& feature) {
  if (feature.values.size() != layer_.attributes.size()) {
    throw InputError(fmt::format("layer '{}': feature has {} values, the definition {} attributes", layer_.name,
                                 feature.values.size(), layer_.attributes.size()));
  }
  for (std::size_t i = 0; i < layer_.attributes.size(); ++i) {
    const AttributeDef& a = layer_.attributes[i];
    const Value& v = feature.values[i];
    if (a.required && std::holds_alternative<std::monostate>(v)) {
      throw InputError(fmt::format("layer '{}': required attribute '{}' is empty", layer_.name, a.name));
    }
    insert_->bind(static_cast<int>(i) + 1, v);
  }
  if (layer_.geometry != GeometryType::none) {
    if (feature.wkb.empty()) throw InputError(fmt::format("layer '{}': feature without geometry", layer_.name));
    insert_->bind_blob(static_cast<int>(layer_.attributes.size()) + 1, feature.wkb);
  }
  try {
    insert_->step();
  } catch (const StoreError& e) {
    insert_->reset();
    const std::string what = e.what();
    if (what.find("UNIQUE") != std::string::npos) {
      throw InputError(fmt::format("layer '{}': duplicate key ({})", layer_.name, what));
    }
    throw InputError(fmt::format("layer '{}': feature refused: {}", layer_.name, what));
  }
  insert_->reset();
  ++added_;
}

void SpatialiteLayerWriter::commit(const ImportRecord& record) {
  insert_.reset();
  const std::string table = sql_name(layer_.name);
  if (layer_.geometry != GeometryType::none) {
    // Built after the rows: one bulk R*Tree load instead of a trigger per insert.
    store_.exec_expecting_one(fmt::format("SELECT CreateSpatialIndex('{}', 'geom')", layer_.name));
  }
  store_.exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version'");
  Statement version(store_.db(), "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'");
  version.step();
  const std::int64_t data_version = version.integer(0);

  const std::string extent_sql =
      layer_.geometry == GeometryType::none
          ? "NULL, NULL, NULL, NULL"
          : fmt::format(
                "(SELECT MIN(MbrMinX(geom)) FROM {0}), (SELECT MIN(MbrMinY(geom)) FROM {0}), "
                "(SELECT MAX(MbrMaxX(geom)) FROM {0}), (SELECT MAX(MbrMaxY(geom)) FROM {0})",
                table);
  Statement upsert(
      store_.db(),
      fmt::format("INSERT OR REPLACE INTO layers (name, definition, feature_count, west, south, east, north, "
                  "data_version, updated_at) VALUES (?, ?, (SELECT COUNT(*) FROM {}), {}, ?, "
                  "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                  table, extent_sql));
  upsert.bind(1, layer_.name).bind(2, to_json(layer_).dump()).bind(3, data_version);
  upsert.step();

  Statement log(store_.db(),
                "INSERT INTO import_log (imported_at, layer, source, source_sha256, source_crs, encoding, mapping, "
                "read, imported, repaired, flagged, rejected, data_version) VALUES "
                "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  log.bind(1, layer_.name).bind(2, record.source).bind(3, record.source_sha256).bind(4, record.source_crs);
  log.bind(5, record.encoding).bind(6, record.mapping).bind(7, record.read).bind(8, record.imported);
  log.bind(9, record.repaired).bind(10, record.flagged).bind(11, record.rejected).bind(12, data_version);
  log.step();
  store_.exec("COMMIT");
  open_ = false;
}

}  // namespace

std::unique_ptr<Store> open_spatialite_store(const std::filesystem::path& file, OpenMode mode) {
  return std::make_unique<SpatialiteStore>(file, mode);
}

}  // namespace bandoso::layers
