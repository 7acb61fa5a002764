#pragma once
// The glyph ranges MapLibre fetches to draw text: GET {base}/fonts/{fontstack}/{start}-{end}.pbf, one
// protobuf of SDF glyph bitmaps per block of 256 code points (0-255, 256-511, ...; Vietnamese letters
// with stacked diacritics such as "ệ" are in 7680-7935, Latin Extended Additional).
//
// Source: the npm package tileserver-gl-styles 2.0.0 (MapTiler/Klokan), vendored by web/fonts/package.json
// and package-lock.json and installed with `npm ci --prefix web/fonts`. It ships ready-made ranges
// fonts/Noto Sans Regular/{0..65535}.pbf (uncompressed, 256 code points each), made with fontnik from
// Noto Sans (SIL Open Font License 1.1); the package's LICENSE.md covers its styles. We generate nothing:
// the files are static assets served as they are.
//
// Layout of the root: one directory per font named as in "text-font" ("Noto Sans Regular"), holding
// "{start}-{end}.pbf" files.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bandoso::tiles {

// The one font our styles name in "text-font": Mapnik draws the raster labels with the same face.
inline constexpr std::string_view kDefaultFont = "Noto Sans Regular";

class GlyphStore {
 public:
  explicit GlyphStore(std::filesystem::path root);

  // The bytes of one glyph range (application/x-protobuf). `fontstack` is the URL segment after URL
  // decoding: one font name or a comma-separated list ("Noto Sans Regular,Arial Unicode MS Regular"), of
  // which the first font holding the range is used. `range` is "{start}-{end}.pbf" (the ".pbf" may be
  // left off) with start a multiple of 256 and end = start + 255, at most 65535.
  // Throws BadRequestError for a malformed range or a font name that could leave the root ('/', '\',
  // "..", a leading '.', control characters); nullopt when no listed font has the range.
  [[nodiscard]] std::optional<std::string> range(std::string_view fontstack, std::string_view range) const;

  // The font names present under the root, sorted (what clients may put in "text-font").
  [[nodiscard]] std::vector<std::string> fonts() const;

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// $BANDOSO_GLYPHS_DIR when set, else the installed package in the source tree:
// web/fonts/node_modules/tileserver-gl-styles/fonts.
std::filesystem::path default_glyphs_directory();

}  // namespace bandoso::tiles
