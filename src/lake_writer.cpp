#include "lake_writer.h"

#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("cannot write '{}': {}", what, errno_text()));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
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

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open directory '{}': {}", dir, errno_text()));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    throw Error(fmt::format("cannot fsync directory '{}': {}", dir, errno_text()));
  }
}

std::string temp_name_for(const std::string& name) { return fmt::format(".{}.tmp.{}", name, ::getpid()); }

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// A streaming gzip encoder with a fixed header (zlib's default gzip header has mtime 0 and no name).
class GzipEncoder {
 public:
  explicit GzipEncoder(int level) {
    if (deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw Error("cannot start the gzip encoder");
  }
  ~GzipEncoder() { deflateEnd(&zs_); }
  void feed(std::string_view in, std::string& out, bool finish) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    int flush = finish ? Z_FINISH : Z_NO_FLUSH;
    while (true) {
      size_t old = out.size();
      size_t room = deflateBound(&zs_, zs_.avail_in) + 64;
      out.resize(old + room);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs_.avail_out = static_cast<uInt>(room);
      int rc = deflate(&zs_, flush);
      out.resize(old + room - zs_.avail_out);
      if (rc == Z_STREAM_ERROR) throw Error("gzip encoder failed");
      if (finish ? rc == Z_STREAM_END : zs_.avail_in == 0) break;
    }
  }

 private:
  z_stream zs_{};
};

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
  std::string date_time;
  append_row_date(window.end, date_time);
  date_time += ',';
  append_row_time(window.end, date_time);
  for (const WindowRow& row : window.rows) {
    if (layout == LakeLayout::original) {
      append_int(static_cast<int64_t>(index++), out);
      out += ',';
    }
    for (const std::string* f : {&row.ca, &row.unit, &row.scp, &row.station, &row.linename, &row.division}) {
      append_csv_field(*f, out);
      out += ',';
    }
    out += date_time;
    out += ',';
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
  std::string out;
  GzipEncoder encoder(level);
  encoder.feed(data, out, true);
  return out;
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

LakeWriter::Written LakeWriter::write(const ClosedWindow& window, const std::string& file_name) {
  if (file_name.empty() || file_name.find('/') != std::string::npos || file_name[0] == '.')
    throw Error(fmt::format("refusing lake file name '{}'", file_name));
  csv_.assign(lake_header(layout_));
  uint64_t index = 0;
  append_window_rows(window, layout_, index, csv_);
  std::string gz = gzip_bytes(csv_);
  write_file_durably(dir_, file_name, gz);
  return Written{join_path(dir_, file_name), window.rows.size(), gz.size()};
}

std::vector<LakeWriter::Written> LakeWriter::write_many(const std::vector<const ClosedWindow*>& windows,
                                                        const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<Written> out;
  for (size_t i = 0; i < windows.size(); ++i) {
    const std::string& file_name = names[i];
    if (file_name.empty() || file_name.find('/') != std::string::npos || file_name[0] == '.')
      throw Error(fmt::format("refusing lake file name '{}'", file_name));
    csv_.assign(lake_header(layout_));
    uint64_t index = 0;
    append_window_rows(*windows[i], layout_, index, csv_);
    files.emplace_back(file_name, gzip_bytes(csv_));
    out.push_back(Written{join_path(dir_, file_name), windows[i]->rows.size(), files.back().second.size()});
  }
  write_files_durably(dir_, files);
  return out;
}

struct CsvStreamWriter::Sink {
  bool to_stdout = false;
  bool gzip = false;
  std::unique_ptr<OutputFile> file;  // a regular file is replaced at finish(); a device or FIFO written through
  std::unique_ptr<GzipEncoder> encoder;
  std::string compressed;
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
  if (s.gzip) s.encoder = std::make_unique<GzipEncoder>(6);
}

CsvStreamWriter::~CsvStreamWriter() = default;  // unfinished (an error): OutputFile leaves no temporary file

void CsvStreamWriter::write(const ClosedWindow& window) {
  if (!header_written_) {
    buffer_.append(lake_header(layout_));
    header_written_ = true;
  }
  append_window_rows(window, layout_, index_, buffer_);
  rows_ += window.rows.size();
  if (buffer_.size() >= (1 << 20)) flush_buffer(false);
}

void CsvStreamWriter::flush_buffer(bool final) {
  Sink& s = *sink_;
  if (s.to_stdout) {
    bytes_ += buffer_.size();
    write_stdout(buffer_);
    buffer_.clear();
    return;
  }
  std::string_view out = buffer_;
  if (s.gzip) {
    s.compressed.clear();
    s.encoder->feed(buffer_, s.compressed, final);
    out = s.compressed;
  }
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
  flush_buffer(true);
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
void fsync_directory(const std::string& dir) { fsync_dir(dir); }

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
