// Civil (proleptic Gregorian, UTC arithmetic) date and time <-> seconds since the epoch, and the text forms
// the data uses: DATE MM/DD/YYYY or MM-DD-YY, TIME HH:MM:SS, TIMESTAMP YYYY-MM-DD HH:MM:SS. MTA times are
// naive local time, so no time zone is ever applied. Built on C++20 <chrono> calendar types; years must
// stay within <chrono>'s -32767..32767 (TIMESTAMP and DATE hold four digits, so every caller does).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace mtastream::civil {

struct DateTime {
  int year;
  unsigned month, day, hour, minute, second;
};

// The last instant DATE MM/DD/YYYY can show: 9999-12-31 23:59:59.
constexpr int64_t last_four_digit_year_second = 253402300799;

// Whether year-month-day is a calendar date (month 1..12, day within the month, leap years counted).
inline bool is_date(int year, unsigned month, unsigned day) {
  return std::chrono::year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}.ok();
}

// Seconds since 1970-01-01 00:00:00 of a date and time (not checked: see is_date).
inline int64_t to_seconds(int year, unsigned month, unsigned day, unsigned hour, unsigned minute, unsigned second) {
  const std::chrono::sys_days days{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}};
  return static_cast<int64_t>(days.time_since_epoch().count()) * 86400 + hour * 3600 + minute * 60 + second;
}

// The date and time of seconds since the epoch (negative: before 1970).
inline DateTime from_seconds(int64_t seconds) {
  const std::chrono::sys_seconds t{std::chrono::seconds{seconds}};
  const std::chrono::sys_days midnight = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{midnight};
  const auto rest = static_cast<unsigned>((t - midnight).count());
  return {static_cast<int>(date.year()), static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
          rest / 3600, rest / 60 % 60, rest % 60};
}

// Text forms of `seconds`, appended to `out`.
void append_mta_date(int64_t seconds, std::string& out);    // MM/DD/YYYY (lake rows, batch files)
void append_short_date(int64_t seconds, std::string& out);  // MM-DD-YY (the original's messages)
void append_mta_time(int64_t seconds, std::string& out);    // HH:MM:SS
void append_timestamp(int64_t seconds, std::string& out);   // YYYY-MM-DD HH:MM:SS

}  // namespace mtastream::civil
