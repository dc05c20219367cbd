#include "lake_writer.h"

#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>

#include "error.h"
#include "log.h"
#include "output_file.h"
#include "text.h"

namespace mtastream {

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
  append_row_date(seconds, date);  // MM/DD/YYYY
  append_row_time(seconds, time);  // HH:MM:SS
  out.append(date, 6, 4).append(date, 0, 2).append(date, 3, 2);
  out += 'T';
  out.append(time, 0, 2).append(time, 3, 2).append(time, 6, 2);
}

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::string_view bytes, const std::string& what) {
  write_fully(fd, bytes, fmt::format("'{}'", what));
}

void make_dirs(const std::string& dir) {
  if (dir.empty()) return;
  std::string path;
  size_t i = 0;
  while (i <= dir.size()) {
    size_t slash = dir.find('/', i);
    if (slash == std::string::npos) slash = dir.size();
    path = dir.substr(0, slash);
    i = slash + 1;
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
      throw Error(fmt::format("cannot create directory '{}': {}", path, errno_text()));
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(fmt::format("'{}' is not a directory", dir));
}

void fsync_dir(const std::string& dir) { fsync_directory(dir); }

std::string temp_name_for(const std::string& name) { return fmt::format(".{}.tmp.{}", name, ::getpid()); }

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
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

std::string_view lake_header(LakeLayout layout) {
  return layout == LakeLayout::original ? ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
                                        : "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n";
}

void append_window_rows(const ClosedWindow& window, LakeLayout layout, uint64_t& index, std::string& out) {
  // ",DATE,TIME," is the same on every row of a window: formatted once.
  std::string date_time = ",";
  append_row_date(window.end, date_time);
  date_time += ',';
  append_row_time(window.end, date_time);
  date_time += ',';
  const bool with_index = layout == LakeLayout::original;
  constexpr size_t int_room = 20;  // digits of any uint64/int64 (a minus sign included)
  size_t fixed = (with_index ? int_room + 1 : 0) + 6 + date_time.size() + 2 * int_room + 2;
  size_t estimate = 0;
  if (!window.rows.empty()) {
    const WindowRow& r = window.rows.front();
    estimate = fixed + r.ca.size() + r.unit.size() + r.scp.size() + r.station.size() + r.linename.size() +
               r.division.size() + r.desc.size();
  }
  out.reserve(out.size() + estimate * window.rows.size());
  for (const WindowRow& row : window.rows) {
    // Fields are copied straight into the output; the copy also spots a byte that needs quoting, and only
    // such a row (never one from a validated message) is written again the slow way.
    const std::string* text[] = {&row.ca, &row.unit, &row.scp, &row.station, &row.linename, &row.division};
    size_t need = fixed + row.desc.size();
    for (const std::string* f : text) need += f->size();
    size_t row_start = out.size();
    out.resize(row_start + need);
    char* p = out.data() + row_start;
    char* const end = p + need;
    if (with_index) {
      p = std::to_chars(p, end, index).ptr;
      *p++ = ',';
    }
    bool special = false;
    for (const std::string* f : text) {
      special |= copy_checking(*f, p);
      *p++ = ',';
    }
    --p;  // date_time starts with the comma
    std::memcpy(p, date_time.data(), date_time.size());
    p += date_time.size();
    special |= copy_checking(row.desc, p);
    *p++ = ',';
    p = std::to_chars(p, end, row.entries).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, row.exits).ptr;
    *p++ = '\n';
    if (!special) {
      out.resize(static_cast<size_t>(p - out.data()));
      ++index;
      continue;
    }
    out.resize(row_start);
    if (with_index) {
      append_int(static_cast<int64_t>(index), out);
      out += ',';
    }
    ++index;
    for (const std::string* f : text) {
      append_csv_field(*f, out);
      out += ',';
    }
    out.append(date_time, 1, std::string::npos);
    append_csv_field(row.desc, out);
    out += ',';
    append_int(row.entries, out);
    out += ',';
    append_int(row.exits, out);
    out += '\n';
  }
}

