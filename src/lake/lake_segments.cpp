#include "lake/lake_segments.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "base/durable_file.h"
#include "base/error.h"
#include "base/log.h"
#include "upload/uploader.h"

namespace mtastream::lake {

namespace {

// A segment holds one partition's rows of one window, one line each, in the engine's order:
//   CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC,ENTRIES,EXITS
// then a line "~" and the events counted in it (for dedup across partitions), one line each:
//   <ID hash, 16 hex digits>,<row index>,ENTRIES,EXITS
// Plain text (it lives for seconds to hours and is read back once); fields are validated message
// text, so they never hold a comma or a line break.
void append_number(uint64_t v, std::string& out, int base = 10) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v, base).ptr);
}
void append_number(int64_t v, std::string& out) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::string segment_text(const engine::ClosedWindow& window) {
  std::string out;
  out.reserve(window.rows.size() * 64 + window.events.size() * 32 + 2);
  for (const engine::WindowRow& r : window.rows) {
    for (const std::string* f : {&r.ca, &r.unit, &r.scp, &r.station, &r.linename, &r.division, &r.desc})
      out.append(*f) += ',';
    append_number(r.entries, out);
    out += ',';
    append_number(r.exits, out);
    out += '\n';
  }
  out += "~\n";
  for (const engine::WindowEvent& e : window.events) {
    const size_t at = out.size();
    append_number(e.id_hash, out, 16);
    out.insert(at, 16 - (out.size() - at), '0');  // fixed width: 16 hex digits
    out += ',';
    append_number(uint64_t{e.row}, out);
    out += ',';
    append_number(e.entries, out);
    out += ',';
    append_number(e.exits, out);
    out += '\n';
  }
  return out;
}

// Splits "a,b,c" into n fields (the last one takes the rest); false when there are fewer.
bool split_fields(std::string_view line, std::string_view* f, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t comma = i + 1 < n ? line.find(',', from) : line.size();
    if (comma == std::string_view::npos) return false;
    f[i] = line.substr(from, comma - from);
    from = comma + 1;
  }
  return true;
}

