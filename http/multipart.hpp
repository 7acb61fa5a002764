#pragma once
// multipart/form-data request bodies (RFC 7578), as `curl -F data=@file.csv -F columns=street` sends them
// (the Addok convention for POST /search/csv). Parsing is GMime's: boundaries, headers, transfer encodings.

#include <string>
#include <string_view>
#include <vector>

namespace bandoso::http {

struct FormField {
  std::string name;
  std::string filename;  // empty unless the field is a file upload
  std::string data;      // the content, decoded
};

// True when `content_type` (the request's header) names multipart/form-data.
bool is_form_data(std::string_view content_type);

// The fields of a multipart/form-data body, in order; several may share a name. Throws BadRequestError
// when the header has no boundary or the body holds no well-formed part.
std::vector<FormField> parse_form_data(std::string_view content_type, std::string_view body);

}  // namespace bandoso::http
