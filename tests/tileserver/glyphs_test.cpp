// The glyph store: ranges from the vendored package (web/fonts, `npm ci --prefix web/fonts`), range
// and font-name checking, fontstack fallback.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "layers/core/error.hpp"
#include "support/temp_dir.hpp"
#include "tileserver/glyphs.hpp"

namespace bandoso::tiles {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------ a minimal protobuf reader for glyphs.proto
// message glyphs { repeated fontstack stacks = 1; }
// message fontstack { required string name = 1; required string range = 2; repeated glyph glyphs = 3; }
// message glyph { required uint32 id = 1; optional bytes bitmap = 2; required uint32 width = 3; ... }

struct Field {
  std::uint32_t number = 0;
  std::uint64_t value = 0;  // varint
  std::string bytes;        // length-delimited
};

bool read_varint(const std::string& data, std::size_t& at, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && at < data.size(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(data[at++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// The fields of one message; nullopt when the bytes are not a well-formed message of varints and
// length-delimited fields (the only wire types glyphs.proto uses).
std::optional<std::vector<Field>> fields(const std::string& data) {
  std::vector<Field> out;
  std::size_t at = 0;
  while (at < data.size()) {
    std::uint64_t key = 0;
    if (!read_varint(data, at, key)) return std::nullopt;
    Field field;
    field.number = static_cast<std::uint32_t>(key >> 3);
    if ((key & 7) == 0) {
      if (!read_varint(data, at, field.value)) return std::nullopt;
    } else if ((key & 7) == 2) {
      std::uint64_t length = 0;
      if (!read_varint(data, at, length) || length > data.size() - at) return std::nullopt;
      field.bytes = data.substr(at, length);
      at += length;
    } else {
      return std::nullopt;
    }
    out.push_back(std::move(field));
  }
  return out;
}

struct DecodedRange {
  std::string name;
  std::string range;
  std::set<std::uint32_t> ids;           // code points
  std::set<std::uint32_t> with_bitmaps;  // code points with a non-empty SDF bitmap
};

std::optional<DecodedRange> decode(const std::string& pbf) {
  const auto top = fields(pbf);
  if (!top || top->size() != 1 || (*top)[0].number != 1) return std::nullopt;
  const auto stack = fields((*top)[0].bytes);
  if (!stack) return std::nullopt;
  DecodedRange out;
  for (const auto& f : *stack) {
    if (f.number == 1) out.name = f.bytes;
    if (f.number == 2) out.range = f.bytes;
    if (f.number != 3) continue;
    const auto glyph = fields(f.bytes);
    if (!glyph) return std::nullopt;
    std::optional<std::uint32_t> id;
    bool bitmap = false;
    for (const auto& g : *glyph) {
      if (g.number == 1) id = static_cast<std::uint32_t>(g.value);
      if (g.number == 2) bitmap = !g.bytes.empty();
    }
    if (!id) return std::nullopt;
    out.ids.insert(*id);
    if (bitmap) out.with_bitmaps.insert(*id);
  }
  return out;
}

// ------------------------------------------------------------------ the installed package

#define REQUIRE_GLYPHS_PACKAGE()                                                                  \
  if (!fs::is_regular_file(default_glyphs_directory() / std::string(kDefaultFont) / "0-255.pbf")) \
  FAIL() << "no glyphs in " << default_glyphs_directory()                                         \
         << ": run `npm ci --prefix web/fonts` (installs tileserver-gl-styles)"

TEST(Glyphs, DefaultFontHasTheVietnameseRange) {
  REQUIRE_GLYPHS_PACKAGE();
  const GlyphStore store(default_glyphs_directory());
  const auto pbf = store.range(kDefaultFont, "7680-7935.pbf");
  ASSERT_TRUE(pbf.has_value());
  ASSERT_FALSE(pbf->empty());
  const auto decoded = decode(*pbf);
  ASSERT_TRUE(decoded.has_value()) << "not a glyphs protobuf";
  EXPECT_EQ(decoded->name, kDefaultFont);
  EXPECT_EQ(decoded->range, "7680-7935");
  // ạ ả ấ ầ ẩ ẫ ậ ắ ặ ẹ ẻ ẽ ế ề ể ễ ệ ỉ ị ọ ỏ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ụ ủ ứ ừ ử ữ ự ỳ ỵ ỷ ỹ and their capitals
  for (std::uint32_t c = 0x1EA0; c <= 0x1EF9; ++c) {
    EXPECT_TRUE(decoded->with_bitmaps.count(c)) << "U+" << std::hex << c << " has no SDF bitmap";
  }
}

TEST(Glyphs, LatinRangesDecode) {
  REQUIRE_GLYPHS_PACKAGE();
  const GlyphStore store(default_glyphs_directory());
  for (const char* range : {"0-255.pbf", "256-511.pbf", "768-1023.pbf"}) {
    const auto pbf = store.range(kDefaultFont, range);
    ASSERT_TRUE(pbf.has_value()) << range;
    const auto decoded = decode(*pbf);
    ASSERT_TRUE(decoded.has_value()) << range;
    EXPECT_EQ(decoded->range + ".pbf", range);
    EXPECT_FALSE(decoded->with_bitmaps.empty()) << range;
  }
  // Letters of "Nghệ An", "Đường", "Hưng Bình": the base letters, Đ đ Ơ ơ Ư ư and the combining tones.
  const auto latin = decode(*store.range(kDefaultFont, "0-255"));
  for (const char c : std::string("NghAnBìn")) EXPECT_TRUE(latin->with_bitmaps.count(static_cast<unsigned char>(c)));
  const auto extended = decode(*store.range(kDefaultFont, "256-511.pbf"));
  for (const std::uint32_t c : {0x110u, 0x111u, 0x1A0u, 0x1A1u, 0x1AFu, 0x1B0u}) {
    EXPECT_TRUE(extended->with_bitmaps.count(c)) << std::hex << c;
  }
  const auto combining = decode(*store.range(kDefaultFont, "768-1023.pbf"));
  for (const std::uint32_t c : {0x300u, 0x301u, 0x303u, 0x309u, 0x323u}) {
    EXPECT_TRUE(combining->ids.count(c)) << std::hex << c;
  }
}

TEST(Glyphs, FontsListsTheDefaultFont) {
  REQUIRE_GLYPHS_PACKAGE();
  const auto fonts = GlyphStore(default_glyphs_directory()).fonts();
  EXPECT_NE(std::find(fonts.begin(), fonts.end(), std::string(kDefaultFont)), fonts.end());
}

TEST(Glyphs, AFontstackFallsBackToTheFirstFontPresent) {
  REQUIRE_GLYPHS_PACKAGE();
  const GlyphStore store(default_glyphs_directory());
  const auto direct = store.range(kDefaultFont, "0-255.pbf");
  const auto fallback = store.range("Open Sans Semibold, Noto Sans Regular,Arial Unicode MS Regular", "0-255.pbf");
  ASSERT_TRUE(fallback.has_value());
  EXPECT_EQ(*fallback, *direct);
  EXPECT_FALSE(store.range("Open Sans Semibold,Arial Unicode MS Regular", "0-255.pbf").has_value());
  EXPECT_FALSE(store.range("Unknown Font", "0-255.pbf").has_value());
}

// ------------------------------------------------------------------ a store of our own

struct SmallStore {
  testing::TempDir dir;
  GlyphStore store{dir.path()};
  SmallStore() {
    fs::create_directories(dir / "Font A");
    fs::create_directories(dir / "Font B");
    write(dir / "Font A" / "0-255.pbf", "A0");
    write(dir / "Font B" / "0-255.pbf", "B0");
    write(dir / "Font B" / "65280-65535.pbf", "Blast");
    write(dir / "secret.pbf", "secret");
  }
  static void write(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }
};

TEST(GlyphStore, ReadsTheFirstFontHoldingTheRange) {
  SmallStore s;
  EXPECT_EQ(s.store.range("Font A", "0-255.pbf"), "A0");
  EXPECT_EQ(s.store.range("Font B,Font A", "0-255.pbf"), "B0");
  EXPECT_EQ(s.store.range("Font A,Font B", "65280-65535.pbf"), "Blast");  // Font A lacks it
  EXPECT_EQ(s.store.range("Font A", "65280-65535"), std::nullopt);
  EXPECT_EQ(s.store.range("Font C", "0-255.pbf"), std::nullopt);
  EXPECT_EQ(s.store.range("Font A", "256-511.pbf"), std::nullopt);
  EXPECT_EQ(s.store.fonts(), (std::vector<std::string>{"Font A", "Font B"}));
  EXPECT_EQ(GlyphStore(s.dir / "missing").range("Font A", "0-255.pbf"), std::nullopt);
  EXPECT_TRUE(GlyphStore(s.dir / "missing").fonts().empty());
}

TEST(GlyphStore, RefusesMalformedRanges) {
  SmallStore s;
  for (const char* range : {"",
                            ".pbf",
                            "0",
                            "0-255.png",
                            "0-255.pbf.gz",
                            "0-254.pbf",
                            "0-256.pbf",
                            "1-256.pbf",
                            "256-255.pbf",
                            "255-510.pbf",
                            "00-255.pbf",
                            "0-0255.pbf",
                            "-0-255.pbf",
                            "+0-255.pbf",
                            "0--255.pbf",
                            "0-255-511.pbf",
                            " 0-255.pbf",
                            "0x0-255.pbf",
                            "65536-65791.pbf",
                            "4294967296-4294967551.pbf",
                            "99999999999999999999-0.pbf",
                            "a-b.pbf"}) {
    EXPECT_THROW(static_cast<void>(s.store.range("Font A", range)), BadRequestError) << '"' << range << '"';
  }
  try {
    static_cast<void>(s.store.range("Font A", "1-256.pbf"));
    FAIL();
  } catch (const BadRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("1-256.pbf"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), ErrorCode::bad_request);
  }
}

TEST(GlyphStore, RefusesPathTraversal) {
  SmallStore s;
  for (const char* fontstack : {"..", "../Font A", "Font A/..", "Font A/../Font B", "/etc", ".", ".hidden",
                                "Font A\\..\\Font B", "Font A,..", "Font A,../..", "", " , ", "Font\nA", "Fo..nt"}) {
    EXPECT_THROW(static_cast<void>(s.store.range(fontstack, "0-255.pbf")), BadRequestError) << '"' << fontstack << '"';
  }
  // "secret.pbf" at the root is not reachable as a range of some font.
  EXPECT_THROW(static_cast<void>(s.store.range("..", "0-255.pbf")), BadRequestError);
}

TEST(GlyphStore, DefaultDirectoryIsTheVendoredPackageUnlessOverridden) {
  const char* saved = std::getenv("BANDOSO_GLYPHS_DIR");
  const std::optional<std::string> previous = saved ? std::optional<std::string>(saved) : std::nullopt;
  unsetenv("BANDOSO_GLYPHS_DIR");
  EXPECT_EQ(default_glyphs_directory(),
            fs::path(BANDOSO_SOURCE_DIR) / "web" / "fonts" / "node_modules" / "tileserver-gl-styles" / "fonts");
  setenv("BANDOSO_GLYPHS_DIR", "/srv/glyphs", 1);
  EXPECT_EQ(default_glyphs_directory(), fs::path("/srv/glyphs"));
  if (previous) {
    setenv("BANDOSO_GLYPHS_DIR", previous->c_str(), 1);
  } else {
    unsetenv("BANDOSO_GLYPHS_DIR");
  }
}

}  // namespace
}  // namespace bandoso::tiles
