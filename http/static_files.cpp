#include "http/static_files.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace bandoso::http {

namespace fs = std::filesystem;

namespace {

struct Mount {
  std::string_view name;
  std::string_view directory;  // below the web directory
  std::string_view cache_control;
};

// Our own files change with a deployment and their URLs carry no version: browsers keep them for five
// minutes and then revalidate with the ETag. Leaflet's files are those of the version the lock file pins.
constexpr Mount kMounts[] = {
    {"app", "src", "public, max-age=300"},
    {"leaflet", "node_modules/leaflet/dist", "public, max-age=86400"},
};

bool acceptable_segment(std::string_view segment) {
  // A leading dot refuses ".", ".." and hidden files alike; '/' and '\' could only come from an escape
  // (%2F, %5C) meant to make one segment into several.
  if (segment.empty() || segment.front() == '.') return false;
  for (const char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string strong_etag(std::string_view content) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(content.data(), content.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex = "\"";
  for (unsigned i = 0; i < 16 && i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex + "\"";
}

namespace {

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator of the root
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

fs::path default_web_directory() {
  if (const char* env = std::getenv("BANDOSO_WEB_DIR"); env != nullptr && *env != '\0') return env;
  return fs::path(BANDOSO_SOURCE_DIR) / "web" / "app";
}

std::string_view content_type_for(std::string_view filename) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html"},  // our pages declare <meta charset="utf-8">
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".png", "image/png"},
      {".svg", "image/svg+xml"},
      {".json", "application/json"},
      {".map", "application/json"},  // source maps
  };
  for (const auto& [extension, type] : kTypes) {
    if (filename.size() > extension.size() && filename.ends_with(extension)) return type;
  }
  return {};
}

StaticFiles::StaticFiles(fs::path web_directory) : directory_(std::move(web_directory)) {}

std::optional<StaticFile> StaticFiles::find(std::string_view mount, const std::vector<std::string>& segments) const {
  const Mount* found = nullptr;
  for (const Mount& m : kMounts) {
    if (m.name == mount) found = &m;
  }
  if (found == nullptr || segments.empty()) return std::nullopt;
  fs::path path = directory_ / found->directory;
  for (const std::string& segment : segments) {
    if (!acceptable_segment(segment)) return std::nullopt;
    path /= segment;
  }
  const std::string_view type = content_type_for(segments.back());
  if (type.empty()) return std::nullopt;

  // The names are checked already; resolving the links as well keeps a symbolic link inside the mount
  // from reaching outside it.
  std::error_code error;
  const fs::path root = fs::canonical(directory_ / found->directory, error);
  if (error) return std::nullopt;
  const fs::path real = fs::canonical(path, error);
  if (error || !is_within(real, root) || !fs::is_regular_file(real, error)) return std::nullopt;
  const auto modified = fs::last_write_time(real, error);
  if (error) return std::nullopt;
  const auto size = fs::file_size(real, error);
  if (error) return std::nullopt;

  {
    const std::lock_guard lock(mutex_);
    const auto it = cache_.find(real);
    if (it != cache_.end() && it->second.modified == modified && it->second.size == size) return it->second.file;
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return std::nullopt;
  StaticFile file;
  file.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  file.content_type = std::string(type);
  file.etag = strong_etag(file.body);
  file.cache_control = std::string(found->cache_control);
  const std::lock_guard lock(mutex_);
  cache_[real] = Cached{modified, size, file};
  return file;
}

}  // namespace bandoso::http
