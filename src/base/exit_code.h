// The exit-code rule of every command (README: Exit codes, `mtastream --help`): what a run reports
// goes in, the documented code comes out. Scripts depend on it, so it is decided here only.
#pragma once
#include <cstdint>

#include "base/error.h"

namespace mtastream {

struct RunOutcome {
  uint64_t rejected = 0;       // input refused (malformed, late, overflowing): partial
  uint64_t sent = 0;           // messages or files handed on (to a broker, a file, a bucket) ...
  uint64_t delivered = 0;      // ... and acknowledged: none of them is a failed run (1), some is partial
  bool input_complete = true;  // false: the input was not read to its end (partial)
  bool behind = false;         // `status --max-lag`: a partition's read lag is above the limit (partial)
  // No end but a signal (`broker`, `consume` without -e, a generator without -c): a signal ends it normally.
  bool runs_until_stopped = false;
};

// 1 when nothing sent was delivered; 3 for anything partial; else 0. Then, after SIGINT/SIGTERM, a run
// cut short of its end exits 128+N (130, 143) as a shell reports a job a signal ended, after its clean stop
// and summary; a run that has no end but a signal keeps its code, and so does a failed run.
ExitCode exit_code(const RunOutcome& run);

}  // namespace mtastream
