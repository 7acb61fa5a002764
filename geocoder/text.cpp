#include "geocoder/text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "geocoder/abbreviations.hpp"
#include "layers/core/error.hpp"
#include "layers/core/vntext.hpp"

namespace bandoso::geocoder {

namespace {

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

struct Abbreviations {
  std::map<std::vector<std::string>, std::vector<std::string>> table;
  std::size_t longest = 1;
  std::vector<std::string> glued;  // single-token forms that may be glued to a number ("k5")
};

const Abbreviations& abbreviations() {
  static const Abbreviations table = [] {
    Abbreviations a;
    std::istringstream in{std::string(kAbbreviationsText)};
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      auto from = split_spaces(layers::vntext::fold(line.substr(0, eq)));
      auto to = split_spaces(layers::vntext::fold(line.substr(eq + 1)));
      if (from.empty() || to.empty()) continue;
      a.longest = std::max(a.longest, from.size());
      if (from.size() == 1) a.glued.push_back(from[0]);
      a.table[std::move(from)] = std::move(to);
    }
    return a;
  }();
  return table;
}

bool all_alpha(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalpha(c) != 0; });
}

}  // namespace

std::string join(const std::vector<std::string>& tokens, std::size_t from, std::size_t to) {
  std::string out;
  to = std::min(to, tokens.size());
  for (std::size_t i = from; i < to; ++i) {
    if (!out.empty()) out += ' ';
    out += tokens[i];
  }
  return out;
}

std::vector<std::string> name_tokens(std::string_view utf8) { return split_spaces(layers::vntext::fold(utf8)); }

std::vector<std::string> query_tokens(std::string_view utf8, bool expand) {
  if (!layers::vntext::is_valid_utf8(utf8)) throw BadRequestError("query is not valid UTF-8");
  // fold() turns '/' into a space: fold the parts between slashes and glue them back.
  std::string folded;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = utf8.find('/', start);
    const std::string part =
        layers::vntext::fold(utf8.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (!folded.empty() || start > 0) folded += '/';
    folded += part;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const Abbreviations& abbr = abbreviations();
  std::vector<std::string> raw;
  for (std::string& token : split_spaces(folded)) {
    // "/" survives only between letters or digits of one token: "45/3" yes, "t/p" → "t p".
    if (token.find('/') != std::string::npos) {
      const auto first = token.find('/');
      const bool numeric = std::isdigit(static_cast<unsigned char>(token[0])) != 0 && first + 1 < token.size() &&
                           std::isdigit(static_cast<unsigned char>(token[first + 1])) != 0;
      if (!numeric) {
        std::replace(token.begin(), token.end(), '/', ' ');
        for (auto& t : split_spaces(token)) raw.push_back(std::move(t));
        continue;
      }
      while (!token.empty() && token.back() == '/') token.pop_back();
      while (!token.empty() && token.front() == '/') token.erase(0, 1);
      if (token.empty()) continue;
    }
    // "k5", "ql1a", "p12": a known abbreviation glued to its number.
    std::size_t letters = 0;
    while (letters < token.size() && std::isalpha(static_cast<unsigned char>(token[letters])) != 0) ++letters;
    if (letters > 0 && letters < token.size() && std::isdigit(static_cast<unsigned char>(token[letters])) != 0) {
      const std::string head = token.substr(0, letters);
      if (std::find(abbr.glued.begin(), abbr.glued.end(), head) != abbr.glued.end() || head == "khoi" ||
          head == "xom" || head == "ngo" || head == "so") {
        raw.push_back(head);
        raw.push_back(token.substr(letters));
        continue;
      }
    }
    // "105bis": the suffix apart, as addresses write it.
    if (token.size() > 3 && token.ends_with("bis") &&
        std::isdigit(static_cast<unsigned char>(token[token.size() - 4])) != 0) {
      raw.push_back(token.substr(0, token.size() - 3));
      raw.push_back("bis");
      continue;
    }
    raw.push_back(std::move(token));
  }
  if (!expand) return raw;
  std::vector<std::string> out;
  out.reserve(raw.size() + 4);
  for (std::size_t i = 0; i < raw.size();) {
    bool replaced = false;
    for (std::size_t n = std::min(abbr.longest, raw.size() - i); n >= 1 && !replaced; --n) {
      if (!all_alpha(raw[i])) break;
      const std::vector<std::string> key(raw.begin() + static_cast<std::ptrdiff_t>(i),
                                         raw.begin() + static_cast<std::ptrdiff_t>(i + n));
      const auto it = abbr.table.find(key);
      if (it == abbr.table.end()) continue;
      out.insert(out.end(), it->second.begin(), it->second.end());
      i += n;
      replaced = true;
    }
    if (!replaced) out.push_back(raw[i++]);
  }
  return out;
}

std::string key_of(std::string_view utf8) { return join(query_tokens(utf8, false)); }

bool within_one_edit(std::string_view a, std::string_view b) {
  if (a == b) return true;
  const std::size_t la = a.size(), lb = b.size();
  if (la == lb) {
    std::size_t first = la;
    int diffs = 0;
    for (std::size_t i = 0; i < la; ++i) {
      if (a[i] != b[i]) {
        if (++diffs == 1) first = i;
      }
      if (diffs > 2) return false;
    }
    if (diffs == 1) return true;
    return diffs == 2 && first + 1 < la && a[first] == b[first + 1] && a[first + 1] == b[first] &&
           a.substr(first + 2) == b.substr(first + 2);
  }
  if (la + 1 != lb && lb + 1 != la) return false;
  const std::string_view s = la < lb ? a : b, l = la < lb ? b : a;
  std::size_t i = 0;
  while (i < s.size() && s[i] == l[i]) ++i;
  return s.substr(i) == l.substr(i + 1);
}

bool token_matches(std::string_view query, std::string_view word, bool& fuzzy) {
  if (query == word) return true;
  if (word.size() < 5 || query.size() < 4 || !all_alpha(query)) return false;
  if (within_one_edit(query, word)) {
    fuzzy = true;
    return true;
  }
  return false;
}

bool is_number(std::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool is_house_number(std::string_view token) {
  if (token.empty() || std::isdigit(static_cast<unsigned char>(token[0])) == 0) return false;
  std::size_t i = 0;
  while (i < token.size() && std::isdigit(static_cast<unsigned char>(token[i])) != 0) ++i;
  if (i < token.size() && std::isalpha(static_cast<unsigned char>(token[i])) != 0) ++i;
  if (i < token.size() && token[i] == '/') {
    ++i;
    const std::size_t digits = i;
    while (i < token.size() && std::isdigit(static_cast<unsigned char>(token[i])) != 0) ++i;
    if (i == digits) return false;
    if (i < token.size() && std::isalpha(static_cast<unsigned char>(token[i])) != 0) ++i;
  }
  return i == token.size();
}

}  // namespace bandoso::geocoder
