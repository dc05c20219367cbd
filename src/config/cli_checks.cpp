#include "config/cli_checks.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string>

#include "base/text.h"

namespace mtastream::config {

CLI::Validator whole_number(uint64_t min, uint64_t max) {
  std::string expected = max == std::numeric_limits<uint64_t>::max()
                             ? (min == 0 ? std::string("a whole number") : fmt::format("a whole number of at least {}", min))
                             : fmt::format("a whole number from {} to {}", min, max);
  // An empty description keeps the help's type names (N, SECONDS) as they are.
  return CLI::Validator(
      [min, max, expected](std::string& text) -> std::string {
        uint64_t value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || error != std::errc() || end != text.data() + text.size() || value < min || value > max)
          return fmt::format("expected {}, got '{}'", expected, printable(text));
        return "";
      },
      "");
}

CLI::Validator number_above_zero() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        double value = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || !std::isfinite(value) || !(value > 0))
          return fmt::format("expected a number above 0, got '{}'", printable(text));
        return "";
      },
      "");
}

}  // namespace mtastream::config
