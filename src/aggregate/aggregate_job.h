// The offline aggregation: messages from files or stdin through the window engine into lake files
// or one CSV stream, with rejected messages kept aside. `mtastream aggregate` is its command line.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lake/lake_writer.h"
#include "sink/warehouse_sink.h"
#include "engine/window_engine.h"

namespace mtastream::aggregate {

struct AggregateOptions {
  engine::WindowConfig window;
  lake::LakeLayout layout = lake::LakeLayout::original;
  lake::LakePartitioning partitioning;  // --partition-by (lake_dir only): Hive folders, one file per folder and window
  std::string lake_dir;      // one .csv.gz file per window here ("" with a sink: none), or
  std::string output;        // "-" (stdout) or a FILE: one CSV stream (gzip if FILE ends in .gz)
  std::string prefix = "turnstile";
  std::string stream_name;   // for file names; "" = derived from the inputs (see aggregate_stream_name)
  std::string dead_letter;   // "" = rejected messages are only counted and reported on stderr
  std::vector<std::string> inputs;  // files or "-"; empty = stdin
  // --sink: windows are also (or, without lake_dir and output, only) loaded into the warehouse, in
  // batches of one transaction each. Not owned.
  sink::WarehouseSink* sink = nullptr;
  // Worker threads: events are sharded by group key across this many window engines (1 = one engine
  // on the reading thread). The output is the same byte for byte whatever the number.
  unsigned threads = 1;
};

struct AggregateSummary {
  uint64_t read = 0;        // messages read (blank lines and header lines not counted)
  uint64_t accepted = 0;
  uint64_t bad = 0;         // malformed (or longer than the line limit)
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t overflow = 0;    // would push a sum past int64
  uint64_t windows = 0;
  uint64_t rows = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;       // bytes written (lake files or the CSV stream)
  double seconds = 0;
  bool interrupted = false;  // SIGINT/SIGTERM stopped the reading; the windows read so far were written
  uint64_t rejected() const { return bad + late + overflow; }
};

// The stream part of lake file names: the first input's base name without .gz and one more extension
// ("stdin" for "-"), with "-and-N-more" when there are several inputs.
std::string aggregate_stream_name(const std::vector<std::string>& inputs);

// Runs the job. Throws Error when an input cannot be read or an output cannot be written.
AggregateSummary run_aggregate(const AggregateOptions& options);

// The summary as one JSON object (no newline).
std::string aggregate_summary_json(const AggregateSummary& summary);

}  // namespace mtastream::aggregate
