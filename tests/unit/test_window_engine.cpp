#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "base/civil_time.h"
#include "base/error.h"
#include "event/message_parser.h"
#include "engine/window_engine.h"

using namespace mtastream;
using namespace mtastream::engine;
using namespace mtastream::event;

namespace {

// 2023-09-23 00:00:00 UTC
constexpr int64_t day0 = 1695427200;

struct Ev {
  std::string ca = "A001", unit = "R001", scp = "02-00-00", station = "S1", linename = "456", division = "BMT";
  std::string desc = "REGULAR", id;
  uint64_t entries = 1, exits = 2;
  int64_t t = 0;
  TurnstileEvent view() const {
    TurnstileEvent e;
    e.ca = ca;
    e.unit = unit;
    e.scp = scp;
    e.station = station;
    e.linename = linename;
    e.division = division;
    e.date = "09-23-23";
    e.time = "00:00:00";
    e.desc = desc;
    e.entries = entries;
    e.exits = exits;
    e.id = id;
    e.timestamp = t;
    return e;
  }
};

Ev ev(std::string id, int64_t t, uint64_t entries = 1, uint64_t exits = 2, std::string ca = "A001") {
  Ev e;
  e.id = std::move(id);
  e.t = t;
  e.entries = entries;
  e.exits = exits;
  e.ca = std::move(ca);
  return e;
}

WindowConfig cfg(int64_t w, int64_t s, int64_t delay) { return WindowConfig{w, s, delay}; }

AddResult add(WindowEngine& engine, const Ev& e, int64_t position = 0) { return engine.add(e.view(), position); }

std::string date_time(int64_t seconds) {
  std::string s;
  civil::append_mta_date(seconds, s);
  s += ' ';
  civil::append_mta_time(seconds, s);
  return s;
}

}  // namespace

TEST(WindowEngine, ConfigIsValidated) {
  EXPECT_THROW(WindowEngine(cfg(0, 0, 0)), UsageError);
  EXPECT_THROW(WindowEngine(cfg(300, 600, 300)), UsageError);
  EXPECT_THROW(WindowEngine(cfg(300, 300, -1)), UsageError);
  EXPECT_THROW(WindowEngine(cfg(100000, 1, 0)), UsageError);
  EXPECT_NO_THROW(WindowEngine(cfg(300, 60, 0)));
}

TEST(WindowEngine, TumblingSumsPerGroupAndSortedRows) {
  WindowEngine engine(cfg(300, 300, 300));
  EXPECT_EQ(add(engine, ev("a", day0 + 10, 5, 6, "B002")), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("b", day0 + 20, 7, 8, "A001")), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("c", day0 + 299, 1, 1, "B002")), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("d", day0 + 300, 100, 100, "A001")), AddResult::accepted);  // next window
  EXPECT_FALSE(engine.has_closed());
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].start, day0);
  EXPECT_EQ(closed[0].end, day0 + 300);
  ASSERT_EQ(closed[0].rows.size(), 2u);
  EXPECT_EQ(closed[0].rows[0].ca, "A001");
  EXPECT_EQ(closed[0].rows[0].entries, 7);
  EXPECT_EQ(closed[0].rows[1].ca, "B002");
  EXPECT_EQ(closed[0].rows[1].entries, 6);
  EXPECT_EQ(closed[0].rows[1].exits, 7);
  EXPECT_EQ(closed[1].start, day0 + 300);
  EXPECT_EQ(closed[1].rows[0].entries, 100);
  EXPECT_EQ(engine.counters().windows_closed, 2u);
  EXPECT_EQ(engine.counters().rows, 3u);
  EXPECT_EQ(engine.open_windows(), 0u);
}

TEST(WindowEngine, GroupKeyIsAllSevenFields) {
  WindowEngine engine(cfg(60, 60, 0));
  Ev a = ev("a", day0), b = ev("b", day0), c = ev("c", day0);
  b.desc = "RECOVR AUD";
  c.station = "S2";
  add(engine, a);
  add(engine, b);
  add(engine, c);
  add(engine, ev("d", day0));
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  ASSERT_EQ(closed[0].rows.size(), 3u);
  EXPECT_EQ(closed[0].rows[0].desc, "RECOVR AUD");
  EXPECT_EQ(closed[0].rows[1].desc, "REGULAR");
  EXPECT_EQ(closed[0].rows[1].entries, 2);
  EXPECT_EQ(closed[0].rows[2].station, "S2");
}

