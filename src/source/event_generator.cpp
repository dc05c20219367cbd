#include "source/event_generator.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "base/civil_time.h"
#include "base/error.h"
#include "base/text.h"

namespace mtastream::source {
namespace {

// DATE "MM-DD-YY" and TIME "HH:MM:SS" of a naive local time in seconds.
void format_date_time(int64_t local_seconds, std::string& date, std::string& time) {
  date.clear();
  civil::append_short_date(local_seconds, date);
  time.clear();
  civil::append_mta_time(local_seconds, time);
}

// Share of the peak hourly flow at each hour of the day (subway ridership shape: rush hours at 8 and 18).
double hourly_share(int hour) {
  static const double share[24] = {0.08, 0.04, 0.02, 0.02, 0.05, 0.15, 0.45, 0.85, 1.00, 0.75, 0.50, 0.45,
                                   0.50, 0.50, 0.55, 0.65, 0.80, 0.95, 0.90, 0.65, 0.45, 0.35, 0.25, 0.15};
  return share[((hour % 24) + 24) % 24];
}

uint64_t poisson(std::mt19937_64& random, double mean) {
  if (mean <= 0) return 0;
  if (mean > 50) {  // normal approximation: cheaper and close enough for counts
    std::normal_distribution<double> normal(mean, std::sqrt(mean));
    double v = std::round(normal(random));
    return v < 0 ? 0 : static_cast<uint64_t>(v);
  }
  std::poisson_distribution<uint64_t> distribution(mean);
  return distribution(random);
}

}  // namespace

std::string random_uuid4(std::mt19937_64& random) {
  uint64_t high = random(), low = random();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff,
                     low >> 48, low & 0xffffffffffffULL);
}

int64_t local_now_seconds() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return static_cast<int64_t>(timegm(&tm));
}

OriginalGenerator::OriginalGenerator(uint64_t seed) : random_(seed) {}

void OriginalGenerator::next(int64_t local_seconds, event::TurnstileEvent& event) {
  static constexpr std::string_view cas[] = {"A001", "A002"};
  static constexpr std::string_view units[] = {"R001", "R002"};
  static constexpr std::string_view stations[] = {"Test-Station1", "Test-Station2"};
  std::uniform_int_distribution<int> pick(0, 1);
  std::uniform_int_distribution<uint64_t> count(5, 10);
  event.ca = cas[pick(random_)];
  event.unit = units[pick(random_)];
  event.scp = "02-00-00";
  event.station = stations[pick(random_)];
  event.linename = "456NQR";
  event.division = "BMT";
  format_date_time(local_seconds, date_, time_);
  event.date = date_;
  event.time = time_;
  event.desc = "REGULAR";
  event.entries = count(random_);
  event.exits = count(random_);
  id_ = random_uuid4(random_);
  event.id = id_;
  event.timestamp = local_seconds;
}

CityGenerator::CityGenerator(uint64_t seed, size_t turnstiles) : random_(seed) {
  if (turnstiles == 0) throw UsageError("--turnstiles must be at least 1");
  struct Booth {
    std::string ca, unit, station, linename, division;
    size_t real_turnstiles;
  };
  std::vector<Booth> booths;
  size_t real_total = 0;
  for (std::string_view line : split_lines(city_booth_table)) {
    if (trim(line).empty()) continue;
    std::vector<std::string_view> f = split(line, ',');
    if (f.size() != 6) continue;
    Booth booth{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]), std::string(f[4]),
                static_cast<size_t>(std::stoul(std::string(f[5])))};
    real_total += booth.real_turnstiles;
    booths.push_back(std::move(booth));
  }
  // Every booth keeps its share of the city's turnstiles; SCPs are numbered as the MTA does (GG-BB-NN).
  std::uniform_real_distribution<double> busy(30.0, 400.0);
  std::uniform_real_distribution<double> exits(0.6, 1.3);
  size_t made = 0;
  std::vector<size_t> per_booth(booths.size(), 0);
  for (size_t b = 0; made < turnstiles; b = (b + 1) % booths.size()) {
    const Booth& booth = booths[b];
    size_t share = std::max<size_t>(1, booth.real_turnstiles * turnstiles / real_total);
    size_t already = per_booth[b];
    per_booth[b] += share;
    for (size_t i = 0; i < share && made < turnstiles; ++i, ++made) {
      size_t n = already + i;
      turnstiles_.push_back({booth.ca, booth.unit, fmt::format("{:02d}-{:02d}-{:02d}", 1 + n / 100, (n / 10) % 10, n % 10),
                             booth.station, booth.linename, booth.division, busy(random_), exits(random_)});
    }
  }
}

void CityGenerator::next(int64_t local_seconds, double interval_seconds, event::TurnstileEvent& event) {
  const Turnstile& t = turnstiles_[cursor_];
  cursor_ = (cursor_ + 1) % turnstiles_.size();
  int hour = static_cast<int>(((local_seconds % 86400) + 86400) % 86400 / 3600);
  double mean_entries = t.busyness * hourly_share(hour) * interval_seconds / 3600.0;
  // Mornings bring more entries, evenings more exits.
  double exit_mean = mean_entries * t.exit_ratio * (hour >= 15 ? 1.2 : 0.8);
  static_cast<event::TurnstileFields&>(event) = {t.ca, t.unit, t.scp, t.station, t.linename, t.division};
  format_date_time(local_seconds, date_, time_);
  event.date = date_;
  event.time = time_;
  event.desc = "REGULAR";
  event.entries = poisson(random_, mean_entries);
  event.exits = poisson(random_, exit_mean);
  id_ = random_uuid4(random_);
  event.id = id_;
  event.timestamp = local_seconds;
}

}  // namespace mtastream::source
