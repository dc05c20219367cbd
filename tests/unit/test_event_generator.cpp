// The built-in generators: the original's message shape, the city's turnstiles, determinism by seed.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "source/event_generator.h"
#include "event/message_parser.h"

using namespace mtastream;
using namespace mtastream::event;
using namespace mtastream::source;

namespace {
std::string csv_of(const TurnstileEvent& event) {
  std::string out;
  append_event(event, WireForm::csv, out);
  return out;
}
}  // namespace

TEST(EventGenerator, Uuid4HasVersionAndVariant) {
  std::mt19937_64 random(42);
  std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(std::regex_match(random_uuid4(random), uuid4));
}

TEST(EventGenerator, OriginalHasTheOriginalsShapeAndParses) {
  OriginalGenerator generator(7);
  MessageParser parser;
  std::set<std::string> cas, stations;
  int64_t when = 1695488040;  // 2023-09-23 16:54:00
  for (int i = 0; i < 500; ++i) {
    TurnstileEvent event;
    generator.next(when, event);
    std::string line = csv_of(event);
    TurnstileEvent parsed;
    ASSERT_TRUE(parser.parse(line, parsed)) << line << ": " << parser.error();
    EXPECT_EQ(event.scp, "02-00-00");
    EXPECT_EQ(event.linename, "456NQR");
    EXPECT_EQ(event.division, "BMT");
    EXPECT_EQ(event.desc, "REGULAR");
    EXPECT_EQ(event.date, "09-23-23");
    EXPECT_EQ(event.time, "16:54:00");
    EXPECT_GE(event.entries, 5u);
    EXPECT_LE(event.entries, 10u);
    EXPECT_GE(event.exits, 5u);
    EXPECT_LE(event.exits, 10u);
    EXPECT_EQ(parsed.timestamp, when);
    cas.insert(std::string(event.ca));
    stations.insert(std::string(event.station));
  }
  EXPECT_EQ(cas, (std::set<std::string>{"A001", "A002"}));
  EXPECT_EQ(stations, (std::set<std::string>{"Test-Station1", "Test-Station2"}));
}

TEST(EventGenerator, SameSeedSameEvents) {
  OriginalGenerator a(3), b(3), c(4);
  TurnstileEvent ea, eb, ec;
  a.next(0, ea);
  std::string first_a = csv_of(ea);
  b.next(0, eb);
  c.next(0, ec);
  EXPECT_EQ(first_a, csv_of(eb));
  EXPECT_NE(first_a, csv_of(ec));
}

TEST(EventGenerator, CityHasTheAskedTurnstilesAndRushHours) {
  CityGenerator city(1, 3000);
  ASSERT_EQ(city.turnstile_count(), 3000u);
  MessageParser parser;
  std::set<std::string> keys;
  uint64_t rush = 0, night = 0;
  for (int i = 0; i < 3000; ++i) {
    TurnstileEvent event;
    city.next(1695427200 + 8 * 3600, 3600, event);  // 08:00, one hour of counts
    std::string line = csv_of(event);
    TurnstileEvent parsed;
    ASSERT_TRUE(parser.parse(line, parsed)) << line << ": " << parser.error();
    keys.insert(turnstile_key(event));
    rush += event.entries;
  }
  for (int i = 0; i < 3000; ++i) {
    TurnstileEvent event;
    city.next(1695427200 + 3 * 3600, 3600, event);  // 03:00
    night += event.entries;
  }
  EXPECT_EQ(keys.size(), 3000u) << "every turnstile is distinct";
  EXPECT_GT(rush, night * 10) << "the morning rush is far busier than the night";
}
