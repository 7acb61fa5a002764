#pragma once
// Vietnamese text: normalisation (ICU), search folding, letter case and legacy 8-bit encodings
// (iconv for TCVN3 and CP1258; VNI-Windows, which neither iconv nor ICU knows, by its letter table).

#include <string>
#include <string_view>
#include <vector>

namespace bandoso::layers::vntext {

bool is_valid_utf8(std::string_view bytes);

// NFC form of valid UTF-8; throws InputError on invalid UTF-8.
std::string to_nfc(std::string_view utf8);

// The search key of a name: NFC, tone marks and other diacritics removed, đ→d (it has no Unicode
// decomposition), lower case, y→i (Kỳ/Kì, Sỹ/Sĩ), runs of spaces and punctuation folded to one space.
// Old and new tone placement (hoà/hòa, thuỷ/thủy) fold to the same key.
std::string fold(std::string_view utf8);

// Letter case by Vietnamese rules (ICU, locale "vi"); the result is NFC. Title case capitalises
// every word: "phường hưng bình" → "Phường Hưng Bình".
std::string to_upper(std::string_view utf8);
std::string to_lower(std::string_view utf8);
std::string to_title(std::string_view utf8);

enum class LegacyEncoding { tcvn3, vni, cp1258 };

LegacyEncoding parse_legacy_encoding(std::string_view name);  // "tcvn3" | "vni" | "cp1258"
std::string_view to_string(LegacyEncoding encoding);

// Decodes legacy bytes to NFC UTF-8. Throws InputError on bytes the encoding does not define (for
// VNI also a tone or vowel mark byte that follows no letter it can go on).
std::string decode_legacy(std::string_view bytes, LegacyEncoding encoding);

// Encodes UTF-8 in a legacy encoding (tests write legacy files with it); throws InputError on
// letters the encoding cannot hold.
std::string encode_legacy(std::string_view utf8, LegacyEncoding encoding);

// Encodes NFC UTF-8 as TCVN3 (TCVN 5712 VN3 bytes); throws InputError on letters VN3 cannot hold.
std::string encode_tcvn3(std::string_view utf8);

// How much UTF-8 text reads as Vietnamese: +1 for every word holding a non-ASCII letter that is a
// well-formed Vietnamese syllable (onset, vowel nucleus, coda, at most one tone mark on a vowel,
// consistent letter case), -1 for every other word or symbol outside ASCII. ASCII-only words count 0:
// every legacy decoding reads them alike, so they cannot tell encodings apart.
int vietnamese_score(std::string_view utf8);

// The encoding of text values of unknown origin: "utf-8" when every value is valid UTF-8, else the
// legacy decoding ("tcvn3", "vni" or "cp1258") whose result scores highest by vietnamese_score (a
// value a decoding cannot decode costs it its words). Ties go to TCVN3, the commonest legacy encoding.
struct EncodingGuess {
  std::string encoding;
  int score = 0;  // the winner's score; 0 for utf-8
};
EncodingGuess guess_encoding(const std::vector<std::string>& samples);

}  // namespace bandoso::layers::vntext
