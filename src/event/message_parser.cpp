#include "event/message_parser.h"

#include <fmt/format.h>

#include <cstring>
#include <simdjson.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/civil_time.h"
#include "base/encoding.h"
#include "base/text.h"

namespace mtastream::event {

namespace {

constexpr const char* field_names[13] = {"CA",   "UNIT", "SCP",  "STATION", "LINENAME", "DIVISION", "DATE",
                                         "TIME", "DESC", "ENTRIES", "EXITS", "ID",       "TIMESTAMP"};
constexpr int64_t max_count = INT64_MAX;  // counts and their sums must fit the warehouse's INT64
constexpr size_t max_text_field = 256;

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline int digit(char c) { return c - '0'; }
inline int two_digits(const char* p) { return digit(p[0]) * 10 + digit(p[1]); }

}  // namespace

// "" when the text field is acceptable; it must survive CSV and JSON output unquoted.
const char* text_field_problem(std::string_view v) {
  if (v.empty()) return "is empty";
  if (v.size() > max_text_field) return "is longer than 256 bytes";
  bool non_ascii = false;
  for (char c : v) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "contains a control character";
    if (c == '"') return "contains a double quote";
    if (c == ',') return "contains a comma";
    non_ascii |= u >= 0x80;
  }
  if (v.front() == ' ' || v.back() == ' ') return "has leading or trailing spaces";
  // The JSON forms (and the warehouse) need UTF-8: a CSV field that is not would not survive `produce
  // --value-format json` or a lake file's load.
  if (non_ascii && !valid_utf8(v)) return "is not valid UTF-8";
  return "";
}

namespace {

// CA opens the CSV form: a CSV line starting with '[' or '{' reads as JSON, so such a CA, accepted from a
// JSON form, could never be written back as CSV (found by fuzz_message_parser's round-trip oracle).
inline bool ca_can_start_csv(std::string_view ca) { return ca.front() != '[' && ca.front() != '{'; }
std::string ca_start_problem(std::string_view ca) {
  return fmt::format("CA '{}' starts with '{}' (a CSV message would read as JSON)", printable(ca, 60), ca.front());
}

// MM-DD-YY (the original's messages) or MM/DD/YYYY (the batch files).
bool valid_date(std::string_view v) {
  const char* p = v.data();
  int month, day;
  if (v.size() == 8 && p[2] == '-' && p[5] == '-') {
    if (!is_digit(p[6]) || !is_digit(p[7])) return false;
  } else if (v.size() == 10 && p[2] == '/' && p[5] == '/') {
    for (int i = 6; i < 10; ++i)
      if (!is_digit(p[i])) return false;
  } else {
    return false;
  }
  if (!is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[3]) || !is_digit(p[4])) return false;
  month = two_digits(p);
  day = two_digits(p + 3);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool valid_time(std::string_view v) {
  if (v.size() != 8) return false;
  const char* p = v.data();
  if (p[2] != ':' || p[5] != ':') return false;
  for (int i : {0, 1, 3, 4, 6, 7})
    if (!is_digit(p[i])) return false;
  return two_digits(p) <= 23 && two_digits(p + 3) <= 59 && two_digits(p + 6) <= 59;
}

// Non-negative decimal integer within int64; leading zeros allowed (raw MTA files pad to 10 digits).
// Returns "" or what is wrong.
const char* parse_count(std::string_view v, uint64_t& out) {
  if (v.empty()) return "is empty";
  uint64_t value = 0;
  for (char c : v) {
    if (!is_digit(c)) return c == '-' ? "is negative" : "is not a non-negative integer";
    if (value > (static_cast<uint64_t>(max_count) - static_cast<uint64_t>(digit(c))) / 10)
      return "does not fit a 64-bit signed integer";
    value = value * 10 + static_cast<uint64_t>(digit(c));
  }
  out = value;
  return "";
}

}  // namespace

