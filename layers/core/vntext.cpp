#include "layers/core/vntext.hpp"

#include <iconv.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <set>

#include "layers/core/error.hpp"

namespace bandoso::layers::vntext {

bool is_valid_utf8(std::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const auto length = static_cast<int32_t>(bytes.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    if (c < 0) return false;
  }
  return true;
}

namespace {

icu::UnicodeString from_utf8_checked(std::string_view utf8) {
  if (!is_valid_utf8(utf8)) throw InputError("text is not valid UTF-8");
  return icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
}

const icu::Normalizer2& normalizer(bool compose) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n =
      compose ? icu::Normalizer2::getNFCInstance(status) : icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status) || n == nullptr) throw Error(ErrorCode::internal, "ICU normaliser unavailable");
  return *n;
}

std::string to_utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

// RAII over one iconv conversion.
class Iconv {
 public:
  Iconv(const char* to, const char* from) : cd_(iconv_open(to, from)) {
    if (cd_ == reinterpret_cast<iconv_t>(-1))
      throw Error(ErrorCode::internal, fmt::format("iconv cannot convert {} to {}", from, to));
  }
  ~Iconv() { iconv_close(cd_); }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;

  std::string convert(std::string_view input, std::string_view what) {
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // a cached converter may hold state from a failed call
    std::string out(input.size() * 4 + 16, '\0');
    char* in_ptr = const_cast<char*>(input.data());
    size_t in_left = input.size();
    char* out_ptr = out.data();
    size_t out_left = out.size();
    while (in_left > 0) {
      if (iconv(cd_, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<size_t>(-1)) {
        throw InputError(fmt::format("{}: byte {} at offset {} is not defined", what,
                                     static_cast<unsigned>(static_cast<unsigned char>(*in_ptr)),
                                     input.size() - in_left));
      }
    }
    // Flush: stateful encodings such as TCVN5712-1 may hold a pending base letter.
    if (iconv(cd_, nullptr, nullptr, &out_ptr, &out_left) == static_cast<size_t>(-1)) {
      throw InputError(fmt::format("{}: incomplete text", what));
    }
    out.resize(out.size() - out_left);
    return out;
  }

 private:
  iconv_t cd_;
};

}  // namespace

std::string to_nfc(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString nfc = normalizer(true).normalize(from_utf8_checked(utf8), status);
  if (U_FAILURE(status)) throw InputError("text cannot be normalised");
  return to_utf8(nfc);
}

std::string fold(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString decomposed = normalizer(false).normalize(from_utf8_checked(utf8), status);
  if (U_FAILURE(status)) throw InputError("text cannot be normalised");
  icu::UnicodeString folded;
  bool pending_space = false;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_getCombiningClass(c) != 0 || u_charType(c) == U_NON_SPACING_MARK) continue;
    if (c == 0x0110 || c == 0x0111) c = 'd';  // Đ đ
    c = u_foldCase(c, U_FOLD_CASE_DEFAULT);
    if (c == 'y') c = 'i';
    if (u_isalnum(c) != 0) {
      if (pending_space && !folded.isEmpty()) folded.append(static_cast<UChar32>(' '));
      pending_space = false;
      folded.append(c);
    } else {
      pending_space = true;
    }
  }
  return to_utf8(folded);
}

std::string to_upper(std::string_view utf8) {
  icu::UnicodeString text = from_utf8_checked(utf8);
  return to_nfc(to_utf8(text.toUpper(icu::Locale("vi"))));
}

std::string to_lower(std::string_view utf8) {
  icu::UnicodeString text = from_utf8_checked(utf8);
  return to_nfc(to_utf8(text.toLower(icu::Locale("vi"))));
}

std::string to_title(std::string_view utf8) {
  icu::UnicodeString text = from_utf8_checked(utf8);
  return to_nfc(to_utf8(text.toTitle(nullptr, icu::Locale("vi"))));
}

LegacyEncoding parse_legacy_encoding(std::string_view name) {
  if (name == "tcvn3") return LegacyEncoding::tcvn3;
  if (name == "vni") return LegacyEncoding::vni;
  if (name == "cp1258") return LegacyEncoding::cp1258;
  throw BadRequestError(fmt::format("unknown encoding '{}' (expected tcvn3, vni or cp1258)", name));
}

std::string_view to_string(LegacyEncoding encoding) {
  switch (encoding) {
    case LegacyEncoding::tcvn3:
      return "tcvn3";
    case LegacyEncoding::vni:
      return "vni";
    case LegacyEncoding::cp1258:
      return "cp1258";
  }
  return "tcvn3";
}

