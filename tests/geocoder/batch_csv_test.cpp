// Batch CSV geocoding (the service behind POST /search/csv) on the small province.
#include "geocoder/batch_csv.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "layers/core/error.hpp"
#include "support/small_province.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::geocoder {

class CsvBatchTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::unique_ptr<layers::Store> store = testing::make_small_province(dir / "p.sqlite");
  Geocoder geocoder{*store};
};

TEST_F(CsvBatchTest, HandsTheAnswerOverInPiecesAsRowsAreDone) {
  std::string csv = "\xEF\xBB\xBFstt,dia_chi\n";  // Excel writes a BOM
  for (int i = 1; i <= 25; ++i)
    csv += fmt::format("{},{}\n", i, i % 2 == 0 ? "Phường Trường Vinh" : "P. Hưng Bình, TP Vinh");
  CsvBatch batch(geocoder, csv, {"dia_chi"});
  EXPECT_EQ(batch.rows(), 25U);
  std::vector<std::string> pieces;
  batch.run([&pieces](std::string_view piece) { pieces.emplace_back(piece); }, 10);
  // The header with the first row, then rows 2-10, 11-20, 21-25.
  ASSERT_EQ(pieces.size(), 4U);
  EXPECT_TRUE(pieces[0].starts_with("stt,dia_chi,latitude,longitude,result_label")) << pieces[0];
  std::string whole;
  for (const auto& piece : pieces) whole += piece;
  std::size_t rows = 0, old_name = 0;
  for (std::size_t at = whole.find('\n'); at != std::string::npos && at + 1 < whole.size();
       at = whole.find('\n', at + 1)) {
    ++rows;
    if (whole.find("old-name", at) < whole.find('\n', at + 1)) ++old_name;
  }
  EXPECT_EQ(rows, 25U);
  EXPECT_EQ(old_name, 13U) << whole;
}

TEST_F(CsvBatchTest, BadFilesAreRefusedBeforeAnythingIsGeocoded) {
  EXPECT_THROW(CsvBatch(geocoder, "", {}), BadRequestError);
  EXPECT_THROW(CsvBatch(geocoder, "a,b\n1,2\n", {"c"}), BadRequestError);
  std::string too_many = "dia_chi\n";
  for (std::size_t i = 0; i <= kMaxBatchRows; ++i) too_many += "Vinh\n";
  try {
    CsvBatch batch(geocoder, too_many, {});
    FAIL() << "a file over the row limit was taken";
  } catch (const BadRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("split the file"), std::string::npos) << e.what();
  }
}

TEST_F(CsvBatchTest, AHeaderOnlyFileAnswersTheHeader) {
  CsvBatch batch(geocoder, "dia_chi\n", {});
  std::string whole;
  batch.run([&whole](std::string_view piece) { whole += piece; });
  EXPECT_TRUE(whole.starts_with("dia_chi,latitude,longitude")) << whole;
}

}  // namespace bandoso::geocoder
