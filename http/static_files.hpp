#pragma once
// The static files of the web pages: our own HTML/JS/CSS (web/app/src, at /assets/app/) and Leaflet's
// distribution (web/app/node_modules/leaflet/dist, at /assets/leaflet/). Knows files, not HTTP: the Api
// turns what it finds into answers with ETag, 304 and Cache-Control.

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bandoso::http {

// $BANDOSO_WEB_DIR when set, else web/app in the source tree (where `scripts/install-deps` runs npm ci),
// as the glyphs are found (tiles::default_glyphs_directory).
std::filesystem::path default_web_directory();

// The content type of a file name by its extension (html, js, css, png, svg, json, map); empty for any
// other, which is not served.
std::string_view content_type_for(std::string_view filename);

// A strong ETag of a body: the first 16 bytes of its SHA-256, in hex and quotes.
std::string strong_etag(std::string_view content);

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string etag;           // strong: "\"<digest of the content>\""
  std::string cache_control;  // by mount: a pinned package may be kept long, our own files briefly
};

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path web_directory);

  // The file at `segments` (decoded path segments) below the mount "app" or "leaflet"; nullopt for an
  // unknown mount, a refused name ("..", ".hidden", a '/' or '\' inside a segment, control characters),
  // anything outside the mount once symbolic links are resolved, a directory (no listings), a missing
  // file or an extension without a content type.
  [[nodiscard]] std::optional<StaticFile> find(std::string_view mount, const std::vector<std::string>& segments) const;

  [[nodiscard]] const std::filesystem::path& directory() const { return directory_; }

 private:
  struct Cached {
    std::filesystem::file_time_type modified;
    std::uintmax_t size = 0;
    StaticFile file;
  };
  std::filesystem::path directory_;
  // Files read once and kept while their time and size stay the same: Leaflet's script is not re-read
  // and re-hashed on every page view, and an edited page is picked up without a restart.
  mutable std::mutex mutex_;
  mutable std::map<std::filesystem::path, Cached> cache_;
};

}  // namespace bandoso::http
