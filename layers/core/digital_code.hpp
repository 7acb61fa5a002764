#pragma once
// Digital address codes (mã địa chỉ số): 10 digits, the first 1–9, the last a Damm check digit, so that
// every single-digit error and every adjacent transposition is detected.

#include <string>
#include <string_view>

namespace bandoso::layers {

// The Damm check digit ('0'–'9') of `digits`; throws BadRequestError on anything but ASCII digits.
char damm_check_digit(std::string_view digits);

// 10 ASCII digits, the first 1–9, and the Damm algorithm over all ten ends in 0.
bool is_valid_digital_code(std::string_view code);

// Removes the grouping people type ("744 051 5318", "744-051-5318", "744.051.5318"); nothing else.
std::string normalise_digital_code(std::string_view text);

}  // namespace bandoso::layers
