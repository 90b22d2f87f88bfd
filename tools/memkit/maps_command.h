// memkit maps — a process's memory map, classified and grouped by module.
//
//   memkit maps PID [--sort size|rss|address] [--json] [--kib]
//   memkit maps [options] -- PROGRAM ARGS...
//
// The second form runs PROGRAM with libmemkit_maps_preload.so preloaded; as PROGRAM exits, the
// library writes its map to a temporary file, which memkit then prints. memkit exits with
// PROGRAM's exit status (128 + N when a signal N ended it).
#ifndef MEMKIT_TOOLS_MEMKIT_MAPS_COMMAND_H_
#define MEMKIT_TOOLS_MEMKIT_MAPS_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace memkit_tool {

class MapsCommand {
 public:
  explicit MapsCommand(CLI::App& parent);
  CLI::App* app() const noexcept { return app_; }
  // Runs the parsed command; returns the exit status.
  int run() const;

 private:
  CLI::App* app_;
  std::vector<std::string> target_;
  std::string sort_ = "address";
  bool json_ = false;
  bool kib_ = false;
};

}  // namespace memkit_tool

#endif  // MEMKIT_TOOLS_MEMKIT_MAPS_COMMAND_H_
