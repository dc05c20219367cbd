#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "lake/lake_segments.h"
#include "test_support.h"
#include "upload/uploader.h"

namespace mtastream {
using namespace mtastream::engine;
using namespace mtastream::event;
using namespace mtastream::lake;
using namespace mtastream::upload;
namespace {

WindowRow row(const char* ca, int64_t entries, int64_t exits) {
  WindowRow r;
  r.ca = ca, r.unit = "R001", r.scp = "00-00-00", r.station = "59 ST", r.linename = "NQR456W", r.division = "BMT",
  r.desc = "REGULAR";
  r.entries = entries, r.exits = exits;
  return r;
}

using test::gunzip_file;  // zlib, not our own reader; a file that is not gzip fails

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("mtastream-segments-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() { std::filesystem::remove_all(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(LakeSegments, MergeSumsKeysOverPartitionsInEngineOrder) {
  ClosedWindow p0{0, 300, {row("A001", 1, 2), row("A003", 5, 5)}};
  ClosedWindow p1{0, 300, {row("A001", 10, 20), row("A002", 7, 7)}};
  uint64_t overflowed = 0;
  ClosedWindow merged = merge_window_rows(0, 300, {p0, p1}, overflowed);
  ASSERT_EQ(merged.rows.size(), 3u);
  EXPECT_EQ(merged.rows[0].ca, "A001");
  EXPECT_EQ(merged.rows[0].entries, 11);
  EXPECT_EQ(merged.rows[0].exits, 22);
  EXPECT_EQ(merged.rows[1].ca, "A002");
  EXPECT_EQ(merged.rows[2].ca, "A003");
  EXPECT_EQ(overflowed, 0u);
}

TEST(LakeSegments, FieldOrderNotJoinedTextOrder) {
  // "A B" < "A," in joined text, but the field tuple ("A", ...) sorts before ("A B", ...), as the engine sorts.
  ClosedWindow p0{0, 300, {row("A B", 1, 1)}};
  ClosedWindow p1{0, 300, {row("A", 1, 1)}};
  uint64_t overflowed = 0;
  ClosedWindow merged = merge_window_rows(0, 300, {p0, p1}, overflowed);
  ASSERT_EQ(merged.rows.size(), 2u);
  EXPECT_EQ(merged.rows[0].ca, "A");
}

TEST(LakeSegments, OverflowingTotalLeavesTheLaterContributionOut) {
  ClosedWindow p0{0, 300, {row("A001", INT64_MAX - 1, 0)}};
  ClosedWindow p1{0, 300, {row("A001", 5, 0)}};
  uint64_t overflowed = 0;
  ClosedWindow merged = merge_window_rows(0, 300, {p0, p1}, overflowed);
  EXPECT_EQ(merged.rows[0].entries, INT64_MAX - 1);
  EXPECT_EQ(overflowed, 1u);
}

TEST(LakeSegments, CopiesOfAnIdInLaterPartitionsAreDropped) {
  ClosedWindow p0{0, 300, {row("A001", 3, 3)}};
  p0.events = {{42, 0, 3, 3}};
  ClosedWindow p1{0, 300, {row("A001", 10, 1), row("A002", 3, 3)}};
  p1.events = {{7, 0, 10, 1}, {42, 1, 3, 3}};  // ID 42 again, under another key: its row goes
  std::vector<ClosedWindow> parts{p0, p1};
  EXPECT_EQ(drop_cross_partition_copies(parts), 1u);
  ASSERT_EQ(parts[1].rows.size(), 1u);
  EXPECT_EQ(parts[1].rows[0].ca, "A001");
  uint64_t overflowed = 0;
  ClosedWindow merged = merge_window_rows(0, 300, parts, overflowed);
  ASSERT_EQ(merged.rows.size(), 1u);
  EXPECT_EQ(merged.rows[0].entries, 13);
}

TEST(LakeSegments, EngineKeepsEventSharesWithSortedRowIndexes) {
  WindowEngine engine(WindowConfig{300, 300, 0});
  engine.keep_event_ids(true);
  TurnstileEvent e;
  e.unit = "R001", e.scp = "00-00-00", e.station = "S", e.linename = "1", e.division = "IRT", e.desc = "REGULAR";
  e.ca = "B", e.id = "id-1", e.timestamp = 10, e.entries = 4, e.exits = 1;
  engine.add(e, 0);
  e.ca = "A", e.id = "id-2", e.timestamp = 20, e.entries = 6, e.exits = 2;
  engine.add(e, 1);
  engine.close_all();
  std::vector<ClosedWindow> closed = engine.take_closed();
  ASSERT_EQ(closed.size(), 1u);
  ASSERT_EQ(closed[0].events.size(), 2u);
  EXPECT_EQ(closed[0].events[0].id_hash, WindowEngine::id_hash("id-1"));
  EXPECT_EQ(closed[0].rows[closed[0].events[0].row].ca, "B");  // row index after sorting
  EXPECT_EQ(closed[0].rows[closed[0].events[1].row].ca, "A");
}

// The same rules whether the staging is the lake folder's or a store every member shares.
void merge_once_and_never_replace(const std::filesystem::path& lake, Uploader* shared) {
  LakeSegments segments(lake.string(), "turnstile", "mta", LakeLayout::clean, all_group_columns, {}, shared);
  const std::filesystem::path& dir_path = lake;
  ClosedWindow w0{0, 300, {row("A001", 1, 2)}};
  w0.events = {{1, 0, 1, 2}};
  ClosedWindow w1{0, 300, {row("A001", 10, 20)}};
  w1.events = {{2, 0, 10, 20}};
  ClosedWindow later{300, 600, {row("A001", 5, 5)}};
  segments.write({{0, &w0}, {1, &w1}, {0, &later}});
  EXPECT_EQ(segments.staged_windows(), 2u);
  uint64_t overflowed = 0, duplicates = 0;
  std::vector<std::string> published;
  auto publish = [&](const std::string&, const std::string& name) { published.push_back(name); };
  auto merged = segments.merge_through(300, publish, overflowed, duplicates);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_TRUE(merged[0].created);
  EXPECT_EQ(merged[0].name, "turnstile_mta_19700101T000000_19700101T000500.csv.gz");
  EXPECT_EQ(published, std::vector<std::string>{merged[0].name});
  const auto file = dir_path / merged[0].name;
  EXPECT_EQ(gunzip_file(file),
            "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"
            "A001,R001,00-00-00,59 ST,NQR456W,BMT,01/01/1970,00:05:00,REGULAR,11,22\n");
  EXPECT_EQ(segments.staged_windows(), 1u);  // the later window waits

  // A segment of the merged window staged again (a replay after a crash) is dropped, not merged again,
  // even when the lake file was moved away meanwhile (upload --move-to).
  std::filesystem::remove(file);
  segments.write({{1, &w1}});
  EXPECT_TRUE(segments.merge_through(300, publish, overflowed, duplicates).empty());
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_EQ(segments.staged_windows(), 1u);

  // A lake file already there (another member merged first) is kept as it is.
  const auto other = dir_path / "turnstile_mta_19700101T000500_19700101T001000.csv.gz";
  std::ofstream(other) << "theirs";
  merged = segments.merge_through(600, publish, overflowed, duplicates);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_FALSE(merged[0].created);
  std::ifstream in(other);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "theirs");
}

TEST(LakeSegments, StagedWindowsMergeOnceAndTheLakeFileIsNeverReplaced) {
  TempDir dir;
  merge_once_and_never_replace(dir.path, nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.path / ".mtastream/turnstile_mta/merged/0_300"));
}

