#include "replay/replay_pacer.h"

#include <fmt/format.h>

#include <cstdio>
#include <thread>

#include "base/civil_time.h"
#include "event/message.h"

namespace mtastream::replay {

bool ReplayPacer::wait_until_due(int64_t event_time_ms, const std::function<bool()>& while_waiting) {
  if (!started_) {
    started_ = true;
    origin_event_ms_ = event_time_ms;
    origin_wall_ = Clock::now();
    simulated_ms_ = event_time_ms;
  }
  simulated_ms_ = std::max(simulated_ms_, event_time_ms);
  if (speed_ <= 0) return true;
  const double offset_ms = static_cast<double>(event_time_ms - origin_event_ms_) / speed_;
  const auto due = origin_wall_ + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double, std::milli>(offset_ms));
  while (true) {
    auto now = Clock::now();
    if (now >= due) return true;
    if (while_waiting && !while_waiting()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(due - now, std::chrono::milliseconds(100)));
  }
}

void ReplayProgress::update(int64_t simulated_ms, uint64_t sent, uint64_t skipped, double speed) {
  if (!enabled_) return;
  auto now = ReplayPacer::Clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  std::string clock;
  civil::append_timestamp(simulated_ms / 1000, clock);
  std::string line = fmt::format("\rmtastream: replay clock {}  sent {}  skipped {}  {}\x1b[K", clock, sent, skipped,
                                 speed > 0 ? fmt::format("x{:g}", speed) : std::string("as fast as possible"));
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ReplayProgress::finish() {
  if (!drawn_) return;
  std::fwrite("\r\x1b[K", 1, 4, stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace mtastream::replay
