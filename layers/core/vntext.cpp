#include "layers/core/vntext.hpp"

#include <iconv.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cerrno>
#include <fmt/format.h>
#include <memory>

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

LegacyEncoding parse_legacy_encoding(std::string_view name) {
  if (name == "tcvn3") return LegacyEncoding::tcvn3;
  if (name == "vni") return LegacyEncoding::vni;
  if (name == "cp1258") return LegacyEncoding::cp1258;
  throw BadRequestError(fmt::format("unknown encoding '{}' (expected tcvn3, vni or cp1258)", name));
}

std::string decode_legacy(std::string_view bytes, LegacyEncoding encoding) {
  switch (encoding) {
    case LegacyEncoding::tcvn3: {
      Iconv converter("UTF-8", "TCVN5712-1");
      return to_nfc(converter.convert(bytes, "TCVN3 text"));
    }
    case LegacyEncoding::cp1258: {
      Iconv converter("UTF-8", "CP1258");
      return to_nfc(converter.convert(bytes, "CP1258 text"));
    }
    case LegacyEncoding::vni:
      break;
  }
  // VNI-Windows has no iconv or ICU converter; its table arrives with the import pipeline (issue 3).
  throw InputError("VNI decoding is not supported yet");
}

std::string encode_tcvn3(std::string_view utf8) {
  Iconv converter("TCVN5712-1", "UTF-8");
  return converter.convert(to_nfc(utf8), "text for TCVN3");
}

}  // namespace bandoso::layers::vntext
