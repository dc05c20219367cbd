#include "consume/raw_consume.h"

#include <fmt/format.h>

#include <charconv>
#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "base/error.h"
#include "kafka/consumer.h"
#include "base/log.h"
#include "base/stop_signal.h"

namespace mtastream::consume {

using namespace std::chrono_literals;

RawMessageFormat::RawMessageFormat(std::string_view format) {
  if (format == "capture") format = "%T\\t%k\\t%s\\n";
  std::string text;
  auto push = [&](Part part) {
    if (!text.empty()) parts_.emplace_back(Part::text, std::exchange(text, {}));
    parts_.emplace_back(part, std::string());
  };
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if ((c == '%' || c == '\\') && i + 1 < format.size()) {
      char n = format[++i];
      if (c == '\\') {
        switch (n) {
          case 'n': text += '\n'; break;
          case 't': text += '\t'; break;
          case 'r': text += '\r'; break;
          case '0': text += '\0'; break;
          case '\\': text += '\\'; break;
          default: text += '\\'; text += n;
        }
        continue;
      }
      switch (n) {
        case 'k': push(Part::key); break;
        case 's': push(Part::value); break;
        case 'p': push(Part::partition); break;
        case 'o': push(Part::offset); break;
        case 'T': push(Part::timestamp); break;
        case 't': push(Part::topic); break;
        case 'K': push(Part::key_length); break;
        case 'S': push(Part::value_length); break;
        case 'h': push(Part::headers); break;
        case '%': text += '%'; break;
        default:
          throw UsageError(fmt::format("-f: unknown format '%{}' (known: %k %s %p %o %T %t %K %S %%)", n));
      }
      continue;
    }
    text += c;
  }
  if (!text.empty()) parts_.emplace_back(Part::text, std::move(text));
}

void RawMessageFormat::append(const Fields& f, std::string& out) const {
  for (const auto& [part, text] : parts_) {
    switch (part) {
      case Part::text: out += text; break;
      case Part::key: out.append(f.key); break;
      case Part::value: out.append(f.value); break;
      case Part::partition: fmt::format_to(std::back_inserter(out), "{}", f.partition); break;
      case Part::offset: fmt::format_to(std::back_inserter(out), "{}", f.offset); break;
      case Part::timestamp: fmt::format_to(std::back_inserter(out), "{}", f.timestamp_ms); break;
      case Part::topic: out.append(f.topic); break;
      case Part::key_length:
        fmt::format_to(std::back_inserter(out), "{}", f.null_key ? -1 : static_cast<int64_t>(f.key.size()));
        break;
      case Part::value_length:
        fmt::format_to(std::back_inserter(out), "{}", f.null_value ? -1 : static_cast<int64_t>(f.value.size()));
        break;
      case Part::headers: out.append(f.headers); break;
    }
  }
}

bool RawMessageFormat::uses_headers() const {
  for (const auto& [part, text] : parts_)
    if (part == Part::headers) return true;
  return false;
}

int64_t parse_start_offset(std::string_view text) {
  if (text == "beginning") return RD_KAFKA_OFFSET_BEGINNING;
  if (text == "end") return RD_KAFKA_OFFSET_END;
  if (text == "stored") return RD_KAFKA_OFFSET_STORED;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw UsageError(fmt::format("-o '{}': expected beginning, end, stored, an offset N or -N (N before the end)", text));
  return n >= 0 ? n : RD_KAFKA_OFFSET_TAIL(-n);
}

