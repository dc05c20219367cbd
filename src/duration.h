// Durations on the command line: `30s`, `5m`, `1h`, `1h30m`, or a bare number of minutes
// (the original consumer's `--duration 5`).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream {

// Seconds; throws UsageError naming `what` (the option) on bad input.
int64_t parse_duration_seconds(std::string_view text, std::string_view what);
std::string format_duration(int64_t seconds);

}  // namespace mtastream
