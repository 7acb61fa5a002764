#pragma once
// gzip for vector tiles (zlib) and the digests that make strong ETags (xxHash).

#include <string>
#include <string_view>

namespace bandoso::tiles {

std::string gzip(std::string_view data);
// Throws Error(internal) when `data` is not gzip.
std::string gunzip(std::string_view data);
// A strong, quoted ETag: the body's 128-bit XXH3 digest in hex.
std::string etag_of(std::string_view body);

}  // namespace bandoso::tiles
