#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "consume_job.h"
#include "error.h"
#include "lake_writer.h"

namespace mtastream {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ClosedWindow window(int64_t start, int64_t entries) {
  ClosedWindow w;
  w.start = start;
  w.end = start + 300;
  w.rows.push_back({"A001", "R001", "02-00-00", "Station", "456NQR", "BMT", "REGULAR", entries, 7});
  return w;
}

TEST(LakeWriterBatch, WriteManyGivesTheSameFilesAsWrite) {
  auto base = std::filesystem::temp_directory_path() / ("lake-batch-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  LakeWriter one((base / "one").string(), LakeLayout::original);
  LakeWriter many((base / "many").string(), LakeLayout::original);
  ClosedWindow a = window(1695427200, 5), b = window(1695427500, 9);
  one.write(a, "a.csv.gz");
  one.write(b, "b.csv.gz");
  auto written = many.write_many({&a, &b}, {"a.csv.gz", "b.csv.gz"});
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[1].rows, 1u);
  for (const char* name : {"a.csv.gz", "b.csv.gz"})
    EXPECT_EQ(read_file(base / "one" / name), read_file(base / "many" / name)) << name;
  size_t entries = 0;
  for (auto it = std::filesystem::directory_iterator(base / "many"); it != std::filesystem::directory_iterator(); ++it) ++entries;
  EXPECT_EQ(entries, 2u);  // no temporary file left
  EXPECT_THROW(many.write_many({&a}, {".hidden"}), Error);
  std::filesystem::remove_all(base);
}

TEST(LakeWriterBatch, StaleTemporaryFilesOfDeadWritersAreRemoved) {
  auto dir = std::filesystem::temp_directory_path() / ("lake-stale-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // PID 2^22 + 1 is above Linux's pid_max limit: never a running process.
  std::ofstream(dir / ".x.csv.gz.tmp.4194305") << "partial";
  std::ofstream(dir / (".y.csv.gz.tmp." + std::to_string(::getpid()))) << "ours";
  std::ofstream(dir / "z.csv.gz") << "kept";
  EXPECT_EQ(remove_stale_temp_files(dir.string()), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir / ".x.csv.gz.tmp.4194305"));
  EXPECT_TRUE(std::filesystem::exists(dir / (".y.csv.gz.tmp." + std::to_string(::getpid()))));
  EXPECT_TRUE(std::filesystem::exists(dir / "z.csv.gz"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mtastream
