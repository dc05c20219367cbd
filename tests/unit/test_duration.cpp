#include <gtest/gtest.h>

#include "base/duration.h"
#include "base/error.h"

using namespace mtastream;

TEST(Duration, Units) {
  EXPECT_EQ(parse_duration_seconds("30s", "w"), 30);
  EXPECT_EQ(parse_duration_seconds("5m", "w"), 300);
  EXPECT_EQ(parse_duration_seconds("1h", "w"), 3600);
  EXPECT_EQ(parse_duration_seconds("1h30m", "w"), 5400);
  EXPECT_EQ(parse_duration_seconds("5", "w"), 300);  // the original's minutes
  EXPECT_EQ(parse_duration_seconds("5", "--timeout", 1), 5);  // timeouts: seconds
  EXPECT_EQ(parse_duration_seconds("90", "--timeout", 1), 90);
}

TEST(Duration, Rejects) {
  for (const char* bad : {"", "0", "0s", "-5m", "5x", "m", "1h30", "99999999999999999999", "5 m"})
    EXPECT_THROW(parse_duration_seconds(bad, "--window"), UsageError) << bad;
}

TEST(Duration, Format) {
  EXPECT_EQ(format_duration(300), "5m");
  EXPECT_EQ(format_duration(7200), "2h");
  EXPECT_EQ(format_duration(45), "45s");
}

TEST(Duration, DelayMayBeZero) {
  for (const char* zero : {"0", "00", "0s", "0m", "0h", "0d", "0m0s"})
    EXPECT_EQ(parse_delay_seconds(zero, "--watermark"), 0) << zero;
  EXPECT_EQ(parse_delay_seconds("90s", "--watermark"), 90);
  EXPECT_EQ(parse_delay_seconds("2", "--watermark"), 120);
  for (const char* bad : {"", "-1", "5x", "1h30"})
    EXPECT_THROW(parse_delay_seconds(bad, "--watermark"), UsageError) << bad;
}