// Step (1): an ID seen among events not yet behind the watermark is a duplicate.
TEST(WindowEngine, Step1DuplicateWithinWatermark) {
  WindowEngine engine(cfg(300, 300, 300));
  EXPECT_EQ(add(engine, ev("x", day0 + 10, 5, 5)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("x", day0 + 10, 5, 5)), AddResult::duplicate);
  EXPECT_EQ(add(engine, ev("x", day0 + 200, 5, 5)), AddResult::duplicate);  // same ID, other time: still a dup
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].rows[0].entries, 5);
  EXPECT_EQ(engine.counters().duplicates, 2u);
}

// Step (1): a duplicate is skipped entirely: it does not move the watermark or its ID's record.
TEST(WindowEngine, Step1DuplicateChangesNothing) {
  WindowEngine engine(cfg(300, 300, 0));
  EXPECT_EQ(add(engine, ev("x", day0 + 10)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("x", day0 + 900)), AddResult::duplicate);
  EXPECT_EQ(engine.watermark(), day0 + 10);
  EXPECT_FALSE(engine.has_closed());
  EXPECT_EQ(add(engine, ev("y", day0 + 20)), AddResult::accepted);  // wm = day0 + 20 > x's time 10
  EXPECT_EQ(add(engine, ev("x", day0 + 30)), AddResult::accepted);  // x forgotten: its record stayed at 10
}

// Step (1), boundary: an ID whose latest event is behind the watermark (t < wm) is forgotten.
TEST(WindowEngine, Step1IdBehindWatermarkIsForgotten) {
  WindowEngine engine(cfg(600, 600, 60));
  EXPECT_EQ(add(engine, ev("x", day0 + 100)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("y", day0 + 160)), AddResult::accepted);  // wm = day0 + 100: x not behind (t == wm)
  EXPECT_EQ(add(engine, ev("x", day0 + 100)), AddResult::duplicate);
  EXPECT_EQ(add(engine, ev("z", day0 + 161)), AddResult::accepted);  // wm = day0 + 101 > x's time
  EXPECT_EQ(add(engine, ev("x", day0 + 100)), AddResult::accepted);  // window [day0, day0+600) still open
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].rows[0].entries, 4);
}

// Step (2): added to each window whose end > wm; none such: late.
TEST(WindowEngine, Step2LateWhenAllWindowsClosed) {
  WindowEngine engine(cfg(300, 300, 0));
  EXPECT_EQ(add(engine, ev("a", day0 + 10)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("b", day0 + 300)), AddResult::accepted);  // wm = day0+300: closes [day0, day0+300)
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(add(engine, ev("c", day0 + 299)), AddResult::late);
  EXPECT_EQ(engine.counters().late, 1u);
  engine.close_all();
  closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].start, day0 + 300);
  EXPECT_EQ(closed[0].rows[0].entries, 1);
}

// Step (2) with sliding windows: only the windows still open get the event; it is not late.
TEST(WindowEngine, Step2SlidingPartlyClosed) {
  WindowEngine engine(cfg(600, 300, 0));
  add(engine, ev("a", day0 + 700));  // wm = day0+700: windows ending <= day0+700 closed (none existed)
  EXPECT_EQ(add(engine, ev("b", day0 + 650, 10, 10)), AddResult::accepted);  // [day0+300,+900) yes, [day0+600,+1200) yes
  EXPECT_EQ(add(engine, ev("c", day0 + 350, 10, 10)), AddResult::accepted);  // [day0,+600) closed, [day0+300,+900) open
  EXPECT_EQ(add(engine, ev("d", day0 + 100, 10, 10)), AddResult::late);      // [day0-300,+300), [day0,+600): closed
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].start, day0 + 300);
  EXPECT_EQ(closed[0].rows[0].entries, 21);  // a, b, c
  EXPECT_EQ(closed[1].start, day0 + 600);
  EXPECT_EQ(closed[1].rows[0].entries, 11);  // a, b
}

// Step (3): the watermark never goes back; delay applies.
TEST(WindowEngine, Step3WatermarkIsMaxMinusDelay) {
  WindowEngine engine(cfg(300, 300, 120));
  EXPECT_EQ(engine.watermark(), WindowEngine::minus_infinity);
  add(engine, ev("a", day0 + 1000));
  EXPECT_EQ(engine.watermark(), day0 + 880);
  add(engine, ev("b", day0 + 900));
  EXPECT_EQ(engine.watermark(), day0 + 880);
  add(engine, ev("c", day0 + 1200));
  EXPECT_EQ(engine.watermark(), day0 + 1080);
}

