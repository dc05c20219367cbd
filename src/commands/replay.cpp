// `mtastream replay`: turn MTA weekly batch files (cumulative registers) into a stream of delta events.
#include "commands/command.h"

namespace mtastream {

void add_replay_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("replay", "turn MTA weekly batch files (cumulative registers) into a stream of delta events");
  command->allow_extras();
  set_examples(command, "  mtastream replay -o - turnstile_230603.csv.gz\n  mtastream replay -t mta-turnstile --speed 3600 turnstile_170617.txt\n");
  registry.on_run(command, [](const GlobalContext&) -> ExitCode {
    throw Error("'replay' is not implemented yet", ExitCode::not_implemented);
  });
}

}  // namespace mtastream
