#include "upload/upload_batch.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/durable_file.h"
#include "base/error.h"

namespace mtastream::upload {
namespace {

namespace fs = std::filesystem;

// Moves the uploaded local file into `move_to`, keeping its object name as relative path.
void move_local(const UploadItem& item, const std::string& move_to) {
  fs::path target = fs::path(move_to) / item.object_name;
  std::error_code error;
  fs::create_directories(target.parent_path(), error);
  if (error) throw Error(fmt::format("{}: cannot create directory: {}", target.parent_path().string(), error.message()));
  fs::rename(item.local_path, target, error);
  if (error == std::errc::cross_device_link) {
    try {  // another file system: a durable copy, then the original removed
      ReplacingFile copy(target.string());
      copy.write_file(item.local_path);
      copy.sync();
      copy.rename();
    } catch (const Error& e) {
      throw Error(fmt::format("{}: uploaded, but moving it to {} failed: {}", item.local_path, target.string(), e.what()));
    }
    error.clear();
    fs::remove(item.local_path, error);
  }
  if (error)
    throw Error(fmt::format("{}: uploaded, but moving it to {} failed: {}", item.local_path, target.string(),
                            error.message()));
  fsync_directory(target.parent_path().string());
  fsync_directory(fs::path(item.local_path).parent_path().string());
}

}  // namespace

std::vector<UploadItem> collect_upload_items(const std::vector<std::string>& paths) {
  std::vector<UploadItem> items;
  for (const std::string& path : paths) {
    std::error_code error;
    fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) throw UsageError(fmt::format("{}: no such file or directory", path));
    if (fs::is_directory(status)) {
      std::vector<UploadItem> found;
      for (const auto& entry : fs::recursive_directory_iterator(path)) {
        if (!entry.is_regular_file()) continue;
        std::string name = entry.path().lexically_relative(path).generic_string();
        // Hidden files are temporary files of writers (".x.tmp-…"): never upload them.
        if (name.starts_with(".") || name.find("/.") != std::string::npos) continue;
        found.push_back({entry.path().string(), name});
      }
      std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.object_name < b.object_name; });
      items.insert(items.end(), found.begin(), found.end());
    } else {
      items.push_back({path, fs::path(path).filename().string()});
    }
  }
  return items;
}

UploadBatchSummary run_upload_batch(Uploader& uploader, const std::vector<UploadItem>& items,
                                    const UploadBatchOptions& options,
                                    const std::function<void(const UploadItemReport&)>& on_item) {
  auto started = std::chrono::steady_clock::now();
  UploadBatchSummary summary;
  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t index; (index = next++) < items.size();) {
      UploadItemReport report;
      report.item = items[index];
      try {
        report.result = uploader.upload(report.item.local_path, report.item.object_name);
        // Only now, with the store's checksum verified, may the local copy go.
        if (options.after == AfterUpload::delete_local) {
          std::error_code error;
          if (!fs::remove(report.item.local_path, error) || error)
            throw Error(fmt::format("{}: uploaded, but deleting it failed: {}", report.item.local_path,
                                    error ? error.message() : "already gone"));
          fsync_directory(fs::path(report.item.local_path).parent_path().string());
        } else if (options.after == AfterUpload::move_local) {
          move_local(report.item, options.move_to);
        }
      } catch (const std::exception& e) {
        report.error = e.what();
      }
      std::lock_guard lock(mutex);
      if (!report.error.empty()) {
        ++summary.failed;
      } else if (report.result->outcome == UploadOutcome::skipped) {
        ++summary.skipped;
      } else {
        ++summary.uploaded;
        summary.bytes += report.result->bytes;
      }
      if (on_item) on_item(report);
    }
  };
  int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(items.size())));
  std::vector<std::thread> workers;
  for (int i = 1; i < jobs; ++i) workers.emplace_back(work);
  work();
  for (auto& worker : workers) worker.join();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace mtastream::upload
