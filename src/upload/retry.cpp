#include "upload/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace mtastream::upload {

double backoff_delay(const BackoffPolicy& policy, int attempt, double random01) {
  double exponent = std::min(attempt - 1, 30);
  double base = std::min(policy.max_seconds, policy.initial_seconds * std::pow(2.0, std::max(0.0, exponent)));
  return base * (0.5 + 0.5 * std::clamp(random01, 0.0, 1.0));
}

double random_unit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

bool is_retryable_status(int status) { return status == 408 || status == 429 || (status >= 500 && status <= 599); }

bool is_retryable_error_code(std::string_view code) {
  static constexpr std::array<std::string_view, 9> codes = {
      "RequestTimeout", "SlowDown", "BadDigest", "IncompleteBody", "InternalError", "ServiceUnavailable",
      "Throttling", "ThrottlingException", "XAmzContentSHA256Mismatch"};
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace mtastream::upload