// ---- VNI-Windows ---------------------------------------------------------------------------------------

namespace {

// VNI-Windows writes a letter as its ASCII base letter followed by one mark byte carrying the vowel
// modifier and the tone together; đ, ơ, ư, the toned i's and ỵ are single bytes (ơ/ư take a tone byte
// after them). Every capital form is its small form's byte minus 0x20. Tones in the order below.
constexpr std::array<char32_t, 5> kTones{0x0300, 0x0301, 0x0309, 0x0303, 0x0323};  // ` ´ ? ~ .
constexpr std::array<unsigned char, 5> kVniTone{0xF8, 0xF9, 0xFB, 0xF5, 0xEF};
constexpr std::array<unsigned char, 6> kVniCircumflex{0xE2, 0xE0, 0xE1, 0xE5, 0xE3, 0xE4};  // ^, then ^ + tone
constexpr std::array<unsigned char, 6> kVniBreve{0xEA, 0xE8, 0xE9, 0xFA, 0xFC, 0xEB};       // ˘, then ˘ + tone
constexpr std::array<unsigned char, 5> kVniToneI{0xEC, 0xED, 0xE6, 0xF3, 0xF2};             // ì í ỉ ĩ ị
constexpr unsigned char kVniDStroke = 0xF1, kVniOHorn = 0xF4, kVniUHorn = 0xF6, kVniYDot = 0xEE;
constexpr unsigned char kVniCapital = 0x20;

constexpr char32_t kCircumflex = 0x0302, kBreve = 0x0306, kHorn = 0x031B;

struct VniByte {
  enum class Kind { undefined, mark, letter } kind = Kind::undefined;
  char32_t modifier = 0;  // mark: circumflex or breve
  char32_t letter = 0;    // letter: the small letter
  char32_t tone = 0;
  bool capital = false;
};

const std::array<VniByte, 256>& vni_table() {
  static const std::array<VniByte, 256> table = [] {
    std::array<VniByte, 256> t{};
    auto both = [&](unsigned char small, VniByte entry) {
      t[small] = entry;
      entry.capital = true;
      t[small - kVniCapital] = entry;
    };
    for (std::size_t i = 0; i < kTones.size(); ++i) {
      both(kVniTone[i], {VniByte::Kind::mark, 0, 0, kTones[i]});
      both(kVniCircumflex[i + 1], {VniByte::Kind::mark, kCircumflex, 0, kTones[i]});
      both(kVniBreve[i + 1], {VniByte::Kind::mark, kBreve, 0, kTones[i]});
      both(kVniToneI[i], {VniByte::Kind::letter, 0, U'i', kTones[i]});
    }
    both(kVniCircumflex[0], {VniByte::Kind::mark, kCircumflex, 0, 0});
    both(kVniBreve[0], {VniByte::Kind::mark, kBreve, 0, 0});
    both(kVniDStroke, {VniByte::Kind::letter, 0, U'đ', 0});
    both(kVniOHorn, {VniByte::Kind::letter, 0, U'ơ', 0});
    both(kVniUHorn, {VniByte::Kind::letter, 0, U'ư', 0});
    both(kVniYDot, {VniByte::Kind::letter, 0, U'y', 0x0323});
    return t;
  }();
  return table;
}

bool is_vowel_base(char32_t c) {
  c = u_tolower(c);
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y' || c == U'ơ' || c == U'ư';
}

std::string decode_vni(std::string_view bytes) {
  const auto& table = vni_table();
  icu::UnicodeString out;
  char32_t base = 0;  // the last letter a mark may still go on (0: none)
  bool base_marked = false;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte < 0x80) {
      out.append(static_cast<UChar32>(byte));
      base = static_cast<char32_t>(byte);
      base_marked = false;
      continue;
    }
    const VniByte& entry = table[byte];
    if (entry.kind == VniByte::Kind::letter) {
      out.append(static_cast<UChar32>(entry.capital ? u_toupper(static_cast<UChar32>(entry.letter)) : entry.letter));
      if (entry.tone != 0) out.append(static_cast<UChar32>(entry.tone));
      base = entry.letter;
      base_marked = entry.tone != 0;
      continue;
    }
    const char32_t lower = u_tolower(static_cast<UChar32>(base));
    bool fits = entry.kind == VniByte::Kind::mark && !base_marked;
    if (fits && entry.modifier == kCircumflex) fits = lower == 'a' || lower == 'e' || lower == 'o';
    if (fits && entry.modifier == kBreve) fits = lower == 'a';
    if (fits && entry.modifier == 0) fits = is_vowel_base(lower);
    if (!fits && (byte == kVniBreve[5] || byte == kVniBreve[5] - kVniCapital)) {
      // Some converters (the reference table among them) write ỷ/Ỷ as the lone breve-dot byte.
      out.append(static_cast<UChar32>(byte == kVniBreve[5] ? U'y' : U'Y'));
      out.append(static_cast<UChar32>(0x0309));
      base = U'y';
      base_marked = true;
      continue;
    }
    if (!fits) {
      throw InputError(fmt::format("VNI text: byte {} at offset {} is not defined{}", static_cast<unsigned>(byte), i,
                                   entry.kind == VniByte::Kind::mark ? " after the letter before it" : ""));
    }
    if (entry.modifier != 0) out.append(static_cast<UChar32>(entry.modifier));
    if (entry.tone != 0) out.append(static_cast<UChar32>(entry.tone));
    base_marked = true;
  }
  return to_nfc(to_utf8(out));
}

