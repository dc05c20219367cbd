#include "kafka/client.h"

#include <fmt/format.h>

#include <mutex>
#include <vector>

#include "base/log.h"

namespace mtastream::kafka {
namespace {

// Secret values seen while building configurations; librdkafka log lines are scrubbed of them.
// librdkafka logs from its own threads, hence the mutex.
std::mutex secrets_mutex;
std::vector<std::string> known_secrets;

void remember_secret(const std::string& value) {
  if (value.size() < 3) return;  // scrubbing one or two characters would mangle every line
  std::lock_guard lock(secrets_mutex);
  for (const std::string& s : known_secrets)
    if (s == value) return;
  known_secrets.push_back(value);
}

void log_callback(const rd_kafka_t* handle, int level, const char* facility, const char* message) {
  // syslog levels: librdkafka reports transient connection trouble at 3 (ERR) and recovers by itself;
  // what matters reaches the command through delivery reports and error callbacks, so 3 is a warning.
  log::Level to;
  // Waiting for the idempotence PID while the broker's coordinator loads is routine; librdkafka retries.
  // A broker failure ("FAIL") also reaches the error callback, which reports it: said once, not twice.
  if ((level == 4 && std::string_view(facility) == "GETPID") || std::string_view(facility) == "FAIL")
    to = log::Level::debug;
  else if (level <= 2)
    to = log::Level::error;
  else if (level <= 4)
    to = log::Level::warn;
  else if (level <= 6)
    to = log::Level::debug;
  else
    to = log::Level::trace;
  if (!log::enabled(to)) return;
  log::write(to, scrub_secrets(fmt::format("kafka {} {}: {}", handle ? rd_kafka_name(handle) : "-", facility,
                                           message)));
}

}  // namespace

void report_client_error(rd_kafka_t*, int err, const char* reason, void*) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  // Transient broker trouble is retried by librdkafka; the broker's own failure is said once (the log
  // callback leaves "FAIL" lines to this), the summary "all brokers down" at debug, louder when fatal.
  if (code == RD_KAFKA_RESP_ERR__FATAL)
    log::error("kafka fatal error: {}", scrub_secrets(reason));
  else if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    log::debug("kafka: {}", scrub_secrets(reason));
  else
    log::warn("kafka: {}", scrub_secrets(reason));
}

std::string scrub_secrets(std::string text) {
  std::lock_guard lock(secrets_mutex);
  for (const std::string& secret : known_secrets) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), "[redacted]");
  }
  return text;
}

void set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
                  const std::string& origin) {
  char reason[512];
  if (config::is_secret_key(key)) remember_secret(value);
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), reason, sizeof reason) != RD_KAFKA_CONF_OK)
    throw UsageError(fmt::format("{}: bad Kafka property '{}' = '{}': {}", origin, key, config::redact(key, value),
                                 scrub_secrets(reason)));
}

ConfPtr build_conf(const config::Settings& settings, const ConfRequest& request) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_callback);
  rd_kafka_conf_set_error_cb(conf.get(), report_client_error);
  // Secrets first, so that no message about another key can ever carry one.
  for (const auto& [key, setting] : settings.kafka())
    if (config::is_secret_key(key)) remember_secret(setting.value());
  for (const auto& [key, value] : request.defaults)
    if (!settings.find_kafka(key)) set_property(conf.get(), key, value, "default");
  for (const auto& [key, setting] : settings.kafka()) {
    auto required = request.required.find(key);
    if (required != request.required.end() && required->second != setting.value()) {
      log::warn("{}: '{}' = '{}' ignored: this command needs '{}'", setting.origin, key,
                config::redact(key, setting.value()), required->second);
      continue;
    }
    set_property(conf.get(), key, setting.value(), setting.origin);
  }
  for (const auto& [key, value] : request.required) set_property(conf.get(), key, value, "required");
  return conf;
}

HandlePtr create_handle(rd_kafka_type_t type, ConfPtr conf) {
  char reason[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), reason, sizeof reason);
  if (!handle) throw UsageError(fmt::format("cannot create Kafka client: {}", scrub_secrets(reason)));
  conf.release();  // rd_kafka_new took it
  return HandlePtr(handle);
}

std::string bootstrap_servers(const config::Settings& settings) {
  const config::Setting* servers = settings.find_kafka("bootstrap.servers");
  if (!servers) servers = settings.find_kafka("metadata.broker.list");
  if (!servers || servers->value().empty())
    throw UsageError(
        "no Kafka brokers given: use -b HOST:PORT, bootstrap.servers in a --config file, or MTASTREAM_BROKERS");
  return servers->value();
}

bool is_unreachable_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      return true;
    default:
      return false;
  }
}

std::string describe_error(rd_kafka_resp_err_t err) {
  std::string text = rd_kafka_err2str(err);
  const char* hint = nullptr;
  switch (err) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
      hint = "is the broker running and bootstrap.servers (-b) right?";
      break;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      hint = "the broker did not answer in time; is it reachable (-b), and are security.protocol/SASL settings right?";
      break;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      hint = "check sasl.mechanisms, sasl.username and sasl.password";
      break;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      hint = "the user lacks the ACL for this operation";
      break;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      hint = "create it with 'mtastream topic create TOPIC', or enable auto.create.topics.enable on the broker";
      break;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      hint = "larger than the client's message.max.bytes or the topic's max.message.bytes";
      break;
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
      hint = "the replication factor exceeds the number of brokers";
      break;
    default:
      break;
  }
  return hint ? fmt::format("{} ({})", text, hint) : text;
}

void throw_error(rd_kafka_resp_err_t err, std::string_view what) {
  throw Error(fmt::format("{}: {}", what, describe_error(err)));
}

}  // namespace mtastream::kafka
