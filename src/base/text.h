// Small string helpers shared by the parsers.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mtastream {

std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string to_lower(std::string_view s);
// Lines without their '\n' or "\r\n"; a last line without newline is included.
std::vector<std::string_view> split_lines(std::string_view text);
std::vector<std::string_view> split(std::string_view text, char separator);
// For error messages: control and non-ASCII bytes shown as \xNN, cut at `limit` bytes.
std::string printable(std::string_view s, size_t limit = 120);

// Edits (insert, delete, replace, swap of two neighbours) from `a` to `b`: "prodcue" -> "produce" is 1.
size_t edit_distance(std::string_view a, std::string_view b);
// For "did you mean": the candidate nearest to `word` if close enough to be a typo (at most 2 edits, and
// fewer than half its length; a unique prefix also counts), else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// Any "scheme://user:password@" in `text` gets "***" for the password (for messages and config show).
std::string redact_url_passwords(std::string_view text);

}  // namespace mtastream
