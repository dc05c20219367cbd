// libFuzzer target: MessageParser on any bytes (CSV, JSON string, JSON object, detected per message).
// Oracle besides the sanitizers: an accepted message written back in each wire form parses to the same event.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event/message.h"
#include "event/message_parser.h"
#include "fuzz_target.h"

using namespace mtastream;
using namespace mtastream::event;

static void expect_same(const TurnstileEvent& a, const TurnstileEvent& b) {
  bool same = a.ca == b.ca && a.unit == b.unit && a.scp == b.scp && a.station == b.station &&
              a.linename == b.linename && a.division == b.division && a.date == b.date && a.time == b.time &&
              a.desc == b.desc && a.entries == b.entries && a.exits == b.exits && a.id == b.id &&
              a.timestamp == b.timestamp;
  FUZZ_CHECK(same);
}

FUZZ_TARGET(message_parser) {
  static MessageParser parser;
  static MessageParser reparser;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  TurnstileEvent event;
  if (!parser.parse(bytes, event)) {
    FUZZ_CHECK(!parser.error().empty());  // a rejection always says why
    return 0;
  }
  for (WireForm form : {WireForm::csv, WireForm::json_string, WireForm::json_object}) {
    std::string written;
    append_event(event, form, written);
    TurnstileEvent again;
    FUZZ_CHECK(reparser.parse(written, again));  // what we accept we must be able to write back
    expect_same(event, again);
  }
  return 0;
}