bool parse_timestamp(std::string_view v, int64_t& seconds) {
  if (v.size() != 19) return false;
  const char* p = v.data();
  if (p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
    if (!is_digit(p[i])) return false;
  const int year = two_digits(p) * 100 + two_digits(p + 2);
  const unsigned month = two_digits(p + 5), day = two_digits(p + 8);
  const unsigned hour = two_digits(p + 11), minute = two_digits(p + 14), second = two_digits(p + 17);
  if (!civil::is_date(year, month, day) || hour > 23 || minute > 59 || second > 59) return false;
  seconds = civil::to_seconds(year, month, day, hour, minute, second);
  return true;
}

struct MessageParser::Json {
  simdjson::dom::parser parser;
  std::string padded;
};

MessageParser::MessageParser() = default;
MessageParser::~MessageParser() = default;

std::string MessageParser::json_implementation() {
  return std::string(simdjson::get_active_implementation()->name());
}

bool MessageParser::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

bool MessageParser::parse(std::string_view bytes, TurnstileEvent& out) {
  // Trim surrounding whitespace (CRLF, padded lines) without a function call on the common path.
  size_t b = 0, e = bytes.size();
  while (b < e && (bytes[b] == ' ' || bytes[b] == '\t' || bytes[b] == '\r' || bytes[b] == '\n')) ++b;
  while (e > b && (bytes[e - 1] == ' ' || bytes[e - 1] == '\t' || bytes[e - 1] == '\r' || bytes[e - 1] == '\n')) --e;
  std::string_view m = bytes.substr(b, e - b);
  if (m.empty()) return fail("empty message");
  if (m.front() == '{') {
    form_ = WireForm::json_object;
    return parse_json_object(m, out);
  }
  if (m.front() == '"') {
    form_ = WireForm::json_string;
    return parse_json_string(m, out);
  }
  if (m.front() == '[') return fail("a JSON array is not a message (send one object or string per message)");
  form_ = WireForm::csv;
  return parse_csv(m, out);
}

namespace {

// One pass over a CSV line: the positions of its first 13 commas (count may exceed 13) and whether any
// byte is a control character, DEL, '"' (never valid in any field) or non-ASCII (valid only as UTF-8): the
// caller then checks each field.
struct CsvScan {
  uint32_t comma[13];
  uint32_t count = 0;
  bool suspicious = false;
};

inline void record_commas(uint32_t mask, uint32_t base, CsvScan& scan) {
  while (mask != 0) {
    if (scan.count < 13) scan.comma[scan.count] = base + static_cast<uint32_t>(__builtin_ctz(mask));
    ++scan.count;
    mask &= mask - 1;
  }
}

void scan_csv(std::string_view line, CsvScan& scan) {
  const char* p = line.data();
  const uint32_t n = static_cast<uint32_t>(line.size());
  uint32_t i = 0;
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'), del = _mm_set1_epi8(0x7f),
                low = _mm_set1_epi8(0x1f);
  __m128i bad = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    record_commas(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, comma))), i, scan);
    bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, del)));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi8(_mm_max_epu8(x, low), low));  // x <= 0x1f
    bad = _mm_or_si128(bad, x);  // movemask sees the high bit: a non-ASCII byte
  }
  scan.suspicious = _mm_movemask_epi8(bad) != 0;
#endif
  for (; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == ',') record_commas(1, i, scan);
    else if (c < 0x20 || c >= 0x7f || c == '"') scan.suspicious = true;
  }
}

}  // namespace

bool MessageParser::parse_csv(std::string_view line, TurnstileEvent& out) {
  CsvScan scan;  // comma[] is filled by scan_csv; only count and suspicious need a start value
  scan_csv(line, scan);
  if (scan.count != 12) return fail(fmt::format("expected 13 comma-separated fields, found {}", scan.count + 1));
  // Field views built in place (a default-constructed string_view array would be zeroed first).
  union Fields {
    Fields() {}
    std::string_view f[13];
  } fields;
  std::string_view* f = fields.f;
  uint32_t from = 0;
  for (int k = 0; k < 12; ++k) {
    new (&f[k]) std::string_view(line.data() + from, scan.comma[k] - from);
    from = scan.comma[k] + 1;
  }
  new (&f[12]) std::string_view(line.data() + from, line.size() - from);
  if (!check_text_fields(f, !scan.suspicious)) return false;
  uint64_t entries, exits;
  if (const char* problem = parse_count(f[9], entries); *problem)
    return fail(fmt::format("ENTRIES '{}' {}", printable(f[9], 60), problem));
  if (const char* problem = parse_count(f[10], exits); *problem)
    return fail(fmt::format("EXITS '{}' {}", printable(f[10], 60), problem));
  return fill_event(f, entries, exits, out);
}

bool MessageParser::check_text_fields(const std::string_view* f, bool screened) {
  static constexpr int text_fields[] = {0, 1, 2, 3, 4, 5, 8, 11};
  for (int i : text_fields) {
    const std::string_view v = f[i];
    if (!screened || v.empty() || v.size() > max_text_field || v.front() == ' ' || v.back() == ' ') {
      const char* problem = text_field_problem(v);
      if (*problem) return fail(fmt::format("{} '{}' {}", field_names[i], printable(v, 60), problem));
    }
  }
  if (!ca_can_start_csv(f[0])) return fail(ca_start_problem(f[0]));
  if (!valid_date(f[6])) return fail(fmt::format("DATE '{}' is not MM-DD-YY (or MM/DD/YYYY)", printable(f[6], 60)));
  if (!valid_time(f[7])) return fail(fmt::format("TIME '{}' is not HH:MM:SS", printable(f[7], 60)));
  return true;
}

