// libFuzzer target: duration parsing (`--window 1h30m`). Oracle: only UsageError escapes; an accepted
// duration is positive, and its formatted form parses back to the same number of seconds.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/duration.h"
#include "base/error.h"
#include "fuzz_target.h"

using namespace mtastream;

FUZZ_TARGET(duration) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  int64_t seconds = 0;
  try {
    seconds = parse_duration_seconds(text, "--window");
  } catch (const UsageError&) {
    return 0;
  }
  FUZZ_CHECK(seconds > 0);
  FUZZ_CHECK(parse_duration_seconds(format_duration(seconds), "--window") == seconds);
  return 0;
}
