// memkit check: options, spawning the program under the runtime, and rendering each report as it
// arrives on the notification pipe.
#include "check_command.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "analysis.h"
#include "check_error.h"
#include "json_report.h"
#include "preload_launch.h"
#include "raw_report.h"
#include "suppressions.h"
#include "symbolizer.h"
#include "valgrind_text.h"

extern char** environ;

namespace memkit_tool {
namespace {

using memkit::check::CheckOptions;
using memkit::check::CheckOptionSpec;

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // stderr is gone: nowhere left to say so
    }
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

void complain(const std::string& message) { write_all(STDERR_FILENO, message + "\n"); }

// Where report text goes: stderr, or --log-file (one file per process when it contains %p).
class Sinks {
 public:
  explicit Sinks(std::string pattern) : pattern_(std::move(pattern)) {}
  ~Sinks() {
    for (auto& [path, fd] : files_) {
      if (fd >= 0) ::close(fd);
    }
  }
  Sinks(const Sinks&) = delete;
  Sinks& operator=(const Sinks&) = delete;

  void write(long pid, std::string_view text) {
    if (pattern_.empty()) return write_all(STDERR_FILENO, text);
    const std::string path = memkit::check::expand_pid_pattern(pattern_, pid);
    auto it = files_.find(path);
    if (it == files_.end()) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        complain("memkit check: cannot write the log file " + path + ": " + std::strerror(errno) +
                 "; reporting to stderr");
      }
      it = files_.emplace(path, fd).first;
    }
    write_all(it->second >= 0 ? it->second : STDERR_FILENO, text);
  }

 private:
  std::string pattern_;
  std::map<std::string, int> files_;
};

// Renders raw reports: text to the sinks, JSON kept for the end.
class Renderer {
 public:
  Renderer(const CheckOptions& options, const memkit::check::SuppressionSet& suppressions,
           Sinks& sinks)
      : options_(options), suppressions_(suppressions), sinks_(sinks) {}

  // Renders the report at `path` once; returns whether it counted errors, nullopt if it failed.
  std::optional<bool> render(const std::string& path) {
    if (!seen_.insert(path).second) return std::nullopt;
    try {
      const memkit::check::RawReport raw = memkit::check::read_raw_report(path);
      memkit::check::DwarfSymbolizer symbolizer(raw.modules);
      memkit::check::SuppressionSet suppressions = suppressions_;  // use counts are per process
      const memkit::check::Analysis analysis =
          memkit::check::analyze(raw, options_, suppressions, symbolizer);
      sinks_.write(analysis.pid, memkit::check::render_valgrind_text(analysis, options_));
      if (!options_.json_file.empty()) {
        json_.push_back(memkit::check::analysis_to_json(analysis));
        json_pids_.push_back(analysis.pid);
      }
      const bool errors = analysis.error_summary.errors > 0;
      if (errors) pids_with_errors_.insert(analysis.pid);
      return errors;
    } catch (const memkit::InspectError& error) {
      complain(error.what());
      failed_ = true;
      return std::nullopt;
    }
  }

  bool seen(const std::string& path) const { return seen_.count(path) != 0; }
  bool failed() const { return failed_; }
  bool errors_in(long pid) const { return pids_with_errors_.count(pid) != 0; }

  // Writes --json: one document, or one per process when the name contains %p.
  void write_json(const memkit::check::CheckRun& run) {
    if (options_.json_file.empty()) return;
    const bool per_process = options_.json_file.find("%p") != std::string::npos;
    const auto write_document = [this](const std::string& path, const nlohmann::json& document) {
      std::ofstream file(path, std::ios::trunc);
      file << document.dump(2) << "\n";
      if (!file) {
        complain("memkit check: cannot write the JSON report " + path + ": " +
                 std::strerror(errno));
        failed_ = true;
      }
    };
    if (!per_process) {
      write_document(options_.json_file, memkit::check::check_document(run, json_));
      return;
    }
    for (std::size_t i = 0; i < json_.size(); ++i) {
      write_document(memkit::check::expand_pid_pattern(options_.json_file, json_pids_[i]),
                     memkit::check::check_document(run, {json_[i]}));
    }
  }

 private:
  const CheckOptions& options_;
  const memkit::check::SuppressionSet& suppressions_;
  Sinks& sinks_;
  std::set<std::string> seen_;
  std::set<long> pids_with_errors_;
  std::vector<nlohmann::json> json_;
  std::vector<long> json_pids_;
  bool failed_ = false;
};

std::string runtime_path() {
  return memkit_tool::preload_library("MEMKIT_RUNTIME", MEMKIT_CHECK_RUNTIME_BUILD_PATH,
                                      MEMKIT_CHECK_RUNTIME_INSTALL_PATH);
}

