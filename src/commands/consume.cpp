// `mtastream consume`: window a topic's events and write closed windows to the lake (or print raw messages).
#include "commands/command.h"

namespace mtastream {

void add_consume_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("consume", "window a topic's events and write closed windows to the lake (or print raw messages)");
  command->allow_extras();
  set_examples(command, "  mtastream consume -b localhost:9092 -t mta-turnstile -G lake-writer --lake-dir storage -e\n  mtastream consume -t mta-turnstile --raw -o beginning -c 10\n");
  registry.on_run(command, [](const GlobalContext&) -> ExitCode {
    throw Error("'consume' is not implemented yet", ExitCode::not_implemented);
  });
}

}  // namespace mtastream