std::string encode_vni(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString text = normalizer(false).normalize(from_utf8_checked(utf8), status);
  if (U_FAILURE(status)) throw InputError("text cannot be normalised");
  std::string out;
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    char32_t modifier = 0;
    int tone = -1;
    while (i < text.length()) {
      const UChar32 mark = text.char32At(i);
      const auto* found = std::find(kTones.begin(), kTones.end(), static_cast<char32_t>(mark));
      if (found != kTones.end()) {
        tone = static_cast<int>(found - kTones.begin());
      } else if (mark == kCircumflex || mark == kBreve || mark == kHorn) {
        modifier = static_cast<char32_t>(mark);
      } else {
        break;
      }
      i += U16_LENGTH(mark);
    }
    const bool capital = u_isupper(c) != 0;
    const auto lower = static_cast<char32_t>(u_tolower(c));
    const unsigned char shift = capital ? kVniCapital : 0;
    auto fail = [&] {
      throw InputError(fmt::format("text for VNI: U+{:04X} with its marks has no VNI form", static_cast<unsigned>(c)));
    };
    if (c < 0x80 && modifier == 0 && tone < 0) {
      out.push_back(static_cast<char>(c));
    } else if (lower == U'đ' && modifier == 0 && tone < 0) {
      out.push_back(static_cast<char>(kVniDStroke - shift));
    } else if (modifier == kHorn && (lower == 'o' || lower == 'u')) {
      out.push_back(static_cast<char>((lower == 'o' ? kVniOHorn : kVniUHorn) - shift));
      if (tone >= 0) out.push_back(static_cast<char>(kVniTone[static_cast<std::size_t>(tone)] - shift));
    } else if (lower == 'i' && modifier == 0 && tone >= 0) {
      out.push_back(static_cast<char>(kVniToneI[static_cast<std::size_t>(tone)] - shift));
    } else if (lower == 'y' && modifier == 0 && tone == 4) {
      out.push_back(static_cast<char>(kVniYDot - shift));
    } else if (c < 0x80 && modifier == kCircumflex && (lower == 'a' || lower == 'e' || lower == 'o')) {
      out.push_back(static_cast<char>(c));
      out.push_back(static_cast<char>(kVniCircumflex[static_cast<std::size_t>(tone + 1)] - shift));
    } else if (c < 0x80 && modifier == kBreve && lower == 'a') {
      out.push_back(static_cast<char>(c));
      out.push_back(static_cast<char>(kVniBreve[static_cast<std::size_t>(tone + 1)] - shift));
    } else if (c < 0x80 && modifier == 0 && tone >= 0 && is_vowel_base(lower)) {
      out.push_back(static_cast<char>(c));
      out.push_back(static_cast<char>(kVniTone[static_cast<std::size_t>(tone)] - shift));
    } else {
      fail();
    }
  }
  return out;
}

// One iconv converter per thread and direction: opening one per value is costly.
Iconv& cached_iconv(const char* to, const char* from) {
  thread_local std::map<std::pair<std::string, std::string>, std::unique_ptr<Iconv>> converters;
  auto& slot = converters[{to, from}];
  if (!slot) slot = std::make_unique<Iconv>(to, from);
  return *slot;
}

}  // namespace

std::string decode_legacy(std::string_view bytes, LegacyEncoding encoding) {
  switch (encoding) {
    case LegacyEncoding::tcvn3:
      return to_nfc(cached_iconv("UTF-8", "TCVN5712-1").convert(bytes, "TCVN3 text"));
    case LegacyEncoding::cp1258:
      return to_nfc(cached_iconv("UTF-8", "CP1258").convert(bytes, "CP1258 text"));
    case LegacyEncoding::vni:
      return decode_vni(bytes);
  }
  throw Error(ErrorCode::internal, "unknown legacy encoding");
}

