#include <fmt/format.h>

#include <charconv>

#include "base/civil_time.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "event/message.h"

namespace mtastream::event {

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
  civil::append_timestamp(e.timestamp, out);
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
  civil::append_timestamp(e.timestamp, timestamp);
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

}  // namespace mtastream::event
