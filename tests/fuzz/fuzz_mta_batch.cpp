// libFuzzer target: MTA weekly batch text (rows of either layout, headers, CRLF) through the loader and the
// replay rule (MtaDeltaStream), as `replay` runs them. Oracle: events come out in time order, counts add
// up, and every event replay would publish is a message that MessageParser (consume, aggregate) accepts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event/message.h"
#include "event/message_parser.h"
#include "replay/mta_batch.h"
#include "fuzz_target.h"

using namespace mtastream;
using namespace mtastream::event;
using namespace mtastream::replay;

FUZZ_TARGET(mta_batch) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  MtaRow row;
  (void)parse_mta_row(text, row);  // a single row, no line splitting
  (void)is_mta_header(text);

  MtaReadings readings;
  uint64_t rejected = 0;
  load_mta_text(text, "fuzz", readings, [&](const MtaRejectedRow& r) {
    FUZZ_CHECK(!r.reason.empty());  // a rejection always says why
    ++rejected;
  });
  uint64_t anomalies = 0;
  MtaDeltaStream stream(readings, 10000, [&](const MtaAnomaly&) { ++anomalies; });
  static MessageParser parser;
  std::string published;
  TurnstileEvent event, parsed;
  int64_t last_time = INT64_MIN;
  uint64_t events = 0;
  while (stream.next(event)) {
    FUZZ_CHECK(event.timestamp >= last_time);  // events come out in time order
    published.clear();
    append_event(event, WireForm::csv, published);
    FUZZ_CHECK(parser.parse(published, parsed));  // what replay publishes, consume accepts
    last_time = event.timestamp;
    ++events;
  }
  FUZZ_CHECK(stream.counts().events == events && stream.counts().anomalies() == anomalies);
  return 0;
}
