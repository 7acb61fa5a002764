#pragma once
// The store: the only module that knows SQL. Spatialite is the embedded default; a PostGIS backend
// can implement the same interface later. Geometries cross this interface as WKB in EPSG:4326.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "layers/core/catalogue.hpp"
#include "layers/core/geometry.hpp"

namespace bandoso::layers {

inline constexpr int kSchemaVersion = 2;

// An attribute value: null, text (also dates as YYYY-MM-DD), integer (also booleans) or real.
using Value = std::variant<std::monostate, std::string, std::int64_t, double>;

struct Feature {
  std::vector<Value> values;  // one per LayerDef::attributes, in order
  std::string wkb;            // ISO WKB, EPSG:4326; empty for layers without geometry
};

// replace: the layer's content becomes exactly the features written; upsert: features replace those
// with the same key, others stay.
enum class WriteMode { replace, upsert };

// What one import did, for the import log.
struct ImportRecord {
  std::string layer;
  WriteMode mode = WriteMode::replace;
  std::string source;  // file path(s)
  std::string source_sha256;
  std::string source_crs;
  std::string encoding;
  std::string mapping;
  std::int64_t read = 0;
  std::int64_t imported = 0;
  std::int64_t repaired = 0;
  std::int64_t flagged = 0;
  std::int64_t rejected = 0;
};

// A selection of a layer's features for paging through them (the features API): the features whose
// bounding box meets `bbox` and whose attributes equal the given values, in a stable order.
struct FeatureQuery {
  std::optional<BBox> bbox;
  std::vector<std::pair<std::string, Value>> equals;  // attribute = value; all must hold
  std::int64_t offset = 0;
  std::int64_t limit = -1;  // -1: no limit
};

// One entry of the change log: an area whose features changed in the import that produced
// `data_version` (the bbox of an added, removed or modified feature, old and new geometry alike).
// The tile cache expires the tiles that touch these boxes. A layer without geometry logs one entry
// per kind with an empty bbox; a new layer, or a new shape or style, logs its whole old/new extents.
struct Change {
  std::int64_t data_version = 0;
  std::string layer;
  std::string kind;  // "added" | "removed" | "modified"
  BBox bbox;
};

// The store at one moment: read in one snapshot, so a commit cannot fall between its parts.
struct StoreSummary {
  int schema_version = 0;
  std::int64_t data_version = 0;
  std::map<std::string, std::int64_t> counts;  // by layer
  BBox bbox;                                   // of every layer with geometry
};

// Parameters of a Mapnik datasource reading one layer straight from the store.
using MapnikDatasourceParams = std::map<std::string, std::string>;

// Writes a layer (WriteMode): readers keep seeing the previous content until commit() swaps it in, in
// one transaction. Destroying a writer without commit() leaves the store exactly as it was.
// add() may run on another thread than the one that made the writer (the importer writes behind its
// reader), one call at a time; commit() and destruction come from the creating thread after the last add().
class LayerWriter {
 public:
  virtual ~LayerWriter() = default;
  // Throws InputError when the feature does not fit the definition (value types, required, key).
  virtual void add(const Feature& feature) = 0;
  virtual void commit(const ImportRecord& record) = 0;
};

enum class OpenMode { read_only, read_write, create };

class Store {
 public:
  virtual ~Store() = default;

  [[nodiscard]] virtual int schema_version() const = 0;
  // Increases with every committed import; caches and indexes key on it.
  [[nodiscard]] virtual std::int64_t data_version() const = 0;

  [[nodiscard]] virtual StoreSummary summary() const = 0;

  // Definitions of the layers the store holds, as they were imported.
  [[nodiscard]] virtual std::vector<LayerDef> layers() const = 0;
  [[nodiscard]] virtual std::optional<LayerDef> find_layer(const std::string& name) const = 0;
  [[nodiscard]] virtual std::int64_t count(const std::string& layer) const = 0;
  [[nodiscard]] virtual BBox extent(const std::string& layer) const = 0;  // empty BBox when no geometry
  // The extent of the features whose `attribute` equals `value` (e.g. one commune by code); empty
  // when none matches.
  [[nodiscard]] virtual BBox extent_where(const std::string& layer, const std::string& attribute,
                                          const Value& value) const = 0;

  // Calls `visit` for every feature of a layer (values in definition order; wkb filled when
  // with_geometry). Stops early when visit returns false.
  virtual void scan(const std::string& layer, bool with_geometry,
                    const std::function<bool(const Feature&)>& visit) const = 0;

  // Features whose bounding box intersects `bbox` (through the spatial index): a fast first cut for
  // callers that clip, such as tile encoders. May run on several threads at once.
  virtual void scan_bbox(const std::string& layer, const BBox& bbox,
                         const std::function<bool(const Feature&)>& visit) const = 0;

  // The features matching `query` (see FeatureQuery), in storage order, geometry included when asked.
  // Throws NotFoundError for an unknown layer or attribute, BadRequestError for a bbox on a layer
  // without geometry. May run on several threads at once.
  virtual void select(const std::string& layer, const FeatureQuery& query, bool with_geometry,
                      const std::function<bool(const Feature&)>& visit) const = 0;
  // How many features match `query` (its offset and limit ignored).
  [[nodiscard]] virtual std::int64_t count_matching(const std::string& layer, const FeatureQuery& query) const = 0;

  // Starts writing a layer (creating its table on first import). Nothing is visible before commit().
  // Upsert throws InputError when `layer` differs from the stored definition in attributes, geometry
  // or key: only replace may change a layer's shape.
  virtual std::unique_ptr<LayerWriter> write_layer(const LayerDef& layer, WriteMode mode) = 0;
  std::unique_ptr<LayerWriter> replace_layer(const LayerDef& layer) { return write_layer(layer, WriteMode::replace); }

  // The change log: every change committed after `data_version`, oldest first.
  [[nodiscard]] virtual std::vector<Change> changes_since(std::int64_t data_version) const = 0;

  [[nodiscard]] virtual MapnikDatasourceParams mapnik_datasource(const std::string& layer) const = 0;

  [[nodiscard]] virtual std::filesystem::path path() const = 0;
};

// Opens a Spatialite store. read_only/read_write: the file must exist and have kSchemaVersion
// (StoreError with code schema_mismatch otherwise); create: creates the file and schema if missing.
std::unique_ptr<Store> open_spatialite_store(const std::filesystem::path& file, OpenMode mode);

}  // namespace bandoso::layers
