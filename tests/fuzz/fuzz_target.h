// How a fuzz target is written once and run two ways: by libFuzzer (MTASTREAM_FUZZ) and by the unit
// tests, which replay tests/fuzz/regressions/<target>/* through the same code (test_fuzz_regressions.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace mtastream::fuzz {

// A broken property: abort under libFuzzer (it saves the input), throw in the unit tests.
[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
#ifdef MTASTREAM_FUZZ_REPLAY
  throw std::logic_error(std::string(file) + ":" + std::to_string(line) + ": " + what);
#else
  (void)file, (void)line;
  __builtin_trap();
  (void)what;
#endif
}

}  // namespace mtastream::fuzz

#define FUZZ_CHECK(condition) \
  ((condition) ? (void)0 : ::mtastream::fuzz::property_failed(#condition, __FILE__, __LINE__))

// Defines `int mtastream::fuzz::NAME(const uint8_t*, size_t)` and, under libFuzzer, its entry point.
#ifdef MTASTREAM_FUZZ_REPLAY
#define FUZZ_TARGET(NAME)                                   \
  namespace mtastream::fuzz {                               \
  int NAME(const uint8_t* data, size_t size);               \
  }                                                         \
  int mtastream::fuzz::NAME(const uint8_t* data, size_t size)
#else
#define FUZZ_TARGET(NAME)                                                         \
  namespace mtastream::fuzz {                                                     \
  int NAME(const uint8_t* data, size_t size);                                     \
  }                                                                               \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {       \
    return mtastream::fuzz::NAME(data, size);                                     \
  }                                                                               \
  int mtastream::fuzz::NAME(const uint8_t* data, size_t size)
#endif
