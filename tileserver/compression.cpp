#include "tileserver/compression.hpp"

#include <xxhash.h>
#include <zlib.h>

#include <array>
#include <fmt/format.h>

#include "layers/core/error.hpp"

namespace bandoso::tiles {

namespace {
constexpr int kGzipWindow = 15 + 16;  // zlib's way of asking for a gzip header and trailer
// Tiles are compressed as they are served when there is no cache: speed over the last few percent.
constexpr int kGzipLevel = 2;
}  // namespace

std::string gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, kGzipLevel, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error(ErrorCode::internal, "zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw Error(ErrorCode::internal, "zlib: deflate did not finish");
  out.resize(stream.total_out);
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, kGzipWindow) != Z_OK) throw Error(ErrorCode::internal, "zlib: inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 1 << 16> buffer{};
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer.data(), buffer.size() - stream.avail_out);
  }
  inflateEnd(&stream);
  if (rc != Z_STREAM_END) throw Error(ErrorCode::internal, "zlib: not a complete gzip stream");
  return out;
}

std::string etag_of(std::string_view body) {
  // 128 bits of XXH3: collisions are out of reach for a tile cache, at memory speed.
  const XXH128_hash_t hash = XXH3_128bits(body.data(), body.size());
  return fmt::format("\"{:016x}{:016x}\"", hash.high64, hash.low64);
}

}  // namespace bandoso::tiles
