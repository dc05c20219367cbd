// `consume --raw`: messages printed kcat -C style through a -f format, without windows or commits
// (group-less assign() of every partition unless a group is given).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mtastream::consume {

// A compiled -f format: %k key, %s value, %p partition, %o offset, %T timestamp (ms), %t topic, %K key length,
// %S value length, %% a percent sign; \n \t \r \\ escapes. "capture" is a preset for `replay --capture`:
// "%T\t%k\t%s\n".
class RawMessageFormat {
 public:
  explicit RawMessageFormat(std::string_view format);  // throws UsageError on an unknown %x
  struct Fields {
    std::string_view topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int64_t timestamp_ms = -1;
    std::string_view key;
    std::string_view value;
    bool null_key = false;    // a null key or value prints as kcat prints it: %K/%S -1, not 0
    bool null_value = false;
    std::string_view headers;  // %h: "name=value,name=value" (kcat's form)
  };
  void append(const Fields& fields, std::string& out) const;
  bool uses_headers() const;

 private:
  enum class Part : char { text, key, value, partition, offset, timestamp, topic, key_length, value_length, headers };
  std::vector<std::pair<Part, std::string>> parts_;
};

// -o: "beginning", "end", "stored", N (absolute) or -N (N before the end), as librdkafka offsets.
int64_t parse_start_offset(std::string_view text);

struct RawConsumeOptions {
  std::string topic;
  std::string group;       // "" = no group: every partition assigned from `start`
  std::string client_id;
  std::string start = "beginning";  // -o
  uint64_t count = 0;               // -c: stop after this many messages (0 = no limit)
  bool exit_at_end = false;         // -e
  std::string format = "%s\\n";     // -f
  int32_t partition = -1;           // -p: only this partition (without a group); -1 = all
  bool commit = false;              // with a group: commit what was printed at the end
};

struct RawConsumeSummary {
  uint64_t messages = 0;
  uint64_t bytes = 0;  // value bytes
  double seconds = 0;
};

// Prints to stdout until -c, -e or SIGINT/SIGTERM.
RawConsumeSummary run_raw_consume(const config::Settings& settings, const RawConsumeOptions& options);

}  // namespace mtastream::consume
