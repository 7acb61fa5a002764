#include "layers/core/digital_code.hpp"

#include <array>
#include <fmt/format.h>

#include "layers/core/error.hpp"

namespace bandoso::layers {

namespace {

// Damm's totally anti-symmetric quasigroup of order 10: row = interim digit, column = next digit.
constexpr std::array<std::array<char, 10>, 10> kDamm{{
    {0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
    {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
    {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
    {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
    {6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
    {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
    {5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
    {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
    {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
    {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

char damm_check_digit(std::string_view digits) {
  int interim = 0;
  for (char c : digits) {
    if (!is_digit(c)) throw BadRequestError(fmt::format("'{}' is not a string of digits", digits));
    interim = kDamm[static_cast<std::size_t>(interim)][static_cast<std::size_t>(c - '0')];
  }
  return static_cast<char>('0' + interim);
}

bool is_valid_digital_code(std::string_view code) {
  if (code.size() != 10 || code.front() < '1' || code.front() > '9') return false;
  for (char c : code) {
    if (!is_digit(c)) return false;
  }
  return damm_check_digit(code) == '0';
}

std::string normalise_digital_code(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '-' || c == '.') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace bandoso::layers
