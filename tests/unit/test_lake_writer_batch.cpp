#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "consume/consume_job.h"
#include "base/error.h"
#include "base/durable_file.h"
#include "lake/lake_writer.h"

namespace mtastream {
using namespace mtastream::engine;
using namespace mtastream::lake;
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

// A fresh directory with "one/": windows a and b written one by one with write(), to compare with.
std::filesystem::path written_one_by_one(const std::string& tag, const ClosedWindow& a, const ClosedWindow& b) {
  auto base = std::filesystem::temp_directory_path() / (tag + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  LakeWriter one((base / "one").string(), LakeLayout::original);
  one.write(a, "a.csv.gz");
  one.write(b, "b.csv.gz");
  return base;
}

TEST(LakeWriterBatch, WriteManyGivesTheSameFilesAsWrite) {
  ClosedWindow a = window(1695427200, 5), b = window(1695427500, 9);
  auto base = written_one_by_one("lake-batch-", a, b);
  LakeWriter many((base / "many").string(), LakeLayout::original);
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

TEST(LakeWriterBatch, AddThenFlushWritesNothingUntilFlushThenTheSameFiles) {
  ClosedWindow a = window(1695427200, 5), b = window(1695427500, 9);
  auto base = written_one_by_one("lake-add-", a, b);
  LakeWriter batch((base / "batch").string(), LakeLayout::original);
  batch.add(a, "a.csv.gz");
  batch.add(b, "b.csv.gz");
  EXPECT_EQ(batch.pending_files(), 2u);
  EXPECT_EQ(batch.pending_bytes(), read_file(base / "one" / "a.csv.gz").size() + read_file(base / "one" / "b.csv.gz").size());
  EXPECT_TRUE(std::filesystem::is_empty(base / "batch"));  // nothing before flush()
  auto written = batch.flush();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].path, (base / "batch" / "a.csv.gz").string());
  EXPECT_EQ(written[1].rows, 1u);
  EXPECT_EQ(batch.pending_files(), 0u);
  EXPECT_EQ(batch.pending_bytes(), 0u);
  for (const char* name : {"a.csv.gz", "b.csv.gz"})
    EXPECT_EQ(read_file(base / "one" / name), read_file(base / "batch" / name)) << name;
  EXPECT_TRUE(batch.flush().empty());
  EXPECT_THROW(batch.add(a, "../x.csv.gz"), Error);
  EXPECT_EQ(batch.pending_files(), 0u);
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
