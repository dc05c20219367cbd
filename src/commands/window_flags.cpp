#include "commands/window_flags.h"

#include "config/cli_checks.h"
#include "base/duration.h"

namespace mtastream::commands {

void add_window_options(CLI::App* command, WindowFlags& flags, WatermarkScope scope) {
  const bool per_partition = scope == WatermarkScope::partition;
  command->add_option("--window,--duration", flags.window, "window length (30s, 5m, 1h; a bare number is minutes)")
      ->capture_default_str()
      ->type_name("DURATION");
  command->add_option("--slide", flags.slide, "slide between window starts (default: the window length, tumbling)")
      ->type_name("DURATION");
  flags.max_keys_option =
      command
          ->add_option("--max-keys", flags.max_keys,
                       std::string("stop with an error when the open windows") +
                           (per_partition ? " of one partition" : "") +
                           " would hold more than N distinct group keys (" + engine::group_key_memory + ")")
          ->capture_default_str()
          ->type_name("N")
          ->check(config::whole_number(1));
  command->add_option("--watermark", flags.watermark,
                      std::string("watermark delay: ") +
                          (per_partition ? "a partition's windows close when its newest event time"
                                         : "windows close when the newest event time") +
                          " minus this passes their end (default: the window length; 0 closes windows as soon as "
                          "time passes them)")
      ->type_name("DURATION");
  command->add_option("--group-by", flags.group_by,
                      "sum rows by these columns: a comma-separated subset of CA,UNIT,SCP,STATION,LINENAME,DIVISION,"
                      "DESC (files keep the original's column order; e.g. STATION)")
      ->capture_default_str()
      ->type_name("COLS");
  command->add_option("--partition-by", flags.partition_by,
                      "Hive-style lake folders from the window end and group columns, in this order: date, hour, "
                      "station, ... (e.g. date,hour,station gives date=2023-09-23/hour=04/station=59 ST/; "
                      "values escaped as Hive does)")
      ->type_name("LIST");
  command->add_option("--layout", flags.layout, "lake file layout: original (index column) or clean")
      ->capture_default_str()
      ->check(CLI::IsMember({"original", "clean"}));
}

engine::WindowConfig window_config(const WindowFlags& flags) {
  engine::WindowConfig c;
  c.window_seconds = parse_duration_seconds(flags.window, "--window");
  c.slide_seconds = flags.slide.empty() ? c.window_seconds : parse_duration_seconds(flags.slide, "--slide");
  c.watermark_delay_seconds =
      flags.watermark.empty() ? c.window_seconds : parse_delay_seconds(flags.watermark, "--watermark");
  c.max_group_keys = flags.max_keys;
  c.group_columns = engine::parse_group_columns(flags.group_by);
  engine::validate_window_config(c);
  return c;
}

}  // namespace mtastream::commands
