#include "http/multipart.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "layers/core/error.hpp"

namespace bandoso::http {

namespace {

struct Unref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
template <typename T>
using GPtr = std::unique_ptr<T, Unref>;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  const GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return {reinterpret_cast<const char*>(bytes->data), bytes->len};
}

}  // namespace

bool is_form_data(std::string_view content_type) { return lower(content_type).starts_with("multipart/form-data"); }

std::vector<FormField> parse_form_data(std::string_view content_type, std::string_view body) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { g_mime_init(); });
  if (!is_form_data(content_type)) throw BadRequestError("the body is not multipart/form-data");
  if (lower(content_type).find("boundary=") == std::string::npos) {
    throw BadRequestError("the multipart/form-data Content-Type has no boundary");
  }

  // GMime parses a MIME entity: the body behind its own Content-Type header.
  std::string entity = "Content-Type: ";
  entity.append(content_type).append("\r\n\r\n").append(body);
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(entity.data(), entity.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeObject> root(g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root || !GMIME_IS_MULTIPART(root.get())) throw BadRequestError("the multipart/form-data body cannot be read");

  std::vector<FormField> fields;
  GMimeMultipart* multipart = GMIME_MULTIPART(root.get());
  for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
    GMimeObject* part = g_mime_multipart_get_part(multipart, i);
    const char* name = g_mime_object_get_content_disposition_parameter(part, "name");
    if (name == nullptr || !GMIME_IS_PART(part)) continue;  // not a form field (RFC 7578 §4.2)
    const char* filename = g_mime_part_get_filename(GMIME_PART(part));
    fields.push_back({name, filename != nullptr ? filename : "", decoded_content(GMIME_PART(part))});
  }
  if (fields.empty()) throw BadRequestError("the multipart/form-data body has no named field");
  return fields;
}

}  // namespace bandoso::http
