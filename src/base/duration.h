// Durations on the command line: `30s`, `5m`, `1h`, `1h30m`, or a bare number: minutes for window
// lengths (the original consumer's `--duration 5`), seconds for timeouts.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream {

// Seconds; throws UsageError naming `what` (the option) on bad input. A bare number counts
// `bare_number_unit` seconds each.
int64_t parse_duration_seconds(std::string_view text, std::string_view what, int64_t bare_number_unit = 60);
// The same, but zero is a value too (`--watermark 0`, `0s`: no delay).
int64_t parse_delay_seconds(std::string_view text, std::string_view what, int64_t bare_number_unit = 60);
std::string format_duration(int64_t seconds);

}  // namespace mtastream
