#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "error.h"
#include "lake_writer.h"
#include "line_reader.h"

using namespace mtastream;

namespace {

std::string temp_path(const std::string& name) {
  return std::string(::testing::TempDir()) + "/line_reader_" + name;
}

std::string write_file(const std::string& name, const std::string& bytes) {
  std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<std::string> read_all(const std::string& path, size_t max_line = LineReader::default_max_line_bytes,
                                  std::vector<bool>* too_long = nullptr, bool* unterminated = nullptr) {
  LineReader reader(path, max_line);
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) {
    lines.emplace_back(line);
    if (too_long) too_long->push_back(reader.line_too_long());
    EXPECT_EQ(reader.line_number(), lines.size());
  }
  if (unterminated) *unterminated = reader.last_line_unterminated();
  return lines;
}

}  // namespace

TEST(LineReader, PlainLfCrlfAndLastLineWithoutNewline) {
  bool unterminated = true;
  auto lines = read_all(write_file("a.txt", "one\r\ntwo\n\nthree\r\n"), LineReader::default_max_line_bytes, nullptr,
                        &unterminated);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "three"}));
  EXPECT_FALSE(unterminated);
  lines = read_all(write_file("b.txt", "one\nlast"), LineReader::default_max_line_bytes, nullptr, &unterminated);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "last"}));
  EXPECT_TRUE(unterminated);
  EXPECT_TRUE(read_all(write_file("empty.txt", "")).empty());
}

TEST(LineReader, MultiMemberGzip) {
  std::string text1 = "a,b\nc,d\n", text2 = "e,f\ng";
  std::string path = write_file("m.gz", gzip_bytes(text1) + gzip_bytes(text2));
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) lines.emplace_back(line);
  EXPECT_TRUE(reader.is_gzip());
  EXPECT_EQ(lines, (std::vector<std::string>{"a,b", "c,d", "e,f", "g"}));
  EXPECT_TRUE(reader.last_line_unterminated());
}

TEST(LineReader, LargeInputAcrossBuffers) {
  std::string text;
  for (int i = 0; i < 300000; ++i) text += "line number " + std::to_string(i) + "\n";
  auto plain = read_all(write_file("big.txt", text));
  auto gz = read_all(write_file("big.gz", gzip_bytes(text)));
  ASSERT_EQ(plain.size(), 300000u);
  EXPECT_EQ(plain[123456], "line number 123456");
  EXPECT_EQ(plain, gz);
}

TEST(LineReader, TooLongLineIsCutAndReadingContinues) {
  std::string text = "short\n" + std::string(100, 'x') + "\nafter\n" + std::string(50, 'y');
  std::vector<bool> too_long;
  bool unterminated = false;
  auto lines = read_all(write_file("long.txt", text), 32, &too_long, &unterminated);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "short");
  EXPECT_EQ(lines[1], std::string(32, 'x'));
  EXPECT_EQ(lines[2], "after");
  EXPECT_EQ(lines[3], std::string(32, 'y'));
  EXPECT_EQ(too_long, (std::vector<bool>{false, true, false, true}));
  EXPECT_TRUE(unterminated);
}

TEST(LineReader, SharedSampleHas26MembersAllRead) {
  std::string path = std::string(MTASTREAM_SHARED_DATA) + "/mta/turnstile_230603.csv.gz";
  LineReader reader(path);
  std::string_view line;
  uint64_t n = 0;
  while (reader.next(line)) ++n;
  EXPECT_EQ(n, 253238u);  // header + 253,237 rows
}

TEST(LineReader, Errors) {
  EXPECT_THROW(LineReader(temp_path("does-not-exist")), Error);
  std::string gz = gzip_bytes(std::string(10000, 'z') + "\n");
  std::string path = write_file("trunc.gz", gz.substr(0, gz.size() / 2));
  LineReader reader(path);
  std::string_view line;
  try {
    while (reader.next(line)) {
    }
    FAIL() << "truncated gzip not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("trunc.gz"), std::string::npos) << e.what();
  }
  EXPECT_EQ(LineReader("-").source_name(), "stdin");
}

TEST(LineReader, ByteOrderMarkAtTheStartIsDropped) {
  const std::string bom = "\xEF\xBB\xBF";
  EXPECT_EQ(read_all(write_file("bom.txt", bom + "a,b\r\nc\n")), (std::vector<std::string>{"a,b", "c"}));
  EXPECT_EQ(read_all(write_file("bom-only-line.txt", bom + "x")), (std::vector<std::string>{"x"}));
  EXPECT_EQ(read_all(write_file("bom.gz", gzip_bytes(bom + "{\"a\":1}\n"))), (std::vector<std::string>{"{\"a\":1}"}));
  // Only at the very start: a BOM later on is data (and the parser rejects it).
  EXPECT_EQ(read_all(write_file("bom-later.txt", "a\n" + bom + "b\n")), (std::vector<std::string>{"a", bom + "b"}));
}
