#include "window_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "error.h"

namespace mtastream {

namespace {

constexpr int64_t max_windows_per_event = 1000;
constexpr int64_t max_sum = INT64_MAX;

inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

// A fast non-cryptographic hash; only used for in-memory tables.
inline uint64_t hash_bytes(uint64_t h, std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  h = mix(h, n);
  while (n >= 8) {
    h = mix(h, load_u64(p));
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = mix(h, tail);
  }
  return h;
}

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

void append_2(unsigned v, std::string& out) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

// The group key fields of an event, in output order.
constexpr int key_fields = 7;
inline void key_views(const TurnstileEvent& e, std::string_view (&f)[key_fields]) {
  f[0] = e.ca;
  f[1] = e.unit;
  f[2] = e.scp;
  f[3] = e.station;
  f[4] = e.linename;
  f[5] = e.division;
  f[6] = e.desc;
}

}  // namespace

void validate_window_config(const WindowConfig& c) {
  if (c.window_seconds <= 0) throw UsageError("the window length must be positive");
  if (c.slide_seconds <= 0) throw UsageError("the slide must be positive");
  if (c.slide_seconds > c.window_seconds)
    throw UsageError(fmt::format("the slide ({}s) must not be longer than the window ({}s)", c.slide_seconds,
                                 c.window_seconds));
  if ((c.window_seconds + c.slide_seconds - 1) / c.slide_seconds > max_windows_per_event)
    throw UsageError("window / slide is too large: an event would belong to more than 1000 windows");
  if (c.watermark_delay_seconds < 0) throw UsageError("the watermark delay must not be negative");
  constexpr int64_t ten_years = 10LL * 366 * 86400;
  if (c.window_seconds > ten_years || c.watermark_delay_seconds > ten_years)
    throw UsageError("window and watermark delay must be at most 10 years");
}

void append_row_date(int64_t seconds, std::string& out) {
  int64_t y;
  unsigned m, d;
  civil_from_days(floor_div(seconds, 86400), y, m, d);
  append_2(m, out);
  out += '/';
  append_2(d, out);
  out += '/';
  out += fmt::format("{:04d}", y);
}

void append_row_time(int64_t seconds, std::string& out) {
  int64_t s = seconds - floor_div(seconds, 86400) * 86400;
  append_2(static_cast<unsigned>(s / 3600), out);
  out += ':';
  append_2(static_cast<unsigned>(s / 60 % 60), out);
  out += ':';
  append_2(static_cast<unsigned>(s % 60), out);
}

struct WindowEngine::Impl {
  // Group keys, interned once: windows refer to them by index (memory: open windows x keys).
  struct GroupKey {
    std::string text;                // the 7 fields back to back
    uint32_t length[key_fields];
    uint64_t hash;
    std::string_view field(int i) const {
      size_t offset = 0;
      for (int k = 0; k < i; ++k) offset += length[k];
      return std::string_view(text).substr(offset, length[i]);
    }
  };
  std::vector<GroupKey> keys;
  std::vector<uint32_t> key_slots;  // open addressing: key index + 1, 0 = empty
  uint64_t key_mask = 0;

  struct Row {
    uint32_t key;
    int64_t entries;
    int64_t exits;
  };
  struct Window {
    int64_t start = 0;
    std::vector<uint32_t> row_of_key;  // key index -> row index + 1 (0 = none)
    std::vector<Row> rows;
    int64_t min_position = INT64_MAX;
    int64_t watermark_at_min = minus_infinity;
  };
  std::map<int64_t, Window> windows;  // open windows by start

  // Dedup: ID -> the latest event time seen with it. IDs up to 40 bytes live inline in the slot.
  struct IdSlot {
    uint64_t hash = 0;
    int64_t time = 0;
    uint32_t length = 0;  // 0 = empty slot
    char bytes[44];
  };
  std::vector<IdSlot> id_slots;
  size_t id_count = 0;
  std::unordered_map<std::string, int64_t> long_ids;

  Impl() {
    key_slots.assign(1024, 0);
    key_mask = 1023;
    id_slots.resize(1024);
  }

  uint32_t intern(const TurnstileEvent& e) {
    std::string_view f[key_fields];
    key_views(e, f);
    uint64_t h = 0x12345678;
    for (auto& v : f) h = hash_bytes(h, v);
    uint64_t i = h & key_mask;
    while (uint32_t slot = key_slots[i]) {
      const GroupKey& k = keys[slot - 1];
      if (k.hash == h) {
        const char* p = k.text.data();
        bool same = true;
        for (int fi = 0; fi < key_fields; ++fi) {
          if (k.length[fi] != f[fi].size() || std::memcmp(p, f[fi].data(), f[fi].size()) != 0) {
            same = false;
            break;
          }
          p += k.length[fi];
        }
        if (same) return slot - 1;
      }
      i = (i + 1) & key_mask;
    }
    GroupKey k;
    for (int fi = 0; fi < key_fields; ++fi) {
      k.text.append(f[fi]);
      k.length[fi] = static_cast<uint32_t>(f[fi].size());
    }
    k.hash = h;
    keys.push_back(std::move(k));
    key_slots[i] = static_cast<uint32_t>(keys.size());
    if (keys.size() * 2 > key_slots.size()) grow_keys();
    return static_cast<uint32_t>(keys.size() - 1);
  }

