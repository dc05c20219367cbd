// Parses and validates one turnstile message in any of its three wire forms, detected per message.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "event/message.h"

namespace mtastream::event {

class MessageParser {
 public:
  MessageParser();
  ~MessageParser();
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Parses one message (surrounding whitespace and a trailing '\r' are ignored): plain CSV,
  // a JSON string holding the CSV ("A001,..."), or a JSON object with the field names as keys.
  // Every field is validated. On success fills `out`, whose views stay valid until the next call
  // (they point into `bytes` or into this parser). On failure returns false; see error().
  bool parse(std::string_view bytes, TurnstileEvent& out);

  // Why the last parse failed: which field and what is wrong, printable ASCII.
  std::string_view error() const { return error_; }
  // The wire form of the last message parsed successfully.
  WireForm form() const { return form_; }
  // Name of the simdjson kernel used for JSON objects ("haswell", "westmere", "fallback", ...).
  static std::string json_implementation();

 private:
  bool parse_csv(std::string_view line, TurnstileEvent& out);
  bool parse_json_string(std::string_view bytes, TurnstileEvent& out);
  bool parse_json_object(std::string_view bytes, TurnstileEvent& out);
  bool fail(std::string message);
  // What both wire forms check on the 13 fields (wire order): the text fields, CA, DATE and TIME.
  // `screened`: the CSV scan saw no suspicious byte, so only a field that looks odd is checked in full.
  bool check_text_fields(const std::string_view* f, bool screened);
  // `out` from checked fields; false on a bad TIMESTAMP.
  bool fill_event(const std::string_view* f, uint64_t entries, uint64_t exits, TurnstileEvent& out);

  std::string error_;
  WireForm form_ = WireForm::csv;
  std::string unescaped_;  // the CSV inside a JSON string, when it had escapes
  struct Json;
  std::unique_ptr<Json> json_;  // simdjson state, created on the first JSON object
};

// "" when `text` is acceptable as a text field of a message (CA, UNIT, SCP, STATION, LINENAME, DIVISION,
// DESC, ID): 1..256 bytes of UTF-8, no control character, '"' or ',', no leading or trailing space.
// Otherwise what is wrong ("is empty", "contains a control character", ...).
const char* text_field_problem(std::string_view text);

// TIMESTAMP "YYYY-MM-DD HH:MM:SS" (a real calendar date) to seconds since the epoch, read as UTC.
bool parse_timestamp(std::string_view text, int64_t& seconds);

}  // namespace mtastream::event
