// Units of src/upload/: SigV4 against AWS's published examples, URL parsing, backoff, checksums,
// AWS credential files, and the file:// uploader end to end.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/error.h"
#include "upload/aws_credentials.h"
#include "upload/checksum.h"
#include "upload/retry.h"
#include "upload/sigv4.h"
#include "upload/store_uploaders.h"
#include "upload/upload_batch.h"
#include "upload/uploader.h"

namespace mtastream {
using namespace mtastream::upload;
namespace {

const char* empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// aws-sig-v4-test-suite "get-vanilla".
TEST(SigV4, GetVanillaFromTheAwsTestSuite) {
  SigV4Request request{"GET", "/", "", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                       empty_sha256};
  SigV4Scope scope{"us-east-1", "service", "20150830T123600Z"};
  EXPECT_EQ(sigv4_canonical_request(request),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(empty_sha256));
  EXPECT_EQ(sigv4_signature(request, scope, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  AwsCredentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "test"};
  EXPECT_EQ(sigv4_authorization(request, scope, credentials),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// S3 documentation, "Example: GET Object" (header-based SigV4).
TEST(SigV4, S3GetObjectExample) {
  SigV4Request request{"GET", "/test.txt", "",
                       {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"},
                        {"x-amz-content-sha256", empty_sha256}, {"x-amz-date", "20130524T000000Z"}},
                       empty_sha256};
  SigV4Scope scope{"us-east-1", "s3", "20130524T000000Z"};
  EXPECT_EQ(sigv4_signature(request, scope, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// S3 documentation, "Example: PUT Object": a key that needs encoding and a signed payload hash.
TEST(SigV4, S3PutObjectExample) {
  const std::string payload_hash = sha256_hex("Welcome to Amazon S3.");
  EXPECT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request request{"PUT", "/" + uri_encode("test$file.text", true), "",
                       {{"Host", "examplebucket.s3.amazonaws.com"}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"x-amz-date", "20130524T000000Z"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                        {"x-amz-content-sha256", payload_hash}},
                       payload_hash};
  SigV4Scope scope{"us-east-1", "s3", "20130524T000000Z"};
  EXPECT_EQ(request.canonical_uri, "/test%24file.text");
  EXPECT_EQ(sigv4_signature(request, scope, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, HeaderValuesAreTrimmedAndRepeatedNamesJoined) {
  SigV4Request request{"GET", "/", "", {{"My-Header1", "  a   b   c  "}, {"X-A", "1"}, {"x-a", "2"}}, empty_sha256};
  std::string canonical = sigv4_canonical_request(request);
  EXPECT_NE(canonical.find("my-header1:a b c\n"), std::string::npos) << canonical;
  EXPECT_NE(canonical.find("x-a:1,2\n"), std::string::npos) << canonical;
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(uri_encode("turnstile/a b+c~d_e.f-g.csv.gz", true), "turnstile/a%20b%2Bc~d_e.f-g.csv.gz");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("\xc3\xa9", false), "%C3%A9");
}

TEST(UploadUrl, ParsesSchemesBucketsAndPrefixes) {
  auto s3 = parse_upload_url("s3://my-bucket/turnstile/2023/");
  EXPECT_EQ(s3.scheme, UploadDestination::Scheme::s3);
  EXPECT_EQ(s3.bucket, "my-bucket");
  EXPECT_EQ(s3.prefix, "turnstile/2023");
  EXPECT_EQ(s3.key_for("x.csv.gz"), "turnstile/2023/x.csv.gz");
  EXPECT_EQ(s3.url_for("x.csv.gz"), "s3://my-bucket/turnstile/2023/x.csv.gz");

  auto gs = parse_upload_url("gs://lake");
  EXPECT_EQ(gs.scheme, UploadDestination::Scheme::gcs);
  EXPECT_EQ(gs.prefix, "");
  EXPECT_EQ(gs.key_for("/a/b.csv.gz"), "a/b.csv.gz");

  auto file = parse_upload_url("file:///mnt/lake");
  EXPECT_EQ(file.scheme, UploadDestination::Scheme::file);
  EXPECT_EQ(file.directory, "/mnt/lake");
  EXPECT_EQ(parse_upload_url("file://relative/dir").directory, "relative/dir");
}

TEST(UploadUrl, RejectsWhatCannotWork) {
  EXPECT_THROW(parse_upload_url("my-bucket/x"), UsageError);
  EXPECT_THROW(parse_upload_url("ftp://host/x"), UsageError);
  EXPECT_THROW(parse_upload_url("s3://"), UsageError);
  EXPECT_THROW(parse_upload_url("s3:///prefix"), UsageError);
  EXPECT_THROW(parse_upload_url("s3://My_Bucket/x"), UsageError);
  EXPECT_THROW(parse_upload_url("gs://b/a//c"), UsageError);
  EXPECT_THROW(parse_upload_url("file://"), UsageError);
  // Found by fuzz_upload_url: dot segments would be normalized away by HTTP clients and stores.
  EXPECT_THROW(parse_upload_url("s3://b/../other"), UsageError);
  EXPECT_THROW(parse_upload_url("gs://b/x/./y"), UsageError);
  EXPECT_THROW(parse_upload_url("s3://b/x/.."), UsageError);
  EXPECT_EQ(parse_upload_url("s3://b/x/..y/.z").prefix, "x/..y/.z");
  try {
    parse_upload_url("s3://Bad/x");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("s3://Bad/x"), std::string::npos);
  }
}

TEST(UploadEndpoint, SplitsSchemeAuthorityAndPath) {
  auto e = parse_endpoint("http://127.0.0.1:9000/", "--endpoint");
  EXPECT_EQ(e.scheme, "http");
  EXPECT_EQ(e.authority, "127.0.0.1:9000");
  EXPECT_EQ(e.base_path, "");
  EXPECT_EQ(parse_endpoint("localhost:4443", "STORAGE_EMULATOR_HOST").url(), "http://localhost:4443");
  EXPECT_EQ(parse_endpoint("https://s3.example.com:443/base/", "x").url(), "https://s3.example.com/base");
  EXPECT_THROW(parse_endpoint("ftp://x", "--endpoint"), UsageError);
  EXPECT_THROW(parse_endpoint("http://", "--endpoint"), UsageError);
  EXPECT_THROW(parse_endpoint(":80//b", "--endpoint"), UsageError);  // found by fuzz_upload_url: no host
  EXPECT_THROW(parse_endpoint("http://:9000", "--endpoint"), UsageError);
}

TEST(S3Location, PathStyleAndVirtualHosted) {
  auto aws = parse_endpoint("https://s3.eu-west-1.amazonaws.com", "x");
  auto virtual_host = s3_object_location(aws, false, "lake", "turnstile/a b.csv.gz");
  EXPECT_EQ(virtual_host.url, "https://lake.s3.eu-west-1.amazonaws.com/turnstile/a%20b.csv.gz");
  EXPECT_EQ(virtual_host.host, "lake.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(virtual_host.canonical_uri, "/turnstile/a%20b.csv.gz");
  auto local = parse_endpoint("http://127.0.0.1:9000/base", "x");
  auto path = s3_object_location(local, true, "lake", "t/x.csv.gz");
  EXPECT_EQ(path.url, "http://127.0.0.1:9000/base/lake/t/x.csv.gz");
  EXPECT_EQ(path.host, "127.0.0.1:9000");
  EXPECT_EQ(path.canonical_uri, "/base/lake/t/x.csv.gz");
}

TEST(Backoff, GrowsExponentiallyWithJitterAndACap) {
  BackoffPolicy policy{6, 0.25, 4.0};
  EXPECT_DOUBLE_EQ(backoff_delay(policy, 1, 0.0), 0.125);
  EXPECT_DOUBLE_EQ(backoff_delay(policy, 1, 1.0), 0.25);
  EXPECT_DOUBLE_EQ(backoff_delay(policy, 3, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(backoff_delay(policy, 10, 1.0), 4.0);   // capped
  EXPECT_DOUBLE_EQ(backoff_delay(policy, 100, 0.0), 2.0);  // no overflow, jitter keeps half
  for (int i = 0; i < 1000; ++i) {
    double r = random_unit();
    ASSERT_GE(r, 0.0);
    ASSERT_LT(r, 1.0);
    double d = backoff_delay(policy, 2, r);
    ASSERT_GE(d, 0.25);
    ASSERT_LE(d, 0.5);
  }
}

TEST(Backoff, RetryableStatusesAndCodes) {
  for (int status : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(is_retryable_status(status)) << status;
  for (int status : {200, 400, 401, 403, 404, 409}) EXPECT_FALSE(is_retryable_status(status)) << status;
  EXPECT_TRUE(is_retryable_error_code("SlowDown"));
  EXPECT_TRUE(is_retryable_error_code("BadDigest"));
  EXPECT_TRUE(is_retryable_error_code("RequestTimeout"));
  EXPECT_FALSE(is_retryable_error_code("SignatureDoesNotMatch"));
  EXPECT_FALSE(is_retryable_error_code("NoSuchBucket"));
}

TEST(RunWithRetries, RetriesTransientFailuresThenGivesUpNamingTheObject) {
  UploadOptions options;
  options.max_attempts = 3;
  options.initial_backoff_seconds = 0.001;
  std::vector<RetryNotice> notices;
  options.on_retry = [&](const RetryNotice& n) { notices.push_back(n); };
  int calls = 0;
  EXPECT_EQ(run_with_retries(options, "s3://b/k", [&] { if (++calls < 3) throw TransientError("HTTP 503"); }), 3);
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_EQ(notices[0].attempt, 1);
  EXPECT_EQ(notices[0].reason, "HTTP 503");
  calls = 0;
  try {
    run_with_retries(options, "s3://b/k", [&] { ++calls; throw TransientError("connection refused"); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(calls, 3);
    EXPECT_NE(std::string(e.what()).find("s3://b/k"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("connection refused"), std::string::npos);
  }
  calls = 0;  // a permanent error is not retried
  EXPECT_THROW(run_with_retries(options, "s3://b/k", [&] { ++calls; throw Error("403"); }), Error);
  EXPECT_EQ(calls, 1);
}

TEST(Checksum, KnownValues) {
  EXPECT_EQ(hex_encode(md5_of("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(sha256_hex(""), empty_sha256);
  EXPECT_EQ(crc32c_update(0, "123456789", 9), 0xE3069283u);  // the CRC-32C check value
  std::string long_text(1000, 'x');
  std::uint32_t split = crc32c_update(crc32c_update(0, long_text.data(), 333), long_text.data() + 333, 667);
  EXPECT_EQ(split, crc32c_update(0, long_text.data(), long_text.size()));
}

TEST(Checksum, FileDigestMatchesWhatGcsReports) {
  auto path = std::filesystem::temp_directory_path() / "mtastream-digest-test.txt";
  std::ofstream(path) << "hello\n";
  FileDigest digest = digest_file(path.string());
  EXPECT_EQ(digest.size, 6u);
  EXPECT_EQ(digest.md5_base64(), "sZRqySSS0jR8YjW00mERhA==");  // fake-gcs-server's md5Hash for "hello\n"
  EXPECT_EQ(digest.crc32c_base64(), "NT3Yvg==");              // and its crc32c
  std::filesystem::remove(path);
  EXPECT_THROW(digest_file("/nonexistent/file"), Error);
}

std::map<std::string, std::string> fake_env;
std::optional<std::string> fake_lookup(const std::string& name) {
  auto it = fake_env.find(name);
  if (it == fake_env.end()) return std::nullopt;
  return it->second;
}

TEST(AwsCredentials, EnvironmentThenSharedFileProfiles) {
  auto dir = std::filesystem::temp_directory_path() / "mtastream-aws-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "credentials") << "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n\n"
                                        "[dev]\naws_access_key_id=AKDEV\naws_secret_access_key=s2\naws_session_token=t\n";
  std::ofstream(dir / "config") << "[default]\nregion = eu-west-1\n[profile dev]\nregion=ap-south-1\n";
  fake_env = {{"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()},
              {"AWS_CONFIG_FILE", (dir / "config").string()}};
  auto c = find_aws_credentials("", fake_lookup);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKDEFAULT");
  EXPECT_EQ(find_aws_region("", fake_lookup), "eu-west-1");
  fake_env["AWS_PROFILE"] = "dev";
  c = find_aws_credentials("", fake_lookup);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKDEV");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(find_aws_region("", fake_lookup), "ap-south-1");
  EXPECT_FALSE(find_aws_credentials("missing", fake_lookup));
  fake_env["AWS_ACCESS_KEY_ID"] = "AKENV";
  fake_env["AWS_SECRET_ACCESS_KEY"] = "s3";
  fake_env["AWS_REGION"] = "us-west-2";
  c = find_aws_credentials("", fake_lookup);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKENV");
  EXPECT_EQ(find_aws_region("", fake_lookup), "us-west-2");
  std::filesystem::remove_all(dir);
}

TEST(FileUploader, CopiesVerifiesSkipsAndNeverLeavesTemporaries) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / "mtastream-file-uploader-test";
  fs::remove_all(root);
  fs::create_directories(root / "src");
  std::ofstream(root / "src" / "a.csv.gz") << "payload-a";
  auto uploader = Uploader::create("file://" + (root / "lake").string());
  UploadResult first = uploader->upload((root / "src" / "a.csv.gz").string(), "2023/a.csv.gz");
  EXPECT_EQ(first.outcome, UploadOutcome::uploaded);
  EXPECT_EQ(first.bytes, 9u);
  std::ifstream in(root / "lake" / "2023" / "a.csv.gz");
  std::string copied((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(copied, "payload-a");
  EXPECT_EQ(uploader->upload((root / "src" / "a.csv.gz").string(), "2023/a.csv.gz").outcome, UploadOutcome::skipped);
  std::ofstream(root / "src" / "a.csv.gz") << "payload-a2";  // changed: uploaded again
  EXPECT_EQ(uploader->upload((root / "src" / "a.csv.gz").string(), "2023/a.csv.gz").outcome, UploadOutcome::uploaded);
  int entries = 0;
  for (auto& entry : fs::directory_iterator(root / "lake" / "2023")) ++entries, (void)entry;
  EXPECT_EQ(entries, 1);  // no temporary left behind
  EXPECT_THROW(uploader->upload((root / "src" / "missing.csv.gz").string(), "m.csv.gz"), Error);
  fs::remove_all(root);
}

TEST(UploadBatch, CollectsFilesAndDirectoriesWithRelativeNames) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / "mtastream-collect-test";
  fs::remove_all(root);
  fs::create_directories(root / "lake" / "p0");
  std::ofstream(root / "lake" / "p0" / "b.csv.gz") << "b";
  std::ofstream(root / "lake" / "a.csv.gz") << "a";
  std::ofstream(root / "lake" / ".a.csv.gz.tmp-1") << "partial";
  std::ofstream(root / "one.csv.gz") << "1";
  auto items = collect_upload_items({(root / "one.csv.gz").string(), (root / "lake").string()});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].object_name, "one.csv.gz");
  EXPECT_EQ(items[1].object_name, "a.csv.gz");
  EXPECT_EQ(items[2].object_name, "p0/b.csv.gz");
  EXPECT_THROW(collect_upload_items({(root / "nope").string()}), UsageError);
  fs::remove_all(root);
}

}  // namespace
}  // namespace mtastream