// Step (4): a window closes when wm reaches exactly its end, not one second before.
TEST(WindowEngine, Step4CloseAtExactlyTheWindowEnd) {
  WindowEngine engine(cfg(300, 300, 300));
  add(engine, ev("a", day0 + 10));
  add(engine, ev("b", day0 + 599));  // wm = day0 + 299
  EXPECT_FALSE(engine.has_closed());
  EXPECT_EQ(add(engine, ev("c", day0 + 299)), AddResult::accepted);  // its window ends at day0+300 > wm
  add(engine, ev("d", day0 + 600));  // wm = day0 + 300 == end
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].end, day0 + 300);
  EXPECT_EQ(closed[0].rows[0].entries, 2);
  EXPECT_EQ(add(engine, ev("e", day0 + 299)), AddResult::late);
  EXPECT_EQ(add(engine, ev("f", day0 + 300)), AddResult::accepted);
}

TEST(WindowEngine, MidnightWindowEndIsNextDay) {
  WindowEngine engine(cfg(300, 300, 300));
  add(engine, ev("a", day0 + 86400 - 1));  // 23:59:59
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(date_time(closed[0].end), "09/24/2023 00:00:00");
  EXPECT_EQ(date_time(closed[0].start), "09/23/2023 23:55:00");
  EXPECT_EQ(date_time(day0 + 86400 * 99 + 3723), "12/31/2023 01:02:03");
  EXPECT_EQ(date_time(951782400), "02/29/2000 00:00:00");
}

TEST(WindowEngine, SlidingOverlapEveryWindowGetsTheEvent) {
  WindowEngine engine(cfg(300, 60, 300));
  add(engine, ev("a", day0 + 130, 3, 4));
  engine.close_all();
  auto closed = engine.take_closed();
  // Windows [s, s+300) with s multiple of 60 and s <= 130 < s+300: s = -120, -60, 0, 60, 120.
  ASSERT_EQ(closed.size(), 5u);
  for (size_t i = 0; i < closed.size(); ++i) {
    EXPECT_EQ(closed[i].start, day0 - 120 + 60 * static_cast<int64_t>(i));
    EXPECT_EQ(closed[i].end, closed[i].start + 300);
    EXPECT_EQ(closed[i].rows.at(0).entries, 3);
  }
}

TEST(WindowEngine, SlidingNotMultipleOfSlide) {
  WindowEngine engine(cfg(300, 120, 0));
  add(engine, ev("a", day0 + 250));
  engine.close_all();
  auto closed = engine.take_closed();
  // s in {..., 0, 120, 240} with s <= 250 < s + 300: 0, 120, 240
  ASSERT_EQ(closed.size(), 3u);
  EXPECT_EQ(closed[0].start, day0 + 0 - (day0 % 120));
}

TEST(WindowEngine, EndOfInputFlushClosesAllInOrder) {
  WindowEngine engine(cfg(300, 300, 3600));
  for (int i = 0; i < 10; ++i) add(engine, ev("id" + std::to_string(i), day0 + 300 * (9 - i)));
  EXPECT_FALSE(engine.has_closed());
  EXPECT_EQ(engine.open_windows(), 10u);
  engine.close_all();
  auto closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 10u);
  for (size_t i = 1; i < closed.size(); ++i) EXPECT_LT(closed[i - 1].end, closed[i].end);
  EXPECT_EQ(engine.open_windows(), 0u);
}

TEST(WindowEngine, SumsAre64BitAndOverflowIsRejected) {
  WindowEngine engine(cfg(300, 300, 300));
  const uint64_t big = 4000000000000000000ull;
  EXPECT_EQ(add(engine, ev("a", day0, big, 1)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("b", day0, big, 1)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev("c", day0, big, 1)), AddResult::overflow);
  engine.close_all();
  auto closed = engine.take_closed();
  EXPECT_EQ(closed.at(0).rows.at(0).entries, 8000000000000000000);
}

