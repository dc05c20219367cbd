// file://DIR: copy under a temporary name in the target folder, fsync, verify, rename, fsync the folder.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "error.h"
#include "lake_writer.h"
#include "output_file.h"
#include "upload/checksum.h"
#include "upload/store_uploaders.h"

namespace mtastream {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw Error(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", path);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void fsync_directory(const fs::path& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory", directory.string());
  if (::fsync(fd) != 0 && errno != EINVAL) {
    ::close(fd);
    fail("fsync of directory failed", directory.string());
  }
  ::close(fd);
}

class FileUploader : public Uploader {
 public:
  FileUploader(UploadDestination destination, const UploadOptions&) : Uploader(std::move(destination)) {}

  // Temporary copies are ".NAME.tmp-PID-N" beside the target; one whose PID no longer runs is stale.
  // Hive partition folders ("key=value", from consume --partition-by) below the target are searched too.
  size_t remove_stale_temporaries() override {
    return remove_stale_in((fs::path(destination_.directory) / destination_.key_for("x")).parent_path(), 0);
  }

  size_t remove_stale_in(const fs::path& directory, int depth) {
    std::error_code error;
    size_t removed = 0;
    for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
      std::string name = it->path().filename().string();
      std::error_code ignored;
      if (depth < 16 && name[0] != '.' && name.find('=') != std::string::npos && it->is_directory(ignored) &&
          !it->is_symlink(ignored)) {
        removed += remove_stale_in(it->path(), depth + 1);
        continue;
      }
      size_t tmp = name.rfind(".tmp-");
      if (name.size() < 2 || name[0] != '.' || tmp == std::string::npos) continue;
      std::string_view rest = std::string_view(name).substr(tmp + 5);
      size_t dash = rest.find('-');
      if (dash == 0 || dash == std::string_view::npos ||
          rest.substr(0, dash).find_first_not_of("0123456789") != std::string_view::npos ||
          rest.substr(dash + 1).empty() ||
          rest.substr(dash + 1).find_first_not_of("0123456789") != std::string_view::npos || dash > 9)
        continue;
      pid_t pid = static_cast<pid_t>(std::stol(std::string(rest.substr(0, dash))));
      if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still run
      if (::unlink(it->path().c_str()) == 0) ++removed;
    }
    return removed;
  }

  UploadResult upload(const std::string& local_path, const std::string& object_name) override {
    FileDigest local = digest_file(local_path);
    fs::path named = fs::path(destination_.directory) / destination_.key_for(object_name);
    // An object is a regular file: a symlink to one is followed (the link stays), anything else is refused.
    OutputTarget resolved = resolve_output_target(named.string());
    if (resolved.kind != OutputTarget::Kind::replace)
      throw Error(fmt::format("{}: exists and is not a regular file; not replacing it", named.string()));
    fs::path target = resolved.path;
    UploadResult result;
    result.object_url = "file://" + fs::absolute(named).lexically_normal().string();
    result.bytes = local.size;
    result.md5_hex = local.md5_hex();
    result.attempts = 1;

    std::error_code ignored;
    if (fs::is_regular_file(target, ignored) && fs::file_size(target, ignored) == local.size &&
        digest_file(target.string()).md5 == local.md5) {
      result.outcome = UploadOutcome::skipped;
      return result;
    }
    fs::path directory = target.parent_path();
    std::error_code error;
    fs::create_directories(directory, error);
    if (error) throw Error(fmt::format("{}: cannot create directory: {}", directory.string(), error.message()));

    static std::atomic<unsigned> counter{0};
    fs::path temporary = directory / fmt::format(".{}.tmp-{}-{}", target.filename().string(), ::getpid(), counter++);
    try {
      copy_synced(local_path, temporary.string());
      // Read back what landed on disk: the copy is only accepted when its checksum is the source's.
      if (digest_file(temporary.string()).md5 != local.md5)
        throw Error(fmt::format("{}: copy differs from {} after writing (checksum mismatch)", temporary.string(),
                                local_path));
      if (::rename(temporary.c_str(), target.c_str()) != 0) fail("rename failed", target.string());
    } catch (...) {
      ::unlink(temporary.c_str());
      throw;
    }
    fsync_directory(directory);
    result.outcome = UploadOutcome::uploaded;
    return result;
  }

  void put_object(const std::string& object_name, const std::string& bytes) override {
    fs::path path = object_path(object_name);
    create_directories(path.parent_path().string());
    write_file_durably(path.parent_path().string(), path.filename().string(), bytes);
  }

  std::optional<std::string> get_object(const std::string& object_name) override {
    fs::path path = object_path(object_name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::nullopt;
    if (fd < 0) fail("cannot open", path.string());
    std::string bytes;
    char buffer[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        fail("read failed", path.string());
      }
      if (n == 0) break;
      bytes.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return bytes;
  }

  // Regular files only; names starting with '.' are temporary copies.
  std::vector<std::string> list_objects(const std::string& folder) override {
    std::vector<std::string> names;
    std::error_code error;
    for (fs::directory_iterator it(object_path(folder), error), end; !error && it != end; it.increment(error)) {
      std::string name = it->path().filename().string();
      if (!name.empty() && name[0] != '.' && it->is_regular_file(error)) names.push_back(std::move(name));
    }
    return names;
  }

  void delete_object(const std::string& object_name) override {
    fs::path path = object_path(object_name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove", path.string());
    fsync_directory(path.parent_path());
  }

 private:
  fs::path object_path(const std::string& object_name) const {
    return fs::path(destination_.directory) / destination_.key_for(object_name);
  }

  static void copy_synced(const std::string& from, const std::string& to) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) fail("cannot open", from);
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
      ::close(in);
      fail("cannot create", to);
    }
    std::vector<char> buffer(1 << 20);
    try {
      for (;;) {
        ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          fail("read failed", from);
        }
        if (n == 0) break;
        write_all(out, buffer.data(), static_cast<std::size_t>(n), to);
      }
      if (::fsync(out) != 0) fail("fsync failed", to);
    } catch (...) {
      ::close(in);
      ::close(out);
      throw;
    }
    ::close(in);
    if (::close(out) != 0) fail("close failed", to);
  }
};

}  // namespace

std::unique_ptr<Uploader> make_file_uploader(UploadDestination destination, const UploadOptions& options) {
  return std::make_unique<FileUploader>(std::move(destination), options);
}

}  // namespace mtastream
