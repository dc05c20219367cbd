// What `consume` stores with each committed offset (the commit's metadata string) so that a restart,
// or another group member taking the partition over, rebuilds exactly the windows that were open.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lake/lake_writer.h"
#include "engine/window_engine.h"

namespace mtastream::consume {

// One partition's recovery point. The committed offset is the position of the earliest event still in
// an open window (or the next offset when none is open); the metadata holds the rest:
//   v1;rw=<replay watermark>;ct=<closed through>;rt=<read through>;w=<W>;s=<S>;d=<delay>;l=<layout>;
//   m=<topic|partition>;p=<prefix>[;g=<group columns>][;pb=<partition folders>][;wm=<watermark>]
// (watermarks in seconds since the epoch, "-" for minus infinity, "+" for "every window": --flush-open).
// m (windows mode) and p (file name prefix, sanitized) are absent in checkpoints of older versions,
// which wrote per-partition windows. g (e.g. "STATION") is written only when not all seven columns and
// pb ("date,hour,station") only with --partition-by, so default checkpoints read as before. wm is written
// only when the watermark at commit is above closed through (the idle rule moved it, or a merge is behind).
struct ConsumeCheckpoint {
  int64_t offset = 0;                                      // the committed offset: replay starts here
  int64_t replay_watermark = engine::WindowEngine::minus_infinity;  // the watermark just before the event at `offset`
  int64_t closed_through = engine::WindowEngine::minus_infinity;    // every window ending at or before this is written
  int64_t read_through = 0;  // offsets below this were read (and rejected ones dead-lettered) before the commit
  // The partition's watermark at the commit. Replaying from `offset` re-derives it from the events, except
  // where the idle rule moved it up: a restart moves it there once it has replayed up to read_through.
  int64_t watermark = engine::WindowEngine::minus_infinity;
  engine::WindowConfig window;
  lake::LakeLayout layout = lake::LakeLayout::original;
  bool topic_windows = false;  // m=topic: windows summed over the topic's partitions (merged segments)
  std::string prefix;          // sanitized lake file prefix ("" = not recorded)
  engine::GroupColumns group_columns = engine::all_group_columns;  // also in `window`; kept here as stored
  std::string partitioning;    // lake_partitioning_text() ("" = one flat folder)
};

// closed_through after --flush-open wrote every window: every later event of the partition is late.
constexpr int64_t closed_through_everything = INT64_MAX;

// The metadata string (without the offset, which is the commit's own field).
std::string format_checkpoint_metadata(const ConsumeCheckpoint& checkpoint);

// Parses metadata written by format_checkpoint_metadata; `offset` is the committed offset.
// Returns nullopt and sets `error` when the text is not a checkpoint (another tool's commit, a newer version).
std::optional<ConsumeCheckpoint> parse_checkpoint_metadata(std::string_view metadata, int64_t offset,
                                                           std::string& error);

// "" when the stored checkpoint was written with the same window config, group columns, partition folders,
// layout, windows mode and prefix
// as `now`, else what differs ("window 5m (stored) vs 10m (now); ...").
std::string checkpoint_config_difference(const ConsumeCheckpoint& stored, const ConsumeCheckpoint& now);

}  // namespace mtastream::consume
