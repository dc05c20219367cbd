#include "base/exit_code.h"

#include "base/stop_signal.h"

namespace mtastream {

ExitCode exit_code(const RunOutcome& run) {
  if (run.sent > 0 && run.delivered == 0) return ExitCode::runtime_error;
  const bool partial = run.rejected > 0 || run.delivered < run.sent || !run.input_complete || run.behind;
  if (stop_requested() && !run.runs_until_stopped) return static_cast<ExitCode>(128 + last_stop_signal());
  return partial ? ExitCode::partial : ExitCode::ok;
}

}  // namespace mtastream
