// Uploads lake files to a local folder, S3 (and S3-compatible stores) or GCS, verified and retried.
//
// The one entry point for every caller (`mtastream upload`, `consume --upload`):
//
//   UploadOptions options;                       // defaults are fine; endpoint/credentials come from env
//   auto uploader = Uploader::create("s3://bucket/turnstile", options);   // throws UsageError on a bad URL
//   UploadResult r = uploader->upload("storage/x.csv.gz", "x.csv.gz");    // throws Error when it failed
//
// `upload()` returns only once the object is in the store under "<prefix>/<object_name>" and its checksum
// there equals the local file's (MD5 for S3/file://, MD5 and CRC32C for GCS): a caller may then commit
// offsets or delete the local file. An object already there with the same checksum is not sent again
// (outcome `skipped`). Transient failures (timeouts, connection errors, HTTP 5xx, 429, S3 SlowDown,
// a body the store rejected as corrupted) are retried with exponential backoff and jitter; anything else
// (4xx: bad credentials, no such bucket, access denied) throws at once with a message that names the
// destination and the server's answer, never a secret. No object is ever visible half written.
//
// An Uploader is thread-safe: call upload() from several threads at once (each call uses its own
// connection). It never prints; retries are reported through UploadOptions::on_retry.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mtastream::upload {

// Where an object goes, from `file://DIR`, `s3://BUCKET[/PREFIX]`, `gs://BUCKET[/PREFIX]`.
struct UploadDestination {
  enum class Scheme { file, s3, gcs };
  Scheme scheme = Scheme::file;
  std::string bucket;     // s3/gcs: the bucket; file: empty
  std::string prefix;     // s3/gcs: key prefix without leading/trailing '/'; file: empty
  std::string directory;  // file: the target directory; s3/gcs: empty
  std::string url;        // the URL as given (for messages)

  // The object key (s3/gcs) or relative path (file) of `object_name` under this destination.
  std::string key_for(const std::string& object_name) const;
  // The full URL of `object_name`, e.g. "s3://bucket/turnstile/x.csv.gz" (for messages and results).
  std::string url_for(const std::string& object_name) const;
};

// Parses an upload URL; throws UsageError naming the URL and what is wrong.
UploadDestination parse_upload_url(const std::string& url);

// S3 addressing: path-style (`http://endpoint/bucket/key`) or virtual-hosted (`https://bucket.host/key`).
enum class S3Addressing { automatic, path, virtual_host };  // automatic: path-style when an endpoint is set

struct RetryNotice {
  std::string object_url;  // what was being uploaded
  int attempt = 0;         // the attempt that failed (1 = first)
  int max_attempts = 0;
  double delay_seconds = 0;  // wait before the next attempt
  std::string reason;        // "HTTP 503 SlowDown: Please reduce your request rate", "connection refused", ...
};

struct UploadOptions {
  // S3-compatible endpoint or GCS emulator, e.g. "http://127.0.0.1:9000". Empty: AWS_ENDPOINT_URL_S3 /
  // AWS_ENDPOINT_URL (s3) or STORAGE_EMULATOR_HOST (gs) from the environment, else the cloud's own.
  std::string endpoint;
  S3Addressing addressing = S3Addressing::automatic;
  std::string region;        // S3: empty = AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config, "us-east-1"
  std::string aws_profile;   // S3: empty = AWS_PROFILE, else "default"
  int max_attempts = 6;      // per object, first try included
  double initial_backoff_seconds = 0.25;
  double max_backoff_seconds = 20;
  double connect_timeout_seconds = 10;
  double request_timeout_seconds = 600;  // whole request, body included
  std::function<void(const RetryNotice&)> on_retry;  // called from the uploading thread
};

enum class UploadOutcome { uploaded, skipped };

struct UploadResult {
  UploadOutcome outcome = UploadOutcome::uploaded;
  std::string object_url;    // "s3://bucket/prefix/name", "gs://...", "file:///abs/dir/name"
  std::uint64_t bytes = 0;   // size of the object (sent, or already there when skipped)
  std::string md5_hex;       // the checksum that was verified against the store
  int attempts = 0;          // requests rounds it took (1 when nothing had to be retried)
};

struct FileDigest;

class Uploader {
 public:
  // Builds the uploader for `url`; resolves endpoint and credentials now, so a missing credential or a
  // bad URL is a UsageError before any file is touched.
  static std::unique_ptr<Uploader> create(const std::string& url, const UploadOptions& options = {});
  virtual ~Uploader() = default;

  // Uploads the local file as `object_name` (may contain '/') under the destination; see the top of
  // this file for the guarantee. Throws Error (exit code 1) naming the object when it could not.
  virtual UploadResult upload(const std::string& local_path, const std::string& object_name) = 0;

  // Removes temporary copies a killed uploader left at the destination (file:// only: an object store
  // never shows a half-written object). Returns how many were removed.
  virtual size_t remove_stale_temporaries() { return 0; }

  // Small objects kept in memory, for state that every member of a fleet must see (the staging of
  // topic-wide windows, see LakeSegments). put_object replaces the object; get_object gives nullopt when
  // there is none; list_objects gives the names of the objects directly in `folder` (without the folder);
  // delete_object accepts a missing object. Retried like upload(); each throws Error when it failed.
  virtual void put_object(const std::string& object_name, const std::string& bytes) = 0;
  virtual std::optional<std::string> get_object(const std::string& object_name) = 0;
  virtual std::vector<std::string> list_objects(const std::string& folder) = 0;
  virtual void delete_object(const std::string& object_name) = 0;

  const UploadDestination& destination() const { return destination_; }

 protected:
  explicit Uploader(UploadDestination destination) : destination_(std::move(destination)) {}
  // What an upload of this file reports before it is sent: the object's URL, its size and checksum.
  UploadResult result_for(const FileDigest& local, const std::string& object_name) const;
  UploadDestination destination_;
};

}  // namespace mtastream::upload
