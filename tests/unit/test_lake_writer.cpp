#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "error.h"
#include "lake_writer.h"
#include "line_reader.h"

using namespace mtastream;

namespace {

ClosedWindow sample_window() {
  ClosedWindow w;
  w.start = 1695513300;  // 2023-09-23 23:55:00
  w.end = 1695513600;    // 2023-09-24 00:00:00
  w.rows.push_back({"A001", "R001", "02-00-00", "Test-Station1", "456NQR", "BMT", "REGULAR", 12, 34});
  w.rows.push_back({"A002", "R002", "02-00-00", "Test-Station2", "456NQR", "BMT", "REGULAR", 5, 6});
  return w;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gunzip_file(const std::string& path) {
  LineReader reader(path);
  std::string out;
  std::string_view line;
  while (reader.next(line)) out.append(line).append("\n");
  return out;
}

}  // namespace

TEST(LakeWriter, OriginalLayout) {
  std::string csv(lake_header(LakeLayout::original));
  uint64_t index = 0;
  append_window_rows(sample_window(), LakeLayout::original, index, csv);
  EXPECT_EQ(csv,
            ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
            "0,A001,R001,02-00-00,Test-Station1,456NQR,BMT,09/24/2023,00:00:00,REGULAR,12,34\n"
            "1,A002,R002,02-00-00,Test-Station2,456NQR,BMT,09/24/2023,00:00:00,REGULAR,5,6\n");
  EXPECT_EQ(index, 2u);
}

TEST(LakeWriter, CleanLayoutAndQuoting) {
  ClosedWindow w = sample_window();
  w.rows[0].station = "A,\"B\"";
  std::string csv;
  uint64_t index = 0;
  append_window_rows(w, LakeLayout::clean, index, csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "A001,R001,02-00-00,\"A,\"\"B\"\"\",456NQR,BMT,09/24/2023,00:00:00,REGULAR,12,34");
  EXPECT_EQ(lake_header(LakeLayout::clean), "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n");
  EXPECT_THROW(parse_lake_layout("pandas"), UsageError);
}

TEST(LakeWriter, FileNamesAreDeterministicAndSanitized) {
  EXPECT_EQ(lake_file_name("turnstile", "mta-turnstile", 3, 1695513300, 1695513600),
            "turnstile_mta-turnstile_p3_20230923T235500_20230924T000000.csv.gz");
  EXPECT_EQ(lake_file_name("turnstile", "events.csv", std::nullopt, 0, 300),
            "turnstile_events.csv_19700101T000000_19700101T000500.csv.gz");
  EXPECT_EQ(sanitize_name_part("../../etc/passwd"), "_._.._etc_passwd");
  EXPECT_EQ(sanitize_name_part(".."), "_.");
  EXPECT_EQ(sanitize_name_part(""), "_");
  EXPECT_EQ(sanitize_name_part("a b/c\\d\x01"), "a_b_c_d_");
  EXPECT_EQ(sanitize_name_part(std::string(300, 'x')).size(), 100u);
  std::string evil = lake_file_name("../x", "/root/..", 1, 0, 60);
  EXPECT_EQ(evil.find('/'), std::string::npos);
  EXPECT_NE(evil.front(), '.');
}

TEST(LakeWriter, GzipIsDeterministicWithoutMtimeOrName) {
  std::string a = gzip_bytes("hello\n"), b = gzip_bytes("hello\n");
  EXPECT_EQ(a, b);
  ASSERT_GE(a.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(a[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(a[1]), 0x8b);
  EXPECT_EQ(a[3], 0);                          // FLG: no name, no comment
  EXPECT_EQ(a.substr(4, 4), std::string(4, '\0'));  // MTIME 0
}

TEST(LakeWriter, WritesAtomicallyIntoTheLakeDir) {
  std::string dir = std::string(::testing::TempDir()) + "/lake_writer_test/sub";
  LakeWriter writer(dir, LakeLayout::original);
  ClosedWindow w = sample_window();
  std::string name = lake_file_name("turnstile", "t", 0, w.start, w.end);
  auto written = writer.write(w, name);
  EXPECT_EQ(written.path, dir + "/" + name);
  EXPECT_EQ(written.rows, 2u);
  std::string first = read_file(written.path);
  EXPECT_EQ(first.size(), written.bytes);
  EXPECT_EQ(gunzip_file(written.path),
            ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
            "0,A001,R001,02-00-00,Test-Station1,456NQR,BMT,09/24/2023,00:00:00,REGULAR,12,34\n"
            "1,A002,R002,02-00-00,Test-Station2,456NQR,BMT,09/24/2023,00:00:00,REGULAR,5,6\n");
  writer.write(w, name);  // a rerun rewrites the same bytes
  EXPECT_EQ(read_file(written.path), first);
  EXPECT_THROW(writer.write(w, "../escape.csv.gz"), Error);
}

TEST(LakeWriter, CsvStreamToGzipFile) {
  std::string path = std::string(::testing::TempDir()) + "/lake_writer_stream.csv.gz";
  {
    CsvStreamWriter stream(path, LakeLayout::original);
    stream.write(sample_window());
    stream.write(sample_window());
    stream.finish();
    EXPECT_EQ(stream.rows(), 4u);
  }
  std::string text = gunzip_file(path);
  EXPECT_NE(text.find("\n3,A002,"), std::string::npos) << text;  // index runs across windows
  EXPECT_EQ(text.find(",CA,UNIT"), 0u);
  EXPECT_EQ(text.find(",CA,UNIT", 1), std::string::npos);  // one header
}
