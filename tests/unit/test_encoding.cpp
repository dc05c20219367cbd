#include <gtest/gtest.h>

#include <string>

#include "base/encoding.h"

using namespace mtastream;

TEST(Encoding, Sha1OfPartsIsSha1OfTheirConcatenation) {
  EXPECT_EQ(sha1({"ab", "", "c"}), sha1("abc"));
  EXPECT_NE(sha1("abc"), sha1("abd"));
}

TEST(Encoding, Base64) {
  EXPECT_EQ(base64_encode(std::string_view("")), "");
  EXPECT_EQ(base64_encode(std::string_view("hello\n")), "aGVsbG8K");
  EXPECT_EQ(base64_encode(std::string_view("ab")), "YWI=");
  EXPECT_EQ(base64_encode(std::string_view("a")), "YQ==");
  EXPECT_EQ(base64_encode(std::string("\xff\x00z", 3)), "/wB6");
  EXPECT_EQ(base64url_encode(std::string_view("\xfb\xff")), "-_8");
  EXPECT_EQ(base64url_encode(std::string_view("a")), "YQ");
}

TEST(Encoding, Utf8Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xf0\x9f\x9a\x87"));
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));        // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));    // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(Encoding, Utf8SequenceLength) {
  std::string_view text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x87\xff\xc3";
  EXPECT_EQ(utf8_sequence_length(text, 0), 0u);  // ASCII is not a multi-byte sequence
  EXPECT_EQ(utf8_sequence_length(text, 1), 2u);
  EXPECT_EQ(utf8_sequence_length(text, 2), 0u);  // a continuation byte
  EXPECT_EQ(utf8_sequence_length(text, 3), 3u);
  EXPECT_EQ(utf8_sequence_length(text, 6), 4u);
  EXPECT_EQ(utf8_sequence_length(text, 10), 0u);
  EXPECT_EQ(utf8_sequence_length(text, 11), 0u);  // cut short
  EXPECT_EQ(utf8_sequence_length("\xe0\x80\xaf", 0), 0u);  // overlong
  EXPECT_EQ(utf8_sequence_length("\xed\xbf\xbf", 0), 0u);  // surrogate
  EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF
}
