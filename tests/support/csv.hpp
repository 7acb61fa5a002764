#pragma once
// Reads the reference and fixture CSVs in tests (RFC 4180 quoting, one record per line).

#include <filesystem>
#include <fstream>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bandoso::testing {

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  return cells;
}

// Rows as column name → value; at most `max_rows` of them.
inline std::vector<std::map<std::string, std::string>> read_csv(const std::filesystem::path& file,
                                                                std::size_t max_rows = SIZE_MAX) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::string line;
  std::getline(in, line);
  const auto header = split_csv_line(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (rows.size() < max_rows && std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = split_csv_line(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace bandoso::testing
