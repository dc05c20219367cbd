// MTA weekly turnstile files (cumulative registers): row parsing, and the replay rule that turns each
// turnstile's readings into delta events merged into one stream ordered by event time.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "event/message.h"

namespace mtastream::replay {

// One data row of a weekly file in either layout: the raw MTA layout (11 fields, zero-padded counters,
// trailing blanks) or a pandas re-save (an integer index column in front: 12 fields).
struct MtaRow : event::TurnstileFields {
  std::string_view desc;
  std::string_view entries_text, exits_text;  // the counters as written, for the zero-padding check
  int64_t time = 0;                           // DATE MM/DD/YYYY + TIME HH:MM:SS, naive, as seconds read as UTC
  uint64_t entries = 0, exits = 0;
  bool has_index = false;  // pandas layout
};

// A header line of either layout (`C/A,UNIT,...,EXITS` or `,C/A,...`), trailing blanks allowed.
bool is_mta_header(std::string_view line);
// Parses a data row given without its line end. Returns "" when valid, else the reason it is not.
std::string parse_mta_row(std::string_view line, MtaRow& row);

struct MtaTurnstile {
  std::string ca, unit, scp, station;
};
// The per-reading text that is not part of the turnstile's identity, interned.
struct MtaRowDetails {
  std::string linename, division, desc;
};
struct MtaReading {
  int64_t time;
  uint64_t entries, exits;
  uint32_t turnstile;  // index into MtaReadings::turnstiles()
  uint32_t details;    // index into MtaReadings::details()
  uint32_t source;     // index into MtaReadings::sources()
  uint32_t line;       // 1-based line number in that source
};

// Every reading of every input, grouped later per turnstile (CA, UNIT, SCP, STATION).
class MtaReadings {
 public:
  uint32_t add_source(std::string name);
  void add(const MtaRow& row, uint32_t source, uint64_t line);

  const std::vector<MtaTurnstile>& turnstiles() const { return turnstiles_; }
  const std::vector<MtaRowDetails>& details() const { return details_; }
  const std::vector<std::string>& sources() const { return sources_; }
  std::vector<MtaReading>& readings() { return readings_; }
  const std::vector<MtaReading>& readings() const { return readings_; }

 private:
  std::vector<MtaTurnstile> turnstiles_;
  std::vector<MtaRowDetails> details_;
  std::vector<std::string> sources_;
  std::vector<MtaReading> readings_;
  std::unordered_map<std::string, uint32_t> turnstile_ids_, details_ids_;
  std::string key_;
};

struct MtaRejectedRow {
  std::string_view source;
  uint64_t line;
  std::string reason;
  std::string_view text;
};
using MtaRejectHandler = std::function<void(const MtaRejectedRow&)>;

// Feeds the lines of one input into MtaReadings: skips header and blank lines wherever they are (so
// concatenated files work), rejects malformed rows with the reason. In the raw layout counters are
// zero-padded to a fixed width; a counter of another width (a line cut short) is rejected.
class MtaFileLoader {
 public:
  MtaFileLoader(MtaReadings& readings, std::string source_name, MtaRejectHandler on_reject);
  // `unterminated`: the input's last line, which had no newline.
  void add_line(std::string_view line, uint64_t line_number, bool unterminated = false);
  uint64_t rows() const { return rows_; }
  uint64_t rejected() const { return rejected_; }

 private:
  void reject(uint64_t line_number, std::string reason, std::string_view text, bool unterminated);

  MtaReadings& readings_;
  uint32_t source_;
  MtaRejectHandler on_reject_;
  size_t counter_width_ = 0;  // learned from the first raw row with zero-padded counters
  uint64_t rows_ = 0, rejected_ = 0;
};

// All lines of an in-memory text (LF or CRLF) through an MtaFileLoader.
void load_mta_text(std::string_view text, const std::string& source_name, MtaReadings& readings,
                   const MtaRejectHandler& on_reject);

enum class MtaAnomalyKind { duplicate_reading, negative_delta, delta_above_max };
std::string_view anomaly_kind_name(MtaAnomalyKind kind);  // "duplicate_reading", ...

// A reading interval that yields no event.
struct MtaAnomaly {
  MtaAnomalyKind kind;
  const MtaTurnstile& turnstile;
  const MtaReading& previous;
  const MtaReading& current;
  int64_t entries_delta, exits_delta;
};

struct MtaDeltaCounts {
  uint64_t events = 0;
  uint64_t duplicate_readings = 0;
  uint64_t negative_deltas = 0;
  uint64_t deltas_above_max = 0;
  uint64_t anomalies() const { return duplicate_readings + negative_deltas + deltas_above_max; }
};

// The replay rule (PRODUCT.md): per turnstile, readings in time order (input order among equal times);
// a reading at the same time as the one kept before it is a duplicate and is skipped; otherwise
// delta = current - kept for ENTRIES and EXITS. If either delta is below 0 (negative_delta) or else above
// `max_delta` (delta_above_max) the interval is an anomaly: no event, and the next delta starts from this
// reading. Otherwise the event carries the deltas, the later reading's LINENAME, DIVISION, DESC, DATE
// (MM-DD-YY), TIME and TIMESTAMP, and ID = uuid5(replay_event_namespace, "CA,UNIT,SCP,STATION,TIMESTAMP").
// Events of all turnstiles come out ordered by (TIMESTAMP, CA, UNIT, SCP, STATION).
class MtaDeltaStream {
 public:
  using AnomalyHandler = std::function<void(const MtaAnomaly&)>;
  // Sorts `readings` in place; they must outlive the stream.
  MtaDeltaStream(MtaReadings& readings, uint64_t max_delta, AnomalyHandler on_anomaly = {});

  // The next event; its text views stay valid until the next call. False at the end.
  bool next(event::TurnstileEvent& event);
  const MtaDeltaCounts& counts() const { return counts_; }

 private:
  struct Cursor {
    int64_t time;        // of the pending event
    uint32_t rank;       // turnstile order, breaks ties between equal times
    uint32_t kept;       // the reading the pending delta starts from
    uint32_t pending;    // the reading that ends the pending delta
    uint32_t end;        // one past this turnstile's last reading
  };
  bool advance(Cursor& cursor, uint32_t from);

  MtaReadings& readings_;
  uint64_t max_delta_;
  AnomalyHandler on_anomaly_;
  std::vector<uint32_t> rank_;  // per turnstile index
  std::vector<Cursor> heap_;
  MtaDeltaCounts counts_;
  std::string date_, time_, id_, id_name_;
};

}  // namespace mtastream::replay
