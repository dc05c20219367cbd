#include "sink/warehouse_sink.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "base/c_handle.h"
#include "base/civil_time.h"
#include "base/error.h"
#include "lake/lake_writer.h"
#include "base/log.h"
#include "base/text.h"
#include "upload/checksum.h"

namespace mtastream::sink {

namespace {

// A server error, or the connection gone (then the whole transaction is tried again).
class SinkFailure : public Error {
 public:
  SinkFailure(const std::string& message, bool connection_lost) : Error(message), connection_lost_(connection_lost) {}
  bool connection_lost() const { return connection_lost_; }

 private:
  bool connection_lost_;
};

using Result = CHandle<PGresult, PQclear>;

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string utc_time(int64_t seconds) {
  std::string text;
  civil::append_timestamp(seconds, text);
  return text;
}

// libpq's messages name host, port and user, never the password; scrubbed anyway in case a
// password turns up in one (a URL echoed back, a server message quoting the connection string).
std::string scrub(std::string text, const std::string& password) {
  text = redact_url_passwords(text);
  for (const std::string& secret : {password, std::string(std::getenv("PGPASSWORD") ? std::getenv("PGPASSWORD") : "")}) {
    if (secret.size() < 3) continue;
    for (size_t at; (at = text.find(secret)) != std::string::npos;) text.replace(at, secret.size(), "***");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  return text;
}

bool valid_table_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == 0x7f) return false;
  return true;
}

}  // namespace

SinkTarget parse_sink_url(std::string_view url) {
  SinkTarget t;
  t.redacted = redact_url_passwords(url);
  if (!starts_with(url, "postgresql://") && !starts_with(url, "postgres://"))
    // Not a URL at all ("host=... password=..."): not echoed, it may hold a password anywhere.
    throw UsageError(fmt::format("--sink {}: expected postgresql://USER[:PASS]@HOST[:PORT]/DB[?table=NAME]",
                                 url.find("://") != std::string_view::npos ? "'" + t.redacted + "'"
                                                                           : std::string("(value not shown)")));
  // Our own parameter (table=) is taken out; the others are libpq's (sslmode=, connect_timeout=, ...).
  std::string base(url), query;
  if (size_t q = base.find('?'); q != std::string::npos) {
    query = base.substr(q + 1);
    base.resize(q);
  }
  std::string kept;
  for (std::string_view part : split(query, '&')) {
    if (part.empty()) continue;
    if (starts_with(part, "table=")) {
      t.table = percent_decode(part.substr(6));
      continue;
    }
    kept += kept.empty() ? "" : "&";
    kept += part;
  }
  t.conninfo = kept.empty() ? base : base + "?" + kept;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(t.conninfo.c_str(), &error);
  if (!options) {
    std::string why = error ? scrub(error, "") : "out of memory";
    if (error) PQfreemem(error);
    throw UsageError(fmt::format("--sink '{}': {}", t.redacted, why));
  }
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && t.host.empty())) t.host = o->val;
    else if (key == "port") t.port = o->val;
    else if (key == "dbname") t.database = o->val;
    else if (key == "user") t.user = o->val;
  }
  PQconninfoFree(options);
  if (t.host.empty()) t.host = std::getenv("PGHOST") ? std::getenv("PGHOST") : "localhost";
  if (t.port.empty()) t.port = std::getenv("PGPORT") ? std::getenv("PGPORT") : "5432";
  if (t.database.empty()) t.database = t.user.empty() ? "(default)" : t.user;
  if (!t.table.empty() && !valid_table_name(t.table))
    throw UsageError(fmt::format("--sink '{}': table '{}' is not a valid table name (1-63 bytes, no quotes or "
                                 "control characters)",
                                 t.redacted, printable(t.table)));
  return t;
}

std::string default_sink_table(std::string_view prefix, std::string_view stream) {
  std::string name;
  for (char c : fmt::format("{}_{}", prefix, stream)) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += (std::isalnum(static_cast<unsigned char>(l)) && static_cast<unsigned char>(l) < 0x80) || l == '_' ? l : '_';
  }
  if (name.size() > 63) name.resize(63);
  if (std::isdigit(static_cast<unsigned char>(name[0]))) name[0] = '_';
  return name;
}

