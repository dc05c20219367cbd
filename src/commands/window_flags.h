// The window options of `aggregate` and `consume` (--window, --slide, --watermark, --max-keys, --group-by,
// and the lake's --partition-by and --layout): declared once, turned into a WindowConfig once, so the two
// commands cannot disagree.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "engine/window_engine.h"

namespace mtastream::commands {

struct WindowFlags {
  std::string window = "5m";
  std::string slide;      // "": the window length (tumbling)
  std::string watermark;  // "": the window length; 0 is a value (windows close as soon as time passes them)
  uint64_t max_keys = engine::WindowConfig{}.max_group_keys;
  std::string group_by = "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DESC";
  // How the windows' lake files are laid out (checked by the command: -o has no folders).
  std::string partition_by;
  std::string layout = "original";
  const CLI::Option* max_keys_option = nullptr;  // to tell an explicit --max-keys from the default
};

// Whose event times move the watermark: the whole input (aggregate) or each partition (consume).
enum class WatermarkScope { input, partition };

void add_window_options(CLI::App* command, WindowFlags& flags, WatermarkScope scope);
// Throws UsageError naming the option on a bad value or combination.
engine::WindowConfig window_config(const WindowFlags& flags);

}  // namespace mtastream::commands