TEST(WindowEngine, WindowsEndingAfterYear9999AreRejectedWhole) {
  // 9999-12-31 23:50:00, 23:55:00 and 23:58:00 UTC.
  const int64_t t2350 = max_window_end_seconds + 1 - 600, t2355 = t2350 + 300, t2358 = t2350 + 480;
  WindowEngine tumbling(cfg(300, 300, 300));
  EXPECT_EQ(add(tumbling, ev("a", t2350)), AddResult::accepted);  // [23:50, 23:55)
  EXPECT_EQ(add(tumbling, ev("b", t2358)), AddResult::too_late_in_time);  // [23:55, 10000-01-01 00:00)
  EXPECT_EQ(tumbling.counters().overflow, 1u);
  tumbling.close_all();
  auto closed = tumbling.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(date_time(closed[0].end), "12/31/9999 23:55:00");
  // Sliding: 23:54 is in [23:45, 23:55) and [23:50, 10000-01-01): all or nothing, so nothing.
  WindowEngine sliding(cfg(600, 300, 600));
  EXPECT_EQ(add(sliding, ev("c", t2355 - 60)), AddResult::too_late_in_time);
  EXPECT_EQ(add(sliding, ev("d", t2350 - 60)), AddResult::accepted);
  EXPECT_EQ(rejection_reason(AddResult::too_late_in_time, t2358, WindowEngine::minus_infinity),
            "TIMESTAMP 9999-12-31 23:58:00: a window of it would end after 9999-12-31 23:59:59, which DATE "
            "(MM/DD/YYYY) cannot show");
}

TEST(WindowEngine, GroupKeyLimitCountsOnlyKeysOfOpenWindows) {
  WindowConfig churn = cfg(300, 300, 0);
  churn.max_group_keys = 10;
  WindowEngine engine(churn);
  // 8 new keys in each of 50 consecutive windows: 400 keys in all, never more than 8 open at once.
  for (int w = 0; w < 50; ++w)
    for (int k = 0; k < 8; ++k)
      EXPECT_EQ(add(engine, ev(fmt::format("{}-{}", w, k), day0 + 300 * w, 1, 1, fmt::format("K{}-{}", w, k))),
                AddResult::accepted);
  EXPECT_LE(engine.group_keys(), 13u);  // the table is compacted when it reaches 10 x 1.25
  // New keys in one window: the table reaches 13 (10 x 1.25 + 1), the 14th key finds 14 in use and throws.
  WindowEngine full(churn);
  int added = 0;
  EXPECT_THROW(
      {
        for (; added < 20; ++added) add(full, ev(fmt::format("x{}", added), day0, 1, 1, fmt::format("K{}", added)));
      },
      GroupKeyLimitError);
  EXPECT_EQ(added, 13);
  churn.max_group_keys = 0;
  EXPECT_THROW(WindowEngine{churn}, UsageError);
}

// A duplicate changes nothing (step 1 comes first): a copy of a known ID under a key never seen before
// interns no key and never raises the key limit, in one engine and in the front + shard path.
TEST(WindowEngine, DuplicateWithNewKeyNeverInternsNorRaisesTheKeyLimit) {
  WindowConfig limited = cfg(300, 300, 300);
  limited.max_group_keys = 4;  // the table is checked at 4 + 1 + 1 = 6 keys
  WindowEngine engine(limited), front(limited), shard(limited);
  for (int k = 0; k < 4; ++k) {
    Ev e = ev(fmt::format("id{}", k), day0 + k, 1, 1, fmt::format("K{}", k));
    EXPECT_EQ(add(engine, e), AddResult::accepted);
    WindowEngine::Prepared p = WindowEngine::hash(e.view());
    const int64_t wm = front.watermark();
    ASSERT_EQ(front.admit(e.view(), p), AddResult::accepted);
    EXPECT_EQ(shard.add_admitted(e.view(), k, p, wm), AddResult::accepted);
  }
  for (int copy = 0; copy < 20; ++copy) {  // each copy names another new turnstile
    Ev e = ev(fmt::format("id{}", copy % 4), day0 + copy % 4, 1, 1, fmt::format("NEW{}", copy));
    EXPECT_EQ(add(engine, e), AddResult::duplicate) << "copy " << copy;
    EXPECT_EQ(front.admit(e.view(), WindowEngine::hash(e.view())), AddResult::duplicate) << "copy " << copy;
  }
  EXPECT_EQ(engine.group_keys(), 4u);
  EXPECT_EQ(engine.counters().duplicates, 20u);
  engine.close_all();
  std::vector<ClosedWindow> closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].rows.size(), 4u);
}
TEST(WindowEngine, MinOpenPositionAndRestore) {
  WindowEngine engine(cfg(300, 300, 300));
  EXPECT_FALSE(engine.min_open_position());
  add(engine, ev("a", day0 + 10), 100);
  add(engine, ev("b", day0 + 310), 101);
  add(engine, ev("c", day0 + 20), 102);
  EXPECT_EQ(engine.min_open_position(), 100);
  EXPECT_EQ(engine.replay_watermark(), WindowEngine::minus_infinity);
  add(engine, ev("d", day0 + 600), 103);  // wm = day0 + 300: first window closes
  EXPECT_EQ(engine.take_closed().size(), 1u);
  EXPECT_EQ(engine.min_open_position(), 101);
  EXPECT_EQ(engine.replay_watermark(), day0 + 10 - 300);  // wm before event 101

  // A restarted engine with the stored watermark: windows ending at or before it are closed.
  WindowEngine restarted(cfg(300, 300, 300));
  restarted.restore_watermark(engine.watermark());
  EXPECT_EQ(restarted.watermark(), day0 + 300);
  EXPECT_EQ(add(restarted, ev("c", day0 + 20), 102), AddResult::late);
  EXPECT_EQ(add(restarted, ev("b", day0 + 310), 101), AddResult::accepted);
}

