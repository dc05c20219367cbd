// libFuzzer target: the `.properties` and TOML config readers. The first byte picks the reader.
// Oracle: only mtastream::Error may escape (it becomes exit code 2 with file:line), and a secret value
// is never part of an error message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "base/error.h"
#include "fuzz_target.h"

using namespace mtastream;
using namespace mtastream::config;

FUZZ_TARGET(config) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Settings settings;
  try {
    if (data[0] & 1)
      load_toml_text(text, "fuzz.toml", settings);
    else
      load_properties_text(text, "fuzz.properties", settings);
  } catch (const Error& e) {
    FUZZ_CHECK(!std::string_view(e.what()).empty());
    return 0;
  }
  for (const auto& [key, setting] : settings.kafka()) {
    FUZZ_CHECK(!setting.values.empty() && !setting.origin.empty());
    if (is_secret_key(key) && !setting.value().empty())
      FUZZ_CHECK(redact(key, setting.value()) != setting.value());  // a secret never prints as itself
  }
  return 0;
}
