// --group-by (group columns in the engine, the lake files and checkpoints) and --partition-by (Hive
// folders: escaping, splitting, writing into folders).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "consume/consume_checkpoint.h"
#include "base/error.h"
#include "base/durable_file.h"
#include "lake/lake_writer.h"
#include "engine/window_engine.h"

using namespace mtastream;
using namespace mtastream::consume;
using namespace mtastream::engine;
using namespace mtastream::event;
using namespace mtastream::lake;

namespace {

constexpr int64_t day0 = 1695427200;  // 2023-09-23 00:00:00 UTC
constexpr GroupColumns station_only = 1u << 3;

TurnstileEvent make_event(std::string_view ca, std::string_view station, std::string_view desc, std::string_view id,
                     int64_t t, uint64_t entries) {
  TurnstileEvent e;
  e.ca = ca;
  e.unit = "R001";
  e.scp = "02-00-00";
  e.station = station;
  e.linename = "456";
  e.division = "BMT";
  e.desc = desc;
  e.id = id;
  e.timestamp = t;
  e.entries = entries;
  e.exits = 1;
  return e;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

}  // namespace

TEST(GroupColumns, ParsesAnySubsetInAnyOrder) {
  EXPECT_EQ(parse_group_columns("CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC"), all_group_columns);
  EXPECT_EQ(parse_group_columns("STATION"), station_only);
  EXPECT_EQ(parse_group_columns("desc, station"), parse_group_columns("STATION,DESC"));
  EXPECT_EQ(group_columns_text(parse_group_columns("DESC,CA")), "CA,DESC");
  EXPECT_EQ(group_columns_text(all_group_columns), "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC");
}

TEST(GroupColumns, BadListsAreUsageErrorsWithASuggestion) {
  EXPECT_NE(error_of([] { parse_group_columns("STATON"); }).find("did you mean STATION?"), std::string::npos);
  EXPECT_NE(error_of([] { parse_group_columns("STATION,station"); }).find("given twice"), std::string::npos);
  EXPECT_NE(error_of([] { parse_group_columns(""); }).find("empty column name"), std::string::npos);
  EXPECT_NE(error_of([] { parse_group_columns("CA,,UNIT"); }).find("empty column name"), std::string::npos);
  EXPECT_NE(error_of([] { parse_group_columns("DATE"); }).find("the group columns are CA,UNIT"), std::string::npos);
}

TEST(GroupColumns, EngineSumsByTheChosenColumnsOnly) {
  WindowConfig config{300, 300, 300};
  config.group_columns = station_only;
  WindowEngine engine(config);
  EXPECT_EQ(engine.add(make_event("A001", "S1", "REGULAR", "a", day0 + 10, 5), 0), AddResult::accepted);
  EXPECT_EQ(engine.add(make_event("A002", "S1", "RECOVR AUD", "b", day0 + 20, 7), 1), AddResult::accepted);
  EXPECT_EQ(engine.add(make_event("A003", "S0", "REGULAR", "c", day0 + 30, 1), 2), AddResult::accepted);
  EXPECT_EQ(engine.add(make_event("A003", "S0", "REGULAR", "c", day0 + 40, 1), 3), AddResult::duplicate);  // dedup unchanged
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  ASSERT_EQ(closed[0].rows.size(), 2u);
  EXPECT_EQ(closed[0].rows[0].station, "S0");
  EXPECT_EQ(closed[0].rows[1].station, "S1");
  EXPECT_EQ(closed[0].rows[1].entries, 12);
  EXPECT_EQ(closed[0].rows[1].ca, "");  // not a group column
  EXPECT_EQ(closed[0].rows[1].desc, "");
  // The file holds just STATION (and DATE, TIME, ENTRIES, EXITS); the original layout keeps its index.
  std::string csv = lake_header(LakeLayout::original, station_only);
  uint64_t index = 0;
  append_window_rows(closed[0], LakeLayout::original, index, csv, station_only);
  EXPECT_EQ(csv, ",STATION,DATE,TIME,ENTRIES,EXITS\n0,S0,09/23/2023,00:05:00,1,1\n1,S1,09/23/2023,00:05:00,12,2\n");
}

TEST(GroupColumns, HeaderAndRowsKeepTheOriginalColumnOrder) {
  ClosedWindow w;
  w.start = day0;
  w.end = day0 + 300;
  w.rows.push_back({"", "", "", "S1", "", "", "REGULAR", 3, 4});
  const GroupColumns station_desc = parse_group_columns("DESC,STATION");
  std::string csv = lake_header(LakeLayout::clean, station_desc);
  uint64_t index = 0;
  append_window_rows(w, LakeLayout::clean, index, csv, station_desc);
  EXPECT_EQ(csv, "STATION,DATE,TIME,DESC,ENTRIES,EXITS\nS1,09/23/2023,00:05:00,REGULAR,3,4\n");
  // DESC alone: the row starts with DATE (no empty first field).
  const GroupColumns desc = parse_group_columns("DESC");
  csv = lake_header(LakeLayout::clean, desc);
  append_window_rows(w, LakeLayout::clean, index, csv, desc);
  EXPECT_EQ(csv, "DATE,TIME,DESC,ENTRIES,EXITS\n09/23/2023,00:05:00,REGULAR,3,4\n");
  csv.clear();
  index = 7;
  append_window_rows(w, LakeLayout::original, index, csv, desc);
  EXPECT_EQ(csv, "7,09/23/2023,00:05:00,REGULAR,3,4\n");
  // A value that needs quotes takes the slow path with the same columns.
  w.rows[0].station = "a,b";
  csv.clear();
  append_window_rows(w, LakeLayout::clean, index, csv, station_desc);
  EXPECT_EQ(csv, "\"a,b\",09/23/2023,00:05:00,REGULAR,3,4\n");
}

TEST(GroupColumns, CheckpointsRecordThemAndRefuseAnother) {
  ConsumeCheckpoint c;
  c.window = {14400, 14400, 14400};
  c.group_columns = station_only;
  c.partitioning = "date,hour,station";
  c.prefix = "turnstile";
  std::string text = format_checkpoint_metadata(c);
  EXPECT_NE(text.find(";g=STATION;pb=date,hour,station"), std::string::npos) << text;
  std::string error;
  auto back = parse_checkpoint_metadata(text, 5, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->group_columns, station_only);
  EXPECT_EQ(back->window.group_columns, station_only);
  EXPECT_EQ(back->partitioning, "date,hour,station");
  EXPECT_EQ(checkpoint_config_difference(*back, c), "");
  // The default writes neither key: checkpoints read as before, and an old one means all seven columns.
  ConsumeCheckpoint plain;
  plain.prefix = "turnstile";
  EXPECT_EQ(format_checkpoint_metadata(plain).find(";g="), std::string::npos);
  auto old = parse_checkpoint_metadata(format_checkpoint_metadata(plain), 0, error);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->group_columns, all_group_columns);
  std::string d = checkpoint_config_difference(*old, c);
  EXPECT_NE(d.find("group-by CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC (stored) vs STATION (now)"), std::string::npos) << d;
  EXPECT_NE(d.find("partition-by none (stored) vs date,hour,station (now)"), std::string::npos) << d;
  EXPECT_FALSE(parse_checkpoint_metadata(text + ";g=NOPE", 0, error));
}

