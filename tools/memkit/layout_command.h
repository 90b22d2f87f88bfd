// memkit layout — struct layouts from a binary's debug information: members, offsets, holes,
// padding, and a smaller member order.
//
//   memkit layout BINARY [TYPE...] [--json]
//
// Without TYPEs, every struct, class and union the binary defines outside system headers.
#ifndef MEMKIT_TOOLS_MEMKIT_LAYOUT_COMMAND_H_
#define MEMKIT_TOOLS_MEMKIT_LAYOUT_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace memkit_tool {

class LayoutCommand {
 public:
  explicit LayoutCommand(CLI::App& parent);
  CLI::App* app() const noexcept { return app_; }
  int run() const;

 private:
  CLI::App* app_;
  std::string binary_;
  std::vector<std::string> types_;
  bool json_ = false;
};

}  // namespace memkit_tool

#endif  // MEMKIT_TOOLS_MEMKIT_LAYOUT_COMMAND_H_
