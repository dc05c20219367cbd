#include <gtest/gtest.h>

#include <string>

#include "event/message.h"
#include "event/message_parser.h"

using namespace mtastream;
using namespace mtastream::event;

namespace {

const char* good_csv =
    "A001,R001,02-00-00,Test-Station1,456NQR,BMT,09-23-23,16:54:00,REGULAR,7,9,"
    "3f0c1f4e-8a64-4c1e-9d55-0d1a6f0e2b7c,2023-09-23 16:54:00";

TurnstileEvent sample() {
  TurnstileEvent e;
  e.ca = "A001";
  e.unit = "R001";
  e.scp = "02-00-00";
  e.station = "Test-Station1";
  e.linename = "456NQR";
  e.division = "BMT";
  e.date = "09-23-23";
  e.time = "16:54:00";
  e.desc = "REGULAR";
  e.entries = 7;
  e.exits = 9;
  e.id = "3f0c1f4e-8a64-4c1e-9d55-0d1a6f0e2b7c";
  e.timestamp = 1695488040;  // 2023-09-23 16:54:00 UTC
  return e;
}

void expect_same(const TurnstileEvent& a, const TurnstileEvent& b) {
  EXPECT_EQ(a.ca, b.ca);
  EXPECT_EQ(a.unit, b.unit);
  EXPECT_EQ(a.scp, b.scp);
  EXPECT_EQ(a.station, b.station);
  EXPECT_EQ(a.linename, b.linename);
  EXPECT_EQ(a.division, b.division);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.desc, b.desc);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.exits, b.exits);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.timestamp, b.timestamp);
}

std::string error_of(const std::string& message) {
  MessageParser parser;
  TurnstileEvent e;
  EXPECT_FALSE(parser.parse(message, e)) << message;
  return std::string(parser.error());
}

}  // namespace

TEST(MessageParser, PlainCsv) {
  MessageParser parser;
  TurnstileEvent e;
  ASSERT_TRUE(parser.parse(good_csv, e)) << parser.error();
  expect_same(e, sample());
  EXPECT_EQ(parser.form(), WireForm::csv);
}

TEST(MessageParser, RoundTripAllThreeForms) {
  for (WireForm form : {WireForm::csv, WireForm::json_string, WireForm::json_object}) {
    std::string bytes;
    append_event(sample(), form, bytes);
    MessageParser parser;
    TurnstileEvent e;
    ASSERT_TRUE(parser.parse(bytes, e)) << wire_form_name(form) << ": " << parser.error() << " in " << bytes;
    EXPECT_EQ(parser.form(), form);
    expect_same(e, sample());
  }
}

TEST(MessageParser, WhitespaceCrlfAndPaddedCounts) {
  MessageParser parser;
  TurnstileEvent e;
  std::string padded = std::string("  ") + good_csv + "  \r";
  ASSERT_TRUE(parser.parse(padded, e)) << parser.error();
  expect_same(e, sample());
  std::string zeros = good_csv;
  zeros.replace(zeros.find(",7,9,"), 5, ",0000000007,0000000009,");
  ASSERT_TRUE(parser.parse(zeros, e)) << parser.error();
  EXPECT_EQ(e.entries, 7u);
  EXPECT_EQ(e.exits, 9u);
}

TEST(MessageParser, JsonStringWithEscapes) {
  MessageParser parser;
  TurnstileEvent e;
  std::string wrapped = std::string("\"") + good_csv + "\"";
  wrapped.replace(wrapped.find("A001"), 4, "\\u0041001");  // \u0041 is 'A'
  wrapped.replace(wrapped.find("R001"), 1, "\\u0052");
  ASSERT_TRUE(parser.parse(wrapped, e)) << parser.error();
  expect_same(e, sample());
  EXPECT_EQ(parser.form(), WireForm::json_string);
}