std::string encode_legacy(std::string_view utf8, LegacyEncoding encoding) {
  switch (encoding) {
    case LegacyEncoding::tcvn3:
      return cached_iconv("TCVN5712-1", "UTF-8").convert(to_nfc(utf8), "text for TCVN3");
    case LegacyEncoding::cp1258:
      return cached_iconv("CP1258", "UTF-8").convert(to_nfc(utf8), "text for CP1258");
    case LegacyEncoding::vni:
      return encode_vni(utf8);
  }
  throw Error(ErrorCode::internal, "unknown legacy encoding");
}

std::string encode_tcvn3(std::string_view utf8) { return encode_legacy(utf8, LegacyEncoding::tcvn3); }

// ---- how Vietnamese a text looks -------------------------------------------------------------------------

namespace {

// A syllable is onset + nucleus + coda (toneless, small letters). Nuclei ending in a glide take no
// coda; ă, â and the diphthongs iê/uô/ươ/yê need one.
const std::set<std::u32string>& onsets() {
  static const std::set<std::u32string> set{U"",   U"b",  U"c", U"ch", U"d",  U"đ",  U"g",   U"gh", U"gi", U"h",
                                            U"k",  U"kh", U"l", U"m",  U"n",  U"ng", U"ngh", U"nh", U"p",  U"ph",
                                            U"qu", U"r",  U"s", U"t",  U"th", U"tr", U"v",   U"x"};
  return set;
}

enum class Coda { any, none, required };

struct Nucleus {
  Coda coda = Coda::any;
  unsigned tone_at = 1;  // bit i: the tone may sit on the nucleus' i-th vowel
};

// Where the tone goes: on the first vowel of a falling diphthong (kẹo, của), on the second of iê/uô/
// ươ/yê (tiếng, người), on either of oa/oe/uy (hoà and hòa are both in use).
const std::map<std::u32string, Nucleus>& nuclei() {
  static const std::map<std::u32string, Nucleus> map = [] {
    std::map<std::u32string, Nucleus> m;
    for (const auto* n : {U"a", U"e", U"ê", U"i", U"o", U"ô", U"ơ", U"u", U"ư", U"y"}) m[n] = {Coda::any, 1};
    for (const auto* n : {U"oa", U"oe", U"uy", U"oo"}) m[n] = {Coda::any, 3};
    for (const auto* n : {U"uê", U"uơ"}) m[n] = {Coda::any, 2};
    for (const auto* n : {U"ai", U"ao", U"au", U"ay", U"âu", U"ây", U"eo", U"êu", U"ia", U"iu", U"oi", U"ôi", U"ơi",
                          U"ui", U"ưi", U"ưu", U"ưa", U"ua"})
      m[n] = {Coda::none, 1};
    for (const auto* n :
         {U"iêu", U"oai", U"oao", U"oay", U"oeo", U"uây", U"uôi", U"uya", U"uyu", U"ươi", U"ươu", U"yêu"})
      m[n] = {Coda::none, 2};
    for (const auto* n : {U"ă", U"â"}) m[n] = {Coda::required, 1};
    for (const auto* n : {U"iê", U"uô", U"ươ", U"yê", U"oă", U"uâ"}) m[n] = {Coda::required, 2};
    m[U"uyê"] = {Coda::required, 4};
    return m;
  }();
  return map;
}

bool is_vowel(char32_t c) { return std::u32string_view(U"aăâeêioôơuưy").find(c) != std::u32string_view::npos; }

// The small toneless letter of a base letter and its vowel modifier; 0 when Vietnamese has none.
char32_t vietnamese_letter(char32_t base, char32_t modifier) {
  if (modifier == 0) {
    return std::u32string_view(U"abcdđeghiklmnopqrstuvxy").find(base) != std::u32string_view::npos ? base : 0;
  }
  if (modifier == kCircumflex) return base == 'a' ? U'â' : base == 'e' ? U'ê' : base == 'o' ? U'ô' : 0;
  if (modifier == kBreve) return base == 'a' ? U'ă' : 0;
  if (modifier == kHorn) return base == 'o' ? U'ơ' : base == 'u' ? U'ư' : 0;
  return 0;
}

// `tone_at`: index of the toned letter, or npos.
bool parses_as_syllable(const std::u32string& letters, std::size_t tone_at) {
  static const std::set<std::u32string> kCodas{U"c", U"ch", U"m", U"n", U"ng", U"nh", U"p", U"t"};
  for (const auto& onset : onsets()) {
    if (letters.compare(0, onset.size(), onset) != 0) continue;
    std::size_t end = onset.size();
    while (end < letters.size() && is_vowel(letters[end])) ++end;
    const auto nucleus = nuclei().find(letters.substr(onset.size(), end - onset.size()));
    if (nucleus == nuclei().end()) continue;
    const Nucleus& rule = nucleus->second;
    if (tone_at != std::u32string::npos &&
        (tone_at < onset.size() || tone_at >= end || (rule.tone_at & (1U << (tone_at - onset.size()))) == 0)) {
      continue;
    }
    const std::u32string coda = letters.substr(end);
    if (coda.empty() ? rule.coda != Coda::required : rule.coda != Coda::none && kCodas.contains(coda)) return true;
  }
  return false;
}

// `word`: NFD code points of letters and their marks.
bool is_vietnamese_syllable(const std::u32string& word) {
  std::u32string letters;
  std::size_t tone_at = std::u32string::npos;
  int tones = 0;
  int capitals = 0;
  bool first_capital = false;
  for (std::size_t i = 0; i < word.size();) {
    const char32_t c = word[i++];
    if (u_getCombiningClass(static_cast<UChar32>(c)) != 0) return false;  // a mark on nothing
    const bool capital = u_isupper(static_cast<UChar32>(c)) != 0;
    capitals += capital ? 1 : 0;
    if (letters.empty()) first_capital = capital;
    char32_t modifier = 0;
    bool toned = false;
    while (i < word.size() && u_getCombiningClass(static_cast<UChar32>(word[i])) != 0) {
      const char32_t mark = word[i++];
      if (std::find(kTones.begin(), kTones.end(), mark) != kTones.end()) {
        if (toned) return false;
        toned = true;
        ++tones;
      } else if ((mark == kCircumflex || mark == kBreve || mark == kHorn) && modifier == 0) {
        modifier = mark;
      } else {
        return false;
      }
    }
    const char32_t letter = vietnamese_letter(static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))), modifier);
    if (letter == 0 || (toned && !is_vowel(letter))) return false;
    if (toned) tone_at = letters.size();
    letters.push_back(letter);
  }
  if (tones > 1 || letters.empty()) return false;
  // Small, Capitalised or CAPITALS: a capital inside a small word is a misread byte.
  const auto count = static_cast<int>(letters.size());
  if (capitals != 0 && capitals != count && !(capitals == 1 && first_capital)) return false;
  return parses_as_syllable(letters, tone_at);
}

}  // namespace

