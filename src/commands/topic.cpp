// `mtastream topic create|list|describe|delete`: manage topics.
#include <fmt/format.h>

#include <chrono>

#include "config/cli_checks.h"
#include "commands/command.h"
#include "base/duration.h"
#include "base/json_writer.h"
#include "kafka/admin.h"
#include "base/log.h"
#include "base/text.h"

namespace mtastream::commands {
namespace {

struct TopicFlags {
  std::string topic;
  int partitions = -1;
  int replication_factor = -1;
  std::vector<std::string> topic_configs;
  bool if_not_exists = false;
  bool if_exists = false;
  bool include_internal = false;
  bool all_configs = false;
  bool json = false;
  std::string timeout = "30s";
};

std::chrono::milliseconds timeout_of(const TopicFlags& options) {
  return std::chrono::milliseconds(parse_duration_seconds(options.timeout, "--timeout", 1) * 1000);
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

void write_ids(JsonWriter& json, const std::vector<int32_t>& ids) {
  json.begin_array();
  for (int32_t id : ids) json.value(static_cast<int64_t>(id));
  json.end_array();
}

ExitCode run_create(const GlobalContext& context, const TopicFlags& options) {
  kafka::TopicSpec spec;
  spec.name = options.topic;
  spec.partitions = options.partitions;
  spec.replication_factor = options.replication_factor;
  for (const std::string& assignment : options.topic_configs) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(fmt::format("--topic-config '{}': expected key=value", printable(assignment)));
    spec.configs.emplace_back(assignment.substr(0, eq), assignment.substr(eq + 1));
  }
  kafka::KafkaAdmin admin(context.settings, timeout_of(options));
  kafka::CreateOutcome outcome = admin.create_topic(spec, options.if_not_exists);
  kafka::TopicInfo info = admin.topic(spec.name);
  bool created = outcome == kafka::CreateOutcome::created;
  if (created)
    log::info("created topic '{}' with {} partition{}", spec.name, info.partitions.size(),
              info.partitions.size() == 1 ? "" : "s");
  else
    log::info("topic '{}' already exists ({} partitions); left as it is", spec.name, info.partitions.size());
  if (options.json) {
    JsonWriter json;
    json.begin_object()
        .field("topic", spec.name)
        .field("created", created)
        .field("partitions", static_cast<int64_t>(info.partitions.size()))
        .end_object();
    write_stdout(json.str() + "\n");
  }
  return ExitCode::ok;
}

ExitCode run_list(const GlobalContext& context, const TopicFlags& options) {
  kafka::KafkaAdmin admin(context.settings, timeout_of(options));
  kafka::ClusterMetadata metadata = admin.metadata();
  JsonWriter json;
  if (options.json) json.begin_object().key("topics").begin_array();
  std::string out;
  for (const kafka::TopicInfo& topic : metadata.topics) {
    if (!options.include_internal && starts_with(topic.name, "__")) continue;
    if (options.json) {
      json.begin_object()
          .field("topic", topic.name)
          .field("partitions", static_cast<int64_t>(topic.partitions.size()))
          .end_object();
    } else {
      out += topic.name;
      out += '\n';
    }
  }
  if (options.json) {
    json.end_array().end_object();
    out = json.str() + "\n";
  }
  write_stdout(out);
  return ExitCode::ok;
}

ExitCode run_describe(const GlobalContext& context, const TopicFlags& options) {
  kafka::KafkaAdmin admin(context.settings, timeout_of(options));
  kafka::TopicInfo info = admin.topic(options.topic);
  if (info.error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    throw Error(fmt::format("no topic '{}' (see 'mtastream topic list')", options.topic));
  if (info.error != RD_KAFKA_RESP_ERR_NO_ERROR)
    kafka::throw_error(info.error, fmt::format("cannot describe topic '{}'", options.topic));
  std::vector<kafka::ConfigEntry> configs;
  bool have_configs = true;
  try {
    configs = admin.topic_configs(options.topic);
  } catch (const Error& e) {
    have_configs = false;
    log::warn("no topic configs: {}", e.what());
  }
  size_t replication = info.partitions.empty() ? 0 : info.partitions.front().replicas.size();
  if (options.json) {
    JsonWriter json;
    json.begin_object()
        .field("topic", info.name)
        .field("partitions", static_cast<int64_t>(info.partitions.size()))
        .field("replication_factor", static_cast<int64_t>(replication))
        .key("partition_details")
        .begin_array();
    for (const kafka::PartitionInfo& p : info.partitions) {
      json.begin_object().field("partition", static_cast<int64_t>(p.id)).field("leader", static_cast<int64_t>(p.leader));
      json.key("replicas");
      write_ids(json, p.replicas);
      json.key("isr");
      write_ids(json, p.in_sync_replicas);
      if (p.error != RD_KAFKA_RESP_ERR_NO_ERROR) json.field("error", rd_kafka_err2str(p.error));
      json.end_object();
    }
    json.end_array().key("configs");
    if (!have_configs) {
      json.null();
    } else {
      json.begin_object();
      for (const kafka::ConfigEntry& c : configs)
        if (options.all_configs || !c.is_default) json.field(c.name, c.value);
      json.end_object();
    }
    json.end_object();
    write_stdout(json.str() + "\n");
    return ExitCode::ok;
  }
  std::string out = fmt::format("topic {}  partitions {}  replication-factor {}\n", info.name,
                                info.partitions.size(), replication);
  for (const kafka::PartitionInfo& p : info.partitions) {
    out += fmt::format("  partition {}  leader {}  replicas {}  isr {}", p.id, p.leader, join_ids(p.replicas),
                       join_ids(p.in_sync_replicas));
    if (p.error != RD_KAFKA_RESP_ERR_NO_ERROR) out += fmt::format("  error: {}", rd_kafka_err2str(p.error));
    out += '\n';
  }
  if (have_configs) {
    out += options.all_configs ? "configs:\n" : "configs (set on the topic; --all-configs for every one):\n";
    for (const kafka::ConfigEntry& c : configs)
      if (options.all_configs || !c.is_default) out += fmt::format("  {}={}  ({})\n", c.name, c.value, c.source);
  }
  write_stdout(out);
  return ExitCode::ok;
}

ExitCode run_delete(const GlobalContext& context, const TopicFlags& options) {
  kafka::KafkaAdmin admin(context.settings, timeout_of(options));
  if (options.if_exists && admin.topic(options.topic).error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    log::info("no topic '{}'; nothing to delete", options.topic);
    return ExitCode::ok;
  }
  admin.delete_topic(options.topic);
  log::info("deleted topic '{}'", options.topic);
  return ExitCode::ok;
}

void add_timeout_option(CLI::App* command, TopicFlags& options) {
  command->add_option("--timeout", options.timeout, "how long to wait for the broker (30s, 2m; a bare number is seconds)")
      ->type_name("DURATION")
      ->default_val("30s");
}

}  // namespace

void add_topic_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* topic = app.add_subcommand("topic", "create, list, describe and delete topics");
  topic->require_subcommand(1);
  set_examples(topic, "  mtastream topic create mta-turnstile -p 4 -r 1 --if-not-exists\n  mtastream topic list\n");
  auto options = std::make_shared<TopicFlags>();

