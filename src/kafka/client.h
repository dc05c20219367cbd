// Shared by every Kafka client (producer, admin, consumer): librdkafka configuration from the merged
// settings, librdkafka's log routed to log.h with secrets scrubbed, librdkafka errors as mtastream::Error.
#pragma once
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/c_handle.h"
#include "config/config.h"
#include "base/error.h"

namespace mtastream::kafka {

using ConfPtr = CHandle<rd_kafka_conf_t, rd_kafka_conf_destroy>;
using HandlePtr = CHandle<rd_kafka_t, rd_kafka_destroy>;

using Properties = std::map<std::string, std::string>;

// What a command asks of the configuration, on top of the user's settings:
//  - `defaults`: used only where the user set nothing (e.g. compression.type chosen by a flag default);
//  - `required`: always applied; a user value that differs is overridden with a warning
//    (e.g. enable.idempotence=true for `produce`, whose guarantees depend on it).
struct ConfRequest {
  Properties defaults;
  Properties required;
};

// Builds a configuration: defaults < settings.kafka() (file, env, -X, -b) < required. Installs the log
// callback (librdkafka's log goes to log.h, secrets scrubbed) and a default error callback that logs.
// A bad key or value is a UsageError naming its origin; secret values are never part of a message.
ConfPtr build_conf(const config::Settings& settings, const ConfRequest& request = {});

// Sets one property on `conf`, throwing UsageError naming `origin` on failure.
void set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
                  const std::string& origin);

// Creates a client handle from `conf` (ownership taken, also on failure).
HandlePtr create_handle(rd_kafka_type_t type, ConfPtr conf);

// librdkafka's bootstrap.servers or an error that tells how to give it (-b, config, env).
std::string bootstrap_servers(const config::Settings& settings);

// Human text for a librdkafka error with a hint of what to do where one helps.
std::string describe_error(rd_kafka_resp_err_t err);

// Throws Error("<what>: <description>"); exit code runtime_error.
[[noreturn]] void throw_error(rd_kafka_resp_err_t err, std::string_view what);

// Replaces every secret value known from the settings (sasl.password, ...) in `text` by [redacted].
std::string scrub_secrets(std::string text);
// The error callback every client gets: logs librdkafka's client-level errors (scrubbed of secrets).
void report_client_error(rd_kafka_t* handle, int err, const char* reason, void* opaque);

// True for errors that mean the broker side is not there (all brokers down, connection refused,
// timed out): worth retrying or reporting as "unreachable".
bool is_unreachable_error(rd_kafka_resp_err_t err);

}  // namespace mtastream::kafka
