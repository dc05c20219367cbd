// Built-in event sources for `produce --generate`: the original producer's generator and a city-scale
// one with thousands of turnstiles and a daily rhythm.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "event/message.h"

namespace mtastream::source {

// The original's generator (ORIGINAL.md): CA A001|A002, UNIT R001|R002, STATION Test-Station1|2 picked
// independently; SCP 02-00-00, LINENAME 456NQR, DIVISION BMT, DESC REGULAR; ENTRIES, EXITS in 5..10;
// a random UUID4 ID; stamped with the given time.
class OriginalGenerator {
 public:
  explicit OriginalGenerator(uint64_t seed);
  // Fills `event` (views valid until the next call) for event time `local_seconds` (naive local time
  // as seconds, see TurnstileEvent::timestamp).
  void next(int64_t local_seconds, event::TurnstileEvent& event);

 private:
  std::mt19937_64 random_;
  std::string date_, time_, id_;
};

// Thousands of turnstiles built from real MTA booths, reporting in turn: each call gives the next
// turnstile's counts since its previous report. Counts follow the hour of day (morning and evening rush,
// quiet nights) and a per-turnstile busyness.
class CityGenerator {
 public:
  CityGenerator(uint64_t seed, size_t turnstiles);
  size_t turnstile_count() const { return turnstiles_.size(); }
  // `local_seconds`: event time; `interval_seconds`: time since this turnstile's previous report.
  void next(int64_t local_seconds, double interval_seconds, event::TurnstileEvent& event);

 private:
  struct Turnstile {
    std::string ca, unit, scp, station, linename, division;
    double busyness;  // mean entries per hour at peak
    double exit_ratio;
  };
  std::vector<Turnstile> turnstiles_;
  size_t cursor_ = 0;
  std::mt19937_64 random_;
  std::string date_, time_, id_;
};

// A random (version 4) UUID in lowercase, as Python's uuid.uuid4() prints it.
std::string random_uuid4(std::mt19937_64& random);

// Now as naive local time in seconds (the original stamped events with datetime.now()).
int64_t local_now_seconds();

extern const char* const city_booth_table;

}  // namespace mtastream::source
