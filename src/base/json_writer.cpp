#include "base/json_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "base/encoding.h"

namespace mtastream {

namespace {

// The bytes that the rule changes: '"', '\\', control bytes, DEL; bytes >= 0x80 only in text that is not UTF-8.
bool needs_escape(unsigned char c, bool utf8) {
  return c == '"' || c == '\\' || c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8);
}

}  // namespace

void append_json_escaped(std::string_view text, std::string& out) {
  const bool utf8 = valid_utf8(text);  // one vectorized pass; then only the ASCII escapes remain
  size_t run = 0;                      // start of the bytes not yet copied
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape(c, utf8)) {
      ++i;
      continue;
    }
    size_t n = c >= 0x80 ? utf8_sequence_length(text, i) : 0;
    if (n > 0) {  // a valid character inside text that is not UTF-8 as a whole
      i += n;
      continue;
    }
    out.append(text, run, i - run);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c >= 0x80) out += "\\ufffd";
        else fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
    run = ++i;
  }
  out.append(text, run, text.size() - run);
}

void JsonWriter::separate() {
  if (need_comma_) *out_ += ',';
  need_comma_ = true;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  *out_ += '{';
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  *out_ += '}';
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  separate();
  *out_ += '[';
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  *out_ += ']';
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  *out_ += '"';
  append_json_escaped(name, *out_);
  *out_ += "\":";
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  *out_ += '"';
  append_json_escaped(text, *out_);
  *out_ += '"';
  return *this;
}
JsonWriter& JsonWriter::value(int64_t number) {
  separate();
  fmt::format_to(std::back_inserter(*out_), "{}", number);
  return *this;
}
JsonWriter& JsonWriter::value(uint64_t number) {
  separate();
  fmt::format_to(std::back_inserter(*out_), "{}", number);
  return *this;
}
JsonWriter& JsonWriter::value(double number) {
  separate();
  *out_ += std::isfinite(number) ? fmt::format("{:.3f}", number) : "null";
  return *this;
}
JsonWriter& JsonWriter::value(bool flag) {
  separate();
  *out_ += flag ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::null() {
  separate();
  *out_ += "null";
  return *this;
}

}  // namespace mtastream
