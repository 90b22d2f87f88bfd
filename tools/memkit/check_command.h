// memkit check — valgrind-grade leak checking of an unmodified program.
//
//   memkit check [options] -- PROGRAM ARGS...
//
// Runs PROGRAM with libmemkit_check.so preloaded (src/leakcheck/runtime). Each process of the
// program writes a raw report as it exits (src/leakcheck/raw_report.md) and names it on a pipe;
// memkit check renders it at once in valgrind's words (src/leakcheck/report), to stderr or
// --log-file, and exits with PROGRAM's status (128 + N after a signal N), or --error-exitcode's
// when the program's own report counts errors. Options and their MEMKIT_* twins: docs/check.md.
//
// The hidden `memkit check --render FILE` renders one raw report with the options from the
// environment and exits 0 (no errors), 1 (errors) or 2 (failure): the runtime runs it when it was
// preloaded by hand.
#ifndef MEMKIT_TOOLS_MEMKIT_CHECK_COMMAND_H_
#define MEMKIT_TOOLS_MEMKIT_CHECK_COMMAND_H_

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "check_options.h"

namespace memkit_tool {

class CheckCommand {
 public:
  explicit CheckCommand(CLI::App& parent);
  CLI::App* app() const noexcept { return app_; }
  // Runs the parsed command; returns the exit status.
  int run() const;

 private:
  // The options: the environment's for every flag not given, then the flags in the order given.
  memkit::check::CheckOptions resolve_options() const;

  CLI::App* app_;
  std::vector<std::string> target_;
  std::string render_file_;
  std::map<const CLI::Option*, const memkit::check::CheckOptionSpec*> flags_;
};

}  // namespace memkit_tool

#endif  // MEMKIT_TOOLS_MEMKIT_CHECK_COMMAND_H_