TEST(LakeSegments, SharedStagingInAStoreFollowsTheSameRules) {
  TempDir dir;
  auto store = Uploader::create("file://" + (dir.path / "store").string());
  merge_once_and_never_replace(dir.path / "lake", store.get());
  EXPECT_FALSE(std::filesystem::exists(dir.path / "lake/.mtastream"));  // nothing staged on this machine
  EXPECT_TRUE(std::filesystem::exists(dir.path / "store/turnstile_mta/merged/0_300"));
  auto merged = store->list_objects("turnstile_mta/merged");
  std::sort(merged.begin(), merged.end());
  EXPECT_EQ(merged, (std::vector<std::string>{"0_300", "300_600"}));
  EXPECT_TRUE(store->list_objects("turnstile_mta/segments").empty());  // dropped once merged
  EXPECT_EQ(store->get_object("turnstile_mta/nothing"), std::nullopt);
}

void progress_round_trip(const std::filesystem::path& lake, Uploader* shared) {
  LakeSegments segments(lake.string(), "turnstile", "mta", LakeLayout::original, all_group_columns, {}, shared);
  segments.write_progress({{0, "v1;ct=5"}, {3, "v1;ct=7"}});
  segments.write_progress({{0, "v1;ct=9"}});
  auto markers = segments.read_progress();
  ASSERT_EQ(markers.size(), 2u);
  EXPECT_EQ(markers[0], "v1;ct=9");
  EXPECT_EQ(markers[3], "v1;ct=7");
}

TEST(LakeSegments, ProgressMarkersRoundTrip) {
  TempDir dir;
  progress_round_trip(dir.path, nullptr);
  auto store = Uploader::create("file://" + (dir.path / "store").string());
  progress_round_trip(dir.path / "shared", store.get());
}

}  // namespace
}  // namespace mtastream
