#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "base/civil_time.h"

using namespace mtastream;

namespace {

// DATE MM/DD/YYYY|DATE MM-DD-YY|TIME|TIMESTAMP.
std::string all_forms(int64_t seconds) {
  std::string out;
  for (auto append : {civil::append_mta_date, civil::append_short_date, civil::append_mta_time, civil::append_timestamp})
    append(seconds, out.empty() ? out : out += '|');
  return out;
}

}  // namespace

TEST(CivilTime, RangeEdges) {
  EXPECT_EQ(civil::to_seconds(1970, 1, 1, 0, 0, 0), 0);
  EXPECT_EQ(all_forms(0), "01/01/1970|01-01-70|00:00:00|1970-01-01 00:00:00");
  EXPECT_EQ(civil::to_seconds(9999, 12, 31, 23, 59, 59), civil::last_four_digit_year_second);
  EXPECT_EQ(all_forms(civil::last_four_digit_year_second), "12/31/9999|12-31-99|23:59:59|9999-12-31 23:59:59");
  EXPECT_EQ(all_forms(civil::last_four_digit_year_second + 1), "01/01/10000|01-01-00|00:00:00|10000-01-01 00:00:00");
  EXPECT_EQ(civil::to_seconds(0, 1, 1, 0, 0, 0), -62167219200);
  EXPECT_EQ(all_forms(-62167219200), "01/01/0000|01-01-00|00:00:00|0000-01-01 00:00:00");
  EXPECT_EQ(civil::to_seconds(2023, 5, 27, 4, 0, 0), 1685160000);
}

TEST(CivilTime, BeforeTheEpoch) {
  EXPECT_EQ(civil::to_seconds(1969, 12, 31, 23, 59, 59), -1);
  EXPECT_EQ(all_forms(-1), "12/31/1969|12-31-69|23:59:59|1969-12-31 23:59:59");
  EXPECT_EQ(all_forms(-86400), "12/31/1969|12-31-69|00:00:00|1969-12-31 00:00:00");
  EXPECT_EQ(all_forms(-86401), "12/30/1969|12-30-69|23:59:59|1969-12-30 23:59:59");
  civil::DateTime t = civil::from_seconds(-1);
  EXPECT_EQ(t.year, 1969);
  EXPECT_EQ(t.second, 59u);
}

TEST(CivilTime, LeapDays) {
  EXPECT_TRUE(civil::is_date(2024, 2, 29));
  EXPECT_TRUE(civil::is_date(2000, 2, 29));  // divisible by 400
  EXPECT_FALSE(civil::is_date(1900, 2, 29));  // by 100, not 400
  EXPECT_FALSE(civil::is_date(2023, 2, 29));
  EXPECT_TRUE(civil::is_date(0, 2, 29));
  EXPECT_FALSE(civil::is_date(2023, 4, 31));
  EXPECT_FALSE(civil::is_date(2023, 13, 1));
  EXPECT_FALSE(civil::is_date(2023, 0, 1));
  EXPECT_FALSE(civil::is_date(2023, 1, 0));
  EXPECT_EQ(civil::to_seconds(2024, 2, 29, 23, 59, 59), 1709251199);
  EXPECT_EQ(all_forms(1709251199), "02/29/2024|02-29-24|23:59:59|2024-02-29 23:59:59");
  EXPECT_EQ(all_forms(1709251200), "03/01/2024|03-01-24|00:00:00|2024-03-01 00:00:00");
}

// Every day from 1900 to 2100 and the last days of year 9999 agree with the C library's timegm/gmtime.
TEST(CivilTime, AgreesWithTheCLibrary) {
  auto check = [](int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    civil::DateTime c = civil::from_seconds(seconds);
    ASSERT_EQ(c.year, tm.tm_year + 1900) << seconds;
    ASSERT_EQ(c.month, static_cast<unsigned>(tm.tm_mon + 1)) << seconds;
    ASSERT_EQ(c.day, static_cast<unsigned>(tm.tm_mday)) << seconds;
    ASSERT_EQ(c.hour * 3600 + c.minute * 60 + c.second,
              static_cast<unsigned>(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec))
        << seconds;
    ASSERT_EQ(civil::to_seconds(c.year, c.month, c.day, c.hour, c.minute, c.second), seconds);
  };
  for (int64_t s = civil::to_seconds(1900, 1, 1, 0, 0, 0); s < civil::to_seconds(2100, 1, 1, 0, 0, 0); s += 86400 + 3671)
    check(s);
  for (int64_t s = civil::last_four_digit_year_second - 40 * 86400; s <= civil::last_four_digit_year_second; s += 7919)
    check(s);
}
