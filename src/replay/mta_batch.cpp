#include "replay/mta_batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "base/civil_time.h"
#include "event/event_id.h"
#include "event/message_parser.h"
#include "base/text.h"

namespace mtastream::replay {

namespace {

// The header's columns, also the names in row errors.
constexpr std::array<std::string_view, 11> field_names = {"C/A",  "UNIT", "SCP",  "STATION", "LINENAME", "DIVISION",
                                                          "DATE", "TIME", "DESC", "ENTRIES", "EXITS"};

std::string_view trim_blanks(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

// Splits on commas into at most `max` fields; returns the count (max + 1 means "too many").
size_t split_fields(std::string_view line, std::array<std::string_view, 13>& fields) {
  size_t n = 0, start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (n == fields.size()) return n + 1;
    fields[n++] = trim_blanks(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return n;
    start = comma + 1;
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int two_digits(std::string_view s, size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool is_mta_header(std::string_view line) {
  std::array<std::string_view, 13> fields;
  size_t n = split_fields(line, fields);
  size_t first = 0;
  if (n == 12 && fields[0].empty()) first = 1;  // pandas: empty index column name
  else if (n != 11) return false;
  for (size_t i = 0; i < field_names.size(); ++i) {
    std::string_view f = fields[first + i];
    if (f != field_names[i] && !(i == 0 && f == "CA")) return false;
  }
  return true;
}

std::string parse_mta_row(std::string_view line, MtaRow& row) {
  line = trim_blanks(line);
  if (line.find('"') != std::string_view::npos) return "quoted fields are not supported in MTA files";
  std::array<std::string_view, 13> fields;
  size_t n = split_fields(line, fields);
  size_t first = 0;
  if (n == 12) {
    if (!all_digits(fields[0])) return fmt::format("12 fields but the first (pandas index) '{}' is not an integer",
                                                   printable(fields[0], 20));
    first = 1;
  } else if (n != 11) {
    return fmt::format("{} fields, expected 11 (raw MTA layout) or 12 (pandas copy with index column)",
                       n > 12 ? "more than 12" : std::to_string(n));
  }
  row.has_index = first == 1;
  const std::string_view* f = fields.data() + first;
  for (size_t i = 0; i < 4; ++i)
    if (f[i].empty()) return fmt::format("{} is empty", field_names[i]);
  // Every text field becomes a field of a published message: the same rule as MessageParser, so that what
  // replay sends, consume accepts (a NUL or invalid UTF-8 in DESC used to be published as is).
  for (size_t i : {0, 1, 2, 3, 4, 5, 8})
    if (const char* problem = event::text_field_problem(f[i]); *problem)
      return fmt::format("{} '{}' {}", field_names[i], printable(f[i], 40), problem);
  if (f[0].front() == '[' || f[0].front() == '{')
    return fmt::format("C/A '{}' starts with '{}' (its messages would read as JSON)", printable(f[0], 40), f[0].front());
  static_cast<event::TurnstileFields&>(row) = event::turnstile_fields(f);
  row.desc = f[8];

  std::string_view date = f[6], time = f[7];
  if (date.size() != 10 || date[2] != '/' || date[5] != '/' || !is_digit(date[0]) || !is_digit(date[1]) ||
      !is_digit(date[3]) || !is_digit(date[4]) || !all_digits(date.substr(6)))
    return fmt::format("DATE '{}' is not MM/DD/YYYY", printable(date, 20));
  const unsigned month = two_digits(date, 0), day = two_digits(date, 3);
  const int year = two_digits(date, 6) * 100 + two_digits(date, 8);
  if (!civil::is_date(year, month, day)) return fmt::format("DATE '{}' is not a calendar date", date);
  if (time.size() != 8 || time[2] != ':' || time[5] != ':' || !is_digit(time[0]) || !is_digit(time[1]) ||
      !is_digit(time[3]) || !is_digit(time[4]) || !is_digit(time[6]) || !is_digit(time[7]))
    return fmt::format("TIME '{}' is not HH:MM:SS", printable(time, 20));
  const unsigned hour = two_digits(time, 0), minute = two_digits(time, 3), second = two_digits(time, 6);
  if (hour > 23 || minute > 59 || second > 59) return fmt::format("TIME '{}' is out of range", time);
  row.time = civil::to_seconds(year, month, day, hour, minute, second);

  row.entries_text = f[9];
  row.exits_text = f[10];
  for (int i = 0; i < 2; ++i) {
    std::string_view text = i == 0 ? f[9] : f[10];
    std::string_view name = i == 0 ? "ENTRIES" : "EXITS";
    if (!all_digits(text)) return fmt::format("{} '{}' is not a non-negative integer", name, printable(text, 20));
    // Registers are at most 10 digits; 18 keeps any value well inside int64 for delta arithmetic.
    if (text.size() > 18) return fmt::format("{} '{}' has more than 18 digits", name, printable(text, 24));
    uint64_t value = 0;
    for (char c : text) value = value * 10 + static_cast<uint64_t>(c - '0');
    (i == 0 ? row.entries : row.exits) = value;
  }
  return "";
}

uint32_t MtaReadings::add_source(std::string name) {
  sources_.push_back(std::move(name));
  return static_cast<uint32_t>(sources_.size() - 1);
}

void MtaReadings::add(const MtaRow& row, uint32_t source, uint64_t line) {
  key_.clear();
  key_.append(row.ca).append(1, '\x1f').append(row.unit).append(1, '\x1f').append(row.scp).append(1, '\x1f').append(row.station);
  auto [turnstile, new_turnstile] = turnstile_ids_.try_emplace(key_, static_cast<uint32_t>(turnstiles_.size()));
  if (new_turnstile)
    turnstiles_.push_back({std::string(row.ca), std::string(row.unit), std::string(row.scp), std::string(row.station)});
  key_.clear();
  key_.append(row.linename).append(1, '\x1f').append(row.division).append(1, '\x1f').append(row.desc);
  auto [details, new_details] = details_ids_.try_emplace(key_, static_cast<uint32_t>(details_.size()));
  if (new_details) details_.push_back({std::string(row.linename), std::string(row.division), std::string(row.desc)});
  readings_.push_back({row.time, row.entries, row.exits, turnstile->second, details->second, source,
                       static_cast<uint32_t>(std::min<uint64_t>(line, UINT32_MAX))});
}

MtaFileLoader::MtaFileLoader(MtaReadings& readings, std::string source_name, MtaRejectHandler on_reject)
    : readings_(readings), source_(readings.add_source(std::move(source_name))), on_reject_(std::move(on_reject)) {}

void MtaFileLoader::reject(uint64_t line_number, std::string reason, std::string_view text, bool unterminated) {
  ++rejected_;
  if (unterminated) reason += "; it is the last line and has no newline: the input was cut short";
  if (on_reject_) on_reject_({readings_.sources()[source_], line_number, std::move(reason), text});
}

void MtaFileLoader::add_line(std::string_view line, uint64_t line_number, bool unterminated) {
  if (trim_blanks(line).empty() || is_mta_header(line)) return;
  MtaRow row;
  std::string reason = parse_mta_row(line, row);
  if (!reason.empty()) return reject(line_number, std::move(reason), line, unterminated);
  if (!row.has_index) {
    auto padded = [](std::string_view digits) { return digits.size() > 1 && digits[0] == '0'; };
    if (counter_width_ == 0) {
      if (padded(row.entries_text)) counter_width_ = row.entries_text.size();
      else if (padded(row.exits_text)) counter_width_ = row.exits_text.size();
    }
    if (counter_width_ != 0) {
      for (int i = 0; i < 2; ++i) {
        std::string_view text = i == 0 ? row.entries_text : row.exits_text;
        if (text.size() != counter_width_)
          return reject(line_number,
                        fmt::format("{} '{}' has {} digits where this file zero-pads counters to {}",
                                    i == 0 ? "ENTRIES" : "EXITS", text, text.size(), counter_width_),
                        line, unterminated);
      }
    }
  }
  readings_.add(row, source_, line_number);
  ++rows_;
}

void load_mta_text(std::string_view text, const std::string& source_name, MtaReadings& readings,
                   const MtaRejectHandler& on_reject) {
  MtaFileLoader loader(readings, source_name, on_reject);
  std::vector<std::string_view> lines = split_lines(text);
  bool unterminated = !text.empty() && text.back() != '\n';
  for (size_t i = 0; i < lines.size(); ++i) loader.add_line(lines[i], i + 1, unterminated && i + 1 == lines.size());
}

std::string_view anomaly_kind_name(MtaAnomalyKind kind) {
  switch (kind) {
    case MtaAnomalyKind::duplicate_reading: return "duplicate_reading";
    case MtaAnomalyKind::negative_delta: return "negative_delta";
    case MtaAnomalyKind::delta_above_max: return "delta_above_max";
  }
  return "?";
}

namespace {
// Min-heap order: earliest pending event first, then turnstile order.
bool later(const auto& a, const auto& b) { return a.time != b.time ? a.time > b.time : a.rank > b.rank; }
}  // namespace

MtaDeltaStream::MtaDeltaStream(MtaReadings& readings, uint64_t max_delta, AnomalyHandler on_anomaly)
    : readings_(readings), max_delta_(max_delta), on_anomaly_(std::move(on_anomaly)) {
  const auto& turnstiles = readings_.turnstiles();
  std::vector<uint32_t> order(turnstiles.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const MtaTurnstile &x = turnstiles[a], &y = turnstiles[b];
    return std::tie(x.ca, x.unit, x.scp, x.station) < std::tie(y.ca, y.unit, y.scp, y.station);
  });
  rank_.resize(turnstiles.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank_[order[r]] = r;

  // Stable: among readings of one turnstile at one time, input order decides which is kept.
  std::vector<MtaReading>& all = readings_.readings();
  std::stable_sort(all.begin(), all.end(), [&](const MtaReading& a, const MtaReading& b) {
    uint32_t ra = rank_[a.turnstile], rb = rank_[b.turnstile];
    return ra != rb ? ra < rb : a.time < b.time;
  });
  for (size_t begin = 0; begin < all.size();) {
    size_t end = begin;
    while (end < all.size() && all[end].turnstile == all[begin].turnstile) ++end;
    Cursor cursor{0, rank_[all[begin].turnstile], static_cast<uint32_t>(begin), 0, static_cast<uint32_t>(end)};
    if (advance(cursor, cursor.kept + 1)) heap_.push_back(cursor);
    begin = end;
  }
  std::make_heap(heap_.begin(), heap_.end(), later<Cursor, Cursor>);
}

bool MtaDeltaStream::advance(Cursor& cursor, uint32_t from) {
  const std::vector<MtaReading>& all = readings_.readings();
  for (uint32_t i = from; i < cursor.end; ++i) {
    const MtaReading& kept = all[cursor.kept];
    const MtaReading& current = all[i];
    int64_t entries_delta = static_cast<int64_t>(current.entries) - static_cast<int64_t>(kept.entries);
    int64_t exits_delta = static_cast<int64_t>(current.exits) - static_cast<int64_t>(kept.exits);
    MtaAnomalyKind kind;
    if (current.time == kept.time) {
      kind = MtaAnomalyKind::duplicate_reading;
      ++counts_.duplicate_readings;
    } else if (entries_delta < 0 || exits_delta < 0) {
      kind = MtaAnomalyKind::negative_delta;
      ++counts_.negative_deltas;
    } else if (static_cast<uint64_t>(entries_delta) > max_delta_ || static_cast<uint64_t>(exits_delta) > max_delta_) {
      kind = MtaAnomalyKind::delta_above_max;
      ++counts_.deltas_above_max;
    } else {
      cursor.pending = i;
      cursor.time = current.time;
      return true;
    }
    if (on_anomaly_)
      on_anomaly_({kind, readings_.turnstiles()[current.turnstile], kept, current, entries_delta, exits_delta});
    if (kind != MtaAnomalyKind::duplicate_reading) cursor.kept = i;  // the next delta starts from here
  }
  return false;
}

bool MtaDeltaStream::next(event::TurnstileEvent& event) {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), later<Cursor, Cursor>);
  Cursor& cursor = heap_.back();
  const std::vector<MtaReading>& all = readings_.readings();
  const MtaReading& kept = all[cursor.kept];
  const MtaReading& current = all[cursor.pending];
  const MtaTurnstile& turnstile = readings_.turnstiles()[current.turnstile];
  const MtaRowDetails& details = readings_.details()[current.details];

  date_.clear();
  civil::append_short_date(current.time, date_);
  time_.clear();
  civil::append_mta_time(current.time, time_);

  id_name_.clear();
  id_name_.append(turnstile.ca).append(1, ',').append(turnstile.unit).append(1, ',').append(turnstile.scp);
  id_name_.append(1, ',').append(turnstile.station).append(1, ',');
  civil::append_timestamp(current.time, id_name_);
  id_.clear();
  event::append_uuid5(event::replay_event_namespace, id_name_, id_);

  static_cast<event::TurnstileFields&>(event) = {turnstile.ca,     turnstile.unit,    turnstile.scp,
                                                 turnstile.station, details.linename, details.division};
  event.desc = details.desc;
  event.date = date_;
  event.time = time_;
  event.entries = current.entries - kept.entries;
  event.exits = current.exits - kept.exits;
  event.id = id_;
  event.timestamp = current.time;
  ++counts_.events;

  cursor.kept = cursor.pending;
  if (advance(cursor, cursor.pending + 1))
    std::push_heap(heap_.begin(), heap_.end(), later<Cursor, Cursor>);
  else
    heap_.pop_back();
  return true;
}

}  // namespace mtastream::replay