// Exact restart: replaying from min_open_position() with replay_watermark() and skipping windows the
// first run already wrote gives the same windows as a run that never stopped.
TEST(WindowEngine, ExactReplayAfterRestart) {
  std::vector<Ev> events;
  for (int i = 0; i < 400; ++i) {
    int64_t t = day0 + i * 7 - (i % 5) * 40;  // a little out of order
    events.push_back(ev("id" + std::to_string(i % 350), t, static_cast<uint64_t>(i), 1, i % 3 ? "A001" : "B002"));
  }
  auto run_all = [&](WindowEngine& e, size_t from, size_t to, std::vector<ClosedWindow>& out) {
    for (size_t i = from; i < to; ++i) {
      e.add(events[i].view(), static_cast<int64_t>(i));
      for (auto& w : e.take_closed()) out.push_back(std::move(w));
    }
  };
  std::vector<ClosedWindow> expected;
  WindowEngine whole(cfg(300, 120, 200));
  run_all(whole, 0, events.size(), expected);
  whole.close_all();
  for (auto& w : whole.take_closed()) expected.push_back(std::move(w));

  for (size_t crash : {50u, 123u, 260u, 399u}) {
    std::vector<ClosedWindow> got;
    WindowEngine first(cfg(300, 120, 200));
    run_all(first, 0, crash, got);  // "committed" these files
    int64_t closed_through = first.watermark();
    auto position = first.min_open_position();
    int64_t replay_wm = first.replay_watermark();
    WindowEngine second(cfg(300, 120, 200));
    second.restore(replay_wm, closed_through);
    run_all(second, position ? static_cast<size_t>(*position) : crash, events.size(), got);
    second.close_all();
    for (auto& w : second.take_closed()) got.push_back(std::move(w));
    ASSERT_EQ(got.size(), expected.size()) << "crash at " << crash;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].start, expected[i].start);
      ASSERT_EQ(got[i].rows.size(), expected[i].rows.size());
      for (size_t r = 0; r < got[i].rows.size(); ++r) {
        EXPECT_EQ(got[i].rows[r].ca, expected[i].rows[r].ca);
        EXPECT_EQ(got[i].rows[r].entries, expected[i].rows[r].entries) << "crash " << crash << " window " << i;
      }
    }
  }
}

