// check_leaks — the tour's stop for `memkit check`: it runs the leak checker on a small C program
// that forgets to call stack_destroy(), then on the fixed program, and shows both reports.
//
// The reports are printed as memkit check writes them, with the process id and the code
// addresses (which change from run to run) replaced by "PID" and "0x…".
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Captured {
  std::string out;
  std::string err;
  int status = -1;
};

// Runs argv, capturing stdout and stderr (both pipes, read together so neither fills up).
Captured run(const std::vector<std::string>& argv) {
  Captured captured;
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return captured;
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::perror(args[0]);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&captured.out, &captured.err};
  for (int open = 2; open > 0;) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  captured.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return captured;
}

std::string normalized(const std::string& report) {
  static const std::regex kPid(R"(==\d+==)");
  static const std::regex kAddress(R"(0x[0-9A-Fa-f]+)");
  return std::regex_replace(std::regex_replace(report, kPid, "==PID=="), kAddress, "0x…");
}

std::string memkit_path() {
  if (const char* cli = std::getenv("MEMKIT_CLI"); cli != nullptr && *cli != '\0') return cli;
  return MEMKIT_CLI_BUILD_PATH;
}

int check(const char* title, const std::string& program) {
  std::printf("== %s\n$ memkit check -- %s\n", title,
              program.substr(program.rfind('/') + 1).c_str());
  const Captured run_result = run({memkit_path(), "check", "--", program});
  std::fputs(run_result.out.c_str(), stdout);
  std::fputs(normalized(run_result.err).c_str(), stdout);
  std::printf("(exit status %d)\n\n", run_result.status);
  return run_result.status;
}

}  // namespace

int main() {
  const int leaky = check("a program that forgets stack_destroy()", LEAKY_STACK_PATH);
  const int fixed = check("the same program, fixed", FIXED_STACK_PATH);
  return leaky == 0 && fixed == 0 ? 0 : 1;
}
