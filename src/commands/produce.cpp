// `mtastream produce`: publish turnstile events to a topic (generator, files or stdin).
#include "commands/command.h"

namespace mtastream {

void add_produce_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("produce", "publish turnstile events to a topic (generator, files or stdin)");
  command->allow_extras();
  set_examples(command, "  mtastream produce -b localhost:9092 -t mta-turnstile --generate city --rate 1000 --count 100000\n  mtastream produce -t mta-turnstile events.csv\n");
  registry.on_run(command, [](const GlobalContext&) -> ExitCode {
    throw Error("'produce' is not implemented yet", ExitCode::not_implemented);
  });
}

}  // namespace mtastream
