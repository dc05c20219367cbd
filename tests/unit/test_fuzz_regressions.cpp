// Replays every input the fuzzers ever found (tests/fuzz/regressions/<target>/*) and every seed
// (tests/fuzz/corpus/<target>/*) through the same target code as libFuzzer, in the normal test suite:
// a fixed bug stays fixed.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace mtastream::fuzz {
int message_parser(const uint8_t* data, size_t size);
int mta_batch(const uint8_t* data, size_t size);
int config(const uint8_t* data, size_t size);
int duration(const uint8_t* data, size_t size);
int upload_url(const uint8_t* data, size_t size);
int line_reader(const uint8_t* data, size_t size);
}  // namespace mtastream::fuzz

namespace {

using Target = int (*)(const uint8_t*, size_t);
const std::map<std::string, Target> targets = {
    {"message_parser", mtastream::fuzz::message_parser}, {"mta_batch", mtastream::fuzz::mta_batch},
    {"config", mtastream::fuzz::config},                 {"duration", mtastream::fuzz::duration},
    {"upload_url", mtastream::fuzz::upload_url},         {"line_reader", mtastream::fuzz::line_reader},
};

size_t replay(const std::filesystem::path& dir, Target target) {
  size_t count = 0;
  if (!std::filesystem::is_directory(dir)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename().string().starts_with(".")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ++count;
  }
  return count;
}

}  // namespace

TEST(FuzzRegressions, EveryRegressionInputStillPasses) {
  std::filesystem::path root = std::filesystem::path(MTASTREAM_SOURCE_DIR) / "tests/fuzz/regressions";
  size_t total = 0;
  for (const auto& [name, target] : targets) total += replay(root / name, target);
  // A moved or emptied regressions folder must turn this red, not pass having replayed nothing.
  EXPECT_GT(total, 0u) << "no regression inputs under " << root;
  // Regression directories without a known target would be silently skipped: refuse them.
  if (std::filesystem::is_directory(root))
    for (const auto& entry : std::filesystem::directory_iterator(root))
      if (entry.is_directory()) EXPECT_TRUE(targets.count(entry.path().filename().string())) << entry.path();
  RecordProperty("inputs", static_cast<int>(total));
}

TEST(FuzzRegressions, EverySeedPasses) {
  std::filesystem::path root = std::filesystem::path(MTASTREAM_SOURCE_DIR) / "tests/fuzz/corpus";
  for (const auto& [name, target] : targets) EXPECT_GT(replay(root / name, target), 0u) << name;
}
