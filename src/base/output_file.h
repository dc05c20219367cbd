// Output paths a user names (-o FILE, file:// targets): a regular file, or a symlink to one, is replaced
// atomically (temporary file in the target's directory, fsync, rename); a device, FIFO, /dev/stdout or
// /proc/self/fd/N is written through, never renamed over -- it is not ours to replace.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/durable_file.h"

namespace mtastream {

struct OutputTarget {
  enum class Kind {
    replace,  // a regular file or a missing one: `path` is the file to replace (symlinks resolved)
    direct,   // anything else that exists (device, FIFO, socket, terminal, /dev/fd/N): open `path` and write
  };
  Kind kind = Kind::replace;
  std::string path;
};

// Follows the symlink chain of `path`. Throws Error for a directory or a symlink loop.
OutputTarget resolve_output_target(const std::string& path);

// One output file, written as resolve_output_target() says. commit() makes it final (replace: fsync, rename,
// fsync of the directory; direct: close); destroying it uncommitted removes the temporary file.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);  // throws Error when it cannot be opened
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::string_view bytes);
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_;  // as the user named it, for messages
  OutputTarget target_;
  std::optional<ReplacingFile> replacing_;  // Kind::replace, until committed
  int fd_ = -1;                             // Kind::direct, until committed
};

}  // namespace mtastream
