// SIGINT/SIGTERM as a flag that long-running commands poll: stop reading, finish what is in flight, report.
#pragma once
#include "error.h"

namespace mtastream {

// Installs handlers for SIGINT and SIGTERM (idempotent). The first signal asks for a clean stop;
// further signals ask to stop waiting too (e.g. give up flushing to a dead broker).
void install_stop_signal_handlers();
bool stop_requested();
// Number of SIGINT/SIGTERM received since install.
int stop_signal_count();
// The last signal received (for the conventional 128+N exit code), 0 if none.
int last_stop_signal();

// One rule for every command (README: Exit codes): a run that a signal cut short of its end (input not all
// read, count not reached) exits 128+N, 130 for SIGINT and 143 for SIGTERM, as a shell reports a job a
// signal ended, after its clean stop and summary. A run that has no end but a signal (`broker`, `consume`
// without -e, a generator without -c: `runs_until_stopped`) ends normally on one and keeps `code`; so do a
// failed run (1) and a run without a signal.
ExitCode exit_code_after_stop(ExitCode code, bool runs_until_stopped = false);

}  // namespace mtastream