SinkColumns sink_columns_from_header(std::string_view header_line) {
  SinkColumns c;
  for (std::string_view name : split(trim(header_line), ',')) {
    if (name.empty()) continue;  // the original layout's index column
    std::string lower = to_lower(name);
    c.is_sum.push_back(lower == "entries" || lower == "exits");
    c.names.push_back(std::move(lower));
  }
  return c;
}

struct WarehouseSink::Connection {
  PGconn* conn = nullptr;
  ~Connection() {
    if (conn) PQfinish(conn);
  }
};


void WarehouseSink::connect() {
  connection_ = std::make_unique<Connection>();
  connection_->conn = PQconnectdb(target_.conninfo.c_str());
  if (!connection_->conn) throw Error("the PostgreSQL client could not allocate a connection");
  if (PQstatus(connection_->conn) != CONNECTION_OK) {
    std::string why = scrub(PQerrorMessage(connection_->conn), "");
    connection_.reset();
    // A refused login is not transient; a server that does not answer may be.
    bool refused = why.find("authentication failed") != std::string::npos ||
                   why.find("does not exist") != std::string::npos || why.find("no password") != std::string::npos ||
                   why.find("pg_hba.conf") != std::string::npos;
    throw SinkFailure(fmt::format("cannot connect to the PostgreSQL warehouse at {}:{}, database {}{}: {}", target_.host,
                                  target_.port, target_.database,
                                  target_.user.empty() ? "" : fmt::format(", user {}", target_.user), why),
                      !refused);
  }
  PQsetNoticeProcessor(
      connection_->conn, [](void*, const char* message) { log::debug("postgresql: {}", trim(message)); }, nullptr);
  log::debug("connected to the warehouse {} (server version {})", target_.redacted, PQserverVersion(connection_->conn));
}

namespace {

// Runs one statement; throws SinkFailure (connection_lost when the connection is gone).
Result exec(PGconn* conn, const std::string& sql, const std::vector<std::string>& params = {},
            ExecStatusType expected = PGRES_COMMAND_OK) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  Result r(params.empty() ? PQexec(conn, sql.c_str())
                          : PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                         nullptr, nullptr, 0));
  if (r && PQresultStatus(r.get()) == expected) return r;
  std::string why = scrub(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn), "");
  if (why.empty()) why = scrub(PQerrorMessage(conn), "");
  throw SinkFailure(why, PQstatus(conn) == CONNECTION_BAD);
}

std::string sqlstate(PGconn* conn, const std::string& sql) {
  Result r(PQexec(conn, sql.c_str()));
  if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) return "";
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  if (!state) throw SinkFailure(scrub(PQerrorMessage(conn), ""), PQstatus(conn) == CONNECTION_BAD);
  return state;
}

std::string quote_identifier(PGconn* conn, const std::string& name) {
  char* q = PQescapeIdentifier(conn, name.data(), name.size());
  if (!q) throw SinkFailure(scrub(PQerrorMessage(conn), ""), PQstatus(conn) == CONNECTION_BAD);
  std::string out(q);
  PQfreemem(q);
  return out;
}

}  // namespace

template <typename F>
auto WarehouseSink::with_retry(std::string_view what, F&& body) {
  // About 30 s in all: a server restart or a short network loss is ridden out; longer, the run stops
  // (nothing is committed past what the table holds, and the next run goes on from there).
  constexpr int attempts = 7;
  for (int attempt = 1;; ++attempt) {
    try {
      if (!connection_ || PQstatus(connection_->conn) != CONNECTION_OK) connect();
      return body();
    } catch (const SinkFailure& e) {
      if (!connection_ || PQstatus(connection_->conn) != CONNECTION_OK)
        connection_.reset();
      else
        PQclear(PQexec(connection_->conn, "ROLLBACK"));  // leave no aborted transaction behind
      if (!e.connection_lost() || attempt == attempts)
        throw Error(fmt::format("warehouse {} ({}:{}, database {}): {}{}", what, target_.host, target_.port,
                                target_.database, e.what(),
                                e.connection_lost() ? fmt::format(" (gave up after {} attempts)", attempts) : ""));
      double delay = 0.25 * (1 << (attempt - 1));
      log::warn("warehouse {} ({}:{}): {}; trying again in {:.1f}s (attempt {}/{})", what, target_.host, target_.port,
                e.what(), delay, attempt, attempts);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    }
  }
}

