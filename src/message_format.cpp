#include <fmt/format.h>

#include <charconv>

#include "civil_time.h"
#include "error.h"
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

// JSON string escaping for field values (validated fields hold no quotes or control bytes,
// but escaping keeps the output valid whatever a caller passes).
static void append_json_escaped(std::string_view s, std::string& out) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
}

void append_event(const TurnstileEvent& e, WireForm form, std::string& out) {
  switch (form) {
    case WireForm::csv:
      append_csv_line(e, out);
      return;
    case WireForm::json_string: {
      std::string line;
      append_csv_line(e, line);
      out += '"';
      append_json_escaped(line, out);
      out += '"';
      return;
    }
    case WireForm::json_object: {
      auto field = [&](std::string_view name, std::string_view value, bool first = false) {
        if (!first) out += ',';
        out += '"';
        out.append(name);
        out += "\":\"";
        append_json_escaped(value, out);
        out += '"';
      };
      out += '{';
      field("CA", e.ca, true);
      field("UNIT", e.unit);
      field("SCP", e.scp);
      field("STATION", e.station);
      field("LINENAME", e.linename);
      field("DIVISION", e.division);
      field("DATE", e.date);
      field("TIME", e.time);
      field("DESC", e.desc);
      out += ",\"ENTRIES\":";
      append_uint(e.entries, out);
      out += ",\"EXITS\":";
      append_uint(e.exits, out);
      field("ID", e.id);
      std::string ts;
      civil::append_timestamp(e.timestamp, ts);
      field("TIMESTAMP", ts);
      out += '}';
      return;
    }
  }
}

std::string turnstile_key(const TurnstileEvent& e) {
  std::string key;
  key.reserve(e.ca.size() + e.unit.size() + e.scp.size() + 2);
  key.append(e.ca).append(",").append(e.unit).append(",").append(e.scp);
  return key;
}

}  // namespace mtastream
