#include <gtest/gtest.h>

#include "base/exit_code.h"

using namespace mtastream;

// Without a signal (one would stay set for the whole test binary): the codes of README's table.
TEST(ExitCode, TheDocumentedRule) {
  EXPECT_EQ(exit_code({}), ExitCode::ok);
  EXPECT_EQ(exit_code({.rejected = 1}), ExitCode::partial);
  EXPECT_EQ(exit_code({.sent = 5, .delivered = 5}), ExitCode::ok);
  EXPECT_EQ(exit_code({.sent = 5, .delivered = 4}), ExitCode::partial);
  EXPECT_EQ(exit_code({.sent = 5, .delivered = 0}), ExitCode::runtime_error);
  EXPECT_EQ(exit_code({.rejected = 3, .sent = 5, .delivered = 0}), ExitCode::runtime_error);
  EXPECT_EQ(exit_code({.input_complete = false}), ExitCode::partial);
  EXPECT_EQ(exit_code({.behind = true}), ExitCode::partial);
  EXPECT_EQ(exit_code({.runs_until_stopped = true}), ExitCode::ok);
}
