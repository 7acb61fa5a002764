#pragma once
// Query text for the geocoder: folding (through layers/core/vntext), tokens, the abbreviation table
// (abbreviations.txt, compiled in) and the one-typo comparison.

#include <string>
#include <string_view>
#include <vector>

namespace bandoso::geocoder {

// Folds a query into search tokens: NFC, vntext::fold (tone marks, case, đ→d, y→i), '/' kept inside
// house numbers and lanes ("45/3", "320/6"), a known abbreviation glued to a number split off
// ("k5" → "k 5", "ql1a" → "ql 1a"), then abbreviations expanded ("p" → "phuong", "tp" → "thanh pho").
// Throws BadRequestError on invalid UTF-8.
std::vector<std::string> query_tokens(std::string_view utf8, bool expand = true);

// The key of an indexed house number, lane or lane name: folded like a query, '/' kept, no
// abbreviation expanded ("ngách 12/7" → "ngach 12/7", "12A" → "12a").
std::string key_of(std::string_view utf8);

// Folded tokens of a name, no abbreviation expansion ("Phường Hưng Bình" → phuong hung binh).
std::vector<std::string> name_tokens(std::string_view utf8);

std::string join(const std::vector<std::string>& tokens, std::size_t from = 0, std::size_t to = std::string::npos);

// One edit apart (substitution, insertion, deletion or adjacent transposition), or equal.
bool within_one_edit(std::string_view a, std::string_view b);

// Whether `query` can stand for the indexed word `word`: equal, or one edit away when the word has
// 5+ letters (a typo in a short word is too likely to hit another word).
bool token_matches(std::string_view query, std::string_view word, bool& fuzzy);

bool is_number(std::string_view token);        // digits only
bool is_house_number(std::string_view token);  // 12, 12a, 45/3, 320/6

}  // namespace bandoso::geocoder
