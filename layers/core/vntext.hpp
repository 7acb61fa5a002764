#pragma once
// Vietnamese text: normalisation (ICU), search folding and legacy 8-bit encodings (iconv).

#include <string>
#include <string_view>

namespace bandoso::layers::vntext {

bool is_valid_utf8(std::string_view bytes);

// NFC form of valid UTF-8; throws InputError on invalid UTF-8.
std::string to_nfc(std::string_view utf8);

// The search key of a name: NFC, tone marks and other diacritics removed, đ→d (it has no Unicode
// decomposition), lower case, y→i (Kỳ/Kì, Sỹ/Sĩ), runs of spaces and punctuation folded to one space.
// Old and new tone placement (hoà/hòa, thuỷ/thủy) fold to the same key.
std::string fold(std::string_view utf8);

enum class LegacyEncoding { tcvn3, vni, cp1258 };

LegacyEncoding parse_legacy_encoding(std::string_view name);  // "tcvn3" | "vni" | "cp1258"

// Decodes legacy bytes to NFC UTF-8. Throws InputError on bytes the encoding does not define.
std::string decode_legacy(std::string_view bytes, LegacyEncoding encoding);

// Encodes NFC UTF-8 as TCVN3 (TCVN 5712 VN3 bytes); throws InputError on letters VN3 cannot hold.
std::string encode_tcvn3(std::string_view utf8);

}  // namespace bandoso::layers::vntext