// consume's idle rule moves a partition's watermark past what its events give (advance_watermark). A
// restart replays from the checkpoint and ends at the events' watermark; consume then moves it to the
// stored one, so that a later exact re-send of an event whose windows are written is late, as in the run
// that never stopped, and not a duplicate (its ID would not be behind the replayed watermark).
TEST(WindowEngine, ResendAfterRestartOfAnIdlePartitionIsLate) {
  const Ev x = ev("x", day0 + 3420), e = ev("e", day0 + 3180);  // 00:57 and 00:53; delay 5 min
  WindowEngine uninterrupted(cfg(300, 300, 300));
  EXPECT_EQ(add(uninterrupted, x, 0), AddResult::accepted);
  EXPECT_EQ(add(uninterrupted, e, 1), AddResult::accepted);
  uninterrupted.advance_watermark(day0 + 3300);  // idle: 00:55; [00:50, 00:55) closes
  ASSERT_EQ(uninterrupted.take_closed().size(), 1u);
  const int64_t closed_through = uninterrupted.watermark();
  const auto position = uninterrupted.min_open_position();
  ASSERT_EQ(position, 0);
  const int64_t replay_wm = uninterrupted.replay_watermark();
  EXPECT_EQ(add(uninterrupted, e, 2), AddResult::late);

  for (bool moved : {false, true}) {
    WindowEngine restarted(cfg(300, 300, 300));
    restarted.restore(replay_wm, closed_through);
    add(restarted, x, 0);  // the replay
    add(restarted, e, 1);
    EXPECT_LT(restarted.watermark(), closed_through);
    if (moved) restarted.advance_watermark(closed_through);  // what consume does when the replay is over
    EXPECT_EQ(add(restarted, e, 2), moved ? AddResult::late : AddResult::duplicate);
    EXPECT_TRUE(restarted.take_closed().empty());  // [00:50, 00:55) was written before: not again
  }
}

TEST(WindowEngine, MemoryIsFreedBehindTheWatermark) {
  WindowEngine engine(cfg(300, 300, 300));
  for (int i = 0; i < 200000; ++i) {
    add(engine, ev(std::to_string(i) + "-0000-0000-0000-000000000000", day0 + i, 1, 1,
                   "K" + std::to_string(i % 50)));
    engine.take_closed();
  }
  EXPECT_LE(engine.open_windows(), 3u);
  EXPECT_LE(engine.tracked_ids(), 4000u);  // about 600 s of IDs, not 200,000
  EXPECT_EQ(engine.counters().accepted, 200000u);
}

TEST(WindowEngine, ChurningKeysAreFreed) {
  WindowEngine engine(cfg(60, 60, 0));
  uint64_t rows = 0;
  for (int i = 0; i < 300000; ++i) {
    add(engine, ev("id" + std::to_string(i), day0 + i / 10, 1, 1, "K" + std::to_string(i)));  // a new key each
    for (auto& w : engine.take_closed()) {
      rows += w.rows.size();
      for (auto& r : w.rows) ASSERT_EQ(r.ca.substr(0, 1), "K");
    }
  }
  engine.close_all();
  for (auto& w : engine.take_closed()) rows += w.rows.size();
  EXPECT_EQ(rows, 300000u);
  EXPECT_LE(engine.group_keys(), 140000u);  // not 300,000: compacted as windows closed
}

TEST(WindowEngine, CompactionKeepsSumsOfOpenWindows) {
  // Sliding windows (5 open at a time), a stable key every 50 events among 300,000 one-off keys:
  // compactions happen while windows are open, and every window's sums must survive them.
  WindowEngine engine(cfg(300, 60, 300));
  std::map<int64_t, int64_t> expected;  // window start -> STABLE entries
  std::map<int64_t, int64_t> got;
  for (int i = 0; i < 300000; ++i) {
    int64_t t = day0 + i / 20;
    bool stable = i % 50 == 0;
    add(engine, ev("id" + std::to_string(i), t, stable ? 3 : 1, 1, stable ? "STABLE" : "C" + std::to_string(i)));
    if (stable)
      for (int64_t s = t - t % 60 - 240; s <= t; s += 60) expected[s] += 3;
    for (auto& w : engine.take_closed())
      for (auto& r : w.rows)
        if (r.ca == "STABLE") got[w.start] += r.entries;
  }
  engine.close_all();
  for (auto& w : engine.take_closed())
    for (auto& r : w.rows)
      if (r.ca == "STABLE") got[w.start] += r.entries;
  EXPECT_EQ(got, expected);
  EXPECT_LT(engine.group_keys(), 300000u);
}

TEST(WindowEngine, LongIdsWork) {
  WindowEngine engine(cfg(300, 300, 300));
  std::string long_id(100, 'q');
  EXPECT_EQ(add(engine, ev(long_id, day0)), AddResult::accepted);
  EXPECT_EQ(add(engine, ev(long_id, day0)), AddResult::duplicate);
}

