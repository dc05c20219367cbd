#include "base/civil_time.h"

#include <fmt/format.h>

namespace mtastream::civil {
namespace {

void append_2(unsigned v, std::string& out) {
  const char digits[2] = {static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
  out.append(digits, 2);
}

// At least four digits, as "{:04d}" gives (a sign and more digits outside 0..9999).
void append_year(int year, std::string& out) {
  if (year < 0 || year > 9999) {
    out += fmt::format("{:04d}", year);
    return;
  }
  append_2(static_cast<unsigned>(year) / 100, out);
  append_2(static_cast<unsigned>(year) % 100, out);
}

// MM?DD, ? = `separator`.
void append_month_day(const DateTime& t, char separator, std::string& out) {
  append_2(t.month, out);
  out += separator;
  append_2(t.day, out);
}

void append_time(const DateTime& t, std::string& out) {
  append_2(t.hour, out);
  out += ':';
  append_2(t.minute, out);
  out += ':';
  append_2(t.second, out);
}

}  // namespace

void append_mta_date(int64_t seconds, std::string& out) {
  const DateTime t = from_seconds(seconds);
  append_month_day(t, '/', out);
  out += '/';
  append_year(t.year, out);
}

void append_short_date(int64_t seconds, std::string& out) {
  const DateTime t = from_seconds(seconds);
  append_month_day(t, '-', out);
  out += '-';
  append_2(static_cast<unsigned>((t.year % 100 + 100) % 100), out);
}

void append_mta_time(int64_t seconds, std::string& out) { append_time(from_seconds(seconds), out); }

void append_timestamp(int64_t seconds, std::string& out) {
  const DateTime t = from_seconds(seconds);
  append_year(t.year, out);
  out += '-';
  append_month_day(t, '-', out);
  out += ' ';
  append_time(t, out);
}

}  // namespace mtastream::civil