// execvp's search, done before forking so that a missing program gets a plain error, not a
// preamble followed by one.
bool program_exists(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = directories.find(':');
    std::string directory(directories.substr(0, colon));
    if (directory.empty()) directory = ".";
    if (::access((directory + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    directories.remove_prefix(colon + 1);
  }
}

std::string make_report_dir() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/memkit-check-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a directory for the reports (" + pattern +
                             "): " + std::strerror(errno));
  }
  return pattern;
}

// The raw reports left in `dir` (a process that could not notify, or whose line was lost).
std::vector<std::string> reports_in(const std::string& dir) {
  std::vector<std::string> paths;
  if (DIR* stream = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(stream)) {
      const std::string_view name = entry->d_name;
      if (name.starts_with("memkit-check.") && name.ends_with(".json")) {
        paths.push_back(dir + "/" + std::string(name));
      }
    }
    ::closedir(stream);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

void remove_dir(const std::string& dir) {
  if (DIR* stream = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(stream)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") ::unlink((dir + "/" + std::string(name)).c_str());
    }
    ::closedir(stream);
  }
  ::rmdir(dir.c_str());
}

struct Spawned {
  pid_t pid = -1;
  int notify_read = -1;
};

// Forks and execs the program under the runtime. The child waits on `go` until the parent has
// printed the preamble, so that the preamble always comes before the program's own output.
Spawned spawn(const std::vector<std::string>& command, const CheckOptions& options,
              const std::string& report_dir, const std::string& runtime, Sinks& sinks) {
  int notify[2];
  int go[2];
  if (::pipe2(notify, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  const std::string ld_preload = memkit_tool::ld_preload_with(runtime);
  std::vector<char*> argv = memkit_tool::exec_argv(command);
  const auto runtime_variables = memkit::check::runtime_environment(options);

  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (child == 0) {
    ::close(notify[0]);
    ::close(go[1]);
    char byte = 0;
    while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::fcntl(notify[1], F_SETFD, 0);  // the program inherits the write end
    ::setenv("MEMKIT_CHECK_DIR", report_dir.c_str(), 1);
    ::setenv("MEMKIT_CHECK_NOTIFY_FD", std::to_string(notify[1]).c_str(), 1);
    for (const auto& [name, value] : runtime_variables) ::setenv(name.c_str(), value.c_str(), 1);
    ::setenv("LD_PRELOAD", ld_preload.c_str(), 1);
    ::execvp(argv[0], argv.data());
    write_all(STDERR_FILENO,
              "memkit check: cannot run " + command[0] + ": " + std::strerror(errno) + "\n");
    ::_exit(127);
  }
  ::close(notify[1]);
  ::close(go[0]);
  sinks.write(child, memkit::check::render_preamble(child, command, options));
  ::close(go[1]);  // go
  return {child, notify[0]};
}

// Reads report paths from the pipe until every process holding its write end has exited,
// rendering each as it arrives.
void render_as_notified(int notify_read, Renderer& renderer) {
  std::string pending;
  char buffer[4096];
  while (true) {
    const ssize_t count = ::read(notify_read, buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (count == 0) break;
    pending.append(buffer, static_cast<std::size_t>(count));
    std::size_t newline = 0;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string path = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!path.empty()) {
        renderer.render(path);
        ::unlink(path.c_str());
      }
    }
  }
  ::close(notify_read);
}

int render_file(const std::string& path, const CheckOptions& options,
                const memkit::check::SuppressionSet& suppressions) {
  Sinks sinks(options.log_file);
  Renderer renderer(options, suppressions, sinks);
  const std::optional<bool> errors = renderer.render(path);
  if (!errors) return 2;
  memkit::check::CheckRun run;
  try {
    const memkit::check::RawReport raw = memkit::check::read_raw_report(path);
    run.command = raw.command;
    run.pid = raw.pid;
    if (raw.end_status >= 0) run.exit_status = raw.end_status;
  } catch (const memkit::InspectError&) {
    return 2;  // it was readable a moment ago; say nothing more than render() did
  }
  renderer.write_json(run);
  if (renderer.failed()) return 2;
  return *errors ? 1 : 0;
}

}  // namespace

