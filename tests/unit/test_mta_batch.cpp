#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/civil_time.h"
#include "replay/mta_batch.h"

using namespace mtastream;
using namespace mtastream::event;
using namespace mtastream::replay;

namespace {

const char* raw_header =
    "C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS                                      ";

struct Replayed {
  std::vector<std::string> events;  // CSV lines
  std::vector<std::string> anomalies;
  std::vector<std::string> rejected;
  MtaDeltaCounts counts;
};

Replayed replay_files(const std::vector<std::pair<std::string, std::string>>& files, uint64_t max_delta = 10000) {
  Replayed r;
  MtaReadings readings;
  for (const auto& [name, text] : files)
    load_mta_text(text, name, readings, [&](const MtaRejectedRow& row) {
      r.rejected.push_back(std::string(row.source) + ":" + std::to_string(row.line) + ": " + row.reason);
    });
  MtaDeltaStream stream(readings, max_delta, [&](const MtaAnomaly& a) {
    r.anomalies.push_back(std::string(anomaly_kind_name(a.kind)) + " " + a.turnstile.ca + " " +
                          readings.sources()[a.current.source] + ":" + std::to_string(a.current.line));
  });
  TurnstileEvent event;
  while (stream.next(event)) {
    std::string line;
    append_event(event, WireForm::csv, line);
    r.events.push_back(line);
  }
  r.counts = stream.counts();
  return r;
}

}  // namespace

TEST(MtaBatch, RecognizesHeadersOfBothLayouts) {
  EXPECT_TRUE(is_mta_header(raw_header));
  EXPECT_TRUE(is_mta_header("C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\r"));
  EXPECT_TRUE(is_mta_header(",C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS      "));
  EXPECT_FALSE(is_mta_header("A002,R051,02-00-00,59 ST,NQR456W,BMT,06/10/2017,00:00:00,REGULAR,0006215258,0002104297"));
}

TEST(MtaBatch, ParsesRawAndPandasRows) {
  MtaRow row;
  ASSERT_EQ(parse_mta_row("A002,R051,02-00-00,59 ST,NQR456W,BMT,06/10/2017,04:00:00,REGULAR,0006215258,0002104297   \r",
                          row),
            "");
  EXPECT_EQ(row.ca, "A002");
  EXPECT_EQ(row.station, "59 ST");
  EXPECT_EQ(row.entries, 6215258u);
  EXPECT_EQ(row.exits, 2104297u);
  EXPECT_EQ(row.exits_text, "0002104297");
  EXPECT_EQ(row.time, civil::to_seconds(2017, 6, 10, 4, 0, 0));
  EXPECT_FALSE(row.has_index);
  ASSERT_EQ(parse_mta_row("17,TRAM2,R469,00-05-01,RIT-ROOSEVELT,R,RIT,06/02/2023,13:22:29,RECOVR AUD,0,1220", row), "");
  EXPECT_TRUE(row.has_index);
  EXPECT_EQ(row.desc, "RECOVR AUD");
  EXPECT_EQ(row.exits, 1220u);
}

TEST(MtaBatch, RejectsMalformedRowsWithReason) {
  MtaRow row;
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,NQR456W,BMT,06/10/2017,04:00:00,REGULAR,12", row).find("10 fields"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,NQR,BMT,2017-06-10,04:00:00,REGULAR,1,2", row).find("DATE"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,NQR,BMT,02/30/2017,04:00:00,REGULAR,1,2", row).find("calendar"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,NQR,BMT,06/10/2017,24:00:00,REGULAR,1,2", row).find("TIME"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,NQR,BMT,06/10/2017,04:00:00,REGULAR,-5,2", row).find("ENTRIES"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("x,A002,R051,02-00-00,59 ST,NQR,BMT,06/10/2017,04:00:00,REGULAR,1,2", row).find("index"),
            std::string::npos);
  EXPECT_NE(parse_mta_row(",R051,02-00-00,59 ST,NQR,BMT,06/10/2017,04:00:00,REGULAR,1,2", row).find("C/A is empty"),
            std::string::npos);
}

