#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include "layers/core/error.hpp"

namespace bandoso::http {

TEST(MultipartTest, RecognisesTheFormDataType) {
  EXPECT_TRUE(is_form_data("multipart/form-data; boundary=x"));
  EXPECT_TRUE(is_form_data("Multipart/Form-Data;boundary=\"x y\""));
  EXPECT_FALSE(is_form_data("text/csv"));
  EXPECT_FALSE(is_form_data("multipart/mixed; boundary=x"));
}

TEST(MultipartTest, FieldsInOrderWithFileNamesAndBytesKept) {
  const std::string file("a,b\r\n1,\"x\r\ny\"\r\n\0\xff", 17);
  const std::string body =
      "preamble\r\n--B0undary\r\n"
      "Content-Disposition: form-data; name=\"data\"; filename=\"s\xe1\xbb\x91 nh\xc3\xa0.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\n" +
      file +
      "\r\n--B0undary\r\n"
      "Content-Disposition: form-data; name=\"columns\"\r\n\r\nstreet\r\n"
      "--B0undary\r\n"
      "Content-Disposition: form-data; name=\"columns\"\r\n\r\ncommune\r\n"
      "--B0undary\r\n"
      "Content-Disposition: form-data; name=\"encoded\"\r\nContent-Transfer-Encoding: base64\r\n\r\nVmluaA==\r\n"
      "--B0undary--\r\n";
  const auto fields = parse_form_data("multipart/form-data; boundary=\"B0undary\"", body);
  ASSERT_EQ(fields.size(), 4U);
  EXPECT_EQ(fields[0].name, "data");
  EXPECT_EQ(fields[0].filename, "s\xe1\xbb\x91 nh\xc3\xa0.csv");
  EXPECT_EQ(fields[0].data, file) << "CRLFs, NUL and non-UTF-8 bytes inside a file are kept";
  EXPECT_EQ(fields[1].name, "columns");
  EXPECT_EQ(fields[1].data, "street");
  EXPECT_TRUE(fields[1].filename.empty());
  EXPECT_EQ(fields[2].data, "commune");
  EXPECT_EQ(fields[3].data, "Vinh") << "transfer encodings are decoded";
}

TEST(MultipartTest, BadFormsAreBadRequests) {
  EXPECT_THROW(parse_form_data("multipart/form-data", "--x\r\n\r\n--x--"), BadRequestError);
  EXPECT_THROW(parse_form_data("text/plain; boundary=x", "--x--"), BadRequestError);
  EXPECT_THROW(parse_form_data("multipart/form-data; boundary=x", "no parts at all"), BadRequestError);
  // A part without a name is no form field.
  EXPECT_THROW(
      parse_form_data("multipart/form-data; boundary=x", "--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n"),
      BadRequestError);
}

}  // namespace bandoso::http
