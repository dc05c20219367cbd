// SIGINT/SIGTERM as a flag that long-running commands poll: stop reading, finish what is in flight, report.
#pragma once

namespace mtastream {

// Installs handlers for SIGINT and SIGTERM (idempotent). The first signal asks for a clean stop;
// further signals ask to stop waiting too (e.g. give up flushing to a dead broker).
void install_stop_signal_handlers();
bool stop_requested();
// Number of SIGINT/SIGTERM received since install.
int stop_signal_count();
// The last signal received (for the conventional 128+N exit code, exit_code.h), 0 if none.
int last_stop_signal();

}  // namespace mtastream
