#include <gtest/gtest.h>

#include "consume/consume_checkpoint.h"
#include "base/error.h"
#include "consume/raw_consume.h"

#include <librdkafka/rdkafka.h>

namespace mtastream {
using namespace mtastream::consume;
using namespace mtastream::engine;
using namespace mtastream::lake;
namespace {

TEST(ConsumeCheckpoint, RoundTripsThroughMetadata) {
  ConsumeCheckpoint c;
  c.offset = 1234;
  c.replay_watermark = 1695487800;
  c.closed_through = 1695488100;
  c.read_through = 1300;
  c.window = {600, 300, 120};
  c.layout = LakeLayout::clean;
  c.topic_windows = true;
  c.prefix = "turn/stile";
  std::string metadata = format_checkpoint_metadata(c);
  EXPECT_EQ(metadata, "v1;rw=1695487800;ct=1695488100;rt=1300;w=600;s=300;d=120;l=clean;m=topic;p=turn_stile");
  std::string error;
  auto parsed = parse_checkpoint_metadata(metadata, 1234, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->offset, 1234);
  EXPECT_EQ(parsed->replay_watermark, c.replay_watermark);
  EXPECT_EQ(parsed->closed_through, c.closed_through);
  EXPECT_EQ(parsed->read_through, 1300);
  EXPECT_EQ(parsed->window.window_seconds, 600);
  EXPECT_EQ(parsed->window.slide_seconds, 300);
  EXPECT_EQ(parsed->window.watermark_delay_seconds, 120);
  EXPECT_EQ(parsed->layout, LakeLayout::clean);
  EXPECT_TRUE(parsed->topic_windows);
  EXPECT_EQ(parsed->prefix, "turn_stile");
  EXPECT_EQ(checkpoint_config_difference(*parsed, c), "");
}

// The watermark at commit is stored only where replaying would not re-derive it: above closed through.
TEST(ConsumeCheckpoint, WatermarkAboveClosedThroughIsStored) {
  ConsumeCheckpoint c;
  c.closed_through = 1695488100;
  c.watermark = 1695488100;
  EXPECT_EQ(format_checkpoint_metadata(c).find(";wm="), std::string::npos);
  c.watermark = 1695489000;
  std::string metadata = format_checkpoint_metadata(c);
  EXPECT_NE(metadata.find(";wm=1695489000"), std::string::npos) << metadata;
  std::string error;
  auto parsed = parse_checkpoint_metadata(metadata, 0, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->watermark, 1695489000);
  parsed = parse_checkpoint_metadata("v1;rw=1;ct=2;rt=3;w=300;s=300;d=300;l=original", 5, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->watermark, WindowEngine::minus_infinity);  // older checkpoints: none stored
  EXPECT_FALSE(parse_checkpoint_metadata("v1;rw=1;ct=2;rt=3;w=300;s=300;d=300;l=original;wm=x", 5, error));
}

TEST(ConsumeCheckpoint, EverythingClosedIsAPlus) {
  ConsumeCheckpoint c;
  c.closed_through = closed_through_everything;
  std::string metadata = format_checkpoint_metadata(c);
  EXPECT_NE(metadata.find(";ct=+;"), std::string::npos) << metadata;
  std::string error;
  auto parsed = parse_checkpoint_metadata(metadata, 0, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->closed_through, closed_through_everything);
}

TEST(ConsumeCheckpoint, OlderCheckpointsWerePerPartition) {
  std::string error;
  auto parsed = parse_checkpoint_metadata("v1;rw=1;ct=2;rt=3;w=300;s=300;d=300;l=original", 5, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_FALSE(parsed->topic_windows);
  EXPECT_EQ(parsed->prefix, "");
  ConsumeCheckpoint now;
  now.window = {300, 300, 300};
  now.topic_windows = true;
  now.prefix = "anything";  // not recorded then: not compared
  EXPECT_EQ(checkpoint_config_difference(*parsed, now), "per-partition windows (stored) vs topic-wide windows (now)");
}

TEST(ConsumeCheckpoint, MinusInfinityIsADash) {
  ConsumeCheckpoint c;
  std::string metadata = format_checkpoint_metadata(c);
  EXPECT_NE(metadata.find("rw=-;ct=-;"), std::string::npos);
  std::string error;
  auto parsed = parse_checkpoint_metadata(metadata, 0, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->replay_watermark, WindowEngine::minus_infinity);
  EXPECT_EQ(parsed->closed_through, WindowEngine::minus_infinity);
}

TEST(ConsumeCheckpoint, RejectsWhatIsNotACheckpoint) {
  std::string error;
  EXPECT_FALSE(parse_checkpoint_metadata("", 5, error));
  EXPECT_EQ(error, "no metadata");
  EXPECT_FALSE(parse_checkpoint_metadata("v2;rw=1", 5, error));
  EXPECT_NE(error.find("version"), std::string::npos);
  EXPECT_FALSE(parse_checkpoint_metadata("v1;rw=1;ct=2", 5, error));  // incomplete
  EXPECT_FALSE(parse_checkpoint_metadata("v1;rw=x;ct=2;rt=3;w=300;s=300;d=300;l=original", 5, error));
  EXPECT_FALSE(parse_checkpoint_metadata("v1;rw=1;ct=2;rt=3;w=300;s=300;d=300;l=fancy", 5, error));
  // Unknown keys from a newer v1 writer are ignored.
  EXPECT_TRUE(parse_checkpoint_metadata("v1;rw=1;ct=2;rt=3;w=300;s=300;d=300;l=original;zz=9", 5, error));
}

TEST(ConsumeCheckpoint, NamesEveryConfigDifference) {
  ConsumeCheckpoint stored;
  stored.window = {300, 300, 300};
  stored.prefix = "turnstile";
  ConsumeCheckpoint now;
  now.window = {600, 300, 300};
  now.layout = LakeLayout::clean;
  now.prefix = "other";
  std::string d = checkpoint_config_difference(stored, now);
  EXPECT_NE(d.find("window 5m (stored) vs 10m (now)"), std::string::npos) << d;
  EXPECT_NE(d.find("prefix 'turnstile' (stored) vs 'other' (now)"), std::string::npos) << d;
  EXPECT_NE(d.find("layout original (stored) vs clean (now)"), std::string::npos) << d;
  EXPECT_EQ(d.find("slide"), std::string::npos) << d;
}

TEST(RawMessageFormat, ExpandsFieldsAndEscapes) {
  RawMessageFormat format("%t/%p@%o %T [%k] %s (%K/%S) 100%%\\t|\\n");
  RawMessageFormat::Fields f;
  f.topic = "mta";
  f.partition = 3;
  f.offset = 42;
  f.timestamp_ms = 1695487800123;
  f.key = "A001,R001,02-00-00";
  f.value = "v";
  std::string out;
  format.append(f, out);
  EXPECT_EQ(out, "mta/3@42 1695487800123 [A001,R001,02-00-00] v (18/1) 100%\t|\n");
}

TEST(RawMessageFormat, CapturePresetIsReplayCaptureTsv) {
  RawMessageFormat format("capture");
  RawMessageFormat::Fields f;
  f.timestamp_ms = 7;
  f.key = "k";
  f.value = "v";
  std::string out;
  format.append(f, out);
  EXPECT_EQ(out, "7\tk\tv\n");
}

TEST(RawMessageFormat, UnknownFieldIsAUsageError) { EXPECT_THROW(RawMessageFormat format("%q"), UsageError); }

TEST(RawStartOffset, KcatSpellings) {
  EXPECT_EQ(parse_start_offset("beginning"), RD_KAFKA_OFFSET_BEGINNING);
  EXPECT_EQ(parse_start_offset("end"), RD_KAFKA_OFFSET_END);
  EXPECT_EQ(parse_start_offset("stored"), RD_KAFKA_OFFSET_STORED);
  EXPECT_EQ(parse_start_offset("17"), 17);
  EXPECT_EQ(parse_start_offset("-5"), RD_KAFKA_OFFSET_TAIL(5));
  EXPECT_THROW(parse_start_offset("soon"), UsageError);
  EXPECT_THROW(parse_start_offset(""), UsageError);
}

}  // namespace
}  // namespace mtastream
