// The offline aggregation (aggregate_job.h) over temporary input files: counts, rejected messages,
// the lake files read back with zlib, the same bytes with any number of threads, and its errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aggregate/aggregate_job.h"
#include "test_support.h"

using namespace mtastream;
using namespace mtastream::aggregate;
using namespace mtastream::lake;

namespace {

using test::event_line;

// Two windows of 5 minutes (16:50 and 16:55), a duplicate, a malformed line and a late event.
std::string sample_input() {
  return event_line("A001", "id-1", "16:54:00", 1, 9) + "\n" +  //
         event_line("A001", "id-2", "16:54:30", 2, 9) + "\n" +  // same window and key: summed
         event_line("A002", "id-3", "16:56:00", 4, 5) + "\n" +  // next window
         event_line("A001", "id-1", "16:54:00", 1, 9) + "\n" +  // the same ID again
         "garbage line\n" +                                       //
         event_line("A003", "id-4", "16:40:00", 8, 8) + "\n";   // behind the watermark (16:51)
}

std::vector<std::string> names(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) out.push_back(std::filesystem::path(p).filename().string());
  return out;
}

// A job over sample_input(), written to DIR/events.csv.
AggregateOptions sample_job(const std::string& dir) {
  test::write_text(dir + "/events.csv", sample_input());
  AggregateOptions options;
  options.inputs = {dir + "/events.csv"};
  return options;
}

}  // namespace

TEST(AggregateJob, CountsEveryMessageAndWritesOneLakeFilePerWindow) {
  const std::string dir = test::scratch_dir("aggregate_counts");
  AggregateOptions options = sample_job(dir);
  options.lake_dir = dir + "/lake";
  options.dead_letter = dir + "/dead.ndjson";
  AggregateSummary s = run_aggregate(options);

  EXPECT_EQ(s.read, 6u);
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.bad, 1u);
  EXPECT_EQ(s.late, 1u);
  EXPECT_EQ(s.overflow, 0u);
  EXPECT_EQ(s.rejected(), 2u);  // what makes `aggregate` exit 3
  EXPECT_EQ(s.windows, 2u);
  EXPECT_EQ(s.rows, 2u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_FALSE(s.interrupted);

  std::vector<std::string> files = test::lake_files(options.lake_dir);
  EXPECT_EQ(names(files), (std::vector<std::string>{"turnstile_events_20230923T165000_20230923T165500.csv.gz",
                                                    "turnstile_events_20230923T165500_20230923T170000.csv.gz"}));
  ASSERT_EQ(files.size(), 2u);
  uint64_t bytes = 0;
  for (const std::string& f : files) bytes += std::filesystem::file_size(f);
  EXPECT_EQ(s.bytes, bytes);
  const std::string first = test::gunzip_file(files[0]), second = test::gunzip_file(files[1]);
  EXPECT_EQ(first.find(",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"), 0u) << first;
  EXPECT_NE(first.find("\n0,A001,R001,02-00-00,Test-Station1,456NQR,BMT,"), std::string::npos) << first;
  EXPECT_NE(first.find(",REGULAR,3,18\n"), std::string::npos) << "id-1 once plus id-2: " << first;
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 2) << first;
  EXPECT_NE(second.find("\n0,A002,R001,"), std::string::npos) << second;
  EXPECT_NE(second.find(",REGULAR,4,5\n"), std::string::npos) << second;

  // The rejected ones, with the line they came from; the duplicate is only counted.
  const std::string dead = test::read_text(options.dead_letter);
  EXPECT_NE(dead.find("events.csv:5"), std::string::npos) << dead;
  EXPECT_NE(dead.find("events.csv:6"), std::string::npos) << dead;
  EXPECT_EQ(std::count(dead.begin(), dead.end(), '\n'), 2) << dead;
  EXPECT_NE(aggregate_summary_json(s).find("\"rejected\":2"), std::string::npos) << aggregate_summary_json(s);
}

TEST(AggregateJob, ThreadsWriteTheSameBytesAsOneThread) {
  const std::string dir = test::scratch_dir("aggregate_threads");
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    int minute = 10 + i / 100, second = (i * 7) % 60;
    std::string time = "16:" + std::to_string(minute) + ":" + (second < 10 ? "0" : "") + std::to_string(second);
    input += event_line("A" + std::to_string(100 + i % 37), "id-" + std::to_string(i), time, i % 11, i % 5) + "\n";
  }
  test::write_text(dir + "/many.csv", input);
  std::vector<std::vector<std::string>> contents;
  for (unsigned threads : {1u, 3u}) {
    AggregateOptions options;
    options.inputs = {dir + "/many.csv"};
    options.lake_dir = dir + "/lake" + std::to_string(threads);
    options.threads = threads;
    AggregateSummary s = run_aggregate(options);
    EXPECT_EQ(s.accepted, 3000u) << threads;
    std::vector<std::string> files = test::lake_files(options.lake_dir);
    std::vector<std::string> one;
    for (const std::string& f : files) one.push_back(std::filesystem::path(f).filename().string() + "\n" + test::gunzip_file(f));
    contents.push_back(one);
  }
  EXPECT_GT(contents[0].size(), 1u);
  EXPECT_EQ(contents[0], contents[1]);
}

TEST(AggregateJob, OneGzipCsvStream) {
  AggregateOptions options = sample_job(test::scratch_dir("aggregate_stream"));
  options.output = options.inputs[0] + ".gz";
  options.layout = LakeLayout::clean;
  AggregateSummary s = run_aggregate(options);
  EXPECT_EQ(s.rows, 2u);
  const std::string text = test::gunzip_file(options.output);
  EXPECT_EQ(text.find("CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS\n"), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << "one header, two rows: " << text;
  EXPECT_EQ(s.bytes, std::filesystem::file_size(options.output));
}

TEST(AggregateJob, UnreadableInputOrUnwritableLakeIsAnError) {
  const std::string dir = test::scratch_dir("aggregate_errors");
  AggregateOptions missing;
  missing.inputs = {dir + "/absent.csv"};
  missing.lake_dir = dir + "/lake";
  EXPECT_THROW(run_aggregate(missing), Error);

  test::write_text(dir + "/a-file", "");
  AggregateOptions blocked = sample_job(dir);
  blocked.lake_dir = dir + "/a-file/lake";  // below a regular file: cannot be created
  EXPECT_THROW(run_aggregate(blocked), Error);
}

TEST(AggregateJob, StreamNames) {
  EXPECT_EQ(aggregate_stream_name({}), "stdin");
  EXPECT_EQ(aggregate_stream_name({"-"}), "stdin");
  EXPECT_EQ(aggregate_stream_name({"/data/turnstile_2023.csv.gz"}), "turnstile_2023");
  EXPECT_EQ(aggregate_stream_name({"a/b.ndjson", "c.csv", "d.csv"}), "b-and-2-more");
}
