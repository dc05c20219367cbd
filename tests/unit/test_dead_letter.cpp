#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lake/dead_letter.h"
#include "base/error.h"

using namespace mtastream;
using namespace mtastream::lake;

TEST(DeadLetter, LineFormat) {
  EXPECT_EQ(dead_letter_line("in.csv:3", "ENTRIES 'x' is not a non-negative integer", "A,\"b\"\t\x01"),
            "{\"source\":\"in.csv:3\",\"reason\":\"ENTRIES 'x' is not a non-negative integer\","
            "\"message\":\"A,\\\"b\\\"\\t\\u0001\"}\n");
  EXPECT_EQ(dead_letter_line("t/0@5", "bad", std::string("\xff\x00z", 3)),
            std::string("{\"source\":\"t/0@5\",\"reason\":\"bad\",\"message_base64\":\"/wB6\"}\n"));
  EXPECT_EQ(dead_letter_line("s", "r", "caf\xc3\xa9"), "{\"source\":\"s\",\"reason\":\"r\",\"message\":\"caf\xc3\xa9\"}\n");
  // A file name that is not UTF-8 keeps the rest of its text; DEL is escaped like the control bytes.
  EXPECT_EQ(dead_letter_line("in\xff.csv:1", "r", "a\x7f"),
            "{\"source\":\"in\\ufffd.csv:1\",\"reason\":\"r\",\"message\":\"a\\u007f\"}\n");
  EXPECT_EQ(file_source("stdin", 7), "stdin:7");
  EXPECT_EQ(kafka_source("mta-turnstile", 2, 1234), "mta-turnstile/2@1234");
}

TEST(DeadLetter, AppendsAndCounts) {
  std::string path = std::string(::testing::TempDir()) + "/dead_letter_test.ndjson";
  std::remove(path.c_str());
  {
    DeadLetterWriter writer(path);
    writer.add("a:1", "r1", "m1");
    writer.close();
  }
  {
    DeadLetterWriter writer(path);
    writer.add("a:2", "r2", "m2");
    EXPECT_EQ(writer.count(), 1u);
  }
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(),
            "{\"source\":\"a:1\",\"reason\":\"r1\",\"message\":\"m1\"}\n"
            "{\"source\":\"a:2\",\"reason\":\"r2\",\"message\":\"m2\"}\n");
  DeadLetterWriter none("");
  none.add("x", "y", "z");
  EXPECT_EQ(none.count(), 1u);
  EXPECT_FALSE(none.enabled());
  EXPECT_THROW(DeadLetterWriter("/nonexistent-dir/x"), Error);
}
