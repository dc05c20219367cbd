// libFuzzer target: LineReader on arbitrary bytes (plain or gzip, detected by magic), small line limit
// so the cut-line path is exercised. The input is written to a temporary file, as users give files.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "source/line_reader.h"
#include "fuzz_target.h"

using namespace mtastream;
using namespace mtastream::source;

FUZZ_TARGET(line_reader) {
  static std::string path = [] {
    char name[] = "/tmp/mtastream-fuzz-lines-XXXXXX";
    int fd = mkstemp(name);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    return std::string(name);
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size);
  std::fclose(f);
  try {
    LineReader reader(path, 64);
    std::string_view line;
    uint64_t lines = 0;
    while (reader.next(line)) {
      FUZZ_CHECK(line.size() <= 64);
      FUZZ_CHECK(reader.line_number() == ++lines);
    }
  } catch (const Error&) {
    // corrupt gzip: reported as an error naming the file, fine
  }
  return 0;
}