TEST(PartitionValue, EscapedAsHiveSoNothingLeavesTheLake) {
  EXPECT_EQ(escape_partition_value("59 ST"), "59 ST");
  EXPECT_EQ(escape_partition_value("../../x"), "..%2F..%2Fx");
  EXPECT_EQ(escape_partition_value("a/b"), "a%2Fb");
  EXPECT_EQ(escape_partition_value("="), "%3D");
  EXPECT_EQ(escape_partition_value("%"), "%25");
  EXPECT_EQ(escape_partition_value(".."), "..");  // the folder is "station=..": never "." or ".."
  EXPECT_EQ(escape_partition_value(""), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(escape_partition_value(std::string("a\nb\x01\x7f", 5)), "a%0Ab%01%7F");
  EXPECT_EQ(escape_partition_value("a\\b:c*?\"#'{[]^"), "a%5Cb%3Ac%2A%3F%22%23%27%7B%5B%5D%5E");
  EXPECT_EQ(escape_partition_value("caf\xc3\xa9"), "caf\xc3\xa9");             // UTF-8 stays (valid object key)
  EXPECT_EQ(escape_partition_value("\xff\xc3("), "%FF%C3(");                    // not UTF-8: escaped
  EXPECT_EQ(escape_partition_value("\xed\xa0\x80"), "%ED%A0%80");               // a surrogate is not UTF-8
  EXPECT_EQ(escape_partition_value("\xe2\x82"), "%E2%82");                      // cut short
  // Long values (a 256-byte field of '%' escapes to 768 bytes) are cut with a hash: short, distinct, stable.
  const std::string long_a(256, '%'), long_b = std::string(255, '%') + "x";
  const std::string ea = escape_partition_value(long_a), eb = escape_partition_value(long_b);
  EXPECT_LE(ea.size(), max_partition_value_bytes);
  EXPECT_NE(ea, eb);
  EXPECT_EQ(ea.substr(0, 6), "%25%25");
  EXPECT_EQ(ea.size() - ea.rfind('~'), 17u);
  EXPECT_EQ((ea.size() - 17) % 3, 0u);  // never half an escape
  EXPECT_EQ(escape_partition_value(long_a), ea);
  const std::string exact(100, 'a');
  EXPECT_EQ(escape_partition_value(exact), exact);  // at the limit: kept whole
  for (const std::string& hostile : std::vector<std::string>{"../../x", "a/b", "/", "..", ".", "", std::string("\0", 1), "\xff/\xfe"}) {
    std::string folder = "station=" + escape_partition_value(hostile);
    EXPECT_EQ(folder.find('/'), std::string::npos) << hostile;
    EXPECT_NE(folder, "..");
    EXPECT_EQ(folder.find('\0'), std::string::npos);
  }
}

TEST(PartitionBy, ParsedAgainstTheGroupColumns) {
  LakePartitioning p = parse_lake_partitioning("date,hour,STATION", station_only);
  EXPECT_EQ(lake_partitioning_text(p), "date,hour,station");
  EXPECT_NE(error_of([] { parse_lake_partitioning("date,unit", station_only); }).find("UNIT is not a group column"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_lake_partitioning("dat", station_only); }).find("did you mean date?"), std::string::npos);
  EXPECT_NE(error_of([] { parse_lake_partitioning("hour,hour", station_only); }).find("given twice"), std::string::npos);
  EXPECT_NE(error_of([] { parse_lake_partitioning("date,", station_only); }).find("empty"), std::string::npos);
}

