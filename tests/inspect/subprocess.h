// subprocess.h — running a program in a test and capturing its stdout, stderr and exit status.
#ifndef MEMKIT_TESTS_INSPECT_SUBPROCESS_H_
#define MEMKIT_TESTS_INSPECT_SUBPROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace memkit::testing {

struct Finished {
  bool exited = false;
  int exit_code = -1;  // when exited
  int signal = 0;      // when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with argv, waits for it, and returns what it printed.
inline Finished run_and_capture(const std::vector<std::string>& argv) {
  int out_pipe[2];
  int err_pipe[2];
  Finished finished;
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return finished;
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&finished.out, &finished.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    finished.exited = true;
    finished.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    finished.signal = WTERMSIG(status);
  }
  return finished;
}

}  // namespace memkit::testing

#endif  // MEMKIT_TESTS_INSPECT_SUBPROCESS_H_
