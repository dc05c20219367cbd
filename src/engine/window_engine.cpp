#include "engine/window_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "base/civil_time.h"
#include "base/error.h"
#include "base/text.h"

namespace mtastream::engine {

namespace {

constexpr int64_t max_windows_per_event = 1000;
constexpr int64_t max_sum = INT64_MAX;

inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t mix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ull;
  return (h << 31) | (h >> 33);
}

inline uint64_t finalize(uint64_t k) {  // MurmurHash3's fmix64: every input bit reaches every output bit
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  return k ^ (k >> 33);
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
  if (n >= 4) {  // 4..7 bytes: two overlapping 4-byte loads (no byte-wise copy: it stalls the load)
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    h = mix(h, lo | (uint64_t{hi} << 32));
  } else if (n > 0) {  // 1..3 bytes, as wyhash reads them
    const auto b = [&](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
    h = mix(h, (b(0) << 16) | (b(n >> 1) << 8) | b(n - 1));
  }
  return h;
}

// Short-string equality without a library call (group key fields are a few bytes each).
inline bool equal_bytes(const char* a, const char* b, size_t n) {
  while (n >= 8) {
    if (load_u64(a) != load_u64(b)) return false;
    a += 8;
    b += 8;
    n -= 8;
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// The group key fields of an event, in output order.
constexpr int key_fields = 7;
inline void key_views(const event::TurnstileEvent& e, std::string_view (&f)[key_fields]) {
  f[0] = e.ca;
  f[1] = e.unit;
  f[2] = e.scp;
  f[3] = e.station;
  f[4] = e.linename;
  f[5] = e.division;
  f[6] = e.desc;
}


// Dedup state: ID -> the time of the last event with it that was not a duplicate. Open addressing with 8-byte slots (a hash tag
// and the place of the entry in an arena); arena entries hold time, hash and the ID bytes. When half
// full it is rebuilt by one sequential pass over the arena that keeps only IDs not behind the watermark,
// so memory follows the IDs still in play, not the stream's length.
class IdTable {
 public:
  IdTable() { slots_.assign(1024, Slot{}); }

  static uint64_t hash(std::string_view id) { return finalize(hash_bytes(0x9876, id)); }
  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & (slots_.size() - 1)]); }

  // True when `id` was recorded with a time >= wm (a duplicate). Otherwise records it with time t.
  bool seen_and_record(std::string_view id, uint64_t h, int64_t t, int64_t wm) {
    const uint64_t mask = slots_.size() - 1;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.ref == 0) {
        s = Slot{tag, append(arena_, id, h, t)};
        if (++count_ * 2 > slots_.size()) rebuild(wm);
        return false;
      }
      if (s.tag == tag) {
        Entry e = entry(arena_, s.ref);
        if (e.hash == h && e.id == id) {
          if (e.time >= wm) return true;  // a duplicate changes nothing, not even this record
          std::memcpy(arena_.data() + s.ref - 1, &t, sizeof t);  // seen before, but behind: a new sighting
          return false;
        }
      }
    }
  }
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint32_t tag = 0;
    uint32_t ref = 0;  // arena offset + 1; 0 = empty
  };
  struct Entry {
    int64_t time;
    uint64_t hash;
    std::string_view id;
    size_t size;  // bytes of the entry in the arena
  };
  static constexpr size_t header = 8 + 8 + 2;  // time, hash, ID length

  static uint32_t append(std::string& arena, std::string_view id, uint64_t h, int64_t t) {
    uint16_t n = static_cast<uint16_t>(std::min<size_t>(id.size(), UINT16_MAX));
    if (arena.size() + header + n >= UINT32_MAX) throw Error("too many distinct IDs within the watermark");
    uint32_t ref = static_cast<uint32_t>(arena.size()) + 1;
    char head[header];
    std::memcpy(head, &t, 8);
    std::memcpy(head + 8, &h, 8);
    std::memcpy(head + 16, &n, 2);
    arena.append(head, header);
    arena.append(id.data(), n);
    return ref;
  }
  static Entry entry(const std::string& arena, uint32_t ref) {
    const char* p = arena.data() + ref - 1;
    Entry e;
    uint16_t n;
    std::memcpy(&e.time, p, 8);
    std::memcpy(&e.hash, p + 8, 8);
    std::memcpy(&n, p + 16, 2);
    e.id = std::string_view(p + header, n);
    e.size = header + n;
    return e;
  }

  void rebuild(int64_t wm) {
    size_t live = 0;
    for (size_t off = 0; off < arena_.size();) {
      Entry e = entry(arena_, static_cast<uint32_t>(off + 1));
      live += e.time >= wm;
      off += e.size;
    }
    size_t capacity = 1024;
    while (capacity < live * 4) capacity *= 2;
    std::vector<Slot> fresh(capacity);
    std::string arena;
    arena.reserve(arena_.size() * live / (count_ ? count_ : 1) + 64);
    const uint64_t mask = capacity - 1;
    for (size_t off = 0; off < arena_.size();) {
      Entry e = entry(arena_, static_cast<uint32_t>(off + 1));
      off += e.size;
      if (e.time < wm) continue;
      uint64_t i = e.hash & mask;
      while (fresh[i].ref != 0) i = (i + 1) & mask;
      fresh[i] = Slot{static_cast<uint32_t>(e.hash >> 32), append(arena, e.id, e.hash, e.time)};
    }
    slots_.swap(fresh);
    arena_.swap(arena);
    count_ = live;
  }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

