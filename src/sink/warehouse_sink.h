// `--sink postgresql://...`: closed windows loaded into a PostgreSQL table through libpq, each batch in
// one transaction that records the windows it loaded (so a window loaded twice, by a restart or by two
// group members, is checked equal and skipped), and consume's per-partition checkpoints kept in a table of
// their own. Passwords (URL, PGPASSWORD, ~/.pgpass) are never part of any message.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/window_engine.h"

namespace mtastream::sink {

// A parsed --sink URL: postgresql://USER[:PASS]@HOST[:PORT]/DB[?table=NAME&other libpq parameters].
struct SinkTarget {
  std::string conninfo;  // what libpq gets: the URL without our own parameters
  std::string redacted;  // the URL with the password replaced by "***": for messages
  std::string table;     // from ?table= ("" = not given)
  std::string host, port, database, user;  // for messages
};

// UsageError (naming the redacted URL) when it is not a postgresql:// or postgres:// URL libpq accepts.
SinkTarget parse_sink_url(std::string_view url);


// The default table: <prefix>_<stream>, lower case, bytes other than [a-z0-9_] as '_', at most 63 bytes
// (PostgreSQL's identifier limit), never starting with a digit.
std::string default_sink_table(std::string_view prefix, std::string_view stream);

// One loaded row's columns, from the lake's clean header: group columns and DATE, TIME as text (the
// lake's own spelling), ENTRIES and EXITS as bigint. The primary key is every column but the sums.
struct SinkColumns {
  std::vector<std::string> names;  // lower case, in the lake's order
  std::vector<bool> is_sum;
};
SinkColumns sink_columns_from_header(std::string_view header_line);

struct SinkCheckpoint {
  int64_t offset = 0;
  std::string metadata;
};

class WarehouseSink {
 public:
  // Connects (UsageError for a bad table name; Error naming host, port and database when the server
  // cannot be reached or refuses the login) and creates the tables when missing:
  //   <table> (lake columns, PRIMARY KEY (date, time, group columns)),
  //   mtastream_windows (table_name, window_start, window_end, rows, digest): the windows loaded,
  //   mtastream_checkpoints ("group", topic, partition, "offset", metadata).
  WarehouseSink(const SinkTarget& target, std::string table, engine::GroupColumns group_columns = engine::all_group_columns);
  ~WarehouseSink();
  WarehouseSink(const WarehouseSink&) = delete;
  WarehouseSink& operator=(const WarehouseSink&) = delete;

  // Loads the windows (rows as the lake's clean layout has them) in one transaction. A window already
  // recorded in mtastream_windows for this table is skipped when its rows are the same (digest), else
  // Error (the table was loaded with another configuration). Returns the number of windows inserted.
  // A lost connection is retried (the transaction is idempotent); Error when the server stays away.
  size_t load_windows(const std::vector<const engine::ClosedWindow*>& windows);

  // Stores consume's checkpoints of (group, topic), one transaction, replacing the ones stored before.
  void store_checkpoints(const std::string& group, const std::string& topic,
                         const std::map<int32_t, SinkCheckpoint>& checkpoints);
  // The stored checkpoints of (group, topic), by partition.
  std::map<int32_t, SinkCheckpoint> read_checkpoints(const std::string& group, const std::string& topic);

  const std::string& table() const { return table_; }
  const std::string& redacted_url() const { return target_.redacted; }
  uint64_t windows_loaded() const { return windows_loaded_; }
  uint64_t rows_loaded() const { return rows_loaded_; }
  uint64_t windows_skipped() const { return windows_skipped_; }

 private:
  struct Connection;
  template <typename F>
  auto with_retry(std::string_view what, F&& body);
  void connect();
  void create_tables();
  void copy_rows(const std::string& csv);  // COPY clean-layout CSV rows into the table (in the open transaction)

  SinkTarget target_;
  std::string table_;
  engine::GroupColumns group_columns_;  // --group-by: the table holds just these (plus DATE, TIME, ENTRIES, EXITS)
  SinkColumns columns_;
  std::mutex mutex_;  // the writer thread loads, the consumer thread stores checkpoints
  std::unique_ptr<Connection> connection_;
  std::atomic<uint64_t> windows_loaded_{0}, rows_loaded_{0}, windows_skipped_{0};
};

}  // namespace mtastream::sink
