#include <gtest/gtest.h>

#include <string>

#include "aggregate/aggregate_job.h"
#include "consume/consume_job.h"
#include "base/json_writer.h"

using namespace mtastream;
using namespace mtastream::aggregate;
using namespace mtastream::consume;

static std::string escaped(std::string_view text) {
  std::string out;
  append_json_escaped(text, out);
  return out;
}

TEST(JsonEscape, QuotesBackslashesAndShortForms) {
  EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(escaped("\n\r\t"), "\\n\\r\\t");
  EXPECT_EQ(escaped("plain text, 42 / ok"), "plain text, 42 / ok");
  EXPECT_EQ(escaped(""), "");
}

TEST(JsonEscape, ControlBytesAndDelAsUnicodeEscapes) {
  EXPECT_EQ(escaped(std::string("\0\x01\x08\x0c\x1f", 5)), "\\u0000\\u0001\\u0008\\u000c\\u001f");
  EXPECT_EQ(escaped("a\x7f" "b"), "a\\u007fb");
}

TEST(JsonEscape, KeepsValidUtf8) {
  EXPECT_EQ(escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x87"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x87");
}

TEST(JsonEscape, EachByteThatIsNotUtf8BecomesTheReplacementCharacter) {
  EXPECT_EQ(escaped("\xff"), "\\ufffd");
  EXPECT_EQ(escaped("a\xc3(b"), "a\\ufffd(b");                // a lead byte without its continuation
  EXPECT_EQ(escaped("\xc0\xaf"), "\\ufffd\\ufffd");            // overlong '/'
  EXPECT_EQ(escaped("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // a surrogate
  EXPECT_EQ(escaped("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");  // past U+10FFFF
  EXPECT_EQ(escaped("\xe2\x82"), "\\ufffd\\ufffd");            // cut short at the end
  // Valid characters next to invalid bytes stay as they are, and the ASCII escapes still apply.
  EXPECT_EQ(escaped("\xc3\xa9\xff\"\x7f"), "\xc3\xa9\\ufffd\\\"\\u007f");
}

TEST(JsonWriter, ObjectsArraysAndValues) {
  JsonWriter json;
  json.begin_object().field("s", "x\"y").field("n", int64_t{-3}).field("u", uint64_t{18446744073709551615u});
  json.field("d", 1.5).field("inf", 1.0 / 0.0).field("b", false).key("nothing").null();
  json.key("list").begin_array().value(1).value("two").begin_object().end_object().end_array();
  json.field("k\"ey", true).end_object();
  EXPECT_EQ(json.str(), "{\"s\":\"x\\\"y\",\"n\":-3,\"u\":18446744073709551615,\"d\":1.500,\"inf\":null,"
                        "\"b\":false,\"nothing\":null,\"list\":[1,\"two\",{}],\"k\\\"ey\":true}");
}

TEST(JsonWriter, AppendsToTheCallersBuffer) {
  std::string out = "prefix ";
  JsonWriter json(out);
  json.begin_object().field("a", 1).end_object();
  EXPECT_EQ(out, "prefix {\"a\":1}");
  EXPECT_EQ(&json.str(), &out);
}

// The --json summaries keep their field names and order (scripts parse them); strings are escaped.
TEST(JsonWriter, ConsumeSummaryEscapesTheTopic) {
  ConsumeSummary s;
  s.counts.read = 5;
  s.seconds = 0.25;
  s.committed[0] = 7;
  s.gaps.push_back({1, 10, 20});
  EXPECT_EQ(consume_summary_json(s, "we\"ird\\topic\x7f"),
            "{\"topic\":\"we\\\"ird\\\\topic\\u007f\",\"read\":5,\"replayed\":0,\"accepted\":0,\"rejected\":0,"
            "\"bad\":0,\"late\":0,\"overflow\":0,\"duplicates\":0,\"windows\":0,\"rows\":0,\"files\":0,\"bytes\":0,"
            "\"uploaded\":0,\"commits\":0,\"segments\":0,\"merge_overflow\":0,\"merge_duplicates\":0,"
            "\"open_windows\":0,\"staged_windows\":0,\"seconds\":0.250,\"committed\":{\"0\":7},"
            "\"gaps\":[{\"partition\":1,\"expected\":10,\"resumed\":20}]}");
}

TEST(JsonWriter, AggregateSummaryFieldsInOrder) {
  AggregateSummary s{.read = 10, .accepted = 7, .bad = 1, .late = 2, .seconds = 1.2345, .interrupted = true};
  EXPECT_EQ(aggregate_summary_json(s),
            "{\"read\":10,\"accepted\":7,\"rejected\":3,\"bad\":1,\"late\":2,\"overflow\":0,\"duplicates\":0,"
            "\"windows\":0,\"rows\":0,\"files\":0,\"bytes\":0,\"interrupted\":true,\"seconds\":1.234}");
}
