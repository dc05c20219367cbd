// Event-time windows over one stream of turnstile events: dedup, watermark, late detection and sums,
// exactly as PRODUCT.md "Window semantics" says. One engine per stream (consume: one per partition).
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/civil_time.h"
#include "base/error.h"
#include "event/message.h"

namespace mtastream::engine {

// The group columns, a set of CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC (bit i = the i-th of them).
// Output keeps the original's column order whatever order --group-by names them in.
using GroupColumns = uint8_t;
constexpr GroupColumns all_group_columns = 0x7f;
constexpr int group_column_count = 7;
// "CA", "UNIT", ... by bit index.
std::string_view group_column_name(int index);
// "STATION,DESC" -> the set; UsageError (with a suggestion) for an unknown, repeated or empty name.
// `option` names the source in errors ("--group-by").
GroupColumns parse_group_columns(std::string_view list, std::string_view option = "--group-by");
// The set as "CA,UNIT,..." in column order.
std::string group_columns_text(GroupColumns columns);

struct WindowConfig {
  int64_t window_seconds = 300;           // W
  int64_t slide_seconds = 300;            // S (= W: tumbling); 0 < S <= W, at most 1000 windows per event
  int64_t watermark_delay_seconds = 300;  // wm = max event time - delay
  // Distinct group keys the open windows may hold (memory: see group_key_memory). A real network has about
  // 5,000 turnstiles; a stream with far more is broken or hostile, and add() throws
  // GroupKeyLimitError rather than let memory grow without bound.
  uint64_t max_group_keys = 1000000;
  // Events are summed by these columns; the others are left empty in WindowRow.
  GroupColumns group_columns = all_group_columns;
};

// What a group key costs, for --max-keys's help and its error: every open window holds a row per key, so
// memory grows with keys x open windows, not keys alone. Measured (peak RSS, /usr/bin/time -v, aggregate
// --threads 1, one event per key every 5 minutes, 50,000 and 100,000 keys): 0.9 KB per key with 5m windows,
// 1.5 KB with --window 10m --slide 5m, 2.7 KB with --window 60m, 3.5 KB with --window 60m --slide 5m
// --watermark 5m, 7.5 KB with --window 60m --slide 5m.
constexpr const char* group_key_memory =
    "memory: about 0.2 KB per key and open window, (window + watermark) / slide + 1 of them, plus 0.15 KB per "
    "event within the watermark; e.g. 0.9 KB per key with 5m windows, 7.5 KB with --window 60m --slide 5m, at "
    "one event per key every 5 minutes";

class GroupKeyLimitError : public Error {
 public:
  using Error::Error;
};

// Throws UsageError when the config cannot work (non-positive, S > W, W / S > 1000).
void validate_window_config(const WindowConfig& config);

// One output row: the group key (owned copies; columns not grouped by are empty) and 64-bit sums.
struct WindowRow {
  std::string ca, unit, scp, station, linename, division, desc;
  int64_t entries = 0;
  int64_t exits = 0;
};

// One event's share of a window, kept when WindowEngine::keep_event_ids() is on (consume's topic-wide
// windows: the merge drops copies of one ID that several partitions counted).
struct WindowEvent {
  uint64_t id_hash;  // WindowEngine::id_hash(ID)
  uint32_t row;      // index into ClosedWindow::rows
  int64_t entries;
  int64_t exits;
};

// A window that closed: [start, end) in seconds since the epoch (UTC arithmetic); rows sorted by
// (CA, UNIT, SCP, STATION, LINENAME, DIVISION, DESC), bytewise (the columns not grouped by are empty).
struct ClosedWindow {
  int64_t start = 0;
  int64_t end = 0;
  std::vector<WindowRow> rows;
  // The smallest position of its events, and the watermark just before that event was added: where a
  // replay that rebuilds this window must start (consume keeps windows not yet in the lake replayable).
  int64_t min_position = 0;
  int64_t watermark_at_min = 0;
  std::vector<WindowEvent> events;  // with keep_event_ids(): every event added, in order of adding
};

enum class AddResult {
  accepted,   // added to at least one open window
  duplicate,  // its ID was already seen among events not yet behind the watermark: skipped entirely
              // (no window, no watermark advance, the ID's record keeps the first event's time)
  late,       // all its windows already closed: not added
  overflow,   // adding it would push a sum past the int64 maximum: not added
  too_late_in_time,  // a window of it would end after 9999-12-31 23:59:59, past what DATE MM/DD/YYYY can
                     // show: not added (counted as overflow)
};

// The last instant a window may end at: 9999-12-31 23:59:59 UTC.
constexpr int64_t max_window_end_seconds = civil::last_four_digit_year_second;

struct WindowCounters {
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t late = 0;
  uint64_t overflow = 0;
  uint64_t windows_closed = 0;   // windows handed out by take_closed()
  uint64_t rows = 0;             // rows in the windows handed out
  uint64_t windows_skipped = 0;  // closed windows not handed out because restore() said they were written
};

class WindowEngine {
 public:
  static constexpr int64_t minus_infinity = std::numeric_limits<int64_t>::min();