TEST(MessageParser, JsonObjectNumbersOrStringsAndExtraKeys) {
  MessageParser parser;
  TurnstileEvent e;
  std::string json =
      R"({"CA":"A001","UNIT":"R001","SCP":"02-00-00","STATION":"Test-Station1","LINENAME":"456NQR",)"
      R"("DIVISION":"BMT","DATE":"09-23-23","TIME":"16:54:00","DESC":"REGULAR","ENTRIES":"7","EXITS":9,)"
      R"("ID":"3f0c1f4e-8a64-4c1e-9d55-0d1a6f0e2b7c","TIMESTAMP":"2023-09-23 16:54:00","extra":[1,2]})";
  ASSERT_TRUE(parser.parse(json, e)) << parser.error();
  expect_same(e, sample());
}

TEST(MessageParser, Timestamp) {
  int64_t s;
  ASSERT_TRUE(parse_timestamp("1970-01-01 00:00:00", s));
  EXPECT_EQ(s, 0);
  ASSERT_TRUE(parse_timestamp("2024-02-29 23:59:59", s));
  EXPECT_EQ(s, 1709251199);
  ASSERT_TRUE(parse_timestamp("1969-12-31 23:59:59", s));
  EXPECT_EQ(s, -1);
  for (const char* bad : {"2023-02-29 00:00:00", "2023-13-01 00:00:00", "2023-00-01 00:00:00", "2023-04-31 00:00:00",
                          "2023-01-01 24:00:00", "2023-01-01 00:60:00", "2023-01-01 00:00:60", "2023-01-01T00:00:00",
                          "2023-1-01 00:00:00", "2023-01-01 00:00:0", "2023-01-01 00:00:00 ", "", "x"})
    EXPECT_FALSE(parse_timestamp(bad, s)) << bad;
}

TEST(MessageParser, Malformations) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string m = good_csv;
    m.replace(m.find(from), from.size(), to);
    return m;
  };
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("A001,R001").find("found 2"), std::string::npos);
  EXPECT_NE(error_of(std::string(good_csv) + ",x").find("found 14"), std::string::npos);
  EXPECT_NE(error_of(with("A001", "")).find("CA '' is empty"), std::string::npos);
  EXPECT_NE(error_of(with("R001", "R\x01")).find("UNIT 'R\\x01' contains a control character"), std::string::npos);
  EXPECT_NE(error_of(with("Test-Station1", "Te\"st")).find("STATION"), std::string::npos);
  EXPECT_NE(error_of(with(",7,", ",-7,")).find("ENTRIES '-7' is negative"), std::string::npos);
  EXPECT_NE(error_of(with(",7,", ",7.5,")).find("ENTRIES '7.5' is not a non-negative integer"), std::string::npos);
  EXPECT_NE(error_of(with(",7,", ",,")).find("ENTRIES '' is empty"), std::string::npos);
  EXPECT_NE(error_of(with(",9,", ",9223372036854775808,")).find("EXITS '9223372036854775808' does not fit"),
            std::string::npos);
  EXPECT_NE(error_of(with(",9,", ",99999999999999999999999,")).find("does not fit"), std::string::npos);
  EXPECT_NE(error_of(with("09-23-23", "2023-09-23")).find("DATE '2023-09-23'"), std::string::npos);
  EXPECT_NE(error_of(with("09-23-23", "13-23-23")).find("DATE"), std::string::npos);
  EXPECT_NE(error_of(with("16:54:00,", "25:54:00,")).find("TIME '25:54:00'"), std::string::npos);
  EXPECT_NE(error_of(with("2023-09-23 16:54:00", "2023-09-31 16:54:00")).find("TIMESTAMP '2023-09-31 16:54:00'"),
            std::string::npos);
  EXPECT_NE(error_of(with("3f0c1f4e-8a64-4c1e-9d55-0d1a6f0e2b7c", "")).find("ID '' is empty"), std::string::npos);
  // JSON string form
  EXPECT_NE(error_of(std::string("\"") + good_csv).find("not closed"), std::string::npos);
  EXPECT_NE(error_of(std::string("\"") + good_csv + "\\q\"").find("bad escape"), std::string::npos);
  EXPECT_NE(error_of("\"\\ud800\"").find("surrogate"), std::string::npos);
  // JSON object form
  EXPECT_NE(error_of("{\"CA\":").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("{\"CA\":\"A001\"}").find("JSON key UNIT is missing"), std::string::npos);
  std::string json;
  TurnstileEvent e = sample();
  append_event(e, WireForm::json_object, json);
  std::string neg = json;
  neg.replace(neg.find("\"ENTRIES\":7"), 11, "\"ENTRIES\":-7");
  EXPECT_NE(error_of(neg).find("ENTRIES -7 is negative"), std::string::npos);
  std::string dbl = json;
  dbl.replace(dbl.find("\"EXITS\":9"), 9, "\"EXITS\":9.5");
  EXPECT_NE(error_of(dbl).find("EXITS is not an integer"), std::string::npos);
  std::string big = json;
  big.replace(big.find("\"EXITS\":9"), 9, "\"EXITS\":18446744073709551615");
  EXPECT_NE(error_of(big).find("does not fit"), std::string::npos);
  std::string num_ca = json;
  num_ca.replace(num_ca.find("\"CA\":\"A001\""), 11, "\"CA\":1");
  EXPECT_NE(error_of(num_ca).find("CA is not a JSON string"), std::string::npos);
  EXPECT_NE(error_of("{\"CA\":\"A001\"} x").find("invalid JSON"), std::string::npos);
  std::string twice = json;
  twice.insert(1, "\"CA\":\"X\",");
  EXPECT_NE(error_of(twice).find("appears twice"), std::string::npos);
  std::string comma = json;
  comma.replace(comma.find("Test-Station1"), 13, "Test,Station1");
  EXPECT_NE(error_of(comma).find("STATION 'Test,Station1' contains a comma"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("JSON array is not a message"), std::string::npos);
}

