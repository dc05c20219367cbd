// `mtastream aggregate`: window events from files or stdin offline into lake files or stdout.
#include "commands/command.h"

namespace mtastream {

void add_aggregate_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("aggregate", "window events from files or stdin offline into lake files or stdout");
  command->allow_extras();
  set_examples(command, "  mtastream aggregate --window 5m events.csv.gz -o -\n  cat events.csv | mtastream aggregate --lake-dir storage\n");
  registry.on_run(command, [](const GlobalContext&) -> ExitCode {
    throw Error("'aggregate' is not implemented yet", ExitCode::not_implemented);
  });
}

}  // namespace mtastream