constexpr std::string_view column_names[group_column_count] = {"CA",       "UNIT",     "SCP", "STATION",
                                                                "LINENAME", "DIVISION", "DESC"};

}  // namespace

std::string_view group_column_name(int index) { return column_names[index]; }

GroupColumns parse_group_columns(std::string_view list, std::string_view option) {
  const std::vector<std::string> names(std::begin(column_names), std::end(column_names));
  const std::string all = group_columns_text(all_group_columns);
  GroupColumns set = 0;
  size_t from = 0;
  for (;;) {
    size_t comma = list.find(',', from);
    std::string_view item = list.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty())
      throw UsageError(fmt::format("{} '{}': an empty column name; give a comma-separated subset of {}", option,
                                   list, all));
    std::string upper;
    for (char c : item) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    int index = -1;
    for (int i = 0; i < group_column_count; ++i)
      if (upper == column_names[i]) index = i;
    if (index < 0) {
      std::string match = closest_match(upper, names);
      throw UsageError(fmt::format("{}: unknown column '{}'{} (the group columns are {})", option, item,
                                   match.empty() ? "" : fmt::format("; did you mean {}?", match), all));
    }
    if (set & (1u << index)) throw UsageError(fmt::format("{}: column {} is given twice", option, column_names[index]));
    set = static_cast<GroupColumns>(set | (1u << index));
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  return set;
}

std::string group_columns_text(GroupColumns columns) {
  std::string out;
  for (int i = 0; i < group_column_count; ++i)
    if (columns & (1u << i)) {
      if (!out.empty()) out += ',';
      out += column_names[i];
    }
  return out;
}

