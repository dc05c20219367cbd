#include <gtest/gtest.h>

#include <chrono>

#include "replay/replay_capture.h"
#include "replay/replay_pacer.h"

using namespace mtastream;
using namespace mtastream::replay;

TEST(ReplayCapture, ReadsKcatJsonLines) {
  CapturedMessage m;
  ASSERT_EQ(parse_capture_line(R"({"topic":"mta","partition":2,"offset":7,"tstype":"create","ts":1685160000123,)"
                               R"("broker":1,"key":"A001,R001,02-00-00","payload":"\"A001,R001\""})",
                               m),
            "");
  EXPECT_EQ(m.timestamp_ms, 1685160000123);
  EXPECT_TRUE(m.has_key);
  EXPECT_EQ(m.key, "A001,R001,02-00-00");
  EXPECT_EQ(m.value, "\"A001,R001\"");
  ASSERT_EQ(parse_capture_line(R"({"timestamp":5,"key":null,"value":"x"})", m), "");
  EXPECT_FALSE(m.has_key);
  EXPECT_EQ(m.timestamp_ms, 5);
  EXPECT_NE(parse_capture_line(R"({"ts":5,"key":"k"})", m).find("payload"), std::string::npos);
  EXPECT_NE(parse_capture_line(R"({"ts":"soon","payload":"x"})", m).find("integer"), std::string::npos);
  EXPECT_NE(parse_capture_line(R"({"ts":5,"payload":null})", m).find("tombstone"), std::string::npos);
  EXPECT_NE(parse_capture_line(R"({"ts":5,)", m).find("JSON"), std::string::npos);
}

TEST(ReplayCapture, ReadsKcatTsvLines) {
  CapturedMessage m;
  ASSERT_EQ(parse_capture_line("1685160000123\tA001,R001,02-00-00\tA001,R001,x,y", m), "");
  EXPECT_EQ(m.timestamp_ms, 1685160000123);
  EXPECT_EQ(m.key, "A001,R001,02-00-00");
  EXPECT_EQ(m.value, "A001,R001,x,y");
  ASSERT_EQ(parse_capture_line("-1\t\tvalue\twith tab", m), "");
  EXPECT_FALSE(m.has_key);
  EXPECT_EQ(m.timestamp_ms, -1);
  EXPECT_EQ(m.value, "value\twith tab");
  EXPECT_NE(parse_capture_line("A001,R001,no tabs", m), "");
  EXPECT_NE(parse_capture_line("12x\tk\tv", m).find("timestamp"), std::string::npos);
}

TEST(ReplayPacer, KeepsRelativeTimingAtTheGivenSpeed) {
  ReplayPacer pacer(20.0);  // 2 s of event time = 100 ms of wall time
  auto start = ReplayPacer::Clock::now();
  EXPECT_TRUE(pacer.wait_until_due(1'000'000));
  EXPECT_TRUE(pacer.wait_until_due(1'001'000));
  EXPECT_TRUE(pacer.wait_until_due(1'000'500));  // earlier than one already passed: due at once
  EXPECT_TRUE(pacer.wait_until_due(1'002'000));
  auto waited = ReplayPacer::Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(100));  // never early (a lower bound, not a speed limit)
  EXPECT_EQ(pacer.simulated_ms(), 1'002'000);
}

TEST(ReplayPacer, StopsWhenAsked) {
  ReplayPacer pacer(1.0);
  EXPECT_TRUE(pacer.wait_until_due(0));
  int calls = 0;
  EXPECT_FALSE(pacer.wait_until_due(3'600'000, [&] { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
}

TEST(ReplayPacer, AsFastAsPossibleNeverWaits) {
  ReplayPacer pacer(0);
  int calls = 0;
  EXPECT_TRUE(pacer.wait_until_due(0, [&] { return ++calls, false; }));
  EXPECT_TRUE(pacer.wait_until_due(86'400'000, [&] { return ++calls, false; }));
  EXPECT_EQ(calls, 0);
}