bool MessageParser::fill_event(const std::string_view* f, uint64_t entries, uint64_t exits, TurnstileEvent& out) {
  int64_t ts;
  if (!parse_timestamp(f[12], ts))
    return fail(fmt::format("TIMESTAMP '{}' is not a valid YYYY-MM-DD HH:MM:SS", printable(f[12], 60)));
  static_cast<TurnstileFields&>(out) = turnstile_fields(f);
  out.date = f[6];
  out.time = f[7];
  out.desc = f[8];
  out.entries = entries;
  out.exits = exits;
  out.id = f[11];
  out.timestamp = ts;
  return true;
}

namespace {
void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

bool read_hex4(std::string_view s, size_t i, uint32_t& v) {
  if (i + 4 > s.size()) return false;
  v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
    else return false;
  }
  return true;
}
}  // namespace

bool MessageParser::parse_json_string(std::string_view m, TurnstileEvent& out) {
  if (m.size() < 2 || m.back() != '"') return fail("JSON string is not closed by '\"'");
  std::string_view inner = m.substr(1, m.size() - 2);
  if (inner.find('\\') == std::string_view::npos) {
    if (inner.find('"') != std::string_view::npos) return fail("JSON string contains an unescaped '\"'");
    return parse_csv(inner, out);
  }
  unescaped_.clear();
  for (size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    if (c == '"') return fail("JSON string contains an unescaped '\"'");
    if (c != '\\') {
      unescaped_ += c;
      continue;
    }
    if (++i >= inner.size()) return fail("JSON string ends inside an escape");
    switch (inner[i]) {
      case '"': unescaped_ += '"'; break;
      case '\\': unescaped_ += '\\'; break;
      case '/': unescaped_ += '/'; break;
      case 'b': unescaped_ += '\b'; break;
      case 'f': unescaped_ += '\f'; break;
      case 'n': unescaped_ += '\n'; break;
      case 'r': unescaped_ += '\r'; break;
      case 't': unescaped_ += '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!read_hex4(inner, i + 1, cp)) return fail("JSON string has a bad \\u escape");
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t low;
          if (i + 2 < inner.size() && inner[i + 1] == '\\' && inner[i + 2] == 'u' && read_hex4(inner, i + 3, low) &&
              low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
          } else {
            return fail("JSON string has an unpaired surrogate escape");
          }
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return fail("JSON string has an unpaired surrogate escape");
        }
        append_utf8(cp, unescaped_);
        break;
      }
      default: return fail(fmt::format("JSON string has a bad escape '\\{}'", printable(inner.substr(i, 1))));
    }
  }
  return parse_csv(unescaped_, out);
}

bool MessageParser::parse_json_object(std::string_view m, TurnstileEvent& out) {
  if (!json_) json_ = std::make_unique<Json>();
  Json& j = *json_;
  j.padded.assign(m);
  j.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element doc;
  if (auto err = j.parser.parse(j.padded.data(), m.size(), false).get(doc))
    return fail(fmt::format("invalid JSON: {}", simdjson::error_message(err)));
  simdjson::dom::object object;
  if (doc.get(object)) return fail("JSON value is not an object or a string");
  std::string_view text[13];
  bool seen[13] = {};
  uint64_t counts[2] = {0, 0};
  for (auto field : object) {
    int index = -1;
    for (int i = 0; i < 13; ++i)
      if (field.key == field_names[i]) {
        index = i;
        break;
      }
    if (index < 0) continue;  // other keys are allowed and ignored
    if (seen[index]) return fail(fmt::format("JSON key {} appears twice", field_names[index]));
    seen[index] = true;
    if (index == 9 || index == 10) {
      uint64_t& count = counts[index - 9];
      simdjson::dom::element v = field.value;
      if (v.is_string()) {
        std::string_view s = v.get_string().value_unsafe();
        if (const char* problem = parse_count(s, count); *problem)
          return fail(fmt::format("{} '{}' {}", field_names[index], printable(s, 60), problem));
      } else if (v.is_int64()) {
        int64_t x = v.get_int64().value_unsafe();
        if (x < 0) return fail(fmt::format("{} {} is negative", field_names[index], x));
        count = static_cast<uint64_t>(x);
      } else if (v.is_uint64()) {
        return fail(fmt::format("{} {} does not fit a 64-bit signed integer", field_names[index],
                                v.get_uint64().value_unsafe()));
      } else {
        return fail(fmt::format("{} is not an integer", field_names[index]));
      }
      continue;
    }
    if (!field.value.is_string()) return fail(fmt::format("{} is not a JSON string", field_names[index]));
    text[index] = field.value.get_string().value_unsafe();
  }
  for (int i = 0; i < 13; ++i)
    if (!seen[i]) return fail(fmt::format("JSON key {} is missing", field_names[i]));
  if (!check_text_fields(text, false)) return false;
  return fill_event(text, counts[0], counts[1], out);
}

}  // namespace mtastream::event