void validate_window_config(const WindowConfig& c) {
  if (c.group_columns == 0 || (c.group_columns & ~all_group_columns) != 0)
    throw UsageError("--group-by needs at least one of CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC");
  if (c.max_group_keys < 1 || c.max_group_keys > 1000000000)
    throw UsageError("--max-keys must be between 1 and 1000000000");
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

std::string rejection_reason(AddResult result, int64_t event_time, int64_t watermark) {
  std::string time, mark;
  civil::append_timestamp(event_time, time);
  switch (result) {
    case AddResult::late:
      civil::append_timestamp(watermark, mark);
      return fmt::format("late: every window of {} had closed (watermark {})", time, mark);
    case AddResult::overflow:
      return "ENTRIES or EXITS would push a window's sum past the 64-bit maximum";
    case AddResult::too_late_in_time:
      return fmt::format("TIMESTAMP {}: a window of it would end after 9999-12-31 23:59:59, which DATE "
                         "(MM/DD/YYYY) cannot show",
                         time);
    default:
      return "accepted";
  }
}

struct WindowEngine::Impl {
  // Group keys, interned once: windows refer to them by index (memory: open windows x keys).
  struct GroupKey {
    uint64_t hash;
    uint32_t offset;  // of the 7 fields, back to back, in key_text
    uint32_t total;
    uint32_t length[key_fields];
  };
  std::vector<GroupKey> keys;
  std::string key_text;
  struct KeySlot {
    uint32_t index_plus_1 = 0;  // 0 = empty
    uint32_t tag = 0;           // high hash bits: most mismatches never touch keys[]
  };
  std::vector<KeySlot> key_slots;
  uint64_t key_mask = 0;

  std::string_view field(const GroupKey& k, int i) const {
    size_t offset = k.offset;
    for (int f = 0; f < i; ++f) offset += k.length[f];
    return std::string_view(key_text.data() + offset, k.length[i]);
  }
  struct Row {
    uint32_t key;
    int64_t entries;
    int64_t exits;
  };
  struct Window {
    int64_t start = 0;
    std::vector<uint32_t> row_of_key;  // key index -> row index + 1 (0 = none)
    std::vector<Row> rows;
    std::vector<WindowEvent> events;   // keep_event_ids: row = index into rows (before sorting)
    int64_t min_position = INT64_MAX;
    int64_t watermark_at_min = minus_infinity;
  };
  std::map<int64_t, Window> windows;  // open windows by start
  Window* last_window = nullptr;      // the one used last (most events go where the previous one went)
  int64_t bucket_start = INT64_MAX;   // the last start computed for an event (saves two divisions)

  Window* find_window(int64_t start) {
    if (last_window && last_window->start == start) return last_window;
    auto it = windows.find(start);
    if (it == windows.end()) return nullptr;
    return last_window = &it->second;
  }
  Window& window(int64_t start) {
    if (last_window && last_window->start == start) return *last_window;
    Window& w = windows.try_emplace(start).first->second;
    w.start = start;
    return *(last_window = &w);
  }
  void erase_window(std::map<int64_t, Window>::iterator& it) {
    if (last_window == &it->second) last_window = nullptr;
    it = windows.erase(it);
  }

  IdTable ids;

  Impl() {
    key_slots.assign(1024, KeySlot{});
    key_mask = 1023;
  }

  static uint64_t key_hash(const event::TurnstileEvent& e) {
    std::string_view f[key_fields];
    key_views(e, f);
    uint64_t h = 0x12345678;
    for (const std::string_view& v : f) h = hash_bytes(h, v);
    return finalize(h);
  }
  void prefetch_key(uint64_t h) const { __builtin_prefetch(&key_slots[h & key_mask]); }

  // The index of the event's group key (`h` = key_hash(e)), added on first sight.
  uint32_t intern(const event::TurnstileEvent& e, uint64_t h) {
    std::string_view f[key_fields];
    key_views(e, f);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    uint64_t i = h & key_mask;
    for (; key_slots[i].index_plus_1 != 0; i = (i + 1) & key_mask) {
      if (key_slots[i].tag != tag) continue;
      const GroupKey& k = keys[key_slots[i].index_plus_1 - 1];
      if (k.hash != h) continue;
      const char* stored = key_text.data() + k.offset;
      bool same = true;
      for (int fi = 0; fi < key_fields && same; ++fi) {
        same = k.length[fi] == f[fi].size() && equal_bytes(stored, f[fi].data(), f[fi].size());
        stored += k.length[fi];
      }
      if (same) return key_slots[i].index_plus_1 - 1;
    }
    if (keys.size() >= key_limit_check_at) {
      enforce_key_limit();
      return intern(e, h);  // the table was rebuilt
    }
    size_t total = 0;
    for (const std::string_view& v : f) total += v.size();
    if (key_text.size() + total >= UINT32_MAX) throw Error("too many distinct group keys");
    GroupKey k{h, static_cast<uint32_t>(key_text.size()), static_cast<uint32_t>(total), {}};
    for (int fi = 0; fi < key_fields; ++fi) {
      k.length[fi] = static_cast<uint32_t>(f[fi].size());
      key_text.append(f[fi]);
    }
    keys.push_back(k);
    key_slots[i] = KeySlot{static_cast<uint32_t>(keys.size()), tag};
    if (keys.size() * 2 > key_slots.size()) grow_keys();
    return static_cast<uint32_t>(keys.size() - 1);
  }

  // The key limit is checked when the table (which also holds keys of closed windows until the next
  // compaction) reaches limit x 1.25: the keys open windows use, plus the new one, must fit the limit.
  // After a compaction the table holds at most the limit, so checks come at least limit / 4 keys apart.
  uint64_t max_group_keys = 0;
  size_t key_limit_check_at = SIZE_MAX;
  void set_key_limit(uint64_t limit) {
    max_group_keys = limit;
    key_limit_check_at = static_cast<size_t>(std::min<uint64_t>(limit + limit / 4 + 1, SIZE_MAX / 2));
  }
  void enforce_key_limit() {
    std::vector<bool> used(keys.size(), false);
    size_t in_use = 1;  // the new key
    for (const auto& [start, w] : windows)
      for (const Row& row : w.rows)
        if (!used[row.key]) used[row.key] = true, ++in_use;
    if (in_use > max_group_keys)
      throw GroupKeyLimitError(fmt::format(
          "the open windows would hold {} distinct group keys (CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC), "
          "over the limit of {}: the whole subway has about 5,000 turnstiles, so check what feeds this stream, "
          "or raise --max-keys ({})",
          in_use, max_group_keys, group_key_memory));
    compact_keys();
  }

  // Keys only closed windows used are dropped, so memory follows open windows x keys in use even
  // when keys churn. Runs when the table doubled since the last time: amortized O(1) per key.
  size_t compact_keys_at = 1 << 16;
  void compact_keys() {
    std::vector<uint32_t> remap(keys.size(), UINT32_MAX);
    std::vector<GroupKey> kept;
    std::string kept_text;
    for (auto& [start, w] : windows) {
      for (Row& row : w.rows) {
        uint32_t& to = remap[row.key];
        if (to == UINT32_MAX) {
          GroupKey k = keys[row.key];
          kept_text.append(key_text, k.offset, k.total);
          k.offset = static_cast<uint32_t>(kept_text.size() - k.total);
          to = static_cast<uint32_t>(kept.size());
          kept.push_back(k);
        }
        row.key = to;
      }
    }
    keys.swap(kept);
    key_text.swap(kept_text);
    for (auto& [start, w] : windows) {
      std::vector<uint32_t>(keys.size(), 0).swap(w.row_of_key);
      for (uint32_t r = 0; r < w.rows.size(); ++r) w.row_of_key[w.rows[r].key] = r + 1;
    }
    size_t capacity = 1024;
    while (capacity < keys.size() * 2 + 2) capacity *= 2;
    key_slots.assign(capacity / 2, KeySlot{});  // grow_keys() doubles it and re-inserts every key
    grow_keys();
    compact_keys_at = std::max<size_t>(size_t{1} << 16, keys.size() * 2);
  }

  void grow_keys() {
    key_slots.assign(key_slots.size() * 2, KeySlot{});
    key_mask = key_slots.size() - 1;
    for (uint32_t k = 0; k < keys.size(); ++k) {
      uint64_t i = keys[k].hash & key_mask;
      while (key_slots[i].index_plus_1) i = (i + 1) & key_mask;
      key_slots[i] = KeySlot{k + 1, static_cast<uint32_t>(keys[k].hash >> 32)};
    }
  }

  ClosedWindow finish(int64_t start, Window& w, int64_t length) {
    ClosedWindow out;
    out.start = start;
    out.end = start + length;
    out.min_position = w.min_position;
    out.watermark_at_min = w.watermark_at_min;
    std::vector<uint32_t> order(w.rows.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const GroupKey& ka = keys[w.rows[a].key];
      const GroupKey& kb = keys[w.rows[b].key];
      size_t oa = ka.offset, ob = kb.offset;
      for (int f = 0; f < key_fields; ++f) {
        std::string_view va(key_text.data() + oa, ka.length[f]);
        std::string_view vb(key_text.data() + ob, kb.length[f]);
        if (int c = va.compare(vb); c != 0) return c < 0;
        oa += ka.length[f];
        ob += kb.length[f];
      }
      return false;
    });
    if (!w.events.empty()) {
      std::vector<uint32_t> sorted_index(order.size());
      for (uint32_t i = 0; i < order.size(); ++i) sorted_index[order[i]] = i;
      for (WindowEvent& e : w.events) e.row = sorted_index[e.row];
      out.events = std::move(w.events);
    }
    out.rows.reserve(order.size());
    for (uint32_t r : order) {
      const Row& row = w.rows[r];
      const GroupKey& k = keys[row.key];
      WindowRow o;
      o.ca = field(k, 0);
      o.unit = field(k, 1);
      o.scp = field(k, 2);
      o.station = field(k, 3);
      o.linename = field(k, 4);
      o.division = field(k, 5);
      o.desc = field(k, 6);
      o.entries = row.entries;
      o.exits = row.exits;
      out.rows.push_back(std::move(o));
    }
    return out;
  }
};

