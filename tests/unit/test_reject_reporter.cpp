#include <gtest/gtest.h>

#include <string>

#include "lake/dead_letter.h"
#include "lake/reject_reporter.h"

using namespace mtastream;
using namespace mtastream::lake;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(RejectReporter, NamesTheFirstTenThenCounts) {
  std::string path = std::string(::testing::TempDir()) + "/reject_reporter_test.ndjson";
  std::remove(path.c_str());
  DeadLetterWriter dead_letter(path);
  RejectReporter reject(dead_letter);
  ::testing::internal::CaptureStderr();
  for (int i = 1; i <= 25; ++i) reject(file_source("in.csv", i), "bad " + std::to_string(i), "x");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(reject.count(), 25u);
  EXPECT_EQ(dead_letter.count(), 25u);  // every one is kept, named or not
  EXPECT_NE(err.find("in.csv:1: bad 1\n"), std::string::npos) << err;
  EXPECT_NE(err.find("in.csv:10: bad 10\n"), std::string::npos) << err;
  EXPECT_EQ(err.find("in.csv:11:"), std::string::npos) << err;
  EXPECT_EQ(count_of(err, "further rejected input is only counted"), 1u) << err;
  EXPECT_NE(err.find("(all of it is in '" + path + "')"), std::string::npos) << err;
}

TEST(RejectReporter, TenRejectsSayNothingMore) {
  DeadLetterWriter counted_only("");
  RejectReporter reject(counted_only);
  ::testing::internal::CaptureStderr();
  for (int i = 1; i <= 10; ++i) reject(kafka_source("t", 0, i), "late", "x");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(err, "t/0@"), 10u) << err;
  EXPECT_EQ(err.find("further"), std::string::npos) << err;
  ::testing::internal::CaptureStderr();
  reject(kafka_source("t", 0, 11), "late", "x");
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("(keep it with --dead-letter FILE)"), std::string::npos) << err;
}
