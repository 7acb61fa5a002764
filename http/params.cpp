#include "http/params.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "layers/core/error.hpp"

namespace bandoso::http {

double parse_number(std::string_view text, std::string_view name) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) {
    throw BadRequestError(fmt::format("{} '{}' is not a number", name, text));
  }
  return value;
}

std::vector<double> parse_numbers(std::string_view text, std::string_view name) {
  std::vector<double> values;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    values.push_back(parse_number(text.substr(start, end - start), name));
    start = end + 1;
  }
  return values;
}

std::size_t parse_count(std::string_view text, std::string_view name, std::size_t min, std::size_t max) {
  std::size_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value < min || value > max) {
    throw BadRequestError(fmt::format("{} '{}' must be a whole number from {} to {}", name, text, min, max));
  }
  return value;
}

}  // namespace bandoso::http
