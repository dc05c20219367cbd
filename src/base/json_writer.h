// JsonWriter: the one way the program writes JSON: `--json` summaries and listings, dead-letter lines, the
// json/json-string message forms, the option tree for gen-docs, and the JSON sent to GCS.
//
// Strings (values and keys) are escaped by one rule, append_json_escaped():
//   '"' and '\' as \" and \\; newline, carriage return and tab as \n \r \t; every other byte below 0x20
//   and DEL (0x7f) as \u00XX (lowercase hex); valid UTF-8 (see encoding.h) is kept as it is; each byte
//   that does not begin a valid UTF-8 sequence becomes \ufffd (U+FFFD, the replacement character), so
//   the output is always valid JSON in valid UTF-8. (Callers that must keep such bytes exactly, like the
//   dead-letter message, check valid_utf8() first and write base64 instead.)
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream {

// Appends tokens with commas handled; the caller nests begin/end correctly.
class JsonWriter {
 public:
  JsonWriter() : out_(&own_) {}
  explicit JsonWriter(std::string& out) : out_(&out) {}  // appends to `out` (a buffer the caller reuses)
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(double number);  // 3 decimals (seconds); null when not finite
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // key(name).value(v)
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }
  const std::string& str() const { return *out_; }

 private:
  void separate();
  std::string own_;
  std::string* out_;
  bool need_comma_ = false;
};

// `text` as a JSON string literal body (no quotes), by the rule above.
void append_json_escaped(std::string_view text, std::string& out);

}  // namespace mtastream
