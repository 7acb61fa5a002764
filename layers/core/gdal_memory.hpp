#pragma once
// Small owners for GDAL objects that components writing CSV in memory share (header-only: only the
// modules that link GDAL include it).

#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <atomic>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <string_view>

namespace bandoso::layers {

// A file in GDAL's memory file system (/vsimem), removed with this object.
class MemoryFile {
 public:
  explicit MemoryFile(std::string_view extension) {
    static std::atomic<unsigned> counter{0};
    path_ = fmt::format("/vsimem/bandoso-{}{}", counter++, extension);
  }
  ~MemoryFile() { VSIUnlink(path_.c_str()); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  // What has been written to it so far (valid until the next write).
  [[nodiscard]] std::string_view bytes() const {
    vsi_l_offset length = 0;
    const GByte* data = VSIGetMemFileBuffer(path_.c_str(), &length, FALSE);
    if (data == nullptr) return {};
    return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(length)};
  }

 private:
  std::string path_;
};

struct DatasetCloser {
  void operator()(GDALDataset* dataset) const { GDALClose(dataset); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

}  // namespace bandoso::layers
