#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "lake/lake_writer.h"
#include "source/line_reader.h"

using namespace mtastream;
using namespace mtastream::lake;
using namespace mtastream::source;

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

// zlib's gzip (the reference encoder), one member.
std::string zlib_gzip(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string numbered_lines(int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i) text += "line number " + std::to_string(i) + "\n";
  return text;
}

TEST(LineReader, ManyMembersAcrossReadsAndAMemberTooBigToDecodeWhole) {
  // Small members (decoded whole) spanning many reads, then one member of 40 MiB (more than is ever
  // decoded whole: zlib streams it from where it starts), then small ones again; zlib's and our encoder's.
  std::string gz, text;
  for (int m = 0; m < 200; ++m) {
    std::string part = numbered_lines(m * 1000, m * 1000 + 1000);
    gz += m % 2 ? zlib_gzip(part) : gzip_bytes(part);
    text += part;
  }
  std::string huge;
  while (huge.size() < (40u << 20)) huge += "x,y,z,a rather long line that repeats itself\n";
  gz += gzip_bytes(huge, 1);
  text += huge;
  std::string tail = numbered_lines(0, 10) + "last";
  gz += zlib_gzip(tail);
  text += tail;
  std::vector<std::string> lines = read_all(write_file("members.gz", gz));
  std::string joined;
  for (const std::string& l : lines) joined.append(l).append("\n");
  joined.pop_back();
  EXPECT_EQ(joined.size(), text.size());
  EXPECT_TRUE(joined == text);
}

TEST(LineReader, GzipPaddingAndDamageAreReportedAsBefore) {
  std::string text = numbered_lines(0, 5000);
  // Zero bytes after the last member (tape padding) end the input.
  EXPECT_EQ(read_all(write_file("padded.gz", gzip_bytes(text) + std::string(1000, '\0'))).size(), 5000u);
  auto error_of = [](const std::string& path) -> std::string {
    LineReader reader(path);
    std::string_view line;
    try {
      while (reader.next(line)) {
      }
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  // A wrong CRC, garbage after a member, a truncated second member: each named, with the file.
  std::string bad_crc = gzip_bytes(text);
  bad_crc[bad_crc.size() - 8] ^= 1;
  std::string e = error_of(write_file("crc.gz", bad_crc));
  EXPECT_NE(e.find("crc.gz': corrupt gzip data"), std::string::npos) << e;
  e = error_of(write_file("garbage.gz", gzip_bytes(text) + std::string("\x01\x02\x00\x00", 4)));
  EXPECT_NE(e.find("garbage.gz': corrupt gzip data"), std::string::npos) << e;
  std::string second = gzip_bytes(text);
  e = error_of(write_file("cut.gz", gzip_bytes(text) + second.substr(0, second.size() / 2)));
  EXPECT_NE(e.find("cut.gz'"), std::string::npos) << e;
  e = error_of(write_file("zeros-then-bytes.gz", gzip_bytes(text) + std::string(10, '\0') + "x"));
  EXPECT_NE(e.find("unexpected bytes after a gzip member"), std::string::npos) << e;
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