int vietnamese_score(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString text = normalizer(false).normalize(from_utf8_checked(utf8), status);
  if (U_FAILURE(status)) throw InputError("text cannot be normalised");
  int score = 0;
  std::u32string word;
  bool non_ascii = false;
  auto finish_word = [&] {
    if (!word.empty() && non_ascii) score += is_vietnamese_syllable(word) ? 1 : -1;
    word.clear();
    non_ascii = false;
  };
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if (u_isalpha(c) != 0 || u_getCombiningClass(c) != 0 || u_charType(c) == U_NON_SPACING_MARK) {
      word.push_back(static_cast<char32_t>(c));
      non_ascii = non_ascii || c >= 0x80;
      continue;
    }
    finish_word();
    if (c >= 0x80 && u_isspace(c) == 0) --score;  // a symbol no Vietnamese text needs (¸ ¬ µ ...)
  }
  finish_word();
  return score;
}

EncodingGuess guess_encoding(const std::vector<std::string>& samples) {
  if (std::all_of(samples.begin(), samples.end(), [](const std::string& s) { return is_valid_utf8(s); })) {
    return {"utf-8", 0};
  }
  EncodingGuess best;
  bool first = true;
  for (const LegacyEncoding candidate : {LegacyEncoding::tcvn3, LegacyEncoding::vni, LegacyEncoding::cp1258}) {
    int score = 0;
    for (const auto& sample : samples) {
      try {
        score += vietnamese_score(decode_legacy(sample, candidate));
      } catch (const InputError&) {
        // Undecodable: every word with a byte above ASCII counts against the candidate.
        int words = 0;
        bool in_word = false, high = false;
        for (const char ch : sample) {
          const bool space = ch == ' ' || ch == ',' || ch == '\t';
          if (space && in_word) {
            words += high ? 1 : 0;
            in_word = high = false;
          } else if (!space) {
            in_word = true;
            high = high || static_cast<unsigned char>(ch) >= 0x80;
          }
        }
        words += in_word && high ? 1 : 0;
        score -= std::max(words, 1);
      }
    }
    if (first || score > best.score) best = {std::string(to_string(candidate)), score};
    first = false;
  }
  return best;
}

}  // namespace bandoso::layers::vntext