bool parse_int(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// `path` names the segment in messages.
engine::ClosedWindow parse_segment(const std::string& text, const std::string& path, int64_t start, int64_t end) {
  engine::ClosedWindow w;
  w.start = start;
  w.end = end;
  size_t line_start = 0;
  uint64_t line_number = 0;
  bool events = false;
  while (line_start < text.size()) {
    ++line_number;
    size_t nl = text.find('\n', line_start);
    if (nl == std::string::npos) throw Error(fmt::format("segment '{}' is cut short at line {}", path, line_number));
    std::string_view line(text.data() + line_start, nl - line_start);
    line_start = nl + 1;
    if (line == "~") {
      events = true;
      continue;
    }
    if (events) {
      std::string_view f[4];
      engine::WindowEvent e{};
      int64_t row_index = -1;
      if (!split_fields(line, f, 4) || f[0].size() != 16 ||
          std::from_chars(f[0].data(), f[0].data() + 16, e.id_hash, 16).ptr != f[0].data() + 16 ||
          !parse_int(f[1], row_index) || row_index < 0 || static_cast<size_t>(row_index) >= w.rows.size() ||
          !parse_int(f[2], e.entries) || !parse_int(f[3], e.exits))
        throw Error(fmt::format("segment '{}' line {} is damaged", path, line_number));
      e.row = static_cast<uint32_t>(row_index);
      w.events.push_back(e);
      continue;
    }
    std::string_view f[9];
    engine::WindowRow row;
    if (!split_fields(line, f, 9) || !parse_int(f[7], row.entries) || !parse_int(f[8], row.exits))
      throw Error(fmt::format("segment '{}' line {} is damaged", path, line_number));
    row.ca = f[0], row.unit = f[1], row.scp = f[2], row.station = f[3], row.linename = f[4], row.division = f[5],
    row.desc = f[6];
    w.rows.push_back(std::move(row));
  }
  return w;
}

auto key_of(const engine::WindowRow& r) { return std::tie(r.ca, r.unit, r.scp, r.station, r.linename, r.division, r.desc); }

// "<start>_<end>.p<partition>" (seconds since the epoch) -> parts.
bool parse_segment_name(std::string_view name, int64_t& start, int64_t& end, int32_t& partition) {
  size_t underscore = name.find('_', 1);
  size_t dot = name.find(".p");
  if (underscore == std::string_view::npos || dot == std::string_view::npos || dot < underscore) return false;
  int64_t p = 0;
  if (!parse_int(name.substr(0, underscore), start) ||
      !parse_int(name.substr(underscore + 1, dot - underscore - 1), end) || !parse_int(name.substr(dot + 2), p) ||
      p < 0 || p > INT32_MAX)
    return false;
  partition = static_cast<int32_t>(p);
  return true;
}

// The lake folder's <lake_dir>/.mtastream/<prefix>_<topic>/: members on one machine.
class LocalStagingStore : public StagingStore {
 public:
  explicit LocalStagingStore(std::string root) : root_(std::move(root)) {}
  std::vector<std::string> list(const std::string& folder) const override {
    std::vector<std::string> names;
    DIR* d = ::opendir(location(folder).c_str());
    if (!d) return names;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    ::closedir(d);
    return names;
  }
  std::optional<std::string> read(const std::string& folder, const std::string& name) const override {
    return read_file(location(folder) + "/" + name);
  }
  void write(const std::string& folder, const std::vector<std::pair<std::string, std::string>>& files) override {
    if (!files.empty()) write_files_durably(location(folder), files);
  }
  void remove(const std::string& folder, const std::vector<std::string>& names) override {
    if (names.empty()) return;
    for (const std::string& name : names) ::unlink((location(folder) + "/" + name).c_str());
    fsync_directory(location(folder));
  }
  std::string location(const std::string& folder) const override {
    return folder.empty() ? root_ : root_ + "/" + folder;
  }
  size_t remove_stale_temp_files() const override {
    size_t removed = 0;
    for (const char* folder : {"segments", "merged", "progress"})
      removed += mtastream::remove_stale_temp_files(location(folder));
    return removed;
  }

 private:
  std::string root_;
};

// <prefix>_<topic>/ under an object store's destination: a fleet on several machines.
class SharedStagingStore : public StagingStore {
 public:
  SharedStagingStore(upload::Uploader& store, std::string root) : store_(store), root_(std::move(root)) {}
  std::vector<std::string> list(const std::string& folder) const override {
    return store_.list_objects(root_ + "/" + folder);
  }
  std::optional<std::string> read(const std::string& folder, const std::string& name) const override {
    return store_.get_object(root_ + "/" + folder + "/" + name);
  }
  void write(const std::string& folder, const std::vector<std::pair<std::string, std::string>>& files) override {
    for (const auto& [name, bytes] : files) store_.put_object(root_ + "/" + folder + "/" + name, bytes);
  }
  void remove(const std::string& folder, const std::vector<std::string>& names) override {
    for (const std::string& name : names) store_.delete_object(root_ + "/" + folder + "/" + name);
  }
  std::string location(const std::string& folder) const override {
    return store_.destination().url_for(folder.empty() ? root_ : root_ + "/" + folder);
  }

 private:
  upload::Uploader& store_;
  std::string root_;
};

}  // namespace

uint64_t drop_cross_partition_copies(std::vector<engine::ClosedWindow>& parts) {
  // The lowest partition holding an ID keeps it; copies in later partitions are taken out of their rows.
  if (parts.size() < 2) return 0;
  size_t events = 0;
  for (const engine::ClosedWindow& part : parts) events += part.events.size();
  std::unordered_map<uint64_t, size_t> first_part;
  first_part.reserve(events);
  for (size_t p = 0; p < parts.size(); ++p)
    for (const engine::WindowEvent& e : parts[p].events) first_part.try_emplace(e.id_hash, p);
  if (first_part.size() == events) return 0;  // no ID in two partitions (the usual case)
  uint64_t dropped = 0;
  std::vector<bool> copy;  // per event of the part: another partition keeps its ID
  for (size_t p = 1; p < parts.size(); ++p) {
    engine::ClosedWindow& part = parts[p];
    std::vector<uint32_t> events_left(part.rows.size(), 0);
    copy.assign(part.events.size(), false);
    bool any = false;
    for (size_t i = 0; i < part.events.size(); ++i) {
      const engine::WindowEvent& e = part.events[i];
      ++events_left[e.row];
      if (first_part.find(e.id_hash)->second != p) any = copy[i] = true;
    }
    if (!any) continue;
    std::vector<engine::WindowEvent> kept;
    for (size_t i = 0; i < part.events.size(); ++i) {
      const engine::WindowEvent& e = part.events[i];
      if (!copy[i]) {
        kept.push_back(e);
        continue;
      }
      engine::WindowRow& row = part.rows[e.row];
      row.entries -= e.entries;
      row.exits -= e.exits;
      --events_left[e.row];
      ++dropped;
    }
    // Rows whose every event was a copy are gone; renumber the events that stay.
    std::vector<uint32_t> renumber(part.rows.size(), UINT32_MAX);
    std::vector<engine::WindowRow> rows;
    for (size_t r = 0; r < part.rows.size(); ++r)
      if (events_left[r] > 0) {
        renumber[r] = static_cast<uint32_t>(rows.size());
        rows.push_back(std::move(part.rows[r]));
      }
    for (engine::WindowEvent& e : kept) e.row = renumber[e.row];
    part.rows = std::move(rows);
    part.events = std::move(kept);
  }
  return dropped;
}

