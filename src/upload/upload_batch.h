// Uploads many local files through one Uploader with N parallel jobs, then deletes or moves each local
// file whose upload was verified; the summary behind `mtastream upload`.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "upload/uploader.h"

namespace mtastream::upload {

struct UploadItem {
  std::string local_path;
  std::string object_name;  // name under the destination's prefix
};

// FILE arguments to items: a file keeps its base name; a directory contributes every regular file below
// it, named by its path relative to the directory. Throws UsageError for a path that does not exist.
std::vector<UploadItem> collect_upload_items(const std::vector<std::string>& paths);

enum class AfterUpload { keep, delete_local, move_local };

struct UploadBatchOptions {
  int jobs = 4;
  AfterUpload after = AfterUpload::keep;
  std::string move_to;  // directory for AfterUpload::move_local (object_name kept below it)
};

struct UploadItemReport {
  UploadItem item;
  std::optional<UploadResult> result;  // set when the upload was verified
  std::string error;                   // set when the upload (or the delete/move after it) failed
};

struct UploadBatchSummary {
  std::uint64_t uploaded = 0, skipped = 0, failed = 0;
  std::uint64_t bytes = 0;  // bytes sent (skipped objects not counted)
  double seconds = 0;
};

// Uploads every item; `on_item` is called (serialized, from worker threads) as each one finishes.
// Never throws for a single file's failure: it is counted and reported.
UploadBatchSummary run_upload_batch(Uploader& uploader, const std::vector<UploadItem>& items,
                                    const UploadBatchOptions& options,
                                    const std::function<void(const UploadItemReport&)>& on_item);

}  // namespace mtastream::upload
