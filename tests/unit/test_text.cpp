#include <gtest/gtest.h>

#include "text.h"

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
