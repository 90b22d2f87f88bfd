// Reading the map of a real process that cannot be read: it exited and was reaped, it exited and
// is a zombie, or it belongs to another user.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "memkit/base/error.h"
#include "memkit/inspect/process_map.h"
#include "support/throws.h"

namespace memkit::inspect {
namespace {

using memkit::testing::what_of;

// A child that exits at once; returns its pid (reaped when `reap`).
pid_t exited_child(bool reap) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  if (reap) {
    int status = 0;
    ::waitpid(child, &status, 0);
  } else {
    // Wait until it is a zombie: state 'Z' in /proc/PID/stat.
    for (int i = 0; i < 2000; ++i) {
      std::string content;
      try {
        content =
            read_proc_file(std::string("/proc/").append(std::to_string(child)).append("/stat"));
      } catch (const ProcReadError&) {
        break;
      }
      const std::size_t paren = content.rfind(')');
      if (paren != std::string::npos && content.size() > paren + 2 && content[paren + 2] == 'Z') {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return child;
}

TEST(ProcReadErrors, AReapedProcessHasExited) {
  const pid_t child = exited_child(/*reap=*/true);
  EXPECT_EQ(what_of<ProcReadError>([&] { (void)ProcessMap::read(child); }),
            "memkit::inspect: cannot read /proc/" + std::to_string(child) +
                "/smaps: No such file or directory (the process has exited, or never existed)");
}

TEST(ProcReadErrors, AZombieHasAnEmptyMap) {
  const pid_t child = exited_child(/*reap=*/false);
  EXPECT_EQ(what_of<ProcReadError>([&] { (void)ProcessMap::read(child); }),
            "memkit::inspect: cannot read /proc/" + std::to_string(child) +
                "/smaps: No such process (the process has exited, or never existed)");
  int status = 0;
  ::waitpid(child, &status, 0);
}

// Another user's process: as root, a child that became `nobody` tries to read its parent; as
// anyone else, this process tries to read init (pid 1, root's).
TEST(ProcReadErrors, AnotherUsersProcessIsPermissionDenied) {
  const std::string expected_tail =
      "/smaps: Permission denied (the process belongs to another user: run as that user or as "
      "root)";
  if (::geteuid() != 0) {
    EXPECT_EQ(what_of<ProcReadError>([] { (void)ProcessMap::read(1); }),
              "memkit::inspect: cannot read /proc/1" + expected_tail);
    return;
  }
  const pid_t parent = ::getpid();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string message;
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      message = std::string("setuid failed: ") + std::strerror(errno);
    } else {
      try {
        (void)ProcessMap::read(parent);
        message = "no exception";
      } catch (const ProcReadError& e) {
        message = e.what();
      }
    }
    (void)!::write(pipe_fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
    message.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (message.rfind("setuid failed", 0) == 0) GTEST_SKIP() << message;
  EXPECT_EQ(message,
            "memkit::inspect: cannot read /proc/" + std::to_string(parent) + expected_tail);
}

}  // namespace
}  // namespace memkit::inspect