  explicit WindowEngine(WindowConfig config);  // validates the config (UsageError)
  ~WindowEngine();

  // Keep each added event's ID hash and share in its windows (memory: per event and window, not per key).
  void keep_event_ids(bool on) { keep_event_ids_ = on; }
  // A stable 64-bit hash of an event ID (the same in every run and version).
  static uint64_t id_hash(std::string_view id);
  WindowEngine(const WindowEngine&) = delete;
  WindowEngine& operator=(const WindowEngine&) = delete;

  // Steps (1)-(4) of the window semantics for one event. `position` is where it came from (line number,
  // Kafka offset); min_open_position() reports it back. The event's views are copied as needed.
  AddResult add(const event::TurnstileEvent& event, int64_t position);

  // Optional speed path: prepare() hashes an event and starts loading the state add() will touch; a
  // caller that prepares the next message before adding the current one hides those cache misses.
  // `prepared` must come from prepare() of this engine for this very event (same field values).
  struct Prepared {
    uint64_t id_hash;
    uint64_t key_hash;
  };
  Prepared prepare(const event::TurnstileEvent& event) const;
  AddResult add(const event::TurnstileEvent& event, int64_t position, const Prepared& prepared);
  // prepare() without touching any engine's state (for a thread that only picks the shard).
  static Prepared hash(const event::TurnstileEvent& event, GroupColumns columns = all_group_columns);
  void prefetch(const Prepared& prepared) const;

  // Sharded windows (aggregate --threads): add() split in two so results equal one engine's. A front
  // engine sees every event in input order and decides steps (1) and (3), dedup and the watermark:
  // admit() returns duplicate, late, too_late_in_time or accepted (= to be added by a shard). Shard
  // engines, each holding a disjoint set of group keys, then do step (2) with add_admitted() and the
  // front's watermark from just before that event; the result is accepted or overflow. A shard's
  // windows close on advance_watermark() (the front's watermark), so every shard closes the same windows.
  AddResult admit(const event::TurnstileEvent& event, const Prepared& prepared);
  AddResult add_admitted(const event::TurnstileEvent& event, int64_t position, const Prepared& prepared,
                         int64_t watermark_before);

  // Windows closed since the last call, in order of end (then start). Moves them out.
  std::vector<ClosedWindow> take_closed();
  bool has_closed() const { return !closed_.empty(); }

  // End of input: close every open window (take_closed() then hands them out).
  void close_all();

  // The watermark (minus_infinity before the first event).
  int64_t watermark() const { return watermark_; }

  // Moves the watermark forward to `wm` (no-op if not ahead) and closes what it passed: consume's idle
  // rule for a partition read to its end while the others went on.
  void advance_watermark(int64_t wm);

  // Restart from a stored watermark: windows with end <= wm count as closed; events only for them are late.
  void restore_watermark(int64_t wm);

  // Exact restart (consume): replay from `replay_watermark` (the watermark when the event at the committed
  // min_open_position() was added, see replay_watermark()) but never hand out a window with
  // end <= closed_through (the watermark at commit time: those windows were already written).
  void restore(int64_t replay_watermark, int64_t closed_through);

  // Smallest position of any event held in a still-open window; nullopt when none is open.
  std::optional<int64_t> min_open_position() const;
  // The watermark just before the event at min_open_position() was added (minus_infinity if none open).
  int64_t replay_watermark() const;

  size_t open_windows() const;
  size_t group_keys() const;   // group keys held (those of open windows, plus keys not yet compacted away)
  size_t tracked_ids() const;  // IDs kept for dedup (those not yet behind the watermark, plus slack)
  const WindowCounters& counters() const { return counters_; }
  const WindowConfig& config() const { return config_; }

 private:
  AddResult add_keyed(const event::TurnstileEvent& event, int64_t position, const Prepared& prepared);
  event::TurnstileEvent key_event(const event::TurnstileEvent& event) const;  // the columns not grouped by emptied
  static event::TurnstileEvent keyed(const event::TurnstileEvent& event, GroupColumns columns);
  void close_passed();  // step (4): close windows with end <= watermark
  // The starts of the event's windows not yet closed under `watermark`: first..last step S (none if first > last).
  void window_range(int64_t t, int64_t watermark, int64_t& first_start, int64_t& last_start);
  AddResult add_to_windows(const event::TurnstileEvent& event, uint32_t key, int64_t first_start, int64_t last_start,
                           int64_t position, uint64_t id_hash, int64_t wm_before);
  void close_windows(bool all);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  WindowConfig config_;
  int64_t watermark_ = minus_infinity;
  int64_t closed_through_ = minus_infinity;  // windows ending at or before this were written before a restart
  bool keep_event_ids_ = false;
  bool all_columns_ = true;  // grouped by all seven: the event's fields are the key as they are
  std::vector<ClosedWindow> closed_;
  WindowCounters counters_;
};

// Why add() rejected an event (late, overflow, too_late_in_time), for warnings and dead letters;
// `watermark` is the engine's watermark before add().
std::string rejection_reason(AddResult result, int64_t event_time, int64_t watermark);

}  // namespace mtastream::engine
