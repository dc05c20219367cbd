#include <gtest/gtest.h>

#include "base/text.h"

using namespace mtastream;

TEST(Text, EditDistanceCountsASwapAsOne) {
  EXPECT_EQ(edit_distance("prodcue", "produce"), 1u);
  EXPECT_EQ(edit_distance("lsit", "list"), 1u);
  EXPECT_EQ(edit_distance("--widnow", "--window"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
}

TEST(Text, ClosestMatchOnlyForLikelyTypos) {
  std::vector<std::string> commands{"produce", "consume", "aggregate", "replay", "topic", "upload"};
  EXPECT_EQ(closest_match("prodcue", commands), "produce");
  EXPECT_EQ(closest_match("consme", commands), "consume");
  EXPECT_EQ(closest_match("agg", commands), "aggregate");  // a unique prefix
  EXPECT_EQ(closest_match("frobnicate", commands), "");
  EXPECT_EQ(closest_match("xy", commands), "");
  EXPECT_EQ(closest_match("--widnow", {"--window", "--slide", "--watermark"}), "--window");
}

TEST(Text, RedactsUrlPasswords) {
  EXPECT_EQ(redact_url_passwords("postgresql://u:hunter2@db:5432/w"), "postgresql://u:***@db:5432/w");
  EXPECT_EQ(redact_url_passwords("postgresql://u@db/w"), "postgresql://u@db/w");
  EXPECT_EQ(redact_url_passwords("postgresql://db/w?table=t"), "postgresql://db/w?table=t");
  // A password holding '@' (libpq splits at the last '@' before the host).
  EXPECT_EQ(redact_url_passwords("postgresql://u:p@ss@db/w"), "postgresql://u:***@db/w");
  EXPECT_EQ(redact_url_passwords("a s3://k:s@b/x and postgres://u:v@h/d"), "a s3://k:***@b/x and postgres://u:***@h/d");
  EXPECT_EQ(redact_url_passwords("no url here: a:b@c"), "no url here: a:b@c");
}
