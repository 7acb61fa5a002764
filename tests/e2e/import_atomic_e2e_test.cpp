// An import is one transaction: a `bandoso import` killed halfway leaves the previous data as it was,
// and a running `bandoso serve` answers from the old data until the commit, then from the new one
// without a restart.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bandoso::testing {

namespace {

using namespace std::chrono_literals;

const char* const kCommunes = R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"16681","name":"Thành Vinh","type":"Phường","full_name":"Phường Thành Vinh"},
 "geometry":{"type":"Polygon","coordinates":[[[105.64,18.65],[105.68,18.65],[105.68,18.69],[105.64,18.69],[105.64,18.65]]]}},
{"type":"Feature","properties":{"code":"16690","name":"Trường Vinh","type":"Phường","full_name":"Phường Trường Vinh"},
 "geometry":{"type":"Polygon","coordinates":[[[105.68,18.65],[105.72,18.65],[105.72,18.69],[105.68,18.69],[105.68,18.65]]]}}]})";

// A department's layer, defined in the test's own --layers-dir.
const char* const kShops = R"(
name: shops
title: Cửa hàng
geometry: point
key: [id]
attributes:
  - {name: id, type: text, required: true}
  - {name: name, type: text}
  - {name: kind, type: text}
style: {fill: "#1f6feb", point_size: 6}
)";

// `rows` shops on a grid over Vinh, ids prefixed so that two files differ in every feature.
void write_shops_csv(const std::filesystem::path& file, int rows, const std::string& prefix) {
  std::ofstream out(file);
  out << "id,name,kind,lon,lat\n";
  for (int i = 0; i < rows; ++i) {
    out << prefix << i << ",Cửa hàng số " << i << ",tạp hóa," << 105.62 + (i % 500) * 0.0002 << ','
        << 18.64 + (i / 500) * 0.0002 << '\n';
  }
}

// A command in the background, its output in files (a pipe nobody reads could block it).
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + log.string());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      exec_or_exit(argv);
    }
    close(fd);
  }
  ~BackgroundProcess() {
    if (pid_ > 0) kill_now();
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // True once the process has ended (its status is then in status()).
  bool finished() {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, &status_, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }
  // SIGKILL: no handler, no destructor, no ROLLBACK — as a power cut would leave the file.
  void kill_now() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }
  void wait() {
    if (pid_ <= 0) return;
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }
  [[nodiscard]] int status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

std::uintmax_t file_size(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  return ec ? 0 : size;
}

// The committed data version, read straight from the file on a connection of its own.
std::int64_t committed_data_version(const std::string& db) {
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    throw std::runtime_error("cannot open " + db);
  }
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t version = -1;
  if (sqlite3_prepare_v2(handle, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'", -1, &stmt,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return version;
}

std::int64_t change_log_rows_after(const std::string& db, std::int64_t data_version) {
  sqlite3* handle = nullptr;
  sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t rows = -1;
  if (sqlite3_prepare_v2(handle, "SELECT COUNT(*) FROM change_log WHERE data_version > ?", -1, &stmt, nullptr) ==
      SQLITE_OK) {
    sqlite3_bind_int64(stmt, 1, data_version);
    if (sqlite3_step(stmt) == SQLITE_ROW) rows = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return rows;
}

// Waits until the -wal file holds more than `bytes` of uncommitted pages: the import is writing rows.
// False when the process ended first or nothing grew within the time limit.
bool wait_for_wal_growth(BackgroundProcess& import, const std::string& db, std::uintmax_t bytes) {
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (file_size(db + "-wal") > bytes) return true;
    if (import.finished()) return false;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

nlohmann::json health(std::uint16_t port) {
  const HttpResponse r = http_get(port, "/health");
  if (r.status != 200) throw std::runtime_error("/health answered " + std::to_string(r.status) + ": " + r.body);
  return nlohmann::json::parse(r.body);
}

class ImportAtomicE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir / "layers");
    std::ofstream(dir / "layers/shops.yaml") << kShops;
    std::ofstream(dir / "communes.geojson") << kCommunes;
    // The built-in communes stay importable next to the department's layer.
    std::filesystem::copy_file(std::filesystem::path(BANDOSO_SOURCE_DIR) / "layers/communes.yaml",
                               dir / "layers/communes.yaml");
    const auto communes = import("communes", dir / "communes.geojson");
    ASSERT_EQ(communes.exit_code, 0) << communes.err;
    write_shops_csv(dir / "shops_1000.csv", 1000, "A");
    const auto first = import("shops", dir / "shops_1000.csv");
    ASSERT_EQ(first.exit_code, 0) << first.err;
    ASSERT_EQ(committed_data_version(db), 2);
  }

  [[nodiscard]] std::vector<std::string> import_argv(const std::string& layer,
                                                     const std::filesystem::path& source) const {
    return {BANDOSO_BINARY, "import", "--db",         db,          "--layers-dir", (dir / "layers").string(),
            "--layer",      layer,    "--source-crs", "EPSG:4326", source.string()};
  }
  CommandResult import(const std::string& layer, const std::filesystem::path& source) const {
    return run_command(import_argv(layer, source));
  }

  TempDir dir;
  std::string db = (dir / "shops.sqlite").string();
};

}  // namespace

