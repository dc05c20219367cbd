#include <fmt/format.h>

#include <charconv>
#include <ctime>

#include "error.h"
#include "json_writer.h"
#include "message.h"

namespace mtastream {

WireForm parse_wire_form(std::string_view name) {
  if (name == "csv") return WireForm::csv;
  if (name == "json-string") return WireForm::json_string;
  if (name == "json") return WireForm::json_object;
  throw UsageError(fmt::format("unknown value format '{}' (use csv, json-string or json)", name));
}

std::string_view wire_form_name(WireForm form) {
  switch (form) {
    case WireForm::csv: return "csv";
    case WireForm::json_string: return "json-string";
    case WireForm::json_object: return "json";
  }
  return "csv";
}

static void append_uint(uint64_t v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

static void append_2(int v, std::string& out) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void append_timestamp(int64_t seconds, std::string& out) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  int year = tm.tm_year + 1900;
  out += fmt::format("{:04d}-", year);
  append_2(tm.tm_mon + 1, out);
  out += '-';
  append_2(tm.tm_mday, out);
  out += ' ';
  append_2(tm.tm_hour, out);
  out += ':';
  append_2(tm.tm_min, out);
  out += ':';
  append_2(tm.tm_sec, out);
}

static void append_csv_line(const TurnstileEvent& e, std::string& out) {
  for (std::string_view f : {e.ca, e.unit, e.scp, e.station, e.linename, e.division, e.date, e.time, e.desc}) {
    out.append(f);
    out += ',';
  }
  append_uint(e.entries, out);
  out += ',';
  append_uint(e.exits, out);
  out += ',';
  out.append(e.id);
  out += ',';
  append_timestamp(e.timestamp, out);
}

void append_event(const TurnstileEvent& e, WireForm form, std::string& out) {
  if (form == WireForm::csv) {
    append_csv_line(e, out);
    return;
  }
  JsonWriter json(out);
  if (form == WireForm::json_string) {  // the CSV line as one JSON string
    std::string line;
    append_csv_line(e, line);
    json.value(line);
    return;
  }
  std::string timestamp;
  append_timestamp(e.timestamp, timestamp);
  json.begin_object().field("CA", e.ca).field("UNIT", e.unit).field("SCP", e.scp).field("STATION", e.station);
  json.field("LINENAME", e.linename).field("DIVISION", e.division).field("DATE", e.date).field("TIME", e.time);
  json.field("DESC", e.desc).field("ENTRIES", e.entries).field("EXITS", e.exits).field("ID", e.id);
  json.field("TIMESTAMP", timestamp).end_object();
}

std::string turnstile_key(const TurnstileEvent& e) {
  std::string key;
  key.reserve(e.ca.size() + e.unit.size() + e.scp.size() + 2);
  key.append(e.ca).append(",").append(e.unit).append(",").append(e.scp);
  return key;
}

}  // namespace mtastream
