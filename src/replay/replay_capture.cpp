#include "replay/replay_capture.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>

#include "base/text.h"

namespace mtastream::replay {

namespace {

bool parse_int(std::string_view text, int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string parse_json_line(std::string_view line, CapturedMessage& message) {
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(line.data(), line.size()).get(doc))
    return fmt::format("not valid JSON: {}", simdjson::error_message(error));
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return "a JSON capture line must be an object";
  message = CapturedMessage{};
  bool have_value = false;
  for (auto [field, value] : object) {
    if (field == "ts" || field == "timestamp") {
      int64_t ms;
      if (value.get_int64().get(ms)) return fmt::format("\"{}\" must be an integer (milliseconds)", field);
      message.timestamp_ms = ms;
    } else if (field == "key") {
      if (value.is_null()) continue;
      std::string_view key;
      if (value.get_string().get(key)) return "\"key\" must be a string or null";
      message.has_key = true;
      message.key.assign(key);
    } else if (field == "payload" || field == "value") {
      std::string_view text;
      if (value.is_null()) return fmt::format("\"{}\" is null (a tombstone): nothing to replay", field);
      if (value.get_string().get(text)) return fmt::format("\"{}\" must be a string", field);
      message.value.assign(text);
      have_value = true;
    }
  }
  if (!have_value) return "no \"payload\" (or \"value\") field";
  return "";
}

}  // namespace

std::string parse_capture_line(std::string_view line, CapturedMessage& message) {
  if (!line.empty() && line.front() == '{') return parse_json_line(line, message);
  size_t tab1 = line.find('\t');
  size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
  if (tab2 == std::string_view::npos)
    return "neither a JSON object nor TIMESTAMP<TAB>KEY<TAB>VALUE";
  message = CapturedMessage{};
  if (!parse_int(line.substr(0, tab1), message.timestamp_ms))
    return fmt::format("timestamp '{}' is not an integer (milliseconds)", printable(line.substr(0, tab1), 30));
  message.key.assign(line.substr(tab1 + 1, tab2 - tab1 - 1));
  message.has_key = !message.key.empty();
  message.value.assign(line.substr(tab2 + 1));
  return "";
}

}  // namespace mtastream::replay
