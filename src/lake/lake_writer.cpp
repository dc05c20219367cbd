#include "lake/lake_writer.h"

#include <utility>

#include <fmt/format.h>
#include <unistd.h>
#include <libdeflate.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <map>
#include <algorithm>

#include "base/civil_time.h"
#include "base/durable_file.h"
#include "base/encoding.h"
#include "base/error.h"
#include "base/log.h"
#include "base/output_file.h"
#include "base/text.h"

namespace mtastream::lake {

namespace {

void append_int(int64_t v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Minimal quoting, as pandas/Python csv writes: only when the value holds a comma, quote or line break.
// (Validated messages never do; this keeps any caller's output readable CSV.)
void append_csv_field(std::string_view v, std::string& out) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(v);
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Bytes that make a CSV field need quotes.
constexpr std::array<bool, 256> csv_special = [] {
  std::array<bool, 256> t{};
  t[','] = t['"'] = t['\r'] = t['\n'] = true;
  return t;
}();

// Copies `v` to p (advancing it) and says whether it holds a byte that needs quoting: one pass.
bool copy_checking(std::string_view v, char*& p) {
  bool special = false;
  for (char c : v) {
    special |= csv_special[static_cast<unsigned char>(c)];
    *p++ = c;
  }
  return special;
}

void append_name_time(int64_t seconds, std::string& out) {
  std::string date, time;
  civil::append_mta_date(seconds, date);  // MM/DD/YYYY
  civil::append_mta_time(seconds, time);  // HH:MM:SS
  out.append(date, 6, 4).append(date, 0, 2).append(date, 3, 2);
  out += 'T';
  out.append(time, 0, 2).append(time, 3, 2).append(time, 6, 2);
}

std::string errno_text() { return std::strerror(errno); }

std::string folder_of(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

// One compressor per level and thread, kept: allocating one costs more than compressing a small window.
libdeflate_compressor* compressor_for(int level) {
  struct Cache {
    std::array<libdeflate_compressor*, 13> by_level{};
    ~Cache() {
      for (libdeflate_compressor* c : by_level)
        if (c) libdeflate_free_compressor(c);
    }
  };
  thread_local Cache cache;
  if (level < 0 || level > 12) throw Error(fmt::format("gzip level {} is not 0-12", level));
  libdeflate_compressor*& c = cache.by_level[static_cast<size_t>(level)];
  if (!c && !(c = libdeflate_alloc_compressor(level))) throw Error("cannot start the gzip encoder");
  return c;
}

}  // namespace

LakeLayout parse_lake_layout(std::string_view name) {
  if (name == "original") return LakeLayout::original;
  if (name == "clean") return LakeLayout::clean;
  throw UsageError(fmt::format("unknown layout '{}' (use original or clean)", name));
}

std::string_view lake_layout_name(LakeLayout layout) {
  return layout == LakeLayout::original ? "original" : "clean";
}

std::string lake_header(LakeLayout layout, engine::GroupColumns columns) {
  if (columns == engine::all_group_columns)
    return layout == LakeLayout::original ? ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
                                          : "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n";
  std::string out = layout == LakeLayout::original ? "," : "";
  for (int i = 0; i < 6; ++i)
    if (columns & (1u << i)) out.append(engine::group_column_name(i)) += ',';
  out += "DATE,TIME,";
  if (columns & (1u << 6)) out += "DESC,";
  out += "ENTRIES,EXITS\n";
  return out;
}

namespace {

// How the rows of one window are written: the chosen columns, and ",DATE,TIME," (the same on every row).
class RowFormat {
 public:
  RowFormat(const engine::ClosedWindow& window, LakeLayout layout, engine::GroupColumns columns)
      : with_index_(layout == LakeLayout::original), with_desc_(columns & (1u << 6)) {
    date_time_ = ",";
    civil::append_mta_date(window.end, date_time_);
    date_time_ += ',';
    civil::append_mta_time(window.end, date_time_);
    date_time_ += ',';
    // The columns before DATE, as member pointers (the default: all six).
    std::string engine::WindowRow::*const all_fields[6] = {
        &engine::WindowRow::ca,      &engine::WindowRow::unit,     &engine::WindowRow::scp,
        &engine::WindowRow::station, &engine::WindowRow::linename, &engine::WindowRow::division};
    for (int i = 0; i < 6; ++i)
      if (columns & (1u << i)) fields_[n_fields_++] = all_fields[i];
    fixed_ = (with_index_ ? int_room + 1 : 0) + n_fields_ + date_time_.size() + 2 * int_room + 3;
  }

  // At most the bytes `row` takes.
  size_t room(const engine::WindowRow& row) const {
    size_t need = fixed_ + (with_desc_ ? row.desc.size() : 0);
    for (size_t f = 0; f < n_fields_; ++f) need += (row.*fields_[f]).size();
    return need;
  }

  // Writes the row at `p` (room(row) bytes there) and returns its end, or null when a field needs quoting
  // (never one from a validated message): append_quoted() writes that row.
  char* write_plain(const engine::WindowRow& row, uint64_t index, char* p, char* end) const {
    char* const line = p;
    if (with_index_) {
      p = std::to_chars(p, end, index).ptr;
      *p++ = ',';
    }
    bool special = false;
    for (size_t f = 0; f < n_fields_; ++f) {
      special |= copy_checking(row.*fields_[f], p);
      *p++ = ',';
    }
    // date_time starts with the comma: it replaces the one just written (none when the row starts here).
    const size_t skip = p == line ? 1 : 0;
    if (!skip) --p;
    std::memcpy(p, date_time_.data() + skip, date_time_.size() - skip);
    p += date_time_.size() - skip;
    if (with_desc_) {
      special |= copy_checking(row.desc, p);
      *p++ = ',';
    }
    p = std::to_chars(p, end, row.entries).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, row.exits).ptr;
    *p++ = '\n';
    return special ? nullptr : p;
  }

  void append_quoted(const engine::WindowRow& row, uint64_t index, std::string& out) const {
    if (with_index_) {
      append_int(static_cast<int64_t>(index), out);
      out += ',';
    }
    for (size_t f = 0; f < n_fields_; ++f) {
      append_csv_field(row.*fields_[f], out);
      out += ',';
    }
    out.append(date_time_, 1, std::string::npos);
    if (with_desc_) {
      append_csv_field(row.desc, out);
      out += ',';
    }
    append_int(row.entries, out);
    out += ',';
    append_int(row.exits, out);
    out += '\n';
  }

 private:
  static constexpr size_t int_room = 20;  // digits of any uint64/int64 (a minus sign included)
  const bool with_index_, with_desc_;
  std::string date_time_;
  std::string engine::WindowRow::*fields_[6];
  size_t n_fields_ = 0;
  size_t fixed_ = 0;  // the bytes of a row besides its text fields
};

}  // namespace

void append_window_rows(const engine::ClosedWindow& window, LakeLayout layout, uint64_t& index, std::string& out,
                        engine::GroupColumns columns) {
  const RowFormat format(window, layout, columns);
  if (!window.rows.empty()) out.reserve(out.size() + format.room(window.rows.front()) * window.rows.size());
  for (const engine::WindowRow& row : window.rows) {
    // Fields are copied straight into the output; the copy also spots a byte that needs quoting, and only
    // such a row is written again the slow way.
    const size_t row_start = out.size(), need = format.room(row);
    out.resize(row_start + need);
    char* p = format.write_plain(row, index, out.data() + row_start, out.data() + row_start + need);
    if (p) {
      out.resize(static_cast<size_t>(p - out.data()));
    } else {
      out.resize(row_start);
      format.append_quoted(row, index, out);
    }
    ++index;
  }
}

std::string lake_file_bytes(const engine::ClosedWindow& window, LakeLayout layout, engine::GroupColumns columns) {
  std::string csv(lake_header(layout, columns));
  uint64_t index = 0;
  append_window_rows(window, layout, index, csv, columns);
  return gzip_bytes(csv);
}

namespace {

// The partition keys: folder names are lowercase, as Hive writes them.
std::string partition_item_name(int item) {
  if (item == static_cast<int>(LakePartitioning::Item::date)) return "date";
  if (item == static_cast<int>(LakePartitioning::Item::hour)) return "hour";
  std::string name(engine::group_column_name(item));
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return name;
}

// Hive's FileUtils.escapePathName list (Spark's ExternalCatalogUtils the same): these become %XX.
bool hive_escaped(unsigned char c) {
  if (c < 0x20 || c == 0x7f) return true;
  switch (c) {
    case '"': case '#': case '%': case '\'': case '*': case '/': case ':': case '=': case '?': case '\\':
    case '{': case '[': case ']': case '^':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string escape_partition_value(std::string_view value) {
  if (value.empty()) return "__HIVE_DEFAULT_PARTITION__";
  std::string out;
  size_t cut = 0;  // the longest whole-character prefix of `out` that fits the limit
  for (size_t i = 0; i < value.size();) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      if (size_t n = utf8_sequence_length(value, i)) {
        out.append(value, i, n);
        i += n;
      } else {
        out += fmt::format("%{:02X}", c);
        ++i;
      }
    } else if (!hive_escaped(c)) {
      out += static_cast<char>(c);
      ++i;
    } else {
      out += fmt::format("%{:02X}", c);
      ++i;
    }
    if (out.size() <= max_partition_value_bytes - 17) cut = out.size();
  }
  // Too long for a folder name (or for several in one object key): a whole-character prefix and a hash
  // of the value, so distinct values stay distinct folders.
  if (out.size() > max_partition_value_bytes) {
    out.resize(cut);
    out += fmt::format("~{:016x}", engine::WindowEngine::id_hash(value));
  }
  return out;
}

LakePartitioning parse_lake_partitioning(std::string_view list, engine::GroupColumns columns) {
  LakePartitioning out;
  std::vector<std::string> names = {"date", "hour"};
  for (int i = 0; i < engine::group_column_count; ++i) names.push_back(partition_item_name(i));
  for (std::string_view item : split(list, ',')) {
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::string lower;
    for (char c : item) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (lower.empty())
      throw UsageError(fmt::format("--partition-by '{}': an empty name; give a comma-separated list of date, hour "
                                   "and group columns (station, ...)",
                                   list));
    int found = INT32_MIN;
    if (lower == "date") found = static_cast<int>(LakePartitioning::Item::date);
    if (lower == "hour") found = static_cast<int>(LakePartitioning::Item::hour);
    for (int i = 0; i < engine::group_column_count; ++i)
      if (lower == partition_item_name(i)) found = i;
    if (found == INT32_MIN) {
      std::string match = closest_match(lower, names);
      throw UsageError(fmt::format("--partition-by: unknown item '{}'{} (use date, hour, or a --group-by column: "
                                   "ca, unit, scp, station, linename, division, desc)",
                                   item, match.empty() ? "" : fmt::format("; did you mean {}?", match)));
    }
    if (found >= 0 && !(columns & (1u << found)))
      throw UsageError(fmt::format("--partition-by {}: {} is not a group column (--group-by {}); partition by a "
                                   "column the rows are grouped by",
                                   lower, engine::group_column_name(found), engine::group_columns_text(columns)));
    if (std::find(out.items.begin(), out.items.end(), found) != out.items.end())
      throw UsageError(fmt::format("--partition-by: {} is given twice", lower));
    out.items.push_back(found);
  }
  return out;
}

std::string lake_partitioning_text(const LakePartitioning& partitioning) {
  std::string out;
  for (int item : partitioning.items) {
    if (!out.empty()) out += ',';
    out += partition_item_name(item);
  }
  return out;
}

std::vector<std::pair<std::string, engine::ClosedWindow>> split_window(const engine::ClosedWindow& window,
                                                               const LakePartitioning& partitioning) {
  std::vector<std::pair<std::string, engine::ClosedWindow>> out;
  if (partitioning.empty()) {
    out.emplace_back("", window);
    return out;
  }
  // The time part is the same for every row.
  std::string date, time;
  civil::append_mta_date(window.end, date);  // MM/DD/YYYY
  civil::append_mta_time(window.end, time);
  std::string_view row_fields[engine::group_column_count];
  std::map<std::string, size_t> index;
  for (size_t r = 0; r < window.rows.size(); ++r) {
    const engine::WindowRow& row = window.rows[r];
    row_fields[0] = row.ca, row_fields[1] = row.unit, row_fields[2] = row.scp, row_fields[3] = row.station,
    row_fields[4] = row.linename, row_fields[5] = row.division, row_fields[6] = row.desc;
    std::string folder;
    for (int item : partitioning.items) {
      if (!folder.empty()) folder += '/';
      folder += partition_item_name(item);
      folder += '=';
      if (item == static_cast<int>(LakePartitioning::Item::date))
        folder.append(date, 6, 4).append("-").append(date, 0, 2).append("-").append(date, 3, 2);
      else if (item == static_cast<int>(LakePartitioning::Item::hour))
        folder.append(time, 0, 2);
      else
        folder += escape_partition_value(row_fields[item]);
    }
    auto [it, added] = index.try_emplace(folder, out.size());
    if (added) {
      engine::ClosedWindow piece;
      piece.start = window.start;
      piece.end = window.end;
      piece.min_position = window.min_position;
      piece.watermark_at_min = window.watermark_at_min;
      out.emplace_back(folder, std::move(piece));
    }
    out[it->second].second.rows.push_back(row);
  }
  return out;
}

std::string lake_relative_path(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

std::string sanitize_name_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= 100) break;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    out += ok ? c : '_';
  }
  if (out.empty()) out = "_";
  if (out.front() == '.') out.front() = '_';
  return out;
}

std::string lake_file_name(std::string_view prefix, std::string_view stream, std::optional<int32_t> partition,
                           int64_t window_start, int64_t window_end) {
  std::string name = sanitize_name_part(prefix);
  name += '_';
  name += sanitize_name_part(stream);
  if (partition) name += fmt::format("_p{}", *partition);
  name += '_';
  append_name_time(window_start, name);
  name += '_';
  append_name_time(window_end, name);
  name += ".csv.gz";
  return name;
}

std::string gzip_bytes(std::string_view data, int level) {
  // libdeflate writes MTIME 0, no name and no other header field, so equal input gives equal bytes.
  // Compressed into a kept buffer and copied out: the result holds its size, not the bound (batches of
  // them wait in memory).
  libdeflate_compressor* c = compressor_for(level);
  thread_local std::vector<char> room;
  room.resize(libdeflate_gzip_compress_bound(c, data.size()));
  size_t n = libdeflate_gzip_compress(c, data.data(), data.size(), room.data(), room.size());
  if (n == 0) throw Error("gzip encoder failed");
  return std::string(room.data(), n);
}

LakeWriter::LakeWriter(std::string dir, LakeLayout layout, engine::GroupColumns columns, LakePartitioning partitioning)
    : dir_(std::move(dir)), layout_(layout), columns_(columns), partitioning_(std::move(partitioning)) {
  create_directories(dir_);
}

std::string LakeWriter::encode(const engine::ClosedWindow& window, const std::string& file_name) {
  if (file_name.empty() || file_name.find('/') != std::string::npos || file_name[0] == '.')
    throw Error(fmt::format("refusing lake file name '{}'", file_name));
  csv_.assign(lake_header(layout_, columns_));
  uint64_t index = 0;
  append_window_rows(window, layout_, index, csv_, columns_);
  return gzip_bytes(csv_);
}

std::vector<LakeWriter::Encoded> LakeWriter::encode_split(const engine::ClosedWindow& window, const std::string& file_name) {
  std::vector<Encoded> out;
  if (partitioning_.empty()) {
    out.push_back({file_name, encode(window, file_name), window.rows.size()});
    return out;
  }
  for (const auto& [folder, piece] : split_window(window, partitioning_))
    out.push_back({lake_relative_path(folder, file_name), encode(piece, file_name), piece.rows.size()});
  return out;
}

LakeWriter::Written LakeWriter::write(const engine::ClosedWindow& window, const std::string& file_name) {
  if (!partitioning_.empty()) throw Error("LakeWriter::write() does not split windows by partition folder; use add()");
  std::string gz = encode(window, file_name);
  write_file_durably(dir_, file_name, gz);
  return Written{join_path(dir_, file_name), window.rows.size(), gz.size()};
}

std::vector<LakeWriter::Written> LakeWriter::write_many(const std::vector<const engine::ClosedWindow*>& windows,
                                                        const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<Written> out;
  for (size_t i = 0; i < windows.size(); ++i)
    for (Encoded& e : encode_split(*windows[i], names[i])) {
      out.push_back(Written{join_path(dir_, e.path), e.rows, e.bytes.size()});
      files.emplace_back(std::move(e.path), std::move(e.bytes));
    }
  write_files_durably(dir_, files);
  return out;
}

void LakeWriter::add(const engine::ClosedWindow& window, const std::string& file_name) {
  for (Encoded& e : encode_split(window, file_name)) {
    pending_bytes_ += e.bytes.size();
    pending_.emplace_back(std::move(e.path), std::move(e.bytes));
    pending_rows_.push_back(e.rows);
  }
}

std::vector<LakeWriter::Written> LakeWriter::flush() {
  std::vector<std::pair<std::string, std::string>> files = std::exchange(pending_, {});
  std::vector<uint64_t> rows = std::exchange(pending_rows_, {});
  pending_bytes_ = 0;
  std::vector<Written> out;
  if (files.empty()) return out;
  write_files_durably(dir_, files);  // on failure the batch is gone: a later flush() does not retry it
  for (size_t i = 0; i < files.size(); ++i)
    out.push_back(Written{join_path(dir_, files[i].first), rows[i], files[i].second.size()});
  return out;
}

struct CsvStreamWriter::Sink {
  bool to_stdout = false;
  bool gzip = false;
  std::unique_ptr<OutputFile> file;  // a regular file is replaced at finish(); a device or FIFO written through
};

CsvStreamWriter::CsvStreamWriter(std::string target, LakeLayout layout, engine::GroupColumns columns)
    : target_(std::move(target)), layout_(layout), columns_(columns), sink_(std::make_unique<Sink>()) {
  Sink& s = *sink_;
  if (target_ == "-") {
    s.to_stdout = true;
    return;
  }
  size_t slash = target_.rfind('/');
  std::string dir = slash == std::string::npos ? "" : target_.substr(0, slash == 0 ? 1 : slash);
  std::string name = slash == std::string::npos ? target_ : target_.substr(slash + 1);
  if (name.empty()) throw UsageError(fmt::format("-o '{}' names a directory, not a file", target_));
  s.gzip = ends_with(name, ".gz");
  if (!dir.empty()) create_directories(dir);
  s.file = std::make_unique<OutputFile>(target_);
}

CsvStreamWriter::~CsvStreamWriter() = default;  // unfinished (an error): OutputFile leaves no temporary file

void CsvStreamWriter::write(const engine::ClosedWindow& window) {
  if (!header_written_) {
    buffer_.append(lake_header(layout_, columns_));
    header_written_ = true;
  }
  append_window_rows(window, layout_, index_, buffer_, columns_);
  rows_ += window.rows.size();
  if (buffer_.size() >= (1 << 20)) flush_buffer();
}

void CsvStreamWriter::flush_buffer() {
  Sink& s = *sink_;
  if (s.to_stdout) {
    bytes_ += buffer_.size();
    write_stdout(buffer_);
    buffer_.clear();
    return;
  }
  if (buffer_.empty()) return;  // no empty gzip member at the end
  // One gzip member per flushed buffer.
  std::string gz;
  if (s.gzip) gz = gzip_bytes(buffer_);
  std::string_view out = s.gzip ? std::string_view(gz) : std::string_view(buffer_);
  bytes_ += out.size();
  s.file->write(out);
  buffer_.clear();
}

void CsvStreamWriter::finish() {
  if (finished_) return;
  finished_ = true;
  if (!header_written_) {
    buffer_.append(lake_header(layout_, columns_));
    header_written_ = true;
  }
  flush_buffer();
  Sink& s = *sink_;
  if (s.to_stdout) {
    flush_stdout();
    return;
  }
  s.file->commit();
}

std::vector<bool> write_files_once(const std::string& dir,
                                   const std::vector<std::pair<std::string, std::string>>& files) {
  // The temporary files are written and fsynced as write_files_durably does; then each is linked to its
  // final name (EEXIST: someone wrote that file first, keep theirs) and unlinked.
  std::vector<std::pair<std::string, std::string>> temps;
  temps.reserve(files.size());
  // Staged as ".NAME.once.tmp.PID": remove_stale_temp_files() knows the pattern if we are killed here.
  for (const auto& [name, bytes] : files) temps.emplace_back(temp_path_for(name, TempKind::once), bytes);
  write_files_durably(dir, temps);
  std::vector<bool> created(files.size(), false);
  std::exception_ptr error;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string staged = join_path(dir, temps[i].first);
    std::string final_path = join_path(dir, files[i].first);
    if (!error && ::link(staged.c_str(), final_path.c_str()) == 0) {
      created[i] = true;
    } else if (!error && errno != EEXIST) {
      error = std::make_exception_ptr(
          Error(fmt::format("cannot link '{}' to '{}': {}", staged, final_path, errno_text())));
    }
    ::unlink(staged.c_str());
  }
  if (error) std::rethrow_exception(error);
  std::vector<std::string> folders;
  for (const auto& file : files)
    if (std::string folder = folder_of(file.first); !folder.empty()) folders.push_back(join_path(dir, folder));
  std::sort(folders.begin(), folders.end());
  folders.erase(std::unique(folders.begin(), folders.end()), folders.end());
  for (const std::string& folder : folders) fsync_directory(folder);  // the links; write_files_durably synced the folders' creation
  fsync_directory(dir);
  return created;
}

}  // namespace mtastream::lake
