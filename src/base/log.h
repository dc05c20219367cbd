// Talk on stderr: leveled messages, never data. stdout is written through write_stdout().
#pragma once
#include <fmt/format.h>
#include <string_view>

namespace mtastream::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

void set_level(Level level);
Level level();
bool enabled(Level level);
void write(Level level, std::string_view message);
// True when stderr is a terminal: live progress lines are drawn only then.
bool stderr_is_terminal();

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace mtastream::log

namespace mtastream {
// Writes data to stdout; throws BrokenPipe when the reader went away, Error on other failures.
void write_stdout(std::string_view data);
void flush_stdout();
}  // namespace mtastream
