// libFuzzer target: upload URL parsing (`--to s3://bucket/prefix`, `--upload gs://...`, `file://DIR`).
// Oracle: only UsageError escapes; an accepted URL never yields an object key that leaves its prefix
// (no "..", no leading '/', no empty segment) for a plain object name.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "upload/store_uploaders.h"
#include "upload/uploader.h"
#include "fuzz_target.h"

using namespace mtastream;
using namespace mtastream::upload;

static bool escapes(const std::string& key) {
  if (!key.empty() && key.front() == '/') return true;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view segment(key.data() + start, end - start);
    if (segment == ".." || segment == ".") return true;
    start = end + 1;
  }
  return false;
}

FUZZ_TARGET(upload_url) {
  std::string url(reinterpret_cast<const char*>(data), size);
  try {
    HttpEndpoint endpoint = parse_endpoint(url, "--endpoint");
    FUZZ_CHECK(!endpoint.authority.empty());
  } catch (const UsageError&) {
  }
  UploadDestination destination;
  try {
    destination = parse_upload_url(url);
  } catch (const UsageError&) {
    return 0;
  }
  std::string key = destination.key_for("turnstile_2023-06-03_0005.csv.gz");
  (void)destination.url_for("turnstile_2023-06-03_0005.csv.gz");
  FUZZ_CHECK(destination.scheme == UploadDestination::Scheme::file || !escapes(key));
  return 0;
}