  void grow_keys() {
    key_slots.assign(key_slots.size() * 2, 0);
    key_mask = key_slots.size() - 1;
    for (uint32_t k = 0; k < keys.size(); ++k) {
      uint64_t i = keys[k].hash & key_mask;
      while (key_slots[i]) i = (i + 1) & key_mask;
      key_slots[i] = k + 1;
    }
  }

  // Returns true when `id` was seen with a time >= wm (a duplicate); records max(time, t) either way.
  bool seen_and_record(std::string_view id, int64_t t, int64_t wm) {
    if (id.size() > sizeof(IdSlot::bytes)) {
      auto [it, inserted] = long_ids.try_emplace(std::string(id), t);
      if (inserted) return false;
      bool duplicate = it->second >= wm;
      it->second = std::max(it->second, t);
      return duplicate;
    }
    uint64_t h = hash_bytes(0x9876, id);
    uint64_t mask = id_slots.size() - 1;
    uint64_t i = h & mask;
    while (id_slots[i].length != 0) {
      IdSlot& s = id_slots[i];
      if (s.hash == h && s.length == id.size() && std::memcmp(s.bytes, id.data(), id.size()) == 0) {
        bool duplicate = s.time >= wm;
        s.time = std::max(s.time, t);
        return duplicate;
      }
      i = (i + 1) & mask;
    }
    IdSlot& s = id_slots[i];
    s.hash = h;
    s.time = t;
    s.length = static_cast<uint32_t>(id.size());
    std::memcpy(s.bytes, id.data(), id.size());
    if (++id_count * 2 > id_slots.size()) rebuild_ids(wm);
    return false;
  }

  // Drops IDs behind the watermark and resizes so the table stays 1/4..1/2 full (amortized O(1)).
  void rebuild_ids(int64_t wm) {
    size_t live = 0;
    for (const IdSlot& s : id_slots)
      if (s.length != 0 && s.time >= wm) ++live;
    size_t capacity = 1024;
    while (capacity < live * 4) capacity *= 2;
    std::vector<IdSlot> fresh(capacity);
    uint64_t mask = capacity - 1;
    for (const IdSlot& s : id_slots) {
      if (s.length == 0 || s.time < wm) continue;
      uint64_t i = s.hash & mask;
      while (fresh[i].length != 0) i = (i + 1) & mask;
      fresh[i] = s;
    }
    id_slots.swap(fresh);
    id_count = live;
    for (auto it = long_ids.begin(); it != long_ids.end();)
      it = it->second < wm ? long_ids.erase(it) : std::next(it);
  }

  ClosedWindow finish(int64_t start, Window& w, int64_t length) {
    ClosedWindow out;
    out.start = start;
    out.end = start + length;
    std::vector<uint32_t> order(w.rows.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const GroupKey& ka = keys[w.rows[a].key];
      const GroupKey& kb = keys[w.rows[b].key];
      size_t oa = 0, ob = 0;
      for (int f = 0; f < key_fields; ++f) {
        std::string_view va(ka.text.data() + oa, ka.length[f]);
        std::string_view vb(kb.text.data() + ob, kb.length[f]);
        if (int c = va.compare(vb); c != 0) return c < 0;
        oa += ka.length[f];
        ob += kb.length[f];
      }
      return false;
    });
    out.rows.reserve(order.size());
    for (uint32_t r : order) {
      const Row& row = w.rows[r];
      const GroupKey& k = keys[row.key];
      WindowRow o;
      o.ca = k.field(0);
      o.unit = k.field(1);
      o.scp = k.field(2);
      o.station = k.field(3);
      o.linename = k.field(4);
      o.division = k.field(5);
      o.desc = k.field(6);
      o.entries = row.entries;
      o.exits = row.exits;
      out.rows.push_back(std::move(o));
    }
    return out;
  }
};

WindowEngine::WindowEngine(WindowConfig config) : impl_(std::make_unique<Impl>()), config_(config) {
  validate_window_config(config_);
}

WindowEngine::~WindowEngine() = default;

