// JsonWriter: builds the one-line JSON objects that `--json` prints on stdout (summaries, listings).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream {

// Appends tokens with commas handled; the caller nests begin/end correctly.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // key(name).value(v)
  template <typename T>
  JsonWriter& field(std::string_view name, T v) {
    key(name);
    return value(v);
  }
  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

// `text` as a JSON string literal body (no quotes): escapes quotes, backslashes and control bytes.
void append_json_escaped(std::string_view text, std::string& out);

}  // namespace mtastream