std::string lake_file_bytes(const ClosedWindow& window, LakeLayout layout) {
  std::string csv(lake_header(layout));
  uint64_t index = 0;
  append_window_rows(window, layout, index, csv);
  return gzip_bytes(csv);
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

void write_file_durably(const std::string& dir, const std::string& name, std::string_view bytes) {
  make_dirs(dir);
  std::string temp = join_path(dir, temp_name_for(name));
  std::string final_path = join_path(dir, name);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(fmt::format("cannot create '{}': {}", temp, errno_text()));
  try {
    write_all(fd, bytes, temp);
    if (::fsync(fd) != 0) throw Error(fmt::format("cannot fsync '{}': {}", temp, errno_text()));
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw Error(fmt::format("cannot close '{}': {}", temp, errno_text()));
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    throw Error(fmt::format("cannot rename '{}' to '{}': {}", temp, final_path, errno_text()));
  }
  fsync_dir(dir);
}

void write_files_durably(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  make_dirs(dir);
  std::vector<std::string> temps;
  std::vector<int> fds;
  auto discard = [&]() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    for (const std::string& temp : temps) ::unlink(temp.c_str());
  };
  try {
    for (const auto& [name, bytes] : files) {
      temps.push_back(join_path(dir, temp_name_for(name)));
      int fd = ::open(temps.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (fd < 0) throw Error(fmt::format("cannot create '{}': {}", temps.back(), errno_text()));
      fds.push_back(fd);
      write_all(fd, bytes, temps.back());
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (::fsync(fds[i]) != 0) throw Error(fmt::format("cannot fsync '{}': {}", temps[i], errno_text()));
      int fd = std::exchange(fds[i], -1);
      if (::close(fd) != 0) throw Error(fmt::format("cannot close '{}': {}", temps[i], errno_text()));
    }
    for (size_t i = 0; i < files.size(); ++i) {
      std::string final_path = join_path(dir, files[i].first);
      if (::rename(temps[i].c_str(), final_path.c_str()) != 0)
        throw Error(fmt::format("cannot rename '{}' to '{}': {}", temps[i], final_path, errno_text()));
    }
  } catch (...) {
    discard();
    throw;
  }
  fsync_dir(dir);
}

LakeWriter::LakeWriter(std::string dir, LakeLayout layout) : dir_(std::move(dir)), layout_(layout) {
  make_dirs(dir_);
}

std::string LakeWriter::encode(const ClosedWindow& window, const std::string& file_name) {
  if (file_name.empty() || file_name.find('/') != std::string::npos || file_name[0] == '.')
    throw Error(fmt::format("refusing lake file name '{}'", file_name));
  csv_.assign(lake_header(layout_));
  uint64_t index = 0;
  append_window_rows(window, layout_, index, csv_);
  return gzip_bytes(csv_);
}

LakeWriter::Written LakeWriter::write(const ClosedWindow& window, const std::string& file_name) {
  std::string gz = encode(window, file_name);
  write_file_durably(dir_, file_name, gz);
  return Written{join_path(dir_, file_name), window.rows.size(), gz.size()};
}

std::vector<LakeWriter::Written> LakeWriter::write_many(const std::vector<const ClosedWindow*>& windows,
                                                        const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<Written> out;
  for (size_t i = 0; i < windows.size(); ++i) {
    files.emplace_back(names[i], encode(*windows[i], names[i]));
    out.push_back(Written{join_path(dir_, names[i]), windows[i]->rows.size(), files.back().second.size()});
  }
  write_files_durably(dir_, files);
  return out;
}

void LakeWriter::add(const ClosedWindow& window, const std::string& file_name) {
  pending_.emplace_back(file_name, encode(window, file_name));
  pending_rows_.push_back(window.rows.size());
  pending_bytes_ += pending_.back().second.size();
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

CsvStreamWriter::CsvStreamWriter(std::string target, LakeLayout layout)
    : target_(std::move(target)), layout_(layout), sink_(std::make_unique<Sink>()) {
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
  if (!dir.empty()) make_dirs(dir);
  s.file = std::make_unique<OutputFile>(target_);
}

CsvStreamWriter::~CsvStreamWriter() = default;  // unfinished (an error): OutputFile leaves no temporary file

void CsvStreamWriter::write(const ClosedWindow& window) {
  if (!header_written_) {
    buffer_.append(lake_header(layout_));
    header_written_ = true;
  }
  append_window_rows(window, layout_, index_, buffer_);
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
    buffer_.append(lake_header(layout_));
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
  for (const auto& [name, bytes] : files) temps.emplace_back(fmt::format(".{}.once.tmp.{}", name, ::getpid()), bytes);
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
  fsync_dir(dir);
  return created;
}

void create_directories(const std::string& dir) { make_dirs(dir); }

size_t remove_stale_temp_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  size_t removed = 0;
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.size() < 2 || name[0] != '.') continue;
    size_t tmp = name.rfind(".tmp.");
    if (tmp == std::string_view::npos) continue;
    std::string_view pid_text = name.substr(tmp + 5);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string_view::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(std::string(pid_text)));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still run
    if (::unlink((dir + "/" + std::string(name)).c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace mtastream