// Found by hostile_input.sh (fuzz_message_parser's round-trip oracle checks it too): a CSV field that is not
// UTF-8 was accepted, then `produce --value-format json`
// wrote a JSON object that no parser (ours included) accepts back.
TEST(MessageParser, TextFieldsMustBeUtf8) {
  std::string bad = std::string(good_csv);
  bad.replace(0, 4, "A\xff\xfe" "1");
  EXPECT_NE(error_of(bad).find("CA 'A\\xff\\xfe1' is not valid UTF-8"), std::string::npos) << error_of(bad);
  std::string overlong = std::string(good_csv);
  overlong.replace(overlong.find("REGULAR"), 7, "REG\xc0\xafULAR");  // overlong '/'
  EXPECT_NE(error_of(overlong).find("DESC"), std::string::npos);
  std::string ok = std::string(good_csv);
  ok.replace(ok.find("Test-Station1"), 13, "Caf\xc3\xa9-\xe2\x82\xac");  // é and €: fine
  MessageParser parser;
  TurnstileEvent e;
  EXPECT_TRUE(parser.parse(ok, e)) << parser.error();
}

// Found by fuzz_message_parser: "[T\\01,..." as a JSON string was accepted, but its CSV form starts with
// '[' and reads as a JSON array. A CA may not open with '[' or '{' in any form.
TEST(MessageParser, CaCannotStartLikeJson) {
  std::string csv = std::string(good_csv);
  csv.replace(0, 4, "A[01");  // inside is fine
  MessageParser parser;
  TurnstileEvent e;
  EXPECT_TRUE(parser.parse(csv, e)) << parser.error();
  std::string json_string = "\"[001" + std::string(good_csv).substr(4) + "\"";
  EXPECT_NE(error_of(json_string).find("CA '[001' starts with '['"), std::string::npos) << error_of(json_string);
  std::string json;
  append_event(sample(), WireForm::json_object, json);
  json.replace(json.find("\"A001\""), 6, "\"{001\"");
  EXPECT_NE(error_of(json).find("CA '{001' starts with '{'"), std::string::npos) << error_of(json);
}

TEST(MessageParser, ErrorsArePrintable) {
  std::string bad = std::string(good_csv);
  bad.replace(0, 4, "\xff\xfe\x01Z");
  std::string err = error_of(bad);
  for (char c : err) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << err;
}

TEST(MessageParser, SimdjsonKernelIsNamed) {
  EXPECT_FALSE(MessageParser::json_implementation().empty());
}