WindowEngine::WindowEngine(WindowConfig config) : impl_(std::make_unique<Impl>()), config_(config) {
  validate_window_config(config_);
  impl_->set_key_limit(config_.max_group_keys);
  all_columns_ = config_.group_columns == all_group_columns;
}

event::TurnstileEvent WindowEngine::keyed(const event::TurnstileEvent& event, GroupColumns columns) {
  event::TurnstileEvent e = event;
  std::string_view* fields[group_column_count] = {&e.ca, &e.unit, &e.scp, &e.station, &e.linename, &e.division, &e.desc};
  for (int i = 0; i < group_column_count; ++i)
    if (!(columns & (1u << i))) *fields[i] = std::string_view();
  return e;
}

event::TurnstileEvent WindowEngine::key_event(const event::TurnstileEvent& event) const { return keyed(event, config_.group_columns); }

WindowEngine::~WindowEngine() = default;

uint64_t WindowEngine::id_hash(std::string_view id) { return IdTable::hash(id); }

WindowEngine::Prepared WindowEngine::prepare(const event::TurnstileEvent& event) const {
  Prepared p{IdTable::hash(event.id), all_columns_ ? Impl::key_hash(event) : Impl::key_hash(key_event(event))};
  impl_->ids.prefetch(p.id_hash);
  impl_->prefetch_key(p.key_hash);
  return p;
}

