// memkit — the toolkit's command-line tool.
//
//   memkit version               prints "memkit <version>"
//   memkit tour [--list] [NAME...]
//                                runs the bundled examples in tour order, a banner before each;
//                                exits non-zero if any of them fails
//   memkit maps PID | -- PROGRAM ARGS...
//                                a process's memory map by kind and module (maps_command.h)
//   memkit layout BINARY [TYPE...]
//                                struct layouts from debug information (layout_command.h)
//   memkit check [options] -- PROGRAM ARGS...
//                                leaks and bad frees, in valgrind's words (check_command.h)
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "check_command.h"
#include "layout_command.h"
#include "maps_command.h"
#include "memkit/version.h"
#include "tour_examples.h"

extern char** environ;

namespace {

using memkit_tool::kTourExamples;
using memkit_tool::TourExample;

// How a child process ended, in words ("exit 3", "killed by signal 11 (Segmentation fault)").
struct Outcome {
  bool started = false;
  bool exited = false;
  int code = 0;
  std::string text;
};

// Runs `path` with no arguments, its stdout and stderr those of this process, and waits for it.
Outcome run_program(const std::string& path) {
  Outcome outcome;
  std::vector<char*> argv{const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = 0;
  const int spawn_error = ::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), environ);
  if (spawn_error != 0) {
    outcome.text = std::string("could not start: ") + std::strerror(spawn_error);
    return outcome;
  }
  outcome.started = true;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      outcome.text = std::string("waitpid failed: ") + std::strerror(errno);
      return outcome;
    }
  }
  if (WIFEXITED(status)) {
    outcome.exited = true;
    outcome.code = WEXITSTATUS(status);
    outcome.text = "exit " + std::to_string(outcome.code);
  } else if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    outcome.text = "killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  } else {
    outcome.text = "ended with wait status " + std::to_string(status);
  }
  return outcome;
}

const TourExample* find_example(const std::string& name) {
  for (const TourExample& example : kTourExamples) {
    if (name == example.name) return &example;
  }
  return nullptr;
}

std::string default_examples_dir() {
  if (const char* dir = std::getenv("MEMKIT_EXAMPLES_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return MEMKIT_EXAMPLES_DIR;
}

int list_tour() {
  int index = 0;
  for (const TourExample& example : kTourExamples) {
    std::cout << ++index << ". " << example.name << " \u2014 " << example.description << "\n";
  }
  if (kTourExamples.empty()) std::cout << "(no examples were built into this memkit)\n";
  return 0;
}

int run_tour(const std::vector<std::string>& names, const std::string& examples_dir) {
  std::vector<const TourExample*> selected;
  if (names.empty()) {
    for (const TourExample& example : kTourExamples) selected.push_back(&example);
  } else {
    for (const std::string& name : names) {
      const TourExample* example = find_example(name);
      if (example == nullptr) {
        std::cerr << "memkit tour: no example named '" << name
                  << "' (`memkit tour --list` lists them)\n";
        return 2;
      }
      selected.push_back(example);
    }
  }
  if (selected.empty()) {
    std::cerr << "memkit tour: no examples were built into this memkit\n";
    return 1;
  }

  std::vector<std::string> failed;
  const std::size_t total = selected.size();
  for (std::size_t i = 0; i < total; ++i) {
    const TourExample& example = *selected[i];
    if (i > 0) std::cout << "\n";
    std::cout << "=== tour " << (i + 1) << "/" << total << ": " << example.name << " \u2014 "
              << example.description << " ===" << std::endl;  // flush before the child writes

    const std::string path = examples_dir + "/" + example.name;
    Outcome outcome;
    if (::access(path.c_str(), X_OK) != 0) {
      outcome.text = "not built (" + path + " is missing)";
    } else {
      outcome = run_program(path);
    }
    std::cout.flush();
    const bool ok = outcome.exited && outcome.code == example.expected_exit;
    if (ok && example.expected_exit != 0) {
      std::cout << "(" << example.name << " ended with exit " << outcome.code
                << ", as it is meant to)\n";
    }
    if (!ok) {
      std::cerr << "memkit tour: " << example.name << " failed: " << outcome.text;
      if (outcome.exited) std::cerr << " (expected exit " << example.expected_exit << ")";
      std::cerr << "\n";
      failed.push_back(example.name);
    }
  }

  if (!failed.empty()) {
    std::cerr << "memkit tour: " << failed.size() << " of " << total << " examples failed:";
    for (const std::string& name : failed) std::cerr << " " << name;
    std::cerr << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"memkit: a C++20 memory-management toolkit (Box, Rc, Arc, RefCell, Cell, Mutex)",
               "memkit"};
  app.require_subcommand(1);

  app.add_subcommand("version", "Print memkit's version");

  CLI::App* tour = app.add_subcommand("tour", "Run the bundled examples, in order, with a banner");
  bool list = false;
  std::vector<std::string> names;
  std::string examples_dir = default_examples_dir();
  tour->add_flag("--list", list, "List the tour's examples and stop");
  tour->add_option("--examples-dir", examples_dir,
                   "Where the example programs are (default: $MEMKIT_EXAMPLES_DIR or the build's)");
  tour->add_option("names", names, "Run only these examples (in the order given)");

  memkit_tool::MapsCommand maps(app);
  memkit_tool::LayoutCommand layout(app);
  memkit_tool::CheckCommand check(app);

  if (argc < 2) {
    std::cerr << app.help();
    return 2;
  }
  CLI11_PARSE(app, argc, argv);

  if (app.got_subcommand("version")) {
    std::cout << "memkit " << memkit::version() << "\n";
    return 0;
  }
  if (app.got_subcommand(tour)) {
    return list ? list_tour() : run_tour(names, examples_dir);
  }
  if (app.got_subcommand(maps.app())) return maps.run();
  if (app.got_subcommand(layout.app())) return layout.run();
  if (app.got_subcommand(check.app())) return check.run();
  return 0;
}
