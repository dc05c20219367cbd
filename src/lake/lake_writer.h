// Writes closed windows as gzip CSV lake files (deterministic names and bytes, atomic and durable),
// or as one CSV stream (`-o FILE|-`).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/window_engine.h"

namespace mtastream::lake {

enum class LakeLayout {
  original,  // ",CA,UNIT,...,EXITS" header and an index column 0..n-1: the original's warehouse table reads it
  clean,     // "CA,UNIT,...,EXITS" header, no index column
};

LakeLayout parse_lake_layout(std::string_view name);  // "original" | "clean"; UsageError otherwise
std::string_view lake_layout_name(LakeLayout layout);

// The header line (with '\n') of a layout: the group columns (all seven by default) in the original's
// order, DATE and TIME before DESC, then ENTRIES,EXITS.
std::string lake_header(LakeLayout layout, engine::GroupColumns columns = engine::all_group_columns);

// Appends the window's rows as CSV lines ('\n' ends). `index` is the next index-column value (original
// layout) and is advanced per row. DATE/TIME are the window end as MM/DD/YYYY and HH:MM:SS.
void append_window_rows(const engine::ClosedWindow& window, LakeLayout layout, uint64_t& index, std::string& out,
                        engine::GroupColumns columns = engine::all_group_columns);

// A whole lake file: header, rows, gzip (deterministic bytes).
std::string lake_file_bytes(const engine::ClosedWindow& window, LakeLayout layout, engine::GroupColumns columns = engine::all_group_columns);

// --partition-by: Hive-style folders under the lake directory, one level per item, from the window end
// (`date=YYYY-MM-DD`, `hour=HH`) and group columns (`station=59 ST`). Empty: one flat folder.
struct LakePartitioning {
  enum class Item : int8_t { date = -1, hour = -2 };  // or a group column's index 0..6
  std::vector<int> items;  // Item values as int, or group column indexes, in folder order
  bool empty() const { return items.empty(); }
};
// "date,hour,station" (case-insensitive); group columns must be in `columns`. UsageError otherwise.
LakePartitioning parse_lake_partitioning(std::string_view list, engine::GroupColumns columns);
std::string lake_partitioning_text(const LakePartitioning& partitioning);  // "date,hour,station"

// A partition value as a folder name part, escaped as Hive and Spark do (%XX for '/', '=', '%', control
// bytes, and the rest of their list) and also for bytes that are not UTF-8 (object keys must be UTF-8);
// "" becomes __HIVE_DEFAULT_PARTITION__ as in Hive. The folder "key=value" then never is "." or "..",
// never holds a '/', and is a valid S3/GCS key part.
// A value whose escaped form passes max_partition_value_bytes is cut (at a whole character) and ends in
// "~" and 16 hex digits of a hash of the value: folder names stay short (7 of them fit an object key).
constexpr size_t max_partition_value_bytes = 100;
std::string escape_partition_value(std::string_view value);

// One window split by partition folder: (relative folder "date=2023-09-23/hour=04/station=59 ST", its
// rows in the window's order), folders in the order of their first row. Unpartitioned: ("", window).
std::vector<std::pair<std::string, engine::ClosedWindow>> split_window(const engine::ClosedWindow& window,
                                                               const LakePartitioning& partitioning);

// "folder/name", or name when the folder is "".
std::string lake_relative_path(const std::string& folder, const std::string& name);

// Makes a string safe as one path component: keeps [A-Za-z0-9._-], other bytes become '_', no leading '.',
// at most 100 bytes, never empty ("_"). So nothing from a message or topic can leave the lake directory.
std::string sanitize_name_part(std::string_view text);

// The lake file name of a window, the same for `consume` and `aggregate`:
//   <prefix>_<stream>[_p<partition>]_<start YYYYmmddTHHMMSS>_<end YYYYmmddTHHMMSS>.csv.gz
// e.g. turnstile_mta-turnstile_p0_20230923T165000_20230923T165500.csv.gz. Parts are sanitized.
std::string lake_file_name(std::string_view prefix, std::string_view stream, std::optional<int32_t> partition,
                           int64_t window_start, int64_t window_end);

// The gzip level of lake files and `-o FILE.gz` (libdeflate's scale, 0-12). Measured on 5,000-row windows:
// level 5 is 4x faster than zlib level 6 and 1% smaller; libdeflate 6 is 4% smaller but 1.6x slower
// than 5, and 1 is 2.8x faster than 5 but 27% larger (README "Aggregate", Speed).
constexpr int default_gzip_level = 5;

// gzip of `data` (one member, through libdeflate) with a fixed header (mtime 0, no file name): equal
// input gives equal bytes.
std::string gzip_bytes(std::string_view data, int level = default_gzip_level);

// Like write_files_durably (durable_file.h), but a file that already exists is never replaced (a lake file is final):
// each temporary file is linked to its final name, which fails when the name is taken. Returns, per
// file, whether this call created it. Durable when it returns. Throws Error.
std::vector<bool> write_files_once(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files);

// Where lake files go: one .csv.gz file per closed window.
class LakeWriter {
 public:
  LakeWriter(std::string dir, LakeLayout layout, engine::GroupColumns columns = engine::all_group_columns,
             LakePartitioning partitioning = {});

