// render_standalone.cpp — the runtime preloaded by hand (no MEMKIT_CHECK_DIR): write the raw
// report to $TMPDIR, run `memkit check --render FILE` without LD_PRELOAD, wait, delete the file
// (raw_report.md). The renderer exits 0 (no errors), 1 (errors) or 2 (it failed); with
// MEMKIT_ERROR_EXITCODE=N and 1, the process ends with N.
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_report.h"
#include "proc_maps.h"

extern char** environ;

namespace memkit::check_rt {
namespace {

const char* environment_value(const char* name_equals) {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (starts_with(*entry, name_equals)) {
      const char* value = *entry;
      while (*name_equals++ != '\0') ++value;
      return value;
    }
  }
  return nullptr;
}

const char* renderer_path() {
  const char* from_environment = environment_value("MEMKIT_CLI=");
  if (from_environment != nullptr && *from_environment != '\0') return from_environment;
  if (access(MEMKIT_CLI_BUILD_PATH, X_OK) == 0) return MEMKIT_CLI_BUILD_PATH;
  return MEMKIT_CLI_INSTALL_PATH;
}

int parse_status(const char* text) {
  if (text == nullptr || *text == '\0') return -1;
  int value = 0;
  for (; *text >= '0' && *text <= '9'; ++text) value = value * 10 + (*text - '0');
  return *text == '\0' ? value : -1;
}

}  // namespace

int render_standalone(const EndInfo& end, const LeakCheckResult& result) {
  const char* directory = environment_value("TMPDIR=");
  if (directory == nullptr || *directory == '\0') directory = "/tmp";
  char path[4096];
  if (!write_raw_report(directory, end, result, path, sizeof path)) return -1;

  // The child's environment: ours without LD_PRELOAD (the renderer must not check itself).
  std::size_t count = 0;
  while (environ != nullptr && environ[count] != nullptr) ++count;
  auto** child_environment = static_cast<char**>(internal_map((count + 1) * sizeof(char*)));
  if (child_environment == nullptr) {
    unlink(path);
    return -1;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!starts_with(environ[i], "LD_PRELOAD=")) child_environment[kept++] = environ[i];
  }
  child_environment[kept] = nullptr;
  const char* renderer = renderer_path();
  char* argv[] = {const_cast<char*>(renderer), const_cast<char*>("check"),
                  const_cast<char*>("--render"), path, nullptr};
  int override_status = -1;
  pid_t child = -1;
  if (posix_spawn(&child, renderer, nullptr, nullptr, argv, child_environment) == 0) {
    int wait_status = 0;
    while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
    }
    const int error_exitcode = parse_status(environment_value("MEMKIT_ERROR_EXITCODE="));
    if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 1 && error_exitcode > 0) {
      override_status = error_exitcode;
    }
  }
  internal_unmap(child_environment, (count + 1) * sizeof(char*));
  unlink(path);
  return override_status;
}

}  // namespace memkit::check_rt
