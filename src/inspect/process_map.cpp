// Reading a process's map from /proc: one read(2) loop over smaps, the parser, the classifier.
#include "memkit/inspect/process_map.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "memkit/base/error.h"
#include "region_classifier.h"
#include "smaps_parser.h"

namespace memkit::inspect {

class ProcessMapBuilder {
 public:
  static ProcessMap build(std::string_view text, std::string_view source, pid_t pid,
                          const std::vector<ThreadStackPointer>& threads,
                          std::string_view executable) {
    detail::ParsedRegions parsed = detail::parse_regions(text, source);
    ProcessMap map;
    map.pid_ = pid;
    map.executable_ = std::string(executable);
    map.has_smaps_ = parsed.has_smaps;
    map.regions_ = std::move(parsed.regions);
    map.modules_ = detail::classify_regions(map.regions_, threads, executable);
    for (const Region& region : map.regions_) map.totals_.add(region.smaps);
    return map;
  }
};

namespace {

// Big reads: the kernel formats smaps as it is read, one call per buffer.
constexpr std::size_t kReadChunk = std::size_t{1} << 20;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string proc_path(const std::string& root, pid_t pid, std::string_view file) {
  std::string path = root;
  path += '/';
  path += std::to_string(pid);
  path += '/';
  path += file;
  return path;
}

std::string read_link(const std::string& path) {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buffer) return {};
  std::string target(buffer, static_cast<std::size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (target.size() > kDeleted.size() &&
      std::string_view(target).substr(target.size() - kDeleted.size()) == kDeleted) {
    target.resize(target.size() - kDeleted.size());
  }
  return target;
}

// "NR a1 a2 a3 a4 a5 a6 SP PC", "-1 SP PC" or "running": the stack pointer is the second-last
// field of the first two forms.
bool parse_syscall_stack_pointer(std::string_view text, std::uint64_t* stack_pointer) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  const std::size_t last_space = text.rfind(' ');
  if (last_space == std::string_view::npos || last_space == 0) return false;
  const std::size_t before = text.rfind(' ', last_space - 1);
  const std::string_view field =
      text.substr(before == std::string_view::npos ? 0 : before + 1,
                  last_space - (before == std::string_view::npos ? 0 : before + 1));
  if (field.substr(0, 2) != "0x") return false;
  std::uint64_t value = 0;
  for (char c : field.substr(2)) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return false;
    }
    value = value << 4 | digit;
  }
  *stack_pointer = value;
  return true;
}

std::string read_map_text(const std::string& root, pid_t pid, std::string* source) {
  *source = proc_path(root, pid, "smaps");
  try {
    return read_proc_file(*source);
  } catch (const ProcReadError& error) {
    // A kernel built without CONFIG_PROC_PAGE_MONITOR has maps but no smaps.
    if (error.error_number() != ENOENT) throw;
    const std::string maps = proc_path(root, pid, "maps");
    if (::access(maps.c_str(), F_OK) != 0) throw;
    *source = maps;
    return read_proc_file(maps);
  }
}

}  // namespace

std::string read_proc_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw ProcReadError(path, errno);
  std::string text;
  std::size_t used = 0;
  for (;;) {
    if (text.size() - used < kReadChunk) text.resize(std::max(text.size() * 2, used + kReadChunk));
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ProcReadError(path, errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  text.resize(used);
  return text;
}

std::vector<ThreadStackPointer> read_thread_stack_pointers(pid_t pid,
                                                           const std::string& proc_root) {
  std::vector<ThreadStackPointer> threads;
  const std::string task_dir = proc_path(proc_root, pid, "task");
  DIR* dir = ::opendir(task_dir.c_str());
  if (dir == nullptr) return threads;
  std::vector<int> ids;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long id = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && id > 0) ids.push_back(static_cast<int>(id));
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  for (int id : ids) {
    std::string text;
    try {
      text = read_proc_file(task_dir + "/" + std::to_string(id) + "/syscall");
    } catch (const ProcReadError&) {
      continue;  // the thread ended, or ptrace access is denied: the guard shape still works
    }
    std::uint64_t stack_pointer = 0;
    if (parse_syscall_stack_pointer(text, &stack_pointer)) threads.push_back({id, stack_pointer});
  }
  return threads;
}

ProcessMap ProcessMap::read(pid_t pid, const ReadOptions& options) {
  std::string source;
  const std::string text = read_map_text(options.proc_root, pid, &source);
  if (text.empty()) {
    // A zombie (exited, not yet reaped) or a kernel thread: the files exist and are empty.
    throw ProcReadError(source, ESRCH);
  }
  std::vector<ThreadStackPointer> threads;
  if (options.find_thread_stacks) threads = read_thread_stack_pointers(pid, options.proc_root);
  const std::string executable = read_link(proc_path(options.proc_root, pid, "exe"));
  return ProcessMapBuilder::build(text, source, pid, threads, executable);
}

ProcessMap ProcessMap::read_self() {
  const pid_t pid = ::getpid();
  std::string source;
  const std::string text = read_map_text("/proc", pid, &source);
  std::vector<ThreadStackPointer> threads = read_thread_stack_pointers(pid, "/proc");
  // This thread is "running" in its own syscall file: its stack pointer is here.
  int here = 0;
  threads.push_back(
      {static_cast<int>(::syscall(SYS_gettid)), reinterpret_cast<std::uint64_t>(&here)});
  return ProcessMapBuilder::build(text, source, pid, threads, read_link("/proc/self/exe"));
}

ProcessMap ProcessMap::parse(std::string_view text, std::string_view source,
                             const std::vector<ThreadStackPointer>& threads,
                             std::string_view executable) {
  return ProcessMapBuilder::build(text, source, 0, threads, executable);
}

std::uint64_t ProcessMap::size_kib() const noexcept {
  std::uint64_t total = 0;
  for (const Region& region : regions_) total += region.size_kib();
  return total;
}

const Region* ProcessMap::find(std::uint64_t address) const noexcept {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](std::uint64_t a, const Region& r) { return a < r.start; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return it->contains(address) ? &*it : nullptr;
}

std::uint64_t Module::size_kib() const noexcept {
  std::uint64_t total = 0;
  for (std::uint64_t kib : kib_by_kind) total += kib;
  return total;
}

}  // namespace memkit::inspect
