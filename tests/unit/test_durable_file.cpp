#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/durable_file.h"
#include "base/error.h"

namespace mtastream {
namespace {

namespace fs = std::filesystem;

// PID 2^22 + 1 is above Linux's pid_max limit: never a running process.
constexpr const char* dead_pid = "4194305";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The Error's message, "" when `f` throws none.
template <typename F>
std::string error_of(F f) {
  try { f(); } catch (const Error& e) { return e.what(); }
  return "";
}

TEST(DurableFile, WriteAllWritesEverythingThroughShortWrites) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // 4 MB through a pipe (64 KB buffer): write(2) returns short counts while the reader drains it.
  std::string bytes(4 << 20, 'x');
  for (size_t i = 0; i < bytes.size(); i += 4099) bytes[i] = static_cast<char>('a' + i % 26);
  std::string received;
  std::thread reader([&] {
    char buffer[1 << 16];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) received.append(buffer, static_cast<size_t>(n));
  });
  write_all(fds[1], bytes, "'the pipe'");
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(received, bytes);
}

TEST(DurableFile, ErrorsNameThePath) {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(error_of([&] { write_all(fd, "x", "'/dev/null'"); }), "cannot write '/dev/null': Bad file descriptor");
  ::close(fd);
  const fs::path dir = fresh_dir("durable-errors");
  EXPECT_EQ(error_of([&] { fsync_directory((dir / "missing").string()); }),
            "cannot open directory '" + (dir / "missing").string() + "': No such file or directory");
  EXPECT_EQ(error_of([&] { fsync_directory(dir.string()); }), "");
  EXPECT_NE(error_of([&] { ReplacingFile((dir / "missing" / "x").string()); }).find((dir / "missing").string()),
            std::string::npos);
  std::ofstream(dir / "file") << "a file";
  EXPECT_EQ(error_of([&] { create_directories((dir / "file").string()); }),
            "'" + (dir / "file").string() + "' is not a directory");
  fs::remove_all(dir);
}

TEST(DurableFile, TemporaryNameRule) {
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(temp_path_for("x.csv.gz"), ".x.csv.gz.tmp." + pid);
  EXPECT_EQ(temp_path_for("date=1/x.csv.gz"), "date=1/.x.csv.gz.tmp." + pid);
  EXPECT_EQ(temp_path_for("/a/b/x.csv.gz", TempKind::once), "/a/b/.x.csv.gz.once.tmp." + pid);
  const std::string copy = temp_path_for("/a/x.csv.gz", TempKind::copy);
  EXPECT_EQ(copy.rfind("/a/.x.csv.gz.tmp-" + pid + "-", 0), 0u) << copy;
  EXPECT_NE(copy, temp_path_for("/a/x.csv.gz", TempKind::copy));  // each copy has its own name
  // Every name the writers make is recognised, with its writer.
  for (TempKind kind : {TempKind::replace, TempKind::once, TempKind::copy})
    EXPECT_EQ(temp_name_writer(fs::path(temp_path_for("/a/x.csv.gz", kind)).filename().string()), ::getpid());
  EXPECT_EQ(temp_name_writer(".x.tmp-12-0"), 12);
  for (const char* other : {"x.csv.gz", ".x.csv.gz", "x.tmp.12", ".x.tmp.", ".x.tmp.12a", ".x.tmp-12", ".x.tmp--0",
                            ".x.tmp-12-", ".x.tmp-1234567890-0", ".x.tmp.1234567890", "."})
    EXPECT_EQ(temp_name_writer(other), 0) << other;
}

TEST(DurableFile, ReplacingFileIsAllOrNothing) {
  const fs::path dir = fresh_dir("durable-replace");
  const std::string path = (dir / "out.csv").string();
  std::ofstream(path) << "old";
  ::chmod(path.c_str(), 0600);
  {
    ReplacingFile file(path);
    file.write("half");
    EXPECT_TRUE(fs::exists(file.temp_path()));
    EXPECT_EQ(read_file(path), "old");
  }  // abandoned: the temporary file is gone, the old file stays
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  ReplacingFile file(path);
  file.keep_mode_of_target();
  file.write("new ");
  file.write("content");
  file.commit();
  EXPECT_EQ(read_file(path), "new content");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(file.temp_path()));
  EXPECT_EQ(file.directory(), dir.string());
  fs::remove_all(dir);
}

TEST(DurableFile, WriteFilesDurablyCreatesFoldersAndLeavesNothingOnFailure) {
  const fs::path dir = fresh_dir("durable-batch");
  write_files_durably((dir / "lake").string(), {{"date=1/a.csv.gz", "a"}, {"b.csv.gz", "b"}});
  EXPECT_EQ(read_file(dir / "lake" / "date=1" / "a.csv.gz"), "a");
  EXPECT_EQ(read_file(dir / "lake" / "b.csv.gz"), "b");
  write_file_durably((dir / "lake").string(), "b.csv.gz", "b2");
  EXPECT_EQ(read_file(dir / "lake" / "b.csv.gz"), "b2");
  // A directory in the way of the second name: the rename fails, no temporary file stays.
  fs::create_directories(dir / "lake" / "d.csv.gz" / "inside");
  EXPECT_THROW(write_files_durably((dir / "lake").string(), {{"c.csv.gz", "c"}, {"d.csv.gz", "d"}}), Error);
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  fs::remove_all(dir);
}

TEST(DurableFile, StaleTemporaryFilesOfEveryKindAreRemoved) {
  const fs::path dir = fresh_dir("durable-stale");
  const std::string ours = std::to_string(::getpid());
  fs::create_directories(dir / "date=1");
  for (std::string name : {".a.tmp.", ".b.once.tmp.", "date=1/.c.tmp."}) std::ofstream(dir / (name + dead_pid)) << "x";
  std::ofstream(dir / (std::string(".d.tmp-") + dead_pid + "-3")) << "x";
  std::ofstream(dir / (".e.tmp." + ours)) << "ours";
  std::ofstream(dir / "f.csv.gz") << "kept";
  EXPECT_EQ(remove_stale_temp_files(dir.string()), 3u);
  EXPECT_EQ(remove_stale_temp_files(dir.string(), true), 1u);  // the partition folder's
  std::vector<std::string> left;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) left.push_back(entry.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{".e.tmp." + ours, "f.csv.gz"}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mtastream
