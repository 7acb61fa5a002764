#include "tileserver/glyphs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "layers/core/error.hpp"

namespace bandoso::tiles {

namespace {

constexpr unsigned kRangeSize = 256;
constexpr unsigned kLastCodePoint = 65535;  // glyph ranges cover the Basic Multilingual Plane

// A decimal number of 1 to 5 digits without a leading zero; nullopt otherwise.
std::optional<unsigned> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// "7680-7935.pbf" or "7680-7935" → "7680-7935.pbf"; throws BadRequestError for anything else.
std::string range_file_name(std::string_view range) {
  const auto bad = [&](std::string_view why) {
    return BadRequestError(fmt::format("glyph range '{}': {}", range, why));
  };
  std::string_view text = range;
  if (text.size() >= 4 && text.substr(text.size() - 4) == ".pbf") text.remove_suffix(4);
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) throw bad("expected {start}-{end}.pbf, e.g. 0-255.pbf");
  const auto start = parse_number(text.substr(0, dash));
  const auto end = parse_number(text.substr(dash + 1));
  if (!start || !end) throw bad("expected {start}-{end}.pbf with decimal numbers, e.g. 0-255.pbf");
  if (*start % kRangeSize != 0) throw bad("the start must be a multiple of 256");
  if (*end != *start + kRangeSize - 1) throw bad("the end must be the start + 255");
  if (*end > kLastCodePoint) throw bad("ranges end at 65535");
  return fmt::format("{}-{}.pbf", *start, *end);
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// One font name of a fontstack, checked to stay a single directory name below the root.
void check_font_name(std::string_view font) {
  const auto bad = [&](std::string_view why) { return BadRequestError(fmt::format("font '{}': {}", font, why)); };
  if (font.empty()) throw bad("empty font name");
  if (font.size() > 200) throw bad("font name too long");
  if (font.front() == '.' || font.find("..") != std::string_view::npos) throw bad("'.' and '..' are refused");
  for (const char c : font) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\') throw bad("'/' and '\\' are refused");
    if (u < 0x20 || u == 0x7f) throw bad("control characters are refused");
  }
}

std::vector<std::string_view> split_fontstack(std::string_view fontstack) {
  std::vector<std::string_view> fonts;
  while (true) {
    const std::size_t comma = fontstack.find(',');
    fonts.push_back(trim(fontstack.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    fontstack.remove_prefix(comma + 1);
  }
  return fonts;
}

std::optional<std::string> read_file(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorCode::internal, "cannot read glyph file " + file.string());
  return bytes;
}

}  // namespace

GlyphStore::GlyphStore(std::filesystem::path root) : root_(std::move(root)) {}

std::optional<std::string> GlyphStore::range(std::string_view fontstack, std::string_view range) const {
  const std::string file_name = range_file_name(range);
  const auto fonts = split_fontstack(fontstack);
  // Check every name before touching the file system, so that a traversal attempt later in the list is
  // refused the same way whether or not an earlier font exists.
  for (const auto font : fonts) check_font_name(font);
  for (const auto font : fonts) {
    if (auto bytes = read_file(root_ / std::string(font) / file_name)) return bytes;
  }
  return std::nullopt;
}

std::vector<std::string> GlyphStore::fonts() const {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(root_, error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    if (it->is_directory(type_error)) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path default_glyphs_directory() {
  if (const char* env = std::getenv("BANDOSO_GLYPHS_DIR"); env != nullptr && *env != '\0') return env;
  return std::filesystem::path(BANDOSO_SOURCE_DIR) / "web" / "fonts" / "node_modules" / "tileserver-gl-styles" /
         "fonts";
}

}  // namespace bandoso::tiles