TEST(PartitionBy, SplitsAWindowIntoOneFolderPerValue) {
  ClosedWindow w;
  w.start = day0 + 3 * 3600;
  w.end = day0 + 4 * 3600 + 86400;  // 2023-09-24 04:00
  w.rows.push_back({"", "", "", "59 ST", "", "", "", 1, 2});
  w.rows.push_back({"", "", "", "a/b", "", "", "", 3, 4});
  w.rows.push_back({"", "", "", "", "", "", "", 5, 6});
  auto pieces = split_window(w, parse_lake_partitioning("date,hour,station", station_only));
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].first, "date=2023-09-24/hour=04/station=59 ST");
  EXPECT_EQ(pieces[1].first, "date=2023-09-24/hour=04/station=a%2Fb");
  EXPECT_EQ(pieces[2].first, "date=2023-09-24/hour=04/station=__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(pieces[1].second.rows.at(0).entries, 3);
  EXPECT_EQ(pieces[1].second.end, w.end);
  auto flat = split_window(w, LakePartitioning{});
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(flat[0].first, "");
  EXPECT_EQ(flat[0].second.rows.size(), 3u);
}

TEST(PartitionBy, FilesAreWrittenOnceIntoFoldersAndStaleTempsFound) {
  namespace fs = std::filesystem;
  const std::string dir = std::string(::testing::TempDir()) + "/partition_test_" + std::to_string(::getpid());
  fs::remove_all(dir);
  std::vector<std::pair<std::string, std::string>> files = {{"date=2023-09-24/hour=04/station=a%2Fb/x.csv.gz", "one"},
                                                            {"date=2023-09-24/hour=04/station=S/x.csv.gz", "two"}};
  EXPECT_EQ(write_files_once(dir, files), (std::vector<bool>{true, true}));
  files[0].second = "changed";
  EXPECT_EQ(write_files_once(dir, files), (std::vector<bool>{false, false}));  // final: never replaced
  std::ifstream in(dir + "/date=2023-09-24/hour=04/station=a%2Fb/x.csv.gz");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "one");
  // A killed writer's temporary file (a PID that is not running) deep in a partition folder.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const std::string stale = dir + "/date=2023-09-24/hour=04/station=S/.x.csv.gz.tmp." + std::to_string(child);
  std::ofstream(stale) << "partial";
  EXPECT_EQ(remove_stale_temp_files(dir), 0u);        // flat lake: folders not searched
  EXPECT_EQ(remove_stale_temp_files(dir, true), 1u);  // partitioned lake: found
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(dir + "/date=2023-09-24/hour=04/station=S/x.csv.gz"));
  fs::remove_all(dir);
}
