// preload_launch.h — what `memkit maps -- PROGRAM` and `memkit check -- PROGRAM` share to run a
// program with one of memkit's libraries preloaded.
#ifndef MEMKIT_TOOLS_PRELOAD_LAUNCH_H_
#define MEMKIT_TOOLS_PRELOAD_LAUNCH_H_

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace memkit_tool {

// The library to preload: $override_variable if set, else the build tree's copy when it exists
// (running from a build), else the installed one.
inline std::string preload_library(const char* override_variable, const char* build_path,
                                   const char* install_path) {
  if (const char* path = std::getenv(override_variable); path != nullptr && *path != '\0') {
    return path;
  }
  if (::access(build_path, R_OK) == 0) return build_path;
  return install_path;
}

// LD_PRELOAD with `library` first and whatever the caller already preloads after it.
inline std::string ld_preload_with(const std::string& library) {
  std::string value = library;
  if (const char* existing = std::getenv("LD_PRELOAD"); existing != nullptr && *existing != '\0') {
    value.append(":").append(existing);
  }
  return value;
}

// execvp's argument vector over `command` (which must outlive it).
inline std::vector<char*> exec_argv(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const std::string& argument : command) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  return argv;
}

}  // namespace memkit_tool

#endif  // MEMKIT_TOOLS_PRELOAD_LAUNCH_H_
