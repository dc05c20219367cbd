// `mtastream broker`: run an embedded development broker on loopback (librdkafka mock cluster).
#include "commands/command.h"

namespace mtastream {

void add_broker_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("broker", "run an embedded development broker on loopback (librdkafka mock cluster)");
  command->allow_extras();
  set_examples(command, "  mtastream broker --topic mta-turnstile:4\n");
  registry.on_run(command, [](const GlobalContext&) -> ExitCode {
    throw Error("'broker' is not implemented yet", ExitCode::not_implemented);
  });
}

}  // namespace mtastream