// aggregate --threads: a front engine (admit) and shard engines (add_admitted) give every event the
// result one engine gives it and close the same windows with the same rows, for any number of shards.
TEST(WindowEngine, FrontAndShardsEqualOneEngine) {
  for (const WindowConfig& config : {cfg(300, 300, 300), cfg(300, 60, 120), cfg(60, 60, 0)}) {
    for (unsigned shard_count : {1u, 2u, 3u, 8u}) {
      std::vector<Ev> events;
      std::mt19937_64 rng(12345);
      auto next = [&rng](uint64_t n) { return rng() % n; };
      for (int i = 0; i < 5000; ++i) {
        // Out of order, some late, IDs repeated within and across keys, one sum near the int64 maximum.
        const bool repeat = i > 0 && next(10) == 0;
        std::string id = fmt::format("id-{}", repeat ? i - 1 - static_cast<int>(next(std::min(i, 300))) : i);
        const int64_t t = day0 + i / 3 - static_cast<int64_t>(next(4) == 0 ? next(900) : 0);
        const uint64_t entries = next(9), exits = next(9);
        events.push_back(ev(std::move(id), t, entries, exits, fmt::format("A{:03d}", next(40))));
        if (i == 2500) {  // two halves of the int64 maximum in one row: the second overflows
          events.push_back(ev("ovf-1", day0 + i / 3, INT64_MAX / 2 + 1, 0, "B000"));
          events.push_back(ev("ovf-2", day0 + i / 3, INT64_MAX / 2 + 1, 0, "B000"));
        }
      }
      WindowEngine one(config), front(config);
      std::vector<std::unique_ptr<WindowEngine>> shards;
      for (unsigned s = 0; s < shard_count; ++s) shards.push_back(std::make_unique<WindowEngine>(config));
      std::vector<ClosedWindow> want, got;
      auto take_shards = [&](int64_t wm, bool all) {
        std::map<int64_t, std::vector<WindowRow>> merged;
        for (auto& shard : shards) {
          all ? shard->close_all() : shard->advance_watermark(wm);
          for (ClosedWindow& w : shard->take_closed())
            for (WindowRow& r : w.rows) merged[w.start].push_back(r);
        }
        for (auto& [start, rows] : merged) {
          std::sort(rows.begin(), rows.end(), [](const WindowRow& a, const WindowRow& b) {
            return std::tie(a.ca, a.unit, a.scp, a.station, a.linename, a.division, a.desc) <
                   std::tie(b.ca, b.unit, b.scp, b.station, b.linename, b.division, b.desc);
          });
          ClosedWindow w;
          w.start = start;
          w.end = start + config.window_seconds;
          w.rows = std::move(rows);
          got.push_back(std::move(w));
        }
      };
      for (size_t i = 0; i < events.size(); ++i) {
        TurnstileEvent e = events[i].view();
        AddResult expected = one.add(e, static_cast<int64_t>(i));
        for (ClosedWindow& w : one.take_closed()) want.push_back(std::move(w));
        WindowEngine::Prepared p = WindowEngine::hash(e);
        int64_t wm = front.watermark();
        AddResult result = front.admit(e, p);
        if (result == AddResult::accepted) {
          unsigned shard = static_cast<unsigned>((p.key_hash >> 32) * shard_count >> 32);
          result = shards[shard]->add_admitted(e, static_cast<int64_t>(i), p, wm);
        }
        ASSERT_EQ(static_cast<int>(result), static_cast<int>(expected)) << "event " << i << ", " << shard_count << " shards";
        ASSERT_EQ(front.watermark(), one.watermark()) << "event " << i;
        if (i % 97 == 0) take_shards(front.watermark(), false);  // batches of any size close the same windows
      }
      one.close_all();
      for (ClosedWindow& w : one.take_closed()) want.push_back(std::move(w));
      take_shards(0, true);
      ASSERT_EQ(got.size(), want.size()) << shard_count << " shards";
      for (size_t w = 0; w < want.size(); ++w) {
        EXPECT_EQ(got[w].start, want[w].start);
        ASSERT_EQ(got[w].rows.size(), want[w].rows.size()) << "window " << w;
        for (size_t r = 0; r < want[w].rows.size(); ++r) {
          EXPECT_EQ(got[w].rows[r].ca, want[w].rows[r].ca);
          EXPECT_EQ(got[w].rows[r].entries, want[w].rows[r].entries);
          EXPECT_EQ(got[w].rows[r].exits, want[w].rows[r].exits);
        }
      }
      EXPECT_GT(one.counters().duplicates, config.watermark_delay_seconds >= 300 ? 100u : 0u);
      EXPECT_GT(one.counters().late, 10u);
      EXPECT_EQ(one.counters().overflow, 1u) << "the near-maximum sum overflows once";
    }
  }
}