WarehouseSink::WarehouseSink(const SinkTarget& target, std::string table, engine::GroupColumns group_columns)
    : target_(target),
      table_(std::move(table)),
      group_columns_(group_columns),
      columns_(sink_columns_from_header(lake::lake_header(lake::LakeLayout::clean, group_columns))) {
  if (!valid_table_name(table_))
    throw UsageError(fmt::format("--sink-table '{}' is not a valid table name (1-63 bytes, no quotes or control "
                                 "characters)",
                                 printable(table_)));
  with_retry("connecting", [&] {
    create_tables();
    return 0;
  });
}

WarehouseSink::~WarehouseSink() = default;

void WarehouseSink::create_tables() {
  PGconn* conn = connection_->conn;
  std::string columns, key;
  for (size_t i = 0; i < columns_.names.size(); ++i) {
    std::string q = quote_identifier(conn, columns_.names[i]);
    columns += fmt::format("{}{} {} NOT NULL", i ? ", " : "", q, columns_.is_sum[i] ? "bigint" : "text");
    if (!columns_.is_sum[i]) key += (key.empty() ? "" : ", ") + q;
  }
  const std::string statements[] = {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))", quote_identifier(conn, table_), columns, key),
      "CREATE TABLE IF NOT EXISTS mtastream_windows (table_name text NOT NULL, window_start bigint NOT NULL, "
      "window_end bigint NOT NULL, rows bigint NOT NULL, digest text NOT NULL, loaded_at timestamptz NOT NULL "
      "DEFAULT now(), PRIMARY KEY (table_name, window_start, window_end))",
      "CREATE TABLE IF NOT EXISTS mtastream_checkpoints (\"group\" text NOT NULL, topic text NOT NULL, partition "
      "integer NOT NULL, \"offset\" bigint NOT NULL, metadata text NOT NULL, updated_at timestamptz NOT NULL "
      "DEFAULT now(), PRIMARY KEY (\"group\", topic, partition))"};
  for (const std::string& sql : statements)
    // Two members creating the same table at once: one of them sees a unique violation; the table is there.
    for (int attempt = 0;; ++attempt) {
      std::string state = sqlstate(conn, sql);
      if (state.empty()) break;
      if ((state == "23505" || state == "42P07") && attempt < 3) continue;
      exec(conn, sql);  // throws with the server's message
    }
}

void WarehouseSink::copy_rows(const std::string& csv) {
  PGconn* conn = connection_->conn;
  std::string names;
  for (const std::string& n : columns_.names) names += (names.empty() ? "" : ", ") + quote_identifier(conn, n);
  exec(conn, fmt::format("COPY {} ({}) FROM STDIN WITH (FORMAT csv)", quote_identifier(conn, table_), names), {},
       PGRES_COPY_IN);
  if (PQputCopyData(conn, csv.data(), static_cast<int>(csv.size())) != 1 || PQputCopyEnd(conn, nullptr) != 1)
    throw SinkFailure(scrub(PQerrorMessage(conn), ""), PQstatus(conn) == CONNECTION_BAD);
  Result done(PQgetResult(conn));
  if (!done || PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
    std::string why = scrub(done ? PQresultErrorMessage(done.get()) : PQerrorMessage(conn), "");
    while (Result more{PQgetResult(conn)}) {
    }
    throw SinkFailure(why, PQstatus(conn) == CONNECTION_BAD);
  }
  while (Result more{PQgetResult(conn)}) {
  }
}

