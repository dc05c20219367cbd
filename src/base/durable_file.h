// Durable file writing, in one place: whole writes (EINTR and short writes retried), directory fsyncs that
// report errors, and files replaced atomically (a temporary file beside the target, fsync, rename, fsync of
// the directory), with the temporary-name rule that start-up clean-up recognises. Errors name the path.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mtastream {

// write(2) until all of `bytes` is written (EINTR and short writes retried); Error "cannot write WHAT: reason".
void write_all(int fd, std::string_view bytes, std::string_view what);
// fsync of a directory ("" = the current one), so renames in it are durable; a file system that cannot
// sync directories (EINVAL) is accepted. Throws Error naming the directory.
void fsync_directory(const std::string& dir);
// mkdir -p (Error when it fails or `dir` is not a directory).
void create_directories(const std::string& dir);

// The temporary names of this process's writers, hidden beside the file they become (readers, uploads and
// listings skip names starting with '.'):
enum class TempKind {
  replace,  // ".NAME.tmp.PID": a file replaced by rename
  once,     // ".NAME.once.tmp.PID": a lake file staged to be linked to its name (never replaced)
  copy,     // ".NAME.tmp-PID-N": a file:// upload (several threads may copy to one name)
};
// `path` ("DIR/NAME" or "NAME") -> the temporary path beside it.
std::string temp_path_for(std::string_view path, TempKind kind = TempKind::replace);
// The writer's PID when `name` (a file name, no folder) is a temporary name of the rule above, else 0.
pid_t temp_name_writer(std::string_view name);
// Removes temporary files a killed writer left in `dir` (its PID no longer runs); with `partition_folders`,
// also in the Hive folders ("key=value", symlinks not followed) below it. Returns how many.
size_t remove_stale_temp_files(const std::string& dir, bool partition_folders = false);

// A file written under a temporary name (temp_path_for) and renamed over `path`, so a reader sees the old
// file or the whole new one. Destroying it before rename() removes the temporary file.
class ReplacingFile {
 public:
  // Creates the temporary file (Error "cannot create 'TEMP': reason"); `mode` is masked by the umask.
  explicit ReplacingFile(std::string path, mode_t mode = 0666, TempKind kind = TempKind::replace);
  ~ReplacingFile();
  ReplacingFile(const ReplacingFile&) = delete;
  ReplacingFile& operator=(const ReplacingFile&) = delete;
  ReplacingFile(ReplacingFile&& other) noexcept;

  // Gives the temporary file the permissions of the file it replaces (a private 0600 file stays private).
  void keep_mode_of_target();
  void write(std::string_view bytes) { write_all(fd_, bytes, "'" + temp_path_ + "'"); }
  void write_file(const std::string& from);  // the bytes of the file `from` (Error naming it)
  void sync();    // fsync and close the temporary file
  void rename();  // renames it over the path (after sync; the directory is not fsynced)
  void commit() {  // sync, rename, fsync of the directory
    sync();
    rename();
    fsync_directory(directory());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  std::string directory() const;  // of path ("" = the current one)

 private:
  std::string path_, temp_path_;
  int fd_ = -1;
  bool renamed_ = false;
};

// Writes `bytes` to dir/name (no folder in `name`) atomically and durably: a ReplacingFile committed.
// Creates `dir` (and parents) if missing. Throws Error.
void write_file_durably(const std::string& dir, const std::string& name, std::string_view bytes);

// The same for several files at once, cheaper than one by one: every temporary file is written, then
// each is fsynced (one journal commit covers most of them), renamed, and each directory fsynced once.
// Names may hold partition folders ("date=.../name.csv.gz"): they are created under `dir` and fsynced with
// the files. All files are durable when it returns; on failure the temporary files are removed.
void write_files_durably(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files);

// The whole content of a file; nullopt when it does not exist. Throws Error naming the path.
std::optional<std::string> read_file(const std::string& path);

// "DIR/NAME" (NAME alone when `dir` is empty).
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace mtastream
