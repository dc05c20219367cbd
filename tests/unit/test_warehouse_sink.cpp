#include <gtest/gtest.h>

#include "base/error.h"
#include "lake/lake_writer.h"
#include "sink/warehouse_sink.h"

using namespace mtastream;
using namespace mtastream::lake;
using namespace mtastream::sink;

TEST(WarehouseSink, ParsesUrls) {
  SinkTarget t = parse_sink_url("postgresql://loader:pw@db.example:6543/wh?table=Turnstile&sslmode=disable");
  EXPECT_EQ(t.table, "Turnstile");
  EXPECT_EQ(t.conninfo, "postgresql://loader:pw@db.example:6543/wh?sslmode=disable");
  EXPECT_EQ(t.redacted, "postgresql://loader:***@db.example:6543/wh?table=Turnstile&sslmode=disable");
  EXPECT_EQ(t.host, "db.example");
  EXPECT_EQ(t.port, "6543");
  EXPECT_EQ(t.database, "wh");
  EXPECT_EQ(t.user, "loader");
  EXPECT_EQ(parse_sink_url("postgres://h/d?table=a%20b").table, "a b");
}

TEST(WarehouseSink, RefusesBadUrlsWithoutThePassword) {
  for (const char* bad : {"mysql://u:secret1@h/d", "postgresql://u:secret1@h/d?nonsense=1", "u:secret1@h"}) {
    try {
      parse_sink_url(bad);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).find("secret1"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--sink"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(parse_sink_url("postgresql://h/d?table=a%22b"), UsageError);  // a quote in the name
}

TEST(WarehouseSink, DefaultTableNames) {
  EXPECT_EQ(default_sink_table("turnstile", "mta-turnstile"), "turnstile_mta_turnstile");
  EXPECT_EQ(default_sink_table("Turnstile", "A.B c"), "turnstile_a_b_c");
  EXPECT_EQ(default_sink_table("1x", "t"), "_x_t");
  EXPECT_EQ(default_sink_table("p", std::string(100, 'x')).size(), 63u);
}

TEST(WarehouseSink, ColumnsFollowTheLakeHeader) {
  SinkColumns c = sink_columns_from_header(lake_header(LakeLayout::original));
  ASSERT_EQ(c.names.size(), 11u);  // the index column is not a column of the table
  EXPECT_EQ(c.names.front(), "ca");
  EXPECT_EQ(c.names[6], "date");
  EXPECT_EQ(c.names.back(), "exits");
  EXPECT_TRUE(c.is_sum[9]);
  EXPECT_FALSE(c.is_sum[8]);
  SinkColumns station = sink_columns_from_header("STATION,DATE,TIME,ENTRIES,EXITS\n");
  EXPECT_EQ(station.names, (std::vector<std::string>{"station", "date", "time", "entries", "exits"}));
}
