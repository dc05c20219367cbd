#include "output_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "text.h"

namespace mtastream {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// /dev/stdout, /dev/fd/1, /proc/self/fd/1 are magic links to an open file: even when that is a regular
// file (`-o /dev/stdout > out.csv`), renaming over it would cut the shell's redirection off.
bool is_kernel_path(const std::string& path) {
  return starts_with(path, "/dev/") || starts_with(path, "/proc/");
}

}  // namespace

void write_fully(int fd, std::string_view bytes, const std::string& what) {
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
  if (rc != 0 && saved != EINVAL) {
    errno = saved;
    throw Error(fmt::format("cannot fsync directory '{}': {}", dir, errno_text()));
  }
}

OutputTarget resolve_output_target(const std::string& path) {
  std::string current = path;
  for (int hops = 0; hops < 40; ++hops) {
    if (is_kernel_path(current)) return {OutputTarget::Kind::direct, current};
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0) {
      if (errno == ENOENT) return {OutputTarget::Kind::replace, current};  // a new file (or a dangling link's target)
      throw Error(fmt::format("cannot use '{}': {}", path, errno_text()));
    }
    if (S_ISREG(st.st_mode)) return {OutputTarget::Kind::replace, current};
    if (S_ISDIR(st.st_mode)) throw UsageError(fmt::format("'{}' is a directory, not a file", path));
    if (!S_ISLNK(st.st_mode)) return {OutputTarget::Kind::direct, current};
    char buffer[4096];
    ssize_t n = ::readlink(current.c_str(), buffer, sizeof buffer - 1);
    if (n < 0) throw Error(fmt::format("cannot read symlink '{}': {}", current, errno_text()));
    std::string link(buffer, static_cast<size_t>(n));
    current = link.front() == '/' ? link : dir_of(current) + "/" + link;
  }
  throw Error(fmt::format("cannot use '{}': too many levels of symbolic links", path));
}

OutputFile::OutputFile(const std::string& path) : path_(path), target_(resolve_output_target(path)) {
  if (target_.kind == OutputTarget::Kind::direct) {
    fd_ = ::open(target_.path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);  // O_TRUNC: ignored by devices and FIFOs
    if (fd_ < 0) throw Error(fmt::format("cannot open '{}': {}", path_, errno_text()));
    return;
  }
  std::string dir = dir_of(target_.path);
  std::string name = target_.path.substr(target_.path.rfind('/') == std::string::npos ? 0 : target_.path.rfind('/') + 1);
  temp_path_ = fmt::format("{}/.{}.tmp.{}", dir, name, ::getpid());
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) throw Error(fmt::format("cannot create '{}': {}", temp_path_, errno_text()));
  // Replacing a file keeps its permissions (a private 0600 file stays private).
  struct stat st {};
  if (::stat(target_.path.c_str(), &st) == 0) ::fchmod(fd_, st.st_mode & 07777);
}

OutputFile::~OutputFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void OutputFile::write(std::string_view bytes) { write_fully(fd_, bytes, fmt::format("'{}'", path_)); }

void OutputFile::commit() {
  if (fd_ < 0) return;
  bool replace = target_.kind == OutputTarget::Kind::replace;
  if (replace && ::fsync(fd_) != 0) throw Error(fmt::format("cannot fsync '{}': {}", temp_path_, errno_text()));
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    if (replace) ::unlink(temp_path_.c_str());
    throw Error(fmt::format("cannot close '{}': {}", replace ? temp_path_ : path_, errno_text()));
  }
  if (!replace) return;
  if (::rename(temp_path_.c_str(), target_.path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp_path_.c_str());
    errno = saved;
    throw Error(fmt::format("cannot rename '{}' to '{}': {}", temp_path_, target_.path, errno_text()));
  }
  fsync_directory(dir_of(target_.path));
}

}  // namespace mtastream
