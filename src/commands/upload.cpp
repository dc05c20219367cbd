// `mtastream upload`: upload lake files to file://, s3:// or gs://, verified and retried.
#include <memory>

#include "config/cli_checks.h"
#include "commands/command.h"
#include "base/duration.h"
#include "base/exit_code.h"
#include "base/json_writer.h"
#include "base/log.h"
#include "upload/upload_batch.h"
#include "upload/uploader.h"

namespace mtastream::commands {
namespace {

struct UploadFlags {
  std::string to;
  std::string endpoint;
  std::string addressing = "auto";
  std::string region;
  std::string profile;
  int jobs = 4;
  int retries = 5;
  std::string timeout = "10m";
  bool delete_after = false;
  std::string move_to;
  bool json = false;
  std::vector<std::string> files;
};

std::string json_summary(const UploadFlags& options, std::size_t files, const upload::UploadBatchSummary& summary,
                         const std::vector<upload::UploadItemReport>& failures) {
  JsonWriter json;
  json.begin_object().field("destination", options.to).field("files", uint64_t{files});
  json.field("uploaded", summary.uploaded).field("skipped", summary.skipped).field("failed", summary.failed);
  json.field("bytes", summary.bytes).field("seconds", summary.seconds).key("failures").begin_array();
  for (const auto& report : failures)
    json.begin_object().field("file", report.item.local_path).field("error", report.error).end_object();
  return json.end_array().end_object().str() + "\n";
}

ExitCode run_upload(const UploadFlags& options) {
  if (options.delete_after && !options.move_to.empty())
    throw UsageError("--delete-after and --move-to exclude each other: pick one");
  if (options.jobs < 1) throw UsageError("--jobs must be at least 1");
  if (options.retries < 0) throw UsageError("--retries must be 0 or more");

  upload::UploadOptions upload_options;
  upload_options.endpoint = options.endpoint;
  upload_options.region = options.region;
  upload_options.aws_profile = options.profile;
  upload_options.max_attempts = options.retries + 1;
  upload_options.request_timeout_seconds = static_cast<double>(parse_duration_seconds(options.timeout, "--timeout", 1));
  if (options.addressing == "path") upload_options.addressing = upload::S3Addressing::path;
  else if (options.addressing == "virtual") upload_options.addressing = upload::S3Addressing::virtual_host;
  upload_options.on_retry = [](const upload::RetryNotice& notice) {
    log::warn("{}: attempt {}/{} failed ({}); retrying in {:.1f}s", notice.object_url, notice.attempt,
              notice.max_attempts, notice.reason, notice.delay_seconds);
  };

  std::vector<upload::UploadItem> items = upload::collect_upload_items(options.files);
  std::unique_ptr<upload::Uploader> uploader = upload::Uploader::create(options.to, upload_options);

  upload::UploadBatchOptions batch;
  batch.jobs = options.jobs;
  if (options.delete_after) batch.after = upload::AfterUpload::delete_local;
  if (!options.move_to.empty()) batch.after = upload::AfterUpload::move_local, batch.move_to = options.move_to;

  std::vector<upload::UploadItemReport> failures;
  upload::UploadBatchSummary summary = upload::run_upload_batch(*uploader, items, batch, [&](const upload::UploadItemReport& report) {
    if (!report.error.empty()) {
      log::error("{}", report.error);
      failures.push_back(report);
    } else if (report.result->outcome == upload::UploadOutcome::skipped) {
      log::info("skipped {}: {} already holds the same bytes (md5 {})", report.item.local_path,
                report.result->object_url, report.result->md5_hex);
    } else {
      log::info("uploaded {} -> {} ({} bytes, md5 {} verified)", report.item.local_path, report.result->object_url,
                report.result->bytes, report.result->md5_hex);
    }
  });

  log::info("upload to {}: {} uploaded, {} skipped (already there), {} failed, {} bytes in {:.2f}s", options.to,
            summary.uploaded, summary.skipped, summary.failed, summary.bytes, summary.seconds);
  if (options.json) write_stdout(json_summary(options, items.size(), summary, failures));
  return exit_code({.sent = items.size(), .delivered = items.size() - summary.failed});
}

}  // namespace

void add_upload_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("upload", "upload lake files to file://, s3:// or gs://, verified and retried");
  auto options = std::make_shared<UploadFlags>();
  command->add_option("--to", options->to, "destination: file://DIR, s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX]")
      ->type_name("URL")
      ->required();
  command->add_option("--endpoint", options->endpoint,
                      "S3-compatible endpoint or GCS emulator (default: AWS_ENDPOINT_URL, STORAGE_EMULATOR_HOST, "
                      "else the cloud's own)")
      ->type_name("URL");
  command->add_option("--s3-addressing", options->addressing,
                      "S3 bucket addressing: auto (path-style with --endpoint), path or virtual")
      ->check(CLI::IsMember({"auto", "path", "virtual"}))
      ->capture_default_str();
  command->add_option("--region", options->region, "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config)");
  command->add_option("--profile", options->profile, "profile in ~/.aws/credentials (default: AWS_PROFILE, default)");
  command->add_option("-j,--jobs", options->jobs, "files uploaded in parallel (1 to 64)")
      ->capture_default_str()
      ->type_name("N")
      ->check(config::whole_number(1, 64));
  command->add_option("--retries", options->retries,
                      "retries per file after the first attempt (timeouts, connection errors, 5xx, throttling)")
      ->capture_default_str()
      ->type_name("N")
      ->check(config::whole_number(0, 100));
  command->add_option("--timeout", options->timeout, "limit for one request, body included (30s, 5m; a bare number is seconds)")
      ->capture_default_str();
  command->add_flag("--delete-after", options->delete_after, "delete each local file once its upload is verified");
  command->add_option("--move-to", options->move_to, "move each local file into DIR once its upload is verified")
      ->type_name("DIR");
  command->add_flag("--json", options->json, "print a JSON summary on stdout (uploaded, skipped, failed, bytes)");
  command->add_option("files", options->files, "lake files, or directories (uploaded recursively, relative names)")
      ->type_name("FILE...")
      ->required();
  set_examples(command,
               "  mtastream upload --to s3://my-bucket/turnstile storage/*.csv.gz\n"
               "  mtastream upload --to s3://lake/turnstile --endpoint http://127.0.0.1:9000 --jobs 8 storage/\n"
               "  mtastream upload --to gs://my-bucket/turnstile --move-to done/ storage/*.csv.gz\n"
               "  mtastream upload --to file:///mnt/lake/turnstile --delete-after --json storage/*.csv.gz\n"
               "\nCredentials: S3 from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN] or "
               "~/.aws/credentials (AWS_PROFILE);\n"
               "GCS from GOOGLE_APPLICATION_CREDENTIALS (service-account key), GCS_HMAC_ACCESS_KEY_ID/GCS_HMAC_SECRET, "
               "or none for\nan emulator (STORAGE_EMULATOR_HOST or --endpoint). Exit 1 when every file failed, 3 when "
               "some did.\n");
  registry.on_run(command, [options](const GlobalContext&) { return run_upload(*options); });
}

}  // namespace mtastream::commands
