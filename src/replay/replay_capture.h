// Captured raw messages for `replay --capture`: one message a line, with its timestamp, so a
// capture can be re-published keeping its relative timing.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream::replay {

// Two line forms, told apart per line:
//  - NDJSON, kcat -J's fields: {"ts": <ms>, "key": "<key>"|null, "payload": "<value>"}; "timestamp" and
//    "value" are accepted for "ts" and "payload"; other fields (topic, partition, offset, ...) are ignored.
//  - TSV, as kcat -f '%T\t%k\t%s\n' writes: <ms> TAB <key> TAB <value>; an empty key is no key.
// A timestamp below 0 (unknown) means "no timing": the message goes out right after the previous one.
struct CapturedMessage {
  int64_t timestamp_ms = -1;
  bool has_key = false;
  std::string key;
  std::string value;
};

// Returns "" when `line` is a valid capture line, else the reason.
std::string parse_capture_line(std::string_view line, CapturedMessage& message);

}  // namespace mtastream::replay