namespace {

// The combinations of -o, -G, -p and --commit that mean nothing (or something else than they seem).
void check_raw_options(const RawConsumeOptions& o, int64_t start) {
  if (start == RD_KAFKA_OFFSET_STORED && o.group.empty()) throw UsageError("-o stored needs a consumer group (-G)");
  if (!o.group.empty() && start >= 0)
    throw UsageError("-o N with -G: a group starts where it committed; use -o beginning|end|stored");
  if (o.commit && o.group.empty()) throw UsageError("--commit needs a consumer group (-G)");
  if (o.partition >= 0 && !o.group.empty())
    throw UsageError("-p PARTITION reads one partition without a group; a group's members get theirs assigned");
}

kafka::ConsumerOptions raw_consumer_options(const RawConsumeOptions& o, int64_t start) {
  kafka::ConsumerOptions options;
  if (!o.group.empty()) {
    // With --commit the commit at the end covers every message printed.
    options.conf = kafka::consumer_conf({.group = o.group, .client_id = o.client_id, .store_offsets = o.commit,
                                         .offset_reset = start == RD_KAFKA_OFFSET_END ? "latest" : "earliest"});
  } else {
    // librdkafka wants a group.id for its consumer type even when only assign() is used: never joined.
    // Its offsets come with assign(); auto.offset.reset stays librdkafka's for an -o N past the end.
    options.conf = kafka::consumer_conf(
        {.group = "mtastream-raw-no-group", .client_id = o.client_id, .store_offsets = false, .offset_reset = ""});
  }
  return options;
}

// Without a group: assign every partition (or -p's) at the start offset; returns the partitions assigned.
std::vector<int32_t> assign_without_group(kafka::KafkaConsumer& consumer, const RawConsumeOptions& o, int64_t start) {
  std::vector<kafka::TopicPartition> partitions;
  std::vector<int32_t> all = consumer.partitions_of(o.topic, 30s), chosen;
  if (o.partition >= 0 && std::find(all.begin(), all.end(), o.partition) == all.end())
    throw UsageError(fmt::format("-p {}: {} has partitions 0 to {}", o.partition, o.topic, all.size() - 1));
  for (int32_t p : all) {
    if (o.partition >= 0 && p != o.partition) continue;
    partitions.push_back({o.topic, p, start, {}});
    chosen.push_back(p);
  }
  consumer.assign(partitions);
  return chosen;
}

// The fields -f prints of one message; `headers` holds their text ("name=value,...") when the format uses them.
RawMessageFormat::Fields message_fields(const std::string& topic, rd_kafka_message_t* m, bool with_headers,
                                        std::string& headers) {
  RawMessageFormat::Fields f;
  f.topic = topic;
  f.partition = m->partition;
  f.offset = m->offset;
  rd_kafka_timestamp_type_t type;
  f.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  if (m->key) f.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) f.value = std::string_view(static_cast<const char*>(m->payload), m->len);
  f.null_key = !m->key;
  f.null_value = !m->payload;
  if (with_headers) {
    headers.clear();
    rd_kafka_headers_t* list = nullptr;
    if (rd_kafka_message_headers(m, &list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(list, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        if (i) headers += ',';
        headers.append(name) += '=';
        if (value) headers.append(static_cast<const char*>(value), size);
      }
    }
    f.headers = headers;
  }
  return f;
}

}  // namespace

RawConsumeSummary run_raw_consume(const config::Settings& settings, const RawConsumeOptions& o) {
  if (o.topic.empty()) throw UsageError("consume needs a topic (-t TOPIC)");
  const auto started = std::chrono::steady_clock::now();
  RawMessageFormat format(o.format);
  const int64_t start = parse_start_offset(o.start);
  check_raw_options(o, start);

  kafka::ConsumerOptions options = raw_consumer_options(o, start);
  std::set<int32_t> assigned;
  std::set<int32_t> at_end;
  options.on_rebalance = [&](kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
    std::string names;
    for (const auto& tp : list) names += fmt::format(" {}", tp.partition);
    log::debug("{} partitions{} of {}", kind == kafka::RebalanceKind::assign ? "assigned" : "revoked", names, o.topic);
    for (const auto& tp : list) {
      if (kind == kafka::RebalanceKind::assign) assigned.insert(tp.partition);
      else assigned.erase(tp.partition), at_end.erase(tp.partition);
    }
  };
  kafka::KafkaConsumer consumer(settings, std::move(options));
  if (o.group.empty()) {
    for (int32_t p : assign_without_group(consumer, o, start)) assigned.insert(p);
  } else {
    consumer.subscribe({o.topic});
  }

  RawConsumeSummary summary;
  std::string out;
  const bool with_headers = format.uses_headers();
  std::string headers;
  auto flush = [&]() {
    if (out.empty()) return;
    write_stdout(out);
    flush_stdout();
    out.clear();
  };
  while (!stop_requested() && (o.count == 0 || summary.messages < o.count)) {
    kafka::MessagePtr m = consumer.poll(100ms);
    if (!m) {
      flush();
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(m->partition);
      if (o.exit_at_end && !assigned.empty() && at_end.size() >= assigned.size()) break;
      continue;
    }
    if (m->err) {
      std::string reason = kafka::scrub_secrets(rd_kafka_message_errstr(m.get()));
      if (kafka::is_fatal(m->err)) throw Error(fmt::format("{}: {}", o.topic, reason));
      log::warn("kafka: {}", reason);
      continue;
    }
    at_end.erase(m->partition);
    format.append(message_fields(o.topic, m.get(), with_headers, headers), out);
    ++summary.messages;
    summary.bytes += m->len;
    if (out.size() >= 1 << 16) flush();
  }
  flush();
  if (o.commit) {
    rd_kafka_resp_err_t err = rd_kafka_commit(consumer.handle(), nullptr, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) kafka::throw_error(err, "committing the printed messages");
  }
  consumer.close();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace mtastream::consume