AddResult WindowEngine::add(const event::TurnstileEvent& event, int64_t position) {
  return add(event, position, prepare(event));
}

WindowEngine::Prepared WindowEngine::hash(const event::TurnstileEvent& event, GroupColumns columns) {
  return Prepared{IdTable::hash(event.id), Impl::key_hash(columns == all_group_columns ? event : keyed(event, columns))};
}

void WindowEngine::prefetch(const Prepared& prepared) const {
  impl_->ids.prefetch(prepared.id_hash);
  impl_->prefetch_key(prepared.key_hash);
}

void WindowEngine::window_range(int64_t t, int64_t watermark, int64_t& first_start, int64_t& last_start) {
  Impl& s = *impl_;
  // The event's windows [k*S, k*S+W) with k*S <= t < k*S+W, and of those the ones whose end is past
  // the watermark: starts from first_start to last_start, step S.
  const int64_t W = config_.window_seconds, S = config_.slide_seconds;
  if (t >= s.bucket_start && t - s.bucket_start < S) {  // most events fall where the previous one did
    last_start = s.bucket_start;
  } else {
    last_start = floor_div(t, S) * S;
    s.bucket_start = last_start;
  }
  // The smallest multiple of S above t - W.
  first_start = W == S ? last_start : last_start - (last_start - t + W - 1) / S * S;
  // Windows ending at or before the watermark are closed; after restore(), so are those ending at or
  // before closed_through (already written: an event only for them is late, not silently dropped).
  const int64_t closed_bound = std::max(watermark, closed_through_);
  if (closed_bound != minus_infinity && first_start + W <= closed_bound)
    first_start = closed_bound > INT64_MAX - W ? INT64_MAX : -floor_div(-(closed_bound - W + 1), S) * S;
}

AddResult WindowEngine::add(const event::TurnstileEvent& event, int64_t position, const Prepared& prepared) {
  // Fewer group columns: the others are emptied once here, so the interning below stays the one
  // seven-field path (the default pays one branch).
  if (all_columns_) return add_keyed(event, position, prepared);
  return add_keyed(key_event(event), position, prepared);
}

AddResult WindowEngine::add_keyed(const event::TurnstileEvent& event, int64_t position, const Prepared& prepared) {
  Impl& s = *impl_;
  const int64_t t = event.timestamp;
  const int64_t wm_before = watermark_;

  // (1) dedup by ID among events not yet behind the watermark, before anything else: a duplicate changes
  // nothing, so it interns no group key either (and never counts against --max-keys).
  if (s.ids.seen_and_record(event.id, prepared.id_hash, t, watermark_)) {
    ++counters_.duplicates;
    return AddResult::duplicate;
  }
  int64_t first_start, last_start;
  window_range(t, watermark_, first_start, last_start);
  const uint32_t key = first_start <= last_start ? s.intern(event, prepared.key_hash) : 0;

  // (2) add to each of its windows whose end > wm; none: late.
  AddResult result = add_to_windows(event, key, first_start, last_start, position, prepared.id_hash, wm_before);

  // (3) advance the watermark, (4) close what it passed.
  const int64_t candidate = t - config_.watermark_delay_seconds;
  if (candidate > watermark_) {
    watermark_ = candidate;
    if (!s.windows.empty() && s.windows.begin()->first + config_.window_seconds <= watermark_) close_passed();
  }
  return result;
}