size_t WarehouseSink::load_windows(const std::vector<const engine::ClosedWindow*>& windows) {
  if (windows.empty()) return 0;
  std::lock_guard lock(mutex_);
  struct Prepared {
    const engine::ClosedWindow* window;
    std::string csv, digest;
  };
  std::vector<Prepared> prepared;
  for (const engine::ClosedWindow* w : windows) {
    Prepared p{w, {}, {}};
    uint64_t index = 0;
    lake::append_window_rows(*w, lake::LakeLayout::clean, index, p.csv, group_columns_);
    p.digest = upload::sha256_hex(p.csv);
    prepared.push_back(std::move(p));
  }
  return with_retry("load", [&] {
    PGconn* conn = connection_->conn;
    exec(conn, "BEGIN");
    std::string copy;
    size_t inserted = 0;
    uint64_t rows = 0, skipped = 0;
    for (const Prepared& p : prepared) {
      const std::string start = std::to_string(p.window->start), end = std::to_string(p.window->end),
                        count = std::to_string(p.window->rows.size());
      // Waits while another member's transaction holds the same window, then sees its row.
      Result r = exec(conn,
                      "INSERT INTO mtastream_windows (table_name, window_start, window_end, rows, digest) VALUES "
                      "($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                      {table_, start, end, count, p.digest});
      if (std::string_view(PQcmdTuples(r.get())) == "1") {
        copy += p.csv;
        ++inserted;
        rows += p.window->rows.size();
        continue;
      }
      Result old = exec(conn,
                        "SELECT rows, digest FROM mtastream_windows WHERE table_name = $1 AND window_start = $2 AND "
                        "window_end = $3",
                        {table_, start, end}, PGRES_TUPLES_OK);
      if (PQntuples(old.get()) != 1 || std::string_view(PQgetvalue(old.get(), 0, 1)) != p.digest) {
        exec(conn, "ROLLBACK");
        throw SinkFailure(
            fmt::format("window {} to {} UTC is already in table '{}' with other rows ({} there, {} now): was it loaded "
                        "with another configuration or input? Nothing of this batch was loaded",
                        utc_time(p.window->start), utc_time(p.window->end), table_, PQntuples(old.get()) ? PQgetvalue(old.get(), 0, 0) : "?", p.window->rows.size()),
            false);
      }
      ++skipped;
    }
    if (!copy.empty()) copy_rows(copy);
    exec(conn, "COMMIT");
    windows_loaded_ += inserted;
    rows_loaded_ += rows;
    windows_skipped_ += skipped;
    log::debug("warehouse: {} windows ({} rows) loaded into {}, {} already there", inserted, rows, table_, skipped);
    return inserted;
  });
}

void WarehouseSink::store_checkpoints(const std::string& group, const std::string& topic,
                                      const std::map<int32_t, SinkCheckpoint>& checkpoints) {
  if (checkpoints.empty()) return;
  std::lock_guard lock(mutex_);
  with_retry("checkpoint", [&] {
    PGconn* conn = connection_->conn;
    exec(conn, "BEGIN");
    for (const auto& [partition, c] : checkpoints)
      exec(conn,
           "INSERT INTO mtastream_checkpoints (\"group\", topic, partition, \"offset\", metadata) VALUES ($1, $2, $3, "
           "$4, $5) ON CONFLICT (\"group\", topic, partition) DO UPDATE SET \"offset\" = EXCLUDED.\"offset\", "
           "metadata = EXCLUDED.metadata, updated_at = now()",
           {group, topic, std::to_string(partition), std::to_string(c.offset), c.metadata});
    exec(conn, "COMMIT");
    return 0;
  });
}

std::map<int32_t, SinkCheckpoint> WarehouseSink::read_checkpoints(const std::string& group, const std::string& topic) {
  std::lock_guard lock(mutex_);
  return with_retry("reading checkpoints", [&] {
    Result r = exec(connection_->conn,
                    "SELECT partition, \"offset\", metadata FROM mtastream_checkpoints WHERE \"group\" = $1 AND topic = $2",
                    {group, topic}, PGRES_TUPLES_OK);
    std::map<int32_t, SinkCheckpoint> out;
    for (int i = 0; i < PQntuples(r.get()); ++i)
      out[std::stoi(PQgetvalue(r.get(), i, 0))] = {std::stoll(PQgetvalue(r.get(), i, 1)), PQgetvalue(r.get(), i, 2)};
    return out;
  });
}

}  // namespace mtastream::sink
