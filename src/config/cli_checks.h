// Checks for numeric command-line values that run when the option is parsed (before any Kafka client
// exists) and say in plain words what was expected (CLI11's own read "Value 0 not in range 0.000000 to 1797…").
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>

namespace mtastream::config {

// Digits only (no sign, no fraction), from `min` to `max`: "-c -1" is an error, not 18446744073709551615.
CLI::Validator whole_number(uint64_t min, uint64_t max = std::numeric_limits<uint64_t>::max());

// A finite decimal number above 0 (rates, speeds, intervals in seconds).
CLI::Validator number_above_zero();

}  // namespace mtastream::config
