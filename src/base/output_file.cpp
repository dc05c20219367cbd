#include "base/output_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/error.h"
#include "base/text.h"

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
  replacing_.emplace(target_.path);
  replacing_->keep_mode_of_target();
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OutputFile::write(std::string_view bytes) {
  write_all(replacing_ ? replacing_->fd() : fd_, bytes, fmt::format("'{}'", path_));
}

void OutputFile::commit() {
  if (replacing_) {
    try {
      replacing_->commit();
    } catch (...) {
      replacing_.reset();  // removes the temporary file
      throw;
    }
    replacing_.reset();
    return;
  }
  if (fd_ < 0) return;
  if (::close(std::exchange(fd_, -1)) != 0) throw Error(fmt::format("cannot close '{}': {}", path_, errno_text()));
}

}  // namespace mtastream
