// Small helpers shared by the unit tests that run a job over files: a fresh scratch folder, whole-file
// reads and writes, and gzip decoded by zlib itself (never by our own LineReader/gzip code).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mtastream::test {

// An empty folder under gtest's temporary directory, unique to this process and name.
inline std::string scratch_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// One CSV message of 2023-09-23 at `time` (HH:MM:SS, UTC).
inline std::string event_line(const std::string& ca, const std::string& id, const std::string& time, int entries,
                              int exits) {
  return ca + ",R001,02-00-00,Test-Station1,456NQR,BMT,09-23-23," + time + ",REGULAR," + std::to_string(entries) +
         "," + std::to_string(exits) + "," + id + ",2023-09-23 " + time;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A .gz file decoded by zlib's gzread (every member); a file that is not gzip fails the test.
inline std::string gunzip_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    ADD_FAILURE() << "zlib cannot open " << path;
    return {};
  }
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  EXPECT_FALSE(gzdirect(f)) << path << " is not gzip (zlib read it as plain bytes)";
  int error = Z_OK;
  gzerror(f, &error);
  EXPECT_TRUE(n == 0 && error == Z_OK) << path << ": " << gzerror(f, &error);
  gzclose(f);
  return out;
}

// The regular files below `dir` (recursively, hidden folders such as .mtastream left out), sorted by path.
inline std::vector<std::string> lake_files(const std::string& dir) {
  std::vector<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir); it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->path().filename().string().starts_with(".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace mtastream::test