// Found by hostile_input.sh: a NUL in DESC (or invalid UTF-8, or an empty LINENAME) was replayed into
// messages that consume and aggregate then reject. Text fields follow MessageParser's rule.
TEST(MtaBatch, TextFieldsFollowTheMessageRule) {
  MtaRow row;
  using namespace std::string_literals;
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,NQR,BMT,06/10/2017,04:00:00,REG\0ULAR,1,2"s, row)
                .find("DESC 'REG\\x00ULAR' contains a control character"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 \xff,NQR,BMT,06/10/2017,04:00:00,REGULAR,1,2", row)
                .find("STATION '59 \\xff' is not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("A002,R051,02-00-00,59 ST,,BMT,06/10/2017,04:00:00,REGULAR,1,2", row).find("LINENAME"),
            std::string::npos);
  EXPECT_NE(parse_mta_row("[002,R051,02-00-00,59 ST,NQR,BMT,06/10/2017,04:00:00,REGULAR,1,2", row).find("starts with"),
            std::string::npos);
  EXPECT_EQ(parse_mta_row("A002,R051,02-00-00,59 ST,NQR,BMT,06/10/2017,04:00:00,REGULAR,1,2", row), "");
}

TEST(MtaBatch, TruncatedLastLineIsRejectedNamingFileAndLine) {
  std::string text = std::string(raw_header) + "\r\n" +
                     "G009,R151,02-00-05,CONEY IS-STILLW,DFNQ,BMT,06/11/2017,13:00:00,REGULAR,0003048794,0000245714   \r\n"
                     "G009,R151,02-00-05,CONEY IS-STILLW,DFNQ,BMT,06/11/2017,17:00:00,REGULAR,0003049181,000245744";
  Replayed r = replay_files({{"turnstile_170617.txt", text}});
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_NE(r.rejected[0].find("turnstile_170617.txt:3: EXITS '000245744' has 9 digits"), std::string::npos)
      << r.rejected[0];
  EXPECT_NE(r.rejected[0].find("no newline"), std::string::npos);
  EXPECT_TRUE(r.events.empty());

  // The same line complete but without a final newline is a good reading.
  std::string whole = text.substr(0, text.size() - 9) + "0000245744";
  r = replay_files({{"f.txt", whole}});
  EXPECT_TRUE(r.rejected.empty());
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_NE(r.events[0].find(",REGULAR,387,30,"), std::string::npos) << r.events[0];
}

TEST(MtaBatch, DeltaRuleOverOutOfOrderInterleavedTurnstilesAndConsecutiveFiles) {
  // Two turnstiles, rows shuffled and interleaved, the week split over two files (one pandas copy, LF).
  std::string week1 = std::string(raw_header) + "\r\n" +
                      "B001,R002,00-00-01,ST B,1,IRT,06/10/2017,04:00:00,REGULAR,0000000110,0000000055  \r\n"
                      "A001,R001,00-00-00,ST A,NQR,BMT,06/10/2017,04:00:00,REGULAR,0000001010,0000002005  \r\n"
                      "A001,R001,00-00-00,ST A,NQR,BMT,06/10/2017,00:00:00,REGULAR,0000001000,0000002000  \r\n"
                      "B001,R002,00-00-01,ST B,1,IRT,06/10/2017,00:00:00,REGULAR,0000000100,0000000050  \r\n";
  std::string week2 = ",C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS   \n"
                      "0,A001,R001,00-00-00,ST A,NQR,BMT,06/17/2017,08:00:00,RECOVR AUD,1030,2009\n"
                      "1,B001,R002,00-00-01,ST B,1,IRT,06/17/2017,04:00:00,REGULAR,130,60\n";
  Replayed r = replay_files({{"w2.csv", week2}, {"w1.txt", week1}});
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_TRUE(r.anomalies.empty());
  ASSERT_EQ(r.events.size(), 4u);
  // Ordered by time, then turnstile; DATE MM-DD-YY, TIME of the later reading.
  EXPECT_EQ(r.events[0].rfind("A001,R001,00-00-00,ST A,NQR,BMT,06-10-17,04:00:00,REGULAR,10,5,", 0), 0u) << r.events[0];
  EXPECT_EQ(r.events[1].rfind("B001,R002,00-00-01,ST B,1,IRT,06-10-17,04:00:00,REGULAR,10,5,", 0), 0u) << r.events[1];
  EXPECT_EQ(r.events[2].rfind("B001,R002,00-00-01,ST B,1,IRT,06-17-17,04:00:00,REGULAR,20,5,", 0), 0u) << r.events[2];
  EXPECT_EQ(r.events[3].rfind("A001,R001,00-00-00,ST A,NQR,BMT,06-17-17,08:00:00,RECOVR AUD,20,4,", 0), 0u)
      << r.events[3];
  EXPECT_NE(r.events[3].find(",2017-06-17 08:00:00"), std::string::npos);
  EXPECT_EQ(r.counts.events, 4u);

  // Deterministic: same events, same IDs, whatever the file order.
  Replayed again = replay_files({{"w1.txt", week1}, {"w2.csv", week2}});
  EXPECT_EQ(again.events, r.events);
}

TEST(MtaBatch, AnomaliesYieldNoEventAndNextDeltaStartsFromNewReading) {
  std::string text = "C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
                     "A,U,S,ST,L,D,01/01/2020,00:00:00,REGULAR,1000,1000\n"
                     "A,U,S,ST,L,D,01/01/2020,04:00:00,REGULAR,1010,1010\n"   // +10 +10
                     "A,U,S,ST,L,D,01/01/2020,04:00:00,REGULAR,1010,1010\n"   // duplicate
                     "A,U,S,ST,L,D,01/01/2020,04:00:00,RECOVR AUD,1900,1010\n"  // duplicate, other counters
                     "A,U,S,ST,L,D,01/01/2020,08:00:00,REGULAR,5,1020\n"      // reset: negative
                     "A,U,S,ST,L,D,01/01/2020,12:00:00,REGULAR,8,1030\n"      // +3 +10 from the reset
                     "A,U,S,ST,L,D,01/01/2020,16:00:00,REGULAR,20009,1040\n"  // +20001: above max
                     "A,U,S,ST,L,D,01/01/2020,20:00:00,REGULAR,20010,1039\n"  // exits back: negative
                     "A,U,S,ST,L,D,01/02/2020,00:00:00,REGULAR,20011,1039\n"; // +1 +0
  Replayed r = replay_files({{"t", text}});
  EXPECT_EQ(r.counts.duplicate_readings, 2u);
  EXPECT_EQ(r.counts.negative_deltas, 2u);
  EXPECT_EQ(r.counts.deltas_above_max, 1u);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_NE(r.events[0].find(",04:00:00,REGULAR,10,10,"), std::string::npos);
  EXPECT_NE(r.events[1].find(",12:00:00,REGULAR,3,10,"), std::string::npos);
  EXPECT_NE(r.events[2].find("01-02-20,00:00:00,REGULAR,1,0,"), std::string::npos);
  ASSERT_EQ(r.anomalies.size(), 5u);
  EXPECT_EQ(r.anomalies[0], "duplicate_reading A t:4");
  EXPECT_EQ(r.anomalies[2], "negative_delta A t:6");
  EXPECT_EQ(r.anomalies[3], "delta_above_max A t:8");

  // A larger --max-delta accepts the jump.
  r = replay_files({{"t", text}}, 50000);
  EXPECT_EQ(r.counts.deltas_above_max, 0u);
  EXPECT_EQ(r.events.size(), 4u);
}

TEST(MtaBatch, EventIdIsUuid5OfTurnstileAndTime) {
  std::string text = "C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
                     "A002,R051,02-00-00,59 ST,NQR456W,BMT,05/27/2023,00:00:00,REGULAR,2040,985\n"
                     "A002,R051,02-00-00,59 ST,NQR456W,BMT,05/27/2023,04:00:00,REGULAR,2049,990\n";
  Replayed r = replay_files({{"t", text}});
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0],
            "A002,R051,02-00-00,59 ST,NQR456W,BMT,05-27-23,04:00:00,REGULAR,9,5,"
            "54871361-254e-5ab0-8edd-6dcb6003cad3,2023-05-27 04:00:00");
}