TEST_F(ImportAtomicE2E, ImportKilledHalfwayLeavesThePreviousDataIntact) {
  write_shops_csv(dir / "shops_200k.csv", 200000, "B");
  {
    BackgroundProcess killed(import_argv("shops", dir / "shops_200k.csv"), dir / "killed.log");
    ASSERT_TRUE(wait_for_wal_growth(killed, db, 4U << 20U))
        << "the import ended (status " << killed.status() << ") before writing 4 MB: make the file larger";
    killed.kill_now();
    ASSERT_TRUE(WIFSIGNALED(killed.status()) && WTERMSIG(killed.status()) == SIGKILL);
  }
  EXPECT_GT(file_size(db + "-wal"), 4U << 20U) << "the uncommitted pages are still in the WAL";

  EXPECT_EQ(committed_data_version(db), 2);
  EXPECT_EQ(change_log_rows_after(db, 2), 0);
  {
    ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
    const auto body = health(server.port());
    EXPECT_EQ(body["data_version"], 2);
    EXPECT_EQ(body["layers"]["shops"], 1000);
    EXPECT_EQ(body["layers"]["communes"], 2);
    EXPECT_EQ(http_get(server.port(), "/tiles/shops/15/26001/14654.png").status, 200);
    EXPECT_EQ(server.stop(), 0);
  }
  const auto geocoded = run_command({BANDOSO_BINARY, "geocode", "--db", db, "Phường Thành Vinh"});
  EXPECT_EQ(geocoded.exit_code, 0) << geocoded.err;
  EXPECT_NE(geocoded.out.find("16681"), std::string::npos) << geocoded.out;

  // The next import goes through, on top of what the killed one left behind.
  write_shops_csv(dir / "shops_1500.csv", 1500, "C");
  const auto next = import("shops", dir / "shops_1500.csv");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(committed_data_version(db), 3);
  EXPECT_GT(change_log_rows_after(db, 2), 0) << "the committed import logged its changes";
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  const auto body = health(server.port());
  EXPECT_EQ(body["data_version"], 3);
  EXPECT_EQ(body["layers"]["shops"], 1500);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ImportAtomicE2E, RunningServerSeesTheOldDataUntilTheCommitThenTheNewWithoutRestart) {
  write_shops_csv(dir / "shops_100k.csv", 100000, "D");
  ServerProcess server({BANDOSO_BINARY, "serve", "--db", db, "--port", "0"});
  const auto before = health(server.port());
  ASSERT_EQ(before["data_version"], 2);
  ASSERT_EQ(before["layers"]["shops"], 1000);
  HttpResponse old_tile = http_get(server.port(), "/tiles/shops/15/26001/14654.png");
  ASSERT_EQ(old_tile.status, 200);

  const std::uintmax_t wal_at_start = file_size(db + "-wal");
  BackgroundProcess importer(import_argv("shops", dir / "shops_100k.csv"), dir / "import.log");
  ASSERT_TRUE(wait_for_wal_growth(importer, db, wal_at_start + (4U << 20U)))
      << "the import ended (status " << importer.status() << ") before writing 4 MB: make the file larger";

  // Until the import exits, poll the server. An answer counts as "before the commit" when the file
  // still has the old version *after* the answer came: the commit cannot have happened during it.
  int answers_before_commit = 0;
  while (!importer.finished()) {
    const auto body = health(server.port());
    const std::int64_t committed_after = committed_data_version(db);
    if (committed_after == 2) {
      EXPECT_EQ(body["data_version"], 2);
      EXPECT_EQ(body["layers"]["shops"], 1000);
      const HttpResponse search = http_get(server.port(), "/search?q=Ph%C6%B0%E1%BB%9Dng%20Th%C3%A0nh%20Vinh");
      EXPECT_EQ(search.status, 200);
      ++answers_before_commit;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(WIFEXITED(importer.status()) && WEXITSTATUS(importer.status()) == 0)
      << "import status " << importer.status();
  EXPECT_GT(answers_before_commit, 0) << "the server answered while the import was writing";

  // Committed: the same server process, no restart, sees the new version everywhere.
  const auto after = health(server.port());
  EXPECT_EQ(after["data_version"], 3);
  EXPECT_EQ(after["layers"]["shops"], 100000);
  EXPECT_EQ(after["layers"]["communes"], 2);
  HttpResponse new_tile = http_get(server.port(), "/tiles/shops/15/26001/14654.png");
  ASSERT_EQ(new_tile.status, 200);
  EXPECT_NE(new_tile.headers["etag"], old_tile.headers["etag"]) << "tiles are keyed on the new data version";
  const HttpResponse search = http_get(server.port(), "/search?q=Ph%C6%B0%E1%BB%9Dng%20Th%C3%A0nh%20Vinh");
  ASSERT_EQ(search.status, 200);
  EXPECT_EQ(nlohmann::json::parse(search.body).at(0).at("place_id"), "communes:16681");
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace bandoso::testing
