// The one exception type of the core and the documented process exit codes.
#pragma once
#include <stdexcept>
#include <string>

namespace mtastream {

// Documented in README.md and `mtastream --help`; scripts depend on them.
enum class ExitCode : int {
  ok = 0,               // everything read was handled and delivered
  runtime_error = 1,    // could not do the job (broker unreachable, disk full, bad input file, ...)
  usage_error = 2,      // bad command line or bad configuration; nothing was done
  partial = 3,          // done, but some input was rejected or some messages were not delivered
};

// Thrown by the core for anything that stops a command; the top level prints it and exits.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::runtime_error)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// A usage or configuration mistake: exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message, ExitCode::usage_error) {}
};

// stdout was closed by its reader (`| head`): stop quietly.
class BrokenPipe : public std::exception {
 public:
  const char* what() const noexcept override { return "broken pipe"; }
};

}  // namespace mtastream
