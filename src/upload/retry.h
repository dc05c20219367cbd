// When and how long to wait before trying a failed upload request again (exponential backoff, jitter).
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace mtastream::upload {

struct BackoffPolicy {
  int max_attempts = 6;
  double initial_seconds = 0.25;
  double max_seconds = 20;
};

// Delay after failed attempt `attempt` (1-based): min(max, initial * 2^(attempt-1)) scaled by a jitter
// factor in [0.5, 1.0) from `random01` in [0, 1) ("equal jitter": never zero, never in lock-step).
double backoff_delay(const BackoffPolicy& policy, int attempt, double random01);

// A uniformly random number in [0, 1) from a per-thread generator.
double random_unit();

// HTTP statuses worth another try: 408, 429, 5xx.
bool is_retryable_status(int status);
// Store error codes worth another try even under a 4xx status: S3's RequestTimeout, SlowDown,
// BadDigest/IncompleteBody (the body was damaged on the way), InternalError, ...
bool is_retryable_error_code(std::string_view code);

// A failure that another attempt may cure (connection refused, timeout, HTTP 503, ...).
class TransientError : public std::runtime_error {
 public:
  explicit TransientError(const std::string& reason, double retry_after_seconds = 0)
      : std::runtime_error(reason), retry_after_seconds_(retry_after_seconds) {}
  double retry_after_seconds() const { return retry_after_seconds_; }  // server's Retry-After, 0 = none

 private:
  double retry_after_seconds_;
};

}  // namespace mtastream::upload
