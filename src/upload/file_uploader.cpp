// file://DIR: copy under a temporary name in the target folder, fsync, verify, rename, fsync the folder.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/durable_file.h"
#include "base/error.h"
#include "base/output_file.h"
#include "upload/checksum.h"
#include "upload/store_uploaders.h"

namespace mtastream::upload {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw Error(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

class FileUploader : public Uploader {
 public:
  FileUploader(UploadDestination destination, const UploadOptions&) : Uploader(std::move(destination)) {}

  // Temporary copies (durable_file.h's names) whose writer no longer runs, also in the Hive partition
  // folders ("key=value", from consume --partition-by) below the target.
  size_t remove_stale_temporaries() override {
    return remove_stale_temp_files((fs::path(destination_.directory) / destination_.key_for("x")).parent_path(), true);
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

    ReplacingFile copy(target.string(), 0644, TempKind::copy);
    copy.write_file(local_path);
    copy.sync();
    // Read back what landed on disk: the copy is only accepted when its checksum is the source's.
    if (digest_file(copy.temp_path()).md5 != local.md5)
      throw Error(fmt::format("{}: copy differs from {} after writing (checksum mismatch)", copy.temp_path(), local_path));
    copy.rename();
    fsync_directory(directory.string());
    result.outcome = UploadOutcome::uploaded;
    return result;
  }

  void put_object(const std::string& object_name, const std::string& bytes) override {
    fs::path path = object_path(object_name);
    write_file_durably(path.parent_path().string(), path.filename().string(), bytes);
  }

  std::optional<std::string> get_object(const std::string& object_name) override {
    fs::path path = object_path(object_name);
    return read_file(path.string());
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
    fsync_directory(path.parent_path().string());
  }

 private:
  fs::path object_path(const std::string& object_name) const {
    return fs::path(destination_.directory) / destination_.key_for(object_name);
  }
};

}  // namespace

std::unique_ptr<Uploader> make_file_uploader(UploadDestination destination, const UploadOptions& options) {
  return std::make_unique<FileUploader>(std::move(destination), options);
}

}  // namespace mtastream::upload
