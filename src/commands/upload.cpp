// `mtastream upload`: upload lake files to file://, s3:// or gs://, verified and retried.
#include "commands/command.h"

namespace mtastream {

void add_upload_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("upload", "upload lake files to file://, s3:// or gs://, verified and retried");
  command->allow_extras();
  set_examples(command, "  mtastream upload --to s3://my-bucket/turnstile storage/*.csv.gz\n  mtastream upload --to gs://my-bucket/turnstile --move-to done/ storage/*.csv.gz\n");
  registry.on_run(command, [](const GlobalContext&) -> ExitCode {
    throw Error("'upload' is not implemented yet", ExitCode::not_implemented);
  });
}

}  // namespace mtastream