AddResult WindowEngine::admit(const event::TurnstileEvent& event, const Prepared& prepared) {
  const int64_t t = event.timestamp;
  if (impl_->ids.seen_and_record(event.id, prepared.id_hash, t, watermark_)) {
    ++counters_.duplicates;
    return AddResult::duplicate;
  }
  int64_t first_start, last_start;
  window_range(t, watermark_, first_start, last_start);
  AddResult result = AddResult::accepted;  // counted by the shard that adds it (or finds it overflowing)
  if (first_start > last_start) {
    result = AddResult::late;
    ++counters_.late;
  } else if (last_start > max_window_end_seconds - config_.window_seconds) {
    result = AddResult::too_late_in_time;
    ++counters_.overflow;
  }
  const int64_t candidate = t - config_.watermark_delay_seconds;
  if (candidate > watermark_) watermark_ = candidate;  // no windows here to close
  return result;
}

AddResult WindowEngine::add_admitted(const event::TurnstileEvent& event, int64_t position, const Prepared& prepared,
                                     int64_t watermark_before) {
  int64_t first_start, last_start;
  window_range(event.timestamp, watermark_before, first_start, last_start);
  const uint32_t key = impl_->intern(all_columns_ ? event : key_event(event), prepared.key_hash);
  return add_to_windows(event, key, first_start, last_start, position, prepared.id_hash, watermark_before);
}

AddResult WindowEngine::add_to_windows(const event::TurnstileEvent& event, uint32_t key, int64_t first_start,
                                       int64_t last_start, int64_t position, uint64_t id_hash, int64_t wm_before) {
  Impl& s = *impl_;
  const int64_t W = config_.window_seconds, S = config_.slide_seconds;
  AddResult result;
  if (first_start > last_start) {
    result = AddResult::late;
    ++counters_.late;
  } else if (last_start > max_window_end_seconds - W) {
    result = AddResult::too_late_in_time;
    ++counters_.overflow;
  } else {
    const int64_t entries = static_cast<int64_t>(event.entries), exits = static_cast<int64_t>(event.exits);
    bool fits = true;
    for (int64_t start = first_start; start <= last_start; start += S) {
      const Impl::Window* found = s.find_window(start);
      if (!found) continue;
      const Impl::Window& w = *found;
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
        Impl::Window& w = s.window(start);
        if (key >= w.row_of_key.size()) w.row_of_key.resize(s.keys.size(), 0);
        uint32_t& row_index = w.row_of_key[key];
        if (row_index == 0) {
          w.rows.push_back({key, 0, 0});
          row_index = static_cast<uint32_t>(w.rows.size());
        }
        Impl::Row& row = w.rows[row_index - 1];
        row.entries += entries;
        row.exits += exits;
        if (keep_event_ids_) w.events.push_back({id_hash, row_index - 1, entries, exits});
        if (position < w.min_position) {
          w.min_position = position;
          w.watermark_at_min = wm_before;
        }
      }
      result = AddResult::accepted;
      ++counters_.accepted;
    }
  }
  return result;
}

std::vector<ClosedWindow> WindowEngine::take_closed() {
  std::vector<ClosedWindow> out;
  out.swap(closed_);
  return out;
}

void WindowEngine::close_all() { close_windows(true); }

void WindowEngine::restore_watermark(int64_t wm) { restore(wm, minus_infinity); }

void WindowEngine::restore(int64_t replay_watermark, int64_t closed_through) {
  watermark_ = replay_watermark;
  closed_through_ = closed_through;
  close_passed();
}

void WindowEngine::advance_watermark(int64_t wm) {
  if (wm <= watermark_) return;
  watermark_ = wm;
  close_passed();
}

void WindowEngine::close_passed() { close_windows(false); }

void WindowEngine::close_windows(bool all) {
  Impl& s = *impl_;
  const int64_t W = config_.window_seconds;
  for (auto it = s.windows.begin(); it != s.windows.end() && (all || it->first + W <= watermark_);) {
    if (it->first + W <= closed_through_) {
      ++counters_.windows_skipped;
    } else if (!it->second.rows.empty()) {
      closed_.push_back(s.finish(it->first, it->second, W));
      ++counters_.windows_closed;
      counters_.rows += closed_.back().rows.size();
    }
    s.erase_window(it);
  }
  if (s.keys.size() >= s.compact_keys_at) s.compact_keys();
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
size_t WindowEngine::group_keys() const { return impl_->keys.size(); }
size_t WindowEngine::tracked_ids() const { return impl_->ids.size(); }

}  // namespace mtastream::engine
