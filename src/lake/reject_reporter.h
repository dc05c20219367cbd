// Rejected input, the same for every command: the first few are named on stderr, the rest only counted
// (a bad file must not flood the terminal); every one goes to the dead-letter file.
#pragma once
#include <cstdint>
#include <string_view>

namespace mtastream::lake {

class DeadLetterWriter;

class RejectReporter {
 public:
  static constexpr uint64_t max_warnings = 10;

  explicit RejectReporter(DeadLetterWriter& dead_letter) : dead_letter_(dead_letter) {}
  // `source` is file_source() or kafka_source(); `message` the rejected bytes.
  void operator()(std::string_view source, std::string_view reason, std::string_view message);
  uint64_t count() const { return count_; }

 private:
  DeadLetterWriter& dead_letter_;
  uint64_t count_ = 0;
};

}  // namespace mtastream::lake
