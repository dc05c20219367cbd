// Ctrl-C and SIGTERM as a flag: long-running commands stop reading, flush what is in flight, report.
#pragma once

namespace mtastream {

// Installs SIGINT/SIGTERM handlers that only set the flag (a second signal still kills the process).
void install_stop_handlers();
bool stop_requested();
void request_stop();  // as if a signal arrived (tests, fatal paths)

}  // namespace mtastream
