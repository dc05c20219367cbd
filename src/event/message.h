// One turnstile event (the original's 13-field message) and its three wire forms.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream::event {

// Field order on the wire: CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP.
// Text fields are views: into the parsed input (MessageParser) or into the caller's storage.
// The six fields that name a turnstile and its station, in wire order (the first six of a message).
struct TurnstileFields {
  std::string_view ca, unit, scp, station, linename, division;
};

// The first six wire fields of `f` (13 fields in wire order, or an MTA row's first six).
inline TurnstileFields turnstile_fields(const std::string_view* f) { return {f[0], f[1], f[2], f[3], f[4], f[5]}; }

struct TurnstileEvent : TurnstileFields {
  std::string_view date;  // MM-DD-YY as the original sends it
  std::string_view time;  // HH:MM:SS
  std::string_view desc;
  uint64_t entries = 0;
  uint64_t exits = 0;
  std::string_view id;
  int64_t timestamp = 0;  // TIMESTAMP "YYYY-MM-DD HH:MM:SS" (naive local time) as seconds, read as if UTC
};

enum class WireForm {
  csv,          // A001,R001,...  (default of `produce`)
  json_string,  // "A001,R001,..." (the original producer's json.dumps(line))
  json_object,  // {"CA":"A001","UNIT":"R001",...,"ENTRIES":7,...}
};

WireForm parse_wire_form(std::string_view name);  // "csv", "json-string", "json"; UsageError otherwise
std::string_view wire_form_name(WireForm form);

// Appends the event in the given wire form (no newline) to `out`.
void append_event(const TurnstileEvent& event, WireForm form, std::string& out);

// The key that keeps one turnstile's events in one partition: "CA,UNIT,SCP".
std::string turnstile_key(const TurnstileEvent& event);

}  // namespace mtastream::event
