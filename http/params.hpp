#pragma once
// Reading query parameters: numbers, lists of numbers, whole numbers in a range. Each throws
// BadRequestError naming the parameter and the text at fault.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bandoso::http {

double parse_number(std::string_view text, std::string_view name);
// "a,b,c": every part a number.
std::vector<double> parse_numbers(std::string_view text, std::string_view name);
std::size_t parse_count(std::string_view text, std::string_view name, std::size_t min, std::size_t max);

}  // namespace bandoso::http
