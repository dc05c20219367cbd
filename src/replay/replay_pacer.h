// Pacing of a replay: events go out at X times the speed of their own timestamps, with a simulated
// clock, and a live progress line on stderr (drawn only when stderr is a terminal).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace mtastream::replay {

class ReplayPacer {
 public:
  using Clock = std::chrono::steady_clock;
  // `speed` > 0: X times real time; 0: as fast as possible (no waiting).
  explicit ReplayPacer(double speed) : speed_(speed) {}

  // Waits until the event stamped `event_time_ms` is due. The first event fixes the origin: it is due
  // at once, and an event t ms later is due t / speed ms of wall time later. Events stamped earlier
  // than one already passed are due at once. While waiting, `while_waiting` runs (e.g. serve delivery
  // reports) about every 100 ms; it returns false to stop. Returns false when stopped.
  bool wait_until_due(int64_t event_time_ms, const std::function<bool()>& while_waiting = {});

  // Event time of the latest event passed (the simulated clock), in ms.
  int64_t simulated_ms() const { return simulated_ms_; }
  bool started() const { return started_; }
  double speed() const { return speed_; }

 private:
  double speed_;
  bool started_ = false;
  int64_t origin_event_ms_ = 0;
  Clock::time_point origin_wall_;
  int64_t simulated_ms_ = 0;
};

// "\r<clock> sent N ..." on stderr at most 5 times a second; finish() clears the line.
class ReplayProgress {
 public:
  explicit ReplayProgress(bool enabled) : enabled_(enabled) {}
  ~ReplayProgress() { finish(); }
  void update(int64_t simulated_ms, uint64_t sent, uint64_t skipped, double speed);
  void finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  ReplayPacer::Clock::time_point last_draw_{};
};

}  // namespace mtastream::replay