engine::ClosedWindow merge_window_rows(int64_t start, int64_t end, const std::vector<engine::ClosedWindow>& parts,
                               uint64_t& overflowed) {
  std::vector<const engine::WindowRow*> all;
  for (const engine::ClosedWindow& part : parts)
    for (const engine::WindowRow& row : part.rows) all.push_back(&row);
  // Stable: equal keys keep partition order, so which contribution overflows is deterministic.
  std::stable_sort(all.begin(), all.end(),
                   [](const engine::WindowRow* a, const engine::WindowRow* b) { return key_of(*a) < key_of(*b); });
  engine::ClosedWindow out;
  out.start = start;
  out.end = end;
  for (const engine::WindowRow* row : all) {
    if (!out.rows.empty() && key_of(out.rows.back()) == key_of(*row)) {
      engine::WindowRow& sum = out.rows.back();
      if (sum.entries > INT64_MAX - row->entries || sum.exits > INT64_MAX - row->exits) {
        ++overflowed;
        continue;
      }
      sum.entries += row->entries;
      sum.exits += row->exits;
    } else {
      out.rows.push_back(*row);
    }
  }
  return out;
}

LakeSegments::LakeSegments(std::string lake_dir, std::string_view prefix, std::string_view topic, LakeLayout layout,
                           engine::GroupColumns columns, LakePartitioning partitioning, upload::Uploader* shared)
    : lake_dir_(std::move(lake_dir)), prefix_(prefix), topic_(topic), layout_(layout), columns_(columns),
      partitioning_(std::move(partitioning)) {
  std::string root = fmt::format("{}_{}", sanitize_name_part(prefix), sanitize_name_part(topic));
  if (shared)
    store_ = std::make_unique<SharedStagingStore>(*shared, root);
  else
    store_ = std::make_unique<LocalStagingStore>(lake_dir_ + "/.mtastream/" + root);
}

void LakeSegments::write_progress(const std::vector<std::pair<int32_t, std::string>>& markers) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [partition, text] : markers) files.emplace_back(fmt::format("p{}", partition), text);
  store_->write("progress", files);
}

std::map<int32_t, std::string> LakeSegments::read_progress() const {
  std::map<int32_t, std::string> out;
  for (const std::string& name : store_->list("progress")) {
    int64_t p = 0;
    if (name.size() < 2 || name[0] != 'p' || !parse_int(std::string_view(name).substr(1), p) || p < 0 || p > INT32_MAX)
      continue;
    std::optional<std::string> text = store_->read("progress", name);
    if (text && !text->empty()) out[static_cast<int32_t>(p)] = std::move(*text);  // else replaced meanwhile
  }
  return out;
}

void LakeSegments::write(const std::vector<std::pair<int32_t, const engine::ClosedWindow*>>& segments) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [partition, window] : segments)
    files.emplace_back(fmt::format("{}_{}.p{}", window->start, window->end, partition), segment_text(*window));
  store_->write("segments", files);  // a rewrite after a crash holds the same bytes
}

bool LakeSegments::is_merged(int64_t start, int64_t end) const {
  return store_->read("merged", fmt::format("{}_{}", start, end)).has_value();
}

std::vector<LakeSegments::Staged> LakeSegments::list_staged() const {
  std::map<std::pair<int64_t, int64_t>, Staged> by_window;  // (end, start): merge in order of end
  for (const std::string& name : store_->list("segments")) {
    int64_t start, end;
    int32_t partition;
    if (!parse_segment_name(name, start, end, partition)) continue;
    Staged& s = by_window[{end, start}];
    s.start = start;
    s.end = end;
    s.files.emplace_back(partition, name);
  }
  std::vector<Staged> out;
  for (auto& [key, staged] : by_window) {
    std::sort(staged.files.begin(), staged.files.end());
    out.push_back(std::move(staged));
  }
  return out;
}