  struct Written {
    std::string path;  // dir/name
    uint64_t rows = 0;
    uint64_t bytes = 0;  // compressed size
  };
  // Writes the window to dir/file_name (see lake_file_name) and returns what was written. Unpartitioned
  // writers only (Error otherwise; add() and flush() split windows by partition folder).
  Written write(const engine::ClosedWindow& window, const std::string& file_name);
  // Several windows (names[i] for windows[i]) through write_files_durably: the same bytes as write().
  std::vector<Written> write_many(const std::vector<const engine::ClosedWindow*>& windows,
                                  const std::vector<std::string>& names);

  // A batch built up window by window: add() compresses the window now (the batch holds gzip bytes, not
  // rows), flush() writes every added file through write_files_durably (one fsync per file, one of the
  // directory) and returns them; nothing added is durable before flush() returns. A flush() that throws
  // drops the batch (its temporary files removed).
  void add(const engine::ClosedWindow& window, const std::string& file_name);
  std::vector<Written> flush();
  size_t pending_files() const { return pending_.size(); }
  size_t pending_bytes() const { return pending_bytes_; }

  const std::string& dir() const { return dir_; }

 private:
  std::string encode(const engine::ClosedWindow& window, const std::string& file_name);  // checks the name too
  // (relative path, gzip bytes, rows) per partition folder of the window.
  struct Encoded {
    std::string path, bytes;
    uint64_t rows;
  };
  std::vector<Encoded> encode_split(const engine::ClosedWindow& window, const std::string& file_name);

  std::string dir_;
  LakeLayout layout_;
  engine::GroupColumns columns_;
  LakePartitioning partitioning_;
  std::string csv_;  // reused between windows
  std::vector<std::pair<std::string, std::string>> pending_;  // (name, gzip bytes) added, not yet written
  std::vector<uint64_t> pending_rows_;
  size_t pending_bytes_ = 0;
};

// `-o FILE|-`: all windows as one CSV stream with one header; "-" is plain CSV on stdout, a FILE
// ending in ".gz" is gzip (one member per flushed MiB: libdeflate compresses whole buffers only, and
// gzip readers read the members as one stream), otherwise plain. Files are written durably (temp + fsync
// + rename) at finish().
class CsvStreamWriter {
 public:
  CsvStreamWriter(std::string target, LakeLayout layout, engine::GroupColumns columns = engine::all_group_columns);
  ~CsvStreamWriter();
  void write(const engine::ClosedWindow& window);
  void finish();  // writes the header even when there were no rows; then flushes / renames
  uint64_t rows() const { return rows_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void flush_buffer();

  std::string target_;
  LakeLayout layout_;
  engine::GroupColumns columns_;
  std::string buffer_;
  uint64_t index_ = 0;
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
  bool header_written_ = false;
  bool finished_ = false;
  struct Sink;
  std::unique_ptr<Sink> sink_;
};

}  // namespace mtastream::lake
