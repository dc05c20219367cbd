#include "base/duration.h"

#include <fmt/format.h>

#include "base/error.h"

namespace mtastream {

namespace {

int64_t parse_seconds(std::string_view text, std::string_view what, int64_t bare_number_unit, int64_t min) {
  auto fail = [&](std::string_view why) -> int64_t {
    throw UsageError(fmt::format("{}: invalid duration '{}': {} (use e.g. 30s, 5m, 1h, or {} as a bare number)",
                                 what, text, why, bare_number_unit == 1 ? "seconds" : "minutes"));
  };
  if (text.empty()) return fail("empty");
  constexpr int64_t limit = int64_t{10} * 365 * 24 * 3600;  // ten years: anything longer is a typo
  int64_t total = 0;
  size_t i = 0;
  bool bare_number = true;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return fail("expected a number");
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > limit) return fail("too long");
      ++i;
    }
    int64_t unit = bare_number_unit;
    if (i < text.size()) {
      bare_number = false;
      switch (text[i]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return fail(fmt::format("unknown unit '{}'", text[i]));
      }
      ++i;
    } else if (!bare_number) {
      return fail("missing unit after the last number");
    }
    total += n * unit;
    if (total > limit) return fail("too long");
  }
  if (total < min) return fail("must be positive");
  return total;
}

}  // namespace

int64_t parse_duration_seconds(std::string_view text, std::string_view what, int64_t bare_number_unit) {
  return parse_seconds(text, what, bare_number_unit, 1);
}

int64_t parse_delay_seconds(std::string_view text, std::string_view what, int64_t bare_number_unit) {
  return parse_seconds(text, what, bare_number_unit, 0);
}

std::string format_duration(int64_t seconds) {
  if (seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
  if (seconds % 60 == 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}s", seconds);
}

}  // namespace mtastream