size_t LakeSegments::staged_windows() const { return list_staged().size(); }

std::optional<engine::ClosedWindow> LakeSegments::read_and_merge(const Staged& s, uint64_t& overflowed,
                                                                  uint64_t& duplicates) {
  std::vector<engine::ClosedWindow> parts;
  for (const auto& [partition, name] : s.files) {
    std::optional<std::string> text = store_->read("segments", name);
    if (!text) {
      // Segments are deleted only after their window is marked merged.
      if (is_merged(s.start, s.end)) return std::nullopt;
      throw Error(fmt::format("a segment of window {}_{} in '{}' vanished before the window was merged", s.start,
                              s.end, store_->location("segments")));
    }
    parts.push_back(parse_segment(*text, store_->location("segments") + "/" + name, s.start, s.end));
  }
  duplicates += drop_cross_partition_copies(parts);
  return merge_window_rows(s.start, s.end, parts, overflowed);
}

std::vector<LakeSegments::Merged> LakeSegments::merge_through(
    int64_t through, const std::function<void(const std::string&, const std::string&)>& publish,
    uint64_t& overflowed, uint64_t& duplicates,
    const std::function<void(const std::vector<const engine::ClosedWindow*>&)>& load) {
  std::vector<Merged> out;
  std::vector<Staged> ready;
  for (Staged& s : list_staged())
    if (s.end <= through) ready.push_back(std::move(s));
  if (ready.empty()) return out;
  create_directories(lake_dir_);

  // 1. The lake files, all durable before any window is marked merged. A window already marked merged
  //    (by another member, or before a crash) is only cleaned up: its file may have been moved away by
  //    `upload --move-to`, and segments read while that member deleted them would be incomplete.
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<const Staged*> merging;
  std::vector<uint64_t> rows;
  std::vector<engine::ClosedWindow> windows;  // kept for `load`
  std::vector<bool> first_of_window;
  for (const Staged& s : ready) {
    if (is_merged(s.start, s.end)) continue;
    std::optional<engine::ClosedWindow> merged = read_and_merge(s, overflowed, duplicates);
    if (!merged) continue;
    // Partitioned: one file per folder, each a pure function of the segments too.
    std::vector<std::pair<std::string, std::string>> pieces;
    std::vector<uint64_t> piece_rows;
    const std::string name = lake_file_name(prefix_, topic_, std::nullopt, s.start, s.end);
    for (const auto& [folder, piece] : split_window(*merged, partitioning_)) {
      pieces.emplace_back(lake_relative_path(folder, name), lake_file_bytes(piece, layout_, columns_));
      piece_rows.push_back(piece.rows.size());
    }
    // Checked again after reading: a member that marked it meanwhile may have deleted segments we read.
    if (is_merged(s.start, s.end)) continue;
    for (size_t i = 0; i < pieces.size(); ++i) {
      files.push_back(std::move(pieces[i]));
      rows.push_back(piece_rows[i]);
      first_of_window.push_back(i == 0);
    }
    merging.push_back(&s);
    if (load) windows.push_back(std::move(*merged));
  }
  std::vector<bool> created = write_files_once(lake_dir_, files);
  for (size_t i = 0; i < files.size(); ++i) {
    Merged m;
    m.name = files[i].first;
    m.path = lake_dir_ + "/" + m.name;
    m.rows = rows[i];
    m.bytes = files[i].second.size();
    m.created = created[i];
    m.first_of_window = first_of_window[i];
    if (!m.created) log::debug("{} is already in the lake (final; not replaced)", m.path);
    if (publish) publish(m.path, m.name);  // also when it was there: the upload may not have finished
    out.push_back(std::move(m));
  }
  if (load && !windows.empty()) {
    std::vector<const engine::ClosedWindow*> loaded;
    for (const engine::ClosedWindow& w : windows) loaded.push_back(&w);
    load(loaded);
  }

  // 2. Mark them merged (durably), 3. then drop their segments.
  std::vector<std::pair<std::string, std::string>> markers;
  for (const Staged* s : merging) markers.emplace_back(fmt::format("{}_{}", s->start, s->end), std::string());
  store_->write("merged", markers);
  std::vector<std::string> done;
  for (const Staged& s : ready)
    for (const auto& [partition, name] : s.files) done.push_back(name);
  store_->remove("segments", done);
  return out;
}

size_t LakeSegments::remove_stale_temp_files() const {
  return store_->remove_stale_temp_files() + mtastream::remove_stale_temp_files(lake_dir_, !partitioning_.empty());
}

}  // namespace mtastream::lake
