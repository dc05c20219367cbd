#include "consume/consume_checkpoint.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "base/duration.h"

namespace mtastream::consume {

namespace {

std::string watermark_text(int64_t wm) {
  if (wm == closed_through_everything) return "+";
  return wm == engine::WindowEngine::minus_infinity ? std::string("-") : std::to_string(wm);
}

bool parse_int(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_watermark(std::string_view text, int64_t& out) {
  if (text == "-" || text == "+") {
    out = text == "-" ? engine::WindowEngine::minus_infinity : closed_through_everything;
    return true;
  }
  return parse_int(text, out);
}

}  // namespace

std::string format_checkpoint_metadata(const ConsumeCheckpoint& c) {
  std::string out = fmt::format("v1;rw={};ct={};rt={};w={};s={};d={};l={};m={};p={}", watermark_text(c.replay_watermark),
                     watermark_text(c.closed_through), c.read_through, c.window.window_seconds,
                     c.window.slide_seconds, c.window.watermark_delay_seconds, lake::lake_layout_name(c.layout),
                     c.topic_windows ? "topic" : "partition", lake::sanitize_name_part(c.prefix));
  if (c.group_columns != engine::all_group_columns) out += ";g=" + engine::group_columns_text(c.group_columns);
  if (!c.partitioning.empty()) out += ";pb=" + c.partitioning;
  if (c.watermark > c.closed_through) out += ";wm=" + watermark_text(c.watermark);
  return out;
}

std::optional<ConsumeCheckpoint> parse_checkpoint_metadata(std::string_view metadata, int64_t offset,
                                                           std::string& error) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t semicolon = metadata.find(';', start);
    parts.push_back(metadata.substr(start, semicolon == std::string_view::npos ? std::string_view::npos
                                                                               : semicolon - start));
    if (semicolon == std::string_view::npos) break;
    start = semicolon + 1;
  }
  if (parts.front() != "v1") {
    error = metadata.empty() ? "no metadata" : fmt::format("unknown metadata version '{}'", parts.front());
    return std::nullopt;
  }
  ConsumeCheckpoint c;
  c.offset = offset;
  bool seen[7] = {};
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      error = fmt::format("'{}' is not key=value", part);
      return std::nullopt;
    }
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    bool ok = true;
    if (key == "rw") ok = parse_watermark(value, c.replay_watermark), seen[0] = true;
    else if (key == "ct") ok = parse_watermark(value, c.closed_through), seen[1] = true;
    else if (key == "rt") ok = parse_int(value, c.read_through), seen[2] = true;
    else if (key == "w") ok = parse_int(value, c.window.window_seconds), seen[3] = true;
    else if (key == "s") ok = parse_int(value, c.window.slide_seconds), seen[4] = true;
    else if (key == "d") ok = parse_int(value, c.window.watermark_delay_seconds), seen[5] = true;
    else if (key == "l") {
      seen[6] = true;
      if (value == "original") c.layout = lake::LakeLayout::original;
      else if (value == "clean") c.layout = lake::LakeLayout::clean;
      else ok = false;
    } else if (key == "m") {
      if (value == "topic") c.topic_windows = true;
      else if (value == "partition") c.topic_windows = false;
      else ok = false;
    } else if (key == "p") {
      c.prefix = std::string(value);
    } else if (key == "g") {
      try {
        c.group_columns = engine::parse_group_columns(value, "g");
      } catch (const Error&) {
        ok = false;
      }
    } else if (key == "pb") {
      c.partitioning = std::string(value);
    } else if (key == "wm") {
      ok = parse_watermark(value, c.watermark);
    }  // unknown keys: written by a newer v1 writer, ignored
    if (!ok) {
      error = fmt::format("bad value in '{}'", part);
      return std::nullopt;
    }
  }
  for (bool s : seen)
    if (!s) {
      error = fmt::format("incomplete checkpoint '{}'", metadata);
      return std::nullopt;
    }
  c.window.group_columns = c.group_columns;
  return c;
}

std::string checkpoint_config_difference(const ConsumeCheckpoint& stored, const ConsumeCheckpoint& now) {
  std::string out;
  auto add = [&](std::string text) {
    if (!out.empty()) out += "; ";
    out += text;
  };
  auto compare = [&](const char* what, int64_t then, int64_t current) {
    if (then != current)
      add(fmt::format("{} {} (stored) vs {} (now)", what, format_duration(then), format_duration(current)));
  };
  compare("window", stored.window.window_seconds, now.window.window_seconds);
  compare("slide", stored.window.slide_seconds, now.window.slide_seconds);
  compare("watermark", stored.window.watermark_delay_seconds, now.window.watermark_delay_seconds);
  if (stored.group_columns != now.group_columns)
    add(fmt::format("group-by {} (stored) vs {} (now)", engine::group_columns_text(stored.group_columns),
                    engine::group_columns_text(now.group_columns)));
  if (stored.partitioning != now.partitioning)
    add(fmt::format("partition-by {} (stored) vs {} (now)", stored.partitioning.empty() ? "none" : stored.partitioning,
                    now.partitioning.empty() ? "none" : now.partitioning));
  if (stored.layout != now.layout)
    add(fmt::format("layout {} (stored) vs {} (now)", lake::lake_layout_name(stored.layout), lake::lake_layout_name(now.layout)));
  if (stored.topic_windows != now.topic_windows)
    add(fmt::format("{} (stored) vs {} (now)", stored.topic_windows ? "topic-wide windows" : "per-partition windows",
                    now.topic_windows ? "topic-wide windows" : "per-partition windows"));
  if (!stored.prefix.empty() && stored.prefix != lake::sanitize_name_part(now.prefix))
    add(fmt::format("prefix '{}' (stored) vs '{}' (now)", stored.prefix, lake::sanitize_name_part(now.prefix)));
  return out;
}

}  // namespace mtastream::consume
