// Topic-wide windows for `consume`: each partition's share of a closed window is kept as a segment in a
// hidden staging folder of the lake; once every partition of the topic has passed the window, the window's
// segments are merged into its one lake file (one row per group key for the whole topic). The merge is a
// pure function of the segments, so members merging the same window at once write the same bytes, and a
// lake file, once there, is never replaced. See ARCHITECTURE.md, "Topic-wide windows".
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lake/lake_writer.h"
#include "engine/window_engine.h"

namespace mtastream::upload {
class Uploader;
}

namespace mtastream::lake {

// Sums one window's rows from several partitions: rows with the same group key are added (in the order
// given: partition order), the result sorted as the engine sorts. A row that would push a sum past the
// int64 maximum is left out and counted in `overflowed` (each partition's sums fit; their total may not).
engine::ClosedWindow merge_window_rows(int64_t start, int64_t end, const std::vector<engine::ClosedWindow>& parts,
                               uint64_t& overflowed);

// Dedup by ID across partitions, within one window: an ID that several partitions counted stays in the
// lowest partition's rows and is taken out of the others' (a row left without events is dropped). Parts
// are in partition order. Returns how many copies were dropped.
uint64_t drop_cross_partition_copies(std::vector<engine::ClosedWindow>& parts);

// Where the staging state lives: folders "segments", "progress" and "merged" of small files, in the lake
// folder (members on one machine) or in an object store every member reaches (a fleet on several
// machines). write() is durable when it returns; read() gives nullopt for a file that is not there.
class StagingStore {
 public:
  virtual ~StagingStore() = default;
  virtual std::vector<std::string> list(const std::string& folder) const = 0;
  virtual std::optional<std::string> read(const std::string& folder, const std::string& name) const = 0;
  virtual void write(const std::string& folder, const std::vector<std::pair<std::string, std::string>>& files) = 0;
  virtual void remove(const std::string& folder, const std::vector<std::string>& names) = 0;
  virtual std::string location(const std::string& folder) const = 0;  // for messages
  virtual size_t remove_stale_temp_files() const { return 0; }
};

class LakeSegments {
 public:
  // Staging in <lake_dir>/.mtastream/<prefix>_<topic>/ (parts sanitized like lake file names), or, with
  // `shared`, in <prefix>_<topic>/ under that store's destination (it must outlive this object).
  LakeSegments(std::string lake_dir, std::string_view prefix, std::string_view topic, LakeLayout layout,
               engine::GroupColumns columns = engine::all_group_columns, LakePartitioning partitioning = {}, upload::Uploader* shared = nullptr);

  // Writes each (partition, window) segment; all are durable when it returns (one directory fsync).
  void write(const std::vector<std::pair<int32_t, const engine::ClosedWindow*>>& segments);

  // Progress markers: per partition, the checkpoint text of how far its segments are written (its closed
  // through). Written after the segments they count; read by every member to decide what can be merged.
  void write_progress(const std::vector<std::pair<int32_t, std::string>>& markers);
  std::map<int32_t, std::string> read_progress() const;

  struct Merged {
    std::string path;  // the lake file
    std::string name;  // relative to the lake directory (partition folders included)
    uint64_t rows = 0;
    uint64_t bytes = 0;
    bool created = false;  // false: the file was already there (another member, or a run before a crash)
    bool first_of_window = true;  // partitioned: a window's first file (counts the window)
  };
  // Merges every staged window ending at or before `through` that is not merged yet into its lake file
  // <prefix>_<topic>_<start>_<end>.csv.gz (one per partition folder; never replacing an existing one), calls `publish` for each
  // (it must return only when the copy is durable), records the window as merged, then drops its segments.
  // Copies of one ID counted by several partitions count once (drop_cross_partition_copies).
  // `load` (may be empty) gets the merged windows of the pass (also those whose file was already there)
  // after their files and before they are marked merged: the warehouse sink (it must return only when
  // they are committed there).
  std::vector<Merged> merge_through(int64_t through,
                                    const std::function<void(const std::string&, const std::string&)>& publish,
                                    uint64_t& overflowed, uint64_t& duplicates,
                                    const std::function<void(const std::vector<const engine::ClosedWindow*>&)>& load = {});

  // Windows staged but not merged yet (for the summary).
  size_t staged_windows() const;
  // Temporary files a killed writer left in the staging folders (see remove_stale_temp_files).
  size_t remove_stale_temp_files() const;

  std::string staging_location() const { return store_->location(""); }

 private:
  struct Staged {
    int64_t start, end;
    std::vector<std::pair<int32_t, std::string>> files;  // partition, segment file name
  };
  std::vector<Staged> list_staged() const;
  bool is_merged(int64_t start, int64_t end) const;
  // The window's segments merged into one (nullopt: a member marked it merged meanwhile).
  std::optional<engine::ClosedWindow> read_and_merge(const Staged& s, uint64_t& overflowed, uint64_t& duplicates);

  std::string lake_dir_, prefix_, topic_;
  LakeLayout layout_;
  std::unique_ptr<StagingStore> store_;
  engine::GroupColumns columns_;
  LakePartitioning partitioning_;
};

}  // namespace mtastream::lake
