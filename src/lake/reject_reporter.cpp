#include "lake/reject_reporter.h"

#include "lake/dead_letter.h"
#include "base/log.h"

namespace mtastream::lake {

void RejectReporter::operator()(std::string_view source, std::string_view reason, std::string_view message) {
  ++count_;
  if (count_ <= max_warnings)
    log::warn("{}: {}", source, reason);
  else if (count_ == max_warnings + 1)
    log::warn("further rejected input is only counted in the summary{}",
              dead_letter_.enabled() ? " (all of it is in '" + dead_letter_.path() + "')"
                                     : " (keep it with --dead-letter FILE)");
  dead_letter_.add(source, reason, message);
}

}  // namespace mtastream::lake
