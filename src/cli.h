// The command line: global options, the command table, config layering and the one error funnel.
#pragma once

namespace mtastream {
// Parses, runs the chosen command, prints any error once, returns the process exit code.
int run_cli(int argc, char** argv);
}