AddResult WindowEngine::add(const TurnstileEvent& event, int64_t position) {
  Impl& s = *impl_;
  const int64_t t = event.timestamp;
  const int64_t wm_before = watermark_;

  // (1) dedup by ID among events not yet behind the watermark.
  if (s.seen_and_record(event.id, t, watermark_)) {
    ++counters_.duplicates;
    return AddResult::duplicate;
  }

  // (2) the event's windows [k*S, k*S+W) with k*S <= t < k*S+W whose end is past the watermark.
  const int64_t W = config_.window_seconds, S = config_.slide_seconds;
  int64_t last_start = floor_div(t, S) * S;
  int64_t first_start = last_start;
  while (first_start - S > t - W) first_start -= S;
  while (first_start <= last_start && first_start + W <= watermark_) first_start += S;
  AddResult result;
  if (first_start > last_start) {
    result = AddResult::late;
    ++counters_.late;
  } else {
    uint32_t key = s.intern(event);
    const int64_t entries = static_cast<int64_t>(event.entries), exits = static_cast<int64_t>(event.exits);
    bool fits = true;
    for (int64_t start = first_start; start <= last_start; start += S) {
      auto it = s.windows.find(start);
      if (it == s.windows.end()) continue;
      const Impl::Window& w = it->second;
      if (key < w.row_of_key.size() && w.row_of_key[key]) {
        const Impl::Row& row = w.rows[w.row_of_key[key] - 1];
        if (row.entries > max_sum - entries || row.exits > max_sum - exits) fits = false;
      }
    }
    if (!fits) {
      result = AddResult::overflow;
      ++counters_.overflow;
    } else {
      for (int64_t start = first_start; start <= last_start; start += S) {
        Impl::Window& w = s.windows.try_emplace(start).first->second;
        w.start = start;
        if (key >= w.row_of_key.size()) w.row_of_key.resize(s.keys.size(), 0);
        uint32_t& row_index = w.row_of_key[key];
        if (row_index == 0) {
          w.rows.push_back({key, 0, 0});
          row_index = static_cast<uint32_t>(w.rows.size());
        }
        Impl::Row& row = w.rows[row_index - 1];
        row.entries += entries;
        row.exits += exits;
        if (position < w.min_position) {
          w.min_position = position;
          w.watermark_at_min = wm_before;
        }
      }
      result = AddResult::accepted;
      ++counters_.accepted;
    }
  }

  // (3) advance the watermark, (4) close what it passed.
  const int64_t candidate = t - config_.watermark_delay_seconds;
  if (candidate > watermark_) {
    watermark_ = candidate;
    if (!s.windows.empty() && s.windows.begin()->first + W <= watermark_) close_passed();
  }
  return result;
}

std::vector<ClosedWindow> WindowEngine::take_closed() {
  std::vector<ClosedWindow> out;
  out.swap(closed_);
  return out;
}

void WindowEngine::close_all() {
  Impl& s = *impl_;
  const int64_t W = config_.window_seconds;
  for (auto it = s.windows.begin(); it != s.windows.end(); it = s.windows.erase(it)) {
    if (it->first + W <= closed_through_) {
      ++counters_.windows_skipped;
    } else if (!it->second.rows.empty()) {
      closed_.push_back(s.finish(it->first, it->second, W));
      ++counters_.windows_closed;
      counters_.rows += closed_.back().rows.size();
    }
  }
}

void WindowEngine::restore_watermark(int64_t wm) { restore(wm, minus_infinity); }

void WindowEngine::restore(int64_t replay_watermark, int64_t closed_through) {
  watermark_ = replay_watermark;
  closed_through_ = closed_through;
  close_passed();
}

void WindowEngine::close_passed() {
  Impl& s = *impl_;
  const int64_t W = config_.window_seconds;
  for (auto it = s.windows.begin(); it != s.windows.end() && it->first + W <= watermark_;) {
    if (it->first + W <= closed_through_) {
      ++counters_.windows_skipped;
    } else if (!it->second.rows.empty()) {
      closed_.push_back(s.finish(it->first, it->second, W));
      ++counters_.windows_closed;
      counters_.rows += closed_.back().rows.size();
    }
    it = s.windows.erase(it);
  }
}

std::optional<int64_t> WindowEngine::min_open_position() const {
  std::optional<int64_t> best;
  for (const auto& [start, w] : impl_->windows)
    if (!w.rows.empty() && (!best || w.min_position < *best)) best = w.min_position;
  return best;
}

int64_t WindowEngine::replay_watermark() const {
  int64_t best_position = INT64_MAX;
  int64_t wm = minus_infinity;
  for (const auto& [start, w] : impl_->windows)
    if (!w.rows.empty() && w.min_position < best_position) {
      best_position = w.min_position;
      wm = w.watermark_at_min;
    }
  return wm;
}

size_t WindowEngine::open_windows() const { return impl_->windows.size(); }
size_t WindowEngine::tracked_ids() const { return impl_->id_count + impl_->long_ids.size(); }

}  // namespace mtastream