  CLI::App* create = topic->add_subcommand("create", "create a topic and wait until every partition has a leader");
  create->add_option("topic", options->topic, "topic name")->required();
  create->add_option("-p,--partitions", options->partitions, "partitions (default: the broker's default)")
      ->type_name("N")
      ->check(config::whole_number(1, 1000000));
  create->add_option("-r,--replication-factor", options->replication_factor,
                     "replicas per partition (default: the broker's default)")
      ->type_name("N")
      ->check(config::whole_number(1, 32767));
  create->add_option("--topic-config", options->topic_configs, "topic configuration (repeatable)")
      ->type_name("KEY=VALUE");
  create->add_flag("--if-not-exists", options->if_not_exists, "an existing topic is fine (left unchanged)");
  create->add_flag("--json", options->json, "print {\"topic\":..,\"created\":..,\"partitions\":..} on stdout");
  add_timeout_option(create, *options);
  set_examples(create,
               "  mtastream topic create mta-turnstile -p 4 -r 1 --if-not-exists\n"
               "  mtastream topic create mta-turnstile -p 4 --topic-config retention.ms=86400000\n");
  registry.on_run(create, [options](const GlobalContext& c) { return run_create(c, *options); });

  CLI::App* list = topic->add_subcommand("list", "list topic names, one per line");
  list->add_flag("--internal", options->include_internal, "include internal topics (__consumer_offsets, ...)");
  list->add_flag("--json", options->json, "print {\"topics\":[{\"topic\":..,\"partitions\":..}]} on stdout");
  add_timeout_option(list, *options);
  set_examples(list, "  mtastream topic list\n  mtastream -b broker:9092 topic list --json\n");
  registry.on_run(list, [options](const GlobalContext& c) { return run_list(c, *options); });

  CLI::App* describe = topic->add_subcommand("describe", "partitions, leaders, replicas and configs of a topic");
  describe->add_option("topic", options->topic, "topic name")->required();
  describe->add_flag("--all-configs", options->all_configs, "show default configs too");
  describe->add_flag("--json", options->json, "print the description as one JSON object on stdout");
  add_timeout_option(describe, *options);
  set_examples(describe, "  mtastream topic describe mta-turnstile\n");
  registry.on_run(describe, [options](const GlobalContext& c) { return run_describe(c, *options); });

  CLI::App* remove = topic->add_subcommand("delete", "delete a topic and wait until it is gone");
  remove->add_option("topic", options->topic, "topic name")->required();
  remove->add_flag("--if-exists", options->if_exists, "a missing topic is fine");
  add_timeout_option(remove, *options);
  set_examples(remove, "  mtastream topic delete mta-turnstile\n");
  registry.on_run(remove, [options](const GlobalContext& c) { return run_delete(c, *options); });
}

}  // namespace mtastream::commands
