#include "base/durable_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace mtastream {
namespace {

std::string errno_text() { return std::strerror(errno); }

bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

pid_t to_pid(std::string_view digits) {
  if (digits.size() > 9) return 0;
  pid_t pid = 0;
  for (char c : digits) pid = pid * 10 + (c - '0');
  return pid;
}

std::string folder_of(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

// Creates the partition folders of `names` under `dir` (which exists). Returns every folder to fsync
// once the files are in place: the files' own folders, and the parent of each folder created here.
std::vector<std::string> make_partition_folders(const std::string& dir, const std::vector<std::string>& names) {
  std::vector<std::string> sync;
  for (const std::string& name : names) {
    std::string folder = folder_of(name);
    if (folder.empty()) continue;
    std::string path = dir;
    size_t from = 0;
    while (from <= folder.size()) {
      size_t slash = folder.find('/', from);
      if (slash == std::string::npos) slash = folder.size();
      std::string parent = path;
      path += "/" + folder.substr(from, slash - from);
      from = slash + 1;
      if (::mkdir(path.c_str(), 0777) == 0) {
        sync.push_back(parent);
      } else if (errno != EEXIST) {
        throw Error(fmt::format("cannot create directory '{}': {}", path, errno_text()));
      }
    }
    sync.push_back(dir + "/" + folder);
  }
  std::sort(sync.begin(), sync.end());
  sync.erase(std::unique(sync.begin(), sync.end()), sync.end());
  return sync;
}

}  // namespace

void write_all(int fd, std::string_view bytes, std::string_view what) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("cannot write {}: {}", what, errno_text()));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void fsync_directory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open directory '{}': {}", dir, errno_text()));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0 && saved != EINVAL) throw Error(fmt::format("cannot fsync directory '{}': {}", dir, std::strerror(saved)));
}

void create_directories(const std::string& dir) {
  if (dir.empty()) return;
  size_t i = 0;
  while (i <= dir.size()) {
    size_t slash = dir.find('/', i);
    if (slash == std::string::npos) slash = dir.size();
    std::string path = dir.substr(0, slash);
    i = slash + 1;
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
      throw Error(fmt::format("cannot create directory '{}': {}", path, errno_text()));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw Error(fmt::format("'{}' is not a directory", dir));
}

std::string temp_path_for(std::string_view path, TempKind kind) {
  size_t slash = path.rfind('/');
  std::string_view folder = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash + 1);
  std::string_view name = path.substr(folder.size());
  static std::atomic<unsigned> copies{0};
  switch (kind) {
    case TempKind::replace: return fmt::format("{}.{}.tmp.{}", folder, name, ::getpid());
    case TempKind::once: return fmt::format("{}.{}.once.tmp.{}", folder, name, ::getpid());
    case TempKind::copy: return fmt::format("{}.{}.tmp-{}-{}", folder, name, ::getpid(), copies++);
  }
  return {};
}

pid_t temp_name_writer(std::string_view name) {
  if (name.size() < 2 || name[0] != '.') return 0;
  if (size_t tmp = name.rfind(".tmp."); tmp != std::string_view::npos && all_digits(name.substr(tmp + 5)))
    return to_pid(name.substr(tmp + 5));  // ".NAME.tmp.PID", ".NAME.once.tmp.PID"
  size_t tmp = name.rfind(".tmp-");  // ".NAME.tmp-PID-N"
  if (tmp == std::string_view::npos) return 0;
  std::string_view rest = name.substr(tmp + 5);
  size_t dash = rest.find('-');
  if (dash == std::string_view::npos || !all_digits(rest.substr(0, dash)) || !all_digits(rest.substr(dash + 1)))
    return 0;
  return to_pid(rest.substr(0, dash));
}

size_t remove_stale_temp_files(const std::string& dir, bool partition_folders) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  size_t removed = 0;
  std::vector<std::string> folders;
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    // Partition folders ("key=value", never hidden) are searched too: a killed writer leaves its
    // temporary files next to the final names.
    if (partition_folders && name[0] != '.' && name.find('=') != std::string_view::npos &&
        (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN))
      folders.emplace_back(name);
    pid_t pid = temp_name_writer(name);
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still run
    if (::unlink((dir + "/" + std::string(name)).c_str()) == 0) ++removed;
  }
  ::closedir(d);
  for (const std::string& folder : folders) {
    struct stat st {};
    std::string path = dir + "/" + folder;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) removed += remove_stale_temp_files(path, true);
  }
  return removed;
}

ReplacingFile::ReplacingFile(std::string path, mode_t mode, TempKind kind)
    : path_(std::move(path)), temp_path_(temp_path_for(path_, kind)) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd_ < 0) throw Error(fmt::format("cannot create '{}': {}", temp_path_, errno_text()));
}

ReplacingFile::ReplacingFile(ReplacingFile&& other) noexcept
    : path_(std::move(other.path_)), temp_path_(std::move(other.temp_path_)), fd_(std::exchange(other.fd_, -1)),
      renamed_(std::exchange(other.renamed_, true)) {}

ReplacingFile::~ReplacingFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_) ::unlink(temp_path_.c_str());
}

void ReplacingFile::keep_mode_of_target() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) ::fchmod(fd_, st.st_mode & 07777);
}

void ReplacingFile::write_file(const std::string& from) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw Error(fmt::format("cannot open '{}': {}", from, errno_text()));
  std::vector<char> buffer(1 << 20);
  try {
    for (;;) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(fmt::format("cannot read '{}': {}", from, errno_text()));
      if (n == 0) break;
      write(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
  } catch (...) {
    ::close(in);
    throw;
  }
  ::close(in);
}

void ReplacingFile::sync() {
  if (::fsync(fd_) != 0) throw Error(fmt::format("cannot fsync '{}': {}", temp_path_, errno_text()));
  if (::close(std::exchange(fd_, -1)) != 0)
    throw Error(fmt::format("cannot close '{}': {}", temp_path_, errno_text()));
}

void ReplacingFile::rename() {
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw Error(fmt::format("cannot rename '{}' to '{}': {}", temp_path_, path_, errno_text()));
  renamed_ = true;
}

std::string ReplacingFile::directory() const {
  size_t slash = path_.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path_.substr(0, slash);
}

void write_file_durably(const std::string& dir, const std::string& name, std::string_view bytes) {
  create_directories(dir);
  ReplacingFile file(join_path(dir, name));
  file.write(bytes);
  file.commit();
}

void write_files_durably(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  create_directories(dir);
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.first);
  const std::vector<std::string> folders = make_partition_folders(dir, names);
  std::vector<ReplacingFile> temps;  // destroyed on failure: the temporary files are removed
  temps.reserve(files.size());
  for (const auto& [name, bytes] : files) {
    temps.emplace_back(join_path(dir, name));
    temps.back().write(bytes);
  }
  for (ReplacingFile& temp : temps) temp.sync();
  for (ReplacingFile& temp : temps) temp.rename();
  for (const std::string& folder : folders) fsync_directory(folder);
  fsync_directory(dir);
}

std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::nullopt;
  if (fd < 0) throw Error(fmt::format("cannot open '{}': {}", path, errno_text()));
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(saved)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace mtastream
