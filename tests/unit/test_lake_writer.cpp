#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/civil_time.h"
#include "base/error.h"
#include "lake/lake_writer.h"

using namespace mtastream;
using namespace mtastream::engine;
using namespace mtastream::lake;

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

// zlib, not our own reader, decodes what we wrote: every member, and the bytes must end with one.
std::string gunzip(const std::string& gz, int* members = nullptr) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 16];
  int done = 0;
  while (zs.avail_in > 0) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      ++done;
      inflateReset(&zs);
    } else if (rc != Z_OK) {
      ADD_FAILURE() << "zlib: " << (zs.msg ? zs.msg : "error") << " (rc " << rc << ")";
      break;
    }
  }
  EXPECT_GT(done, 0);
  EXPECT_EQ(zs.avail_in, 0u);
  inflateEnd(&zs);
  if (members) *members = done;
  return out;
}

std::string gunzip_file(const std::string& path, int* members = nullptr) { return gunzip(read_file(path), members); }

// The row bytes as the plain old way writes them (quoting when a field needs it): the fast path must match.
std::string reference_rows(const ClosedWindow& w, LakeLayout layout, uint64_t index) {
  auto field = [](const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string date, time, out;
  civil::append_mta_date(w.end, date);
  civil::append_mta_time(w.end, time);
  for (const WindowRow& r : w.rows) {
    if (layout == LakeLayout::original) out += std::to_string(index++) + ",";
    for (const std::string* f : {&r.ca, &r.unit, &r.scp, &r.station, &r.linename, &r.division}) out += field(*f) + ",";
    out += date + "," + time + "," + field(r.desc) + "," + std::to_string(r.entries) + "," + std::to_string(r.exits) + "\n";
  }
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

TEST(LakeWriter, RowsWrittenStraightEqualTheQuotedReference) {
  ClosedWindow w = sample_window();
  w.rows.push_back({"A003", "R\"3", "02-00-00", "S", "L", "D", "REG,ULAR", 0, 9223372036854775807LL});
  w.rows.push_back({"", "R004", "x\ny", "S\r", "", "D", "", 1, 2});
  for (int i = 0; i < 1000; ++i)
    w.rows.push_back({"C" + std::to_string(i), std::string(static_cast<size_t>(i % 300), 'u'), "02-00-00",
                      i % 97 == 0 ? "Bad,Station" : "Station-" + std::to_string(i), "456NQR", "IRT", "REGULAR",
                      i * 1000003LL, i});
  for (LakeLayout layout : {LakeLayout::original, LakeLayout::clean}) {
    std::string csv = "prefix\n";
    uint64_t index = 41;
    append_window_rows(w, layout, index, csv);
    EXPECT_EQ(csv, "prefix\n" + reference_rows(w, layout, 41));
    EXPECT_EQ(index, 41 + w.rows.size());
  }
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
  EXPECT_EQ(gunzip(a), "hello\n");
  EXPECT_EQ(gunzip(gzip_bytes("")), "");
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "0,R" + std::to_string(i % 5000) + ",R001,02-00-00,Station,456NQR,BMT\n";
  for (int level : {1, default_gzip_level, 6, 12}) {
    std::string gz = gzip_bytes(big, level);
    EXPECT_EQ(gz, gzip_bytes(big, level)) << level;
    EXPECT_EQ(gunzip(gz), big) << level;
  }
  EXPECT_THROW(gzip_bytes("x", 13), Error);
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

TEST(LakeWriter, CsvStreamToGzipFileOfManyMembers) {
  // More than the 1 MiB flush: one gzip member per flush, read back as one stream, the same bytes each run.
  std::string path = std::string(::testing::TempDir()) + "/lake_writer_stream_big.csv.gz";
  ClosedWindow w = sample_window();
  for (int i = 0; i < 30000; ++i) w.rows.push_back(w.rows[i % 2]);
  std::string expected(lake_header(LakeLayout::clean)), first;
  uint64_t index = 0;
  for (int round = 0; round < 2; ++round) {
    CsvStreamWriter stream(path, LakeLayout::clean);
    for (int i = 0; i < 3; ++i) {
      stream.write(w);
      if (round == 0) append_window_rows(w, LakeLayout::clean, index, expected);
    }
    stream.finish();
    EXPECT_EQ(stream.bytes(), read_file(path).size());
    if (round == 0) first = read_file(path);
  }
  int members = 0;
  EXPECT_EQ(gunzip_file(path, &members), expected);
  EXPECT_GE(members, 2);
  EXPECT_EQ(read_file(path), first);
}