CheckCommand::CheckCommand(CLI::App& parent) {
  app_ = parent.add_subcommand(
      "check",
      "Run a program with memkit's leak checker preloaded and report its leaks and bad frees "
      "in valgrind memcheck's words");
  app_->require_subcommand(0, 0);
  for (const CheckOptionSpec& spec : memkit::check::check_option_table()) {
    const std::string help = std::string(spec.help) + " [" + std::string(spec.variable) + "]";
    CLI::Option* option = nullptr;
    if (spec.takes_value) {
      option = app_->add_option(std::string(spec.flag), help)
                   ->type_name(std::string(spec.values))
                   ->expected(1);
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else if (spec.long_alias == "--show-error-list") {
      // valgrind spells it -s or --show-error-list=yes|no.
      option = app_->add_flag(std::string(spec.flag), help);
      flags_[option] = &spec;
      option =
          app_->add_option(std::string(spec.long_alias), help)->type_name("yes|no")->expected(1);
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else {
      option = app_->add_flag(std::string(spec.flag) + "," + std::string(spec.long_alias), help);
    }
    flags_[option] = &spec;
  }
  app_->add_option("--render", render_file_, "Render one raw report (used by the runtime)")
      ->group("");
  app_->add_option("command", target_, "-- PROGRAM ARGS...: the program to check");
  app_->footer(
      "Examples:\n  memkit check -- ./prog arg\n"
      "  memkit check --show-leak-kinds=all --error-exitcode=1 -- ./prog\n"
      "  memkit check --suppressions=app.supp --json=report.json -- ./prog\n"
      "Every option has a MEMKIT_* twin (shown in brackets), used when the option is absent. "
      "docs/check.md explains the report.");
}

CheckOptions CheckCommand::resolve_options() const {
  CheckOptions options;
  const auto given = [this](const CheckOptionSpec& spec) {
    for (const auto& [option, option_spec] : flags_) {
      if (option_spec == &spec && option->count() > 0) return true;
    }
    return false;
  };
  memkit::check::apply_environment(
      options, [](const char* name) { return std::getenv(name); }, given);
  // The flags in command-line order: --show-leak-kinds=all --show-reachable=no differs from the
  // other way round, as in valgrind.
  std::map<const CLI::Option*, std::size_t> used;
  for (const CLI::Option* option : app_->parse_order()) {
    const auto it = flags_.find(option);
    if (it == flags_.end()) continue;
    const CheckOptionSpec& spec = *it->second;
    const std::size_t occurrence = used[option]++;
    if (option->get_expected_min() == 0) {
      spec.apply(options, "yes", spec.flag);
      continue;
    }
    const std::vector<std::string>& values = option->results();
    if (occurrence < values.size()) {
      spec.apply(options, values[occurrence], option->get_name(false, true));
    }
  }
  return options;
}

int CheckCommand::run() const {
  CheckOptions options;
  memkit::check::SuppressionSet suppressions;
  try {
    options = resolve_options();
    for (const std::string& file : options.suppressions) suppressions.load_file(file);
  } catch (const memkit::InspectError& error) {
    complain(error.what());
    return 2;
  }
  if (!render_file_.empty()) return render_file(render_file_, options, suppressions);
  if (target_.empty()) {
    complain("memkit check: no program given (memkit check [options] -- PROGRAM ARGS...)");
    return 2;
  }
  if (!program_exists(target_[0])) {
    complain("memkit check: cannot run " + target_[0] + ": no such executable");
    return 127;
  }
  const std::string runtime = runtime_path();
  if (::access(runtime.c_str(), R_OK) != 0) {
    complain("memkit check: cannot find the runtime " + runtime +
             " (build memkit_check_runtime, or set MEMKIT_RUNTIME to libmemkit_check.so)");
    return 2;
  }

  Sinks sinks(options.log_file);
  Renderer renderer(options, suppressions, sinks);
  std::string report_dir;
  Spawned child;
  try {
    report_dir = make_report_dir();
    child = spawn(target_, options, report_dir, runtime, sinks);
  } catch (const std::runtime_error& error) {
    complain(std::string("memkit check: ") + error.what());
    if (!report_dir.empty()) remove_dir(report_dir);
    return 2;
  }

  // Like time(1): an interrupt is for the program; memkit waits for it and still reports.
  struct sigaction ignore {};
  struct sigaction old_int {};
  struct sigaction old_quit {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  render_as_notified(child.notify_read, renderer);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);

  memkit::check::CheckRun run;
  run.command = target_;
  run.pid = child.pid;
  int exit_status = 0;
  if (WIFEXITED(status)) {
    exit_status = WEXITSTATUS(status);
    run.exit_status = exit_status;
  } else if (WIFSIGNALED(status)) {
    exit_status = 128 + WTERMSIG(status);
    run.signal = WTERMSIG(status);
    sinks.write(child.pid, memkit::check::render_signal_line(child.pid, WTERMSIG(status)));
  }
  for (const std::string& path : reports_in(report_dir)) {
    if (!renderer.seen(path)) renderer.render(path);
  }
  remove_dir(report_dir);
  renderer.write_json(run);

  if (options.error_exitcode != 0 && renderer.errors_in(child.pid)) return options.error_exitcode;
  return exit_status;
}

}  // namespace memkit_tool
