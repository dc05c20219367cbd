// `mtastream topic create|list|describe|delete`: manage topics.
#include "commands/command.h"

namespace mtastream {

void add_topic_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* topic = app.add_subcommand("topic", "create, list, describe and delete topics");
  topic->require_subcommand(1);
  set_examples(topic, "  mtastream topic create mta-turnstile -p 4 -r 1 --if-not-exists\n  mtastream topic list\n");
  for (const char* name : {"create", "list", "describe", "delete"}) {
    CLI::App* sub = topic->add_subcommand(name, std::string(name) + " topics");
    sub->allow_extras();
    set_examples(sub, std::string("  mtastream topic ") + name + " mta-turnstile\n");
    registry.on_run(sub, [name](const GlobalContext&) -> ExitCode {
      throw Error(std::string("'topic ") + name + "' is not implemented yet", ExitCode::not_implemented);
    });
  }
}

}  // namespace mtastream
