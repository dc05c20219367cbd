#include "base/log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "base/error.h"

namespace mtastream::log {
namespace {
Level current_level = Level::info;
}

void set_level(Level l) { current_level = l; }
Level level() { return current_level; }
bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(current_level); }

bool stderr_is_terminal() {
  static const bool tty = isatty(STDERR_FILENO) == 1;
  return tty;
}

void write(Level l, std::string_view message) {
  const char* prefix = "";
  switch (l) {
    case Level::error: prefix = "error: "; break;
    case Level::warn: prefix = "warning: "; break;
    default: break;
  }
  std::string line = fmt::format("mtastream: {}{}\n", prefix, message);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace mtastream::log

namespace mtastream {

static void check_stdout_error() {
  if (std::ferror(stdout)) {
    int e = errno;
    if (e == EPIPE) throw BrokenPipe();
    throw Error(fmt::format("cannot write to stdout: {}", std::strerror(e)));
  }
}

void write_stdout(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) check_stdout_error();
}

void flush_stdout() {
  if (std::fflush(stdout) != 0) check_stdout_error();
}

}  // namespace mtastream
